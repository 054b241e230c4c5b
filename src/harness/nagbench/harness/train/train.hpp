#pragma once
// The `train` run kind: a workload with an objective (quadratic, logreg, mlp) trained by an update rule
// across ranks, gradients averaged every step, until a target or a step budget. Each step is timed phase by
// phase (gradient = forward + backward, communication, update; fenced), the objective is evaluated on its own
// schedule (not timed as part of a step), and the record carries the loss curve, iterations and time to the
// target, samples/s, theory's predicted curve where there is one (quadratic), and the checks: every rank's
// gradient against a float64 host computation, the update against the rule's float64 reference fed the
// averaged gradient, and bitwise agreement of the ranks' parameters.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/harness/config.hpp"
#include "nagbench/harness/record_common.hpp"

namespace nagbench {

struct CurvePoint {
  int64_t step = 0;  // updates applied so far
  double loss = 0;   // the objective (training split), at the rule's iterate
  double test_loss = 0, test_accuracy = -1, train_accuracy = -1;
  double time_s = 0;  // sum of the step times so far (evaluations excluded)
};

struct TrainResult {
  DeviceInfo device;
  std::string rule_description, comm_name, comm_path;
  std::string allreduce_comm_path;  // who measured the one allreduce of all gradients (p2p: NCCL or MPI)
  nlohmann::json problem;           // the workload's describe()
  int64_t params = 0, tensors = 0, buckets = 0;
  int64_t samples_per_step_rank = 0, samples_per_step = 0, steps_per_epoch = 1;
  int64_t steps_run = 0, restarts = 0;
  bool has_optimum = false;
  double optimum = 0, initial_loss = 0;
  std::vector<CurvePoint> curve;
  std::vector<double> theory;  // predicted relative gap per step (quadratic), may be empty
  int64_t target_step = -1;    // first evaluated step that met the target (-1: not reached / none)
  double target_time_s = 0;
  int64_t theory_target_step = -1;  // theory's first step at the target (relative-gap targets)
  PhaseTiming grad, comm, update, total;
  // Overlapped runs: the same step without communication, and one allreduce of every gradient, measured in
  // the same launch; per-bucket event times of one step of each kind, per rank.
  PhaseTiming no_comm_total, no_comm_backward, allreduce;
  int64_t allreduce_bytes = 0;
  nlohmann::json timeline;
  bool ranks_agree = false;
  std::string params_hash;
  std::string gradient_check;  // "" = passed
  std::string update_check;    // "" = passed
  int64_t update_checked = 0;
  std::vector<std::string> rank_detail;
  bool verified() const { return ranks_agree && gradient_check.empty() && update_check.empty(); }
};

// Derived figures of an overlapped run (docs/data-parallel.md): exposed communication = step - no-comm step;
// overlap ratio = 1 - exposed / one allreduce of the same bytes; how much the backward slowed down while the
// reductions ran (event-timed backward with and without communication).
struct OverlapFigures {
  double exposed_s = 0, overlap_ratio = 0, step_over_no_comm = 0, backward_slowdown_s = 0;
  bool have_allreduce = false;
};
OverlapFigures overlap_figures(const TrainResult& r);

nlohmann::json train_record(const Config& cfg, const ProcessInfo& proc, const TrainResult& r);
std::string train_table(const Config& cfg, const ProcessInfo& proc, const TrainResult& r);

}  // namespace nagbench
