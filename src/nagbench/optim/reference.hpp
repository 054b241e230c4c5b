#pragma once
// The float64 host reference of torch.optim.SGD, written apart from the kernels' rule (update_rule.hpp) and
// in PyTorch's own order (torch/optim/sgd.py, _single_tensor_sgd), so that a slip in one is caught by the
// other.
#include "nagbench/optim/hyper.hpp"

namespace nagbench {

struct ReferenceParam {
  double p = 0;
  double b = 0;        // momentum_buffer
  bool has_b = false;  // PyTorch's "momentum_buffer is None" on the first step
};

// One step for one parameter. `grad` is the (averaged) gradient as the optimizer receives it.
inline void reference_sgd_step(const SgdHyper& h, ReferenceParam& s, double grad) {
  double d = h.maximize ? -grad : grad;
  if (h.weight_decay != 0) d = d + h.weight_decay * s.p;
  if (h.momentum != 0) {
    if (!s.has_b) {
      s.b = d;  // torch.clone(grad).detach()
      s.has_b = true;
    } else {
      s.b = s.b * h.momentum + (1.0 - h.dampening) * d;
    }
    d = h.nesterov ? d + h.momentum * s.b : s.b;
  }
  s.p = s.p - h.lr * d;
}

}  // namespace nagbench
