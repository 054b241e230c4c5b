#pragma once
// The update of torch.optim.SGD for one parameter, as every kernel variant applies it:
//   d = scale * g              (scale = 1/N averages an allreduced sum; negative when maximizing)
//   d = d + weight_decay * p   (if weight_decay != 0)
//   if momentum != 0:  b = d on the first step, else b = momentum * b + (1 - dampening) * d
//                      d = d + momentum * b (nesterov)  or  d = b
//   p = p - lr * d
// b is the rule's one state array, momentum_buffer (s[0]). `Fault` exists for the tests only: each value
// drops one term, and the tests prove the checks catch it.
//
// Two arithmetics (optim/optimizer.hpp): `separate` rounds every product and sum as written above, on GPUs
// too (no contraction into FMAs), so hosts and GPUs give the same bits; `torch` is PyTorch's, bit for bit:
// torch/optim/sgd.py (_single_tensor_sgd; _multi_tensor_sgd on CPU) whose add(x, alpha=a) is one fused
// multiply-add in the tensor's type, with the hyper-parameters rounded to that type:
//   g = g / ranks (DDP's average);  d = fma(wd, p, g);  b = fma(1 - damp, d, b * mu) (b.mul_(mu).add_(d,
//   alpha)); d = fma(mu, b, d) (Nesterov);  p = fma(-lr, d, p).
// PyTorch 2.11's fused CUDA kernel (torch.optim.SGD(fused=True), FusedSgdKernel.cu) gives the same bits:
// measured on an H200 against its CPU path for every case of tests/data/torch_sgd_trajectories.json, and the
// same expressions run here on the host and on GPUs (tests/unit/test_torch_arithmetic.cpp).
#include <Kokkos_Core.hpp>
#include <type_traits>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/optim/sgd/hyper.hpp"

namespace nagbench::sgd {

enum class Fault {
  none,
  drop_weight_decay,
  drop_dampening,
  drop_nesterov_term,
  drop_first_step_rule,
  drop_maximize
};

// Which terms of the rule a step uses, and its arithmetic, as compile-time constants: branches fold away and
// host loops vectorize.
template <bool First, bool Momentum, bool Nesterov, bool WeightDecay, bool Torch>
struct FixedFlags {
  static constexpr bool first = First, momentum = Momentum, nesterov = Nesterov, weight_decay = WeightDecay,
                        torch = Torch;
  // State array k (the momentum buffer) is read by steps after the first and written by every step, with
  // momentum.
  KOKKOS_FORCEINLINE_FUNCTION static constexpr bool reads_state(int) { return Momentum && !First; }
  KOKKOS_FORCEINLINE_FUNCTION static constexpr bool writes_state(int) { return Momentum; }
};

// The same as values (the naive variant).
struct RuntimeFlags {
  bool first, momentum, nesterov, weight_decay, torch;
  KOKKOS_FORCEINLINE_FUNCTION bool reads_state(int) const { return momentum && !first; }
  KOKKOS_FORCEINLINE_FUNCTION bool writes_state(int) const { return momentum; }
};

template <class C, Fault F = Fault::none>
struct Rule {
  using compute_t = C;
  static constexpr int kStates = 1;
  C lr = 0, momentum = 0, one_minus_dampening = 1, weight_decay = 0, grad_scale = 1;
  bool nesterov = false, use_momentum = false, use_weight_decay = false;
  // torch arithmetic: the sign of the gradient and the rank count it is divided by.
  bool torch = false, negate = false;
  C ranks = 1;

  Rule() = default;
  // grad_scale multiplies the incoming gradient in the separate arithmetic (1/ranks when the gradient arrives
  // as an allreduced sum); the torch arithmetic divides by `ranks_in` instead, as DDP does.
  explicit Rule(const Hyper& h, double grad_scale_in = 1.0, Arithmetic arithmetic = Arithmetic::separate,
                int ranks_in = 1) {
    const bool maximize = (F == Fault::drop_maximize) ? false : h.maximize;
    torch = arithmetic == Arithmetic::torch;
    negate = maximize;
    ranks = static_cast<C>(ranks_in);
    lr = static_cast<C>(h.lr);
    momentum = static_cast<C>(h.momentum);
    one_minus_dampening = static_cast<C>((F == Fault::drop_dampening) ? 1.0 : 1.0 - h.dampening);
    weight_decay = static_cast<C>(h.weight_decay);
    grad_scale = static_cast<C>(maximize ? -grad_scale_in : grad_scale_in);
    nesterov = h.nesterov;
    use_momentum = h.has_momentum();
    use_weight_decay = h.weight_decay != 0 && F != Fault::drop_weight_decay;
  }

  // Returns the new parameter. s[0] (the momentum buffer) holds its old value when fl.reads_state(0) and
  // receives its new value when fl.writes_state(0).
  template <class Fl>
  KOKKOS_FORCEINLINE_FUNCTION C apply(const Fl& fl, C p, C g, C* s) const {
    if (fl.torch) return apply_torch(fl, p, g, s);
    // Every product and sum rounded on its own, on hosts and GPUs alike (mul_rn/add_rn: never contracted).
    C d = mul_rn(grad_scale, g);
    if (fl.weight_decay) d = add_rn(d, mul_rn(weight_decay, p));
    if (fl.momentum) {
      if (fl.first && F != Fault::drop_first_step_rule) {
        s[0] = d;
      } else {
        const C b_old = fl.first ? C(0) : s[0];  // the faulty rule starts from a zero buffer
        s[0] = add_rn(mul_rn(momentum, b_old), mul_rn(one_minus_dampening, d));
      }
      if (fl.nesterov) {
        if (F != Fault::drop_nesterov_term) d = add_rn(d, mul_rn(momentum, s[0]));
      } else {
        d = s[0];
      }
    }
    return add_rn(p, -mul_rn(lr, d));
  }

  // PyTorch's arithmetic (see the top of this file). Faults drop the same terms as in the separate
  // arithmetic.
  template <class Fl>
  KOKKOS_FORCEINLINE_FUNCTION C apply_torch(const Fl& fl, C p, C g, C* s) const {
    if (ranks != C(1)) g = g / ranks;
    if (negate) g = -g;
    C d =
        fl.weight_decay ? fused_multiply_add(weight_decay, p, g) : g;  // grad.add(param, alpha=weight_decay)
    if (fl.momentum) {
      if (fl.first && F != Fault::drop_first_step_rule) {
        s[0] = d;  // torch.clone(grad)
      } else {
        const C b_old = fl.first ? C(0) : s[0];
        s[0] = fused_multiply_add(one_minus_dampening, d,
                                  b_old * momentum);  // buf.mul_(mu).add_(d, alpha=1-damp)
      }
      if (fl.nesterov) {
        if (F != Fault::drop_nesterov_term)
          d = fused_multiply_add(momentum, s[0], d);  // grad.add(buf, alpha=mu)
      } else {
        d = s[0];
      }
    }
    return fused_multiply_add(-lr, d, p);  // param.add_(grad, alpha=-lr)
  }

  RuntimeFlags runtime_flags(bool first_step) const {
    return {first_step, use_momentum, use_momentum && nesterov, use_weight_decay, torch};
  }

  // Calls f(FixedFlags<...>{}) with the flags of this step: 24 combinations (Nesterov only with momentum).
  template <class Fn>
  void with_step_flags(bool first_step, Fn&& f) const {
    auto with_arith = [&](auto first, auto mom, auto nest, auto wd) {
      constexpr bool A = decltype(first)::value, B = decltype(mom)::value, N = decltype(nest)::value,
                     W = decltype(wd)::value;
      if constexpr (F == Fault::none) {  // the tests' faulty rules run the separate arithmetic only
        if (torch) return f(FixedFlags<A, B, N, W, true>{});
      }
      f(FixedFlags<A, B, N, W, false>{});
    };
    auto with_wd = [&](auto first, auto mom, auto nest) {
      if (use_weight_decay)
        with_arith(first, mom, nest, std::true_type{});
      else
        with_arith(first, mom, nest, std::false_type{});
    };
    auto with_nest = [&](auto first, auto mom) {
      if constexpr (decltype(mom)::value) {
        if (nesterov) return with_wd(first, mom, std::true_type{});
      }
      with_wd(first, mom, std::false_type{});
    };
    auto with_mom = [&](auto first) {
      if (use_momentum)
        with_nest(first, std::true_type{});
      else
        with_nest(first, std::false_type{});
    };
    if (first_step)
      with_mom(std::true_type{});
    else
      with_mom(std::false_type{});
  }

  // The rule as one BLAS-1 pass per term (the `unfused` variant), on vectors p, g, a scratch direction d and
  // the state vectors s[]:
  //   d = scale*g + wd*p            ops.update (or ops.scal without weight decay)
  //   b = d | b = mu*b + (1-damp)*d ops.copy on the first step, else ops.axpby
  //   d = d + mu*b                  ops.axpby (nesterov)
  //   p = p - lr*d                  ops.axpby
  template <class Ops, class Vec, class ConstVec>
  void unfused(Ops& ops, const Vec& p, const ConstVec& g, const Vec& d, const Vec* s, bool first_step) const {
    if (use_weight_decay)
      ops.update(grad_scale, g, weight_decay, ConstVec(p.data(), p.extent(0)), C(0), d);
    else
      ops.scal(d, grad_scale, g);
    Vec step_dir = d;
    if (use_momentum) {
      if (first_step)
        ops.copy(s[0], d);
      else
        ops.axpby(one_minus_dampening, d, momentum, s[0]);
      if (nesterov)
        ops.axpby(momentum, s[0], C(1), d);
      else
        step_dir = s[0];
    }
    ops.axpby(-lr, step_dir, C(1), p);
  }
};

}  // namespace nagbench::sgd
