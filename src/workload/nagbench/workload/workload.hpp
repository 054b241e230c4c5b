#pragma once
// What produces gradients: one interface for the synthetic fill and the real workloads that converge. A
// workload declares its parameter tensors (the list arenas and buckets are made from), initialises the
// parameters, and produces each rank's gradient of a step at the current parameters, range by range in the
// order the caller asks for (buckets, last layer first), telling the caller when each range is done so that
// its reduction can start while later ranges are still being produced. It also supplies what verification
// needs.
//
// Adding a workload: a folder beside synthetic/ with a struct (kName, kSummary, tensor_sizes(spec),
// make<Exec, Layout>(spec, proc), replay<Layout>(spec)) and one entry in workload/workloads.hpp.
// docs/design.md walks through it.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/process.hpp"
#include "nagbench/optim/arena.hpp"
#include "nagbench/workload/model.hpp"

namespace nagbench {

// What a run asks of its workload: which one, its tensor list (a model file for the synthetic workload), the
// seed.
struct WorkloadSpec {
  std::string name = "synthetic";
  ModelSpec model;
  uint64_t seed = 0;
};

// Arena elements [begin, end) whose gradients a consumer waits for as a unit (a bucket).
struct GradientRange {
  int64_t begin = 0, end = 0;
};

template <class Exec, class Layout>
class Workload {
 public:
  virtual ~Workload() = default;

  // Writes the initial parameters (and the fp32 master, for bf16_master) of every tensor.
  virtual void initialize(const Exec& exec, const ArenaPointers<Layout>& arena,
                          const ArenaLayout& layout) = 0;

  // This rank's gradient of step `step` (0 = the first) at the current parameters, into arena.g. The ranges
  // are produced in the order given. For each k, after enqueuing on `exec` the last kernel that writes g in
  // ranges[k] or reads p in ranges[k] (a backward's dX GEMM reads W), the workload calls ready(k); the caller
  // records an event there, and the reduction and update of range k wait on that event only. ready is called
  // once per range, in order.
  virtual void produce_gradients(const Exec& exec, const ArenaPointers<Layout>& arena, int64_t step,
                                 const std::vector<GradientRange>& ranges,
                                 const std::function<void(int)>& ready) = 0;
};

// For workloads whose gradients do not depend on the parameters: the inputs of a float64 host replay of a
// whole run (harness/verify.hpp), element by element, without the device: the stored initial value of element
// i and the stored gradient of (rank, step, i), both as the layout holds them, widened to double. A
// workload's plug-in struct returns one from replay<Layout>(spec), or null when its gradients depend on the
// parameters.
struct ReplaySource {
  virtual ~ReplaySource() = default;
  virtual double initial_param(int64_t i) const = 0;
  virtual double gradient(int rank, int64_t step, int64_t i) const = 0;
  virtual double gradient_bound() const { return 1.0; }  // an upper bound of |g| (tolerances scale with it)
};

}  // namespace nagbench
