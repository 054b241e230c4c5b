#pragma once
// Storage for a model's optimizer state. Each array (parameters, gradients, momentum, fp32 master copy) is
// one allocation, an arena, holding every tensor at its own offset, padded so each tensor starts on a
// 256-byte boundary. Tensors are slices of the arenas, as in PyTorch DDP's gradient-as-bucket-view or FSDP's
// flat parameters: buckets and shards are ranges of the same arenas, and kernels see per-tensor pointers and
// sizes.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <vector>

#include "nagbench/optim/dtype.hpp"

namespace nagbench {

struct ModelSpec;

// Elements [offset, offset + numel) of the arenas; never crosses a tensor boundary.
struct Segment {
  int64_t offset = 0;
  int64_t numel = 0;
};

struct ArenaLayout {
  static constexpr int64_t kAlignElements = 64;  // 256 B for fp32; a multiple of every vector width used
  std::vector<Segment> tensors;                  // one per model tensor, in model order
  int64_t length = 0;                            // elements per arena, padding included
  int64_t params = 0;                            // real parameters, padding excluded

  static ArenaLayout for_sizes(const std::vector<int64_t>& numels);
  static ArenaLayout for_model(const ModelSpec& model);
};

// Bytes the arenas of a layout take on the device.
int64_t arena_bytes(const ArenaLayout& layout, DtypeLayout dtype, bool with_momentum);

template <class Layout>
struct ArenaPointers {
  typename Layout::param_t* p = nullptr;
  float* master = nullptr;  // bf16_master only
  typename Layout::grad_t* g = nullptr;
  typename Layout::mom_t* b = nullptr;  // null without momentum
};

template <class Layout, class MemorySpace>
struct ParamArena {
  using param_t = typename Layout::param_t;
  using grad_t = typename Layout::grad_t;
  using mom_t = typename Layout::mom_t;

  Kokkos::View<param_t*, MemorySpace> p;
  Kokkos::View<float*, MemorySpace> master;
  Kokkos::View<grad_t*, MemorySpace> g;
  Kokkos::View<mom_t*, MemorySpace> b;

  ParamArena() = default;
  ParamArena(int64_t length, bool with_momentum)
      : p(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::p"), length),
        master(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::master"),
               Layout::has_master ? length : 0),
        g(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::g"), length),
        b(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::b"), with_momentum ? length : 0) {}

  ArenaPointers<Layout> pointers() const {
    ArenaPointers<Layout> a;
    a.p = p.data();
    a.master = Layout::has_master ? master.data() : nullptr;
    a.g = g.data();
    a.b = b.extent(0) ? b.data() : nullptr;
    return a;
  }
};

}  // namespace nagbench
