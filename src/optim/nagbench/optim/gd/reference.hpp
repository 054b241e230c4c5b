#pragma once
// The float64 host reference of gradient descent, written apart from the kernels' rule (rule.hpp).
#include "nagbench/optim/gd/hyper.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::gd {

// One step for one parameter; `grad` is the (averaged) gradient.
inline void reference_step(const Hyper& h, ReferenceState& s, double grad) {
  s.p -= h.lr * grad;
  s.initialized = true;
}

// |g| <= 1: the step is at most lr.
inline ErrorBounds error_bounds(const Hyper& h) {
  ErrorBounds e;
  e.step = h.lr;
  return e;
}

}  // namespace nagbench::gd
