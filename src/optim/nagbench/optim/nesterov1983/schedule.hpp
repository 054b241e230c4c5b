#pragma once
// The t_k schedule of Nesterov (1983) on the host, in double, for the kernels' rule (rule.hpp):
//   t_0 = 1,  t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2,  beta_k = (t_k - 1) / t_{k+1}   (beta_0 = 0).
// O(1) per call when k grows by one from call to call or goes back to 0 (a restart); any other k is computed
// from the nearest start, so every k gets the same value whatever came before.
#include <cmath>
#include <cstdint>

namespace nagbench::nesterov1983 {

inline double next_t(double t) {
  return (1.0 + std::sqrt(1.0 + 4.0 * t * t)) / 2.0;
}

inline double schedule_t(int64_t k) {
  struct Cached {
    int64_t k = 0;
    double t = 1.0;
  };
  static thread_local Cached c;  // the last k asked for on this thread, and its t_k
  if (k < 0) k = 0;
  if (k < c.k) c = Cached{};
  while (c.k < k) {
    c.t = next_t(c.t);
    ++c.k;
  }
  return c.t;
}

inline double schedule_beta(int64_t k) {
  const double t = schedule_t(k);
  return (t - 1.0) / next_t(t);
}

}  // namespace nagbench::nesterov1983
