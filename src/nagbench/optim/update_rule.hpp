#pragma once
// The update of torch.optim.SGD for one parameter, as every kernel variant applies it:
//   d = scale * g              (scale = 1/N averages an allreduced sum; negative when maximizing)
//   d = d + weight_decay * p   (if weight_decay != 0)
//   if momentum != 0:  b = d on the first step, else b = momentum * b + (1 - dampening) * d
//                      d = d + momentum * b (nesterov)  or  d = b
//   p = p - lr * d
// `Fault` exists for the tests only: each value drops one term, and the tests prove the checks catch it.
#include <Kokkos_Core.hpp>
#include <type_traits>

#include "nagbench/optim/hyper.hpp"

namespace nagbench {

enum class Fault {
  none,
  drop_weight_decay,
  drop_dampening,
  drop_nesterov_term,
  drop_first_step_rule,
  drop_maximize
};

template <class C, Fault F = Fault::none>
struct UpdateRule {
  using compute_t = C;
  C lr = 0, momentum = 0, one_minus_dampening = 1, weight_decay = 0, grad_scale = 1;
  bool nesterov = false, use_momentum = false, use_weight_decay = false;

  UpdateRule() = default;
  // grad_scale multiplies the incoming gradient; 1/ranks when the gradient arrives as an allreduced sum.
  explicit UpdateRule(const SgdHyper& h, double grad_scale_in = 1.0) {
    const bool maximize = (F == Fault::drop_maximize) ? false : h.maximize;
    lr = static_cast<C>(h.lr);
    momentum = static_cast<C>(h.momentum);
    one_minus_dampening = static_cast<C>((F == Fault::drop_dampening) ? 1.0 : 1.0 - h.dampening);
    weight_decay = static_cast<C>(h.weight_decay);
    grad_scale = static_cast<C>(maximize ? -grad_scale_in : grad_scale_in);
    nesterov = h.nesterov;
    use_momentum = h.has_momentum();
    use_weight_decay = h.weight_decay != 0 && F != Fault::drop_weight_decay;
  }

  // Returns the new parameter; reads b only when !first_step, writes b when momentum is on.
  KOKKOS_FORCEINLINE_FUNCTION C apply(C p, C g, C& b, bool first_step) const {
    return apply_with(p, g, b, first_step, use_momentum, nesterov, use_weight_decay);
  }

  // The same with the flags as arguments: called with compile-time constants (see with_step_flags), the
  // branches fold away and host loops vectorize.
  KOKKOS_FORCEINLINE_FUNCTION C apply_with(C p, C g, C& b, bool first_step, bool with_momentum,
                                           bool with_nesterov, bool with_weight_decay) const {
    C d = grad_scale * g;
    if (with_weight_decay) d += weight_decay * p;
    if (with_momentum) {
      if (first_step && F != Fault::drop_first_step_rule) {
        b = d;
      } else {
        const C b_old = first_step ? C(0) : b;  // the faulty rule starts from a zero buffer
        b = momentum * b_old + one_minus_dampening * d;
      }
      if (with_nesterov) {
        if (F != Fault::drop_nesterov_term) d += momentum * b;
      } else {
        d = b;
      }
    }
    return p - lr * d;
  }
};

// Which terms of the rule a step uses. Kernels take the flags as a type: FixedFlags makes them compile-time
// constants (branches fold away, host loops vectorize); RuntimeFlags keeps them as values (the naive
// variant).
template <bool First, bool Momentum, bool Nesterov, bool WeightDecay>
struct FixedFlags {
  static constexpr bool first = First, momentum = Momentum, nesterov = Nesterov, weight_decay = WeightDecay;
};

struct RuntimeFlags {
  bool first, momentum, nesterov, weight_decay;
  template <class Rule>
  static RuntimeFlags of(const Rule& rule, bool first_step) {
    return {first_step, rule.use_momentum, rule.use_momentum && rule.nesterov, rule.use_weight_decay};
  }
};

// Calls f(FixedFlags<...>{}) with the flags of this step: 12 combinations (Nesterov only with momentum).
template <class Rule, class F>
void with_step_flags(const Rule& rule, bool first_step, F&& f) {
  auto with_wd = [&](auto first, auto mom, auto nest) {
    constexpr bool A = decltype(first)::value, B = decltype(mom)::value, N = decltype(nest)::value;
    if (rule.use_weight_decay)
      f(FixedFlags<A, B, N, true>{});
    else
      f(FixedFlags<A, B, N, false>{});
  };
  auto with_nest = [&](auto first, auto mom) {
    if constexpr (decltype(mom)::value) {
      if (rule.nesterov) return with_wd(first, mom, std::true_type{});
    }
    with_wd(first, mom, std::false_type{});
  };
  auto with_mom = [&](auto first) {
    if (rule.use_momentum)
      with_nest(first, std::true_type{});
    else
      with_nest(first, std::false_type{});
  };
  if (first_step)
    with_mom(std::true_type{});
  else
    with_mom(std::false_type{});
}

}  // namespace nagbench
