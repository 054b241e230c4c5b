#pragma once
// Summaries of repeated timings: per rank over repetitions, and across ranks over per-rank medians.
#include <vector>

namespace nagbench {

struct Summary {
  double median = 0, min = 0, max = 0, mean = 0;
  int count = 0;
};

// Median of an even count is the mean of the two middle values. Throws std::invalid_argument on empty input.
Summary summarize(std::vector<double> samples);

// Across ranks: the step time of a run is the slowest rank's median; min/avg/max of the per-rank medians say
// how evenly the ranks ran.
struct RankSpread {
  double slowest_median = 0;  // == max_of_medians; named for what it is used as
  double min_of_medians = 0, avg_of_medians = 0, max_of_medians = 0;
  int ranks = 0;
};

RankSpread spread_of_medians(const std::vector<double>& per_rank_medians);

}  // namespace nagbench
