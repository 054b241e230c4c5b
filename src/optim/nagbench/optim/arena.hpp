#pragma once
// Storage for a model's optimizer state. Each array (parameters, gradients, the rule's state arrays, the fp32
// master copy) is one allocation, an arena, holding every tensor at its own offset, padded so each tensor
// starts on a 256-byte boundary. Tensors are slices of the arenas, as in PyTorch DDP's
// gradient-as-bucket-view or FSDP's flat parameters: buckets and shards are ranges of the same arenas, and
// kernels see per-tensor pointers and sizes.
//
// Arenas are allocated through an ArenaAllocator: Kokkos' own allocation by default, or memory a communicator
// can share with other ranks (CUDA IPC, cuMem, MPI shared-memory windows) when it asks for it.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nagbench/optim/dtype.hpp"

namespace nagbench {

// Elements [offset, offset + numel) of the arenas; never crosses a tensor boundary.
struct Segment {
  int64_t offset = 0;
  int64_t numel = 0;
};

struct ArenaLayout {
  static constexpr int64_t kAlignElements = 64;  // 256 B for fp32; a multiple of every vector width used
  std::vector<Segment> tensors;                  // one per tensor, in the order given
  int64_t length = 0;                            // elements per arena, padding included
  int64_t params = 0;                            // real parameters, padding excluded

  // Throws InputError when the sizes overflow 64 bits.
  static ArenaLayout for_sizes(const std::vector<int64_t>& numels);
};

// The most state arrays any update rule keeps per parameter (SGD: 1, the momentum buffer).
inline constexpr int kMaxStates = 2;

// Bytes the arenas of `length` elements take: p, g, master (bf16_master), and `states` state arrays. Throws
// InputError on overflow.
int64_t arena_bytes(const ArenaLayout& layout, DtypeLayout dtype, int states);

template <class Layout>
struct ArenaPointers {
  typename Layout::param_t* p = nullptr;
  float* master = nullptr;  // bf16_master only
  typename Layout::grad_t* g = nullptr;
  typename Layout::state_t* s[kMaxStates] = {};  // the rule's state arrays; null past its count
};

// Where arena memory comes from. allocate() returns memory of the allocator's memory space, aligned to at
// least 256 bytes, or throws RunError; the allocator owns it until deallocate() or its own destruction.
class ArenaAllocator {
 public:
  virtual ~ArenaAllocator() = default;
  virtual void* allocate(int64_t bytes, const std::string& label) = 0;
  virtual void deallocate(void* ptr) = 0;
  virtual std::string name() const = 0;  // "kokkos", "cuda-ipc", ...
};

// Kokkos' own allocation (a View of bytes kept alive per pointer): what every run uses unless a communicator
// needs shareable memory.
template <class MemorySpace>
class KokkosArenaAllocator final : public ArenaAllocator {
 public:
  void* allocate(int64_t bytes, const std::string& label) override {
    Kokkos::View<char*, MemorySpace> v(Kokkos::view_alloc(Kokkos::WithoutInitializing, label),
                                       static_cast<size_t>(bytes > 0 ? bytes : 1));
    blocks_.push_back(v);
    return v.data();
  }
  void deallocate(void* ptr) override {
    for (auto& b : blocks_)
      if (b.data() == ptr) b = Kokkos::View<char*, MemorySpace>();
  }
  std::string name() const override { return "kokkos"; }

 private:
  std::vector<Kokkos::View<char*, MemorySpace>> blocks_;
};

// The arenas of one rank: p and g of `length` elements, `states` state arrays of `state_length` elements (the
// whole arena, or this rank's shards when sharded), and the fp32 master for bf16_master. Views are unmanaged
// windows onto the allocator's memory.
template <class Layout, class MemorySpace>
struct ParamArena {
  using param_t = typename Layout::param_t;
  using grad_t = typename Layout::grad_t;
  using state_t = typename Layout::state_t;
  template <class T>
  using Window = Kokkos::View<T*, MemorySpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

  Window<param_t> p;
  Window<float> master;
  Window<grad_t> g;
  Window<state_t> s[kMaxStates];
  int states = 0;

  ParamArena() = default;
  ParamArena(int64_t length, int states_in, int64_t state_length, ArenaAllocator* allocator = nullptr)
      : states(states_in) {
    if (!allocator) {
      own_ = std::make_shared<KokkosArenaAllocator<MemorySpace>>();
      allocator = own_.get();
    }
    alloc_ = allocator;
    p = Window<param_t>(static_cast<param_t*>(grab(length * int64_t(sizeof(param_t)), "nagbench::p")),
                        length);
    if (Layout::has_master)
      master = Window<float>(static_cast<float*>(grab(length * int64_t(sizeof(float)), "nagbench::master")),
                             length);
    g = Window<grad_t>(static_cast<grad_t*>(grab(length * int64_t(sizeof(grad_t)), "nagbench::g")), length);
    for (int k = 0; k < states; ++k)
      s[k] = Window<state_t>(
          static_cast<state_t*>(grab(state_length * int64_t(sizeof(state_t)), "nagbench::state")),
          state_length);
  }

  ArenaPointers<Layout> pointers() const {
    ArenaPointers<Layout> a;
    a.p = p.data();
    a.master = Layout::has_master ? master.data() : nullptr;
    a.g = g.data();
    for (int k = 0; k < states; ++k)
      a.s[k] = s[k].extent(0) ? s[k].data() : nullptr;
    return a;
  }
  const ArenaAllocator& allocator() const { return *alloc_; }

 private:
  void* grab(int64_t bytes, const char* label) { return alloc_->allocate(bytes, label); }
  std::shared_ptr<ArenaAllocator> own_;  // the default allocator, when none was given; shared by copies
  ArenaAllocator* alloc_ = nullptr;
};

}  // namespace nagbench
