#pragma once
// NAGBENCH_P2P_KERNEL=persistent (--comm p2p, sharded dp runs, GPUs; experimental): one reduce-update kernel
// per step for every bucket, instead of three launches per bucket (the handshake on the comm stream, the
// reduce-update and the done flag on the update stream: about 11 us a bucket on an H200, which is what keeps
// 8 MiB buckets at 1.6x one allreduce; docs/data-parallel.md).
//
// A bounded grid walks the buckets in order. Per bucket, one thread of each block waits until every rank's
// ready[k] holds this step (the block waits at a barrier), the block updates its share of this rank's shard
// of the bucket (the same 16-byte packs as the per-bucket kernel), every thread fences its stores (system
// scope: they go to the peers' arenas), and the last block to finish the bucket (an atomic count per bucket
// that grows by the number of blocks every step) publishes done[k]. Blocks never wait for one another, so the
// kernel needs no co-residency; the grid takes part of each SM, leaving room for the comm stream's one-thread
// kernels that publish this rank's ready flags.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <vector>

#include "nagbench/comm/p2p_flags.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/optim/variants/reduce_update.hpp"

namespace nagbench {

template <class Layout, class Rule, class Fl, class Mem>
struct PersistentReduceUpdateKernel {
  Kokkos::View<const ReduceUpdateArgs<Layout>*, Mem> args;  // per bucket, at this rank's shard
  Kokkos::View<const int64_t*, Mem> lengths;                // the shard's elements, multiples of the pack
  Kokkos::View<unsigned long long*, Mem> counters;          // blocks done, per bucket, over all steps
  P2pFlags flags;
  Rule rule;
  Fl fl;
  uint64_t step = 0;
  int buckets = 0;

  template <class Member>
  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    constexpr int W = pack_width<Layout>();
    const int64_t threads = int64_t(team.league_size()) * team.team_size();
    const int64_t me = int64_t(team.league_rank()) * team.team_size() + team.team_rank();
    const unsigned long long all_blocks = static_cast<unsigned long long>(team.league_size()) * step;
    for (int k = 0; k < buckets; ++k) {
      if (team.team_rank() == 0) wait_flags(flags, k, step);
      team.team_barrier();
      const ReduceUpdateArgs<Layout> a = args(k);
      const int64_t packs = lengths(k) / W;
      for (int64_t q = me; q < packs; q += threads)
        detail::reduce_update_pack<Layout, Rule, W, Fl>(rule, fl, a, q * W);
#ifdef __CUDA_ARCH__
      __threadfence_system();  // this thread's stores (local and the peers' arenas) before the block's count
#endif
      team.team_barrier();
      if (team.team_rank() == 0 && Kokkos::atomic_fetch_add(&counters(k), 1ull) + 1 == all_blocks)
        publish_flag(flags.mine + flags.buckets + k, step);
    }
  }
};

template <class Exec, class Layout>
class PersistentReduceUpdate {
 public:
  using Mem = typename Exec::memory_space;
  using Args = ReduceUpdateArgs<Layout>;

  // One entry per bucket, in bucket order: its reduce-update arguments and its length (this rank's shard).
  void prepare(const std::vector<Args>& per_bucket, const std::vector<int64_t>& lengths, int blocks,
               int team_size) {
    constexpr int W = pack_width<Layout>();
    for (int64_t n : lengths)
      if (n % W != 0) throw RunError("persistent reduce-update: a shard is not a whole number of packs");
    nb_ = static_cast<int>(per_bucket.size());
    blocks_ = blocks;
    team_ = team_size;
    args_ = Kokkos::View<Args*, Mem>("nagbench::persistent_args", per_bucket.size());
    lengths_ = Kokkos::View<int64_t*, Mem>("nagbench::persistent_lengths", lengths.size());
    counters_ = Kokkos::View<unsigned long long*, Mem>("nagbench::persistent_counters", per_bucket.size());
    auto a = Kokkos::create_mirror_view(args_);
    auto l = Kokkos::create_mirror_view(lengths_);
    for (size_t k = 0; k < per_bucket.size(); ++k) {
      a(k) = per_bucket[k];
      l(k) = lengths[k];
    }
    Kokkos::deep_copy(args_, a);
    Kokkos::deep_copy(lengths_, l);
    Kokkos::deep_copy(counters_, 0ull);  // the communicator numbers its steps from 1 after setup
  }

  // Every bucket of this step (the communicator's step number `step`), enqueued on `exec`.
  template <class Rule>
  void launch(const Exec& exec, const Rule& rule, bool first_step, const P2pFlags& flags,
              uint64_t step) const {
    rule.with_step_flags(first_step, [&](auto fl) {
      using Fl = decltype(fl);
      PersistentReduceUpdateKernel<Layout, Rule, Fl, Mem> kernel{args_, lengths_, counters_, flags,
                                                                 rule,  fl,       step,      nb_};
      Kokkos::parallel_for("nagbench::persistent_reduce_update",
                           Kokkos::TeamPolicy<Exec>(exec, blocks_, team_), kernel);
    });
  }
  int blocks() const { return blocks_; }

 private:
  Kokkos::View<Args*, Mem> args_;
  Kokkos::View<int64_t*, Mem> lengths_;
  Kokkos::View<unsigned long long*, Mem> counters_;
  int nb_ = 0, blocks_ = 1, team_ = 512;
};

}  // namespace nagbench
