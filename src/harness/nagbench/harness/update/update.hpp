#pragma once
// Run kind "update": one rank's update kernel (a variant of a rule on a dtype layout) timed step by step
// against the memory roof of the same device measured in the same run, then checked against the float64
// replay.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "nagbench/core/process.hpp"
#include "nagbench/core/stats.hpp"
#include "nagbench/harness/config.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/verify.hpp"
#include "nagbench/roof/stream.hpp"

namespace nagbench {

struct UpdateResult {
  DeviceInfo device;
  RoofResult roof;
  Summary update_s;    // per timed step
  Summary gradient_s;  // the workload's gradient production, timed apart
  int64_t params = 0, tensors = 0, arena_bytes = 0;
  int64_t evict_bytes = 0;  // written before each step's update (sizing.hpp); 0: warm caches
  int bytes_per_param = 0;  // from the bytes table (optim/bytes.hpp)
  std::string rule_description;
  double params_per_s = 0, eff_GBps = 0, pct_of_roof = 0;
  bool suspect = false;  // above 105% of the roof: something is not counted right
  VerifyResult verify;   // its params_hash: the final parameters' bits, comparable with dp_step runs
};

nlohmann::json update_record(const Config& cfg, const ProcessInfo& proc, const UpdateResult& r);
std::string update_table(const Config& cfg, const UpdateResult& r);

}  // namespace nagbench
