#pragma once
// Which training samples a step uses, the same for every rank count: epoch e visits the training set in the
// order of a seeded permutation of (seed, e); global batch b of the epoch is that order's window
// [b GB, (b+1) GB) (GB = ranks x per-rank batch; the last, short window is dropped so every step has the same
// batch), and rank r takes the r-th contiguous share of the window. Full batch (per-rank batch 0): the whole
// training set every step, split into `ranks` contiguous shares as evenly as possible.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/random.hpp"

namespace nagbench {

class BatchSchedule {
 public:
  BatchSchedule(int64_t train_samples, int64_t per_rank_batch, int rank, int ranks, uint64_t seed)
      : n_(train_samples), per_rank_(per_rank_batch), rank_(rank), ranks_(ranks), seed_(seed) {
    if (per_rank_ < 0) throw InputError("--batch-size must be >= 0 (0 = full batch)");
    if (per_rank_ > 0 && per_rank_ * ranks_ > n_)
      throw InputError("--batch-size " + std::to_string(per_rank_) + " x " + std::to_string(ranks_) +
                       " ranks is larger than the training set (" + std::to_string(n_) + " samples)");
    if (per_rank_ == 0 && n_ < ranks_)
      throw InputError("the training set (" + std::to_string(n_) + " samples) has fewer samples than ranks");
  }
  bool full_batch() const { return per_rank_ == 0; }
  int64_t global_batch() const { return full_batch() ? n_ : per_rank_ * ranks_; }
  int64_t steps_per_epoch() const { return full_batch() ? 1 : n_ / global_batch(); }
  // This rank's share of global batch `step`: [begin, end) of the window.
  int64_t share_begin(int r) const { return global_batch() * r / ranks_; }
  int64_t local_batch() const { return share_begin(rank_ + 1) - share_begin(rank_); }

  // The training-set indices this rank uses in `step`, in order.
  std::vector<int64_t> indices(int64_t step) const {
    const int64_t lo = share_begin(rank_), hi = share_begin(rank_ + 1);
    std::vector<int64_t> out;
    out.reserve(size_t(hi - lo));
    if (full_batch()) {
      for (int64_t i = lo; i < hi; ++i)
        out.push_back(i);
      return out;
    }
    const int64_t epoch = step / steps_per_epoch(), b = step % steps_per_epoch();
    if (epoch != cached_epoch_) {
      order_.resize(size_t(n_));
      for (int64_t i = 0; i < n_; ++i)
        order_[size_t(i)] = i;
      const uint64_t stream = mix64(mix64(seed_ ^ 0xba7c4e5ull) ^ uint64_t(epoch));
      for (int64_t i = n_ - 1; i > 0; --i)
        std::swap(order_[size_t(i)], order_[size_t(mix64(stream + uint64_t(i)) % uint64_t(i + 1))]);
      cached_epoch_ = epoch;
    }
    for (int64_t i = lo; i < hi; ++i)
      out.push_back(order_[size_t(b * global_batch() + i)]);
    return out;
  }

 private:
  int64_t n_, per_rank_;
  int rank_, ranks_;
  uint64_t seed_;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<int64_t> order_;
};

}  // namespace nagbench
