#pragma once
// Steps with fresh per-step gradients followed by the reference check, as the driver does them; shared by the
// unit tests (every element) and the Google Benchmark suite (a sample, before timing).
#include <Kokkos_Core.hpp>
#include <string>

#include "nagbench/harness/verify.hpp"
#include "nagbench/optim/variants/variant.hpp"
#include "nagbench/workload/fill.hpp"

namespace nagbench {

// Copies the arenas to the host once, compares them with the reference at `indices`, and hashes the
// parameters' bits (`tensors`: the real elements, padding excluded).
template <class Layout, class Mem>
VerifyResult verify_arena(const VerifySpec& spec, const std::vector<int64_t>& indices,
                          const ParamArena<Layout, Mem>& arena, const std::vector<Segment>& tensors) {
  auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.p);
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.master);
  auto b = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.b);
  VerifyResult r = verify_against_reference<Layout>(spec, indices, p.data(), m.data(), b.data());
  r.params_hash = hash_params(p.data(), tensors);
  return r;
}

// Applies `steps` steps (the first one included) to a freshly filled arena with a prepared variant (group 0),
// then checks every element (`mode` "full") or a sample of about `sample_budget` ("sample").
template <class Exec, class Layout, class Rule>
VerifyResult run_checked_steps(const Exec& exec, const ParamArena<Layout, typename Exec::memory_space>& arena,
                               const ArenaLayout& layout, UpdateVariant<Exec, Layout, Rule>& variant,
                               const SgdHyper& h, int steps, uint64_t seed, const std::string& mode,
                               int64_t sample_budget = int64_t(1) << 20) {
  const Rule rule(h);
  for (int s = 0; s < steps; ++s) {
    produce_gradients(exec, arena.g.data(), 0, layout.length, seed, 0, s);
    variant.step(exec, rule, s == 0, 0);
  }
  Kokkos::fence();
  VerifySpec spec;
  spec.hyper = h;
  spec.seed = seed;
  spec.steps = steps;
  spec.mode = mode;
  spec.sample_budget = sample_budget;
  std::string used;
  const auto idx = verification_indices(layout, spec, &used);
  VerifyResult r = verify_arena(spec, idx, arena, layout.tensors);
  r.mode = used;
  return r;
}

}  // namespace nagbench
