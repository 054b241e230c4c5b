#pragma once
// One run's configuration, validated on rank 0 and broadcast to the others as JSON, so ranks never disagree.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/workload/model.hpp"

namespace nagbench {

// Limits on sizes a user can ask for: past them a run could not finish or its arithmetic would overflow.
inline constexpr int kMaxSteps = 100000000;                 // --steps and --warmup each
inline constexpr int64_t kMaxCommBytes = int64_t(1) << 33;  // --comm-only messages: 8 GiB
inline constexpr double kMinRoofMib = 1, kMaxRoofMib = 1048576;
inline constexpr double kMaxEvictMib = 1048576;
inline constexpr double kMinBucketMib = 1.0 / 1024, kMaxBucketMib = 1048576;
inline constexpr int64_t kMaxBuckets = 1000000;
inline constexpr int kMaxUpdateStreams = 8;  // --update-streams
// Kokkos 3.x's OpenMP backend has a fixed pool of 512 threads (OpenMPExec::MAX_THREAD_COUNT) and crashes past
// it.
inline constexpr int kMaxHostThreads = 512;

struct Config {
  std::string mode =
      "update";         // the run kind: update (one rank) | dp (data-parallel step) | allreduce (sweep)
  std::string backend;  // resolved name: "cuda", "openmp", "serial"
  std::string workload = "synthetic";
  ModelSpec model;  // the synthetic workload's tensor list
  std::string optimizer = "sgd";
  nlohmann::json hyper =
      nlohmann::json::object();  // the optimizer's hyper-parameters (optim/<rule>/hyper.hpp)
  std::string variant = "fused";
  std::string rule_mode = "auto";  // the rule's arithmetic: auto (resolved before running) | torch | separate
  std::string dtype = "fp32";
  int steps = 20;  // timed steps
  int warmup =
      3;  // untimed steps after the first (the first, which creates the rule's state, is never timed)
  uint64_t seed = 20261127;
  std::string verify = "auto";  // auto | full | sample | off
  double roof_mib = 0;          // per roof array; 0 = sized from the device's last-level cache
  int roof_reps = 20;
  // MiB written before each timed update step to evict the caches: -1 = sized from the last-level cache
  // (sizing.hpp), 0 = none (the update starts with warm caches).
  double evict_mib = -1;
  // How the update benchmark starts each step's kernels: direct | graph (replayed from a CUDA graph;
  // core/graph_launch.hpp).
  std::string launch = "direct";
  std::string output;      // JSON record path; empty = none
  std::string tag;         // free label copied into every record (sweep runners resume by it)
  double timeout_s = 600;  // watchdog: a step or collective longer than this aborts the job; 0 = off

  // Data parallelism (run kinds dp and allreduce).
  std::string comm = "none";       // a communication backend (comm/registry.hpp)
  std::string mpi_path = "auto";   // auto | staged | cuda-aware
  bool shard = false;              // reduce-scatter + sharded update + all-gather
  bool overlap = true;             // update bucket k while bucket k+1 is reduced
  bool comm_high_priority = true;  // CUDA: the comm stream outranks the update stream for free SMs
  // dp on CUDA: bucket k is updated on stream k mod update_streams (harness/dp/step_spaces.hpp): a bucket's
  // grid then fills the SMs the last one's tail leaves idle (4: no cost per bucket from 8 MiB up on an H200).
  int update_streams = 4;      // 1 .. kMaxUpdateStreams
  double bucket_mb = 25;       // MiB of gradients per bucket (PyTorch DDP's bucket_cap_mb)
  double first_bucket_mb = 0;  // MiB of the first bucket (DDP: 1); 0 = bucket_mb
  bool allow_gpu_sharing = false;
  int debug_skip_bucket = -1;       // tests only: leave one bucket unreduced
  int debug_stop_rank = -1;         // tests only: this rank SIGSTOPs itself in the first timed step
  bool debug_early_reduce = false;  // tests only: train reduces the last bucket before its gradient is ready
  std::vector<int64_t> comm_sizes;  // allreduce: message sizes in bytes
  int comm_iters = 20;
  int comm_reps = 5;
  int64_t params_per_rank = 0;  // --params-per-rank (weak scaling): the per-rank size; 0 otherwise
  bool timeline = false;  // dp: one more, untimed step with device events per bucket (the record's timeline)
  // Training (run kind train: the workloads with an objective, workload.hpp).
  nlohmann::json problem = nlohmann::json::object();  // {name, source, settings} of --problem
  int64_t batch_size = 0;                             // samples per rank and step; 0 = full batch
  int epochs = 0;                                     // > 0: run this many epochs (else --steps iterations)
  int eval_every = 0;            // evaluate the objective every N steps; 0 = once per epoch
  double target = 0;             // stop once (f - f*) / (f_0 - f*) <= target; 0 = none
  bool has_target_loss = false;  // stop once f <= target_loss
  double target_loss = 0;
  bool has_optimum = false;  // f* given with --optimum (quadratic: known)
  double optimum = 0;
  std::string restart = "none";  // nesterov1983: none | gradient | function (O'Donoghue and Candes 2015)
  std::string data_dir;          // real data sets' folder ("" = scikit-learn's)
  bool tf32 = false;             // GEMMs on GPUs may use TF32
  int sm_carveout = 0;           // backward GEMMs on GPUs are planned for the device's SMs minus this many
  bool theory = true;            // quadratic: record theory's predicted curve next to the measured one
  bool quiet = false;
  bool check_only = false;  // --check: validate and size every configuration, run nothing
  std::string command_line;
};

nlohmann::json to_json(const Config& c);
Config config_from_json(const nlohmann::json& j);

// Checks the values (not the backend's presence); throws InputError. Shared by the CLI and the tests.
// `ranks` is the size of the job the configuration will run in.
void validate(const Config& c, int ranks = 1);

// A launch runs one or more configurations (the product of list-valued options), one after the other, so that
// a short GPU lease needs a single mpirun.
struct RunPlan {
  std::vector<Config> configs;
};
nlohmann::json to_json(const RunPlan& p);
RunPlan plan_from_json(const nlohmann::json& j);

}  // namespace nagbench
