#pragma once
// Runs a variant for a few steps on fresh random inputs exactly as the driver does (poisoned momentum,
// per-step gradients), then checks every element against the float64 reference.
#include <Kokkos_Core.hpp>
#include <string>
#include <vector>

#include "nagbench/harness/checked_steps.hpp"
#include "nagbench/optim/update_rule.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/workload/fill.hpp"

namespace nagbench::test {

template <class Exec, class Layout, class Rule = UpdateRule<typename Layout::compute_t>>
VerifyResult run_and_verify(const std::string& variant_name, const std::vector<int64_t>& sizes,
                            const SgdHyper& h, int steps, uint64_t seed) {
  const Exec exec;
  const ArenaLayout layout = ArenaLayout::for_sizes(sizes);
  ParamArena<Layout, typename Exec::memory_space> arena(layout.length, h.has_momentum());
  fill_initial_state(exec, arena, seed);
  auto variant = make_variant<Exec, Layout, Rule>(variant_name);
  variant->prepare(exec, UpdateGroups<Layout>{{arena.pointers(), layout.tensors}});
  return run_checked_steps(exec, arena, layout, *variant, h, steps, seed, "full");
}

// Hyper-parameters for which every term moves the result far beyond the tolerance (the fault tests prove it).
inline SgdHyper nesterov_hyper() {
  SgdHyper h;
  h.lr = 0.05;
  h.momentum = 0.9;
  h.dampening = 0.0;
  h.weight_decay = 0.05;
  h.nesterov = true;
  return h;
}
// Plain momentum with dampening: the only configuration where dampening and the first-step rule show.
inline SgdHyper damped_momentum_hyper() {
  SgdHyper h = nesterov_hyper();
  h.nesterov = false;
  h.dampening = 0.3;
  return h;
}

}  // namespace nagbench::test
