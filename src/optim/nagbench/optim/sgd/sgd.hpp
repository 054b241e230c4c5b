#pragma once
// torch.optim.SGD as a nagbench update rule (see optim/optimizer.hpp for what a rule provides).
#include <cstdint>
#include <vector>

#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/optimizer.hpp"
#include "nagbench/optim/sgd/hyper.hpp"
#include "nagbench/optim/sgd/reference.hpp"
#include "nagbench/optim/sgd/rule.hpp"

namespace nagbench::sgd {

struct Sgd {
  static constexpr const char* kName = "sgd";
  static constexpr const char* kSummary =
      "torch.optim.SGD: momentum, dampening, Nesterov, weight decay, maximize (PyTorch's semantics)";
  using Hyper = sgd::Hyper;
  template <class C>
  using Rule = sgd::Rule<C>;
  // The iterate whose objective value theory talks about: p itself.
  static constexpr int kIterateState = -1;
  static constexpr bool kPlainBf16 = true;  // the bf16 layout (state in bf16) is checked within its allowance

  static std::vector<HyperParam> hyper_params() { return Hyper::params(); }
  // The momentum buffer, when there is momentum: read and written by every step after the first.
  static std::vector<StateUse> states(const Hyper& h) {
    if (!h.has_momentum()) return {};
    return {{"momentum_buffer", true, true}};
  }
  static constexpr bool kTorchArithmetic = true;
  static bool same_rule_every_step(const Hyper&) { return true; }  // make_rule ignores the step
  // The rule of step `step` (0 = the first) for gradients summed over `ranks` ranks; SGD's does not change
  // from step to step.
  template <class C>
  static Rule<C> make_rule(const Hyper& h, int ranks, int64_t /*step*/, Arithmetic arithmetic) {
    return Rule<C>(h, 1.0 / ranks, arithmetic, ranks);
  }
  static void reference_step(const Hyper& h, ReferenceState& s, double grad, int64_t /*step*/) {
    sgd::reference_step(h, s, grad);
  }
  static ErrorBounds error_bounds(const Hyper& h) { return sgd::error_bounds(h); }
};

}  // namespace nagbench::sgd
