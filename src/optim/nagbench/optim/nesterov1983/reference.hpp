#pragma once
// The float64 host reference of Nesterov's 1983 accelerated gradient, written apart from the kernels' rule
// (rule.hpp, schedule.hpp), in the order of the method's statement:
//   x_{k+1} = y_k - lr * grad(y_k)
//   y_{k+1} = x_{k+1} + beta_k * (x_{k+1} - x_k),      x_0 = y_0
// with beta_k constant, or beta_k = (t_k - 1) / t_{k+1} with t_0 = 1 and t_{k+1}^2 - t_{k+1} = t_k^2.
#include <cmath>
#include <cstdint>

#include "nagbench/optim/nesterov1983/hyper.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::nesterov1983 {

// beta_k of the t_k schedule. A replay asks for k = 0, 1, 2, ... element after element, so the pair (t_k,
// t_{k+1}) of the last k asked for is kept per thread and stepped forward (or started again from k = 0).
inline double reference_schedule_beta(int64_t k) {
  static thread_local int64_t at = -1;
  static thread_local double t = 1, t_next = 1;
  if (at < 0 || k < at) {
    at = 0;
    t = 1;
    t_next = 0.5 * (1 + std::sqrt(5.0));  // the root > 1 of t^2 - t = 1
  }
  while (at < k) {
    t = t_next;
    t_next = 0.5 * (1 + std::sqrt(1 + 4 * t * t));  // the root > 1 of t'^2 - t' = t^2
    ++at;
  }
  return (t - 1) / t_next;
}

// One step (step k) for one parameter; `grad` is the (averaged) gradient at y_k. s.p is y_k, s.s[0] is x_k
// after the first step.
inline void reference_step(const Hyper& h, ReferenceState& s, double grad, int64_t step) {
  const double y = s.p;
  const double x = (step == 0 || !s.initialized) ? y : s.s[0];
  const double beta = h.schedule ? reference_schedule_beta(step) : h.beta;
  const double x_next = y - h.lr * grad;
  const double y_next = x_next + beta * (x_next - x);
  s.s[0] = x_next;
  s.p = y_next;
  s.initialized = true;
}

// With |g| <= 1 and beta_k <= beta < 1 the velocity v = x_{k+1} - x_k = beta v - lr g stays below
// lr / (1 - beta), and the step of y, v_{k+1} + beta (v_{k+1} - v_k), below (1 + 2 beta) lr / (1 - beta). A
// rounding error of y or x, though, is carried into later steps by the momentum, up to (1 + beta) / (1 -
// beta) times (the error of y obeys e_{k+1} = (1 + beta) e_k - beta e_{k-1} + rounding); the tolerances have
// no term of their own for that, so it is charged here as a step of that size for parameters of magnitude up
// to 1 (the verified workloads' are). The schedule's beta_k grows towards 1 (0.9 by k = 26, 0.99 by k = 300):
// it is charged as beta = 0.99, which covers the synthetic workload's random gradients for some thousands of
// steps; longer runs can show rounding as mismatches.
inline ErrorBounds error_bounds(const Hyper& h) {
  ErrorBounds e;
  const double beta = h.schedule ? 0.99 : h.beta;
  const double amplification = (1.0 + beta) / (1.0 - beta);
  e.step = (1.0 + 2.0 * beta) * h.lr / (1.0 - beta) + (amplification - 1.0);
  e.state[0] = e.step;  // x_k carries the same errors as y_k
  return e;
}

}  // namespace nagbench::nesterov1983
