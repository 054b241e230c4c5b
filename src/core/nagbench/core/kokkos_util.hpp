#pragma once
// Small Kokkos helpers every layer that writes kernels shares: which execution spaces run on the host, packs for
// 16-byte vector loads and stores, and loop unrolling in each compiler's spelling.
#include <Kokkos_Core.hpp>
#include <cstddef>
#include <cstdint>

// Full unrolling of a fixed-count loop, in the spelling each compiler understands (GCC warns on `#pragma unroll`).
#if defined(__CUDACC__) || defined(__clang__)
#define NAGBENCH_UNROLL _Pragma("unroll")
#else
#define NAGBENCH_UNROLL _Pragma("GCC unroll 16")
#endif

namespace nagbench {

// True for execution spaces whose memory the host reads directly (OpenMP, Serial, Threads).
template <class Exec>
constexpr bool is_host_space() {
  return Kokkos::SpaceAccessibility<Kokkos::DefaultHostExecutionSpace, typename Exec::memory_space>::accessible;
}

// W consecutive elements of one type, aligned to their size (at most 16 bytes), so that a pack loads and stores
// with the widest instructions the GPU has (LDG.128 / STG.128 for 16 bytes).
template <class T, int W>
struct alignas(sizeof(T) * W < 16 ? sizeof(T) * W : 16) Pack {
  T v[W];
};

// Host memory a space's device can copy to and from asynchronously (pinned, for CUDA), for staging buffers.
template <class Exec>
struct StagingSpace {
  using type = Kokkos::HostSpace;
};
#ifdef KOKKOS_ENABLE_CUDA
template <>
struct StagingSpace<Kokkos::Cuda> {
  using type = Kokkos::CudaHostPinnedSpace;
};
#endif

// An unmanaged window of `bytes` bytes at `ptr` in memory space M, for copies between raw arena pointers.
template <class M>
Kokkos::View<char*, M, Kokkos::MemoryTraits<Kokkos::Unmanaged>> byte_window(void* ptr, int64_t bytes) {
  return Kokkos::View<char*, M, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(static_cast<char*>(ptr),
                                                                         static_cast<size_t>(bytes));
}

}  // namespace nagbench
