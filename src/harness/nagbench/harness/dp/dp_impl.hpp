#pragma once
// DpRun::run<Exec>; included by the per-backend instantiation files (harness/run_kinds_impl.hpp).
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <limits>
#include <vector>

#include "nagbench/comm/buckets.hpp"
#include "nagbench/comm/registry.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/exec_event.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/core/graph_launch.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/watchdog.hpp"
#include "nagbench/harness/checked_steps.hpp"
#include "nagbench/harness/collectives.hpp"
#include "nagbench/harness/dp/dp.hpp"
#include "nagbench/harness/dp/reduce_update_args.hpp"
#include "nagbench/harness/dp/step_spaces.hpp"
#include "nagbench/harness/dp/step_timeline.hpp"
#include "nagbench/harness/rule_checks.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/sizing.hpp"
#include "nagbench/harness/typed.hpp"
#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/variants/reduce_update.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/workload/workloads.hpp"

namespace nagbench {

namespace detail {
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace detail

template <class Exec, class Opt, class Layout>
DpResult run_dp_typed(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  using C = typename Layout::compute_t;
  using Rule = typename Opt::template Rule<C>;
  using Mem = typename Exec::memory_space;
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using S = typename Layout::state_t;
  constexpr bool host = is_host_space<Exec>();
  static_assert(!Layout::has_master, "data-parallel runs support fp32 and fp64");
  const auto h = hyper_of<Opt>(cfg);
  const auto state_uses = Opt::states(h);
  const int nstates = static_cast<int>(state_uses.size());

  DpResult res;
  const int ranks = proc.size, rank = proc.rank;
  res.device = describe_device(cfg.backend);
  res.rule_description = h.describe();
  // Every rank has the same sizes, so every rank reaches the same verdict; agree anyway before anything
  // starts. The need is computed in checked arithmetic before any plan or buffer is made.
  const int64_t roof_bytes = roof_bytes_per_array(cfg, res.device);
  std::string memory_problem;
  try {
    check_memory_fits(DpRun::memory_needed(cfg, res.device, ranks), res.device, progress);
  } catch (const InputError& e) {
    memory_problem = e.what();
  }
  if (!all_ranks_true(memory_problem.empty(), proc))
    throw InputError(memory_problem.empty() ? "another rank does not have the memory for this run"
                                            : memory_problem);
  const ArenaLayout tensors = configuration_arena(cfg);
  const BucketPlan plan = plan_buckets(tensors, ranks, cfg, int64_t(sizeof(G)));
  const int64_t length = plan.arena.length;
  const int64_t state_length = cfg.shard ? plan.shard_total() : length;
  res.params = tensors.params;
  res.tensors = static_cast<int64_t>(tensors.tensors.size());
  res.arena_length = length;
  res.buckets = static_cast<int64_t>(plan.buckets.size());
  res.bytes_per_param = min_bytes_per_param(Layout::id, state_uses).total();
  res.params_updated_per_rank = cfg.shard ? tensors.params / ranks : tensors.params;
  res.state_bytes_per_rank = state_length * nstates * int64_t(sizeof(S));
  res.device_bytes_per_rank = length * int64_t(sizeof(P) + sizeof(G)) + res.state_bytes_per_rank;
  res.reduced_bytes = tensors.params * int64_t(sizeof(G));

  const Exec plain;
  res.roof = roof_for(cfg.backend, [&]() {
    progress.say("roof: copy and nstream over 3 x " + format_bytes_binary(double(roof_bytes)));
    return measure_roof(plain, roof_bytes, cfg.roof_reps);
  });

  StepSpaces<Exec> spaces(cfg.comm_high_priority, cfg.update_streams);
  CommOptions copt;
  copt.mpi_path = cfg.mpi_path;
  copt.sharded = cfg.shard;
  const bool graph = cfg.launch == "graph";
  copt.graph = graph;
  auto comm = make_communicator<Exec>(cfg.comm, spaces.comm_spaces(), copt, proc);
  res.comm_name = comm->name();
  res.comm_path = comm->path();
  res.comm_library = comm->library_version();

  // The arenas come from the communicator's allocator when it has one (memory its peers can map).
  ParamArena<Layout, Mem> arena(length, nstates, state_length, comm->arena_allocator());
  const ArenaPointers<Layout> ptr = arena.pointers();
  auto workload = make_workload<Exec, Layout>(workload_spec(cfg), proc);
  workload->initialize(plain, ptr, plan.arena);  // every rank starts from the same parameters
  poison_states(plain, arena);
  Kokkos::fence();

  CommSetup cs;
  cs.grad = ptr.g;
  cs.param = ptr.p;
  cs.type = sizeof(G) == 4 ? ElemType::f32 : ElemType::f64;
  cs.plan = plan;
  cs.sharded = cfg.shard;
  cs.skip_bucket = cfg.debug_skip_bucket;
  cs.captured = graph;
  // --timeline: one more step after the timed ones, with device events per bucket (step_timeline.hpp).
  StepTimeline<Exec> timeline(cfg.timeline, plan.buckets.size());
  const Exec comm_space = spaces.comm_spaces().comm;
  if (timeline.enabled())
    cs.mark_handshake = [&](int k) { timeline.mark(BucketMark::handshake, size_t(k), comm_space); };
  comm->setup(cs);

  // Update groups: per bucket, its tensor pieces (replicated) or this rank's shard (sharded); host backends
  // cut each bucket into slices so MPI can progress between them.
  const int slices = (host && cfg.comm == "mpi" && cfg.overlap) ? 4 : 1;
  UpdateGroups<Layout> groups;
  std::vector<std::vector<int>> groups_of_bucket(plan.buckets.size());
  int64_t state_offset = 0;
  for (size_t k = 0; k < plan.buckets.size(); ++k) {
    const Bucket& bk = plan.buckets[k];
    ArenaPointers<Layout> base = ptr;
    std::vector<Segment> segs;
    if (!cfg.shard) {
      segs = segments_within(plan.arena, bk.start, bk.start + bk.length);
    } else {
      const int64_t shard = plan.shard_length(static_cast<int>(k));
      base.p = ptr.p + plan.shard_start(static_cast<int>(k), rank);
      base.g = ptr.g + bk.start + comm->reduced_slice_offset(static_cast<int>(k));
      for (int s = 0; s < nstates; ++s)
        base.s[s] = ptr.s[s] + state_offset;
      state_offset += shard;
      segs = {{0, shard}};
    }
    for (auto& slice : slice_segments(segs, slices)) {
      groups_of_bucket[k].push_back(static_cast<int>(groups.size()));
      groups.push_back({base, std::move(slice)});
    }
  }
  auto variant = make_variant<Exec, Layout, Rule>(cfg.variant);
  variant->prepare(spaces.update(), groups);
  // --comm p2p: each group's update is the reduce-update kernel over every rank's mapped arenas; its pointers
  // are offset to the group's origin, so the groups' segments apply unchanged.
  const PeerArenas* peers = comm->peer_arenas();
  std::vector<ReduceUpdateArgs<Layout>> fused(peers ? groups.size() : 0);
  if (peers) {
    check_peer_table(*peers, ranks);
    for (size_t k = 0; k < plan.buckets.size(); ++k) {
      const bool skip = static_cast<int>(k) == comm->skipped_bucket();  // tests: leave the peers out
      for (int gi : groups_of_bucket[k]) {
        const UpdateGroup<Layout>& g = groups[size_t(gi)];
        fused[size_t(gi)] = reduce_update_args<Layout>(*peers, ptr.p, g.base.p - ptr.p,
                                                       plan.shard_length(static_cast<int>(k)), cfg.shard,
                                                       rank, ranks, skip, g.base.s, nstates);
      }
    }
  }

  const int64_t timed_end = int64_t(1) + cfg.warmup + cfg.steps;  // steps [warmup + 1, timed_end) are timed
  const int64_t total_steps = timed_end + (timeline.enabled() ? 1 : 0);
  // Gradients are produced as one range and every bucket's reduction waits on its end (the synthetic workload
  // has no backward pass to overlap with).
  const std::vector<GradientRange> all = {{0, length}};
  ExecEvent<Exec> gradients_ready;
  // --launch graph: from the second step on, the reductions and updates of a step (everything after its
  // gradients) are one CUDA graph per step parity (the p2p flags' values alternate with it; the rule is the
  // same at every step after the first, DpRun::validate), captured before the step's timer starts and
  // replayed on the compute instance. The capture forks the comm and update instances from the capture stream
  // and joins them back, so the graph holds their work and its order. The p2p communicator takes a step's
  // parity from the steps it has enqueued (step 0 directly, then the captures at steps 1 and 2), which is
  // this loop's s % 2 because every step up to the captures calls start_reduction(0) once.
  GraphedLaunch<Exec> launcher(graph);
  ExecEvent<Exec> fork, comm_joined, update_joined;
  std::vector<double> t_grad, t_comm, t_update, t_comm_update, t_total;
  progress.say(std::string("running ") + std::to_string(total_steps) +
               " data-parallel steps: " + cfg.model.name + ", " + std::to_string(ranks) + " ranks, " +
               cfg.comm + " (" + res.comm_path + "), " + (cfg.shard ? "sharded" : "replicated") +
               ", overlap " + (cfg.overlap ? "on" : "off") + ", " + std::to_string(plan.buckets.size()) +
               " buckets of <= " + format_fixed(cfg.bucket_mb, 1) + " MiB");
  for (int64_t s = 0; s < total_steps; ++s) {
    const bool first = s == 0;
    const Rule rule = Opt::template make_rule<C>(h, ranks, s, arithmetic_of(cfg));
    // Bucket k is updated on instance k mod --update-streams (step_spaces.hpp).
    auto update_bucket = [&](size_t k) {
      const Exec& on = spaces.update_of_bucket(k);
      for (int gi : groups_of_bucket[k]) {
        if (peers) {
          for (const Segment& seg : groups[size_t(gi)].segments)
            reduce_update_segment(on, fused[size_t(gi)], seg, rule, first);
        } else {
          variant->step(on, rule, first, gi);
        }
        comm->progress();
      }
    };
    const size_t nbk = plan.buckets.size();
    const size_t ahead = cfg.overlap && comm->start_ahead() > 0 ? size_t(comm->start_ahead()) : nbk;
    // The timeline's marks around each call (nothing unless this is the timeline's step).
    auto start_reduction = [&](size_t k, const ExecEvent<Exec>& ready) {
      comm->start_reduction(static_cast<int>(k), ready);
      timeline.mark(BucketMark::reduced, k, comm_space);
    };
    auto wait_and_update = [&](size_t k) {
      const Exec& on = spaces.update_of_bucket(k);
      comm->wait_reduction(static_cast<int>(k), on);
      timeline.wait_for(BucketMark::reduced, k, on);
      update_bucket(k);
      timeline.mark(BucketMark::updated, k, on);
    };
    // Overlap on: reductions and updates bucket by bucket, then finish (blocks the host unless captured).
    auto reduce_and_update = [&](const ExecEvent<Exec>& ready) {
      for (size_t k = 0; k < std::min(ahead, nbk); ++k)
        start_reduction(k, ready);
      for (size_t k = 0; k < nbk; ++k) {
        if (k + ahead < nbk) start_reduction(k + ahead, ready);
        wait_and_update(k);
        if (cfg.shard || peers) {  // p2p: "bucket k's update is done" (replicated too)
          const Exec& on = spaces.update_of_bucket(k);
          if (host) on.fence();
          comm->start_gather(static_cast<int>(k), on);
        }
      }
      spaces.join_updates();
      timeline.mark_updates_end(spaces.update());
      comm->finish();
    };
    auto captured_step = [&](const Exec& origin) {
      fork.record(origin);
      fork.make_wait(comm_space);
      fork.make_wait(spaces.update());
      spaces.fork_updates(fork);
      reduce_and_update(fork);
      comm_joined.record(comm_space);
      comm_joined.make_wait(origin);
      update_joined.record(spaces.update());
      update_joined.make_wait(origin);
    };
    timeline.arm(s >= timed_end);  // the step after the timed ones (never replayed: DpRun::validate)
    const bool replay = graph && !first;
    const uint64_t parity = uint64_t(s % 2);
    if (replay) launcher.prepare(parity, captured_step);  // captures once per parity; runs nothing
    WatchdogGuard watch("a data-parallel step");
    if (rank == cfg.debug_stop_rank && s == cfg.warmup + 1) std::raise(SIGSTOP);  // tests: a hung rank
    Kokkos::fence();
    const auto t0 = std::chrono::steady_clock::now();
    timeline.mark_start(spaces.compute());
    workload->produce_gradients(spaces.compute(), ptr, s, all, [&](int) {
      timeline.mark_gradients(spaces.compute());
      gradients_ready.record(spaces.compute());
    });
    spaces.compute().fence();
    const double grad_s = detail::seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    double comm_s = 0, update_s = 0;
    if (replay) {
      launcher.run(spaces.compute(), parity, captured_step);
      spaces.compute().fence();
    } else if (cfg.overlap) {
      reduce_and_update(gradients_ready);
      spaces.update().fence();
      if (graph) comm_space.fence();  // the first step of a graph run: finish() enqueued only
    } else {
      for (size_t k = 0; k < std::min(ahead, nbk); ++k)
        start_reduction(k, gradients_ready);
      for (size_t k = 0; k < plan.buckets.size(); ++k) {
        comm->wait_reduction(static_cast<int>(k), spaces.update_of_bucket(k));
        timeline.wait_for(BucketMark::reduced, k, spaces.update_of_bucket(k));
      }
      spaces.join_updates();
      spaces.update().fence();  // the update instances waited for every reduction
      const auto t2 = std::chrono::steady_clock::now();
      for (size_t k = 0; k < plan.buckets.size(); ++k) {
        update_bucket(k);
        timeline.mark(BucketMark::updated, k, spaces.update_of_bucket(k));
      }
      spaces.join_updates();
      timeline.mark_updates_end(spaces.update());
      spaces.update().fence();
      const auto t3 = std::chrono::steady_clock::now();
      if (cfg.shard || peers)
        for (size_t k = 0; k < plan.buckets.size(); ++k)
          comm->start_gather(static_cast<int>(k), spaces.update_of_bucket(k));
      // finish() may enqueue on the update instance, after what start_gather put on the others.
      spaces.join_updates();
      comm->finish();
      spaces.update().fence();
      update_s = std::chrono::duration<double>(t3 - t2).count();
      comm_s = std::chrono::duration<double>(t2 - t1).count() + detail::seconds_since(t3);
    }
    const double comm_update_s = detail::seconds_since(t1);
    const double total_s = detail::seconds_since(t0);
    if (timeline.armed()) {
      res.timeline = timeline.read(plan, comm_update_s, spaces.update_streams());
    } else if (s > cfg.warmup) {
      t_grad.push_back(grad_s);
      t_comm_update.push_back(comm_update_s);
      t_total.push_back(total_s);
      if (!cfg.overlap) {
        t_comm.push_back(comm_s);
        t_update.push_back(update_s);
      }
    }
    progress.tick("step " + std::to_string(s + 1) + "/" + std::to_string(total_steps));
  }
  res.graphs_captured = launcher.captures();
  if (timeline.enabled()) {  // every rank's, in rank order, at rank 0 (the others keep their own)
    res.timeline_summary = dp_timeline_summary(res.timeline);
    const auto all_ranks = gather_strings_to_root(res.timeline.dump(), proc);
    if (rank == 0) {
      res.timeline = nlohmann::json::array();
      for (const auto& x : all_ranks)
        res.timeline.push_back(nlohmann::json::parse(x));
    }
  }
  res.grad = phase_timing(t_grad, proc);
  res.comm = phase_timing(t_comm, proc);
  res.update = phase_timing(t_update, proc);
  res.comm_update = phase_timing(t_comm_update, proc);
  res.total = phase_timing(t_total, proc);

  // Correctness: every rank holds the same bits, and they match the float64 replay of every rank's gradients
  // (each rank checks p, and the state arrays it holds).
  auto p_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.p);
  std::vector<Kokkos::View<S*, Kokkos::HostSpace>> s_host;
  for (int k = 0; k < nstates; ++k)
    s_host.push_back(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.s[k]));
  res.params_hash = hash_params(p_host.data(), tensors.tensors);
  const auto hashes = gather_strings_to_root(res.params_hash, proc);
  bool agree = true;
  for (const auto& x : hashes)
    agree = agree && x == res.params_hash;
  res.ranks_agree = all_ranks_true(agree, proc);

  VerifySpec<Opt> vs;
  vs.hyper = h;
  vs.ranks = ranks;
  vs.steps = total_steps;
  vs.mode = cfg.verify;
  const std::vector<int64_t> idx =
      verification_indices(tensors, vs.mode, vs.steps, vs.sample_budget, &res.verify.mode);
  const auto replay = workload_replay<Layout>(workload_spec(cfg));
  if (res.verify.mode != "off" && replay) {
    progress.say("verifying " + format_count(int64_t(idx.size())) + " parameters (" + res.verify.mode +
                 ") against the float64 reference of " + std::to_string(ranks) + " ranks' gradients");
    const std::string mode = res.verify.mode;
    if (!cfg.shard) {
      std::vector<const S*> states;
      for (auto& v : s_host)
        states.push_back(v.data());
      res.verify = verify_against_reference<Opt, Layout>(vs, *replay, idx, p_host.data(), nullptr, states);
    } else {
      // This rank's state slices, placed at their arena positions; states are checked only where this rank
      // owns them.
      std::vector<std::vector<S>> full(nstates,
                                       std::vector<S>(size_t(length), std::numeric_limits<S>::quiet_NaN()));
      std::vector<int64_t> owned;
      int64_t off = 0;
      for (size_t k = 0; k < plan.buckets.size() && nstates > 0; ++k) {
        const int64_t start = plan.shard_start(static_cast<int>(k), rank),
                      n = plan.shard_length(static_cast<int>(k));
        for (int st = 0; st < nstates; ++st)
          std::copy(s_host[st].data() + off, s_host[st].data() + off + n, full[st].begin() + start);
        off += n;
        for (int64_t i : idx)
          if (i >= start && i < start + n) owned.push_back(i);
      }
      res.verify = verify_against_reference<Opt, Layout>(vs, *replay, idx, p_host.data(), nullptr, {});
      if (nstates > 0) {
        std::vector<const S*> states;
        for (auto& v : full)
          states.push_back(v.data());
        const VerifyResult vb =
            verify_against_reference<Opt, Layout>(vs, *replay, owned, p_host.data(), nullptr, states, false);
        res.verify.mismatches += vb.mismatches;
        res.verify.passed = res.verify.passed && vb.passed;
        if (vb.worst_ratio > res.verify.worst_ratio) {
          res.verify.worst_ratio = vb.worst_ratio;
          res.verify.worst_index = vb.worst_index;
          res.verify.worst_what = vb.worst_what;
          res.verify.worst_got = vb.worst_got;
          res.verify.worst_want = vb.worst_want;
        }
      }
    }
    res.verify.mode = mode;
    res.verify.passed = all_ranks_true(res.verify.passed, proc);
  }
  res.rank_detail = gather_strings_to_root(describe_rank(proc, res.device), proc);
  return res;
}

template <class Exec>
RunOutput DpRun::run(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  RunOutput out;
  with_rule_and_layout(cfg, [&](auto opt, auto layout) {
    using Layout = decltype(layout);
    if constexpr (!Layout::has_master &&
                  std::is_same<typename Layout::param_t, typename Layout::compute_t>::value) {
      const DpResult r = run_dp_typed<Exec, typename decltype(opt)::type, Layout>(cfg, proc, progress);
      out.record = dp_record(cfg, proc, r);
      out.table = dp_table(cfg, proc, r);
      if (r.verify.mode != "off" && !r.verify.passed) out.failure = describe_failure(r.verify);
      if (!r.ranks_agree)
        out.failure += (out.failure.empty() ? "" : "; ") +
                       std::string("ranks hold different parameters (hash here ") + r.params_hash + ")";
    } else {
      throw InputError("data-parallel runs support --dtype fp32 and fp64 (got " + cfg.dtype + ")");
    }
  });
  return out;
}

}  // namespace nagbench
