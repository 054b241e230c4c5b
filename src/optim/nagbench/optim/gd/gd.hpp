#pragma once
// Gradient descent, p = p - lr * g, as a nagbench update rule (see optim/optimizer.hpp for what a rule
// provides).
#include <cstdint>
#include <vector>

#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/gd/hyper.hpp"
#include "nagbench/optim/gd/reference.hpp"
#include "nagbench/optim/gd/rule.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::gd {

struct Gd {
  static constexpr const char* kName = "gd";
  static constexpr const char* kSummary = "gradient descent: p = p - lr * g (no state)";
  using Hyper = gd::Hyper;
  template <class C>
  using Rule = gd::Rule<C>;
  // The iterate whose objective value theory talks about: p itself.
  static constexpr int kIterateState = -1;
  static constexpr bool kPlainBf16 = true;  // the bf16 layout (state in bf16) is checked within its allowance

  static std::vector<HyperParam> hyper_params() { return Hyper::params(); }
  static std::vector<StateUse> states(const Hyper&) { return {}; }
  static constexpr bool kTorchArithmetic = false;
  // The step index is taken for symmetry only.
  static bool same_rule_every_step(const Hyper&) { return true; }
  // The rule of step `step` for gradients summed over `ranks` ranks; it does not change from step to step.
  template <class C>
  static Rule<C> make_rule(const Hyper& h, int ranks, int64_t step, Arithmetic /*separate only*/) {
    return Rule<C>(h, 1.0 / ranks, step);
  }
  static void reference_step(const Hyper& h, ReferenceState& s, double grad, int64_t /*step*/) {
    gd::reference_step(h, s, grad);
  }
  static ErrorBounds error_bounds(const Hyper& h) { return gd::error_bounds(h); }
};

}  // namespace nagbench::gd
