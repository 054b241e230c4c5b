#include "nagbench/optim/sgd/hyper.hpp"

#include <cmath>
#include <sstream>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"

namespace nagbench::sgd {

void Hyper::validate() const {
  auto finite = [](double v) { return std::isfinite(v); };
  if (!finite(lr) || lr < 0) throw InputError("invalid learning rate " + shortest(lr) + " (need lr >= 0)");
  if (!finite(momentum) || momentum < 0 || momentum >= 1)
    throw InputError("invalid momentum " + shortest(momentum) + " (need 0 <= momentum < 1)");
  if (!finite(dampening) || dampening < 0 || dampening > 1)
    throw InputError("invalid dampening " + shortest(dampening) + " (need 0 <= dampening <= 1)");
  if (!finite(weight_decay) || weight_decay < 0)
    throw InputError("invalid weight decay " + shortest(weight_decay) + " (need weight_decay >= 0)");
  // The same rule, and the same reason, as torch.optim.SGD.
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw InputError("Nesterov momentum requires a momentum > 0 and zero dampening (got momentum " +
                     shortest(momentum) + ", dampening " + shortest(dampening) + ")");
}

void Hyper::validate_in_compute_type(bool fp32_compute) const {
  if (!fp32_compute) return;  // validate() already required finite doubles
  const auto check = [](double v, const char* option) {
    const float f = static_cast<float>(v);
    if (!std::isfinite(f))
      throw InputError(std::string(option) + " " + shortest(v) +
                       " overflows fp32, the compute type of this --dtype (largest 3.4e38)");
    if (v != 0 && f == 0)
      throw InputError(std::string(option) + " " + shortest(v) + " underflows to 0 in fp32, the compute type of this --dtype");
  };
  check(lr, "--lr");
  check(momentum, "--momentum");
  check(1.0 - dampening, "1 - --dampening");
  check(weight_decay, "--weight-decay");
}

std::string Hyper::describe() const {
  std::ostringstream s;
  s << (nesterov ? "nesterov" : (has_momentum() ? "momentum" : "sgd")) << " lr=" << lr << " momentum=" << momentum
    << " dampening=" << dampening << " weight_decay=" << weight_decay << (maximize ? " maximize" : "");
  return s.str();
}

nlohmann::json Hyper::to_json() const {
  return {{"lr", lr},
          {"momentum", momentum},
          {"dampening", dampening},
          {"weight_decay", weight_decay},
          {"nesterov", nesterov},
          {"maximize", maximize}};
}

Hyper Hyper::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("sgd hyper-parameters must be an object");
  Hyper h;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto number = [&]() {
      if (!it.value().is_number()) throw InputError("sgd hyper-parameter '" + k + "' must be a number");
      return it.value().get<double>();
    };
    const auto boolean = [&]() {
      if (!it.value().is_boolean()) throw InputError("sgd hyper-parameter '" + k + "' must be true or false");
      return it.value().get<bool>();
    };
    if (k == "lr")
      h.lr = number();
    else if (k == "momentum")
      h.momentum = number();
    else if (k == "dampening")
      h.dampening = number();
    else if (k == "weight_decay")
      h.weight_decay = number();
    else if (k == "nesterov")
      h.nesterov = boolean();
    else if (k == "maximize")
      h.maximize = boolean();
    else
      throw InputError("sgd has no hyper-parameter '" + k + "'");
  }
  return h;
}

std::vector<HyperParam> Hyper::params() {
  const Hyper d;
  return {{"lr", "--lr", "Learning rate", d.lr},
          {"momentum", "--momentum", "Momentum, 0 <= mu < 1", d.momentum},
          {"dampening", "--dampening", "Dampening (must be 0 with Nesterov)", d.dampening},
          {"weight_decay", "--weight-decay", "L2 weight decay", d.weight_decay},
          {"nesterov", "--nesterov", "Nesterov momentum (default on)", d.nesterov, "--no-nesterov"},
          {"maximize", "--maximize", "Maximize the objective (negate the gradient)", d.maximize}};
}

}  // namespace nagbench::sgd
