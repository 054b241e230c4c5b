#pragma once
// The JSON record of a run (schema in docs/metrics.md) and the table printed on stdout.
#include <string>

#include <nlohmann/json.hpp>

#include "nagbench/harness/config.hpp"
#include "nagbench/harness/dp_run.hpp"
#include "nagbench/harness/runtime.hpp"
#include "nagbench/harness/update_run.hpp"

namespace nagbench {

inline constexpr int kSchemaVersion = 1;

// Where the run happened and with what: git, Kokkos, MPI, host, threads, command line, time.
nlohmann::json provenance(const Config& cfg, const ProcessInfo& proc);

nlohmann::json update_record(const Config& cfg, const ProcessInfo& proc, const UpdateRunResult& r);

std::string update_table(const Config& cfg, const UpdateRunResult& r);

nlohmann::json dp_record(const Config& cfg, const ProcessInfo& proc, const DpRunResult& r);
std::string dp_table(const Config& cfg, const ProcessInfo& proc, const DpRunResult& r);

nlohmann::json comm_only_record(const Config& cfg, const ProcessInfo& proc, const CommOnlyResult& r);
std::string comm_only_table(const Config& cfg, const ProcessInfo& proc, const CommOnlyResult& r);

std::string kokkos_version_string();

}  // namespace nagbench
