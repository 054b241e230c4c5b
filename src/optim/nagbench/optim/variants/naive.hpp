#pragma once
// `naive`: what a Kokkos user writes first. One parallel_for over a RangePolicy per tensor, one element per
// index, through Views. The bottom of the ladder (docs/performance.md).
#include <Kokkos_Core.hpp>

#include "nagbench/optim/variants/kernel_body.hpp"
#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

template <class Exec, class Layout, class Rule>
class NaiveVariant final : public UpdateVariant<Exec, Layout, Rule> {
 public:
  void prepare(const Exec&, const UpdateGroups<Layout>& groups) override { groups_ = groups; }

  void step(const Exec& exec, const Rule& rule, bool first_step, int group) override {
    const ArenaPointers<Layout> a = groups_.at(group).base;
    const auto fl = rule.runtime_flags(first_step);
    for (const Segment& s : groups_.at(group).segments) {
      Kokkos::parallel_for(
          "nagbench::naive",
          Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, s.offset, s.offset + s.numel),
          KOKKOS_LAMBDA(const int64_t i) { update_element<Layout>(rule, fl, a, i); });
    }
  }

 private:
  UpdateGroups<Layout> groups_;
};

}  // namespace nagbench
