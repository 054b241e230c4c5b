#pragma once
// Counter-based random numbers: value(stream, index) is a pure function, so a kernel on any backend, any rank
// and the host reference all draw the same number for the same (seed, kind, rank, step, index) without
// sharing state. Values are multiples of 2^-23 in [-1, 1), exact in float, double and (after rounding) bf16.
#include <Kokkos_Core.hpp>
#include <cstdint>

namespace nagbench {

KOKKOS_FORCEINLINE_FUNCTION uint64_t mix64(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

enum class RandomKind : uint64_t { initial_param = 1, gradient = 2, roof = 3 };

// One stream per (seed, kind, rank, step); computed on the host and passed to kernels.
inline uint64_t random_stream(uint64_t seed, RandomKind kind, uint64_t rank = 0, uint64_t step = 0) {
  return mix64(mix64(mix64(seed) ^ (static_cast<uint64_t>(kind) << 56)) ^ (rank << 32) ^ step);
}

KOKKOS_FORCEINLINE_FUNCTION float random_value(uint64_t stream, int64_t index) {
  const uint64_t h = mix64(stream + static_cast<uint64_t>(index));
  const int32_t k = static_cast<int32_t>(h >> 40) - (1 << 23);  // 24 bits, centred
  return static_cast<float>(k) * (1.0f / 8388608.0f);
}

}  // namespace nagbench
