#pragma once
// The single-rank update benchmark: roof probe, workload, timed Nesterov steps, correctness check.
#include <cstdint>
#include <string>

#include "nagbench/core/stats.hpp"
#include "nagbench/harness/config.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/progress.hpp"
#include "nagbench/harness/runtime.hpp"
#include "nagbench/harness/verify.hpp"
#include "nagbench/roof/stream.hpp"

namespace nagbench {

struct UpdateRunResult {
  DeviceInfo device;
  RoofResult roof;
  Summary update_s;    // per timed step
  Summary gradient_s;  // the synthetic gradient production, timed apart
  int64_t params = 0, tensors = 0, arena_bytes = 0;
  int bytes_per_param = 0;  // from kMinBytesPerParam
  double params_per_s = 0, eff_GBps = 0, pct_of_roof = 0;
  bool suspect = false;  // above 105% of the roof: something is not counted right
  VerifyResult verify;   // its params_hash: the final parameters' bits, comparable with dp_step runs
};

// Bytes per roof array: --roof-mib, else past the last-level cache by a wide margin (CPUs: 4x, clamped to
// 256 MiB .. 1 GiB; GPUs: 1 GiB, or 8x a larger L2), within a quarter of the available memory over 3 arrays.
// Bytes written between producing gradients and the timed update, to push them out of the last-level cache:
// 4x the cache, at least 64 MiB, at most 1 GiB.
int64_t eviction_bytes(const DeviceInfo& dev);
int64_t roof_bytes_per_array(const Config& cfg, const DeviceInfo& dev);

// Throws InputError when the run cannot fit in the device's memory; says how much it needs either way.
void check_memory_fits(int64_t need_bytes, const DeviceInfo& dev, Progress& progress);

template <class Exec>
UpdateRunResult run_update(const Config& cfg, const ProcessInfo& proc, Progress& progress);

}  // namespace nagbench

namespace nagbench {

// Device (or host) bytes configuration `cfg` needs per rank, roof arrays included, in checked arithmetic (an
// overflow is an InputError). Used to refuse every configuration of a launch before any of them runs.
int64_t memory_needed(const Config& cfg, const DeviceInfo& dev, int ranks);

}  // namespace nagbench
