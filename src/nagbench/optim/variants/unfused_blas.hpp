#pragma once
// `unfused`: the update written as Kokkos Kernels BLAS-1 calls, the baseline a user reaches for first. One
// call per term, each a full pass over its arrays (about 2-3x the minimum bytes; see docs/performance.md):
//   d = scale*g + wd*p            KokkosBlas::update (or scal without weight decay)
//   b = d | b = mu*b + (1-damp)*d deep_copy on the first step, else KokkosBlas::axpby
//   d = d + mu*b                  KokkosBlas::axpby (nesterov)
//   p = p - lr*d                  KokkosBlas::axpby
// fp32 and fp64 only: Kokkos Kernels has no bf16 BLAS.
#include <KokkosBlas1_axpby.hpp>
#include <KokkosBlas1_scal.hpp>
#include <KokkosBlas1_update.hpp>
#include <Kokkos_Core.hpp>
#include <type_traits>

#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

template <class Exec, class Layout, class Rule>
class UnfusedBlasVariant final : public UpdateVariant<Exec, Layout, Rule> {
  using C = typename Rule::compute_t;
  static_assert(std::is_same<typename Layout::param_t, C>::value &&
                    std::is_same<typename Layout::grad_t, C>::value,
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
    for (const Segment& s : groups_.at(group).segments) {
      const Vec p(a.p + s.offset, s.numel);
      const ConstVec g(a.g + s.offset, s.numel);
      const Vec d(direction_.data(), s.numel);
      if (rule.use_weight_decay)
        KokkosBlas::update(rule.grad_scale, g, rule.weight_decay, ConstVec(p.data(), s.numel), C(0), d);
      else
        KokkosBlas::scal(d, rule.grad_scale, g);
      Vec step_dir = d;
      if (rule.use_momentum) {
        const Vec b(a.b + s.offset, s.numel);
        if (first_step)
          Kokkos::deep_copy(b, d);
        else
          KokkosBlas::axpby(rule.one_minus_dampening, d, rule.momentum, b);
        if (rule.nesterov)
          KokkosBlas::axpby(rule.momentum, b, C(1), d);
        else
          step_dir = b;
      }
      KokkosBlas::axpby(-rule.lr, step_dir, C(1), p);
    }
  }

 private:
  UpdateGroups<Layout> groups_;
  Kokkos::View<C*, Dev> direction_;
};

}  // namespace nagbench
