#include "nagbench/core/stats.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace nagbench {

Summary summarize(std::vector<double> samples) {
  if (samples.empty()) throw std::invalid_argument("summarize: no samples");
  std::sort(samples.begin(), samples.end());
  Summary s;
  s.count = static_cast<int>(samples.size());
  const size_t n = samples.size();
  s.median = (n % 2 == 1) ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(n);
  return s;
}

RankSpread spread_of_medians(const std::vector<double>& per_rank_medians) {
  if (per_rank_medians.empty()) throw std::invalid_argument("spread_of_medians: no ranks");
  RankSpread r;
  r.ranks = static_cast<int>(per_rank_medians.size());
  r.min_of_medians = *std::min_element(per_rank_medians.begin(), per_rank_medians.end());
  r.max_of_medians = *std::max_element(per_rank_medians.begin(), per_rank_medians.end());
  r.avg_of_medians =
      std::accumulate(per_rank_medians.begin(), per_rank_medians.end(), 0.0) / per_rank_medians.size();
  r.slowest_median = r.max_of_medians;
  return r;
}

}  // namespace nagbench
