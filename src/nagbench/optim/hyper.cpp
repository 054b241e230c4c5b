#include "nagbench/optim/hyper.hpp"

#include <cmath>
#include <sstream>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"

namespace nagbench {

void SgdHyper::validate() const {
  auto finite = [](double v) { return std::isfinite(v); };
  if (!finite(lr) || lr < 0)
    throw InputError("invalid learning rate " + std::to_string(lr) + " (need lr >= 0)");
  if (!finite(momentum) || momentum < 0 || momentum >= 1)
    throw InputError("invalid momentum " + std::to_string(momentum) + " (need 0 <= momentum < 1)");
  if (!finite(dampening) || dampening < 0 || dampening > 1)
    throw InputError("invalid dampening " + std::to_string(dampening) + " (need 0 <= dampening <= 1)");
  if (!finite(weight_decay) || weight_decay < 0)
    throw InputError("invalid weight decay " + std::to_string(weight_decay) + " (need weight_decay >= 0)");
  // The same rule, and the same reason, as torch.optim.SGD.
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw InputError("Nesterov momentum requires a momentum > 0 and zero dampening (got momentum " +
                     std::to_string(momentum) + ", dampening " + std::to_string(dampening) + ")");
}

void SgdHyper::validate_in_compute_type(bool fp32_compute) const {
  if (!fp32_compute) return;  // validate() already required finite doubles
  const auto check = [](double v, const char* option) {
    const float f = static_cast<float>(v);
    if (!std::isfinite(f))
      throw InputError(std::string(option) + " " + shortest(v) +
                       " overflows fp32, the compute type of this --dtype (largest 3.4e38)");
    if (v != 0 && f == 0)
      throw InputError(std::string(option) + " " + shortest(v) +
                       " underflows to 0 in fp32, the compute type of this --dtype");
  };
  check(lr, "--lr");
  check(momentum, "--momentum");
  check(1.0 - dampening, "1 - --dampening");
  check(weight_decay, "--weight-decay");
}

std::string SgdHyper::describe() const {
  std::ostringstream s;
  s << (nesterov ? "nesterov" : (has_momentum() ? "momentum" : "sgd")) << " lr=" << lr
    << " momentum=" << momentum << " dampening=" << dampening << " weight_decay=" << weight_decay
    << (maximize ? " maximize" : "");
  return s.str();
}

}  // namespace nagbench
