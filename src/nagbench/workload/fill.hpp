#pragma once
// Kernels that make the synthetic workload: initial parameters, per-step gradients (the stand-in for a
// backward pass), and a poisoned momentum buffer, all from the counter-based generator in random.hpp so any
// rank and the host reference can reproduce any element.
#include <Kokkos_Core.hpp>
#include <limits>

#include "nagbench/optim/bf16.hpp"
#include "nagbench/optim/param_arena.hpp"
#include "nagbench/workload/random.hpp"

namespace nagbench {

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

// p (and master) from the generator; b poisoned with NaN so that a first step that reads the buffer, or
// leaves an element unwritten, shows up in the check.
template <class Exec, class Layout, class Mem>
void fill_initial_state(const Exec& exec, const ParamArena<Layout, Mem>& arena, uint64_t seed) {
  using P = typename Layout::param_t;
  using M = typename Layout::mom_t;
  const auto a = arena.pointers();
  const uint64_t stream = random_stream(seed, RandomKind::initial_param);
  const M poison = std::numeric_limits<M>::quiet_NaN();
  Kokkos::parallel_for(
      "nagbench::fill_params",
      Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, arena.p.extent(0)),
      KOKKOS_LAMBDA(const int64_t i) {
        const float v = random_value(stream, i);
        a.p[i] = StoreAs<P>::from(v);
        if (Layout::has_master) a.master[i] = v;
        if (a.b) a.b[i] = poison;
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

}  // namespace nagbench
