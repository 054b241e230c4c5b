#pragma once
// Every derived figure of nagbench, computed here and nowhere else (docs/metrics.md gives the formulas):
// bytes come from the bytes table (optim/bytes.hpp), times from medians.
#include <cstdint>

namespace nagbench {

inline constexpr double kSuspectPctOfRoof = 105.0;  // above this, something is not counted right

// Effective bandwidth of an update: minimum bytes moved / time.
inline double eff_GBps(int bytes_per_param, int64_t params, double seconds) {
  return seconds > 0 ? double(bytes_per_param) * double(params) / seconds / 1e9 : 0.0;
}
inline double pct_of_roof(double GBps, double roof_GBps) {
  return roof_GBps > 0 ? 100.0 * GBps / roof_GBps : 0.0;
}
inline bool suspect(double pct) {
  return pct > kSuspectPctOfRoof;
}
inline double per_second(int64_t count, double seconds) {
  return seconds > 0 ? double(count) / seconds : 0.0;
}

// nccl-tests' allreduce figures: algbw = bytes / time; busbw = algbw * 2 (n - 1) / n, the bandwidth each link
// would need for a ring, comparable across rank counts (0 for one rank: nothing crosses a link).
inline double bus_factor(int ranks) {
  return ranks > 1 ? 2.0 * (ranks - 1) / ranks : 0.0;
}
inline double algbw_GBps(int64_t bytes, double seconds) {
  return seconds > 0 ? double(bytes) / seconds / 1e9 : 0.0;
}
inline double busbw_GBps(int64_t bytes, double seconds, int ranks) {
  return algbw_GBps(bytes, seconds) * bus_factor(ranks);
}

}  // namespace nagbench
