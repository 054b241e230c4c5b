#pragma once
// Hyper-parameters of Nesterov's 1983 accelerated gradient: the learning rate, and the momentum coefficient:
// a constant beta, or the t_k schedule (`schedule`).
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/optim/optimizer.hpp"

namespace nagbench::nesterov1983 {

struct Hyper {
  double lr = 0.01;
  // beta_k = beta on every step; for a mu-strongly convex, L-smooth objective (kappa = L / mu, lr = 1/L) the
  // choice of theory is (sqrt(kappa) - 1) / (sqrt(kappa) + 1), the user's to give.
  double beta = 0.9;
  // beta_k from t_0 = 1, t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2, beta_k = (t_k - 1) / t_{k+1} (beta unused).
  bool schedule = false;

  // Throws InputError for a negative or non-finite learning rate and for beta outside [0, 1).
  void validate() const;
  // Throws InputError when a value overflows (or a nonzero one underflows to zero) in fp32, the compute type
  // of every layout but fp64 (`fp32_compute`).
  void validate_in_compute_type(bool fp32_compute) const;
  std::string describe() const;  // "lr=0.1 beta=0.9" or "lr=0.1 t_k schedule"
  nlohmann::json to_json() const;
  // Throws InputError naming a key of the wrong type or a key nesterov1983 does not have.
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
  if (!schedule) check(beta, "--beta");
}

inline std::string Hyper::describe() const {
  std::ostringstream s;
  s << "lr=" << lr;
  if (schedule)
    s << " t_k schedule";
  else
    s << " beta=" << beta;
  return s.str();
}

inline nlohmann::json Hyper::to_json() const {
  return {{"lr", lr}, {"beta", beta}, {"schedule", schedule}};
}

inline Hyper Hyper::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("nesterov1983 hyper-parameters must be an object");
  Hyper h;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto number = [&]() {
      if (!it.value().is_number())
        throw InputError("nesterov1983 hyper-parameter '" + k + "' must be a number");
      return it.value().get<double>();
    };
    if (k == "lr") {
      h.lr = number();
    } else if (k == "beta") {
      h.beta = number();
    } else if (k == "schedule") {
      if (!it.value().is_boolean())
        throw InputError("nesterov1983 hyper-parameter '" + k + "' must be true or false");
      h.schedule = it.value().get<bool>();
    } else {
      throw InputError("nesterov1983 has no hyper-parameter '" + k + "'");
    }
  }
  return h;
}

inline std::vector<HyperParam> Hyper::params() {
  const Hyper d;
  return {
      {"lr", "--lr", "Learning rate", d.lr},
      {"beta", "--beta", "Momentum coefficient beta (heavy_ball, nesterov1983), 0 <= beta < 1", d.beta},
      {"schedule", "--schedule",
       "nesterov1983: beta_k from the t_k schedule, t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2, instead of --beta",
       d.schedule}};
}

}  // namespace nagbench::nesterov1983
