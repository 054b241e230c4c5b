#pragma once
// The device side of --comm p2p's cross-rank protocol (p2p.cpp describes it): per rank an array of 2 x
// buckets flags, ready[k] then done[k], each holding the last step number that reached it, in memory every
// rank has mapped. Shared by the communicator's one-thread kernels and the harness's persistent
// reduce-update, which waits for ready[k] and publishes done[k] itself.
#include <Kokkos_Core.hpp>
#include <cstdint>

namespace nagbench {

inline constexpr int kMaxP2pRanks = 8;

struct P2pFlags {
  volatile uint64_t* f[kMaxP2pRanks] = {};  // every rank's flags, by rank
  volatile uint64_t* mine = nullptr;        // this rank's
  int ranks = 0;
  int buckets = 0;  // ready[k] = f[r][k], done[k] = f[r][buckets + k]
};

// A store made visible to every GPU: the writes before it first, then the flag.
KOKKOS_INLINE_FUNCTION void publish_flag(volatile uint64_t* flag, uint64_t value) {
#ifdef __CUDA_ARCH__
  __threadfence_system();
#endif
  *flag = value;
#ifdef __CUDA_ARCH__
  __threadfence_system();
#endif
}

// Until every rank's flag `index` holds at least `value`; reads after it see what the peers wrote before.
KOKKOS_INLINE_FUNCTION void wait_flags(const P2pFlags& t, int index, uint64_t value) {
  for (int r = 0; r < kMaxP2pRanks; ++r) {
    if (r >= t.ranks) break;
    while (t.f[r][index] < value) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
      __nanosleep(32);
#endif
    }
  }
#ifdef __CUDA_ARCH__
  __threadfence_system();
#endif
}

}  // namespace nagbench
