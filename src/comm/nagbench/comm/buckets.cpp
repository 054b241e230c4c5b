#include "nagbench/comm/buckets.hpp"

#include <algorithm>
#include <string>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"

namespace nagbench {

BucketPlan BucketPlan::make(const ArenaLayout& arena_in, int ranks, int64_t bucket_elements,
                            int64_t max_buckets, int64_t first_bucket_elements) {
  BucketPlan plan;
  plan.ranks = ranks;
  plan.arena = arena_in;
  const int64_t quantum = int64_t(ranks) * ArenaLayout::kAlignElements;
  plan.arena.length =
      std::max<int64_t>(quantum, checked_round_up(arena_in.length, quantum, "the gradient arena"));
  const int64_t total = plan.arena.length;
  int64_t size = bucket_elements <= 0 ? total : checked_round_up(bucket_elements, quantum, "the bucket size");
  size = std::min(size, total);
  const int64_t first =
      first_bucket_elements <= 0
          ? size
          : std::min(total, checked_round_up(first_bucket_elements, quantum, "the first bucket"));
  const int64_t count = 1 + (total - first + size - 1) / size;
  if (count > max_buckets)
    throw InputError("the model would need " + std::to_string(count) + " buckets of " + std::to_string(size) +
                     " elements (at most " + std::to_string(max_buckets) + "); choose a larger --bucket-mb");
  for (int64_t end = total; end > 0;) {
    const int64_t begin = std::max<int64_t>(0, end - (plan.buckets.empty() ? first : size));
    plan.buckets.push_back({begin, end - begin});
    end = begin;
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

// Splits segments into about `slices` groups of similar size (host backends update a bucket in slices and let
// MPI progress between them). Cuts fall on multiples of 64 elements, keeping pack alignment.
std::vector<std::vector<Segment>> slice_segments(const std::vector<Segment>& segs, int slices) {
  int64_t total = 0;
  for (const auto& s : segs)
    total += s.numel;
  if (slices <= 1 || total == 0) return {segs};
  const int64_t target = std::max<int64_t>(64, (total / slices + 63) / 64 * 64);
  std::vector<std::vector<Segment>> out(1);
  int64_t in_current = 0;
  for (Segment s : segs) {
    while (s.numel > 0) {
      if (in_current >= target) {
        out.emplace_back();
        in_current = 0;
      }
      int64_t take = std::min(s.numel, target - in_current);
      if (take < s.numel)  // a cut inside the segment falls on an absolute multiple of 64: packs stay aligned
        take = std::min(s.numel, (s.offset + take + 63) / 64 * 64 - s.offset);
      out.back().push_back({s.offset, take});
      s.offset += take;
      s.numel -= take;
      in_current += take;
    }
  }
  return out;
}

}  // namespace nagbench
