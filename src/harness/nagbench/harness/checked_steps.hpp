#pragma once
// Steps with fresh per-step gradients followed by the reference check, as the driver does them; shared by the
// driver, the unit tests (every element) and the Google Benchmark suite (a sample, before timing).
#include <Kokkos_Core.hpp>
#include <limits>
#include <string>
#include <vector>

#include "nagbench/harness/verify.hpp"
#include "nagbench/optim/variants/variant.hpp"
#include "nagbench/workload/workload.hpp"

namespace nagbench {

// Every state array poisoned with NaN: a first step that reads one, or an element no kernel writes, shows up
// in the check.
template <class Exec, class Layout, class Mem>
void poison_states(const Exec& exec, const ParamArena<Layout, Mem>& arena) {
  for (int k = 0; k < arena.states; ++k)
    Kokkos::deep_copy(exec, arena.s[k], std::numeric_limits<typename Layout::state_t>::quiet_NaN());
}

// Copies the arenas to the host once, compares them with the replay at `indices`, and hashes the parameters'
// bits
// (`tensors`: the real elements, padding excluded).
template <class Opt, class Layout, class Mem>
VerifyResult verify_arena(const VerifySpec<Opt>& spec, const ReplaySource& src,
                          const std::vector<int64_t>& indices, const ParamArena<Layout, Mem>& arena,
                          const std::vector<Segment>& tensors) {
  auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.p);
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.master);
  std::vector<Kokkos::View<typename Layout::state_t*, Kokkos::HostSpace>> s;
  std::vector<const typename Layout::state_t*> states;
  for (int k = 0; k < arena.states; ++k) {
    s.push_back(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.s[k]));
    states.push_back(s.back().data());
  }
  VerifyResult r = verify_against_reference<Opt, Layout>(spec, src, indices, p.data(), m.data(), states);
  r.params_hash = hash_params(p.data(), tensors);
  return r;
}

// Applies `steps` steps (the first one included) of rule `Rule` (Opt's, or a faulty one in tests) to an arena
// the workload initialised, with a prepared variant (group 0), then checks every element (`mode` "full") or a
// sample.
template <class Opt, class Exec, class Layout, class Rule>
VerifyResult run_checked_steps(const Exec& exec, const ParamArena<Layout, typename Exec::memory_space>& arena,
                               const ArenaLayout& layout, Workload<Exec, Layout>& workload,
                               const ReplaySource& replay, UpdateVariant<Exec, Layout, Rule>& variant,
                               const typename Opt::Hyper& h, const Rule& rule, int steps,
                               const std::string& mode, int64_t sample_budget = int64_t(1) << 20) {
  const std::vector<GradientRange> all = {{0, layout.length}};
  for (int s = 0; s < steps; ++s) {
    workload.produce_gradients(exec, arena.pointers(), s, all, [](int) {});
    variant.step(exec, rule, s == 0, 0);
  }
  Kokkos::fence();
  VerifySpec<Opt> spec;
  spec.hyper = h;
  spec.steps = steps;
  spec.mode = mode;
  spec.sample_budget = sample_budget;
  std::string used;
  const auto idx = verification_indices(layout, mode, steps, sample_budget, &used);
  VerifyResult r = verify_arena(spec, replay, idx, arena, layout.tensors);
  r.mode = used;
  return r;
}

}  // namespace nagbench
