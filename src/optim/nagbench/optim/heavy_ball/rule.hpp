#pragma once
// Polyak's heavy ball for one parameter, as every kernel variant applies it. p holds the iterate x_k, the one
// state array s[0] ("previous_iterate") holds x_{k-1}:
//   d = scale * g                          (scale = 1/N averages an allreduced sum)
//   x_{k+1} = (x_k - lr * d) + beta * (x_k - x_{k-1})
//   s[0] = x_k
// On the first step x_{-1} = x_0: the momentum term is zero and s[0] is not read (it starts poisoned). Each
// product and sum rounded as written, on hosts and GPUs alike (mul_rn/add_rn: never contracted into FMAs).
// `Fault` exists for the tests only: each value drops one term, and the tests prove the checks catch it.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <type_traits>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/optim/heavy_ball/hyper.hpp"

namespace nagbench::heavy_ball {

enum class Fault { none, drop_momentum_term, drop_state_write };

// Whether this is the first step, as a compile-time constant (the naive variant uses RuntimeFlags).
template <bool First>
struct FixedFlags {
  static constexpr bool first = First;
  // s[0] (x_{k-1}) is read by every step but the first, and written by every step.
  KOKKOS_FORCEINLINE_FUNCTION static constexpr bool reads_state(int) { return !First; }
  KOKKOS_FORCEINLINE_FUNCTION static constexpr bool writes_state(int) { return true; }
};

struct RuntimeFlags {
  bool first;
  KOKKOS_FORCEINLINE_FUNCTION bool reads_state(int) const { return !first; }
  KOKKOS_FORCEINLINE_FUNCTION bool writes_state(int) const { return true; }
};

template <class C, Fault F = Fault::none>
struct Rule {
  using compute_t = C;
  static constexpr int kStates = 1;
  C lr = 0, beta = 0, grad_scale = 1;

  Rule() = default;
  // grad_scale multiplies the incoming gradient (1/ranks when it arrives as an allreduced sum). The rule does
  // not change from step to step.
  explicit Rule(const Hyper& h, double grad_scale_in = 1.0, int64_t /*step*/ = 0)
      : lr(static_cast<C>(h.lr)), beta(static_cast<C>(h.beta)), grad_scale(static_cast<C>(grad_scale_in)) {}

  // Returns x_{k+1}; p is x_k, s[0] holds x_{k-1} when fl.reads_state(0) and receives x_k.
  template <class Fl>
  KOKKOS_FORCEINLINE_FUNCTION C apply(const Fl& fl, C p, C g, C* s) const {
    const C d = mul_rn(grad_scale, g);
    C x = add_rn(p, -mul_rn(lr, d));
    if (!fl.first && F != Fault::drop_momentum_term) x = add_rn(x, mul_rn(beta, add_rn(p, -s[0])));
    if (F != Fault::drop_state_write) s[0] = p;
    return x;
  }

  RuntimeFlags runtime_flags(bool first_step) const { return {first_step}; }
  template <class Fn>
  void with_step_flags(bool first_step, Fn&& f) const {
    if (first_step)
      f(FixedFlags<true>{});
    else
      f(FixedFlags<false>{});
  }

  // The BLAS-1 form (the `unfused` variant), on p (x_k), g, a scratch direction d and s[0] (x_{k-1}):
  //   d = scale*g                         ops.scal
  //   first step:  s = p;  p = p - lr*d   ops.copy, ops.axpby
  //   later:       s = p - s              ops.axpby   (x_k - x_{k-1})
  //                d = beta*s - lr*d      ops.axpby   (the whole step)
  //                s = p                  ops.copy
  //                p = p + d              ops.axpby
  // The later steps add the step to p in one sum, (x_k + (beta*m - lr*d)), where the kernels add lr*d first:
  // the same terms, rounded in another order.
  template <class Ops, class Vec, class ConstVec>
  void unfused(Ops& ops, const Vec& p, const ConstVec& g, const Vec& d, const Vec* s, bool first_step) const {
    ops.scal(d, grad_scale, g);
    if (first_step) {
      ops.copy(s[0], p);
      ops.axpby(-lr, d, C(1), p);
      return;
    }
    ops.axpby(C(1), p, C(-1), s[0]);
    ops.axpby(beta, s[0], -lr, d);
    ops.copy(s[0], p);
    ops.axpby(C(1), d, C(1), p);
  }
};

}  // namespace nagbench::heavy_ball
