#pragma once
// Plain gradient descent for one parameter, as every kernel variant applies it:
//   d = scale * g        (scale = 1/N averages an allreduced sum)
//   p = p - lr * d
// No state. Each product and sum rounded as written, on hosts and GPUs alike (mul_rn/add_rn: never contracted
// into FMAs), so the bits are those of sgd with momentum 0 and weight decay 0. `Fault` exists for the tests
// only: its value drops one term, and the tests prove the checks catch it.
#include <Kokkos_Core.hpp>
#include <cstdint>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/optim/gd/hyper.hpp"

namespace nagbench::gd {

enum class Fault { none, drop_grad_scale };

// gd touches no state array, on any step: one set of flags serves as the compile-time and the run-time ones.
struct Flags {
  KOKKOS_FORCEINLINE_FUNCTION static constexpr bool reads_state(int) { return false; }
  KOKKOS_FORCEINLINE_FUNCTION static constexpr bool writes_state(int) { return false; }
};

template <class C, Fault F = Fault::none>
struct Rule {
  using compute_t = C;
  static constexpr int kStates = 0;
  C lr = 0, grad_scale = 1;

  Rule() = default;
  // grad_scale multiplies the incoming gradient (1/ranks when it arrives as an allreduced sum). The step
  // index is taken for symmetry with the rules whose coefficients change from step to step.
  explicit Rule(const Hyper& h, double grad_scale_in = 1.0, int64_t /*step*/ = 0)
      : lr(static_cast<C>(h.lr)),
        grad_scale(static_cast<C>(F == Fault::drop_grad_scale ? 1.0 : grad_scale_in)) {}

  // Returns the new parameter.
  template <class Fl>
  KOKKOS_FORCEINLINE_FUNCTION C apply(const Fl&, C p, C g, C*) const {
    const C d = mul_rn(grad_scale, g);
    return add_rn(p, -mul_rn(lr, d));
  }

  Flags runtime_flags(bool) const { return {}; }
  template <class Fn>
  void with_step_flags(bool, Fn&& f) const {
    f(Flags{});
  }

  // The BLAS-1 form (the `unfused` variant): d = scale*g (ops.scal), p = p - lr*d (ops.axpby).
  template <class Ops, class Vec, class ConstVec>
  void unfused(Ops& ops, const Vec& p, const ConstVec& g, const Vec& d, const Vec*, bool) const {
    ops.scal(d, grad_scale, g);
    ops.axpby(-lr, d, C(1), p);
  }
};

}  // namespace nagbench::gd
