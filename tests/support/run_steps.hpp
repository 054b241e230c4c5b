#pragma once
// Runs a variant for a few steps on fresh random inputs exactly as the driver does (poisoned momentum,
// per-step gradients), then checks every element against the float64 reference.
#include <Kokkos_Core.hpp>
#include <string>
#include <vector>

#include "nagbench/harness/verify.hpp"
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
  const Rule rule(h);
  for (int s = 0; s < steps; ++s) {
    produce_gradients(exec, arena.g.data(), 0, layout.length, seed, 0, s);
    variant->step(exec, rule, s == 0, 0);
  }
  Kokkos::fence();
  VerifySpec spec;
  spec.hyper = h;
  spec.seed = seed;
  spec.steps = steps;
  spec.mode = "full";
  const auto idx = verification_indices(layout, spec, nullptr);
  auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.p);
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.master);
  auto b = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.b);
  VerifyResult r = verify_against_reference<Layout>(spec, idx, p.data(), m.data(), b.data());
  r.mode = "full";
  return r;
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
