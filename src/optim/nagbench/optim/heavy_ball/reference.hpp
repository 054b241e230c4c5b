#pragma once
// The float64 host reference of Polyak's heavy ball, written apart from the kernels' rule (rule.hpp):
//   x_{k+1} = x_k - lr * grad(x_k) + beta * (x_k - x_{k-1}),   x_{-1} = x_0.
#include "nagbench/optim/heavy_ball/hyper.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::heavy_ball {

// One step for one parameter; `grad` is the (averaged) gradient. s.p is x_k, s.s[0] is x_{k-1} once
// s.initialized (the first step has none).
inline void reference_step(const Hyper& h, ReferenceState& s, double grad) {
  const double x = s.p;
  const double x_prev = s.initialized ? s.s[0] : x;
  s.p = x - h.lr * grad + h.beta * (x - x_prev);
  s.s[0] = x;
  s.initialized = true;
}

// With |g| <= 1 the velocity v = x_{k+1} - x_k = beta v - lr g stays below lr / (1 - beta), and so does the
// step. A rounding error of x, though, is carried into later steps by the momentum, up to 1 / (1 - beta)
// times (the error e_k obeys e_{k+1} = (1 + beta) e_k - beta e_{k-1} + rounding); the tolerances have no term
// of their own for that, so it is charged here as a step of that size for parameters of magnitude up to 1
// (the verified workloads' are).
inline ErrorBounds error_bounds(const Hyper& h) {
  ErrorBounds e;
  const double amplification = 1.0 / (1.0 - h.beta);
  e.step = h.lr * amplification + (amplification - 1.0);
  e.state[0] = e.step;  // s[0] is the previous iterate: the tolerance of p
  return e;
}

}  // namespace nagbench::heavy_ball
