#pragma once
// Runs a variant for a few steps on fresh random inputs exactly as the driver does (the synthetic workload's
// parameters and per-step gradients, poisoned state arrays), then checks every element against the float64
// replay.
#include <Kokkos_Core.hpp>
#include <string>
#include <vector>

#include "nagbench/harness/checked_steps.hpp"
#include "nagbench/optim/sgd/sgd.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/workload/synthetic/synthetic.hpp"

namespace nagbench::test {

// `Rule` is the optimizer's own rule, or a faulty one (sgd::Fault) the check must catch.
template <class Exec, class Layout, class Opt = sgd::Sgd,
          class Rule = typename Opt::template Rule<typename Layout::compute_t>>
VerifyResult run_and_verify(const std::string& variant_name, const std::vector<int64_t>& sizes,
                            const typename Opt::Hyper& h, int steps, uint64_t seed) {
  const Exec exec;
  const ArenaLayout layout = ArenaLayout::for_sizes(sizes);
  const int states = static_cast<int>(Opt::states(h).size());
  ParamArena<Layout, typename Exec::memory_space> arena(layout.length, states, layout.length);
  synthetic::SyntheticWorkload<Exec, Layout> workload(seed, 0);
  const synthetic::SyntheticReplay<Layout> replay(seed);
  workload.initialize(exec, arena.pointers(), layout);
  poison_states(exec, arena);
  auto variant = make_variant<Exec, Layout, Rule>(variant_name);
  variant->prepare(exec, UpdateGroups<Layout>{{arena.pointers(), layout.tensors}});
  return run_checked_steps<Opt>(exec, arena, layout, workload, replay, *variant, h, Rule(h), steps, "full");
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
