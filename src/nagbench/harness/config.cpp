#include "nagbench/harness/config.hpp"

#include "nagbench/comm/communicator.hpp"
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/optim/dtype.hpp"
#include "nagbench/optim/reference.hpp"
#include "nagbench/optim/variants/variant.hpp"
#include "nagbench/workload/fill.hpp"

namespace nagbench {

nlohmann::json to_json(const SgdHyper& h) {
  return {{"lr", h.lr},
          {"momentum", h.momentum},
          {"dampening", h.dampening},
          {"weight_decay", h.weight_decay},
          {"nesterov", h.nesterov},
          {"maximize", h.maximize}};
}

SgdHyper hyper_from_json(const nlohmann::json& j) {
  SgdHyper h;
  h.lr = j.at("lr");
  h.momentum = j.at("momentum");
  h.dampening = j.at("dampening");
  h.weight_decay = j.at("weight_decay");
  h.nesterov = j.at("nesterov");
  h.maximize = j.at("maximize");
  return h;
}

nlohmann::json to_json(const Config& c) {
  return {{"mode", c.mode},
          {"backend", c.backend},
          {"model", to_json(c.model)},
          {"variant", c.variant},
          {"dtype", c.dtype},
          {"hyper", to_json(c.hyper)},
          {"steps", c.steps},
          {"warmup", c.warmup},
          {"seed", c.seed},
          {"verify", c.verify},
          {"roof_mib", c.roof_mib},
          {"roof_reps", c.roof_reps},
          {"output", c.output},
          {"tag", c.tag},
          {"timeout_s", c.timeout_s},
          {"debug_stop_rank", c.debug_stop_rank},
          {"quiet", c.quiet},
          {"command_line", c.command_line},
          {"comm", c.comm},
          {"mpi_path", c.mpi_path},
          {"shard", c.shard},
          {"overlap", c.overlap},
          {"comm_high_priority", c.comm_high_priority},
          {"bucket_mb", c.bucket_mb},
          {"allow_gpu_sharing", c.allow_gpu_sharing},
          {"debug_skip_bucket", c.debug_skip_bucket},
          {"comm_sizes", c.comm_sizes},
          {"comm_iters", c.comm_iters},
          {"comm_reps", c.comm_reps}};
}

Config config_from_json(const nlohmann::json& j) {
  Config c;
  c.mode = j.at("mode");
  c.backend = j.at("backend");
  c.model = model_from_json(j.at("model"));
  c.variant = j.at("variant");
  c.dtype = j.at("dtype");
  c.hyper = hyper_from_json(j.at("hyper"));
  c.steps = j.at("steps");
  c.warmup = j.at("warmup");
  c.seed = j.at("seed");
  c.verify = j.at("verify");
  c.roof_mib = j.at("roof_mib");
  c.roof_reps = j.at("roof_reps");
  c.output = j.at("output");
  c.tag = j.at("tag");
  c.timeout_s = j.at("timeout_s");
  c.debug_stop_rank = j.at("debug_stop_rank");
  c.quiet = j.at("quiet");
  c.command_line = j.at("command_line");
  c.comm = j.at("comm");
  c.mpi_path = j.at("mpi_path");
  c.shard = j.at("shard");
  c.overlap = j.at("overlap");
  c.comm_high_priority = j.at("comm_high_priority");
  c.bucket_mb = j.at("bucket_mb");
  c.allow_gpu_sharing = j.at("allow_gpu_sharing");
  c.debug_skip_bucket = j.at("debug_skip_bucket");
  c.comm_sizes = j.at("comm_sizes").get<std::vector<int64_t>>();
  c.comm_iters = j.at("comm_iters");
  c.comm_reps = j.at("comm_reps");
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

// Hyper-parameters that are valid one by one can still make the parameters overflow (--weight-decay 1e300 in
// fp64, --lr 1e30): the float64 reference of the first elements is run over the steps (at most 10^5 of them:
// divergence is geometric, so it shows early) and a non-finite value is the input's fault, said before any run.
void check_trajectory_stays_finite(const Config& c, int ranks) {
  const int64_t steps = std::min<int64_t>(int64_t(1) + c.warmup + c.steps, 100000);
  with_layout(parse_dtype(c.dtype), [&](auto layout) {
    using L = decltype(layout);
    const double limit = std::is_same<typename L::compute_t, float>::value ? 3.0e38 : 1.0e307;
    for (int64_t i = 0; i < 4; ++i) {
      ReferenceParam s;
      s.p = stored_initial_param<L>(c.seed, i);
      for (int64_t step = 0; step < steps; ++step) {
        double g = 0;
        for (int r = 0; r < ranks; ++r)
          g += stored_gradient<L>(c.seed, r, step, i);
        reference_sgd_step(c.hyper, s, g / ranks);
        if (!(std::fabs(s.p) < limit && std::fabs(s.b) < limit))
          throw InputError("these hyper-parameters make the parameters overflow " + std::string(dtype_name(L::id)) +
                           " at step " + std::to_string(step + 1) + " (" + c.hyper.describe() +
                           "); lower --lr or --weight-decay");
      }
    }
  });
}

void validate(const Config& c, int ranks) {
  c.hyper.validate();
  const DtypeLayout d = parse_dtype(c.dtype);
  check_variant(c.variant, d);
  if (c.mode != "update" && c.mode != "dp" && c.mode != "comm_only")
    throw InputError("internal: unknown mode '" + c.mode + "'");
  if (c.comm != "none" && c.comm != "mpi" && c.comm != "nccl")
    throw InputError("unknown --comm '" + c.comm + "' (choose none, mpi or nccl)");
  if (c.mpi_path != "auto" && c.mpi_path != "staged" && c.mpi_path != "cuda-aware")
    throw InputError("--mpi-path must be auto, staged or cuda-aware (got '" + c.mpi_path + "')");
  if (c.mode != "update") {
    if (c.comm == "none" && ranks > 1)
      throw InputError("--comm none runs a single rank, but this job has " + std::to_string(ranks) +
                       " ranks; choose --comm mpi or nccl");
    if (c.comm == "nccl" && !nccl_compiled_in())
      throw InputError(
          "--comm nccl: this nagbench was built without NCCL (needs the CUDA build with MPI and NCCL)");
    if (c.comm == "nccl" && c.backend != "cuda")
      throw InputError("--comm nccl needs --backend cuda (NCCL reduces GPU memory; got --backend " +
                       c.backend + ")");
    if (c.comm == "mpi" && !mpi_compiled_in())
      throw InputError("--comm mpi: this nagbench was built without MPI (NAGBENCH_ENABLE_MPI=OFF)");
    if (d != DtypeLayout::fp32 && d != DtypeLayout::fp64)
      throw InputError("data-parallel runs support --dtype fp32 and fp64 (got " + c.dtype + ")");
    checked_range(c.bucket_mb, kMinBucketMib, kMaxBucketMib, "--bucket-mb");
    // Kokkos Kernels 3.4's BLAS-1 calls run on the default CUDA stream, outside the step's stream ordering.
    if (c.variant == "unfused" && c.backend == "cuda")
      throw InputError(
          "variant unfused cannot run data-parallel on CUDA (its BLAS calls ignore the step's streams)");
  }
  if (c.mode == "comm_only") {
    if (c.comm == "none") throw InputError("--comm-only needs --comm mpi or nccl");
    if (c.comm_sizes.empty()) throw InputError("--comm-only: no message sizes");
    for (auto b : c.comm_sizes)
      if (b < 4 || b > kMaxCommBytes)
        throw InputError("--comm-only message sizes must be between 4 B and 8 GiB (got " + std::to_string(b) +
                         ")");
    if (c.comm_iters <= 0 || c.comm_reps <= 0) throw InputError("--comm-iters and --comm-reps must be > 0");
  }
  if (c.steps <= 0 || c.steps > kMaxSteps)
    throw InputError("--steps must be from 1 to " + std::to_string(kMaxSteps) + " (got " + std::to_string(c.steps) +
                     ")");
  if (c.warmup < 0 || c.warmup > kMaxSteps)
    throw InputError("--warmup must be from 0 to " + std::to_string(kMaxSteps) + " (got " +
                     std::to_string(c.warmup) + ")");
  if (c.roof_mib != 0) checked_range(c.roof_mib, kMinRoofMib, kMaxRoofMib, "--roof-mib");
  if (c.roof_reps <= 0 || c.roof_reps > 10000) throw InputError("--roof-reps must be from 1 to 10000");
  if (c.comm_iters > 1000000 || c.comm_reps > 10000)
    throw InputError("--comm-iters must be at most 1000000 and --comm-reps at most 10000");
  checked_range(c.timeout_s, 0, 1e7, "--timeout");
  c.hyper.validate_in_compute_type(d != DtypeLayout::fp64);
  if (c.mode != "comm_only") check_trajectory_stays_finite(c, ranks);
  if (c.verify != "auto" && c.verify != "full" && c.verify != "sample" && c.verify != "off")
    throw InputError("--verify must be auto, full, sample or off (got '" + c.verify + "')");
  if (c.model.params <= 0) throw InputError("model '" + c.model.name + "' has no parameters");
}

}  // namespace nagbench
