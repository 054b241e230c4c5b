#pragma once
// `unfused`: the update written as Kokkos Kernels BLAS-1 calls, the baseline a user reaches for first. The
// rule says which passes make it up (Rule::unfused, e.g. sgd/rule.hpp); this variant supplies the passes,
// each a full pass over its arrays (about 2-3x the minimum bytes; see docs/performance.md). fp32 and fp64
// only: Kokkos Kernels has no bf16 BLAS.
#include <KokkosBlas1_axpby.hpp>
#include <KokkosBlas1_scal.hpp>
#include <KokkosBlas1_update.hpp>
#include <Kokkos_Core.hpp>
#include <type_traits>

#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

// The BLAS-1 passes a rule composes its unfused form from, on the variant's execution space.
template <class Dev>
struct KokkosBlasOps {
  template <class A, class X, class B, class Y, class Z>
  void update(A a, const X& x, B b, const Y& y, A c, const Z& z) {
    KokkosBlas::update(a, x, b, y, c, z);
  }
  template <class D, class A, class X>
  void scal(const D& d, A a, const X& x) {
    KokkosBlas::scal(d, a, x);
  }
  template <class A, class X, class B, class Y>
  void axpby(A a, const X& x, B b, const Y& y) {
    KokkosBlas::axpby(a, x, b, y);
  }
  template <class D, class S>
  void copy(const D& d, const S& s) {
    Kokkos::deep_copy(d, s);
  }
};

template <class Exec, class Layout, class Rule>
class UnfusedBlasVariant final : public UpdateVariant<Exec, Layout, Rule> {
  using C = typename Rule::compute_t;
  static_assert(std::is_same<typename Layout::param_t, C>::value &&
                    std::is_same<typename Layout::grad_t, C>::value &&
                    std::is_same<typename Layout::state_t, C>::value,
                "unfused: fp32 and fp64 layouts only");
  // Device<Exec, ...> makes Kokkos Kernels run on the requested backend, not on the memory space's default
  // one.
  using Dev = Kokkos::Device<Exec, typename Exec::memory_space>;
  using Vec = Kokkos::View<C*, Dev, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  using ConstVec = Kokkos::View<const C*, Dev, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

 public:
  void prepare(const Exec&, const UpdateGroups<Layout>& groups) override {
    groups_ = groups;
    int64_t largest = 0;
    for (const auto& g : groups)
      for (const auto& s : g.segments)
        largest = s.numel > largest ? s.numel : largest;
    direction_ = Kokkos::View<C*, Dev>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::unfused_d"),
                                       largest);
  }

  void step(const Exec&, const Rule& rule, bool first_step, int group) override {
    const ArenaPointers<Layout>& a = groups_.at(group).base;
    KokkosBlasOps<Dev> ops;
    for (const Segment& s : groups_.at(group).segments) {
      Vec states[Rule::kStates > 0 ? Rule::kStates : 1];
      for (int k = 0; k < Rule::kStates; ++k)
        if (a.s[k]) states[k] = Vec(a.s[k] + s.offset, s.numel);
      rule.unfused(ops, Vec(a.p + s.offset, s.numel), ConstVec(a.g + s.offset, s.numel),
                   Vec(direction_.data(), s.numel), states, first_step);
    }
  }

 private:
  UpdateGroups<Layout> groups_;
  Kokkos::View<C*, Dev> direction_;
};

}  // namespace nagbench
