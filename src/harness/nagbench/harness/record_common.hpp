#pragma once
// What every record shares (schema in docs/metrics.md): the fields of a configuration, provenance, the
// verification block, per-phase timings across ranks and each rank's host and device. Each run kind adds its
// own fields in its folder (update/, dp/, allreduce/).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/process.hpp"
#include "nagbench/core/stats.hpp"
#include "nagbench/harness/config.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/verify.hpp"

namespace nagbench {

// 2: records gained tag, optimizer, rule_mode and workload (additions only; every field of 1 is there
// unchanged).
inline constexpr int kSchemaVersion = 2;

std::string kokkos_version_string();

// Where the run happened and with what: git, Kokkos, MPI, host, threads, command line, time.
nlohmann::json provenance(const Config& cfg, const ProcessInfo& proc);

// The fields every update or data-parallel record carries: schema, benchmark, tag, model, optimizer and its
// hyper-parameters, workload, variant, dtype, backend, device, ranks, steps, seed, provenance.
nlohmann::json common_fields(const Config& cfg, const ProcessInfo& proc, const char* benchmark,
                             const DeviceInfo& device);

nlohmann::json verification_json(const VerifyResult& v);

// One phase of a step: this rank's repetitions, and the spread of every rank's median.
struct PhaseTiming {
  bool measured = false;  // e.g. comm and update are not separable when they overlap
  Summary this_rank;
  RankSpread ranks;
};
// From this rank's samples, gathering every rank's median (collective: every rank calls it).
PhaseTiming phase_timing(const std::vector<double>& samples, const ProcessInfo& proc);
nlohmann::json phase_json(const PhaseTiming& t);  // null when not measured

// This rank's host, GPU and CPU binding as a JSON object string (gathered into the record).
std::string describe_rank(const ProcessInfo& proc, const DeviceInfo& dev);
nlohmann::json rank_details(const std::vector<std::string>& detail);

// "a[i] = x, reference y (n of m checked outside tolerance)": a failed check on one line.
std::string describe_failure(const VerifyResult& v);

}  // namespace nagbench
