#include "nagbench/harness/dp/dp.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "nagbench/comm/registry.hpp"
#include "nagbench/core/backends.hpp"
#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/core/stats.hpp"
#include "nagbench/harness/metrics.hpp"
#include "nagbench/harness/rule_checks.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/sizing.hpp"
#include "nagbench/optim/dtype.hpp"

namespace nagbench {

void DpRun::validate(const Config& c, int ranks) {
  validate_rule_configuration(c, ranks);
  const DtypeLayout d = parse_dtype(c.dtype);
  if (c.mpi_path != "auto" && c.mpi_path != "staged" && c.mpi_path != "cuda-aware")
    throw InputError("--mpi-path must be auto, staged or cuda-aware (got '" + c.mpi_path + "')");
  CommRequest req;
  req.backend = c.backend;
  req.ranks = ranks;
  req.device_memory = backend_is_gpu(c.backend);
  req.mpi_path = c.mpi_path;
  req.sharded = c.shard;
  req.graph = c.launch == "graph";
  check_comm(c.comm, req);
  if (d != DtypeLayout::fp32 && d != DtypeLayout::fp64)
    throw InputError("data-parallel runs support --dtype fp32 and fp64 (got " + c.dtype + ")");
  check_bucket_options(c);
  // Kokkos Kernels 3.4's BLAS-1 calls run on the default CUDA stream, outside the step's stream ordering.
  if (c.variant == "unfused" && c.backend == "cuda")
    throw InputError(
        "variant unfused cannot run data-parallel on CUDA (its BLAS calls ignore the step's streams)");
  if (c.launch == "graph") {
    // The graph holds the reductions and updates of one step after its gradients (dp_impl.hpp): the
    // overlap-off step times them apart, with host waits between.
    if (!c.overlap)
      throw InputError(
          "--launch graph: data-parallel steps are replayed with --overlap on only (overlap off "
          "times the reductions and the updates apart)");
    check_rule_replayable(c);
    if (c.timeline)
      throw InputError(
          "--timeline times one more step launched directly: run --launch graph configurations without it");
  }
}

int64_t bucket_elements(double bucket_mb, int64_t elem_bytes) {
  return std::max<int64_t>(1, static_cast<int64_t>(bucket_mb * 1048576.0 / double(elem_bytes)));
}

BucketPlan plan_buckets(const ArenaLayout& arena, int ranks, const Config& cfg, int64_t elem_bytes) {
  const int64_t first = cfg.first_bucket_mb > 0 ? bucket_elements(cfg.first_bucket_mb, elem_bytes) : 0;
  return BucketPlan::make(arena, ranks, bucket_elements(cfg.bucket_mb, elem_bytes), kMaxBuckets, first);
}

void check_bucket_options(const Config& c) {
  checked_range(c.bucket_mb, kMinBucketMib, kMaxBucketMib, "--bucket-mb");
  if (c.first_bucket_mb != 0)
    checked_range(c.first_bucket_mb, kMinBucketMib, kMaxBucketMib, "--first-bucket-mb");
}

int64_t DpRun::memory_needed(const Config& cfg, const DeviceInfo& dev, int ranks) {
  const auto sum = [](int64_t a, int64_t b) { return checked_add(a, b, "the memory this run needs"); };
  const int64_t roof = checked_mul(roof_bytes_per_array(cfg, dev), 3, "the roof arrays");
  const int64_t elem = parse_dtype(cfg.dtype) == DtypeLayout::fp64 ? 8 : 4;
  // Parameters and gradients padded to the bucket plan; state arrays whole or this rank's shards.
  const BucketPlan plan = plan_buckets(configuration_arena(cfg), ranks, cfg, elem);
  const int64_t length = plan.arena.length;
  const int64_t state_length = cfg.shard ? plan.shard_total() : length;
  const int64_t states = checked_mul(state_length, configuration_states(cfg), "the state arrays");
  return sum(checked_mul(sum(checked_mul(length, 2, "the arenas"), states), elem, "the arenas"), roof);
}

const RoofResult& roof_for(const std::string& backend, const std::function<RoofResult()>& measure) {
  static std::map<std::string, RoofResult> cache;
  auto it = cache.find(backend);
  if (it == cache.end()) it = cache.emplace(backend, measure()).first;
  return it->second;
}

std::string dp_timeline_summary(const nlohmann::json& t) {
  const auto at = [](const nlohmann::json& b, const char* key) {
    const auto& v = b.at(key);
    return v.is_null() ? std::nan("") : v.get<double>();
  };
  const double gradients = t.at("gradients_s").get<double>();
  std::vector<double> reduction, handshake, update, reduced_lag, updated_lag;
  double waited = 0, previous_reduced = gradients;
  // Per update instance (--update-streams; timelines before it had one): its last update's end.
  const int streams = t.value("update_streams", 1);
  std::vector<double> previous_updated(size_t(std::max(streams, 1)), gradients);
  for (const auto& b : t.at("buckets")) {
    const double reduced = at(b, "reduced_s"), updated = at(b, "updated_s");
    double& before = previous_updated[size_t(b.value("update_stream", 0)) % previous_updated.size()];
    reduction.push_back(reduced - previous_reduced);
    if (!b.at("handshake_s").is_null()) handshake.push_back(reduced - at(b, "handshake_s"));
    update.push_back(updated - std::max(reduced, before));
    waited += std::max(0.0, reduced - before);
    reduced_lag.push_back(reduced - at(b, "reduced_enqueued_s"));
    updated_lag.push_back(updated - at(b, "updated_enqueued_s"));
    previous_reduced = std::max(reduced, gradients);
    before = updated;
  }
  const auto spread = [](const std::vector<double>& v) {
    const Summary x = summarize(v);
    return format_seconds(x.median) + " (" + format_seconds(x.min) + " .. " + format_seconds(x.max) + ")";
  };
  std::string out =
      "timeline of one more, untimed step (this rank; GPUs: device clock): gradients ready at " +
      format_seconds(gradients) + ", last update done at " +
      format_seconds(t.at("updates_end_s").get<double>()) + "; the host saw " +
      format_seconds(t.at("host_comm_update_s").get<double>()) + " of reductions and updates\n";
  out += "  per bucket, median (min .. max): reduction " + spread(reduction);
  if (!handshake.empty()) out += ", of which handshake " + spread(handshake);
  out += ", update " + spread(update) + "; the update instance" +
         (streams > 1 ? "s waited (summed over " + std::to_string(streams) + " streams) " : " waited ") +
         format_seconds(waited) + " for reductions in all\n";
  const std::string lag_note =
      "  marks after the host enqueued them (a few us: the instance waited for the host)";
  out += lag_note + ", median (min .. max): reduced " + spread(reduced_lag) + ", updated " +
         spread(updated_lag) + "\n";
  return out;
}

nlohmann::json dp_record(const Config& cfg, const ProcessInfo& proc, const DpResult& r) {
  const double step = r.total.ranks.slowest_median;
  const double upd = r.update.measured ? r.update.ranks.slowest_median : 0.0;
  const double eff = eff_GBps(r.bytes_per_param, r.params_updated_per_rank, upd);
  const double comm_s = r.comm.measured ? r.comm.ranks.slowest_median : 0.0;
  const auto or_null = [](bool have, double v) { return have ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json j = common_fields(cfg, proc, "dp_step", r.device);
  j.update({{"ranks_per_node", proc.local_size},
            {"params", r.params},
            {"tensors", r.tensors},
            {"comm", r.comm_name},
            {"comm_path", r.comm_path},
            {"comm_library", r.comm_library},
            {"mode", cfg.shard ? "sharded" : "replicated"},
            {"params_per_rank",
             cfg.params_per_rank > 0 ? nlohmann::json(cfg.params_per_rank) : nlohmann::json(nullptr)},
            {"overlap", cfg.overlap},
            {"launch", cfg.launch},
            {"graphs_captured", r.graphs_captured},
            {"comm_stream_priority", cfg.comm_high_priority ? "high" : "normal"},
            {"update_streams", cfg.update_streams},
            {"bucket_mb", cfg.bucket_mb},
            {"first_bucket_mb", cfg.first_bucket_mb},
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
            {"params_per_s", per_second(r.params, step)},
            {"params_per_s_per_rank", per_second(r.params_updated_per_rank, step)},
            {"params_per_s_aggregate", per_second(r.params_updated_per_rank * proc.size, step)},
            {"bytes_per_param", r.bytes_per_param},
            {"eff_GBps", or_null(upd > 0, eff)},
            {"copy_GBps", r.roof.copy_GBps},
            {"nstream_GBps", r.roof.nstream_GBps},
            {"roof_GBps", r.roof.roof_GBps},
            {"pct_of_roof", or_null(upd > 0, pct_of_roof(eff, r.roof.roof_GBps))},
            {"allreduce",
             {{"bytes", r.reduced_bytes},
              {"algbw_GBps", or_null(comm_s > 0, algbw_GBps(r.reduced_bytes, comm_s))},
              {"busbw_GBps", or_null(comm_s > 0, busbw_GBps(r.reduced_bytes, comm_s, proc.size))}}},
            {"verified", r.verify.passed && r.ranks_agree},
            {"ranks_agree", r.ranks_agree},
            {"params_hash", r.params_hash},
            {"verification", verification_json(r.verify)},
            {"memory_per_rank",
             {{"device_bytes", r.device_bytes_per_rank}, {"momentum_bytes", r.state_bytes_per_rank}}},
            {"rank_detail", rank_details(r.rank_detail)},
            {"timeline", r.timeline}});
  return j;
}

std::string dp_table(const Config& cfg, const ProcessInfo& proc, const DpResult& r) {
  std::ostringstream o;
  o << "nagbench dp_step | " << cfg.model.name << " (" << format_count(r.params) << " params) | " << cfg.dtype
    << " | " << proc.size << " ranks (" << proc.local_size << " per node) | " << cfg.backend << " on "
    << r.device.name << "\n";
  o << "comm " << r.comm_name << " (" << r.comm_path << (r.comm_library.empty() ? "" : ", " + r.comm_library)
    << ") | " << (cfg.shard ? "sharded" : "replicated") << " | overlap " << (cfg.overlap ? "on" : "off")
    << " | " << r.buckets << " buckets of <= " << format_fixed(cfg.bucket_mb, 1) << " MiB | variant "
    << cfg.variant
    << (cfg.backend == "cuda" && !cfg.comm_high_priority ? " | comm stream priority normal" : "")
    << (cfg.backend == "cuda" ? " | " + std::to_string(cfg.update_streams) + " update stream" +
                                    (cfg.update_streams > 1 ? "s" : "")
                              : "")
    << (cfg.launch == "graph" ? " | reductions and updates replayed from a CUDA graph, --launch graph" : "")
    << "\n";
  o << cfg.optimizer << " " << r.rule_description << " (" << cfg.rule_mode << " arithmetic)\n\n";
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
  o << "\n  params/s: " << format_fixed(per_second(r.params_updated_per_rank, step) / 1e9, 3)
    << " G per rank, " << format_fixed(per_second(r.params_updated_per_rank * proc.size, step) / 1e9, 3)
    << " G aggregate";
  if (r.comm.measured && r.comm.ranks.slowest_median > 0) {
    const double comm_s = r.comm.ranks.slowest_median;
    o << " | allreduce algbw " << format_fixed(algbw_GBps(r.reduced_bytes, comm_s), 1) << " GB/s, busbw "
      << format_fixed(busbw_GBps(r.reduced_bytes, comm_s, proc.size), 1) << " GB/s";
  }
  o << "\n  optimizer state per rank: " << format_bytes_binary(double(r.state_bytes_per_rank)) << "\n";
  o << "verified: " << (r.verify.passed && r.ranks_agree ? "yes" : "NO") << " (ranks "
    << (r.ranks_agree ? "bitwise identical" : "DISAGREE") << ", hash " << r.params_hash << "; reference "
    << r.verify.mode << ", " << format_count(r.verify.checked) << " params, worst "
    << format_fixed(r.verify.worst_ratio, 3) << " x tolerance)\n";
  o << r.timeline_summary;
  return o.str();
}

}  // namespace nagbench
