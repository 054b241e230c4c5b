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

namespace {

// Fields every record of a configuration carries, whatever the benchmark.
nlohmann::json common_fields(const Config& cfg, const ProcessInfo& proc, const char* benchmark,
                             const DeviceInfo& device) {
  return {{"schema_version", kSchemaVersion},
          {"benchmark", benchmark},
          {"tag", cfg.tag},
          {"model", cfg.model.name},
          {"variant", cfg.variant},
          {"dtype", cfg.dtype},
          {"backend", cfg.backend},
          {"device", device.name},
          {"ranks", proc.size},
          {"hyper", to_json(cfg.hyper)},
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

}  // namespace

nlohmann::json update_record(const Config& cfg, const ProcessInfo& proc, const UpdateRunResult& r) {
  nlohmann::json j = common_fields(cfg, proc, "update", r.device);
  j.update({{"params", r.params},
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
            {"params_hash", r.verify.params_hash},
            {"gradient_median_s", r.gradient_s.median},
            {"roof",
             {{"bytes_per_array", r.roof.bytes_per_array},
              {"reps", r.roof.reps},
              {"copy_kernel_GBps", r.roof.copy_kernel_GBps},
              {"copy_library_GBps", r.roof.copy_library_GBps},
              {"roof_from", r.roof.roof_from}}},
            {"verification", verification_json(r.verify)},
            {"arena_bytes", r.arena_bytes}});
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

namespace {

nlohmann::json phase_json(const PhaseTiming& t) {
  if (!t.measured) return nullptr;
  return {{"median_s", t.ranks.slowest_median},
          {"rank_median_min_s", t.ranks.min_of_medians},
          {"rank_median_avg_s", t.ranks.avg_of_medians},
          {"rank_median_max_s", t.ranks.max_of_medians}};
}

nlohmann::json rank_details(const std::vector<std::string>& detail) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& d : detail)
    a.push_back(nlohmann::json::parse(d));
  return a;
}

double bus_factor(int ranks) {
  return ranks > 1 ? 2.0 * (ranks - 1) / ranks : 0.0;
}

}  // namespace

nlohmann::json dp_record(const Config& cfg, const ProcessInfo& proc, const DpRunResult& r) {
  const double step = r.total.ranks.slowest_median;
  const double upd = r.update.measured ? r.update.ranks.slowest_median : 0.0;
  const double eff =
      upd > 0 ? double(r.bytes_per_param) * double(r.params_updated_per_rank) / upd / 1e9 : 0.0;
  const double comm_s = r.comm.measured ? r.comm.ranks.slowest_median : 0.0;
  const double algbw = comm_s > 0 ? double(r.reduced_bytes) / comm_s / 1e9 : 0.0;
  const auto or_null = [](bool have, double v) { return have ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json j = common_fields(cfg, proc, "dp_step", r.device);
  j.update({{"ranks_per_node", proc.local_size},
            {"params", r.params},
            {"tensors", r.tensors},
            {"comm", r.comm_name},
            {"comm_path", r.comm_path},
            {"comm_library", r.comm_library},
            {"mode", cfg.shard ? "sharded" : "replicated"},
            {"overlap", cfg.overlap},
            {"comm_stream_priority", cfg.comm_high_priority ? "high" : "normal"},
            {"bucket_mb", cfg.bucket_mb},
            {"buckets", r.buckets},
            // The step time of a run is the slowest rank's median; min/max are that rank's extremes.
            {"median_s", step},
            {"min_s", r.total.this_rank.min},
            {"max_s", r.total.this_rank.max},
            {"reps", r.total.this_rank.count},
            {"phases",
             {{"gradient", phase_json(r.grad)},
              {"comm", phase_json(r.comm)},
              {"update", phase_json(r.update)},
              {"comm_update", phase_json(r.comm_update)},
              {"total", phase_json(r.total)}}},
            {"params_per_s", step > 0 ? double(r.params) / step : 0.0},
            {"params_per_s_per_rank", step > 0 ? double(r.params_updated_per_rank) / step : 0.0},
            {"params_per_s_aggregate", step > 0 ? double(r.params_updated_per_rank) * proc.size / step : 0.0},
            {"bytes_per_param", r.bytes_per_param},
            {"eff_GBps", or_null(upd > 0, eff)},
            {"copy_GBps", r.roof.copy_GBps},
            {"nstream_GBps", r.roof.nstream_GBps},
            {"roof_GBps", r.roof.roof_GBps},
            {"pct_of_roof", or_null(upd > 0, 100.0 * eff / r.roof.roof_GBps)},
            {"allreduce",
             {{"bytes", r.reduced_bytes},
              {"algbw_GBps", or_null(comm_s > 0, algbw)},
              {"busbw_GBps", or_null(comm_s > 0, algbw * bus_factor(proc.size))}}},
            {"verified", r.verify.passed && r.ranks_agree},
            {"ranks_agree", r.ranks_agree},
            {"params_hash", r.params_hash},
            {"verification", verification_json(r.verify)},
            {"memory_per_rank",
             {{"device_bytes", r.device_bytes_per_rank}, {"momentum_bytes", r.momentum_bytes_per_rank}}},
            {"rank_detail", rank_details(r.rank_detail)}});
  return j;
}

std::string dp_table(const Config& cfg, const ProcessInfo& proc, const DpRunResult& r) {
  std::ostringstream o;
  o << "nagbench dp_step | " << cfg.model.name << " (" << format_count(r.params) << " params) | " << cfg.dtype
    << " | " << proc.size << " ranks (" << proc.local_size << " per node) | " << cfg.backend << " on "
    << r.device.name << "\n";
  o << "comm " << r.comm_name << " (" << r.comm_path << (r.comm_library.empty() ? "" : ", " + r.comm_library)
    << ") | " << (cfg.shard ? "sharded" : "replicated") << " | overlap " << (cfg.overlap ? "on" : "off")
    << " | " << r.buckets << " buckets of <= " << format_fixed(cfg.bucket_mb, 1) << " MiB | variant "
    << cfg.variant
    << (cfg.backend == "cuda" && !cfg.comm_high_priority ? " | comm stream priority normal" : "") << "\n\n";
  o << "  phase (per step)   slowest median   rank medians min / avg / max\n";
  auto row = [&](const char* name, const PhaseTiming& t) {
    char buf[200];
    if (!t.measured)
      std::snprintf(buf, sizeof(buf), "  %-18s %14s   (overlapped: see comm+update)\n", name, "-");
    else
      std::snprintf(
          buf, sizeof(buf), "  %-18s %14s   %s / %s / %s\n", name,
          format_seconds(t.ranks.slowest_median).c_str(), format_seconds(t.ranks.min_of_medians).c_str(),
          format_seconds(t.ranks.avg_of_medians).c_str(), format_seconds(t.ranks.max_of_medians).c_str());
    o << buf;
  };
  row("gradient", r.grad);
  row("communication", r.comm);
  row("update", r.update);
  row("comm+update", r.comm_update);
  row("total", r.total);
  const double step = r.total.ranks.slowest_median;
  o << "\n  params/s: " << format_fixed(double(r.params_updated_per_rank) / step / 1e9, 3) << " G per rank, "
    << format_fixed(double(r.params_updated_per_rank) * proc.size / step / 1e9, 3) << " G aggregate";
  if (r.comm.measured && r.comm.ranks.slowest_median > 0) {
    const double algbw = double(r.reduced_bytes) / r.comm.ranks.slowest_median / 1e9;
    o << " | allreduce algbw " << format_fixed(algbw, 1) << " GB/s, busbw "
      << format_fixed(algbw * bus_factor(proc.size), 1) << " GB/s";
  }
  o << "\n  momentum per rank: " << format_bytes_binary(double(r.momentum_bytes_per_rank)) << "\n";
  o << "verified: " << (r.verify.passed && r.ranks_agree ? "yes" : "NO") << " (ranks "
    << (r.ranks_agree ? "bitwise identical" : "DISAGREE") << ", hash " << r.params_hash << "; reference "
    << r.verify.mode << ", " << format_count(r.verify.checked) << " params, worst "
    << format_fixed(r.verify.worst_ratio, 3) << " x tolerance)\n";
  return o.str();
}

nlohmann::json comm_only_record(const Config& cfg, const ProcessInfo& proc, const CommOnlyResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows) {
    auto side = [&](const PhaseTiming& t) {
      const double time = t.ranks.slowest_median;
      const double algbw = double(row.bytes) / time / 1e9;
      return nlohmann::json{{"time_s", time},
                            {"rank_time_min_s", t.ranks.min_of_medians},
                            {"rank_time_avg_s", t.ranks.avg_of_medians},
                            {"rank_time_max_s", t.ranks.max_of_medians},
                            {"algbw_GBps", algbw},
                            {"busbw_GBps", algbw * bus_factor(proc.size)}};
    };
    rows.push_back({{"bytes", row.bytes},
                    {"count", row.count},
                    {"type", "float"},
                    {"out_of_place", side(row.out_of_place)},
                    {"in_place", side(row.in_place)},
                    {"verified", row.verified}});
  }
  return {{"schema_version", kSchemaVersion},
          {"benchmark", "allreduce"},
          {"tag", cfg.tag},
          {"backend", cfg.backend},
          {"device", r.device.name},
          {"ranks", proc.size},
          {"ranks_per_node", proc.local_size},
          {"comm", r.comm_name},
          {"comm_path", r.comm_path},
          {"comm_library", r.comm_library},
          {"iters", cfg.comm_iters},
          {"reps", cfg.comm_reps},
          {"rows", rows},
          {"verified", r.verified},
          {"device_detail", to_json(r.device)},
          {"rank_detail", rank_details(r.rank_detail)},
          {"provenance", provenance(cfg, proc)}};
}

std::string comm_only_table(const Config& cfg, const ProcessInfo& proc, const CommOnlyResult& r) {
  std::ostringstream o;
  o << "nagbench allreduce | " << proc.size << " ranks | " << r.comm_name << " (" << r.comm_path
    << (r.comm_library.empty() ? "" : ", " + r.comm_library) << ") | " << cfg.backend << " on "
    << r.device.name << " | sum, float, " << cfg.comm_iters << " iters x " << cfg.comm_reps << " reps\n";
  o << "                          out-of-place                          in-place\n";
  o << "        size     count     time   algbw   busbw  min/max(us)      time   algbw   busbw  check\n";
  o << "         (B)              (us)  (GB/s)  (GB/s)                    (us)  (GB/s)  (GB/s)\n";
  for (const auto& row : r.rows) {
    auto cells = [&](const PhaseTiming& t, bool spread) {
      const double time = t.ranks.slowest_median;
      const double algbw = double(row.bytes) / time / 1e9;
      char buf[120];
      if (spread)
        std::snprintf(buf, sizeof(buf), " %9.1f %7.2f %7.2f %6.0f/%-6.0f", time * 1e6, algbw,
                      algbw * bus_factor(proc.size), t.ranks.min_of_medians * 1e6,
                      t.ranks.max_of_medians * 1e6);
      else
        std::snprintf(buf, sizeof(buf), " %9.1f %7.2f %7.2f", time * 1e6, algbw,
                      algbw * bus_factor(proc.size));
      return std::string(buf);
    };
    char head[64];
    std::snprintf(head, sizeof(head), "%12lld %9lld", static_cast<long long>(row.bytes),
                  static_cast<long long>(row.count));
    o << head << cells(row.out_of_place, true) << cells(row.in_place, false) << "  "
      << (row.verified ? "ok" : "FAIL") << "\n";
  }
  o << "verified: " << (r.verified ? "yes" : "NO")
    << " (every size, out of place and in place, exact sums)\n";
  return o.str();
}

}  // namespace nagbench
