#pragma once
// TrainRun::run<Exec>; included by the per-backend instantiation files (harness/run_kinds_impl.hpp).
#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <type_traits>
#include <vector>

#include "nagbench/comm/buckets.hpp"
#include "nagbench/comm/registry.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/exec_event.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/core/watchdog.hpp"
#include "nagbench/harness/checked_steps.hpp"
#include "nagbench/harness/collectives.hpp"
#include "nagbench/harness/dp/dp.hpp"
#include "nagbench/harness/dp/reduce_update_args.hpp"
#include "nagbench/harness/dp/step_spaces.hpp"
#include "nagbench/harness/rule_checks.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/sizing.hpp"
#include "nagbench/harness/train/train.hpp"
#include "nagbench/harness/typed.hpp"
#include "nagbench/optim/variants/reduce_update.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/workload/workloads.hpp"

namespace nagbench {

namespace train_detail {

inline double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Sum over the real elements (padding excluded) of g_i * v_i, in float64.
template <class Exec, class T>
double dot(const Exec& exec, const ArenaLayout& layout, const T* g, const T* v) {
  double total = 0;
  for (const auto& t : layout.tensors) {
    double part = 0;
    const int64_t o = t.offset;
    Kokkos::parallel_reduce(
        "nagbench::train::dot", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, t.numel),
        KOKKOS_LAMBDA(const int64_t i, double& acc) { acc += double(g[o + i]) * double(v[o + i]); }, part);
    total += part;
  }
  exec.fence();
  return total;
}

// A few elements of every tensor (all of a small one), the same on every rank.
inline std::vector<int64_t> check_indices(const ArenaLayout& layout, uint64_t seed) {
  std::vector<int64_t> idx;
  for (size_t t = 0; t < layout.tensors.size(); ++t) {
    const auto& s = layout.tensors[t];
    if (s.numel <= 64) {
      for (int64_t i = 0; i < s.numel; ++i)
        idx.push_back(s.offset + i);
    } else {
      for (int k = 0; k < 64; ++k)
        idx.push_back(s.offset + int64_t(mix64(seed + 7919 * t + k) % uint64_t(s.numel)));
    }
  }
  return idx;
}

template <class T, class Mem>
std::vector<double> gather(const T* base, const std::vector<int64_t>& idx) {
  std::vector<double> out;
  out.reserve(idx.size());
  for (int64_t i : idx) {
    T v;
    Kokkos::deep_copy(Kokkos::View<T, Kokkos::HostSpace>(&v), Kokkos::View<const T, Mem>(base + i));
    out.push_back(double(v));
  }
  return out;
}

}  // namespace train_detail

template <class Exec, class Opt, class Layout>
TrainResult run_train_typed(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  using C = typename Layout::compute_t;
  using Rule = typename Opt::template Rule<C>;
  using Mem = typename Exec::memory_space;
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using S = typename Layout::state_t;
  using Clock = std::chrono::steady_clock;
  static_assert(std::is_same<P, G>::value && std::is_same<P, S>::value, "training runs: fp32 and fp64");
  const auto h = hyper_of<Opt>(cfg);
  const int nstates = static_cast<int>(Opt::states(h).size());
  const int ranks = proc.size, rank = proc.rank;
  constexpr bool host = is_host_space<Exec>();

  TrainResult res;
  res.device = describe_device(cfg.backend);
  res.rule_description = h.describe();
  std::string memory_problem;
  try {
    check_memory_fits(TrainRun::memory_needed(cfg, res.device, ranks), res.device, progress);
  } catch (const InputError& e) {
    memory_problem = e.what();
  }
  if (!all_ranks_true(memory_problem.empty(), proc))
    throw InputError(memory_problem.empty() ? "another rank does not have the memory for this run"
                                            : memory_problem);
  const WorkloadSpec spec = workload_spec(cfg);
  const ArenaLayout tensors = configuration_arena(cfg);
  const BucketPlan plan = plan_buckets(tensors, ranks, cfg, int64_t(sizeof(G)));
  const int64_t length = plan.arena.length;
  const int nb = static_cast<int>(plan.buckets.size());
  res.params = tensors.params;
  res.tensors = static_cast<int64_t>(tensors.tensors.size());
  res.buckets = nb;

  StepSpaces<Exec> spaces(cfg.comm_high_priority);
  CommOptions copt;
  copt.mpi_path = cfg.mpi_path;
  copt.sharded = cfg.shard;
  copt.beside_compute = true;  // the backward's GEMMs run beside the reductions
  auto comm = make_communicator<Exec>(cfg.comm, spaces.comm_spaces(), copt, proc);
  res.comm_name = comm->name();
  res.comm_path = comm->path();
  const bool sharded = cfg.shard;

  ParamArena<Layout, Mem> arena(length, nstates, length, comm->arena_allocator());
  const ArenaPointers<Layout> ptr = arena.pointers();
  const Exec plain;
  auto workload = make_workload<Exec, Layout>(spec, proc);
  if (!workload->has_objective()) throw InputError("workload " + cfg.workload + " has no objective to train");
  workload->initialize(plain, ptr, plan.arena);  // every rank starts from the same parameters
  Kokkos::deep_copy(plain, arena.g, G(0));       // padding stays zero through every reduction
  poison_states(plain, arena);
  Kokkos::fence();
  res.problem = workload->describe();
  res.problem["backward"] = workload->has_backward();
  res.samples_per_step_rank = workload->samples_per_step();
  res.samples_per_step = workload->global_samples_per_step();
  res.steps_per_epoch = std::max<int64_t>(1, workload->steps_per_epoch());

  CommSetup cs;
  cs.grad = ptr.g;
  cs.param = ptr.p;
  cs.type = sizeof(G) == 4 ? ElemType::f32 : ElemType::f64;
  cs.plan = plan;
  cs.sharded = sharded;
  comm->setup(cs);
  // Replicated groups (every bucket's tensor pieces): the replicated step and the no-communication baseline.
  UpdateGroups<Layout> groups;
  for (int k = 0; k < nb; ++k)
    groups.push_back({ptr, segments_within(plan.arena, plan.buckets[k].start,
                                           plan.buckets[k].start + plan.buckets[k].length)});
  auto variant = make_variant<Exec, Layout, Rule>(cfg.variant);
  variant->prepare(spaces.update(), groups);
  // Sharded (--shard): this rank's shard of each bucket, its reduced gradient where the communicator leaves
  // it. The states stay at full length, each shard's at its arena position, so that the no-communication
  // baseline can run in the same launch; the sharded step touches 1/ranks of them.
  UpdateGroups<Layout> shard_groups;
  decltype(variant) shard_variant;
  if (sharded) {
    for (int k = 0; k < nb; ++k) {
      const int64_t start = plan.shard_start(k, rank);
      ArenaPointers<Layout> base = ptr;
      base.p = ptr.p + start;
      base.g = ptr.g + plan.buckets[size_t(k)].start + comm->reduced_slice_offset(k);
      for (int st = 0; st < nstates; ++st)
        base.s[st] = ptr.s[st] + start;
      shard_groups.push_back({base, {{0, plan.shard_length(k)}}});
    }
    shard_variant = make_variant<Exec, Layout, Rule>(cfg.variant);
    shard_variant->prepare(spaces.update(), shard_groups);
  }
  // --comm p2p: each bucket's update is the reduce-update kernel over every rank's mapped arenas (sharded:
  // this rank's shard; replicated: the bucket's tensor pieces).
  const PeerArenas* peers = comm->peer_arenas();
  std::vector<ReduceUpdateArgs<Layout>> fused(peers ? size_t(nb) : 0);
  std::vector<std::vector<Segment>> fused_segments(fused.size());
  if (peers) {
    check_peer_table(*peers, ranks);
    for (int k = 0; k < nb; ++k) {
      const UpdateGroup<Layout>& g = sharded ? shard_groups[size_t(k)] : groups[size_t(k)];
      fused[size_t(k)] =
          reduce_update_args<Layout>(*peers, ptr.p, g.base.p - ptr.p, plan.shard_length(k), sharded, rank,
                                     ranks, k == comm->skipped_bucket(), g.base.s, nstates);
      fused_segments[size_t(k)] = g.segments;
    }
  }
  // The communicator that measures one allreduce of all gradients (the overlap ratio's yardstick): p2p does
  // not serve a plain allreduce, so NCCL's (MPI's on hosts or without NCCL) does it, in buffers of its own.
  std::unique_ptr<Communicator<Exec>> reference_owner;
  Communicator<Exec>* reference = comm.get();
  const ElemType elem_type = cs.type;
  void* reference_buffer = ptr.g;
  Kokkos::View<G*, Mem> reference_view;
  if (peers && ranks > 1) {
    // NCCL takes one GPU per rank: ranks that share GPUs measure MPI's.
    const std::string name = (!host && NcclBackend::compiled_in() && !cfg.allow_gpu_sharing) ? "nccl" : "mpi";
    CommOptions ropt;
    ropt.mpi_path = cfg.mpi_path;
    reference_owner = make_communicator<Exec>(name, spaces.comm_spaces(), ropt, proc);
    reference = reference_owner.get();
    if (ArenaAllocator* a = reference->arena_allocator()) {
      reference_buffer = a->allocate(length * int64_t(sizeof(G)), "nagbench::allreduce_reference");
    } else {
      reference_view = Kokkos::View<G*, Mem>("nagbench::allreduce_reference", size_t(length));
      reference_buffer = reference_view.data();
    }
  }
  // One untimed allreduce before the first step: NCCL sets up its connections lazily, on the first
  // collective (about 0.9 s on 2 x H200), which is not the cost of a training step. g is zero: it stays zero.
  if (ranks > 1) {
    WatchdogGuard watch("the first allreduce");
    if (reference != comm.get())
      Kokkos::deep_copy(Kokkos::View<G*, Mem, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
                            static_cast<G*>(reference_buffer), size_t(length)),
                        G(0));
    Kokkos::fence();
    reference->allreduce(reference_buffer, reference_buffer, length, elem_type);
    reference->synchronize();
  }
  std::vector<GradientRange> ranges;
  for (const auto& b : plan.buckets)
    ranges.push_back({b.start, b.start + b.length});
  std::vector<ExecEvent<Exec>> ready;
  for (int k = 0; k < nb; ++k)
    ready.emplace_back();

  // The objective where theory measures it: the rule's iterate (Nesterov 1983: x_k, a state array) or p.
  constexpr int kIterate = Opt::kIterateState;
  const auto evaluate = [&](bool at_p) {
    const P* at =
        (kIterate >= 0 && !at_p) ? reinterpret_cast<const P*>(ptr.s[kIterate >= 0 ? kIterate : 0]) : ptr.p;
    LossParts tr = workload->evaluate(spaces.compute(), at, Split::train);
    LossParts te;
    if (workload->has_test_split()) te = workload->evaluate(spaces.compute(), at, Split::test);
    const std::vector<double> sums = sum_over_ranks(
        {tr.loss_sum, double(tr.count), tr.correct, te.loss_sum, double(te.count), te.correct}, proc);
    CurvePoint c;
    c.loss = (sums[1] > 0 ? sums[0] / sums[1] : 0.0) + tr.regularizer;
    if (workload->is_classifier() && sums[1] > 0) c.train_accuracy = sums[2] / sums[1];
    if (sums[4] > 0) {
      c.test_loss = sums[3] / sums[4];
      c.test_accuracy = workload->is_classifier() ? sums[5] / sums[4] : -1;
      if (!workload->is_classifier()) c.test_accuracy = -1;
    }
    return c;
  };

  res.has_optimum = cfg.has_optimum || std::isfinite(workload->known_optimum());
  res.optimum = cfg.has_optimum ? cfg.optimum : workload->known_optimum();
  if (cfg.target > 0 && !res.has_optimum)
    throw InputError(
        "--target is a relative gap and needs the optimum: give --optimum F (for example from "
        "SciPy), or use --target-loss");
  const int64_t max_steps = cfg.epochs > 0 ? int64_t(cfg.epochs) * res.steps_per_epoch : int64_t(cfg.steps);
  const int64_t eval_every =
      cfg.restart == "function" ? 1 : (cfg.eval_every > 0 ? cfg.eval_every : res.steps_per_epoch);

  CurvePoint c0 = evaluate(true);
  res.initial_loss = c0.loss;
  res.curve.push_back(c0);
  const double gap0 = res.initial_loss - res.optimum;
  const auto target_met = [&](double loss) {
    if (cfg.target > 0) return gap0 > 0 ? (loss - res.optimum) <= cfg.target * gap0 : true;
    if (cfg.has_target_loss) return loss <= cfg.target_loss;
    return false;
  };
  if (target_met(c0.loss)) res.target_step = 0;

  // Theory's curve (quadratic), for the same number of steps, and its own step at the target.
  if (cfg.theory && cfg.restart == "none") {
    res.theory = workload->theory_curve(spaces.compute(), cfg.optimizer, cfg.hyper, max_steps,
                                        cfg.target > 0 ? cfg.target * 1e-3 : 0.0);
    if (cfg.target > 0)
      for (size_t k = 0; k < res.theory.size(); ++k)
        if (res.theory[k] <= cfg.target) {
          res.theory_target_step = int64_t(k);
          break;
        }
  }

  const std::vector<int64_t> check_idx = train_detail::check_indices(tensors, cfg.seed);
  // Sharded: which checked elements this rank's shards hold (their states live here only). The checks sum
  // every rank's owned values (zero elsewhere) over ranks, so each rank sees every state and checks it all.
  std::vector<bool> owned(check_idx.size(), !sharded);
  if (sharded)
    for (size_t e = 0; e < check_idx.size(); ++e)
      for (int k = 0; k < nb; ++k) {
        const int64_t start = plan.shard_start(k, rank);
        if (check_idx[e] >= start && check_idx[e] < start + plan.shard_length(k)) owned[e] = true;
      }
  const auto owned_values_of_all_ranks = [&](std::vector<double> v) {
    for (size_t e = 0; e < v.size(); ++e)
      if (!owned[e]) v[e] = 0;
    return sum_over_ranks(v, proc);
  };
  std::vector<double> t_grad, t_comm, t_update, t_total, t_backward;
  double elapsed = 0, previous_loss = c0.loss;
  int64_t since_restart = 0;
  // Events of the overlapped step: its start, each bucket's gradient ready, reduced and updated (timing
  // events, so one step can be drawn as a timeline and the backward timed on the device's clock).
  ExecEvent<Exec> ev_start(true);
  std::vector<ExecEvent<Exec>> ev_ready, ev_reduced, ev_updated;
  for (int k = 0; k < nb; ++k) {
    ev_ready.emplace_back(true);
    ev_reduced.emplace_back(true);
    ev_updated.emplace_back(true);
  }
  // Holds rank 0 back before its backward (tests only): with --debug-early-reduce a reduction that does not
  // wait for its gradient then certainly reads one the backward has not written: NCCL's and MPI's start on
  // the early event, and p2p's peers, not delayed, read rank 0's gradient while it still waits. GPUs spin a
  // kernel on the compute stream, hosts sleep.
  const auto delay = [&]() {
    if (!cfg.debug_early_reduce || rank != 0) return;
    if (host) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return;
    }
    Kokkos::parallel_for(
        "nagbench::train::delay", Kokkos::RangePolicy<Exec>(spaces.compute(), 0, 1),
        KOKKOS_LAMBDA(const int) {
          volatile double x = 1;
          for (int i = 0; i < 20000000; ++i)
            x = x * 1.0000001;
        });
  };
  // The negative test's bug (--debug-early-reduce): bucket 0's reduction starts before the backward, on an
  // event taken before it, so it reads a gradient the backward has not written yet.
  ExecEvent<Exec> ev_too_early;
  const bool early = cfg.debug_early_reduce;
  // One step. Phased (overlap off, and the first step): gradient, reductions, update one after the other,
  // each fenced and timed on the host. Overlapped: each bucket's reduction starts as soon as the backward
  // has produced it (an event per bucket, no device-wide synchronisation), on the high-priority comm stream,
  // and its update as soon as its reduction ends; with_comm false is the no-communication baseline (each
  // rank updates with its own gradient, like DDP's no_sync). Returns the host time of the step.
  struct StepTimes {
    double total = 0, grad = -1, comm = -1, update = -1, backward = -1;
  };
  // Sharded and p2p runs update each bucket where the communicator says (this rank's shard, or the fused
  // reduce-update over every rank's gradient) and then tell it the bucket is done (start_gather).
  const bool distributed_update = sharded || peers != nullptr;
  const auto update_bucket = [&](int k, const Rule& rule, bool first, bool with_comm) {
    if (with_comm && peers) {
      for (const Segment& seg : fused_segments[size_t(k)])
        reduce_update_segment(spaces.update(), fused[size_t(k)], seg, rule, first);
    } else if (with_comm && sharded) {
      shard_variant->step(spaces.update(), rule, first, k);
    } else {
      variant->step(spaces.update(), rule, first, k);
    }
  };
  const auto step_once = [&](int64_t s, const Rule& rule, bool first, bool phased, bool with_comm,
                             const std::function<void()>& before_update) {
    StepTimes t;
    Kokkos::fence();
    const auto t0 = Clock::now();
    ev_too_early.record(spaces.compute());
    // The negative test's early start comes before rank 0's delay, so that peers find its gradient unwritten.
    if (!phased && with_comm && early) comm->start_reduction(0, ev_too_early);
    delay();
    if (phased) {
      workload->produce_gradients(spaces.compute(), ptr, s, ranges,
                                  [&](int k) { ev_ready[size_t(k)].record(spaces.compute()); });
      spaces.compute().fence();
      const auto t1 = Clock::now();
      if (with_comm) {
        for (int k = 0; k < nb; ++k)
          comm->start_reduction(k, ev_ready[size_t(k)]);
        for (int k = 0; k < nb; ++k)
          comm->wait_reduction(k, spaces.update());
        if (!distributed_update) comm->finish();
      }
      spaces.update().fence();
      const auto t2a = Clock::now();
      if (before_update) before_update();  // untimed
      const auto t2 = Clock::now();
      for (int k = 0; k < nb; ++k)
        update_bucket(k, rule, first, with_comm);
      spaces.update().fence();
      const auto t3 = Clock::now();
      // Sharded: the gathers of the updated shards count as communication (p2p: the wait for the peers).
      double gather_s = 0;
      if (with_comm && distributed_update) {
        for (int k = 0; k < nb; ++k)
          comm->start_gather(k, spaces.update());
        comm->finish();
        spaces.update().fence();
        gather_s = train_detail::seconds(t3, Clock::now());
      }
      t.grad = train_detail::seconds(t0, t1);
      t.comm = train_detail::seconds(t1, t2a) + gather_s;
      t.update = train_detail::seconds(t2, t3);
      t.total = t.grad + t.comm + t.update;
      return t;
    }
    ev_start.record(spaces.compute());
    workload->produce_gradients(spaces.compute(), ptr, s, ranges, [&](int k) {
      ev_ready[size_t(k)].record(spaces.compute());
      if (with_comm) {
        if (!(early && k == 0)) comm->start_reduction(k, ev_ready[size_t(k)]);
        if (!host) ev_reduced[size_t(k)].record(spaces.comm_spaces().comm);
      }
      comm->progress();
    });
    for (int k = 0; k < nb; ++k) {
      if (with_comm) {
        comm->wait_reduction(k, spaces.update());
        // The update also waits for the gradient itself (the `none` communicator orders nothing).
        ev_ready[size_t(k)].make_wait(spaces.update());
        if (host) ev_reduced[size_t(k)].record(spaces.update());
      } else {
        ev_ready[size_t(k)].make_wait(spaces.update());
        ev_reduced[size_t(k)].record(spaces.update());
      }
      update_bucket(k, rule, first, with_comm);
      ev_updated[size_t(k)].record(spaces.update());
      if (with_comm && distributed_update) {
        if (host) spaces.update().fence();
        comm->start_gather(k, spaces.update());
      }
      comm->progress();
    }
    if (with_comm) comm->finish();
    spaces.update().fence();
    spaces.compute().fence();
    t.total = train_detail::seconds(t0, Clock::now());
    t.backward = ev_ready[size_t(nb - 1)].seconds_since(ev_start);
    return t;
  };

  // The update check's inputs, sampled before a step: p, the states, and the average of every rank's own
  // gradient of this step (each rank computes its gradient once more, untimed, and the samples are summed in
  // float64 over ranks), so that a reduction that read a stale or partial gradient fails the check too.
  struct Snapshot {
    std::vector<double> p, g_expected, g_abs;  // g_abs: the sum over ranks of |g_r| (for the tolerance)
    std::vector<std::vector<double>> s;
  };
  const auto snapshot = [&](int64_t s, bool first, bool with_comm) {
    Snapshot snap;
    snap.p = train_detail::gather<P, Mem>(ptr.p, check_idx);
    snap.s.resize(size_t(nstates));
    if (!first)
      for (int k = 0; k < nstates; ++k) {
        snap.s[size_t(k)] = train_detail::gather<S, Mem>(ptr.s[k], check_idx);
        if (sharded && with_comm) snap.s[size_t(k)] = owned_values_of_all_ranks(snap.s[size_t(k)]);
      }
    workload->produce_gradients(spaces.compute(), ptr, s, ranges, [](int) {});
    spaces.compute().fence();
    if (res.gradient_check.empty()) {
      const std::string bad = workload->check_gradient(spaces.compute(), ptr, s);
      if (!bad.empty())
        res.gradient_check = "rank " + std::to_string(rank) + " step " + std::to_string(s) + ": " + bad;
    }
    snap.g_expected = train_detail::gather<G, Mem>(ptr.g, check_idx);
    snap.g_abs.resize(snap.g_expected.size());
    for (size_t e = 0; e < snap.g_expected.size(); ++e)
      snap.g_abs[e] = std::abs(snap.g_expected[e]);
    // p2p's push form: the inbox too, before the collective below, which no peer passes (and so pushes this
    // step's gradient) before this rank has poisoned it: a push that lands late leaves NaN, not last step's
    // sum.
    if (with_comm && peers && peers->inbox) {
      Kokkos::deep_copy(spaces.compute(),
                        Kokkos::View<G*, Mem, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
                            static_cast<G*>(peers->inbox), size_t(length)),
                        std::numeric_limits<G>::quiet_NaN());
      spaces.compute().fence();
    }
    if (with_comm) {
      snap.g_expected = sum_over_ranks(snap.g_expected, proc);
      snap.g_abs = sum_over_ranks(snap.g_abs, proc);
    }
    // Poisoned, so that the step must produce every gradient again before anything reads it.
    for (const auto& t : tensors.tensors)
      Kokkos::deep_copy(spaces.compute(),
                        Kokkos::subview(arena.g, std::make_pair(t.offset, t.offset + t.numel)),
                        std::numeric_limits<G>::quiet_NaN());
    spaces.compute().fence();
    return snap;
  };
  // Sharded and p2p steps leave no reduced gradient in memory to compare (p2p never writes it; a sharded
  // reduce-scatter leaves a slice): p and the states are checked against the reference fed the float64 sum of
  // every rank's gradient, with a tolerance that covers the working-precision sum's rounding.
  const auto check_update = [&](const Snapshot& snap, int64_t s, bool first, bool with_comm,
                                int64_t rule_step) {
    const int grad_ranks = with_comm ? ranks : 1;
    const bool reduced_in_memory = !with_comm || !distributed_update;
    std::vector<std::vector<double>> s_new(static_cast<size_t>(nstates));
    for (int k = 0; k < nstates; ++k) {  // collective when sharded: before any rank may return
      s_new[size_t(k)] = train_detail::gather<S, Mem>(ptr.s[k], check_idx);
      if (sharded && with_comm) s_new[size_t(k)] = owned_values_of_all_ranks(s_new[size_t(k)]);
    }
    if (!res.update_check.empty()) return;
    const std::vector<double> g_now = train_detail::gather<G, Mem>(ptr.g, check_idx);
    const std::vector<double> p_new = train_detail::gather<P, Mem>(ptr.p, check_idx);
    const ErrorBounds eb = Opt::error_bounds(h);
    const double u = sizeof(C) == 4 ? 5.96e-8 : 1.12e-16;
    const auto fail = [&](const std::string& what, int64_t i, double got, double want) {
      res.update_check = "rank " + std::to_string(rank) + " step " + std::to_string(s) + ": " + what + "[" +
                         std::to_string(i) + "] = " + std::to_string(got) + ", float64 reference " +
                         std::to_string(want);
    };
    for (size_t e = 0; e < check_idx.size(); ++e) {
      // The reduced gradient: a sum of grad_ranks values in the working precision, in any order, errs by at
      // most gamma_{ranks-1} sum_r |g_r| (Higham), whatever cancellation the sum has; twice that is allowed.
      const double g_tol = 2 * grad_ranks * u * snap.g_abs[e] + 1e-300;
      if (reduced_in_memory && !(std::abs(g_now[e] - snap.g_expected[e]) <= g_tol)) {
        fail("reduced gradient", check_idx[e], g_now[e], snap.g_expected[e]);
        return;
      }
      ReferenceState st;
      st.p = snap.p[e];
      st.initialized = !first;
      for (int k = 0; k < nstates; ++k)
        st.s[k] = first ? 0.0 : snap.s[size_t(k)][e];
      const double g_avg = (reduced_in_memory ? g_now[e] : snap.g_expected[e]) / grad_ranks;
      const double g_size =
          reduced_in_memory ? std::abs(g_avg) : std::max(std::abs(g_avg), snap.g_abs[e] / grad_ranks);
      double scale = std::abs(st.p) + eb.step * std::max(1.0, g_size);
      for (int k = 0; k < nstates; ++k)
        scale += std::abs(st.s[k]) + eb.state[k] * std::max(1.0, g_size);
      Opt::reference_step(h, st, g_avg, rule_step);
      // Without the reduced gradient in memory, the working-precision sum's own rounding (at most
      // gamma_{ranks-1} sum_r |g_r|, as g_tol) reaches p and the states through the rule's sensitivities.
      double sum_error = 0;
      if (!reduced_in_memory) {
        double sensitivity = eb.step;
        for (int k = 0; k < nstates; ++k)
          sensitivity += eb.state[k];
        sum_error = sensitivity * g_tol / grad_ranks;
      }
      const double tol = 32 * u * (scale + std::abs(st.p)) + sum_error;
      if (!(std::abs(p_new[e] - st.p) <= tol)) {
        fail("p", check_idx[e], p_new[e], st.p);
        return;
      }
      for (int k = 0; k < nstates; ++k)
        if (!(std::abs(s_new[size_t(k)][e] - st.s[k]) <= tol + 32 * u * std::abs(st.s[k]))) {
          fail("state", check_idx[e], s_new[size_t(k)][e], st.s[k]);
          return;
        }
    }
    res.update_checked += int64_t(check_idx.size());
  };

  progress.say("training " + cfg.workload + " (" + format_count(res.params) + " params) with " +
               cfg.optimizer + " on " + std::to_string(ranks) + " ranks, up to " + std::to_string(max_steps) +
               " steps, overlap " + (cfg.overlap ? "on" : "off"));
  bool last_overlapped = false;
  for (int64_t s = 0; s < max_steps && res.target_step < 0; ++s) {
    const bool first = s == 0;
    const bool check_step = s == 0 || s == 1 || s == max_steps - 1;
    const Rule rule = Opt::template make_rule<C>(h, ranks, since_restart, arithmetic_of(cfg));
    WatchdogGuard watch("a training step");
    Snapshot snap;
    if (check_step) snap = snapshot(s, first, true);
    // Gradient restart (O'Donoghue and Candes): restart when g(y_k) . (x_{k+1} - x_k) > 0, taken as
    // g . x_{k+1} - g . x_k with g the reduced gradient, the first dot between the reductions and the update
    // (untimed; such steps run phased).
    const bool gradient_restart = kIterate >= 0 && cfg.restart == "gradient" && !first;
    const bool phased = first || !cfg.overlap || gradient_restart;
    // p2p leaves each rank's own gradient in g (the sum never goes to memory): the dot is summed over ranks,
    // which is the dot with the summed gradient that the other paths hold.
    const auto g_dot_x = [&]() {
      const double d =
          train_detail::dot(spaces.update(), tensors, ptr.g, ptr.s[kIterate >= 0 ? kIterate : 0]);
      return peers ? sum_over_ranks({d}, proc)[0] : d;
    };
    double g_dot_x_before = 0;
    std::function<void()> hook;
    if (gradient_restart) hook = [&]() { g_dot_x_before = g_dot_x(); };
    const StepTimes st = step_once(s, rule, first, phased, true, hook);
    last_overlapped = !phased;
    if (check_step) {
      check_update(snap, s, first, true, since_restart);
      // A failed check ends the run on every rank (and its record says why).
      if (!all_ranks_true(res.update_check.empty() && res.gradient_check.empty(), proc)) {
        res.steps_run = s + 1;
        break;
      }
    }
    ++since_restart;
    bool restart = false;
    if (gradient_restart) restart = g_dot_x() - g_dot_x_before > 0;
    t_total.push_back(st.total);
    if (st.grad >= 0) {
      t_grad.push_back(st.grad);
      t_comm.push_back(st.comm);
      t_update.push_back(st.update);
    }
    if (st.backward >= 0) t_backward.push_back(st.backward);
    elapsed += st.total;
    res.steps_run = s + 1;
    if ((s + 1) % eval_every == 0 || s + 1 == max_steps) {
      CurvePoint c = evaluate(false);
      c.step = s + 1;
      c.time_s = elapsed;
      res.curve.push_back(c);
      if (!std::isfinite(c.loss))
        throw RunError("the objective diverged (loss " + std::to_string(c.loss) + " at step " +
                       std::to_string(s + 1) + "); lower --lr");
      if (cfg.restart == "function" && c.loss > previous_loss) restart = true;
      previous_loss = c.loss;
      if (target_met(c.loss)) {
        res.target_step = s + 1;
        res.target_time_s = elapsed;
      }
    }
    // Every rank takes part in the agreement (a restart anywhere restarts everywhere: replicas stay equal).
    if (kIterate >= 0 && cfg.restart != "none" && !all_ranks_true(!restart, proc)) {
      // y_{k+1} = x_{k+1}: the look-ahead point falls back to the iterate; the schedule starts again.
      Kokkos::deep_copy(spaces.update(), arena.p, arena.s[kIterate >= 0 ? kIterate : 0]);
      spaces.update().fence();
      since_restart = 0;
      ++res.restarts;
    }
    progress.tick("step " + std::to_string(s + 1) + "/" + std::to_string(max_steps) + ", loss " +
                  format_fixed(res.curve.back().loss, 6));
  }
  const auto read_timeline = [&]() {
    nlohmann::json t = nlohmann::json::array();
    for (int k = 0; k < nb; ++k)
      t.push_back({{"bucket", k},
                   {"elements", plan.buckets[size_t(k)].length},
                   {"gradient_ready_s", ev_ready[size_t(k)].seconds_since(ev_start)},
                   {"reduced_s", ev_reduced[size_t(k)].seconds_since(ev_start)},
                   {"updated_s", ev_updated[size_t(k)].seconds_since(ev_start)}});
    return t;
  };
  nlohmann::json timeline_comm, timeline_no_comm;
  if (last_overlapped) timeline_comm = read_timeline();
  res.grad = phase_timing(cfg.overlap ? t_backward : t_grad, proc);
  res.comm = phase_timing(cfg.overlap ? std::vector<double>{} : t_comm, proc);
  res.update = phase_timing(cfg.overlap ? std::vector<double>{} : t_update, proc);
  res.total = phase_timing(t_total, proc);
  auto p_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arena.p);
  res.params_hash = hash_params(p_host.data(), tensors.tensors);
  bool agree = true;
  for (const auto& x : gather_strings_to_root(res.params_hash, proc))
    agree = agree && x == res.params_hash;
  res.ranks_agree = all_ranks_true(agree, proc);
  // The same step with communication off (each rank keeps its own gradient, as DDP's no_sync) and one
  // allreduce of all the gradients, in the same launch, after the replicas were compared (they part here).
  // Every rank takes the same branch (a check may have failed on one rank only: the phase is collective).
  const bool all_checks_passed = all_ranks_true(res.update_check.empty() && res.gradient_check.empty(), proc);
  if (cfg.overlap && res.steps_run > 1 && all_checks_passed) {
    const int reps = static_cast<int>(std::min<int64_t>(std::max<int64_t>(res.steps_run - 1, 3), 30));
    std::vector<double> nc_total, nc_backward;
    for (int r = 0; r < 3 + reps; ++r) {
      const int64_t s = res.steps_run + r;
      const Rule rule_own = Opt::template make_rule<C>(h, 1, since_restart + r, arithmetic_of(cfg));
      WatchdogGuard watch("a step without communication");
      Snapshot snap;
      const bool check = r == 3;
      if (check) snap = snapshot(s, false, false);
      // Sharded runs kept the states of their shards only: the baseline starts its momentum afresh.
      const bool restart_states = sharded && r == 0;
      const StepTimes st = step_once(s, rule_own, restart_states, false, false, nullptr);
      if (check) check_update(snap, s, false, false, since_restart + r);
      if (r >= 3) {
        nc_total.push_back(st.total);
        nc_backward.push_back(st.backward);
      }
    }
    timeline_no_comm = read_timeline();
    res.no_comm_total = phase_timing(nc_total, proc);
    res.no_comm_backward = phase_timing(nc_backward, proc);
    std::vector<double> ar;
    if (ranks > 1)
      for (int r = 0; r < 3 + reps; ++r) {
        WatchdogGuard watch("an allreduce of all gradients");
        reference->synchronize();
        Kokkos::fence();
        const auto a0 = Clock::now();
        reference->allreduce(reference_buffer, reference_buffer, length, elem_type);
        reference->synchronize();
        if (r >= 3) ar.push_back(train_detail::seconds(a0, Clock::now()));
      }
    res.allreduce = phase_timing(ar, proc);
    if (ranks > 1)
      res.allreduce_comm_path =
          reference->name() + (reference->path() != reference->name() ? " (" + reference->path() + ")" : "");
    res.allreduce_bytes = length * int64_t(sizeof(G));
  }
  res.timeline = {{"with_comm", timeline_comm}, {"no_comm", timeline_no_comm}};
  {
    const auto all = gather_strings_to_root(res.timeline.dump(), proc);
    nlohmann::json per_rank = nlohmann::json::array();
    for (const auto& x : all)
      per_rank.push_back(nlohmann::json::parse(x));
    if (proc.rank == 0) res.timeline = per_rank;
  }
  // Every rank's checks, reported by rank 0: the first failure of any rank.
  for (std::string* check : {&res.gradient_check, &res.update_check}) {
    const auto all = gather_strings_to_root(*check, proc);
    for (const auto& x : all)
      if (check->empty() && !x.empty()) *check = x;
  }
  res.rank_detail = gather_strings_to_root(describe_rank(proc, res.device), proc);
  return res;
}

template <class Exec>
RunOutput TrainRun::run(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  RunOutput out;
  with_rule_and_layout(cfg, [&](auto opt, auto layout) {
    using Layout = decltype(layout);
    if constexpr (!Layout::has_master &&
                  std::is_same<typename Layout::param_t, typename Layout::compute_t>::value) {
      const TrainResult r = run_train_typed<Exec, typename decltype(opt)::type, Layout>(cfg, proc, progress);
      out.record = train_record(cfg, proc, r);
      out.table = train_table(cfg, proc, r);
      if (!r.verified()) {
        out.failure = !r.gradient_check.empty() ? r.gradient_check
                      : !r.update_check.empty()
                          ? r.update_check
                          : "ranks hold different parameters (hash here " + r.params_hash + ")";
      }
    } else {
      throw InputError("training runs support --dtype fp32 and fp64 (got " + cfg.dtype + ")");
    }
  });
  return out;
}

}  // namespace nagbench
