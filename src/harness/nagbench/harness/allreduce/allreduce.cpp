#include "nagbench/harness/allreduce/allreduce.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "nagbench/comm/registry.hpp"
#include "nagbench/core/backends.hpp"
#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/harness/metrics.hpp"
#include "nagbench/harness/run_kinds.hpp"

namespace nagbench {

void AllreduceRun::validate(const Config& c, int ranks) {
  if (c.comm == "none")
    throw InputError("--comm-only needs a communication backend other than none (--comm mpi or nccl)");
  if (c.mpi_path != "auto" && c.mpi_path != "staged" && c.mpi_path != "cuda-aware")
    throw InputError("--mpi-path must be auto, staged or cuda-aware (got '" + c.mpi_path + "')");
  CommRequest req;
  req.backend = c.backend;
  req.ranks = ranks;
  req.device_memory = backend_is_gpu(c.backend);
  req.mpi_path = c.mpi_path;
  req.run_kind = "allreduce";
  check_comm(c.comm, req);
  if (c.comm_sizes.empty()) throw InputError("--comm-only: no message sizes");
  for (auto b : c.comm_sizes)
    if (b < 4 || b > kMaxCommBytes)
      throw InputError("--comm-only message sizes must be between 4 B and 8 GiB (got " + std::to_string(b) +
                       ")");
  if (c.comm_iters <= 0 || c.comm_reps <= 0) throw InputError("--comm-iters and --comm-reps must be > 0");
  if (c.comm_iters > 1000000 || c.comm_reps > 10000)
    throw InputError("--comm-iters must be at most 1000000 and --comm-reps at most 10000");
}

int64_t AllreduceRun::memory_needed(const Config& cfg, const DeviceInfo&, int) {
  const int64_t largest = *std::max_element(cfg.comm_sizes.begin(), cfg.comm_sizes.end());
  return checked_mul(checked_add(largest, 4096, "the message buffers"), 2, "the message buffers");
}

nlohmann::json allreduce_record(const Config& cfg, const ProcessInfo& proc, const AllreduceResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows) {
    auto side = [&](const PhaseTiming& t) {
      const double time = t.ranks.slowest_median;
      const double algbw = algbw_GBps(row.bytes, time);
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

std::string allreduce_table(const Config& cfg, const ProcessInfo& proc, const AllreduceResult& r) {
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
      const double algbw = algbw_GBps(row.bytes, time);
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
