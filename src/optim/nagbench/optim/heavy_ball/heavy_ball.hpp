#pragma once
// Polyak's heavy ball, x_{k+1} = x_k - lr * grad(x_k) + beta * (x_k - x_{k-1}), as a nagbench update rule
// (see optim/optimizer.hpp for what a rule provides).
#include <cstdint>
#include <vector>

#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/heavy_ball/hyper.hpp"
#include "nagbench/optim/heavy_ball/reference.hpp"
#include "nagbench/optim/heavy_ball/rule.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::heavy_ball {

struct HeavyBall {
  static constexpr const char* kName = "heavy_ball";
  static constexpr const char* kSummary =
      "Polyak's heavy ball: x+ = x - lr * g(x) + beta * (x - x_prev) (state: the previous iterate)";
  using Hyper = heavy_ball::Hyper;
  template <class C>
  using Rule = heavy_ball::Rule<C>;
  // The iterate whose objective value theory talks about: p itself.
  static constexpr int kIterateState = -1;
  // Plain bf16 rounds the stored iterate every step and the state is a difference of stored iterates, which
  // carries and amplifies the rounding past the check's bf16 allowance: fp32, fp64 and bf16_master only.
  static constexpr bool kPlainBf16 = false;

  static std::vector<HyperParam> hyper_params() { return Hyper::params(); }
  // The previous iterate: read and written by every step after the first (the first only writes it).
  static std::vector<StateUse> states(const Hyper&) { return {{"previous_iterate", true, true}}; }
  static constexpr bool kTorchArithmetic = false;
  // The step index is taken for symmetry only.
  static bool same_rule_every_step(const Hyper&) { return true; }
  // The rule of step `step` for gradients summed over `ranks` ranks; it does not change from step to step.
  template <class C>
  static Rule<C> make_rule(const Hyper& h, int ranks, int64_t step, Arithmetic /*separate only*/) {
    return Rule<C>(h, 1.0 / ranks, step);
  }
  static void reference_step(const Hyper& h, ReferenceState& s, double grad, int64_t /*step*/) {
    heavy_ball::reference_step(h, s, grad);
  }
  static ErrorBounds error_bounds(const Hyper& h) { return heavy_ball::error_bounds(h); }
};

}  // namespace nagbench::heavy_ball
