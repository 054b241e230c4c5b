#pragma once
// Run kind "dp": the data-parallel step. Each rank produces its gradients, the buckets are reduced across
// ranks (comm/), and the update runs replicated or sharded, overlapped with the reductions or not; every
// phase is timed per rank and across ranks, and the result checked against the float64 replay of every rank's
// gradients.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/comm/buckets.hpp"
#include "nagbench/core/process.hpp"
#include "nagbench/harness/config.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/record_common.hpp"
#include "nagbench/harness/verify.hpp"
#include "nagbench/roof/stream.hpp"

namespace nagbench {

struct DpResult {
  DeviceInfo device;
  RoofResult roof;
  std::string comm_name, comm_path, comm_library, rule_description;
  int64_t params = 0, tensors = 0, arena_length = 0, buckets = 0;
  int graphs_captured = 0;              // --launch graph: one per step parity
  int64_t params_updated_per_rank = 0;  // the model (replicated) or this rank's shards (sharded)
  int64_t state_bytes_per_rank = 0, device_bytes_per_rank = 0;
  int bytes_per_param = 0;
  PhaseTiming grad, comm, update, comm_update, total;
  int64_t reduced_bytes = 0;  // gradient bytes each rank contributes per step
  VerifyResult verify;
  bool ranks_agree = false;
  std::string params_hash;
  std::vector<std::string> rank_detail;  // JSON objects, one per rank (rank 0 only)
  // --timeline (step_timeline.hpp): every rank's marks at rank 0 (an array in rank order), this rank's own
  // elsewhere; null without --timeline. The summary is of this rank's own.
  nlohmann::json timeline;
  std::string timeline_summary;
};

// What one rank's timeline (StepTimeline::read) says, in two lines for the table: per bucket the comm
// instance's time on its reduction (from the previous bucket's reduction, or the gradients, to its end),
// p2p's handshake, the update (from its reduction, or the previous update, to its end); and how long the
// update instance waited for reductions.
std::string dp_timeline_summary(const nlohmann::json& rank_timeline);

nlohmann::json dp_record(const Config& cfg, const ProcessInfo& proc, const DpResult& r);
std::string dp_table(const Config& cfg, const ProcessInfo& proc, const DpResult& r);

// The roof measured once per process and backend, reused by every configuration of a launch.
const RoofResult& roof_for(const std::string& backend, const std::function<RoofResult()>& measure);

// Bucket length in elements for --bucket-mb MiB of `elem_bytes`-byte gradients (at least one element).
int64_t bucket_elements(double bucket_mb, int64_t elem_bytes);

// The bucket plan of a data-parallel configuration (dp and train runs): buckets of --bucket-mb, the first one
// --first-bucket-mb when given, for `elem_bytes`-byte gradients.
BucketPlan plan_buckets(const ArenaLayout& arena, int ranks, const Config& cfg, int64_t elem_bytes);

// Checks --bucket-mb and --first-bucket-mb (InputError naming the option).
void check_bucket_options(const Config& cfg);

}  // namespace nagbench
