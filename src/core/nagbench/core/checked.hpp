#pragma once
// Checked arithmetic for every size, count and byte product or sum that user input can reach: an overflow is
// the user's input being too large, so it becomes a one-line InputError naming what overflowed (exit status
// 2), never a wrapped value that allocates too little or a loop that never ends.
#include <cstdint>
#include <cstdio>
#include <string>

#include "nagbench/core/errors.hpp"

namespace nagbench {

// a * b; throws InputError("<what> is too large (...)") when the product does not fit in int64_t or an
// operand is negative (sizes never are).
inline int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    throw InputError(what + " is too large (" + std::to_string(a) + " x " + std::to_string(b) +
                     " does not fit in 64 bits)");
  return r;
}

inline int64_t checked_add(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r))
    throw InputError(what + " is too large (" + std::to_string(a) + " + " + std::to_string(b) +
                     " does not fit in 64 bits)");
  return r;
}

// n rounded up to a multiple of q (q > 0).
inline int64_t checked_round_up(int64_t n, int64_t q, const std::string& what) {
  const int64_t padded = checked_add(n, q - 1, what);
  return padded / q * q;
}

// A double that must be a finite value in [lo, hi]; names the option and the range otherwise.
inline std::string shortest(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

inline double checked_range(double v, double lo, double hi, const std::string& what) {
  if (!(v >= lo && v <= hi))  // false for NaN too
    throw InputError(what + " must be between " + shortest(lo) + " and " + shortest(hi) + " (got " +
                     shortest(v) + ")");
  return v;
}

}  // namespace nagbench
