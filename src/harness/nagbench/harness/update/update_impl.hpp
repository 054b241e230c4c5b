#pragma once
// UpdateRun::run<Exec>; included by the per-backend instantiation files (harness/run_kinds_impl.hpp).
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/core/graph_launch.hpp"
#include "nagbench/core/timer.hpp"
#include "nagbench/core/watchdog.hpp"
#include "nagbench/harness/checked_steps.hpp"
#include "nagbench/harness/metrics.hpp"
#include "nagbench/harness/record_common.hpp"
#include "nagbench/harness/rule_checks.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/sizing.hpp"
#include "nagbench/harness/typed.hpp"
#include "nagbench/harness/update/update.hpp"
#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/roof/stream.hpp"
#include "nagbench/workload/workloads.hpp"

namespace nagbench {

template <class Exec, class Opt, class Layout>
UpdateResult run_update_typed(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  using C = typename Layout::compute_t;
  using Rule = typename Opt::template Rule<C>;
  using Mem = typename Exec::memory_space;
  const auto h = hyper_of<Opt>(cfg);
  const auto states = Opt::states(h);
  UpdateResult res;
  const Exec exec;
  res.device = describe_device(cfg.backend);
  res.rule_description = h.describe();
  const ArenaLayout layout = configuration_arena(cfg);
  res.params = layout.params;
  res.tensors = static_cast<int64_t>(layout.tensors.size());
  res.arena_bytes = arena_bytes(layout, Layout::id, static_cast<int>(states.size()));
  res.bytes_per_param = min_bytes_per_param(Layout::id, states).total();

  const int64_t roof_bytes = roof_bytes_per_array(cfg, res.device);
  // The gradient kernel leaves the tail of g in the last-level cache; the roof is measured cold, so the
  // update is too: a write (sizing.hpp: --evict-mib, else 4x the cache) evicts it before every timed step
  // (untimed).
  const int64_t evict_bytes = eviction_bytes(cfg, res.device);
  res.evict_bytes = evict_bytes;
  check_memory_fits(UpdateRun::memory_needed(cfg, res.device, 1), res.device, progress);
  Kokkos::View<double*, Mem> evict(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::evict"),
                                   evict_bytes / int64_t(sizeof(double)));
  auto variant = make_variant<Exec, Layout, Rule>(cfg.variant);  // unknown names were rejected in validate()
  GraphedLaunch<Exec> launcher(cfg.launch == "graph");

  progress.say("roof: copy and nstream over 3 x " + format_bytes_binary(double(roof_bytes)) + ", up to " +
               std::to_string(cfg.roof_reps) +
               " repetitions, before the timed steps (and after, unless stable)");
  const RoofResult roof_before = measure_roof(exec, roof_bytes, cfg.roof_reps);

  progress.say("allocating " + format_bytes_binary(double(res.arena_bytes)) + " for " +
               format_count(res.params) + " parameters in " + std::to_string(res.tensors) + " tensors");
  ParamArena<Layout, Mem> arena(layout.length, static_cast<int>(states.size()), layout.length);
  auto workload = make_workload<Exec, Layout>(workload_spec(cfg), proc);
  workload->initialize(exec, arena.pointers(), layout);
  poison_states(exec, arena);
  const ArenaPointers<Layout> ptr = arena.pointers();
  variant->prepare(exec, UpdateGroups<Layout>{{ptr, layout.tensors}});

  const int64_t total_steps = int64_t(1) + cfg.warmup + cfg.steps;
  const std::vector<GradientRange> all = {{0, layout.length}};
  std::vector<double> t_update, t_grad;
  progress.say("running " + std::to_string(total_steps) + " steps (1 first, " + std::to_string(cfg.warmup) +
               " warm-up, " + std::to_string(cfg.steps) + " timed) of variant " + cfg.variant +
               (evict_bytes > 0 ? ", each update after a " + format_bytes_binary(double(evict_bytes)) +
                                      " cache-evicting write"
                                : ", caches warm (--evict-mib 0)") +
               (cfg.launch == "graph" ? ", each replayed from a CUDA graph captured before the first" : ""));
  // --launch graph: the rule is the same at every step (validate() checks it), so the first-step flag is all
  // a graph depends on. Both graphs are captured here (capturing runs nothing), so no step pays for a
  // capture.
  for (const bool first : {true, false})
    launcher.prepare(first ? 0 : 1, [&](const Exec& on) {
      variant->step(on, Opt::template make_rule<C>(h, 1, first ? 0 : 1, arithmetic_of(cfg)), first, 0);
    });
  for (int64_t s = 0; s < total_steps; ++s) {
    WatchdogGuard watch("an update step");
    const double tg = time_fenced([&]() { workload->produce_gradients(exec, ptr, s, all, [](int) {}); });
    if (evict_bytes > 0) Kokkos::deep_copy(exec, evict, double(s));
    const Rule rule = Opt::template make_rule<C>(h, 1, s, arithmetic_of(cfg));
    const double tu = time_fenced([&]() {
      launcher.run(exec, s == 0 ? 0 : 1, [&](const Exec& on) { variant->step(on, rule, s == 0, 0); });
    });
    if (s > cfg.warmup) {
      t_update.push_back(tu);
      t_grad.push_back(tg);
    }
    progress.tick("step " + std::to_string(s + 1) + "/" + std::to_string(total_steps));
  }
  // Memory bandwidth drifts on shared machines; a second probe after the steps keeps a dip during the first
  // one from lowering the roof the update is compared with. A first probe that was stable throughout needs no
  // second.
  res.roof = roof_before.stable ? roof_before
                                : better_roof(roof_before, measure_roof(exec, roof_bytes, cfg.roof_reps));
  res.update_s = summarize(t_update);
  res.gradient_s = summarize(t_grad);
  res.params_per_s = per_second(res.params, res.update_s.median);
  res.eff_GBps = eff_GBps(res.bytes_per_param, res.params, res.update_s.median);
  res.pct_of_roof = pct_of_roof(res.eff_GBps, res.roof.roof_GBps);
  res.suspect = suspect(res.pct_of_roof);

  VerifySpec<Opt> vs;
  vs.hyper = h;
  vs.ranks = 1;
  vs.steps = total_steps;
  vs.mode = cfg.verify;
  const std::vector<int64_t> idx =
      verification_indices(layout, vs.mode, vs.steps, vs.sample_budget, &res.verify.mode);
  const auto replay = workload_replay<Layout>(workload_spec(cfg));
  if (res.verify.mode != "off" && replay) {
    progress.say("verifying " + format_count(int64_t(idx.size())) + " parameters (" + res.verify.mode +
                 ") against the float64 reference");
    const std::string mode = res.verify.mode;
    res.verify = verify_arena(vs, *replay, idx, arena, layout.tensors);
    res.verify.mode = mode;
  }
  return res;
}

template <class Exec>
RunOutput UpdateRun::run(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  RunOutput out;
  with_rule_and_layout(cfg, [&](auto opt, auto layout) {
    const UpdateResult r =
        run_update_typed<Exec, typename decltype(opt)::type, decltype(layout)>(cfg, proc, progress);
    out.record = update_record(cfg, proc, r);
    out.table = update_table(cfg, r);
    if (r.verify.mode != "off" && !r.verify.passed) out.failure = describe_failure(r.verify);
  });
  return out;
}

}  // namespace nagbench
