#pragma once
// How a data-parallel step cuts the gradient arena into buckets (PyTorch DDP's bucket_cap_mb, default 25 MiB)
// and each bucket into per-rank shards (ZeRO / FSDP style, for --shard). Buckets are contiguous ranges of the
// arena, taken from its end (the last layers' gradients are ready first in a backward pass, so DDP reduces
// them first); like DeepSpeed's reduce_bucket_size (and unlike DDP) a tensor larger than a bucket is split
// across buckets. Every bucket length is a multiple of ranks x 64 elements, so shards are equal and stay
// aligned for vector loads.
#include <cstdint>
#include <vector>

#include "nagbench/optim/arena.hpp"

namespace nagbench {

struct Bucket {
  int64_t start = 0;   // arena element offset
  int64_t length = 0;  // elements, a multiple of ranks * ArenaLayout::kAlignElements
};

struct BucketPlan {
  ArenaLayout arena;            // tensors; arena.length padded to a multiple of ranks * 64
  std::vector<Bucket> buckets;  // in reduction order
  int ranks = 1;

  int64_t shard_length(int k) const { return buckets[k].length / ranks; }
  // Where this rank's shard of bucket k starts in the arena.
  int64_t shard_start(int k, int rank) const { return buckets[k].start + rank * shard_length(k); }
  // Elements of momentum a rank keeps when sharded: the sum of its shards.
  int64_t shard_total() const { return arena.length / ranks; }

  // bucket_elements is rounded up to the shard quantum; <= 0 means one bucket for everything.
  // first_bucket_elements > 0 sizes the first bucket (the arena's end: the last layers' gradients) alone, as
  // DDP's first bucket of 1 MiB, so that the first reduction starts early. More than max_buckets buckets is
  // an InputError (the plan itself would exhaust memory).
  static BucketPlan make(const ArenaLayout& arena, int ranks, int64_t bucket_elements,
                         int64_t max_buckets = 1000000, int64_t first_bucket_elements = 0);
};

// Splits segments into about `slices` groups of similar size, cutting on multiples of 64 elements (pack
// alignment is kept): host backends update a bucket in slices and let MPI progress between them.
std::vector<std::vector<Segment>> slice_segments(const std::vector<Segment>& segs, int slices);

// The tensor pieces inside [begin, end) of the arena, as absolute segments.
std::vector<Segment> segments_within(const ArenaLayout& arena, int64_t begin, int64_t end);

}  // namespace nagbench
