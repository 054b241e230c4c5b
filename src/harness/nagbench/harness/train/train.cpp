#include "nagbench/harness/train/train.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "nagbench/comm/registry.hpp"
#include "nagbench/core/backends.hpp"
#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/harness/dp/dp.hpp"
#include "nagbench/harness/metrics.hpp"
#include "nagbench/harness/rule_checks.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/typed.hpp"
#include "nagbench/optim/dtype.hpp"
#include "nagbench/workload/workloads.hpp"

namespace nagbench {

void TrainRun::validate(const Config& c, int ranks) {
  validate_rule_configuration(c, ranks);
  const DtypeLayout d = parse_dtype(c.dtype);
  if (d != DtypeLayout::fp32 && d != DtypeLayout::fp64)
    throw InputError("training runs support --dtype fp32 and fp64 (got " + c.dtype + ")");
  if (c.workload == "synthetic")
    throw InputError(
        "the synthetic workload has no objective to train; give --problem (see --list-problems)");
  if (ranks > 1 && c.comm == "none")
    throw InputError("--comm none with " + std::to_string(ranks) +
                     " ranks: the ranks would train apart; use --comm mpi, nccl or p2p");
  CommRequest req;
  req.backend = c.backend;
  req.ranks = ranks;
  req.device_memory = backend_is_gpu(c.backend);
  req.mpi_path = c.mpi_path;
  req.sharded = c.shard;
  req.run_kind = "train";
  check_comm(c.comm, req);
  check_bucket_options(c);
  if (c.variant == "unfused" && c.backend == "cuda")
    throw InputError("variant unfused cannot train on CUDA (its BLAS calls ignore the step's streams)");
  if (c.batch_size < 0) throw InputError("--batch-size must be >= 0 (0 = full batch)");
  if (c.epochs < 0 || c.epochs > 1000000) throw InputError("--epochs must be from 0 to 1000000");
  if (c.eval_every < 0 || c.eval_every > kMaxSteps) throw InputError("--eval-every must be >= 0");
  if (!(c.target >= 0 && c.target < 1))
    throw InputError("--target is a relative gap (f - f*) / (f_0 - f*) in [0, 1) (got " + shortest(c.target) +
                     ")");
  if (c.has_target_loss && !std::isfinite(c.target_loss)) throw InputError("--target-loss must be finite");
  if (c.has_optimum && !std::isfinite(c.optimum)) throw InputError("--optimum must be finite");
  if (c.restart != "none" && c.restart != "gradient" && c.restart != "function")
    throw InputError("--restart must be none, gradient or function (got '" + c.restart + "')");
  bool iterate_rule = false;
  with_optimizer(c.optimizer, [&](auto t) { iterate_rule = decltype(t)::type::kIterateState >= 0; });
  if (c.restart != "none" && !iterate_rule)
    throw InputError("--restart applies to --optimizer nesterov1983 (got " + c.optimizer + ")");
  // A sharded rank holds its shards' states only; the objective of nesterov1983 lives in a state (its
  // iterate), and the restarts read it whole.
  if (c.shard && iterate_rule)
    throw InputError("--sharding sharded trains rules whose iterate is p (not " + c.optimizer +
                     ", whose iterate is a state array)");
  if (c.restart == "function" && c.eval_every > 1)
    throw InputError("--restart function evaluates the objective every step: drop --eval-every");
  // The workload reads its problem (and data) here, so a bad problem file or data set fails before any run.
  const ArenaLayout layout = configuration_arena(c);
  if (layout.params <= 0) throw InputError("the problem has no parameters");
}

int64_t TrainRun::memory_needed(const Config& cfg, const DeviceInfo&, int ranks) {
  const int64_t elem = parse_dtype(cfg.dtype) == DtypeLayout::fp64 ? 8 : 4;
  const BucketPlan plan = plan_buckets(configuration_arena(cfg), ranks, cfg, elem);
  // p2p adds the push form's inbox and the reference allreduce's buffer.
  const int64_t arrays = checked_add(cfg.comm == "p2p" ? 4 : 2, configuration_states(cfg), "the arenas");
  // The arenas; the workload's own buffers (data, activations) are its business and not counted here.
  return checked_mul(checked_mul(plan.arena.length, arrays, "the arenas"), elem, "the arenas");
}

namespace {
nlohmann::json number_or_null(bool have, double v) {
  return have && std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
}  // namespace

OverlapFigures overlap_figures(const TrainResult& r) {
  OverlapFigures f;
  const double step = r.total.ranks.slowest_median, base = r.no_comm_total.ranks.slowest_median;
  f.exposed_s = step - base;
  f.step_over_no_comm = base > 0 ? step / base : 0;
  f.backward_slowdown_s = r.grad.ranks.slowest_median - r.no_comm_backward.ranks.slowest_median;
  f.have_allreduce = r.allreduce.measured && r.allreduce.ranks.slowest_median > 0;
  if (f.have_allreduce) f.overlap_ratio = 1.0 - f.exposed_s / r.allreduce.ranks.slowest_median;
  return f;
}

namespace {
nlohmann::json overlap_json(const TrainResult& r) {
  if (!r.no_comm_total.measured) return nullptr;
  const OverlapFigures f = overlap_figures(r);
  return {{"exposed_comm_s", f.exposed_s},
          {"overlap_ratio", f.have_allreduce ? nlohmann::json(f.overlap_ratio) : nlohmann::json(nullptr)},
          {"step_over_no_comm_step", f.step_over_no_comm},
          {"backward_slowdown_s", f.backward_slowdown_s}};
}
}  // namespace

nlohmann::json train_record(const Config& cfg, const ProcessInfo& proc, const TrainResult& r) {
  const double step = r.total.ranks.slowest_median;
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& c : r.curve) {
    nlohmann::json p = {{"step", c.step}, {"loss", c.loss}, {"time_s", c.time_s}};
    if (r.has_optimum) p["gap"] = c.loss - r.optimum;
    if (c.train_accuracy >= 0) p["train_accuracy"] = c.train_accuracy;
    if (c.test_accuracy >= 0) {
      p["test_loss"] = c.test_loss;
      p["test_accuracy"] = c.test_accuracy;
    }
    curve.push_back(p);
  }
  nlohmann::json j = common_fields(cfg, proc, "train", r.device);
  j.update(
      {{"ranks_per_node", proc.local_size},
       {"problem", cfg.problem.value("name", "")},
       {"problem_source", cfg.problem.value("source", "")},
       {"problem_detail", r.problem},
       {"params", r.params},
       {"tensors", r.tensors},
       {"comm", r.comm_name},
       {"comm_path", r.comm_path},
       {"sharding", cfg.shard ? "sharded" : "replicated"},
       {"allreduce_comm", r.allreduce_comm_path},
       {"bucket_mb", cfg.bucket_mb},
       {"first_bucket_mb", cfg.first_bucket_mb},
       {"buckets", r.buckets},
       {"restart", cfg.restart},
       {"restarts", r.restarts},
       {"batch_per_rank", r.samples_per_step_rank},
       {"global_batch", r.samples_per_step},
       {"steps_per_epoch", r.steps_per_epoch},
       {"steps_run", r.steps_run},
       {"tf32", cfg.tf32},
       {"sm_carveout", cfg.sm_carveout},
       {"median_s", step},
       {"min_s", r.total.this_rank.min},
       {"max_s", r.total.this_rank.max},
       {"reps", r.total.this_rank.count},
       {"overlap", cfg.overlap},
       {"phases",
        {{"gradient", phase_json(r.grad)},
         {"comm", phase_json(r.comm)},
         {"update", phase_json(r.update)},
         {"total", phase_json(r.total)},
         {"no_comm_step", phase_json(r.no_comm_total)},
         {"no_comm_backward", phase_json(r.no_comm_backward)},
         {"allreduce", phase_json(r.allreduce)}}},
       {"overlap_figures", overlap_json(r)},
       {"allreduce_bytes", r.allreduce_bytes},
       {"timeline", r.timeline},
       {"samples_per_s", number_or_null(r.samples_per_step > 0, per_second(r.samples_per_step, step))},
       {"samples_per_s_per_rank",
        number_or_null(r.samples_per_step_rank > 0, per_second(r.samples_per_step_rank, step))},
       {"optimum", number_or_null(r.has_optimum, r.optimum)},
       {"initial_loss", r.initial_loss},
       {"final_loss", r.curve.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.curve.back().loss)},
       {"target", cfg.target > 0 ? nlohmann::json(cfg.target) : nlohmann::json(nullptr)},
       {"target_loss", number_or_null(cfg.has_target_loss, cfg.target_loss)},
       {"iterations_to_target", r.target_step >= 0 ? nlohmann::json(r.target_step) : nlohmann::json(nullptr)},
       {"time_to_target_s", r.target_step >= 0 ? nlohmann::json(r.target_time_s) : nlohmann::json(nullptr)},
       {"theory_iterations_to_target",
        r.theory_target_step >= 0 ? nlohmann::json(r.theory_target_step) : nlohmann::json(nullptr)},
       {"theory_relative_gap", r.theory},
       {"curve", curve},
       {"verified", r.verified()},
       {"ranks_agree", r.ranks_agree},
       {"params_hash", r.params_hash},
       {"verification",
        {{"gradient", r.gradient_check.empty() ? "passed" : r.gradient_check},
         {"update", r.update_check.empty() ? "passed" : r.update_check},
         {"update_params_checked", r.update_checked}}},
       {"rank_detail", rank_details(r.rank_detail)}});
  return j;
}

std::string train_table(const Config& cfg, const ProcessInfo& proc, const TrainResult& r) {
  std::ostringstream o;
  o << "nagbench train | " << cfg.problem.value("name", cfg.workload) << " (" << cfg.workload << ", "
    << format_count(r.params) << " params) | " << cfg.dtype << " | " << proc.size << " ranks | "
    << cfg.backend << " on " << r.device.name << "\n";
  o << cfg.optimizer << " " << r.rule_description
    << (cfg.restart != "none" ? " | restart " + cfg.restart : "") << " | comm " << r.comm_name
    << (cfg.shard ? " sharded" : "") << " | batch "
    << (r.samples_per_step > 0 ? std::to_string(r.samples_per_step_rank) + " per rank, " +
                                     std::to_string(r.samples_per_step) + " global"
                               : std::string("full"))
    << "\n\n";
  o << "      step          loss" << (r.has_optimum ? "      rel. gap" : "")
    << (r.curve.size() && r.curve[0].test_accuracy >= 0 ? "   test acc" : "") << "   time\n";
  // At most ~12 rows: the first, the last and evenly spaced ones between.
  const size_t n = r.curve.size(), stride = n > 12 ? (n + 11) / 12 : 1;
  const double gap0 = r.initial_loss - r.optimum;
  for (size_t i = 0; i < n; ++i) {
    if (i % stride != 0 && i + 1 != n) continue;
    const auto& c = r.curve[i];
    char buf[200];
    std::snprintf(buf, sizeof buf, "  %8lld  %12.6g", static_cast<long long>(c.step), c.loss);
    o << buf;
    if (r.has_optimum) {
      std::snprintf(buf, sizeof buf, "  %12.3e", gap0 > 0 ? (c.loss - r.optimum) / gap0 : 0.0);
      o << buf;
    }
    if (c.test_accuracy >= 0) {
      std::snprintf(buf, sizeof buf, "  %9.2f%%", 100 * c.test_accuracy);
      o << buf;
    }
    o << "   " << format_seconds(c.time_s) << "\n";
  }
  const double step = r.total.ranks.slowest_median;
  o << "\n  phase (per step)   slowest median   rank medians min / avg / max\n";
  auto row = [&](const char* name, const PhaseTiming& t) {
    char buf[200];
    if (!t.measured) return;
    std::snprintf(
        buf, sizeof(buf), "  %-18s %14s   %s / %s / %s\n", name,
        format_seconds(t.ranks.slowest_median).c_str(), format_seconds(t.ranks.min_of_medians).c_str(),
        format_seconds(t.ranks.avg_of_medians).c_str(), format_seconds(t.ranks.max_of_medians).c_str());
    o << buf;
  };
  row(r.problem.value("backward", false) ? "forward+backward" : "gradient", r.grad);
  row("communication", r.comm);
  row("update", r.update);
  row("total", r.total);
  if (r.no_comm_total.measured) {
    row("step, no comm", r.no_comm_total);
    row("backward, no comm", r.no_comm_backward);
    row("one allreduce", r.allreduce);
    const OverlapFigures f = overlap_figures(r);
    o << "  exposed communication " << format_seconds(f.exposed_s) << " (step - no-comm step)";
    if (f.have_allreduce) o << " | overlap ratio " << format_fixed(f.overlap_ratio, 3);
    o << " | step / no-comm step " << format_fixed(f.step_over_no_comm, 3) << " | backward slowed by "
      << format_seconds(f.backward_slowdown_s) << " while reductions ran\n";
  }
  if (r.samples_per_step > 0)
    o << "  samples/s: " << format_fixed(per_second(r.samples_per_step, step), 1) << " aggregate, "
      << format_fixed(per_second(r.samples_per_step_rank, step), 1) << " per rank\n";
  if (cfg.target > 0 || cfg.has_target_loss) {
    o << "  target "
      << (cfg.target > 0 ? "relative gap " + shortest(cfg.target) : "loss " + shortest(cfg.target_loss))
      << ": ";
    if (r.target_step >= 0)
      o << "reached at step " << r.target_step << " in " << format_seconds(r.target_time_s);
    else
      o << "NOT reached in " << r.steps_run << " steps";
    if (r.theory_target_step >= 0) o << " (theory: step " << r.theory_target_step << ")";
    o << "\n";
  }
  if (r.restarts > 0) o << "  restarts: " << r.restarts << "\n";
  o << "verified: " << (r.verified() ? "yes" : "NO") << " (ranks "
    << (r.ranks_agree ? "bitwise identical" : "DISAGREE") << ", hash " << r.params_hash << "; gradient "
    << (r.gradient_check.empty() ? "matches float64" : r.gradient_check) << "; update "
    << (r.update_check.empty()
            ? "matches the float64 reference on " + format_count(r.update_checked) + " params"
            : r.update_check)
    << ")\n";
  return o.str();
}

}  // namespace nagbench
