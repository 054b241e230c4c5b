#pragma once
// The update of one element, written once for every rule and dtype layout: load what the step reads, apply
// the rule in its compute type, store what the step writes. The three ways kernels reach elements share it:
//   update_element     one element through pointers (naive, unaligned shard edges, pack tails);
//   update_pack        W elements with 16-byte vector loads and stores (GPU fused and multi_tensor);
//   update_range_host  a restrict-qualified loop the compiler vectorizes (host fused and multi_tensor).
// `Fl` is the rule's compile-time flags (branches fold away) or its run-time flags (naive);
// Fl::reads_state(k) and Fl::writes_state(k) say which state arrays a step touches, so the bytes moved are
// exactly the bytes table's.
#include <Kokkos_Core.hpp>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/optim/arena.hpp"
#include "nagbench/optim/bf16.hpp"

namespace nagbench {

// The rule's view of one element: p (or the fp32 master), g, and each state, in the compute type.
template <class C, int K>
struct Lane {
  C p, g;
  C s[K > 0 ? K : 1];
};

// Applies the rule to a lane and returns the new parameter; the lane's states are updated in place.
template <class Rule, class Fl, class C, int K>
KOKKOS_FORCEINLINE_FUNCTION C apply_lane(const Rule& rule, const Fl& fl, Lane<C, K>& v) {
  return rule.apply(fl, v.p, v.g, v.s);
}

// Element i: loads and stores in the layout's storage types; computes in Rule::compute_t.
template <class Layout, class Rule, class Fl>
KOKKOS_FORCEINLINE_FUNCTION void update_element(const Rule& rule, const Fl& fl,
                                                const ArenaPointers<Layout>& a, int64_t i) {
  using C = typename Rule::compute_t;
  using S = typename Layout::state_t;
  constexpr int K = Rule::kStates;
  Lane<C, K> v;
  v.p = Layout::has_master ? C(a.master[i]) : C(to_compute(a.p[i]));
  v.g = C(to_compute(a.g[i]));
  NAGBENCH_UNROLL
  for (int k = 0; k < K; ++k)
    v.s[k] = fl.reads_state(k) ? C(a.s[k][i]) : C(0);
  const C p_new = apply_lane(rule, fl, v);
  NAGBENCH_UNROLL
  for (int k = 0; k < K; ++k)
    if (fl.writes_state(k)) a.s[k][i] = static_cast<S>(v.s[k]);
  if (Layout::has_master) a.master[i] = static_cast<float>(p_new);
  a.p[i] = StoreAs<typename Layout::param_t>::from(p_new);
}

// Elements per pack: 16 bytes of the widest array of the layout, so that every array's accesses of a warp are
// contiguous (bf16 p and g with fp32 momentum: 4 elements, 8-byte bf16 and 16-byte fp32 accesses). With the
// narrowest array's 16 bytes instead (8 bf16 elements), the fp32 momentum took two 16-byte accesses per
// thread at a 32-byte stride: 84.5% of the roof on the H200 (docs/performance.md).
template <class Layout>
constexpr int pack_width() {
  constexpr size_t p = sizeof(typename Layout::param_t), g = sizeof(typename Layout::grad_t),
                   s = sizeof(typename Layout::state_t), m = Layout::has_master ? sizeof(float) : 0;
  constexpr size_t pg = p > g ? p : g, sm = s > m ? s : m;
  return static_cast<int>(16 / (pg > sm ? pg : sm));
}

// Elements [i, i + W) with pack loads and stores; i must be a multiple of W and the arenas aligned (the arena
// layout guarantees both). Every load is issued before any arithmetic, so W independent loads per array are
// in flight per thread.
template <class Layout, class Rule, int W, class Fl>
KOKKOS_FORCEINLINE_FUNCTION void update_pack(const Rule& rule, const Fl& fl, const ArenaPointers<Layout>& a,
                                             int64_t i) {
  using C = typename Rule::compute_t;
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using S = typename Layout::state_t;
  constexpr int K = Rule::kStates;
  const Pack<G, W> g = *reinterpret_cast<const Pack<G, W>*>(a.g + i);
  Pack<P, W> p;
  Pack<float, W> master;
  if (Layout::has_master)
    master = *reinterpret_cast<const Pack<float, W>*>(a.master + i);
  else
    p = *reinterpret_cast<const Pack<P, W>*>(a.p + i);
  Pack<S, W> s[K > 0 ? K : 1];
  NAGBENCH_UNROLL
  for (int k = 0; k < K; ++k)
    if (fl.reads_state(k)) s[k] = *reinterpret_cast<const Pack<S, W>*>(a.s[k] + i);
  NAGBENCH_UNROLL
  for (int w = 0; w < W; ++w) {
    Lane<C, K> v;
    v.p = Layout::has_master ? C(master.v[w]) : C(to_compute(p.v[w]));
    v.g = C(to_compute(g.v[w]));
    NAGBENCH_UNROLL
    for (int k = 0; k < K; ++k)
      v.s[k] = fl.reads_state(k) ? C(s[k].v[w]) : C(0);
    const C p_new = apply_lane(rule, fl, v);
    NAGBENCH_UNROLL
    for (int k = 0; k < K; ++k)
      s[k].v[w] = static_cast<S>(v.s[k]);
    if (Layout::has_master) master.v[w] = static_cast<float>(p_new);
    p.v[w] = StoreAs<P>::from(p_new);
  }
  NAGBENCH_UNROLL
  for (int k = 0; k < K; ++k)
    if (fl.writes_state(k)) *reinterpret_cast<Pack<S, W>*>(a.s[k] + i) = s[k];
  if (Layout::has_master) *reinterpret_cast<Pack<float, W>*>(a.master + i) = master;
  *reinterpret_cast<Pack<P, W>*>(a.p + i) = p;
}

// Host (OpenMP, Serial) inner loop over [begin, end): restrict-qualified pointers and compile-time flags, so
// the compiler vectorizes it (the rule's state arrays are at most kMaxStates: each gets its own restrict
// pointer).
template <class Layout, class Rule, class Fl>
inline __attribute__((always_inline)) void update_range_host_body(const Rule& rule, const Fl& fl,
                                                                  const ArenaPointers<Layout>& a,
                                                                  int64_t begin, int64_t end) {
  using C = typename Rule::compute_t;
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using S = typename Layout::state_t;
  constexpr int K = Rule::kStates;
  static_assert(K <= 2, "update_range_host: add a restrict pointer per state array");
  P* __restrict__ p = a.p;
  float* __restrict__ master = a.master;
  const G* __restrict__ g = a.g;
  S* __restrict__ s0 = a.s[0];
  S* __restrict__ s1 = a.s[1];
  const Rule r = rule;  // a local copy: its fields are loop invariants the compiler can keep in registers
  for (int64_t i = begin; i < end; ++i) {
    Lane<C, K> v;
    v.p = Layout::has_master ? C(master[i]) : C(to_compute(p[i]));
    v.g = C(to_compute(g[i]));
    if (K > 0) v.s[0] = fl.reads_state(0) ? C(s0[i]) : C(0);
    if (K > 1) v.s[K > 1 ? 1 : 0] = fl.reads_state(1) ? C(s1[i]) : C(0);
    const C p_new = apply_lane(r, fl, v);
    if (K > 0 && fl.writes_state(0)) s0[i] = static_cast<S>(v.s[0]);
    if (K > 1 && fl.writes_state(1)) s1[i] = static_cast<S>(v.s[K > 1 ? 1 : 0]);
    if (Layout::has_master) master[i] = static_cast<float>(p_new);
    p[i] = StoreAs<P>::from(p_new);
  }
}

// The same loop compiled for x86-64 with FMA (and AVX): wider vectors, and the hardware fused multiply-add
// that a rule's torch arithmetic asks for by name (contraction is off, so other arithmetic is unchanged).
template <class Layout, class Rule, class Fl>
NAGBENCH_HOST_FMA_TARGET void update_range_host_fma(const Rule& rule, const Fl& fl,
                                                    const ArenaPointers<Layout>& a, int64_t begin,
                                                    int64_t end) {
  update_range_host_body<Layout>(rule, fl, a, begin, end);
}

template <class Layout, class Rule, class Fl>
void update_range_host_baseline(const Rule& rule, const Fl& fl, const ArenaPointers<Layout>& a, int64_t begin,
                                int64_t end) {
  update_range_host_body<Layout>(rule, fl, a, begin, end);
}

template <class Layout, class Rule, class Fl>
inline void update_range_host(const Rule& rule, const Fl& fl, const ArenaPointers<Layout>& a, int64_t begin,
                              int64_t end) {
  if (host_has_fma())
    update_range_host_fma<Layout>(rule, fl, a, begin, end);
  else
    update_range_host_baseline<Layout>(rule, fl, a, begin, end);
}

}  // namespace nagbench
