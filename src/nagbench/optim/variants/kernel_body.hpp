#pragma once
// The per-element and per-pack update that every fused variant shares, for every dtype layout. `Fl` is
// FixedFlags<...> (compile-time terms) or RuntimeFlags; see update_rule.hpp.
#include <Kokkos_Core.hpp>

#include "nagbench/optim/bf16.hpp"
#include "nagbench/optim/param_arena.hpp"
#include "nagbench/optim/update_rule.hpp"

// Full unrolling of a fixed-count loop, in the spelling each compiler understands.
#if defined(__CUDACC__) || defined(__clang__)
#define NAGBENCH_UNROLL _Pragma("unroll")
#else
#define NAGBENCH_UNROLL _Pragma("GCC unroll 16")
#endif

namespace nagbench {

// Updates element i. Loads and stores in the layout's storage types; computes in Rule::compute_t.
template <class Layout, class Rule, class Fl>
KOKKOS_FORCEINLINE_FUNCTION void update_element(const Rule& rule, const Fl& fl,
                                                const ArenaPointers<Layout>& a, int64_t i) {
  using C = typename Rule::compute_t;
  using P = typename Layout::param_t;
  using M = typename Layout::mom_t;
  const C p = Layout::has_master ? C(a.master[i]) : C(to_compute(a.p[i]));
  C b = (fl.momentum && !fl.first) ? C(a.b[i]) : C(0);
  const C p_new =
      rule.apply_with(p, C(to_compute(a.g[i])), b, fl.first, fl.momentum, fl.nesterov, fl.weight_decay);
  if (fl.momentum) a.b[i] = static_cast<M>(b);
  if (Layout::has_master) a.master[i] = static_cast<float>(p_new);
  a.p[i] = StoreAs<P>::from(p_new);
}

// W consecutive elements of one type, aligned to their size (at most 16 bytes), so that a pack loads and
// stores with the widest instructions the GPU has (LDG.128 / STG.128 for 16 bytes).
template <class T, int W>
struct alignas(sizeof(T) * W < 16 ? sizeof(T) * W : 16) Pack {
  T v[W];
};

// Elements per pack: 16 bytes of the narrowest array of the layout.
template <class Layout>
constexpr int pack_width() {
  constexpr size_t narrowest = sizeof(typename Layout::param_t) < sizeof(typename Layout::grad_t)
                                   ? sizeof(typename Layout::param_t)
                                   : sizeof(typename Layout::grad_t);
  return static_cast<int>(16 / narrowest);
}

// Updates elements [i, i + W) with pack loads and stores; i must be a multiple of W and the arenas aligned
// (the arena layout guarantees both). All loads are issued before any arithmetic, so W independent loads per
// array are in flight per thread.
template <class Layout, class Rule, int W, class Fl>
KOKKOS_FORCEINLINE_FUNCTION void update_pack(const Rule& rule, const Fl& fl, const ArenaPointers<Layout>& a,
                                             int64_t i) {
  using C = typename Rule::compute_t;
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using M = typename Layout::mom_t;
  const Pack<G, W> g = *reinterpret_cast<const Pack<G, W>*>(a.g + i);
  Pack<P, W> p;
  Pack<float, W> master;
  if (Layout::has_master)
    master = *reinterpret_cast<const Pack<float, W>*>(a.master + i);
  else
    p = *reinterpret_cast<const Pack<P, W>*>(a.p + i);
  Pack<M, W> b;
  if (fl.momentum && !fl.first) b = *reinterpret_cast<const Pack<M, W>*>(a.b + i);
  NAGBENCH_UNROLL
  for (int k = 0; k < W; ++k) {
    const C pk = Layout::has_master ? C(master.v[k]) : C(to_compute(p.v[k]));
    C bk = (fl.momentum && !fl.first) ? C(b.v[k]) : C(0);
    const C p_new =
        rule.apply_with(pk, C(to_compute(g.v[k])), bk, fl.first, fl.momentum, fl.nesterov, fl.weight_decay);
    b.v[k] = static_cast<M>(bk);
    if (Layout::has_master) master.v[k] = static_cast<float>(p_new);
    p.v[k] = StoreAs<P>::from(p_new);
  }
  if (fl.momentum) *reinterpret_cast<Pack<M, W>*>(a.b + i) = b;
  if (Layout::has_master) *reinterpret_cast<Pack<float, W>*>(a.master + i) = master;
  *reinterpret_cast<Pack<P, W>*>(a.p + i) = p;
}

// Host (OpenMP, Serial) inner loop over [begin, end): restrict-qualified pointers and compile-time flags, so
// the compiler vectorizes it.
template <class Layout, class Rule, class Fl>
inline void update_range_host(const Rule& rule, const Fl& fl, const ArenaPointers<Layout>& a, int64_t begin,
                              int64_t end) {
  using C = typename Rule::compute_t;
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using M = typename Layout::mom_t;
  P* __restrict__ p = a.p;
  float* __restrict__ master = a.master;
  const G* __restrict__ g = a.g;
  M* __restrict__ b = a.b;
  const Rule r = rule;  // a local copy: its fields are loop invariants the compiler can keep in registers
  for (int64_t i = begin; i < end; ++i) {
    const C pi = Layout::has_master ? C(master[i]) : C(to_compute(p[i]));
    C bi = (fl.momentum && !fl.first) ? C(b[i]) : C(0);
    const C p_new =
        r.apply_with(pi, C(to_compute(g[i])), bi, fl.first, fl.momentum, fl.nesterov, fl.weight_decay);
    if (fl.momentum) b[i] = static_cast<M>(bi);
    if (Layout::has_master) master[i] = static_cast<float>(p_new);
    p[i] = StoreAs<P>::from(p_new);
  }
}

// True for execution spaces whose memory the host reads directly (OpenMP, Serial, Threads).
template <class Exec>
constexpr bool is_host_space() {
  return Kokkos::SpaceAccessibility<Kokkos::DefaultHostExecutionSpace,
                                    typename Exec::memory_space>::accessible;
}

}  // namespace nagbench
