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
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/process.hpp"
#include "nagbench/optim/arena.hpp"
#include "nagbench/workload/model.hpp"

namespace nagbench {

// What a run asks of its workload: which one, its tensor list (a model file for the synthetic workload), the
// seed, and for workloads with an objective (quadratic, logreg, mlp) the problem file's settings and the
// training options.
struct WorkloadSpec {
  std::string name = "synthetic";
  ModelSpec model;
  uint64_t seed = 0;
  // The problem (inputs/problems/*.yaml, workload/problem.hpp): its name, the file it came from and every
  // key but `workload`, as JSON. Each workload checks its own keys (unknown key, wrong type, out of range:
  // InputError naming the file and the key).
  std::string problem_name;
  std::string problem_source;
  nlohmann::json problem = nlohmann::json::object();
  int64_t batch_size = 0;  // samples per rank and step; 0 = full batch (the training set split over ranks)
  std::string data_dir;    // where the real data sets are read from ("" = the default, see data/)
  bool tf32 = false;       // GEMMs on GPUs may use TF32 tensor cores (off: PyTorch's default for matmul)
  int sm_carveout = 0;     // GEMMs on GPUs are planned for the device's SMs minus this many (linalg.hpp)
  int64_t params_override = 0;  // quadratic: number of parameters from --params (0 = the problem's `size`)
};

// Which part of a data set an evaluation covers.
enum class Split { train, test };

// This rank's part of an objective: the sum of per-sample losses over the samples of the split this rank
// holds (every sample counted on exactly one rank), their count, how many a classifier gets right, and the
// regularizer (the same on every rank; the caller counts it once). The objective is
//   f = (sum over ranks of loss_sum) / (sum over ranks of count) + regularizer.
struct LossParts {
  double loss_sum = 0;
  double correct = 0;
  int64_t count = 0;
  double regularizer = 0;
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

  // --- Workloads with an objective (the `train` run kind). The defaults say "none".
  //
  // Gradients of such a workload are of the objective above: rank r writes
  //   g_r = (ranks / global_batch) * sum over its samples of the step of grad loss_i + grad regularizer,
  // so that the average over ranks (what the reduction and the rule's 1/ranks make) is the gradient of the
  // mini-batch objective, exactly, whatever the split of samples over ranks. Which samples a step uses
  // depends on the seed, the step and the global batch only (never on the rank count), so 1, 2 and 3 ranks
  // with the same global batch train on the same batches.
  virtual bool has_objective() const { return false; }
  // This rank's part of the objective at the parameters `params` (an array laid out as the arena: arena.p,
  // or a state array that holds an iterate). Blocks until the value is on the host.
  virtual LossParts evaluate(const Exec& /*exec*/, const typename Layout::param_t* /*params*/,
                             Split /*split*/) {
    throw std::logic_error("this workload has no objective");
  }
  virtual bool has_test_split() const { return false; }
  virtual bool is_classifier() const { return false; }
  // Samples this rank uses per step, and samples per step over all ranks (for samples/s).
  virtual int64_t samples_per_step() const { return 0; }
  virtual int64_t global_samples_per_step() const { return 0; }
  // Steps per epoch (a pass over the training set by the global batch); 1 for full-batch.
  virtual int64_t steps_per_epoch() const { return 1; }
  // The optimal value f* when it is known in closed form (quadratic: its constant); NaN otherwise.
  virtual double known_optimum() const { return std::numeric_limits<double>::quiet_NaN(); }
  // Checks this rank's gradient of `step`, as produce_gradients left it in arena.g (before any reduction), at
  // the parameters in arena.p, against a float64 host computation on a sample of every gradient tensor.
  // Returns "" when it agrees, else one line naming the tensor, element, value and reference.
  virtual std::string check_gradient(const Exec& /*exec*/, const ArenaPointers<Layout>& /*arena*/,
                                     int64_t /*step*/) {
    return "";
  }
  // Theory's prediction of the relative gap (f(x_k) - f*) / (f(x_0) - f*), k = 0 .. iterations, for the rule
  // `optimizer` with hyper-parameters `hyper` on the full gradient (no restart), computed in float64 from
  // each coordinate's own linear recurrence on the generated spectrum and initial error (quadratic only);
  // empty when the workload has no such theory for this rule.
  // The curve stops early once the gap is below `stop_below` (> 0).
  virtual std::vector<double> theory_curve(const Exec& /*exec*/, const std::string& /*optimizer*/,
                                           const nlohmann::json& /*hyper*/, int64_t /*iterations*/,
                                           double /*stop_below*/ = 0) {
    return {};
  }
  // What the record should say of the problem (data set, sizes, split, lambda, kappa, ...).
  virtual nlohmann::json describe() const { return nlohmann::json::object(); }
  // Phases a backward pass has (for the step split): true when produce_gradients runs a forward and a
  // backward (mlp), false when the gradient is a closed form (quadratic, logreg).
  virtual bool has_backward() const { return false; }
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
