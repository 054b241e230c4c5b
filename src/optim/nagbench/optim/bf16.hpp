#pragma once
// A 16-bit bfloat16 storage type. Kokkos 3.4 has none (and its half_t is a plain float in builds without
// CUDA), so parameters and gradients in bf16 use this: 8 exponent bits like float, 7 mantissa bits, round to
// nearest even on conversion from float. Arithmetic is always done in float; this type only stores.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <cstring>

namespace nagbench {

struct bf16 {
  uint16_t bits;

  KOKKOS_FORCEINLINE_FUNCTION static bf16 from_float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof(u));
    bf16 r;
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0) {
      r.bits = static_cast<uint16_t>((u >> 16) | 0x0040u);  // keep NaN a (quiet) NaN
      return r;
    }
    // Round to nearest, ties to even: add 0x7fff plus the lowest kept bit, then truncate.
    u += 0x7fffu + ((u >> 16) & 1u);
    r.bits = static_cast<uint16_t>(u >> 16);
    return r;
  }

  KOKKOS_FORCEINLINE_FUNCTION float to_float() const {
    const uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, sizeof(f));
    return f;
  }
};

static_assert(sizeof(bf16) == 2, "bf16 must be 16 bits");

// Loads and stores that let kernels be written once for float, double and bf16 storage.
KOKKOS_FORCEINLINE_FUNCTION float to_compute(bf16 v) {
  return v.to_float();
}
KOKKOS_FORCEINLINE_FUNCTION float to_compute(float v) {
  return v;
}
KOKKOS_FORCEINLINE_FUNCTION double to_compute(double v) {
  return v;
}

template <class Storage>
struct StoreAs;
template <>
struct StoreAs<float> {
  KOKKOS_FORCEINLINE_FUNCTION static float from(float v) { return v; }
};
template <>
struct StoreAs<double> {
  KOKKOS_FORCEINLINE_FUNCTION static double from(double v) { return v; }
};
template <>
struct StoreAs<bf16> {
  KOKKOS_FORCEINLINE_FUNCTION static bf16 from(float v) { return bf16::from_float(v); }
};

}  // namespace nagbench
