// --comm nccl: ncclAllReduce per bucket (ncclReduceScatter + ncclAllGather when sharded), in place, enqueued
// on the step's comm stream. The communicator is bootstrapped by broadcasting ncclUniqueId over MPI. Ordering
// with the update is by events only (cudaStreamWaitEvent): no device-wide synchronisation in the hot loop.
#include <Kokkos_Core.hpp>

#include "nagbench/comm/communicator.hpp"
#include "nagbench/comm/cuda_check.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/watchdog.hpp"

#if defined(NAGBENCH_HAVE_NCCL) && defined(KOKKOS_ENABLE_CUDA) && defined(NAGBENCH_HAVE_MPI)
#include <mpi.h>
#include <nccl.h>

#include <cstdlib>
#include <vector>

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

class NcclComm final : public Communicator {
 public:
  NcclComm(const CommOptions& opt, const ProcessInfo& proc)
      : proc_(proc), streams_(opt.streams), comm_(world_comm(proc)) {}
  ~NcclComm() override {
    for (auto* evs : {&reduced_, &updated_})
      for (auto e : *evs)
        cudaEventDestroy(e);
  }

  std::string name() const override { return "nccl"; }
  std::string path() const override { return "nccl"; }
  std::string library_version() const override {
    int v = 0;
    ncclGetVersion(&v);
    return "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
           std::to_string(v % 100);
  }

  void setup(const CommSetup& s) override {
    s_ = s;
    for (auto* evs : {&reduced_, &updated_}) {
      for (auto e : *evs)
        cudaEventDestroy(e);
      evs->assign(s.plan.buckets.size(), nullptr);
      for (auto& e : *evs)
        NAGBENCH_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    }
  }

  void start_reductions() override {
    const cudaStream_t comm = as_stream(streams_.comm);
    const auto& b = s_.plan.buckets;
    for (size_t k = 0; k < b.size(); ++k) {
      if (static_cast<int>(k) != s_.skip_bucket) {
        if (s_.sharded) {
          const int64_t shard = s_.plan.shard_length(static_cast<int>(k));
          NAGBENCH_NCCL_CHECK(ncclReduceScatter(at(s_.grad, b[k].start, s_.type),
                                                at(s_.grad, b[k].start + proc_.rank * shard, s_.type), shard,
                                                nccl_type(s_.type), ncclSum, comm_, comm));
        } else {
          NAGBENCH_NCCL_CHECK(ncclAllReduce(at(s_.grad, b[k].start, s_.type),
                                            at(s_.grad, b[k].start, s_.type), b[k].length, nccl_type(s_.type),
                                            ncclSum, comm_, comm));
        }
      }
      NAGBENCH_CUDA_CHECK(cudaEventRecord(reduced_[k], comm));
    }
  }

  void wait_reduction(int k) override {
    NAGBENCH_CUDA_CHECK(cudaStreamWaitEvent(as_stream(streams_.update), reduced_[k], 0));
  }

  void start_gather(int k) override {
    const cudaStream_t comm = as_stream(streams_.comm);
    const Bucket& b = s_.plan.buckets[k];
    const int64_t shard = s_.plan.shard_length(k);
    NAGBENCH_CUDA_CHECK(cudaEventRecord(updated_[k], as_stream(streams_.update)));
    NAGBENCH_CUDA_CHECK(cudaStreamWaitEvent(comm, updated_[k], 0));
    NAGBENCH_NCCL_CHECK(ncclAllGather(at(s_.param, b.start + proc_.rank * shard, s_.type),
                                      at(s_.param, b.start, s_.type), shard, nccl_type(s_.type), comm_,
                                      comm));
  }

  void finish() override { NAGBENCH_CUDA_CHECK(cudaStreamSynchronize(as_stream(streams_.comm))); }

  int64_t reduced_slice_offset(int k) const override { return proc_.rank * s_.plan.shard_length(k); }

  void allreduce(const void* send, void* recv, int64_t count, ElemType t) override {
    NAGBENCH_NCCL_CHECK(
        ncclAllReduce(send, recv, count, nccl_type(t), ncclSum, comm_, as_stream(streams_.comm)));
  }
  void synchronize() override { NAGBENCH_CUDA_CHECK(cudaStreamSynchronize(as_stream(streams_.comm))); }

 private:
  ProcessInfo proc_;
  StreamHandles streams_;
  ncclComm_t comm_ = nullptr;
  CommSetup s_;
  std::vector<cudaEvent_t> reduced_, updated_;
};

}  // namespace

bool nccl_compiled_in() {
  return true;
}
void release_nccl() {
  if (g_world) ncclCommDestroy(g_world);
  g_world = nullptr;
}
std::unique_ptr<Communicator> make_nccl_comm(const CommOptions& opt, const ProcessInfo& proc) {
  return std::make_unique<NcclComm>(opt, proc);
}

}  // namespace nagbench

#else

namespace nagbench {
bool nccl_compiled_in() {
  return false;
}
void release_nccl() {}
std::unique_ptr<Communicator> make_nccl_comm(const CommOptions&, const ProcessInfo&) {
  throw InputError(
      "--comm nccl: this nagbench was built without NCCL (needs the CUDA build with MPI and NCCL)");
}
}  // namespace nagbench
#endif
