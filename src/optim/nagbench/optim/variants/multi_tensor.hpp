#pragma once
// `multi_tensor`: one launch updates a whole list of tensors, like PyTorch's multi_tensor_apply (apex,
// foreach). A device-side table splits every tensor into chunks; each chunk is (offset, length) in the
// arenas. On GPUs the launch has one index per pack slot of every chunk, so thousands of small tensors cost
// one launch and fill the machine; on host backends one index per chunk.
#include <Kokkos_Core.hpp>
#include <vector>

#include "nagbench/optim/variants/fused.hpp"
#include "nagbench/optim/variants/kernel_body.hpp"
#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

struct Chunk {
  int64_t offset;
  int64_t numel;
};

// Splits segments into chunks of at most `chunk_elements`; each chunk starts where its segment does or a
// whole number of chunks later, so pack alignment carries over.
std::vector<Chunk> make_chunks(const std::vector<Segment>& segments, int64_t chunk_elements);

template <class Exec, class Layout, class Rule>
class MultiTensorVariant final : public UpdateVariant<Exec, Layout, Rule> {
  static constexpr int W = pack_width<Layout>();
  static constexpr int kLog2PacksPerChunk = 8;  // 256 packs (one block's worth of threads) per chunk on GPUs
  static constexpr int64_t kChunkElements =
      is_host_space<Exec>() ? kHostBlockElements : (int64_t(W) << kLog2PacksPerChunk);

 public:
  void prepare(const Exec& exec, const UpdateGroups<Layout>& groups) override {
    groups_ = groups;
    tables_.clear();
    for (const auto& group : groups) {
      for (const auto& s : group.segments)
        if (s.offset % W != 0) Kokkos::abort("multi_tensor: segment not aligned to the pack width");
      const std::vector<Chunk> chunks = make_chunks(group.segments, kChunkElements);
      Kokkos::View<Chunk*, typename Exec::memory_space> table(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::chunk_table"), chunks.size());
      Kokkos::View<const Chunk*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> host(
          chunks.data(), chunks.size());
      Kokkos::deep_copy(exec, table, host);
      exec.fence();  // `chunks` goes out of scope
      tables_.push_back(table);
    }
  }

  void step(const Exec& exec, const Rule& rule, bool first_step, int group) override {
    const auto& table = tables_.at(group);
    if (table.extent(0) == 0) return;
    const ArenaPointers<Layout>& base = groups_.at(group).base;
    rule.with_step_flags(first_step, [&](auto fl) { launch(exec, rule, fl, base, table); });
  }

  // Public only because CUDA lambdas may not live in private member functions.
  template <class Fl>
  void launch(const Exec& exec, const Rule& rule, const Fl fl, const ArenaPointers<Layout> a,
              const Kokkos::View<Chunk*, typename Exec::memory_space>& table) const {
    const int64_t nchunks = static_cast<int64_t>(table.extent(0));
    if constexpr (is_host_space<Exec>()) {
      Kokkos::parallel_for(
          "nagbench::multi_tensor_host",
          Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, nchunks),
          KOKKOS_LAMBDA(const int64_t c) {
            const Chunk ch = table(c);
            update_range_host<Layout>(rule, fl, a, ch.offset, ch.offset + ch.numel);
          });
    } else {
      constexpr int log2_packs = kLog2PacksPerChunk;
      constexpr int w = W;
      const int64_t items = nchunks << log2_packs;
      Kokkos::parallel_for(
          "nagbench::multi_tensor", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, items),
          KOKKOS_LAMBDA(const int64_t item) {
            const Chunk ch = table(item >> log2_packs);
            const int64_t lo = (item & ((int64_t(1) << log2_packs) - 1)) * w;
            if (lo + w <= ch.numel) {
              update_pack<Layout, Rule, w>(rule, fl, a, ch.offset + lo);
            } else {
              for (int64_t i = ch.offset + lo; i < ch.offset + ch.numel; ++i)
                update_element<Layout>(rule, fl, a, i);
            }
          });
    }
  }

 private:
  UpdateGroups<Layout> groups_;
  std::vector<Kokkos::View<Chunk*, typename Exec::memory_space>> tables_;
};

}  // namespace nagbench
