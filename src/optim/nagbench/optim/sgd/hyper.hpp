#pragma once
// Hyper-parameters of torch.optim.SGD (momentum, dampening, Nesterov, weight decay, maximize).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
  // Throws InputError when a value that is finite in double overflows (or a nonzero one underflows to zero) in
  // the compute type the kernels use: `fp32_compute` for every layout but fp64.
  void validate_in_compute_type(bool fp32_compute) const;
  std::string describe() const;  // "nesterov lr=0.01 momentum=0.9 dampening=0 weight_decay=0.0001"
  nlohmann::json to_json() const;
  // Throws InputError naming a missing key, a key of the wrong type, or a key SGD does not have.
  static Hyper from_json(const nlohmann::json& j);
  static std::vector<HyperParam> params();
};

}  // namespace nagbench::sgd
