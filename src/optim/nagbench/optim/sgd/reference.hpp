#pragma once
// The float64 host reference of torch.optim.SGD, written apart from the kernels' rule (rule.hpp) and in
// PyTorch's own order (torch/optim/sgd.py, _single_tensor_sgd), so that a slip in one is caught by the other.
#include "nagbench/optim/optimizer.hpp"
#include "nagbench/optim/sgd/hyper.hpp"

namespace nagbench::sgd {

// One step for one parameter. `grad` is the (averaged) gradient as the optimizer receives it; s.s[0] is the
// momentum buffer, s.initialized PyTorch's "momentum_buffer is not None".
inline void reference_step(const Hyper& h, ReferenceState& s, double grad) {
  double d = h.maximize ? -grad : grad;
  if (h.weight_decay != 0) d = d + h.weight_decay * s.p;
  if (h.momentum != 0) {
    if (!s.initialized) {
      s.s[0] = d;  // torch.clone(grad).detach()
      s.initialized = true;
    } else {
      s.s[0] = s.s[0] * h.momentum + (1.0 - h.dampening) * d;
    }
    d = h.nesterov ? d + h.momentum * s.s[0] : s.s[0];
  }
  s.p = s.p - h.lr * d;
}

// With |g| < 1 and |p| = O(1): |d| <= 1 + 2 wd, |b| <= |d| / (1 - mu), |direction| <= |d| + mu |b| + |b|.
inline ErrorBounds error_bounds(const Hyper& h) {
  ErrorBounds e;
  const double grad_bound = 1.0 + h.weight_decay * 2.0;
  const double buf_bound = h.has_momentum() ? grad_bound / (1.0 - h.momentum) : 0.0;
  e.step = h.lr * (grad_bound + h.momentum * buf_bound + buf_bound);
  e.state[0] = buf_bound;
  return e;
}

}  // namespace nagbench::sgd
