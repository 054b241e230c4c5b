// Plans that decide which elements each kernel and each collective touch: the bucket plan (reduction order,
// sizes, shard slices), the host update slices and the multi_tensor chunk table; and the checked arithmetic
// every size goes through. A mistake here drops or doubles elements without any kernel being wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nagbench/comm/buckets.hpp"
#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/optim/variants/multi_tensor.hpp"

namespace nagbench {
namespace {

// Marks every element each segment covers; returns how often each element of [0, n) was covered.
std::vector<int> coverage(const std::vector<Segment>& segs, int64_t n) {
  std::vector<int> seen(static_cast<size_t>(n), 0);
  for (const auto& s : segs)
    for (int64_t i = s.offset; i < s.offset + s.numel; ++i)
      ++seen.at(static_cast<size_t>(i));
  return seen;
}

TEST(Checked, OverflowIsAnInputErrorNamingWhat) {
  EXPECT_EQ(checked_mul(int64_t(1) << 31, int64_t(1) << 31, "x"), int64_t(1) << 62);
  EXPECT_THROW(checked_mul(int64_t(1) << 32, int64_t(1) << 31, "x"), InputError);
  EXPECT_THROW(checked_mul(-1, 4, "x"), InputError);
  EXPECT_THROW(checked_add(std::numeric_limits<int64_t>::max(), 1, "x"), InputError);
  EXPECT_EQ(checked_round_up(65, 64, "x"), 128);
  EXPECT_THROW(checked_round_up(std::numeric_limits<int64_t>::max() - 10, 64, "x"), InputError);
  try {
    checked_mul(int64_t(1) << 40, int64_t(1) << 40, "the arena");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the arena is too large"), std::string::npos) << e.what();
  }
  EXPECT_DOUBLE_EQ(checked_range(2.0, 1, 3, "x"), 2.0);
  EXPECT_THROW(checked_range(std::nan(""), 1, 3, "x"), InputError);
  EXPECT_THROW(checked_range(1.0 / 0.0, 1, 3, "x"), InputError);
}

TEST(Arena, LayoutPadsEveryTensorAndOverflowIsRefused) {
  const ArenaLayout a = ArenaLayout::for_sizes({1, 64, 65, 0, 3});
  ASSERT_EQ(a.tensors.size(), 5u);
  EXPECT_EQ(a.params, 1 + 64 + 65 + 3);
  for (const auto& t : a.tensors)
    EXPECT_EQ(t.offset % ArenaLayout::kAlignElements, 0);
  EXPECT_EQ(a.length, 64 + 64 + 128 + 0 + 64);
  const int64_t big = int64_t(1) << 62;
  EXPECT_THROW(ArenaLayout::for_sizes({big, big, big, big, 1000}), InputError);  // used to wrap to 1000
  EXPECT_THROW(arena_bytes(ArenaLayout::for_sizes({big}), DtypeLayout::fp32, true), InputError);
}

struct PlanCase {
  std::vector<int64_t> tensors;
  int ranks;
  int64_t bucket_elements;
};

class BucketPlanTest : public ::testing::TestWithParam<PlanCase> {};

TEST_P(BucketPlanTest, BucketsTileTheArenaFromTheEndWithEqualAlignedShards) {
  const PlanCase& c = GetParam();
  const ArenaLayout arena = ArenaLayout::for_sizes(c.tensors);
  const BucketPlan plan = BucketPlan::make(arena, c.ranks, c.bucket_elements);
  const int64_t quantum = int64_t(c.ranks) * ArenaLayout::kAlignElements;
  EXPECT_EQ(plan.arena.length % quantum, 0);
  EXPECT_GE(plan.arena.length, arena.length);
  // Reduction order: from the end of the arena (last layers first), contiguous, covering every element once.
  int64_t expect_end = plan.arena.length;
  for (size_t k = 0; k < plan.buckets.size(); ++k) {
    const Bucket& b = plan.buckets[k];
    EXPECT_EQ(b.start + b.length, expect_end) << "bucket " << k;
    EXPECT_EQ(b.length % quantum, 0) << "bucket " << k;
    EXPECT_GT(b.length, 0);
    if (c.bucket_elements > 0 && k + 1 < plan.buckets.size()) {
      EXPECT_EQ(b.length, (c.bucket_elements + quantum - 1) / quantum * quantum);
    }
    expect_end = b.start;
    // Shards: equal, aligned, in rank order, tiling the bucket.
    for (int r = 0; r < c.ranks; ++r) {
      EXPECT_EQ(plan.shard_start(static_cast<int>(k), r),
                b.start + r * plan.shard_length(static_cast<int>(k)));
      EXPECT_EQ(plan.shard_start(static_cast<int>(k), r) % ArenaLayout::kAlignElements, 0);
    }
    EXPECT_EQ(plan.shard_length(static_cast<int>(k)) * c.ranks, b.length);
  }
  EXPECT_EQ(expect_end, 0);
  int64_t shards = 0;
  for (size_t k = 0; k < plan.buckets.size(); ++k)
    shards += plan.shard_length(static_cast<int>(k));
  EXPECT_EQ(shards, plan.shard_total());
  // The tensor pieces of the buckets cover every real parameter exactly once.
  std::vector<Segment> pieces;
  for (const auto& b : plan.buckets)
    for (const auto& s : segments_within(plan.arena, b.start, b.start + b.length))
      pieces.push_back(s);
  const auto seen = coverage(pieces, plan.arena.length);
  std::vector<int> want(static_cast<size_t>(plan.arena.length), 0);
  for (const auto& t : arena.tensors)
    for (int64_t i = t.offset; i < t.offset + t.numel; ++i)
      want[static_cast<size_t>(i)] = 1;
  EXPECT_EQ(seen, want);
}

INSTANTIATE_TEST_SUITE_P(Cases, BucketPlanTest,
                         ::testing::Values(PlanCase{{1000, 3, 7, 4099}, 1, 0},
                                           PlanCase{{1000, 3, 7, 4099}, 3, 0},
                                           PlanCase{{1000, 3, 7, 4099}, 2, 256},
                                           PlanCase{{1000, 3, 7, 4099}, 3, 1}, PlanCase{{1}, 4, 100},
                                           PlanCase{{70000}, 3, 5000}, PlanCase{{5, 5, 5, 5, 5, 5}, 7, 64}));

TEST(BucketPlan, TooManyBucketsIsAnInputError) {
  const ArenaLayout arena = ArenaLayout::for_sizes({int64_t(1) << 30});
  EXPECT_THROW(BucketPlan::make(arena, 2, 1, 1000), InputError);
  EXPECT_NO_THROW(BucketPlan::make(arena, 2, int64_t(1) << 22, 1000));
}

// DDP's small first bucket: the first bucket (the arena's end) has its own size, the rest the bucket size,
// all contiguous from the end and covering the arena once.
TEST(BucketPlan, FirstBucketHasItsOwnSize) {
  const ArenaLayout arena = ArenaLayout::for_sizes({100000, 5000, 70000});
  for (int ranks : {1, 3}) {
    const int64_t quantum = int64_t(ranks) * ArenaLayout::kAlignElements;
    const BucketPlan plan = BucketPlan::make(arena, ranks, 40000, 1000, 1000);
    ASSERT_GE(plan.buckets.size(), 3u);
    EXPECT_EQ(plan.buckets[0].length, (1000 + quantum - 1) / quantum * quantum);
    EXPECT_EQ(plan.buckets[0].start + plan.buckets[0].length, plan.arena.length);
    int64_t end = plan.arena.length;
    for (size_t k = 0; k < plan.buckets.size(); ++k) {
      EXPECT_EQ(plan.buckets[k].start + plan.buckets[k].length, end) << k;
      if (k > 0 && k + 1 < plan.buckets.size()) {
        EXPECT_EQ(plan.buckets[k].length, (40000 + quantum - 1) / quantum * quantum) << k;
      }
      end = plan.buckets[k].start;
    }
    EXPECT_EQ(end, 0);
    // A first bucket larger than the arena is the whole arena; without one, every bucket is the bucket size.
    EXPECT_EQ(BucketPlan::make(arena, ranks, 40000, 1000, int64_t(1) << 30).buckets.size(), 1u);
    EXPECT_EQ(BucketPlan::make(arena, ranks, 40000, 1000, 0).buckets.size(),
              BucketPlan::make(arena, ranks, 40000).buckets.size());
  }
}

TEST(Slices, CoverEverySegmentOnceOnAlignedCuts) {
  const ArenaLayout arena = ArenaLayout::for_sizes({1000, 3, 7, 4099, 128});
  for (int slices : {1, 2, 3, 4, 9, 100}) {
    const auto groups = slice_segments(arena.tensors, slices);
    EXPECT_LE(groups.size(), static_cast<size_t>(std::max(slices, 1)) + 1) << slices;
    std::vector<Segment> all;
    for (const auto& g : groups) {
      ASSERT_FALSE(g.empty());
      for (const auto& s : g) {
        all.push_back(s);
        EXPECT_GT(s.numel, 0);
      }
    }
    EXPECT_EQ(coverage(all, arena.length), coverage(arena.tensors, arena.length)) << slices;
    for (size_t k = 1; k < groups.size(); ++k)  // a slice starts on a tensor start or a 64-element cut
      EXPECT_EQ(groups[k].front().offset % 64, 0) << slices;
  }
}

TEST(ChunkTable, ChunksAreBoundedAndKeepAlignment) {
  const ArenaLayout arena = ArenaLayout::for_sizes({1000, 3, 7, 4099, 1024});
  for (int64_t chunk : {int64_t(64), int64_t(256), int64_t(1024), int64_t(1) << 20}) {
    const auto chunks = make_chunks(arena.tensors, chunk);
    std::vector<Segment> as_segments;
    for (const auto& ch : chunks) {
      EXPECT_GT(ch.numel, 0);
      EXPECT_LE(ch.numel, chunk);
      EXPECT_EQ(ch.offset % 4, 0);  // starts a tensor or a whole number of chunks in: fp32 packs stay aligned
      as_segments.push_back({ch.offset, ch.numel});
    }
    EXPECT_EQ(coverage(as_segments, arena.length), coverage(arena.tensors, arena.length)) << chunk;
  }
  EXPECT_TRUE(make_chunks({{0, 0}}, 64).empty());
}

}  // namespace
}  // namespace nagbench
