#pragma once
// The synthetic workload: a real network's list of parameter tensors (inputs/models/*.yaml) with
// counter-based random parameters and per-step gradients standing in for a backward pass, so that any rank
// and the host reference can reproduce any element (core/random.hpp). The momentum (every state array) starts
// poisoned with NaN elsewhere, so a first step that reads it, or an element no kernel writes, shows up in the
// check.
#include <Kokkos_Core.hpp>
#include <memory>

#include "nagbench/core/random.hpp"
#include "nagbench/optim/bf16.hpp"
#include "nagbench/workload/workload.hpp"

namespace nagbench::synthetic {

// The value of initial parameter i as the layout stores it, widened to double (host reference side).
template <class Layout>
double stored_initial_param(uint64_t seed, int64_t i) {
  const float v = random_value(random_stream(seed, RandomKind::initial_param), i);
  if (Layout::has_master) return v;  // the fp32 master is the state; p is its rounded copy
  return static_cast<double>(to_compute(StoreAs<typename Layout::param_t>::from(v)));
}

template <class Layout>
double stored_gradient(uint64_t seed, int rank, int64_t step, int64_t i) {
  const float v = random_value(random_stream(seed, RandomKind::gradient, rank, step), i);
  return static_cast<double>(to_compute(StoreAs<typename Layout::grad_t>::from(v)));
}

// p (and master) from the generator over [0, length).
template <class Exec, class Layout>
void fill_initial_params(const Exec& exec, const ArenaPointers<Layout>& a, int64_t length, uint64_t seed) {
  using P = typename Layout::param_t;
  const uint64_t stream = random_stream(seed, RandomKind::initial_param);
  Kokkos::parallel_for(
      "nagbench::fill_params", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, length),
      KOKKOS_LAMBDA(const int64_t i) {
        const float v = random_value(stream, i);
        a.p[i] = StoreAs<P>::from(v);
        if (Layout::has_master) a.master[i] = v;
      });
}

// Writes the gradient of `rank` for `step` into g[begin, end).
template <class Exec, class GradT>
void produce_gradients(const Exec& exec, GradT* g, int64_t begin, int64_t end, uint64_t seed, int rank,
                       int64_t step) {
  const uint64_t stream = random_stream(seed, RandomKind::gradient, rank, step);
  Kokkos::parallel_for(
      "nagbench::produce_gradients", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, begin, end),
      KOKKOS_LAMBDA(const int64_t i) { g[i] = StoreAs<GradT>::from(random_value(stream, i)); });
}

template <class Exec, class Layout>
class SyntheticWorkload final : public Workload<Exec, Layout> {
 public:
  SyntheticWorkload(uint64_t seed, int rank) : seed_(seed), rank_(rank) {}

  void initialize(const Exec& exec, const ArenaPointers<Layout>& arena, const ArenaLayout& layout) override {
    fill_initial_params(exec, arena, layout.length, seed_);
  }
  void produce_gradients(const Exec& exec, const ArenaPointers<Layout>& arena, int64_t step,
                         const std::vector<GradientRange>& ranges,
                         const std::function<void(int)>& ready) override {
    for (size_t k = 0; k < ranges.size(); ++k) {
      synthetic::produce_gradients(exec, arena.g, ranges[k].begin, ranges[k].end, seed_, rank_, step);
      ready(static_cast<int>(k));
    }
  }

 private:
  uint64_t seed_;
  int rank_;
};

template <class Layout>
class SyntheticReplay final : public ReplaySource {
 public:
  explicit SyntheticReplay(uint64_t seed) : seed_(seed) {}
  double initial_param(int64_t i) const override { return stored_initial_param<Layout>(seed_, i); }
  double gradient(int rank, int64_t step, int64_t i) const override {
    return stored_gradient<Layout>(seed_, rank, step, i);
  }

 private:
  uint64_t seed_;
};

// The plug-in: the tensors of the model file, counter-based values.
struct Synthetic {
  static constexpr const char* kName = "synthetic";
  static constexpr const char* kSummary =
      "a model's tensor list (--model) with counter-based random parameters and gradients (no backward pass)";
  static std::vector<int64_t> tensor_sizes(const WorkloadSpec& spec) {
    std::vector<int64_t> n;
    for (const auto& t : spec.model.tensors)
      n.push_back(t.numel);
    return n;
  }
  template <class Exec, class Layout>
  static std::unique_ptr<Workload<Exec, Layout>> make(const WorkloadSpec& spec, const ProcessInfo& proc) {
    return std::make_unique<SyntheticWorkload<Exec, Layout>>(spec.seed, proc.rank);
  }
  template <class Layout>
  static std::unique_ptr<ReplaySource> replay(const WorkloadSpec& spec) {
    return std::make_unique<SyntheticReplay<Layout>>(spec.seed);
  }
};

}  // namespace nagbench::synthetic
