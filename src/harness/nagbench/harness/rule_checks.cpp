#include "nagbench/harness/rule_checks.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "nagbench/core/backends.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/harness/typed.hpp"
#include "nagbench/optim/variants/variant.hpp"
#include "nagbench/workload/workloads.hpp"

namespace nagbench {
namespace {

// Hyper-parameters that are valid one by one can still make the parameters overflow (--weight-decay 1e300 in
// fp64,
// --lr 1e30): the float64 replay of the first elements runs over the steps (at most 10^5 of them: divergence
// is geometric, so it shows early), and a non-finite value is the input's fault, said before any run.
template <class Opt, class Layout>
void check_trajectory_stays_finite(const Config& c, const typename Opt::Hyper& h, int ranks) {
  const auto replay = workload_replay<Layout>(workload_spec(c));
  if (!replay) return;  // gradients depend on the parameters: the run's own checks watch for divergence
  const int64_t steps = std::min<int64_t>(int64_t(1) + c.warmup + c.steps, 100000);
  const double limit = std::is_same<typename Layout::compute_t, float>::value ? 3.0e38 : 1.0e307;
  for (int64_t i = 0; i < 4; ++i) {
    ReferenceState s;
    s.p = replay->initial_param(i);
    for (int64_t step = 0; step < steps; ++step) {
      double g = 0;
      for (int r = 0; r < ranks; ++r)
        g += replay->gradient(r, step, i);
      Opt::reference_step(h, s, g / ranks, step);
      bool finite = std::fabs(s.p) < limit;
      for (double v : s.s)
        finite = finite && std::fabs(v) < limit;
      if (!finite)
        throw InputError("these hyper-parameters make the parameters overflow " +
                         std::string(dtype_name(Layout::id)) + " at step " + std::to_string(step + 1) + " (" +
                         h.describe() + "); lower --lr or --weight-decay");
    }
  }
}

}  // namespace

WorkloadSpec workload_spec(const Config& c) {
  WorkloadSpec w;
  w.name = c.workload;
  w.model = c.model;
  w.seed = c.seed;
  if (c.problem.contains("settings")) {
    w.problem_name = c.problem.value("name", "");
    w.problem_source = c.problem.value("source", "");
    w.problem = c.problem.at("settings");
  }
  w.batch_size = c.batch_size;
  w.data_dir = c.data_dir;
  w.tf32 = c.tf32;
  w.sm_carveout = c.sm_carveout;
  w.params_override = c.model.source.rfind("--params", 0) == 0 ? c.model.params : 0;
  return w;
}

ArenaLayout configuration_arena(const Config& c) {
  return workload_arena(workload_spec(c));
}

int configuration_states(const Config& c) {
  int n = 0;
  with_optimizer(c.optimizer, [&](auto t) {
    using Opt = typename decltype(t)::type;
    n = static_cast<int>(Opt::states(hyper_of<Opt>(c)).size());
  });
  return n;
}

void check_rule_replayable(const Config& c) {
  check_variant_capturable(c.variant);
  with_optimizer(c.optimizer, [&](auto opt) {
    using Opt = typename decltype(opt)::type;
    if (!Opt::same_rule_every_step(hyper_of<Opt>(c)))
      throw InputError("--launch graph: optimizer " + c.optimizer +
                       " with these settings changes its rule every step (a graph bakes it in)");
  });
}

std::string resolve_rule_mode(const Config& c) {
  if (c.rule_mode != "auto") return c.rule_mode;
  bool torch = false;
  with_optimizer(c.optimizer, [&](auto t) { torch = decltype(t)::type::kTorchArithmetic; });
  const bool at_speed = backend_is_gpu(c.backend) || host_has_fma();
  return torch && at_speed && c.variant != "unfused" ? "torch" : "separate";
}

Arithmetic arithmetic_of(const Config& c) {
  return c.rule_mode == "torch" ? Arithmetic::torch : Arithmetic::separate;
}

void validate_rule_configuration(const Config& c, int ranks) {
  if (c.rule_mode != "torch" && c.rule_mode != "separate")
    throw InputError("--rule-mode must be auto, torch or separate (got '" + c.rule_mode + "')");
  if (c.rule_mode == "torch") {
    bool torch = false;
    with_optimizer(c.optimizer, [&](auto t) { torch = decltype(t)::type::kTorchArithmetic; });
    if (!torch)
      throw InputError("--rule-mode torch: optimizer " + c.optimizer + " has no PyTorch arithmetic");
    if (c.variant == "unfused")
      throw InputError(
          "--rule-mode torch: variant unfused runs BLAS-1 passes with their own arithmetic; use "
          "--rule-mode separate");
  }
  with_workload(c.workload, [](auto) {});
  const DtypeLayout d = parse_dtype(c.dtype);
  with_rule_and_layout(c, [&](auto opt, auto layout) {
    using Opt = typename decltype(opt)::type;
    using L = decltype(layout);
    const auto h = hyper_of<Opt>(c);
    h.validate();
    h.validate_in_compute_type(!std::is_same<typename L::compute_t, double>::value);
    if (!Opt::kPlainBf16 && d == DtypeLayout::bf16)
      throw InputError("--optimizer " + c.optimizer +
                       " needs --dtype fp32, fp64 or bf16_master (its state is a "
                       "difference of iterates, which plain bf16 rounds away)");
    check_variant(c.variant, d);
    if (configuration_arena(c).params <= 0)
      throw InputError("model '" + c.model.name + "' has no parameters");
    check_trajectory_stays_finite<Opt, L>(c, h, ranks);
  });
}

}  // namespace nagbench
