#pragma once
// Definitions of run_dp<Exec> and run_comm_only<Exec>; included by one .cpp per backend.
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#include "nagbench/comm/buckets.hpp"
#include "nagbench/comm/communicator.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/core/watchdog.hpp"
#include "nagbench/harness/collectives.hpp"
#include "nagbench/harness/dp_run.hpp"
#include "nagbench/harness/step_spaces.hpp"
#include "nagbench/harness/update_run.hpp"
#include "nagbench/optim/bytes_table.hpp"
#include "nagbench/optim/update_rule.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/workload/fill.hpp"

namespace nagbench {

namespace detail {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Fills in a phase from this rank's repetitions, gathering every rank's median (collective).
inline PhaseTiming phase_timing(const std::vector<double>& samples, const ProcessInfo& proc) {
  PhaseTiming t;
  t.measured = !samples.empty();
  const double median = t.measured ? summarize(samples).median : 0.0;
  if (t.measured) t.this_rank = summarize(samples);
  const auto medians = gather_to_root(median, proc);
  if (proc.rank == 0) t.ranks = spread_of_medians(medians);
  return t;
}


// The --comm-only pattern: small integers, so every partial sum is exact in float and the check is exact
// whatever order the library reduces in.
template <class Exec>
void fill_comm_pattern(float* d, int64_t n, int rank) {
  Kokkos::parallel_for(
      "nagbench::comm_fill", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(0, n),
      KOKKOS_LAMBDA(const int64_t i) { d[i] = float(i % 13 + rank + 1); });
  Kokkos::fence();
}

// Elements of d[0, n) that differ from the exact sum of every rank's fill_comm_pattern (small integers: exact
// in float). Counted where the data lives, every element, without copying the buffer to the host.
template <class Exec>
int64_t count_comm_pattern_mismatches(const float* d, int64_t n, int ranks) {
  int64_t bad = 0;
  Kokkos::parallel_reduce(
      "nagbench::comm_check", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(0, n),
      KOKKOS_LAMBDA(const int64_t i, int64_t& acc) {
        const double want = double(ranks) * double(i % 13 + 1) + double(ranks) * (ranks - 1) / 2.0;
        if (double(d[i]) != want) ++acc;
      },
      bad);
  return bad;
}

}  // namespace detail

template <class Exec, class Layout>
DpRunResult run_dp_typed(const Config& cfg, const ProcessInfo& proc, Progress& progress, Backend backend) {
  using Rule = UpdateRule<typename Layout::compute_t>;
  using Mem = typename Exec::memory_space;
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using M = typename Layout::mom_t;
  constexpr bool host = is_host_space<Exec>();
  static_assert(!Layout::has_master, "data-parallel runs support fp32 and fp64");

  DpRunResult res;
  const int ranks = proc.size, rank = proc.rank;
  res.device = describe_device(backend);
  // Every rank has the same sizes, so every rank reaches the same verdict; agree anyway before anything
  // starts. The need is computed in checked arithmetic before any plan or buffer is made.
  const int64_t roof_bytes = roof_bytes_per_array(cfg, res.device);
  std::string memory_problem;
  try {
    check_memory_fits(memory_needed(cfg, res.device, ranks), res.device, progress);
  } catch (const InputError& e) {
    memory_problem = e.what();
  }
  if (!all_ranks_true(memory_problem.empty(), proc))
    throw InputError(memory_problem.empty() ? "another rank does not have the memory for this run"
                                            : memory_problem);
  const ArenaLayout tensors = ArenaLayout::for_model(cfg.model);
  const int64_t bucket_elements =
      std::max<int64_t>(1, static_cast<int64_t>(cfg.bucket_mb * 1048576.0 / sizeof(G)));
  const BucketPlan plan = BucketPlan::make(tensors, ranks, bucket_elements, kMaxBuckets);
  const int64_t length = plan.arena.length;
  const bool momentum = cfg.hyper.has_momentum();
  const int64_t mom_length = momentum ? (cfg.shard ? plan.shard_total() : length) : 0;
  res.params = tensors.params;
  res.tensors = static_cast<int64_t>(tensors.tensors.size());
  res.arena_length = length;
  res.buckets = static_cast<int64_t>(plan.buckets.size());
  res.bytes_per_param = min_bytes_per_param(Layout::id, momentum);
  res.params_updated_per_rank = cfg.shard ? tensors.params / ranks : tensors.params;
  res.momentum_bytes_per_rank = mom_length * int64_t(sizeof(M));
  res.device_bytes_per_rank = length * int64_t(sizeof(P) + sizeof(G)) + res.momentum_bytes_per_rank;
  res.reduced_bytes = tensors.params * int64_t(sizeof(G));

  const Exec plain;
  res.roof = roof_for(cfg.backend, [&]() {
    progress.say("roof: copy and nstream over 3 x " + format_bytes_binary(double(roof_bytes)));
    return measure_roof(plain, roof_bytes, cfg.roof_reps);
  });

  StepSpaces<Exec> spaces(cfg.comm_high_priority);
  Kokkos::View<P*, Mem> p(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::p"), length);
  Kokkos::View<G*, Mem> g(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::g"), length);
  Kokkos::View<M*, Mem> b(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::b"), mom_length);
  {
    ParamArena<Layout, Mem> init;  // views over p and g: every rank starts from the same parameters
    init.p = p;
    init.g = g;
    fill_initial_state(plain, init, cfg.seed);
    Kokkos::deep_copy(b, std::numeric_limits<M>::quiet_NaN());  // poisoned: the first step must write it
    Kokkos::fence();
  }

  CommOptions copt;
  copt.comm = cfg.comm;
  copt.mpi_path = cfg.mpi_path;
  copt.device_memory = !host;
  copt.streams = spaces.handles();
  auto comm = make_communicator(copt, proc);
  res.comm_name = comm->name();
  res.comm_path = comm->path();
  res.comm_library = comm->library_version();
  CommSetup cs;
  cs.grad = g.data();
  cs.param = p.data();
  cs.type = sizeof(G) == 4 ? ElemType::f32 : ElemType::f64;
  cs.plan = plan;
  cs.sharded = cfg.shard;
  cs.skip_bucket = cfg.debug_skip_bucket;
  comm->setup(cs);

  // Update groups: per bucket, its tensor pieces (replicated) or this rank's shard (sharded); host backends
  // cut each bucket into slices so MPI can progress between them.
  const int slices = (host && cfg.comm == "mpi" && cfg.overlap) ? 4 : 1;
  UpdateGroups<Layout> groups;
  std::vector<std::vector<int>> groups_of_bucket(plan.buckets.size());
  int64_t mom_offset = 0;
  for (size_t k = 0; k < plan.buckets.size(); ++k) {
    const Bucket& bk = plan.buckets[k];
    ArenaPointers<Layout> base;
    std::vector<Segment> segs;
    if (!cfg.shard) {
      base.p = p.data();
      base.g = g.data();
      base.b = momentum ? b.data() : nullptr;
      segs = segments_within(plan.arena, bk.start, bk.start + bk.length);
    } else {
      const int64_t shard = plan.shard_length(static_cast<int>(k));
      base.p = p.data() + plan.shard_start(static_cast<int>(k), rank);
      base.g = g.data() + bk.start + comm->reduced_slice_offset(static_cast<int>(k));
      base.b = momentum ? b.data() + mom_offset : nullptr;
      mom_offset += shard;
      segs = {{0, shard}};
    }
    for (auto& slice : slice_segments(segs, slices)) {
      groups_of_bucket[k].push_back(static_cast<int>(groups.size()));
      groups.push_back({base, std::move(slice)});
    }
  }
  auto variant = make_variant<Exec, Layout, Rule>(cfg.variant);
  variant->prepare(spaces.update(), groups);
  const Rule rule(cfg.hyper, 1.0 / ranks);

  const int64_t total_steps = int64_t(1) + cfg.warmup + cfg.steps;
  std::vector<double> t_grad, t_comm, t_update, t_comm_update, t_total;
  progress.say(std::string("running ") + std::to_string(total_steps) +
               " data-parallel steps: " + cfg.model.name + ", " + std::to_string(ranks) + " ranks, " +
               cfg.comm + " (" + res.comm_path + "), " + (cfg.shard ? "sharded" : "replicated") +
               ", overlap " + (cfg.overlap ? "on" : "off") + ", " + std::to_string(plan.buckets.size()) +
               " buckets of <= " + format_fixed(cfg.bucket_mb, 1) + " MiB");
  auto update_bucket = [&](size_t k, bool first) {
    for (int gi : groups_of_bucket[k]) {
      variant->step(spaces.update(), rule, first, gi);
      comm->progress();
    }
  };
  for (int64_t s = 0; s < total_steps; ++s) {
    const bool first = s == 0;
    WatchdogGuard watch("a data-parallel step");
    if (rank == cfg.debug_stop_rank && s == cfg.warmup + 1) std::raise(SIGSTOP);  // tests: a hung rank
    Kokkos::fence();
    const auto t0 = std::chrono::steady_clock::now();
    produce_gradients(spaces.compute(), g.data(), 0, length, cfg.seed, rank, s);
    spaces.compute().fence();
    const double grad_s = detail::seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    double comm_s = 0, update_s = 0;
    if (cfg.overlap) {
      comm->start_reductions();
      for (size_t k = 0; k < plan.buckets.size(); ++k) {
        comm->wait_reduction(static_cast<int>(k));
        update_bucket(k, first);
        if (cfg.shard) {
          if (host) spaces.update().fence();
          comm->start_gather(static_cast<int>(k));
        }
      }
      comm->finish();
      spaces.update().fence();
    } else {
      comm->start_reductions();
      for (size_t k = 0; k < plan.buckets.size(); ++k)
        comm->wait_reduction(static_cast<int>(k));
      spaces.update().fence();  // the update stream waited for every reduction
      const auto t2 = std::chrono::steady_clock::now();
      for (size_t k = 0; k < plan.buckets.size(); ++k)
        update_bucket(k, first);
      spaces.update().fence();
      const auto t3 = std::chrono::steady_clock::now();
      if (cfg.shard)
        for (size_t k = 0; k < plan.buckets.size(); ++k)
          comm->start_gather(static_cast<int>(k));
      comm->finish();
      spaces.update().fence();
      update_s = std::chrono::duration<double>(t3 - t2).count();
      comm_s = std::chrono::duration<double>(t2 - t1).count() + detail::seconds_since(t3);
    }
    const double comm_update_s = detail::seconds_since(t1);
    const double total_s = detail::seconds_since(t0);
    if (s > cfg.warmup) {
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
  res.grad = detail::phase_timing(t_grad, proc);
  res.comm = detail::phase_timing(t_comm, proc);
  res.update = detail::phase_timing(t_update, proc);
  res.comm_update = detail::phase_timing(t_comm_update, proc);
  res.total = detail::phase_timing(t_total, proc);

  // Correctness: every rank holds the same bits, and they match the float64 reference built from every rank's
  // gradients (each rank checks p, and the momentum it holds).
  auto p_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p);
  auto b_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b);
  res.params_hash = hash_params(p_host.data(), tensors.tensors);
  const auto hashes = gather_strings_to_root(res.params_hash, proc);
  bool agree = true;
  for (const auto& h : hashes)
    agree = agree && h == res.params_hash;
  res.ranks_agree = all_ranks_true(agree, proc);

  VerifySpec vs;
  vs.hyper = cfg.hyper;
  vs.seed = cfg.seed;
  vs.ranks = ranks;
  vs.steps = total_steps;
  vs.mode = cfg.verify;
  const std::vector<int64_t> idx = verification_indices(tensors, vs, &res.verify.mode);
  if (res.verify.mode != "off") {
    progress.say("verifying " + format_count(int64_t(idx.size())) + " parameters (" + res.verify.mode +
                 ") against the float64 reference of " + std::to_string(ranks) + " ranks' gradients");
    const std::string mode = res.verify.mode;
    if (!cfg.shard) {
      res.verify = verify_against_reference<Layout>(vs, idx, p_host.data(), nullptr, b_host.data());
    } else {
      // This rank's momentum slices, placed at their arena positions; b is checked only where this rank owns
      // it.
      std::vector<M> b_full(momentum ? length : 0, std::numeric_limits<M>::quiet_NaN());
      std::vector<int64_t> owned;
      int64_t off = 0;
      for (size_t k = 0; k < plan.buckets.size() && momentum; ++k) {
        const int64_t start = plan.shard_start(static_cast<int>(k), rank),
                      n = plan.shard_length(static_cast<int>(k));
        std::copy(b_host.data() + off, b_host.data() + off + n, b_full.begin() + start);
        off += n;
        for (int64_t i : idx)
          if (i >= start && i < start + n) owned.push_back(i);
      }
      res.verify = verify_against_reference<Layout>(vs, idx, p_host.data(), nullptr, nullptr, true, false);
      if (momentum) {
        const VerifyResult vb =
            verify_against_reference<Layout>(vs, owned, p_host.data(), nullptr, b_full.data(), false, true);
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
DpRunResult run_dp(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  const Backend backend = parse_backend(cfg.backend);
  const DtypeLayout d = parse_dtype(cfg.dtype);
  if (d == DtypeLayout::fp64) return run_dp_typed<Exec, LayoutFp64>(cfg, proc, progress, backend);
  return run_dp_typed<Exec, LayoutFp32>(cfg, proc, progress, backend);
}

// --comm-only: an allreduce sweep reported like nccl-tests (time, algbw, busbw; out of place and in place).
template <class Exec>
CommOnlyResult run_comm_only(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  using Mem = typename Exec::memory_space;
  CommOnlyResult res;
  res.device = describe_device(parse_backend(cfg.backend));
  const int64_t max_bytes = *std::max_element(cfg.comm_sizes.begin(), cfg.comm_sizes.end());
  std::string memory_problem;
  try {
    check_memory_fits(memory_needed(cfg, res.device, proc.size), res.device, progress);
  } catch (const InputError& e) {
    memory_problem = e.what();
  }
  if (!all_ranks_true(memory_problem.empty(), proc))
    throw InputError(memory_problem.empty() ? "another rank does not have the memory for this sweep"
                                            : memory_problem);

  StepSpaces<Exec> spaces;
  CommOptions copt;
  copt.comm = cfg.comm;
  copt.mpi_path = cfg.mpi_path;
  copt.device_memory = !is_host_space<Exec>();
  copt.streams = spaces.handles();
  auto comm = make_communicator(copt, proc);
  res.comm_name = comm->name();
  res.comm_path = comm->path();
  res.comm_library = comm->library_version();

  // Messages start on a 4 KiB boundary, as cudaMalloc'd buffers do in nccl-tests and PyTorch; a View's data
  // sits just past Kokkos' allocation header.
  constexpr uintptr_t kAlignBytes = 4096;
  const int64_t max_count = max_bytes / 4, pad = int64_t(kAlignBytes) / 4;
  Kokkos::View<float*, Mem> send_alloc(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::send"),
                                       max_count + pad);
  Kokkos::View<float*, Mem> recv_alloc(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::recv"),
                                       max_count + pad);
  auto aligned = [&](float* p) {
    const auto addr = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<float*>((addr + kAlignBytes - 1) / kAlignBytes * kAlignBytes);
  };
  float* const send = aligned(send_alloc.data());
  float* const recv = aligned(recv_alloc.data());
  const int rank = proc.rank, ranks = proc.size;
  auto fill = [&](float* v, int64_t n) { detail::fill_comm_pattern<Exec>(v, n, rank); };
  auto check = [&](int64_t n) { return detail::count_comm_pattern_mismatches<Exec>(recv, n, ranks) == 0; };
  // Ranks start each timed repetition together: a one-element allreduce through the communicator itself
  // aligns them to its own latency (an MPI barrier on the host left GPUs milliseconds apart on some
  // machines).
  Kokkos::View<float*, Mem> align("nagbench::align", 1);
  auto start_together = [&]() {
    comm->allreduce(align.data(), align.data(), 1, ElemType::f32);
    comm->synchronize();
  };
  res.verified = true;
  for (int64_t bytes : cfg.comm_sizes) {
    AllreduceRow row;
    row.bytes = bytes;
    row.count = bytes / 4;
    const int64_t n = row.count;
    fill(send, n);
    comm->allreduce(send, recv, n, ElemType::f32);
    comm->synchronize();
    bool ok = check(n);
    fill(recv, n);
    comm->allreduce(recv, recv, n, ElemType::f32);
    comm->synchronize();
    ok = ok && check(n);
    row.verified = all_ranks_true(ok, proc);
    res.verified = res.verified && row.verified;
    for (int in_place = 0; in_place < 2; ++in_place) {
      const void* src = in_place ? static_cast<const void*>(recv) : static_cast<const void*>(send);
      std::vector<double> per_op;
      for (int w = 0; w < 3; ++w)
        comm->allreduce(src, recv, n, ElemType::f32);
      comm->synchronize();
      for (int r = 0; r < cfg.comm_reps; ++r) {
        WatchdogGuard watch("an allreduce repetition");
        start_together();
        const auto t0 = std::chrono::steady_clock::now();
        for (int it = 0; it < cfg.comm_iters; ++it)
          comm->allreduce(src, recv, n, ElemType::f32);
        comm->synchronize();
        per_op.push_back(detail::seconds_since(t0) / cfg.comm_iters);
      }
      (in_place ? row.in_place : row.out_of_place) = detail::phase_timing(per_op, proc);
    }
    if (proc.rank == 0)
      progress.say("allreduce " + format_bytes_binary(double(bytes)) + ": " +
                   format_seconds(row.out_of_place.ranks.slowest_median) + " out of place");
    res.rows.push_back(row);
  }
  res.rank_detail = gather_strings_to_root(describe_rank(proc, res.device), proc);
  return res;
}

}  // namespace nagbench
