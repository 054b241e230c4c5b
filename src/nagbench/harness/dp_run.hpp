#pragma once
// The data-parallel Nesterov step (mode dp) and the allreduce sweep (mode comm_only).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nagbench/core/stats.hpp"
#include "nagbench/harness/config.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/progress.hpp"
#include "nagbench/harness/runtime.hpp"
#include "nagbench/harness/verify.hpp"
#include "nagbench/roof/stream.hpp"

namespace nagbench {

// One phase of the step: this rank's repetitions, and the spread of every rank's median.
struct PhaseTiming {
  bool measured = false;  // comm and update are not separable when they overlap
  Summary this_rank;
  RankSpread ranks;
};

struct DpRunResult {
  DeviceInfo device;
  RoofResult roof;
  std::string comm_name, comm_path, comm_library;
  int64_t params = 0, tensors = 0, arena_length = 0, buckets = 0;
  int64_t params_updated_per_rank = 0;  // the model (replicated) or this rank's shards (sharded)
  int64_t momentum_bytes_per_rank = 0, device_bytes_per_rank = 0;
  int bytes_per_param = 0;
  PhaseTiming grad, comm, update, comm_update, total;
  int64_t reduced_bytes = 0;  // gradient bytes each rank contributes per step
  VerifyResult verify;
  bool ranks_agree = false;
  std::string params_hash;
  std::vector<std::string> rank_detail;  // JSON objects, one per rank (rank 0 only)
};

// Measured once per process and backend, reused by every configuration of a launch.
const RoofResult& roof_for(const std::string& backend, const std::function<RoofResult()>& measure);

template <class Exec>
DpRunResult run_dp(const Config& cfg, const ProcessInfo& proc, Progress& progress);

struct AllreduceRow {
  int64_t bytes = 0, count = 0;
  PhaseTiming out_of_place, in_place;  // seconds per allreduce
  bool verified = false;
};

struct CommOnlyResult {
  DeviceInfo device;
  std::string comm_name, comm_path, comm_library;
  std::vector<AllreduceRow> rows;
  bool verified = false;
  std::vector<std::string> rank_detail;
};

template <class Exec>
CommOnlyResult run_comm_only(const Config& cfg, const ProcessInfo& proc, Progress& progress);

// This rank's host, GPU and CPU binding as a JSON object string (gathered into the record).
std::string describe_rank(const ProcessInfo& proc, const DeviceInfo& dev);

}  // namespace nagbench
