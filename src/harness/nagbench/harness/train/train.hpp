#pragma once
// The `train` run kind: a workload with an objective (quadratic, logreg, mlp) trained by an update rule across
// ranks, gradients averaged every step, until a target or a step budget. Each step is timed phase by phase
// (gradient = forward + backward, communication, update; fenced), the objective is evaluated on its own
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
  nlohmann::json problem;  // the workload's describe()
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
  bool ranks_agree = false;
  std::string params_hash;
  std::string gradient_check;  // "" = passed
  std::string update_check;    // "" = passed
  int64_t update_checked = 0;
  std::vector<std::string> rank_detail;
  bool verified() const { return ranks_agree && gradient_check.empty() && update_check.empty(); }
};

nlohmann::json train_record(const Config& cfg, const ProcessInfo& proc, const TrainResult& r);
std::string train_table(const Config& cfg, const ProcessInfo& proc, const TrainResult& r);

}  // namespace nagbench
