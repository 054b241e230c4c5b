#include "nagbench/harness/config.hpp"

#include <algorithm>
#include <cmath>

#include "nagbench/core/backends.hpp"
#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/harness/run_kinds.hpp"

namespace nagbench {

// Every field, by name, both ways: one list so the two directions cannot drift apart.
// clang-format off
#define NAGBENCH_CONFIG_FIELDS(X)                                                                            \
  X(mode) X(backend) X(workload) X(optimizer) X(hyper) X(variant) X(rule_mode) X(dtype) X(steps) X(warmup)   \
  X(seed) X(verify) X(roof_mib) X(roof_reps) X(evict_mib) X(launch) X(output) X(tag) X(timeout_s) X(comm) X(mpi_path) X(shard)      \
  X(overlap) X(comm_high_priority) X(update_streams) X(bucket_mb) X(first_bucket_mb) X(allow_gpu_sharing) X(debug_skip_bucket) X(debug_stop_rank) \
  X(comm_sizes) X(comm_iters) X(comm_reps) X(params_per_rank) X(timeline) X(quiet) X(check_only) X(command_line)       \
  X(problem) X(batch_size) X(epochs) X(eval_every) X(target) X(has_target_loss) X(target_loss)               \
  X(has_optimum) X(optimum) X(restart) X(data_dir) X(tf32) X(sm_carveout) X(theory) X(debug_early_reduce)
// clang-format on

nlohmann::json to_json(const Config& c) {
  nlohmann::json j;
#define NAGBENCH_TO(f) j[#f] = c.f;
  NAGBENCH_CONFIG_FIELDS(NAGBENCH_TO)
#undef NAGBENCH_TO
  j["model"] = to_json(c.model);
  return j;
}

Config config_from_json(const nlohmann::json& j) {
  Config c;
#define NAGBENCH_FROM(f) j.at(#f).get_to(c.f);
  NAGBENCH_CONFIG_FIELDS(NAGBENCH_FROM)
#undef NAGBENCH_FROM
  c.model = model_from_json(j.at("model"));
  return c;
}

nlohmann::json to_json(const RunPlan& p) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& c : p.configs)
    a.push_back(to_json(c));
  return a;
}

RunPlan plan_from_json(const nlohmann::json& j) {
  RunPlan p;
  for (const auto& c : j)
    p.configs.push_back(config_from_json(c));
  return p;
}

void validate(const Config& c, int ranks) {
  check_backend(c.backend);
  if (c.steps <= 0 || c.steps > kMaxSteps)
    throw InputError("--steps must be from 1 to " + std::to_string(kMaxSteps) + " (got " +
                     std::to_string(c.steps) + ")");
  if (c.warmup < 0 || c.warmup > kMaxSteps)
    throw InputError("--warmup must be from 0 to " + std::to_string(kMaxSteps) + " (got " +
                     std::to_string(c.warmup) + ")");
  if (c.roof_mib != 0) checked_range(c.roof_mib, kMinRoofMib, kMaxRoofMib, "--roof-mib");
  if (c.evict_mib != -1) checked_range(c.evict_mib, 0, kMaxEvictMib, "--evict-mib");
  if (c.roof_reps <= 0 || c.roof_reps > 10000) throw InputError("--roof-reps must be from 1 to 10000");
  checked_range(c.timeout_s, 0, 1e7, "--timeout");
  if (c.verify != "auto" && c.verify != "full" && c.verify != "sample" && c.verify != "off")
    throw InputError("--verify must be auto, full, sample or off (got '" + c.verify + "')");
  if (c.launch != "direct" && c.launch != "graph")
    throw InputError("--launch must be direct or graph (got '" + c.launch + "')");
  if (c.launch == "graph" && c.mode != "update" && c.mode != "dp")
    throw InputError("--launch graph: the update benchmark and data-parallel steps replay graphs, not " +
                     c.mode + " runs");
  checked_range(c.update_streams, 1, kMaxUpdateStreams, "--update-streams");
  if (c.timeline && c.mode != "dp")
    throw InputError("--timeline records a data-parallel step bucket by bucket, not " + c.mode +
                     " runs (give --comm for a data-parallel step; training records its timeline always)");
  validate_run_kind(c, ranks);  // the run kind's own checks (harness/run_kinds.hpp)
  // After the run kind's checks, so that a variant or rule a graph cannot capture is named on any backend.
  if (c.launch == "graph" && c.backend != "cuda")
    throw InputError("--launch graph needs --backend cuda (CUDA graphs; got " + c.backend + ")");
}

}  // namespace nagbench
