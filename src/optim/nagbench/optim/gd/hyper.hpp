#pragma once
// Hyper-parameters of plain gradient descent: the learning rate.
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::gd {

struct Hyper {
  double lr = 0.01;

  // Throws InputError for a negative or non-finite learning rate.
  void validate() const;
  // Throws InputError when lr overflows (or a nonzero one underflows to zero) in fp32, the compute type of
  // every layout but fp64 (`fp32_compute`).
  void validate_in_compute_type(bool fp32_compute) const;
  std::string describe() const;  // "lr=0.01" (tables print the rule's name before it)
  nlohmann::json to_json() const;
  // Throws InputError naming a key of the wrong type or a key gd does not have.
  static Hyper from_json(const nlohmann::json& j);
  static std::vector<HyperParam> params();
};

inline void Hyper::validate() const {
  if (!std::isfinite(lr) || lr < 0) throw InputError("invalid --lr " + shortest(lr) + " (need lr >= 0)");
}

inline void Hyper::validate_in_compute_type(bool fp32_compute) const {
  if (!fp32_compute) return;  // validate() already required finite doubles
  const float f = static_cast<float>(lr);
  if (!std::isfinite(f))
    throw InputError("--lr " + shortest(lr) +
                     " overflows fp32, the compute type of this --dtype (largest 3.4e38)");
  if (lr != 0 && f == 0)
    throw InputError("--lr " + shortest(lr) + " underflows to 0 in fp32, the compute type of this --dtype");
}

inline std::string Hyper::describe() const {
  std::ostringstream s;
  s << "lr=" << lr;
  return s.str();
}

inline nlohmann::json Hyper::to_json() const {
  return {{"lr", lr}};
}

inline Hyper Hyper::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("gd hyper-parameters must be an object");
  Hyper h;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k != "lr") throw InputError("gd has no hyper-parameter '" + k + "'");
    if (!it.value().is_number()) throw InputError("gd hyper-parameter '" + k + "' must be a number");
    h.lr = it.value().get<double>();
  }
  return h;
}

inline std::vector<HyperParam> Hyper::params() {
  const Hyper d;
  return {{"lr", "--lr", "Learning rate", d.lr}};
}

}  // namespace nagbench::gd
