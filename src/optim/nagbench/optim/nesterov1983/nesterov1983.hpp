#pragma once
// Nesterov's 1983 accelerated gradient (gradient at the look-ahead point) as a nagbench update rule (see
// optim/optimizer.hpp for what a rule provides).
#include <cstdint>
#include <vector>

#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/nesterov1983/hyper.hpp"
#include "nagbench/optim/nesterov1983/reference.hpp"
#include "nagbench/optim/nesterov1983/rule.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::nesterov1983 {

struct Nesterov1983 {
  static constexpr const char* kName = "nesterov1983";
  static constexpr const char* kSummary =
      "Nesterov (1983): x+ = y - lr * g(y), y+ = x+ + beta_k * (x+ - x); p holds y, the state x "
      "(beta_k constant or the t_k schedule)";
  using Hyper = nesterov1983::Hyper;
  template <class C>
  using Rule = nesterov1983::Rule<C>;
  // The iterate whose objective value theory talks about: x_k, state array 0 (p holds the look-ahead y_k).
  static constexpr int kIterateState = 0;
  // Plain bf16 rounds the stored iterate every step and the state is a difference of stored iterates, which
  // carries and amplifies the rounding past the check's bf16 allowance: fp32, fp64 and bf16_master only.
  static constexpr bool kPlainBf16 = false;

  static std::vector<HyperParam> hyper_params() { return Hyper::params(); }
  // The iterate x_k: read and written by every step after the first (the first only writes it).
  static std::vector<StateUse> states(const Hyper&) { return {{"iterate", true, true}}; }
  static constexpr bool kTorchArithmetic = false;
  // beta_k follows the t_k schedule's step k, or is the constant beta.
  static bool same_rule_every_step(const Hyper& h) { return !h.schedule; }
  // The rule of step `step` (0 = the first, or the first after a restart of the schedule) for gradients
  // summed over `ranks` ranks: beta_k is computed here, on the host, in double.
  template <class C>
  static Rule<C> make_rule(const Hyper& h, int ranks, int64_t step, Arithmetic /*separate only*/) {
    return Rule<C>(h, 1.0 / ranks, step);
  }
  static void reference_step(const Hyper& h, ReferenceState& s, double grad, int64_t step) {
    nesterov1983::reference_step(h, s, grad, step);
  }
  static ErrorBounds error_bounds(const Hyper& h) { return nesterov1983::error_bounds(h); }
};

}  // namespace nagbench::nesterov1983
