#pragma once
// Hyper-parameters of Polyak's heavy ball: the learning rate and the momentum coefficient beta.
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::heavy_ball {

struct Hyper {
  double lr = 0.01;
  double beta = 0.9;

  // Throws InputError for a negative or non-finite learning rate and for beta outside [0, 1).
  void validate() const;
  // Throws InputError when a value overflows (or a nonzero one underflows to zero) in fp32, the compute type
  // of every layout but fp64 (`fp32_compute`).
  void validate_in_compute_type(bool fp32_compute) const;
  std::string describe() const;  // "lr=0.01 beta=0.9" (tables print the rule's name before it)
  nlohmann::json to_json() const;
  // Throws InputError naming a key of the wrong type or a key heavy_ball does not have.
  static Hyper from_json(const nlohmann::json& j);
  static std::vector<HyperParam> params();
};

inline void Hyper::validate() const {
  if (!std::isfinite(lr) || lr < 0) throw InputError("invalid --lr " + shortest(lr) + " (need lr >= 0)");
  if (!std::isfinite(beta) || beta < 0 || beta >= 1)
    throw InputError("invalid --beta " + shortest(beta) + " (need 0 <= beta < 1)");
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
  check(beta, "--beta");
}

inline std::string Hyper::describe() const {
  std::ostringstream s;
  s << "lr=" << lr << " beta=" << beta;
  return s.str();
}

inline nlohmann::json Hyper::to_json() const {
  return {{"lr", lr}, {"beta", beta}};
}

inline Hyper Hyper::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("heavy_ball hyper-parameters must be an object");
  Hyper h;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto number = [&]() {
      if (!it.value().is_number())
        throw InputError("heavy_ball hyper-parameter '" + k + "' must be a number");
      return it.value().get<double>();
    };
    if (k == "lr")
      h.lr = number();
    else if (k == "beta")
      h.beta = number();
    else
      throw InputError("heavy_ball has no hyper-parameter '" + k + "'");
  }
  return h;
}

inline std::vector<HyperParam> Hyper::params() {
  const Hyper d;
  return {{"lr", "--lr", "Learning rate", d.lr},
          {"beta", "--beta", "Momentum coefficient beta (heavy_ball, nesterov1983), 0 <= beta < 1", d.beta}};
}

}  // namespace nagbench::heavy_ball
