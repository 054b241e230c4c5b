#pragma once
// THE table of the algorithm's minimum bytes moved per parameter, one row per dtype layout. Every bandwidth
// figure in nagbench (driver, benchmarks, docs) divides these bytes by a time; nothing else counts bytes. The
// counts are what the update must move at least: each input read once, each output written once. A variant
// that makes extra passes is charged the same bytes and so shows a lower GB/s. See docs/metrics.md.
#include <cstdint>

#include "nagbench/optim/dtype.hpp"

namespace nagbench {

struct MinBytesPerParam {
  DtypeLayout layout;
  const char* what;  // the rule in words, for docs and --help
  int param_read, param_write;
  int master_read, master_write;
  int grad_read;
  int mom_read, mom_write;  // charged only when momentum != 0

  constexpr int total(bool with_momentum) const {
    return param_read + param_write + master_read + master_write + grad_read +
           (with_momentum ? mom_read + mom_write : 0);
  }
};

// clang-format off
inline constexpr int F32 = sizeof(float), F64 = sizeof(double), B16 = sizeof(bf16);
inline constexpr MinBytesPerParam kMinBytesPerParam[] = {
  // layout                  what                                                  p r  p w  m r  m w  g r  b r  b w
  {DtypeLayout::fp32,        "fp32 p, g, b",                                       F32, F32,   0,   0, F32, F32, F32},
  {DtypeLayout::fp64,        "fp64 p, g, b",                                       F64, F64,   0,   0, F64, F64, F64},
  {DtypeLayout::bf16,        "bf16 p and g, fp32 b",                               B16, B16,   0,   0, B16, F32, F32},
  {DtypeLayout::bf16_master, "fp32 master updated, bf16 p written, bf16 g, fp32 b",  0, B16, F32, F32, B16, F32, F32},
};
// clang-format on

constexpr const MinBytesPerParam& min_bytes_row(DtypeLayout d) {
  for (const auto& row : kMinBytesPerParam)
    if (row.layout == d) return row;
  return kMinBytesPerParam[0];
}

constexpr int min_bytes_per_param(DtypeLayout d, bool with_momentum) {
  return min_bytes_row(d).total(with_momentum);
}

static_assert(min_bytes_per_param(DtypeLayout::fp32, true) == 20, "fp32 with momentum: p r/w, g r, b r/w");
static_assert(min_bytes_per_param(DtypeLayout::fp32, false) == 12, "plain SGD: p r/w, g r");
static_assert(min_bytes_per_param(DtypeLayout::fp64, true) == 40, "fp64 with momentum");
static_assert(min_bytes_per_param(DtypeLayout::bf16, true) == 14, "bf16 p r/w 2+2, g 2, fp32 b 4+4");
static_assert(min_bytes_per_param(DtypeLayout::bf16_master, true) == 20,
              "master 4+4, bf16 p w 2, g 2, b 4+4");

}  // namespace nagbench
