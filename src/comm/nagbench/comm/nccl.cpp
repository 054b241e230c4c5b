// --comm nccl: ncclAllReduce per bucket (ncclReduceScatter + ncclAllGather when sharded), in place, enqueued
// on the step's comm instance (a Kokkos::Cuda on its own high-priority stream). The communicator is
// bootstrapped by broadcasting ncclUniqueId over MPI. Ordering with gradient production and the update is by
// events only: no device-wide synchronisation in the hot loop.
#include <Kokkos_Core.hpp>
#include <type_traits>

#include "nagbench/comm/registry.hpp"
#include "nagbench/core/backends.hpp"
#include "nagbench/core/enabled_backends.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/watchdog.hpp"

#if defined(NAGBENCH_HAVE_NCCL) && defined(KOKKOS_ENABLE_CUDA) && defined(NAGBENCH_HAVE_MPI)
#include <mpi.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "nagbench/core/cuda_check.hpp"

#define NAGBENCH_NCCL_CHECK(call)                                                                      \
  do {                                                                                                 \
    const ncclResult_t nagbench_rc_ = (call);                                                          \
    if (nagbench_rc_ != ncclSuccess)                                                                   \
      throw ::nagbench::RunError(std::string(#call) + " failed: " + ncclGetErrorString(nagbench_rc_) + \
                                 " (" + std::to_string(static_cast<int>(nagbench_rc_)) + ")");         \
  } while (0)

namespace nagbench {
namespace {

ncclDataType_t nccl_type(ElemType t) {
  return t == ElemType::f32 ? ncclFloat32 : ncclFloat64;
}
char* at(void* base, int64_t elem, ElemType t) {
  return static_cast<char*>(base) + elem * elem_bytes(t);
}

// One NCCL communicator per process, created on first use and reused by every configuration of a launch
// (initialisation costs seconds); released by release_communicators() before Kokkos and MPI shut down.
ncclComm_t g_world = nullptr;

ncclComm_t world_comm(const ProcessInfo& proc) {
  if (g_world) return g_world;
  // Never NVLink multicast (NVLS): on shared hosts it can take GPUs out of service. Respect an explicit
  // setting.
  setenv("NCCL_NVLS_ENABLE", "0", 0);
  ncclUniqueId id;
  if (proc.rank == 0) NAGBENCH_NCCL_CHECK(ncclGetUniqueId(&id));
  if (MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
    throw RunError("MPI_Bcast of the NCCL unique id failed");
  NAGBENCH_NCCL_CHECK(ncclCommInitRank(&g_world, proc.size, id, proc.rank));
  // A peer that stops leaves NCCL kernels spinning; the watchdog aborts the communicator before ending us.
  watchdog_add_abort_hook([]() {
    if (g_world) ncclCommAbort(g_world);
  });
  return g_world;
}

// User-buffer registration (NCCL >= 2.19; on by default, NAGBENCH_NCCL_REGISTER=0 turns it off): the arenas
// come from ncclMemAlloc and are registered with the communicator (ncclCommRegister, NCCL's local
// registration), so that NCCL reads and writes them directly over CUDA IPC instead of staging through its own
// buffers. Measured on 2 x H200 (docs/data-parallel.md): the sharded step's reduce-scatter + all-gather 9-11%
// faster, replicated steps and the MLP training step unchanged. Every rank registers the same arena layout,
// as NCCL requires.
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 19, 0)
#define NAGBENCH_NCCL_CAN_REGISTER 1
class NcclRegisteredAllocator final : public ArenaAllocator {
 public:
  explicit NcclRegisteredAllocator(ncclComm_t comm) : comm_(comm) {}
  ~NcclRegisteredAllocator() override {
    for (const Block& b : blocks_)
      release(b);
  }
  void* allocate(int64_t bytes, const std::string&) override {
    Block b;
    b.bytes = static_cast<size_t>(bytes > 0 ? bytes : 1);
    NAGBENCH_NCCL_CHECK(ncclMemAlloc(&b.ptr, b.bytes));
    const ncclResult_t rc = ncclCommRegister(comm_, b.ptr, b.bytes, &b.handle);
    if (rc != ncclSuccess) {
      ncclMemFree(b.ptr);
      throw RunError(std::string("ncclCommRegister failed: ") + ncclGetErrorString(rc));
    }
    blocks_.push_back(b);
    return b.ptr;
  }
  void deallocate(void* ptr) override {
    for (size_t i = 0; i < blocks_.size(); ++i) {
      if (blocks_[i].ptr != ptr) continue;
      release(blocks_[i]);
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
  std::string name() const override { return "nccl-registered"; }

 private:
  struct Block {
    void* ptr = nullptr;
    size_t bytes = 0;
    void* handle = nullptr;
  };
  // Teardown: a failure here cannot be reported any more; the memory goes back either way.
  void release(const Block& b) {
    ncclCommDeregister(comm_, b.handle);
    ncclMemFree(b.ptr);
  }
  ncclComm_t comm_;
  std::vector<Block> blocks_;
};
#endif

enum class Registration { off, by_default, requested };

Registration nccl_registration() {
#ifdef NAGBENCH_NCCL_CAN_REGISTER
  constexpr bool can = true;
#else
  constexpr bool can = false;
#endif
  const char* v = std::getenv("NAGBENCH_NCCL_REGISTER");
  const std::string s = v ? v : "";
  if (s == "0") return Registration::off;
  if (s != "" && s != "1") throw InputError("NAGBENCH_NCCL_REGISTER must be 0 or 1 (got '" + s + "')");
  if (s == "1" && !can)
    throw InputError("NAGBENCH_NCCL_REGISTER=1 needs NCCL 2.19 or later (ncclMemAlloc, ncclCommRegister)");
  if (s == "1") return Registration::requested;
  return can ? Registration::by_default : Registration::off;
}

// By default (not asked for explicitly) registration is used only where every rank can register a trial
// block: NCCL forbids mixing registered and unregistered buffers between ranks, and some sites' containers or
// drivers refuse CUDA VMM memory or IPC. Otherwise one warning, and NCCL stages through its own buffers as
// before.
std::unique_ptr<ArenaAllocator> registered_allocator(ncclComm_t comm, Registration mode,
                                                     const ProcessInfo& proc) {
#ifdef NAGBENCH_NCCL_CAN_REGISTER
  if (mode == Registration::requested) return std::make_unique<NcclRegisteredAllocator>(comm);
  if (mode == Registration::by_default) {
    // One trial per process: the communicator, and so the answer, lives as long as the launch.
    static int all_ok = -1;
    if (all_ok < 0) {
      std::string problem;
      try {
        NcclRegisteredAllocator trial(comm);
        trial.deallocate(trial.allocate(int64_t(2) << 20, "nagbench::nccl_register_trial"));
      } catch (const std::exception& e) {
        problem = e.what();
      }
      int ok = problem.empty() ? 1 : 0;
      if (MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        throw RunError("MPI_Allreduce of the NCCL registration trial failed");
      if (!all_ok && (!problem.empty() || proc.rank == 0))
        std::fprintf(
            stderr,
            "[nagbench] warning: rank %d: NCCL buffer registration unavailable%s%s; NCCL stages through its "
            "own buffers (NAGBENCH_NCCL_REGISTER=0 says so without trying)\n",
            proc.rank, problem.empty() ? " on another rank" : ": ", problem.c_str());
    }
    if (all_ok) return std::make_unique<NcclRegisteredAllocator>(comm);
  }
#else
  (void)comm;
  (void)mode;
  (void)proc;
#endif
  return nullptr;
}

class NcclComm final : public Communicator<Kokkos::Cuda> {
 public:
  NcclComm(const CommSpaces<Kokkos::Cuda>& spaces, const ProcessInfo& proc, Registration registration)
      : proc_(proc),
        spaces_(spaces),
        comm_(world_comm(proc)),
        alloc_(registered_allocator(comm_, registration, proc)) {}

  std::string name() const override { return "nccl"; }
  std::string path() const override { return alloc_ ? "nccl-registered" : "nccl"; }
  ArenaAllocator* arena_allocator() override { return alloc_.get(); }
  std::string library_version() const override {
    int v = 0;
    ncclGetVersion(&v);
    return "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
           std::to_string(v % 100);
  }

  void setup(const CommSetup& s) override {
    s_ = s;
    for (auto* evs : {&reduced_, &updated_}) {
      evs->clear();
      for (size_t k = 0; k < s.plan.buckets.size(); ++k)
        evs->emplace_back();
    }
  }

  void start_reduction(int k, const ExecEvent<Kokkos::Cuda>& ready) override {
    const cudaStream_t comm = spaces_.comm.cuda_stream();
    const Bucket& b = s_.plan.buckets[k];
    ready.make_wait(spaces_.comm);
    if (k != s_.skip_bucket) {
      if (s_.sharded) {
        const int64_t shard = s_.plan.shard_length(k);
        NAGBENCH_NCCL_CHECK(ncclReduceScatter(at(s_.grad, b.start, s_.type),
                                              at(s_.grad, b.start + proc_.rank * shard, s_.type), shard,
                                              nccl_type(s_.type), ncclSum, comm_, comm));
      } else {
        NAGBENCH_NCCL_CHECK(ncclAllReduce(at(s_.grad, b.start, s_.type), at(s_.grad, b.start, s_.type),
                                          b.length, nccl_type(s_.type), ncclSum, comm_, comm));
      }
    }
    reduced_[k].record(spaces_.comm);
  }

  void wait_reduction(int k, const Kokkos::Cuda& on) override { reduced_[k].make_wait(on); }

  void start_gather(int k, const Kokkos::Cuda& on) override {
    const Bucket& b = s_.plan.buckets[k];
    const int64_t shard = s_.plan.shard_length(k);
    updated_[k].record(on);
    updated_[k].make_wait(spaces_.comm);
    NAGBENCH_NCCL_CHECK(ncclAllGather(at(s_.param, b.start + proc_.rank * shard, s_.type),
                                      at(s_.param, b.start, s_.type), shard, nccl_type(s_.type), comm_,
                                      spaces_.comm.cuda_stream()));
  }

  void finish() override {
    if (!s_.captured) spaces_.comm.fence();  // captured: the harness waits for the graph
  }

  int64_t reduced_slice_offset(int k) const override { return proc_.rank * s_.plan.shard_length(k); }

  void allreduce(const void* send, void* recv, int64_t count, ElemType t) override {
    NAGBENCH_NCCL_CHECK(
        ncclAllReduce(send, recv, count, nccl_type(t), ncclSum, comm_, spaces_.comm.cuda_stream()));
  }
  void synchronize() override { spaces_.comm.fence(); }

 private:
  ProcessInfo proc_;
  CommSpaces<Kokkos::Cuda> spaces_;
  ncclComm_t comm_ = nullptr;
  std::unique_ptr<ArenaAllocator> alloc_;  // null: Kokkos' own allocation, NCCL stages through its buffers
  CommSetup s_;
  std::vector<ExecEvent<Kokkos::Cuda>> reduced_, updated_;
};

}  // namespace

bool NcclBackend::compiled_in() {
  return true;
}
void release_nccl() {
  if (g_world) ncclCommDestroy(g_world);
  g_world = nullptr;
}
std::string NcclBackend::problem(const CommRequest& r) {
  if (!r.backend.empty() && r.backend != "cuda")
    return "--comm nccl needs --backend cuda (NCCL reduces GPU memory; got --backend " + r.backend + ")";
  return "";
}
template <class Exec>
std::unique_ptr<Communicator<Exec>> NcclBackend::make(const CommSpaces<Exec>& spaces, const CommOptions&,
                                                      const ProcessInfo& proc) {
  if constexpr (std::is_same<Exec, Kokkos::Cuda>::value) {
    return std::make_unique<NcclComm>(spaces, proc, nccl_registration());
  } else {
    (void)spaces;
    (void)proc;
    CommRequest r;
    r.backend = backend_name<Exec>();
    throw InputError(problem(r));
  }
}

}  // namespace nagbench

#else

namespace nagbench {
bool NcclBackend::compiled_in() {
  return false;
}
void release_nccl() {}
std::string NcclBackend::problem(const CommRequest&) {
  return "--comm nccl: this nagbench was built without NCCL (needs the CUDA build with MPI and NCCL)";
}
template <class Exec>
std::unique_ptr<Communicator<Exec>> NcclBackend::make(const CommSpaces<Exec>&, const CommOptions&,
                                                      const ProcessInfo&) {
  throw InputError(problem({}));
}
}  // namespace nagbench
#endif

namespace nagbench {
#define NAGBENCH_INSTANTIATE(Exec)                                      \
  template std::unique_ptr<Communicator<Exec>> NcclBackend::make<Exec>( \
      const CommSpaces<Exec>&, const CommOptions&, const ProcessInfo&);
NAGBENCH_FOR_EACH_BACKEND(NAGBENCH_INSTANTIATE)
}  // namespace nagbench
