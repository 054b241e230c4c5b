#pragma once
// Run kind "allreduce" (--comm-only): a sum-allreduce sweep over message sizes, reported like nccl-tests
// (time, algbw, busbw; out of place and in place), every element of every size checked exactly.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/process.hpp"
#include "nagbench/harness/config.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/record_common.hpp"

namespace nagbench {

struct AllreduceRow {
  int64_t bytes = 0, count = 0;
  PhaseTiming out_of_place, in_place;  // seconds per allreduce
  bool verified = false;
};

struct AllreduceResult {
  DeviceInfo device;
  std::string comm_name, comm_path, comm_library;
  std::vector<AllreduceRow> rows;
  bool verified = false;
  std::vector<std::string> rank_detail;
};

nlohmann::json allreduce_record(const Config& cfg, const ProcessInfo& proc, const AllreduceResult& r);
std::string allreduce_table(const Config& cfg, const ProcessInfo& proc, const AllreduceResult& r);

}  // namespace nagbench
