#pragma once
// The reduction and the update in one pass (--comm p2p, issue 14): for each element of a segment, the sum of
// every rank's gradient (read from the peers' mapped arenas, summed in rank order so that every rank that
// computes an element computes the same bits), the rule applied with that sum, the state kept here, and the
// new parameter stored into every arena in `p_out` (sharded: every rank's, so that each element is computed
// by one rank and written to all; replicated: this rank's only). The reduced gradient never goes to memory:
// per element the pass reads ranks x g, p and the state, and writes the state and outputs x p.
//
// GPU: one index per 16-byte pack (update_pack's shape), every rank's gradient pack loaded before any
// arithmetic, so `ranks` independent 16-byte loads per thread are in flight over NVLink; host: a plain loop
// per block of elements.
#include <Kokkos_Core.hpp>
#include <cstdint>

#include "nagbench/optim/variants/fused.hpp"
#include "nagbench/optim/variants/kernel_body.hpp"

namespace nagbench {

inline constexpr int kMaxReduceRanks = 8;

// Pointers are already offset to the same element origin: element i of the segment is g[r][i], p_in[i],
// p_out[o][i] and s[k][i].
template <class Layout>
struct ReduceUpdateArgs {
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using S = typename Layout::state_t;
  const G* g[kMaxReduceRanks] = {};
  P* p_out[kMaxReduceRanks] = {};
  const P* p_in = nullptr;
  S* s[kMaxStates] = {};
  int ranks = 0;    // gradients summed, in this order
  int outputs = 0;  // parameter arenas written
};

namespace detail {

template <class Layout, class Rule, class Fl>
KOKKOS_FORCEINLINE_FUNCTION void reduce_update_element(const Rule& rule, const Fl& fl,
                                                       const ReduceUpdateArgs<Layout>& a, int64_t i) {
  using C = typename Rule::compute_t;
  using S = typename Layout::state_t;
  constexpr int K = Rule::kStates;
  Lane<C, K> v;
  v.p = C(to_compute(a.p_in[i]));
  v.g = C(to_compute(a.g[0][i]));
  for (int r = 1; r < a.ranks; ++r)
    v.g += C(to_compute(a.g[r][i]));
  NAGBENCH_UNROLL
  for (int k = 0; k < K; ++k)
    v.s[k] = fl.reads_state(k) ? C(a.s[k][i]) : C(0);
  const C p_new = apply_lane(rule, fl, v);
  NAGBENCH_UNROLL
  for (int k = 0; k < K; ++k)
    if (fl.writes_state(k)) a.s[k][i] = static_cast<S>(v.s[k]);
  const auto out = StoreAs<typename Layout::param_t>::from(p_new);
  for (int o = 0; o < a.outputs; ++o)
    a.p_out[o][i] = out;
}

template <class Layout, class Rule, int W, class Fl>
KOKKOS_FORCEINLINE_FUNCTION void reduce_update_pack(const Rule& rule, const Fl& fl,
                                                    const ReduceUpdateArgs<Layout>& a, int64_t i) {
  using C = typename Rule::compute_t;
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using S = typename Layout::state_t;
  constexpr int K = Rule::kStates;
  Pack<G, W> g[kMaxReduceRanks];
  NAGBENCH_UNROLL
  for (int r = 0; r < kMaxReduceRanks; ++r)
    if (r < a.ranks) g[r] = *reinterpret_cast<const Pack<G, W>*>(a.g[r] + i);
  Pack<P, W> p = *reinterpret_cast<const Pack<P, W>*>(a.p_in + i);
  Pack<S, W> s[K > 0 ? K : 1];
  NAGBENCH_UNROLL
  for (int k = 0; k < K; ++k)
    if (fl.reads_state(k)) s[k] = *reinterpret_cast<const Pack<S, W>*>(a.s[k] + i);
  NAGBENCH_UNROLL
  for (int w = 0; w < W; ++w) {
    Lane<C, K> v;
    v.p = C(to_compute(p.v[w]));
    v.g = C(to_compute(g[0].v[w]));
    NAGBENCH_UNROLL
    for (int r = 1; r < kMaxReduceRanks; ++r)
      if (r < a.ranks) v.g += C(to_compute(g[r].v[w]));
    NAGBENCH_UNROLL
    for (int k = 0; k < K; ++k)
      v.s[k] = fl.reads_state(k) ? C(s[k].v[w]) : C(0);
    const C p_new = apply_lane(rule, fl, v);
    NAGBENCH_UNROLL
    for (int k = 0; k < K; ++k)
      s[k].v[w] = static_cast<S>(v.s[k]);
    p.v[w] = StoreAs<P>::from(p_new);
  }
  NAGBENCH_UNROLL
  for (int k = 0; k < K; ++k)
    if (fl.writes_state(k)) *reinterpret_cast<Pack<S, W>*>(a.s[k] + i) = s[k];
  NAGBENCH_UNROLL
  for (int o = 0; o < kMaxReduceRanks; ++o)
    if (o < a.outputs) *reinterpret_cast<Pack<P, W>*>(a.p_out[o] + i) = p;
}

}  // namespace detail

// (A named function, not a generic lambda, holds the kernels: nvcc's extended lambdas need one.)
template <class Exec, class Layout, class Rule, class Fl>
void reduce_update_segment_with(const Exec& exec, const ReduceUpdateArgs<Layout>& a, const Segment& seg,
                                const Rule& rule, const Fl fl) {
  const int64_t first = seg.offset, n = seg.numel;
  if constexpr (is_host_space<Exec>()) {
    const int64_t blocks = (n + kHostBlockElements - 1) / kHostBlockElements;
    Kokkos::parallel_for(
        "nagbench::reduce_update_host",
        Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, blocks),
        KOKKOS_LAMBDA(const int64_t blk) {
          const int64_t lo = first + blk * kHostBlockElements;
          const int64_t hi = lo + kHostBlockElements < first + n ? lo + kHostBlockElements : first + n;
          for (int64_t i = lo; i < hi; ++i)
            detail::reduce_update_element<Layout, Rule, Fl>(rule, fl, a, i);
        });
  } else {
    constexpr int W = pack_width<Layout>();
    if (first % W != 0 || n >= (int64_t(1) << 31) * W) {  // never from the bucket plans; correct, not fast
      Kokkos::parallel_for(
          "nagbench::reduce_update_unaligned",
          Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, first, first + n),
          KOKKOS_LAMBDA(const int64_t i) {
            detail::reduce_update_element<Layout, Rule, Fl>(rule, fl, a, i);
          });
      return;
    }
    const int64_t items = (n + W - 1) / W;
    Kokkos::parallel_for(
        "nagbench::reduce_update", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int>>(exec, 0, int(items)),
        KOKKOS_LAMBDA(const int k) {
          const int64_t lo = static_cast<int64_t>(k) * W;
          if (lo + W <= n) {
            detail::reduce_update_pack<Layout, Rule, W, Fl>(rule, fl, a, first + lo);
          } else {
            for (int64_t i = first + lo; i < first + n; ++i)
              detail::reduce_update_element<Layout, Rule, Fl>(rule, fl, a, i);
          }
        });
  }
}

// Elements [seg.offset, seg.offset + seg.numel) of the arguments' origin, one launch.
template <class Exec, class Layout, class Rule>
void reduce_update_segment(const Exec& exec, const ReduceUpdateArgs<Layout>& a, const Segment& seg,
                           const Rule& rule, bool first_step) {
  if (seg.numel <= 0) return;
  rule.with_step_flags(first_step, [&](auto fl) { reduce_update_segment_with(exec, a, seg, rule, fl); });
}

}  // namespace nagbench
