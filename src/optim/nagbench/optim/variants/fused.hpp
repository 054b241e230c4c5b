#pragma once
// `fused`: the tuned single-pass kernel, one launch per tensor. On GPUs each index updates one pack of 16
// bytes of the narrowest array (4 fp32, 2 fp64, 8 bf16 elements) with vector loads and stores; on host
// backends each index updates a block with a restrict-qualified loop the compiler vectorizes. The rule's
// terms are compile-time constants in both. See docs/performance.md.
#include <Kokkos_Core.hpp>

#include "nagbench/optim/variants/kernel_body.hpp"
#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

// Elements per index of a host kernel: large enough to amortize the per-index dispatch, small enough to
// balance the threads on small tensors.
inline constexpr int64_t kHostBlockElements = 2048;

template <class Exec, class Layout, class Rule, class Fl>
void fused_update_segment_with(const Exec& exec, const ArenaPointers<Layout>& a, const Segment& s,
                               const Rule& rule, const Fl fl) {
  const int64_t first = s.offset, n = s.numel;
  if constexpr (is_host_space<Exec>()) {
    const int64_t blocks = (n + kHostBlockElements - 1) / kHostBlockElements;
    Kokkos::parallel_for(
        "nagbench::fused_host", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, blocks),
        KOKKOS_LAMBDA(const int64_t blk) {
          const int64_t lo = first + blk * kHostBlockElements;
          const int64_t hi = lo + kHostBlockElements < first + n ? lo + kHostBlockElements : first + n;
          update_range_host<Layout>(rule, fl, a, lo, hi);
        });
  } else {
    constexpr int W = pack_width<Layout>();
    if (first % W != 0) {  // only a shard boundary can be unaligned; correct, not fast
      Kokkos::parallel_for(
          "nagbench::fused_unaligned",
          Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, first, first + n),
          KOKKOS_LAMBDA(const int64_t i) { update_element<Layout>(rule, fl, a, i); });
      return;
    }
    // One index per pack; the last index also takes the ragged tail, so a tensor is always one launch.
    const int64_t items = (n + W - 1) / W;
    if (items < (int64_t(1) << 31)) {  // 32-bit loop indices are cheaper on GPUs
      Kokkos::parallel_for(
          "nagbench::fused",
          Kokkos::RangePolicy<Exec, Kokkos::IndexType<int>>(exec, 0, static_cast<int>(items)),
          KOKKOS_LAMBDA(const int k) {
            const int64_t lo = static_cast<int64_t>(k) * W;
            if (lo + W <= n) {
              update_pack<Layout, Rule, W>(rule, fl, a, first + lo);
            } else {
              for (int64_t i = first + lo; i < first + n; ++i)
                update_element<Layout>(rule, fl, a, i);
            }
          });
    } else {
      Kokkos::parallel_for(
          "nagbench::fused", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, items),
          KOKKOS_LAMBDA(const int64_t k) {
            const int64_t lo = k * W;
            if (lo + W <= n) {
              update_pack<Layout, Rule, W>(rule, fl, a, first + lo);
            } else {
              for (int64_t i = first + lo; i < first + n; ++i)
                update_element<Layout>(rule, fl, a, i);
            }
          });
    }
  }
}

// Updates one segment with one launch. Shared by `fused` and by the communication overlap code.
template <class Exec, class Layout, class Rule>
void fused_update_segment(const Exec& exec, const ArenaPointers<Layout>& a, const Segment& s,
                          const Rule& rule, bool first_step) {
  if (s.numel <= 0) return;
  rule.with_step_flags(first_step, [&](auto fl) { fused_update_segment_with(exec, a, s, rule, fl); });
}

template <class Exec, class Layout, class Rule>
class FusedVariant final : public UpdateVariant<Exec, Layout, Rule> {
 public:
  void prepare(const Exec&, const UpdateGroups<Layout>& groups) override { groups_ = groups; }
  void step(const Exec& exec, const Rule& rule, bool first_step, int group) override {
    const UpdateGroup<Layout>& g = groups_.at(group);
    for (const Segment& s : g.segments)
      fused_update_segment(exec, g.base, s, rule, first_step);
  }

 private:
  UpdateGroups<Layout> groups_;
};

}  // namespace nagbench
