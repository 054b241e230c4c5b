#pragma once
// Nesterov's 1983 accelerated gradient for one parameter, with the gradient evaluated at the look-ahead
// point, as every kernel variant applies it. p holds the look-ahead point y_k (where the workload evaluates
// the gradient), the one state array s[0] ("iterate") holds x_k:
//   d = scale * g                                    (scale = 1/N averages an allreduced sum)
//   x_{k+1} = y_k - lr * d
//   y_{k+1} = x_{k+1} + beta_k * (x_{k+1} - x_k)
//   s[0] = x_{k+1}
// with x_0 = y_0: the first step does not read s[0] (it starts poisoned) and uses p. beta_k is the constant
// beta or the t_k schedule's (schedule.hpp), fixed when the rule of step k is made. Each product and sum
// rounded as written, on hosts and GPUs alike (mul_rn/add_rn: never contracted into FMAs). `Fault` exists for
// the tests only: each value breaks one part, and the tests prove the checks catch it.
#include <Kokkos_Core.hpp>
#include <cstdint>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/optim/nesterov1983/hyper.hpp"
#include "nagbench/optim/nesterov1983/schedule.hpp"

namespace nagbench::nesterov1983 {

enum class Fault {
  none,
  drop_momentum_term,   // y_{k+1} = x_{k+1}
  x0_from_state,        // the first step takes x_0 from s[0] (which it does not load) instead of p
  schedule_off_by_one,  // beta_{k+1} used at step k
};

// Whether this is the first step, as a compile-time constant (the naive variant uses RuntimeFlags).
template <bool First>
struct FixedFlags {
  static constexpr bool first = First;
  // s[0] (x_k) is read by every step but the first, and written by every step.
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
  // The rule of step `step` (0 = the first): beta_k is fixed here. grad_scale multiplies the incoming
  // gradient (1/ranks when it arrives as an allreduced sum).
  explicit Rule(const Hyper& h, double grad_scale_in = 1.0, int64_t step = 0)
      : lr(static_cast<C>(h.lr)),
        beta(static_cast<C>(h.schedule ? schedule_beta(F == Fault::schedule_off_by_one ? step + 1 : step)
                                       : h.beta)),
        grad_scale(static_cast<C>(grad_scale_in)) {}

  // Returns y_{k+1}; p is y_k, s[0] holds x_k when fl.reads_state(0) and receives x_{k+1}.
  template <class Fl>
  KOKKOS_FORCEINLINE_FUNCTION C apply(const Fl& fl, C p, C g, C* s) const {
    const C d = mul_rn(grad_scale, g);
    const C x = add_rn(p, -mul_rn(lr, d));
    const C x_old = (fl.first && F != Fault::x0_from_state) ? p : s[0];
    s[0] = x;
    if (F == Fault::drop_momentum_term) return x;
    return add_rn(x, mul_rn(beta, add_rn(x, -x_old)));
  }

  RuntimeFlags runtime_flags(bool first_step) const { return {first_step}; }
  template <class Fn>
  void with_step_flags(bool first_step, Fn&& f) const {
    if (first_step)
      f(FixedFlags<true>{});
    else
      f(FixedFlags<false>{});
  }

  // The BLAS-1 form (the `unfused` variant), on p (y_k), g, a scratch direction d and s[0] (x_k):
  //   d = scale*g                        ops.scal
  //   d = p - lr*d                       ops.axpby     (x_{k+1})
  //   first step:  p = d - p             ops.axpby     (x_1 - x_0, with x_0 = y_0)
  //                p = d + beta*p        ops.axpby
  //   later:       s = d - s             ops.axpby     (x_{k+1} - x_k)
  //                p = d + beta*s        ops.update
  //   s = d                              ops.copy
  // The same products and sums as the kernels, in the same order.
  template <class Ops, class Vec, class ConstVec>
  void unfused(Ops& ops, const Vec& p, const ConstVec& g, const Vec& d, const Vec* s, bool first_step) const {
    ops.scal(d, grad_scale, g);
    ops.axpby(C(1), p, -lr, d);
    if (first_step) {
      ops.axpby(C(1), d, C(-1), p);
      ops.axpby(C(1), d, beta, p);
    } else {
      ops.axpby(C(1), d, C(-1), s[0]);
      ops.update(C(1), ConstVec(d.data(), d.extent(0)), beta, ConstVec(s[0].data(), s[0].extent(0)), C(0), p);
    }
    ops.copy(s[0], d);
  }
};

}  // namespace nagbench::nesterov1983
