#pragma once
// Runs a variant for a few steps on fresh random inputs exactly as the driver does (the synthetic workload's
// parameters and per-step gradients, poisoned state arrays, the rule of each step made anew), then checks
// every element against the float64 replay.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "nagbench/core/graph_launch.hpp"
#include "nagbench/harness/checked_steps.hpp"
#include "nagbench/optim/sgd/sgd.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/workload/synthetic/synthetic.hpp"

namespace nagbench::test {

// The rule of step `step` for gradients summed over `ranks` ranks: the optimizer's own (make_rule, separate
// arithmetic, as the driver makes it), or a faulty one the check must catch, made the same way: Rule(hyper,
// 1/ranks, step) where the rule takes the step (rules whose coefficients change from step to step), else
// Rule(hyper, 1/ranks) (sgd::Fault).
template <class Opt, class Rule>
Rule rule_for_step(const typename Opt::Hyper& h, int ranks, int64_t step) {
  using C = typename Rule::compute_t;
  if constexpr (std::is_same<Rule, typename Opt::template Rule<C>>::value)
    return Opt::template make_rule<C>(h, ranks, step, Arithmetic::separate);
  else if constexpr (std::is_constructible<Rule, const typename Opt::Hyper&, double, int64_t>::value)
    return Rule(h, 1.0 / ranks, step);
  else
    return Rule(h, 1.0 / ranks);
}

// `Opt` is the update rule (optim/optimizers.hpp); `Rule` its own rule, or a faulty one (sgd::Fault,
// nesterov1983::Fault, ...) the check must catch. With `ranks` > 1 the rule receives the sum of that many
// ranks' gradients (summed in the gradient type: fp32 and fp64 layouts, as data-parallel runs) and the
// reference their average, so the rule's 1/ranks is checked too. `graph`: the steps replay CUDA graphs
// (--launch graph; on host spaces the same as direct launches).
template <class Exec, class Layout, class Opt = sgd::Sgd,
          class Rule = typename Opt::template Rule<typename Layout::compute_t>>
VerifyResult run_and_verify(const std::string& variant_name, const std::vector<int64_t>& sizes,
                            const typename Opt::Hyper& h, int steps, uint64_t seed, int ranks = 1,
                            bool graph = false) {
  using Mem = typename Exec::memory_space;
  using G = typename Layout::grad_t;
  const Exec exec;
  const ArenaLayout layout = ArenaLayout::for_sizes(sizes);
  const int states = static_cast<int>(Opt::states(h).size());
  ParamArena<Layout, Mem> arena(layout.length, states, layout.length);
  synthetic::SyntheticWorkload<Exec, Layout> workload(seed, 0);
  const synthetic::SyntheticReplay<Layout> replay(seed);
  workload.initialize(exec, arena.pointers(), layout);
  poison_states(exec, arena);
  auto variant = make_variant<Exec, Layout, Rule>(variant_name);
  variant->prepare(exec, UpdateGroups<Layout>{{arena.pointers(), layout.tensors}});
  GraphedLaunch<Exec> launcher(graph);
  const std::vector<GradientRange> all = {{0, layout.length}};
  Kokkos::View<G*, Mem> other("nagbench::test::other_rank_gradient", ranks > 1 ? layout.length : 0);
  G* const g = arena.pointers().g;
  for (int s = 0; s < steps; ++s) {
    workload.produce_gradients(exec, arena.pointers(), s, all, [](int) {});
    for (int r = 1; r < ranks; ++r) {
      synthetic::produce_gradients(exec, other.data(), 0, layout.length, seed, r, s);
      const auto o = other;
      Kokkos::parallel_for(
          "nagbench::test::sum_gradients",
          Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, layout.length),
          KOKKOS_LAMBDA(const int64_t i) { g[i] = StoreAs<G>::from(to_compute(g[i]) + to_compute(o(i))); });
    }
    const Rule rule = rule_for_step<Opt, Rule>(h, ranks, s);
    // As the update benchmark launches (update_impl.hpp): --launch graph replays one graph per first-step
    // flag.
    launcher.run(exec, s == 0 ? 0 : 1, [&](const Exec& on) { variant->step(on, rule, s == 0, 0); });
  }
  Kokkos::fence();
  VerifySpec<Opt> spec;
  spec.hyper = h;
  spec.ranks = ranks;
  spec.steps = steps;
  spec.mode = "full";
  std::string used;
  const auto idx = verification_indices(layout, spec.mode, steps, spec.sample_budget, &used);
  VerifyResult r = verify_arena(spec, replay, idx, arena, layout.tensors);
  r.mode = used;
  return r;
}

// Hyper-parameters for which every term moves the result far beyond the tolerance (the fault tests prove it).
inline sgd::Hyper nesterov_hyper() {
  sgd::Hyper h;
  h.lr = 0.05;
  h.momentum = 0.9;
  h.dampening = 0.0;
  h.weight_decay = 0.05;
  h.nesterov = true;
  return h;
}
// Plain momentum with dampening: the only configuration where dampening and the first-step rule show.
inline sgd::Hyper damped_momentum_hyper() {
  sgd::Hyper h = nesterov_hyper();
  h.nesterov = false;
  h.dampening = 0.3;
  return h;
}

}  // namespace nagbench::test
