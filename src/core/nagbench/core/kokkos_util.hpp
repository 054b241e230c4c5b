#pragma once
// Small Kokkos helpers every layer that writes kernels shares: which execution spaces run on the host, packs
// for 16-byte vector loads and stores, and loop unrolling in each compiler's spelling.
#include <Kokkos_Core.hpp>
#include <cstddef>
#include <cstdint>

// Full unrolling of a fixed-count loop, in the spelling each compiler understands (GCC warns on `#pragma
// unroll`).
#if defined(__CUDACC__) || defined(__clang__)
#define NAGBENCH_UNROLL _Pragma("unroll")
#else
#define NAGBENCH_UNROLL _Pragma("GCC unroll 16")
#endif

// Host loops that may use fused multiply-add instructions are compiled twice: for the baseline instruction
// set and for x86-64 with FMA (and the AVX that comes with it), picked at run time by host_has_fma().
// Floating-point contraction is off for host code (-ffp-contract=off, CMakeLists.txt), so the FMA build
// computes exactly what the baseline build does, except where code asks for a fused multiply-add by name
// (nagbench::fma_host).
#if defined(__x86_64__) && !defined(__CUDA_ARCH__)
#define NAGBENCH_HOST_FMA_TARGET __attribute__((target("fma")))
#else
#define NAGBENCH_HOST_FMA_TARGET
#endif

// Kokkos' mathematical functions moved from Kokkos::Experimental (3.x) to Kokkos (3.7 on; the Experimental
// names are gone in 4.x): the workloads call them through these names, which work with both.
#if KOKKOS_VERSION >= 30700
#define NAGBENCH_KOKKOS_MATH_NS Kokkos
#else
#define NAGBENCH_KOKKOS_MATH_NS Kokkos::Experimental
#endif
namespace nagbench::kmath {
template <class T>
KOKKOS_FORCEINLINE_FUNCTION T exp(T x) {
  return NAGBENCH_KOKKOS_MATH_NS::exp(x);
}
template <class T>
KOKKOS_FORCEINLINE_FUNCTION T log(T x) {
  return NAGBENCH_KOKKOS_MATH_NS::log(x);
}
template <class T>
KOKKOS_FORCEINLINE_FUNCTION T log1p(T x) {
  return NAGBENCH_KOKKOS_MATH_NS::log1p(x);
}
template <class T>
KOKKOS_FORCEINLINE_FUNCTION T sqrt(T x) {
  return NAGBENCH_KOKKOS_MATH_NS::sqrt(x);
}
}  // namespace nagbench::kmath

namespace nagbench {

// True when this CPU executes fused multiply-add instructions (x86-64: FMA3; every aarch64 CPU).
inline bool host_has_fma() {
#if defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx");
  return has;
#else
  return true;
#endif
}

// a * b + c with one rounding, on the device and on the host (where host code compiled for FMA makes it one
// instruction; elsewhere it is the C library's correctly rounded fma).
KOKKOS_FORCEINLINE_FUNCTION float fused_multiply_add(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return __builtin_fmaf(a, b, c);
#endif
}
KOKKOS_FORCEINLINE_FUNCTION double fused_multiply_add(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __fma_rn(a, b, c);
#else
  return __builtin_fma(a, b, c);
#endif
}

// Products and sums rounded one at a time, never merged into a fused multiply-add: on GPUs nvcc contracts a *
// b + c into an FMA wherever it likes (--fmad=true), and where it does depends on the surrounding kernel, so
// the same expression gave different bits in different variants; these intrinsics are never contracted. Hosts
// compile with contraction off (CMakeLists.txt), so there they are the plain operators.
KOKKOS_FORCEINLINE_FUNCTION float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
KOKKOS_FORCEINLINE_FUNCTION double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
KOKKOS_FORCEINLINE_FUNCTION float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
KOKKOS_FORCEINLINE_FUNCTION double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

// True for execution spaces whose memory the host reads directly (OpenMP, Serial, Threads).
template <class Exec>
constexpr bool is_host_space() {
  return Kokkos::SpaceAccessibility<Kokkos::DefaultHostExecutionSpace,
                                    typename Exec::memory_space>::accessible;
}

// W consecutive elements of one type, aligned to their size (at most 16 bytes), so that a pack loads and
// stores with the widest instructions the GPU has (LDG.128 / STG.128 for 16 bytes).
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
