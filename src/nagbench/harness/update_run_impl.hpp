#pragma once
// Definition of run_update<Exec>; included by one .cpp per backend so the backends compile in parallel.
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/core/timer.hpp"
#include "nagbench/core/watchdog.hpp"
#include "nagbench/harness/checked_steps.hpp"
#include "nagbench/harness/update_run.hpp"
#include "nagbench/optim/bytes_table.hpp"
#include "nagbench/optim/update_rule.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/workload/fill.hpp"

namespace nagbench {

template <class Exec, class Layout>
UpdateRunResult run_update_typed(const Config& cfg, const ProcessInfo& proc, Progress& progress,
                                 const Backend backend) {
  using Rule = UpdateRule<typename Layout::compute_t>;
  UpdateRunResult res;
  const Exec exec;
  res.device = describe_device(backend);
  const ArenaLayout layout = ArenaLayout::for_model(cfg.model);
  const bool with_momentum = cfg.hyper.has_momentum();
  res.params = layout.params;
  res.tensors = static_cast<int64_t>(layout.tensors.size());
  res.arena_bytes = arena_bytes(layout, Layout::id, with_momentum);
  res.bytes_per_param = min_bytes_per_param(Layout::id, with_momentum);

  const int64_t roof_bytes = roof_bytes_per_array(cfg, res.device);
  // The gradient kernel leaves the tail of g in the last-level cache; the roof is measured cold, so the
  // update is too: a write over 4x the cache evicts it before every timed step (untimed).
  const int64_t evict_bytes = eviction_bytes(res.device);
  check_memory_fits(memory_needed(cfg, res.device, 1), res.device, progress);
  Kokkos::View<double*, typename Exec::memory_space> evict(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::evict"),
      evict_bytes / int64_t(sizeof(double)));
  auto variant = make_variant<Exec, Layout, Rule>(cfg.variant);  // unknown names were rejected in validate()

  progress.say("roof: copy and nstream over 3 x " + format_bytes_binary(double(roof_bytes)) + ", up to " +
               std::to_string(cfg.roof_reps) + " repetitions, before and after the timed steps");
  const RoofResult roof_before = measure_roof(exec, roof_bytes, cfg.roof_reps);

  progress.say("allocating " + format_bytes_binary(double(res.arena_bytes)) + " for " +
               format_count(res.params) + " parameters in " + std::to_string(res.tensors) + " tensors");
  ParamArena<Layout, typename Exec::memory_space> arena(layout.length, with_momentum);
  fill_initial_state(exec, arena, cfg.seed);
  const ArenaPointers<Layout> ptr = arena.pointers();
  variant->prepare(exec, UpdateGroups<Layout>{{ptr, layout.tensors}});
  const Rule rule(cfg.hyper);

  const int64_t total_steps = int64_t(1) + cfg.warmup + cfg.steps;
  std::vector<double> t_update, t_grad;
  progress.say("running " + std::to_string(total_steps) + " steps (1 first, " + std::to_string(cfg.warmup) +
               " warm-up, " + std::to_string(cfg.steps) + " timed) of variant " + cfg.variant);
  for (int64_t s = 0; s < total_steps; ++s) {
    WatchdogGuard watch("an update step");
    const double tg =
        time_fenced([&]() { produce_gradients(exec, ptr.g, 0, layout.length, cfg.seed, proc.rank, s); });
    Kokkos::deep_copy(exec, evict, double(s));
    const double tu = time_fenced([&]() { variant->step(exec, rule, s == 0, 0); });
    if (s > cfg.warmup) {
      t_update.push_back(tu);
      t_grad.push_back(tg);
    }
    progress.tick("step " + std::to_string(s + 1) + "/" + std::to_string(total_steps));
  }
  // Memory bandwidth drifts on shared machines; a second probe after the steps keeps a dip during the first
  // one from lowering the roof the update is compared with.
  res.roof = better_roof(roof_before, measure_roof(exec, roof_bytes, cfg.roof_reps));
  res.update_s = summarize(t_update);
  res.gradient_s = summarize(t_grad);
  res.params_per_s = double(res.params) / res.update_s.median;
  res.eff_GBps = double(res.bytes_per_param) * double(res.params) / res.update_s.median / 1e9;
  res.pct_of_roof = 100.0 * res.eff_GBps / res.roof.roof_GBps;
  res.suspect = res.pct_of_roof > 105.0;

  VerifySpec vs;
  vs.hyper = cfg.hyper;
  vs.seed = cfg.seed;
  vs.ranks = 1;
  vs.steps = total_steps;
  vs.mode = cfg.verify;
  const std::vector<int64_t> idx = verification_indices(layout, vs, &res.verify.mode);
  if (res.verify.mode != "off") {
    progress.say("verifying " + format_count(int64_t(idx.size())) + " parameters (" + res.verify.mode +
                 ") against the float64 reference");
    const std::string mode = res.verify.mode;
    res.verify = verify_arena(vs, idx, arena, layout.tensors);
    res.verify.mode = mode;
  }
  return res;
}

template <class Exec>
UpdateRunResult run_update(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  const Backend backend = parse_backend(cfg.backend);
  return with_layout(parse_dtype(cfg.dtype), [&](auto layout) {
    return run_update_typed<Exec, decltype(layout)>(cfg, proc, progress, backend);
  });
}

}  // namespace nagbench
