#pragma once
// AllreduceRun::run<Exec>; included by the per-backend instantiation files (harness/run_kinds_impl.hpp).
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "nagbench/comm/registry.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/watchdog.hpp"
#include "nagbench/harness/allreduce/allreduce.hpp"
#include "nagbench/harness/collectives.hpp"
#include "nagbench/harness/dp/step_spaces.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/sizing.hpp"

namespace nagbench {

namespace allreduce_detail {

// The message pattern: small integers, so every partial sum is exact in float and the check is exact whatever
// order the library reduces in.
template <class Exec>
void fill_pattern(float* d, int64_t n, int rank) {
  Kokkos::parallel_for(
      "nagbench::comm_fill", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(0, n),
      KOKKOS_LAMBDA(const int64_t i) { d[i] = float(i % 13 + rank + 1); });
  Kokkos::fence();
}

// Elements of d[0, n) that differ from the exact sum of every rank's fill_pattern, counted where the data
// lives, every element, without copying the buffer to the host.
template <class Exec>
int64_t count_mismatches(const float* d, int64_t n, int ranks) {
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

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace allreduce_detail

template <class Exec>
RunOutput AllreduceRun::run(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  using Mem = typename Exec::memory_space;
  AllreduceResult res;
  res.device = describe_device(cfg.backend);
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
  copt.mpi_path = cfg.mpi_path;
  auto comm = make_communicator<Exec>(cfg.comm, spaces.comm_spaces(), copt, proc);
  res.comm_name = comm->name();
  res.comm_path = comm->path();
  res.comm_library = comm->library_version();

  // Messages start on a 4 KiB boundary, as cudaMalloc'd buffers do in nccl-tests and PyTorch; a View's data
  // sits just past Kokkos' allocation header.
  constexpr uintptr_t kAlignBytes = 4096;
  const int64_t max_bytes = *std::max_element(cfg.comm_sizes.begin(), cfg.comm_sizes.end());
  const int64_t max_count = max_bytes / 4, pad = int64_t(kAlignBytes) / 4;
  // A communicator with its own memory (NCCL with registered buffers) gets the messages from its allocator.
  ArenaAllocator* const own = comm->arena_allocator();
  const int64_t view_count = own ? 0 : max_count + pad;
  Kokkos::View<float*, Mem> send_alloc(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::send"),
                                       view_count);
  Kokkos::View<float*, Mem> recv_alloc(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::recv"),
                                       view_count);
  auto aligned = [&](float* p) {
    const auto addr = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<float*>((addr + kAlignBytes - 1) / kAlignBytes * kAlignBytes);
  };
  const int64_t buffer_bytes = (max_count + pad) * int64_t(sizeof(float));
  std::unique_ptr<void, std::function<void(void*)>> send_own, recv_own;
  if (own) {
    send_own = {own->allocate(buffer_bytes, "nagbench::send"), [own](void* q) { own->deallocate(q); }};
    recv_own = {own->allocate(buffer_bytes, "nagbench::recv"), [own](void* q) { own->deallocate(q); }};
  }
  float* const send = aligned(own ? static_cast<float*>(send_own.get()) : send_alloc.data());
  float* const recv = aligned(own ? static_cast<float*>(recv_own.get()) : recv_alloc.data());
  const int rank = proc.rank, ranks = proc.size;
  auto fill = [&](float* v, int64_t n) { allreduce_detail::fill_pattern<Exec>(v, n, rank); };
  auto check = [&](int64_t n) { return allreduce_detail::count_mismatches<Exec>(recv, n, ranks) == 0; };
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
        per_op.push_back(allreduce_detail::seconds_since(t0) / cfg.comm_iters);
      }
      (in_place ? row.in_place : row.out_of_place) = phase_timing(per_op, proc);
    }
    if (proc.rank == 0)
      progress.say("allreduce " + format_bytes_binary(double(bytes)) + ": " +
                   format_seconds(row.out_of_place.ranks.slowest_median) + " out of place");
    res.rows.push_back(row);
  }
  res.rank_detail = gather_strings_to_root(describe_rank(proc, res.device), proc);

  RunOutput out;
  out.record = allreduce_record(cfg, proc, res);
  out.table = allreduce_table(cfg, proc, res);
  for (const auto& row : res.rows)
    if (!row.verified && out.failure.empty())
      out.failure = "allreduce of " + std::to_string(row.bytes) + " B gave a wrong sum on some rank";
  return out;
}

}  // namespace nagbench
