#pragma once
// One run's configuration, validated on rank 0 and broadcast to the others as JSON, so ranks never disagree.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "nagbench/optim/hyper.hpp"
#include "nagbench/workload/model.hpp"

namespace nagbench {

struct Config {
  std::string backend;  // resolved name: "cuda", "openmp", "serial"
  ModelSpec model;
  std::string variant = "fused";
  std::string dtype = "fp32";
  SgdHyper hyper;
  int steps = 20;  // timed steps
  int warmup =
      3;  // untimed steps after the first (the first, which creates the momentum buffer, is never timed)
  uint64_t seed = 20261127;
  std::string verify = "auto";  // auto | full | sample | off
  double roof_mib = 0;          // per roof array; 0 = sized from the device's last-level cache
  int roof_reps = 20;
  std::string output;  // JSON record path; empty = none
  bool quiet = false;
  std::string command_line;
};

nlohmann::json to_json(const Config& c);
Config config_from_json(const nlohmann::json& j);

// Checks the values (not the backend's presence); throws InputError. Shared by the CLI and the tests.
void validate(const Config& c);

}  // namespace nagbench
