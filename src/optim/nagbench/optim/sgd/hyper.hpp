#pragma once
// Hyper-parameters of torch.optim.SGD (momentum, dampening, Nesterov, weight decay, maximize).
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::sgd {

struct Hyper {
  double lr = 0.01;
  double momentum = 0.9;
  double dampening = 0.0;
  double weight_decay = 1e-4;
  bool nesterov = true;
  bool maximize = false;

  bool has_momentum() const { return momentum != 0.0; }
  // Throws InputError for values torch.optim.SGD rejects, and for momentum >= 1 (a divergent buffer).
  void validate() const;
  // Throws InputError when a value that is finite in double overflows (or a nonzero one underflows to zero)
  // in the compute type the kernels use: `fp32_compute` for every layout but fp64.
  void validate_in_compute_type(bool fp32_compute) const;
  std::string describe() const;  // "nesterov lr=0.01 momentum=0.9 dampening=0 weight_decay=0.0001"
  nlohmann::json to_json() const;
  // Throws InputError naming a missing key, a key of the wrong type, or a key SGD does not have.
  static Hyper from_json(const nlohmann::json& j);
  static std::vector<HyperParam> params();
};

// Definitions (header-only, so that a rule is one folder and one registration line).

inline void Hyper::validate() const {
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

inline void Hyper::validate_in_compute_type(bool fp32_compute) const {
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

inline std::string Hyper::describe() const {
  std::ostringstream s;
  s << (nesterov ? "nesterov" : (has_momentum() ? "momentum" : "sgd")) << " lr=" << lr
    << " momentum=" << momentum << " dampening=" << dampening << " weight_decay=" << weight_decay
    << (maximize ? " maximize" : "");
  return s.str();
}

inline nlohmann::json Hyper::to_json() const {
  return {{"lr", lr},
          {"momentum", momentum},
          {"dampening", dampening},
          {"weight_decay", weight_decay},
          {"nesterov", nesterov},
          {"maximize", maximize}};
}

inline Hyper Hyper::from_json(const nlohmann::json& j) {
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

inline std::vector<HyperParam> Hyper::params() {
  const Hyper d;
  return {{"lr", "--lr", "Learning rate", d.lr},
          {"momentum", "--momentum", "Momentum, 0 <= mu < 1", d.momentum},
          {"dampening", "--dampening", "Dampening (must be 0 with Nesterov)", d.dampening},
          {"weight_decay", "--weight-decay", "L2 weight decay", d.weight_decay},
          {"nesterov", "--nesterov", "Nesterov momentum (default on)", d.nesterov, "--no-nesterov"},
          {"maximize", "--maximize", "Maximize the objective (negate the gradient)", d.maximize}};
}

}  // namespace nagbench::sgd
