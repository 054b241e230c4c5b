// --comm p2p: the reduction and the update in one pass (issue 14). On one node every rank maps its peers'
// gradient and parameter arenas into its own address space:
//   cuda-ipc  the arenas are cudaMalloc'd here (Kokkos may allocate with cudaMallocAsync, which cannot be
//             exported), exported with cudaIpcGetMemHandle, exchanged with MPI_Allgather and opened with
//             cudaIpcOpenMemHandle (peer access over NVLink or PCIe);
//   shm       host backends: each arena is an MPI_Win_allocate_shared window on the node communicator.
// The harness then runs the rule's reduce-update kernel (optim/variants/reduce_update.hpp) per bucket: it
// reads this rank's shard of every rank's gradient, sums in rank order, updates the shard and writes the new
// parameters into every rank's arena (replicated: it sums the whole bucket and writes only its own).
//
// Cross-rank ordering is by flags, one pair per bucket per rank, in memory every rank can read; each step has
// a number s (1, 2, ...) and a flag holds the last step that reached it:
//   ready[k] = s   this rank's gradient of bucket k is complete (written by a one-thread kernel on the comm
//                  stream after the gradient's event; the same kernel then waits until every peer's ready[k]
//                  is s, so the update stream's reduce-update of bucket k, ordered after it by an event,
//                  reads complete gradients; on hosts the wait is wait_reduction(k)'s);
//   done[k] = s    this rank's reduce-update of bucket k is complete: it has read every peer's gradient and
//                  written its parameters into every peer (a one-thread kernel on the update stream).
// finish() waits until every peer's done[k] is s for every bucket: then this rank's parameters are final and
// no peer still reads its gradients, so the next step may overwrite them. No host barrier in the step.
//
// GPUs, by default where the GPU runs them (NAGBENCH_P2P_FLAGS=memop insists, =kernel keeps the kernels
// above): the flags are written and waited on by the GPU's front end (CUDA stream memory operations): no
// one-thread kernel needs a free SM slot behind the reduce-update's grid, and no launch is paid per flag.
// Each rank writes its flags into every peer's table and waits on its own (writes go over NVLink, waits poll
// local memory); done is one flag per rank and step, written by finish() after the step's last reduce-update,
// so finish() waits once per peer. A stream blocked in a wait may hold back streams that share its hardware
// queue (kernels spinning on an SM never do); that can cost time but not deadlock: on every rank a bucket's
// gradient and flag write are enqueued before the wait for the peers' flags of that bucket.
//
// Captured steps (--launch graph): a graph bakes in the values it writes and waits for (the memops' operands,
// the flag kernels' arguments), so a flag holds the step's parity (steps counted from 1: 1 odd, 2 even; 0
// before the first step) and the waits are for equality. A flag cannot move on to the next step's value
// before every peer has seen this one: a rank writes its step s+1 flags only after its step s ended, which
// waited for every peer's done flag of step s, which each peer writes after its last wait of step s.
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "nagbench/comm/registry.hpp"
#include "nagbench/core/backends.hpp"
#include "nagbench/core/enabled_backends.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/mpi_check.hpp"

#ifdef NAGBENCH_HAVE_MPI
#include <mpi.h>

#ifdef KOKKOS_ENABLE_CUDA
#include <cuda.h>

#include "nagbench/core/cuda_check.hpp"
#endif

namespace nagbench {
namespace {

// The reduce-update kernel takes a fixed-size table of peers (passed by value to the kernel).
constexpr int kMaxP2pRanks = 8;
// GPUs: the buckets whose handshakes a step with every gradient ready starts before the first reduce-update
// (then one more per bucket), rather than every bucket's first: the host then enqueues bucket 0's
// reduce-update at once instead of after every bucket's handshake (8 MiB buckets of vit_l_16 on 2 x
// H200: 4.43 ms against 4.85, results/nvidia-h200-x2/2026-11-28-p2p-memop/).
constexpr int kDefaultStartAhead = 2;
// push-sm: the threads of the push kernel (NAGBENCH_P2P_PUSH_THREADS); 0 = one full wave of the GPU (SMs x
// resident threads per SM). More threads keep more NVLink writes in flight: vit_l_16 on 4 x H200, 400 MiB
// buckets, 5.30 / 5.24 / 5.23 ms with 65536 / 131072 / 262144 threads, 25 MiB 6.11 / 6.08 / 5.60 ms
// (results/nvidia-h200-x4/2026-11-28-p2p-push-sm/).
constexpr int64_t kDefaultPushThreads = 0;

// The node's ranks, in world-rank order (p2p runs need every rank on one node, so this is the world).
MPI_Comm node_comm() {
  static MPI_Comm node = MPI_COMM_NULL;
  if (node == MPI_COMM_NULL)
    check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node),
              "MPI_Comm_split_type");
  return node;
}

// ---- Host: MPI shared-memory windows ----------------------------------------------------------------------

class ShmAllocator final : public ArenaAllocator {
 public:
  ~ShmAllocator() override {
    for (auto& b : blocks_)
      if (b.win != MPI_WIN_NULL) MPI_Win_free(&b.win);
  }
  // Collective over the node: every rank allocates its arenas in the same order (ParamArena's).
  void* allocate(int64_t bytes, const std::string&) override {
    Block b;
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");  // each rank's segment on its own pages
    const int rc = MPI_Win_allocate_shared(static_cast<MPI_Aint>(bytes > 0 ? bytes : 1), 1, info, node_comm(),
                                           &b.base, &b.win);
    MPI_Info_free(&info);
    check_mpi(rc, "MPI_Win_allocate_shared");
    blocks_.push_back(b);
    return b.base;
  }
  void deallocate(void*) override {}  // windows are collective: freed together in the destructor
  std::string name() const override { return "mpi-shared-window"; }

  // Every rank's segment of the window whose local segment starts at `local`.
  std::vector<void*> peers_of(const void* local, int ranks) const {
    for (const auto& b : blocks_) {
      if (b.base != local) continue;
      std::vector<void*> out(size_t(ranks), nullptr);
      for (int r = 0; r < ranks; ++r) {
        MPI_Aint size = 0;
        int unit = 0;
        check_mpi(MPI_Win_shared_query(b.win, r, &size, &unit, &out[size_t(r)]), "MPI_Win_shared_query");
      }
      return out;
    }
    throw RunError("p2p: an arena was not allocated by the shared-memory allocator");
  }

 private:
  struct Block {
    void* base = nullptr;
    MPI_Win win = MPI_WIN_NULL;
  };
  std::vector<Block> blocks_;
};

template <class Exec>
class ShmP2pComm final : public Communicator<Exec> {
 public:
  explicit ShmP2pComm(const ProcessInfo& proc) : proc_(proc) {}

  std::string name() const override { return "p2p"; }
  std::string path() const override { return "shm"; }
  ArenaAllocator* arena_allocator() override { return &alloc_; }

  void setup(const CommSetup& s) override {
    s_ = s;
    nb_ = static_cast<int>(s.plan.buckets.size());
    peers_.grad = alloc_.peers_of(s.grad, proc_.size);
    peers_.param = alloc_.peers_of(s.param, proc_.size);
    // Flags: ready[0..nb) then done[0..nb), zero before any peer can look (the barrier).
    auto* mine = static_cast<uint64_t*>(flags_.allocate(int64_t(2 * nb_ * sizeof(uint64_t)), "p2p flags"));
    for (int i = 0; i < 2 * nb_; ++i)
      __atomic_store_n(mine + i, uint64_t(0), __ATOMIC_RELEASE);
    for (void* f : flags_.peers_of(mine, proc_.size))
      flag_ptrs_.push_back(static_cast<uint64_t*>(f));
    check_mpi(MPI_Barrier(node_comm()), "MPI_Barrier");
    step_ = 0;
  }

  // Host backends finish each kernel before returning: this rank's gradient of bucket k is complete. The wait
  // for the peers comes only when bucket k's update needs them (the harness starts every bucket first), so
  // ranks do not take turns per bucket, which oversubscribed ranks would pay for in context switches.
  void start_reduction(int k, const ExecEvent<Exec>&) override {
    if (k == 0) ++step_;
    __atomic_store_n(flag_ptrs_[size_t(proc_.rank)] + k, step_, __ATOMIC_RELEASE);
  }
  void wait_reduction(int k, const Exec&) override { wait_all(k); }
  void start_gather(int k, const Exec&) override {
    __atomic_store_n(flag_ptrs_[size_t(proc_.rank)] + nb_ + k, step_, __ATOMIC_RELEASE);
  }
  void finish() override {
    for (int k = 0; k < nb_; ++k)
      wait_all(nb_ + k);
  }
  int64_t reduced_slice_offset(int k) const override {
    return s_.sharded ? proc_.rank * s_.plan.shard_length(k) : 0;
  }
  const PeerArenas* peer_arenas() const override { return &peers_; }
  int skipped_bucket() const override { return s_.skip_bucket; }

  void allreduce(const void*, void*, int64_t, ElemType) override {
    throw InputError("--comm p2p serves data-parallel steps only (use --comm mpi or nccl for --comm-only)");
  }
  void synchronize() override {}

 private:
  // Until every rank's flag `i` holds this step (ranks may be oversubscribed on few cores: yield).
  void wait_all(int i) const {
    for (int r = 0; r < proc_.size; ++r)
      while (__atomic_load_n(flag_ptrs_[size_t(r)] + i, __ATOMIC_ACQUIRE) < step_)
        std::this_thread::yield();
  }

  ProcessInfo proc_;
  ShmAllocator alloc_, flags_;  // flags_ after alloc_: windows are freed in reverse order on every rank
  CommSetup s_;
  PeerArenas peers_;
  std::vector<uint64_t*> flag_ptrs_;
  int nb_ = 0;
  uint64_t step_ = 0;
};

// ---- CUDA: IPC handles ------------------------------------------------------------------------------------
#ifdef KOKKOS_ENABLE_CUDA

struct FlagTable {
  volatile uint64_t* f[kMaxP2pRanks];
  int ranks;
};

// Device side of the protocol: a store made visible to every GPU, and a wait for every rank's flag.
KOKKOS_INLINE_FUNCTION void publish_flag(volatile uint64_t* flag, uint64_t value) {
#ifdef __CUDA_ARCH__
  __threadfence_system();  // the writes before this kernel, then the flag
#endif
  *flag = value;
#ifdef __CUDA_ARCH__
  __threadfence_system();
#endif
}

// `exact`: captured steps, whose flags hold the step's parity (see above): wait for the value itself.
KOKKOS_INLINE_FUNCTION void wait_flags(const FlagTable& t, int index, uint64_t value, bool exact) {
  for (int r = 0; r < kMaxP2pRanks; ++r) {
    if (r >= t.ranks) break;
    while (exact ? t.f[r][index] != value : t.f[r][index] < value) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
      __nanosleep(32);
#endif
    }
  }
#ifdef __CUDA_ARCH__
  __threadfence_system();  // reads after the flags see what the peers wrote before them
#endif
}

// The protocol's one-thread kernels (functors: extended lambdas may not live in an unnamed namespace).
struct PublishAndWait {  // ready[k] = step, then until every rank's ready[k] is step
  volatile uint64_t* mine;
  FlagTable table;
  int index;
  uint64_t step;
  bool exact;
  KOKKOS_INLINE_FUNCTION void operator()(int) const {
    publish_flag(mine + index, step);
    wait_flags(table, index, step, exact);
  }
};
struct Publish {  // done[k] = step
  volatile uint64_t* flag;
  uint64_t step;
  KOKKOS_INLINE_FUNCTION void operator()(int) const { publish_flag(flag, step); }
};
// NAGBENCH_P2P_REDUCE=push-sm: every peer's part of this rank's gradient stored into that peer's inbox by one
// grid-stride kernel of `threads` threads (16-byte accesses; NVLink carries posted writes only, as NCCL's
// stores do). Warp-sized runs of 16-byte words go to the peers in turn, so every peer's link is busy from the
// start rather than one peer after another.
struct PushParts {
  const uint4* src[kMaxP2pRanks];
  uint4* dst[kMaxP2pRanks];
  int parts = 0;      // peers written
  int64_t words = 0;  // 16-byte words per part
  int64_t threads = 0;
  KOKKOS_INLINE_FUNCTION void operator()(int64_t t) const {
    constexpr int64_t run = 32;
    const int64_t runs = (words + run - 1) / run, total = runs * parts * run;
    for (int64_t i = t; i < total; i += threads) {
      const int64_t r = i / run;
      const int q = int(r % parts);
      const int64_t w = (r / parts) * run + (i % run);
      if (w < words) dst[q][w] = src[q][w];
    }
  }
};
struct WaitRange {  // until every rank's flags [first, first + count) hold step
  FlagTable table;
  int first, count;
  uint64_t step;
  bool exact;
  KOKKOS_INLINE_FUNCTION void operator()(int) const {
    for (int i = first; i < first + count; ++i)
      wait_flags(table, i, step, exact);
  }
};

// The driver API's stream memory operations, looked up through the runtime (cudaGetDriverEntryPoint) rather
// than linked: a binary linked to libcuda.so.1 would not even start on a machine without a GPU driver, where
// the CUDA build must still print its help and a clear error.
struct DriverMemops {
  CUresult(CUDAAPI* write)(CUstream, CUdeviceptr, cuuint64_t, unsigned int) = nullptr;
  CUresult(CUDAAPI* wait)(CUstream, CUdeviceptr, cuuint64_t, unsigned int) = nullptr;
  CUresult(CUDAAPI* device_get)(CUdevice*, int) = nullptr;
  CUresult(CUDAAPI* attribute)(int*, CUdevice_attribute, CUdevice) = nullptr;
  CUresult(CUDAAPI* error_string)(CUresult, const char**) = nullptr;

  // Whether every entry point was found and this GPU runs 64-bit stream memory operations.
  bool load() {
    bool ok = find("cuStreamWriteValue64", write) && find("cuStreamWaitValue64", wait) &&
              find("cuDeviceGet", device_get) && find("cuDeviceGetAttribute", attribute) &&
              find("cuGetErrorString", error_string);
    int dev = 0, on = 0;
    CUdevice cu_dev = 0;
    // The attribute's name is the same before and after CUDA 11.7 (which gave it a new value with the v2
    // API).
    ok = ok && cudaGetDevice(&dev) == cudaSuccess && device_get(&cu_dev, dev) == CUDA_SUCCESS &&
         attribute(&on, CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS, cu_dev) == CUDA_SUCCESS;
    return ok && on != 0;
  }
  void check(CUresult rc, const char* call) const {
    if (rc == CUDA_SUCCESS) return;
    const char* msg = nullptr;
    if (error_string) error_string(rc, &msg);
    throw RunError(std::string(call) + " failed: " + (msg ? msg : std::to_string(int(rc))));
  }

 private:
  template <class F>
  static bool find(const char* name, F& fn) {
    void* p = nullptr;
#if CUDART_VERSION >= 12050
    cudaDriverEntryPointQueryResult found{};
    const cudaError_t rc = cudaGetDriverEntryPointByVersion(name, &p, 12000, cudaEnableDefault, &found);
    const bool ok = rc == cudaSuccess && found == cudaDriverEntryPointSuccess;
#elif CUDART_VERSION >= 12000
    cudaDriverEntryPointQueryResult found{};
    const cudaError_t rc = cudaGetDriverEntryPoint(name, &p, cudaEnableDefault, &found);
    const bool ok = rc == cudaSuccess && found == cudaDriverEntryPointSuccess;
#elif CUDART_VERSION >= 11030
    const bool ok = cudaGetDriverEntryPoint(name, &p, cudaEnableDefault) == cudaSuccess;
#else
    const bool ok = false;  // no entry-point lookup: the kernel flags only
#endif
    if (!ok || !p) {
      cudaGetLastError();  // a failed lookup leaves a (non-sticky) error behind: clear it
      return false;
    }
    fn = reinterpret_cast<F>(p);
    return true;
  }
};

class IpcAllocator final : public ArenaAllocator {
 public:
  ~IpcAllocator() override {
    for (void* p : blocks_)
      cudaFree(p);
  }
  void* allocate(int64_t bytes, const std::string&) override {
    void* p = nullptr;
    NAGBENCH_CUDA_CHECK(cudaMalloc(&p, static_cast<size_t>(bytes > 0 ? bytes : 1)));
    blocks_.push_back(p);
    return p;
  }
  void deallocate(void*) override {}  // peers may have the memory open: freed in the destructor
  std::string name() const override { return "cuda-ipc"; }

 private:
  std::vector<void*> blocks_;
};

// NAGBENCH_P2P_REDUCE=push (sharded only): before the handshake of bucket k, this rank copies the part of its
// gradient that each peer owns into that peer's inbox with cudaMemcpyAsync (copy engines, one stream per
// peer, no SMs taken; NVLink carries writes only), and the reduce-update reads local memory. push-sm: the
// same copies by one kernel of SM stores (PushParts) on the comm stream. Defaults of sharded runs: push-sm
// when nothing but reduce-updates runs beside (dp: at 4 GPUs the copy engines' three copies per bucket lose
// even to pull, the kernel's stores win at 2 and 4), push beside a backward (train: the GEMMs keep every SM).
// pull (and every replicated run): the reduce-update reads the peers' gradients over NVLink.
enum class PushBy { none, copy_engines, sms };
class IpcP2pComm final : public Communicator<Kokkos::Cuda> {
 public:
  // `push` applies to sharded runs only (known here, before setup, so that path() names it from the start).
  // flags: "memop", "kernel" or "" (memop where the GPU runs stream memory operations, else kernel).
  IpcP2pComm(const CommSpaces<Kokkos::Cuda>& spaces, const ProcessInfo& proc, PushBy push,
             const std::string& flags, int64_t push_threads)
      : proc_(proc),
        spaces_(spaces),
        push_(proc.size > 1 ? push : PushBy::none),
        push_threads_(push_threads),
        push_threads_set_(push_threads != kDefaultPushThreads) {
    if (push_threads_ == kDefaultPushThreads) {
      int dev = 0, sms = 0, per_sm = 0;
      NAGBENCH_CUDA_CHECK(cudaGetDevice(&dev));
      NAGBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
      NAGBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&per_sm, cudaDevAttrMaxThreadsPerMultiProcessor, dev));
      push_threads_ = int64_t(sms) * per_sm;
    }
    // Every rank must run the same protocol: memop flags only where every rank's GPU runs them.
    int here = flags != "kernel" && driver_.load() ? 1 : 0, everywhere = 0;
    check_mpi(MPI_Allreduce(&here, &everywhere, 1, MPI_INT, MPI_MIN, node_comm()), "MPI_Allreduce");
    memops_ = everywhere == 1;
    if (flags == "memop" && !memops_)
      throw InputError(
          "NAGBENCH_P2P_FLAGS=memop: a rank's GPU or driver does not run 64-bit stream memory "
          "operations (CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS)");
  }
  ~IpcP2pComm() override {
    // Every peer closes our memory before we free it (cudaFree of exported memory still open elsewhere is
    // undefined): close, then a barrier, then the allocators free.
    for (void* p : opened_)
      cudaIpcCloseMemHandle(p);
    for (cudaStream_t st : push_streams_)
      cudaStreamDestroy(st);
    for (cudaEvent_t e : push_events_)
      cudaEventDestroy(e);
    MPI_Barrier(node_comm());
  }

  std::string name() const override { return "p2p"; }
  std::string path() const override {
    std::string p = std::string(push_ == PushBy::copy_engines ? "cuda-ipc-push"
                                : push_ == PushBy::sms        ? "cuda-ipc-push-sm"
                                                              : "cuda-ipc") +
                    (memops_ ? "-memop" : "");
    if (push_ == PushBy::sms && push_threads_set_) p += "-t" + std::to_string(push_threads_);
    if (start_ahead_ != kDefaultStartAhead)
      p += start_ahead_ == 0 ? "-ahead-all" : "-ahead" + std::to_string(start_ahead_);
    return p;
  }
  ArenaAllocator* arena_allocator() override { return &alloc_; }

  void setup(const CommSetup& s) override {
    s_ = s;
    nb_ = static_cast<int>(s.plan.buckets.size());
    // Kernel flags: ready[0..nb) then done[0..nb), each rank's in its own memory. Memop flags: one row per
    // rank, ready[0..nb) then the done counter, in every rank's memory (written by their owner rank).
    const int64_t slots = memops_ ? int64_t(proc_.size) * (nb_ + 1) : 2 * int64_t(nb_);
    void* flags = flags_alloc_.allocate(slots * int64_t(sizeof(uint64_t)), "p2p flags");
    NAGBENCH_CUDA_CHECK(cudaMemset(flags, 0, size_t(slots) * sizeof(uint64_t)));
    NAGBENCH_CUDA_CHECK(cudaDeviceSynchronize());  // zero before any peer can open them
    peers_.grad = exchange(s.grad);
    peers_.param = exchange(s.param);
    const std::vector<void*> f = exchange(flags);
    table_.ranks = proc_.size;
    for (int r = 0; r < kMaxP2pRanks; ++r)
      table_.f[r] = r < proc_.size ? static_cast<volatile uint64_t*>(f[size_t(r)]) : nullptr;
    mine_ = static_cast<volatile uint64_t*>(flags);
    gathered_ = 0;
    if (pushing()) {
      const int64_t bytes = s.plan.arena.length * elem_bytes(s.type);
      void* inbox = alloc_.allocate(bytes, "p2p inbox");
      peers_.inbox = inbox;
      inboxes_ = exchange(inbox);
      if (push_ == PushBy::copy_engines && push_streams_.empty()) {
        for (int r = 0; r < proc_.size; ++r) {
          cudaStream_t st = nullptr;
          NAGBENCH_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
          push_streams_.push_back(st);
        }
        for (int e = 0; e < proc_.size + 1; ++e) {  // the fork, then one join per peer
          cudaEvent_t ev = nullptr;
          NAGBENCH_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
          push_events_.push_back(ev);
        }
      }
    }
    reduced_.clear();
    for (int k = 0; k < nb_; ++k)
      reduced_.emplace_back();
    step_ = 0;
  }

  void start_reduction(int k, const ExecEvent<Kokkos::Cuda>& ready) override {
    if (k == 0) ++step_;
    ready.make_wait(spaces_.comm);
    if (pushing()) push(k);
    if (s_.mark_handshake) s_.mark_handshake(k);
    if (memops_) {
      // The write is preceded by a stream-scoped system fence (no NO_MEMORY_BARRIER flag): the gradient, and
      // the pushed parts, are visible to the peers before the flag.
      publish_and_wait(spaces_.comm.cuda_stream(), k);
    } else {
      Kokkos::parallel_for("nagbench::p2p_ready", Kokkos::RangePolicy<Kokkos::Cuda>(spaces_.comm, 0, 1),
                           PublishAndWait{mine_, table_, k, flag_value(), s_.captured});
    }
    reduced_[size_t(k)].record(spaces_.comm);
  }
  void wait_reduction(int k, const Kokkos::Cuda& on) override { reduced_[size_t(k)].make_wait(on); }
  void start_gather(int k, const Kokkos::Cuda& on) override {
    if (memops_) {
      // Only finish() reads done flags: one flag per step, written there, not one per bucket (each write
      // waits for the reduce-update before it and fences, and the next bucket's kernel would wait behind it).
      ++gathered_;
      return;
    }
    Kokkos::parallel_for("nagbench::p2p_done", Kokkos::RangePolicy<Kokkos::Cuda>(on, 0, 1),
                         Publish{mine_ + nb_ + k, flag_value()});
  }
  void finish() override {
    if (memops_) {
      if (gathered_ != uint64_t(nb_))
        throw RunError("p2p: " + std::to_string(gathered_) + " of " + std::to_string(nb_) +
                       " buckets were marked done before the end of the step");
      gathered_ = 0;
      publish_and_wait(spaces_.update.cuda_stream(), nb_);
    } else {
      Kokkos::parallel_for("nagbench::p2p_finish", Kokkos::RangePolicy<Kokkos::Cuda>(spaces_.update, 0, 1),
                           WaitRange{table_, nb_, nb_, flag_value(), s_.captured});
    }
    if (s_.captured) return;  // the harness waits for the graph
    spaces_.update.fence();
    spaces_.comm.fence();
  }
  int64_t reduced_slice_offset(int k) const override {
    return s_.sharded ? proc_.rank * s_.plan.shard_length(k) : 0;
  }
  const PeerArenas* peer_arenas() const override { return &peers_; }
  int skipped_bucket() const override { return s_.skip_bucket; }
  int start_ahead() const override { return start_ahead_; }

  void allreduce(const void*, void*, int64_t, ElemType) override {
    throw InputError("--comm p2p serves data-parallel steps only (use --comm mpi or nccl for --comm-only)");
  }
  void synchronize() override { spaces_.comm.fence(); }
  void set_start_ahead(int n) { start_ahead_ = n; }

 private:
  // Every rank's pointer to the allocation that starts at `local` here (this rank's own pointer at its rank).
  std::vector<void*> exchange(void* local) {
    cudaIpcMemHandle_t h;
    NAGBENCH_CUDA_CHECK(cudaIpcGetMemHandle(&h, local));
    std::vector<cudaIpcMemHandle_t> all(size_t(proc_.size));
    check_mpi(MPI_Allgather(&h, sizeof(h), MPI_BYTE, all.data(), sizeof(h), MPI_BYTE, node_comm()),
              "MPI_Allgather of CUDA IPC handles");
    std::vector<void*> out(size_t(proc_.size), nullptr);
    for (int r = 0; r < proc_.size; ++r) {
      if (r == proc_.rank) {
        out[size_t(r)] = local;
        continue;
      }
      NAGBENCH_CUDA_CHECK(
          cudaIpcOpenMemHandle(&out[size_t(r)], all[size_t(r)], cudaIpcMemLazyEnablePeerAccess));
      opened_.push_back(out[size_t(r)]);
    }
    return out;
  }

  bool pushing() const { return push_ != PushBy::none; }
  // What this step's flags hold: the step number (waits: at least it), or under capture its parity, 1 or 2
  // (waits: exactly it; 0 before the first step).
  uint64_t flag_value() const { return s_.captured ? (step_ % 2 == 1 ? 1 : 2) : step_; }

  // Memop flags: rank `from`'s slot `slot` in rank `owner`'s table; written by `from` only.
  CUdeviceptr flag_address(int owner, int from, int slot) const {
    const auto* base = const_cast<const uint64_t*>(table_.f[owner]);
    return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(base + int64_t(from) * (nb_ + 1) + slot));
  }
  // On stream `st`: this rank's flag `slot` = this step's value in every peer's table, then until every
  // peer's flag `slot` in this rank's table holds it (direct steps: the step number, or more; captured steps:
  // the step's parity, exactly).
  void publish_and_wait(cudaStream_t st, int slot) const {
    const uint64_t value = flag_value();
    const unsigned wait_for = s_.captured ? CU_STREAM_WAIT_VALUE_EQ : CU_STREAM_WAIT_VALUE_GEQ;
    const auto stream = reinterpret_cast<CUstream>(st);
    for (int j = 0; j < proc_.size; ++j)
      if (j != proc_.rank)
        driver_.check(
            driver_.write(stream, flag_address(j, proc_.rank, slot), value, CU_STREAM_WRITE_VALUE_DEFAULT),
            "cuStreamWriteValue64");
    for (int j = 0; j < proc_.size; ++j)
      if (j != proc_.rank)
        driver_.check(driver_.wait(stream, flag_address(proc_.rank, j, slot), value, wait_for),
                      "cuStreamWaitValue64");
  }

  // Peer j's part of this rank's gradient of bucket b (j's shard) and where it lands (this rank's slot of
  // j's inbox).
  struct PeerPart {
    char* dst;
    const char* src;
  };
  PeerPart peer_part(const Bucket& b, int j, int64_t shard, int64_t esz) const {
    return {static_cast<char*>(inboxes_[size_t(j)]) + (b.start + proc_.rank * shard) * esz,
            static_cast<const char*>(s_.grad) + (b.start + j * shard) * esz};
  }

  // Each peer's part of this rank's gradient of bucket k into that peer's inbox, the copies side by side on
  // one stream per peer, forked from and joined back into the comm stream.
  void push(int k) {
    const cudaStream_t comm = spaces_.comm.cuda_stream();
    const Bucket& b = s_.plan.buckets[size_t(k)];
    const int64_t shard = s_.plan.shard_length(k), esz = elem_bytes(s_.type);
    if (push_ == PushBy::sms && push_sms(b, shard, esz)) return;
    NAGBENCH_CUDA_CHECK(cudaEventRecord(push_events_[0], comm));
    for (int j = 0; j < proc_.size; ++j) {
      if (j == proc_.rank) continue;
      const cudaStream_t st = push_streams_[size_t(j)];
      NAGBENCH_CUDA_CHECK(cudaStreamWaitEvent(st, push_events_[0], 0));
      const PeerPart part = peer_part(b, j, shard, esz);
      NAGBENCH_CUDA_CHECK(
          cudaMemcpyAsync(part.dst, part.src, size_t(shard * esz), cudaMemcpyDeviceToDevice, st));
      NAGBENCH_CUDA_CHECK(cudaEventRecord(push_events_[size_t(j) + 1], st));
      NAGBENCH_CUDA_CHECK(cudaStreamWaitEvent(comm, push_events_[size_t(j) + 1], 0));
    }
  }

  // push-sm's kernel; false (the caller copies with the copy engines) where a part is not in whole, aligned
  // 16-byte words (never for the bucket plans' shards of 4-byte elements).
  bool push_sms(const Bucket& b, int64_t shard, int64_t esz) {
    PushParts parts;
    const int64_t bytes = shard * esz;
    if (bytes % 16 != 0) return false;
    for (int j = 0; j < proc_.size; ++j) {
      if (j == proc_.rank) continue;
      const PeerPart part = peer_part(b, j, shard, esz);
      if (reinterpret_cast<uintptr_t>(part.dst) % 16 != 0 || reinterpret_cast<uintptr_t>(part.src) % 16 != 0)
        return false;
      parts.dst[parts.parts] = reinterpret_cast<uint4*>(part.dst);
      parts.src[parts.parts] = reinterpret_cast<const uint4*>(part.src);
      ++parts.parts;
    }
    parts.words = bytes / 16;
    parts.threads = std::min(push_threads_, parts.words * parts.parts);
    if (parts.threads <= 0) return true;
    Kokkos::parallel_for(
        "nagbench::p2p_push",
        Kokkos::RangePolicy<Kokkos::Cuda, Kokkos::IndexType<int64_t>>(spaces_.comm, 0, parts.threads), parts);
    return true;
  }

  ProcessInfo proc_;
  CommSpaces<Kokkos::Cuda> spaces_;
  PushBy push_ = PushBy::none;
  int64_t push_threads_ = 0;
  bool push_threads_set_ = false;  // NAGBENCH_P2P_PUSH_THREADS given (the record's path names it)
  bool memops_ = false;
  DriverMemops driver_;
  int start_ahead_ = kDefaultStartAhead;  // NAGBENCH_P2P_START_AHEAD: see Communicator::start_ahead
  uint64_t gathered_ = 0;  // memop flags: buckets marked done in this step (checked in finish())
  std::vector<void*> inboxes_;
  std::vector<cudaStream_t> push_streams_;
  std::vector<cudaEvent_t> push_events_;
  IpcAllocator alloc_, flags_alloc_;
  std::vector<void*> opened_;
  CommSetup s_;
  PeerArenas peers_;
  FlagTable table_{};
  volatile uint64_t* mine_ = nullptr;
  std::vector<ExecEvent<Kokkos::Cuda>> reduced_;
  int nb_ = 0;
  uint64_t step_ = 0;
};
#endif  // KOKKOS_ENABLE_CUDA

}  // namespace

bool P2pBackend::compiled_in() {
  return true;
}

std::string P2pBackend::problem(const CommRequest& r) {
  if (r.run_kind != "dp" && r.run_kind != "train")
    return "--comm p2p fuses the reduction into the update of a data-parallel step: it serves data-parallel "
           "and training runs only (use --comm nccl or mpi for --comm-only)";
  if (r.ranks > kMaxP2pRanks)
    return "--comm p2p runs at most " + std::to_string(kMaxP2pRanks) + " ranks (one node), not " +
           std::to_string(r.ranks);
  return "";
}

template <class Exec>
std::unique_ptr<Communicator<Exec>> P2pBackend::make(const CommSpaces<Exec>& spaces, const CommOptions& opt,
                                                     const ProcessInfo& proc) {
  if (proc.local_size != proc.size)
    throw InputError("--comm p2p needs every rank on one node (this job has " + std::to_string(proc.size) +
                     " ranks, " + std::to_string(proc.local_size) + " on this node)");
  const char* mode = std::getenv("NAGBENCH_P2P_REDUCE");
  // Sharded CUDA runs push unless told otherwise. Beside nothing but reduce-updates (dp) by SM stores:
  // vit_l_16 on 4 x H200 at 1.014x one allreduce against pull's 1.13x, on 2 x H200 0.918x against 0.975x.
  // Beside a backward (train) by copy engines, which leave the GEMMs every SM: the MLP's step on 4 x
  // H200 19.96 ms against 20.63 (SM stores) and 22.62 (pull)
  // (results/nvidia-h200-x4/2026-11-28-p2p-push-sm/).
  const std::string reduce = mode && *mode ? mode : opt.beside_compute ? "push" : "push-sm";
  if (reduce != "pull" && reduce != "push" && reduce != "push-sm")
    throw InputError("NAGBENCH_P2P_REDUCE must be pull, push or push-sm (got '" + reduce + "')");
  const char* threads_env = std::getenv("NAGBENCH_P2P_PUSH_THREADS");
  int64_t push_threads = kDefaultPushThreads;
  if (threads_env && *threads_env) {
    char* end = nullptr;
    const long long v = std::strtoll(threads_env, &end, 10);
    if (*end != '\0' || v < 32 || v > (1LL << 24))
      throw InputError("NAGBENCH_P2P_PUSH_THREADS must be a thread count from 32 to 16777216 (got '" +
                       std::string(threads_env) + "')");
    push_threads = v;
  }
  const char* ahead_env = std::getenv("NAGBENCH_P2P_START_AHEAD");
  int ahead = kDefaultStartAhead;
  if (ahead_env && *ahead_env) {
    char* end = nullptr;
    const long v = std::strtol(ahead_env, &end, 10);
    if (*end != '\0' || v < 0 || v > 1000000)
      throw InputError("NAGBENCH_P2P_START_AHEAD must be a count of buckets >= 0 (got '" +
                       std::string(ahead_env) + "')");
    ahead = int(v);
  }
  const char* flags_env = std::getenv("NAGBENCH_P2P_FLAGS");
  std::string flags = flags_env ? flags_env : "";
  if (!flags.empty() && flags != "kernel" && flags != "memop")
    throw InputError("NAGBENCH_P2P_FLAGS must be kernel or memop (got '" + flags + "')");
#if defined(KOKKOS_ENABLE_CUDA) && CUDART_VERSION < 11070
  // Graphs hold stream memory operations from CUDA 11.7 (batch memop nodes): captured steps of older
  // toolkits take the flag kernels.
  if (opt.graph && flags == "memop")
    throw InputError(
        "NAGBENCH_P2P_FLAGS=memop with --launch graph needs CUDA 11.7 or later to capture the "
        "flags (this build: " +
        std::to_string(CUDART_VERSION) + ")");
  if (opt.graph) flags = "kernel";
#endif
#ifdef KOKKOS_ENABLE_CUDA
  if constexpr (std::is_same<Exec, Kokkos::Cuda>::value) {
    const PushBy push = !opt.sharded          ? PushBy::none
                        : reduce == "push"    ? PushBy::copy_engines
                        : reduce == "push-sm" ? PushBy::sms
                                              : PushBy::none;
    auto comm = std::make_unique<IpcP2pComm>(spaces, proc, push, flags, push_threads);
    comm->set_start_ahead(ahead);
    return comm;
  }
#endif
  if constexpr (is_host_space<Exec>()) {
    (void)spaces;
    (void)ahead;  // host p2p sets its flags at once: every bucket starts first
    (void)push_threads;
    return std::make_unique<ShmP2pComm<Exec>>(proc);
  } else {
    throw InputError("--comm p2p: no p2p path for --backend " + backend_name<Exec>());
  }
}

}  // namespace nagbench

#else  // no MPI

namespace nagbench {
bool P2pBackend::compiled_in() {
  return false;
}
std::string P2pBackend::problem(const CommRequest&) {
  return "--comm p2p: this nagbench was built without MPI (its ranks find their peers through MPI)";
}
template <class Exec>
std::unique_ptr<Communicator<Exec>> P2pBackend::make(const CommSpaces<Exec>&, const CommOptions&,
                                                     const ProcessInfo&) {
  throw InputError(problem({}));
}
}  // namespace nagbench
#endif

namespace nagbench {
#define NAGBENCH_INSTANTIATE(Exec)                                     \
  template std::unique_ptr<Communicator<Exec>> P2pBackend::make<Exec>( \
      const CommSpaces<Exec>&, const CommOptions&, const ProcessInfo&);
NAGBENCH_FOR_EACH_BACKEND(NAGBENCH_INSTANTIATE)
}  // namespace nagbench
