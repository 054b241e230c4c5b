#include "nagbench/comm/buckets.hpp"

#include <algorithm>

namespace nagbench {

BucketPlan BucketPlan::make(const ArenaLayout& arena_in, int ranks, int64_t bucket_elements) {
  BucketPlan plan;
  plan.ranks = ranks;
  plan.arena = arena_in;
  const int64_t quantum = int64_t(ranks) * ArenaLayout::kAlignElements;
  plan.arena.length = std::max<int64_t>(quantum, (arena_in.length + quantum - 1) / quantum * quantum);
  const int64_t total = plan.arena.length;
  int64_t size = bucket_elements <= 0 ? total : (bucket_elements + quantum - 1) / quantum * quantum;
  size = std::min(size, total);
  for (int64_t end = total; end > 0; end -= size) {
    const int64_t begin = std::max<int64_t>(0, end - size);
    plan.buckets.push_back({begin, end - begin});
  }
  return plan;
}

std::vector<Segment> segments_within(const ArenaLayout& arena, int64_t begin, int64_t end) {
  std::vector<Segment> out;
  for (const Segment& t : arena.tensors) {
    const int64_t lo = std::max(begin, t.offset), hi = std::min(end, t.offset + t.numel);
    if (lo < hi) out.push_back({lo, hi - lo});
  }
  return out;
}

}  // namespace nagbench
