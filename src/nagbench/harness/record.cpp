#include "nagbench/harness/record.hpp"

#include <Kokkos_Core.hpp>
#include <cstdlib>
#include <sstream>

#ifdef NAGBENCH_HAVE_MPI
#include <mpi.h>
#endif

#include "nagbench/core/format.hpp"
#include "nagbench/core/provenance.hpp"

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

nlohmann::json update_record(const Config& cfg, const ProcessInfo& proc, const UpdateRunResult& r) {
  const auto& h = cfg.hyper;
  nlohmann::json j = {
      {"schema_version", kSchemaVersion},
      {"benchmark", "update"},
      {"model", cfg.model.name},
      {"variant", cfg.variant},
      {"dtype", cfg.dtype},
      {"backend", cfg.backend},
      {"device", r.device.name},
      {"ranks", proc.size},
      {"params", r.params},
      {"tensors", r.tensors},
      {"median_s", r.update_s.median},
      {"min_s", r.update_s.min},
      {"max_s", r.update_s.max},
      {"mean_s", r.update_s.mean},
      {"reps", r.update_s.count},
      {"params_per_s", r.params_per_s},
      {"bytes_per_param", r.bytes_per_param},
      {"eff_GBps", r.eff_GBps},
      {"copy_GBps", r.roof.copy_GBps},
      {"nstream_GBps", r.roof.nstream_GBps},
      {"roof_GBps", r.roof.roof_GBps},
      {"pct_of_roof", r.pct_of_roof},
      {"suspect", r.suspect},
      {"verified", r.verify.passed},
      {"gradient_median_s", r.gradient_s.median},
      {"roof",
       {{"bytes_per_array", r.roof.bytes_per_array},
        {"reps", r.roof.reps},
        {"copy_kernel_GBps", r.roof.copy_kernel_GBps},
        {"copy_library_GBps", r.roof.copy_library_GBps},
        {"roof_from", r.roof.roof_from}}},
      {"verification",
       {{"mode", r.verify.mode},
        {"checked", r.verify.checked},
        {"mismatches", r.verify.mismatches},
        {"worst_error_over_tolerance", r.verify.worst_ratio},
        {"worst_index", r.verify.worst_index},
        {"worst_array", r.verify.worst_what}}},
      {"hyper",
       {{"lr", h.lr},
        {"momentum", h.momentum},
        {"dampening", h.dampening},
        {"weight_decay", h.weight_decay},
        {"nesterov", h.nesterov},
        {"maximize", h.maximize}}},
      {"steps", {{"first", 1}, {"warmup", cfg.warmup}, {"timed", cfg.steps}}},
      {"seed", cfg.seed},
      {"model_source", cfg.model.source},
      {"arena_bytes", r.arena_bytes},
      {"device_detail", to_json(r.device)},
      {"provenance", provenance(cfg, proc)},
  };
  return j;
}

std::string update_table(const Config& cfg, const UpdateRunResult& r) {
  std::ostringstream o;
  const auto& d = r.device;
  o << "nagbench update | " << cfg.model.name << " (" << format_count(r.params) << " params, " << r.tensors
    << " tensors) | " << cfg.dtype << " | variant " << cfg.variant << "\n";
  o << "backend " << cfg.backend << " on " << d.name;
  if (d.kind == "gpu")
    o << " [" << d.uuid << "]";
  else
    o << " (" << d.threads << " threads)";
  o << " | Kokkos " << kokkos_version_string() << " | " << cfg.hyper.describe() << "\n";
  o << "roof: copy " << format_fixed(r.roof.copy_GBps, 1) << " GB/s, nstream "
    << format_fixed(r.roof.nstream_GBps, 1) << " GB/s -> roof " << format_fixed(r.roof.roof_GBps, 1)
    << " GB/s (" << r.roof.roof_from << ", 3 x " << format_bytes_binary(double(r.roof.bytes_per_array))
    << ")\n\n";
  o << "  metric              median        min        max\n";
  auto row = [&](const char* name, double med, double mn, double mx, bool time) {
    char buf[160];
    if (time)
      std::snprintf(buf, sizeof(buf), "  %-16s %10s %10s %10s\n", name, format_seconds(med).c_str(),
                    format_seconds(mn).c_str(), format_seconds(mx).c_str());
    else
      std::snprintf(buf, sizeof(buf), "  %-16s %10.4g %10.4g %10.4g\n", name, med, mn, mx);
    o << buf;
  };
  const double bytes = double(r.bytes_per_param) * double(r.params);
  row("update time", r.update_s.median, r.update_s.min, r.update_s.max, true);
  row("params/s", r.params_per_s, double(r.params) / r.update_s.max, double(r.params) / r.update_s.min,
      false);
  row("eff GB/s", r.eff_GBps, bytes / r.update_s.max / 1e9, bytes / r.update_s.min / 1e9, false);
  o << "\n  " << format_fixed(r.pct_of_roof, 1) << "% of roof (" << r.bytes_per_param << " B/param, "
    << r.update_s.count << " timed steps; gradient production " << format_seconds(r.gradient_s.median)
    << " per step, not counted)";
  if (r.suspect) o << "  ** SUSPECT: above 105% of the roof **";
  o << "\n";
  if (r.verify.mode == "off") {
    o << "verified: no (--verify off)\n";
  } else {
    o << "verified: " << (r.verify.passed ? "yes" : "NO") << " (" << r.verify.mode << ", "
      << format_count(r.verify.checked) << " params, worst error " << format_fixed(r.verify.worst_ratio, 3)
      << " x tolerance";
    if (!r.verify.passed)
      o << "; " << format_count(r.verify.mismatches) << " mismatches, e.g. " << r.verify.worst_what << "["
        << r.verify.worst_index << "] = " << r.verify.worst_got << ", want " << r.verify.worst_want;
    o << ")\n";
  }
  return o.str();
}

}  // namespace nagbench
