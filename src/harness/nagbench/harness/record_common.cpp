#include "nagbench/harness/record_common.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#ifdef NAGBENCH_HAVE_MPI
#include <mpi.h>
#endif

#include "nagbench/core/format.hpp"
#include "nagbench/core/provenance.hpp"
#include "nagbench/harness/collectives.hpp"

namespace nagbench {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

std::string compiler_string() {
#if defined(__NVCC__)
  std::string s =
      "nvcc " + std::to_string(__CUDACC_VER_MAJOR__) + "." + std::to_string(__CUDACC_VER_MINOR__) + " with ";
#else
  std::string s;
#endif
#if defined(__clang__)
  s += "clang " __clang_version__;
#elif defined(__GNUC__)
  s += "g++ " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
       std::to_string(__GNUC_PATCHLEVEL__);
#endif
  return s + ", C++" + std::to_string(__cplusplus / 100 % 100);
}

}  // namespace

std::string kokkos_version_string() {
  const int v = KOKKOS_VERSION;
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

nlohmann::json provenance(const Config& cfg, const ProcessInfo& proc) {
  std::ostringstream kcfg;
  Kokkos::print_configuration(kcfg, false);
  nlohmann::json p = {{"git_commit", git_commit()},
                      {"git_dirty", git_dirty()},
                      {"kokkos_version", kokkos_version_string()},
                      {"kokkos_configuration", kcfg.str()},
                      {"compiler", compiler_string()},
                      {"hostname", host_name()},
                      {"timestamp_utc", utc_timestamp()},
                      {"command_line", cfg.command_line},
                      {"cpu_affinity", cpu_affinity_list()},
                      {"cpu_affinity_at_launch", launch_affinity()},
                      {"omp_num_threads", env_or("OMP_NUM_THREADS", "")},
                      {"omp_proc_bind", env_or("OMP_PROC_BIND", "")},
                      {"omp_places", env_or("OMP_PLACES", "")},
                      {"rank", proc.rank},
                      {"ranks", proc.size},
                      {"local_rank", proc.local_rank},
                      {"ranks_per_node", proc.local_size}};
#ifdef NAGBENCH_HAVE_MPI
  char lib[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(lib, &len);
  std::string libs(lib, static_cast<size_t>(len));
  while (!libs.empty() && (libs.back() == '\n' || libs.back() == '\0'))
    libs.pop_back();
  p["mpi_library"] = libs.substr(0, libs.find('\n'));
#endif
  return p;
}

nlohmann::json common_fields(const Config& cfg, const ProcessInfo& proc, const char* benchmark,
                             const DeviceInfo& device) {
  return {{"schema_version", kSchemaVersion},
          {"benchmark", benchmark},
          {"tag", cfg.tag},
          {"model", cfg.model.name},
          {"workload", cfg.workload},
          {"optimizer", cfg.optimizer},
          {"rule_mode", cfg.rule_mode},
          {"variant", cfg.variant},
          {"dtype", cfg.dtype},
          {"backend", cfg.backend},
          {"device", device.name},
          {"ranks", proc.size},
          {"hyper", cfg.hyper},
          {"steps", {{"first", 1}, {"warmup", cfg.warmup}, {"timed", cfg.steps}}},
          {"seed", cfg.seed},
          {"model_source", cfg.model.source},
          {"device_detail", to_json(device)},
          {"provenance", provenance(cfg, proc)}};
}

nlohmann::json verification_json(const VerifyResult& v) {
  return {{"mode", v.mode},
          {"checked", v.checked},
          {"mismatches", v.mismatches},
          {"worst_error_over_tolerance", v.worst_ratio},
          {"worst_index", v.worst_index},
          {"worst_array", v.worst_what}};
}

PhaseTiming phase_timing(const std::vector<double>& samples, const ProcessInfo& proc) {
  PhaseTiming t;
  t.measured = !samples.empty();
  const double median = t.measured ? summarize(samples).median : 0.0;
  if (t.measured) t.this_rank = summarize(samples);
  const auto medians = gather_to_root(median, proc);
  if (proc.rank == 0) t.ranks = spread_of_medians(medians);
  return t;
}

nlohmann::json phase_json(const PhaseTiming& t) {
  if (!t.measured) return nullptr;
  return {{"median_s", t.ranks.slowest_median},
          {"rank_median_min_s", t.ranks.min_of_medians},
          {"rank_median_avg_s", t.ranks.avg_of_medians},
          {"rank_median_max_s", t.ranks.max_of_medians}};
}

std::string describe_rank(const ProcessInfo& proc, const DeviceInfo& dev) {
  nlohmann::json j = {{"rank", proc.rank},       {"local_rank", proc.local_rank},
                      {"host", host_name()},     {"cpu_affinity", cpu_affinity_list()},
                      {"device_kind", dev.kind}, {"device_name", dev.name}};
  if (dev.kind == "gpu") {
    j["gpu_index"] = dev.index;
    j["gpu_uuid"] = dev.uuid;
    j["gpu_pci_bus_id"] = dev.pci_bus_id;
  }
  return j.dump();
}

nlohmann::json rank_details(const std::vector<std::string>& detail) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& d : detail)
    a.push_back(nlohmann::json::parse(d));
  return a;
}

std::string describe_failure(const VerifyResult& v) {
  char buf[320];
  std::snprintf(buf, sizeof(buf), "%s[%lld] = %.9g, reference %.9g (%lld of %lld checked outside tolerance)",
                v.worst_what.c_str(), static_cast<long long>(v.worst_index), v.worst_got, v.worst_want,
                static_cast<long long>(v.mismatches), static_cast<long long>(v.checked));
  return buf;
}

}  // namespace nagbench
