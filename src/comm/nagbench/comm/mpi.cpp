// --comm mpi: MPI_Iallreduce per bucket (MPI_Ireduce_scatter_block + MPI_Iallgather when sharded), all in
// place.
//   host        buffers in host memory (OpenMP, Serial): MPI reads and writes them directly;
//   staged      device buffers copied through pinned host buffers on the comm instance: a bucket's copy to
//   the
//               host starts once its gradient is ready, its reduction is posted once the copy has landed (in
//               bucket order, as every rank must post collectives in the same order), the reduced bucket goes
//               back on the comm instance and the update instance waits on an event, never on the whole
//               device;
//   cuda-aware  device pointers handed to a CUDA-aware MPI (detected, or forced with --mpi-path cuda-aware).
//               Open MPI built with CUDA but without CUDA-aware UCX takes device pointers in blocking
//               collectives only, so this path runs blocking MPI_Allreduce / MPI_Reduce_scatter_block /
//               MPI_Allgather, each when its bucket is waited for: the update of bucket k runs on the device
//               while the host reduces bucket k+1. NAGBENCH_CUDA_AWARE_NONBLOCKING=1 posts the non-blocking
//               collectives instead (the experiment docs/data-parallel.md reports).
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "nagbench/comm/registry.hpp"
#include "nagbench/core/enabled_backends.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/mpi_check.hpp"

#ifdef NAGBENCH_HAVE_MPI
#include <mpi.h>
#if defined(OPEN_MPI) && OPEN_MPI && __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif
#endif

namespace nagbench {

// MPI calls run on the host, where a CUDA graph cannot hold them (said with or without MPI in the build).
constexpr const char* kNoGraphs =
    "--launch graph cannot replay --comm mpi: MPI calls run on the host, outside a CUDA graph "
    "(use --comm nccl or p2p)";

#ifdef NAGBENCH_HAVE_MPI
namespace {

MPI_Datatype mpi_type(ElemType t) {
  return t == ElemType::f32 ? MPI_FLOAT : MPI_DOUBLE;
}

int mpi_count(int64_t n) {
  if (n > INT_MAX) throw RunError("MPI count " + std::to_string(n) + " exceeds INT_MAX; use smaller buckets");
  return static_cast<int>(n);
}

char* at(void* base, int64_t elem, ElemType t) {
  return static_cast<char*>(base) + elem * elem_bytes(t);
}

template <class Exec>
class MpiComm final : public Communicator<Exec> {
  enum class Path { host, staged, cuda_aware };
  using Mem = typename Exec::memory_space;
  using Staging = typename StagingSpace<Exec>::type;

 public:
  MpiComm(const CommSpaces<Exec>& spaces, const CommOptions& opt, const ProcessInfo& proc)
      : proc_(proc), spaces_(spaces) {
    if (is_host_space<Exec>())
      path_ = Path::host;
    else if (opt.mpi_path == "staged")
      path_ = Path::staged;
    else if (opt.mpi_path == "cuda-aware")
      path_ = Path::cuda_aware;
    else  // auto: device pointers only where they were seen to work (replicated; see problem())
      path_ = (mpi_is_cuda_aware() && !opt.sharded) ? Path::cuda_aware : Path::staged;
    const char* nb = std::getenv("NAGBENCH_CUDA_AWARE_NONBLOCKING");
    blocking_ = path_ == Path::cuda_aware && !(nb && std::string(nb) == "1");
    // The all-gathers get a communicator of their own. Every rank posts its reductions in bucket order and
    // its gathers in bucket order, but how the two interleave depends on timing where reductions are posted
    // as their copies land (staged): on one communicator rank 0 could post reduce-scatter k+1 where rank 1
    // posts all-gather k, and MPI matches collectives by order (seen: MPI_ERR_TRUNCATE with two ranks on
    // one H200).
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &gather_comm_), "MPI_Comm_dup");
  }
  ~MpiComm() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && gather_comm_ != MPI_COMM_NULL) MPI_Comm_free(&gather_comm_);
  }
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

  std::string name() const override { return "mpi"; }
  std::string path() const override {
    return path_ == Path::host
               ? "host"
               : (path_ == Path::staged ? "staged" : (blocking_ ? "cuda-aware" : "cuda-aware-nonblocking"));
  }
  std::string library_version() const override {
    char lib[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
    int len = 0;
    MPI_Get_library_version(lib, &len);
    std::string s(lib, static_cast<size_t>(len));
    return s.substr(0, s.find_first_of("\n,"));
  }

  void setup(const CommSetup& s) override {
    s_ = s;
    const size_t nb = s.plan.buckets.size();
    reductions_.assign(nb, MPI_REQUEST_NULL);
    gathers_.assign(nb, MPI_REQUEST_NULL);
    gather_posted_.assign(nb, 0);
    posted_.assign(nb, 0);
    ready_.assign(nb, nullptr);
    if (path_ == Path::staged) {
      const int64_t bytes = s.plan.arena.length * elem_bytes(s.type);
      grad_host_ = Kokkos::View<char*, Staging>(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::grad_host"), static_cast<size_t>(bytes));
      if (s.sharded)
        param_host_ = Kokkos::View<char*, Staging>(
            Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::param_host"),
            static_cast<size_t>(bytes));
      for (auto* evs : {&d2h_done_, &h2d_done_, &update_done_}) {
        evs->clear();
        for (size_t k = 0; k < nb; ++k)
          evs->emplace_back();
      }
    }
  }

  void start_reduction(int k, const ExecEvent<Exec>& ready) override {
    const Bucket& b = s_.plan.buckets[k];
    if (path_ == Path::staged) {
      ready.make_wait(spaces_.comm);
      copy(spaces_.comm, at(grad_host_.data(), b.start, s_.type), at(s_.grad, b.start, s_.type), b.length,
           true);
      d2h_done_[k].record(spaces_.comm);
      pending_.push_back(k);
      post_landed(false);
      return;
    }
    if (blocking_) {  // reduced when waited for (see the top of this file)
      ready_[k] = &ready;
      return;
    }
    ready.synchronize();  // host memory, or device memory MPI reads directly: the gradient must be complete
    post_reduction(k, s_.grad);
  }

  void wait_reduction(int k, const Exec& on) override {
    if (blocking_) {
      ready_[k]->synchronize();
      post_reduction(k, s_.grad);
      return;
    }
    if (path_ == Path::staged) {
      post_until(k);
      post_landed(false);  // and every later bucket whose copy has landed, so MPI can progress them meanwhile
    }
    check_mpi(MPI_Wait(&reductions_[k], MPI_STATUS_IGNORE), "MPI_Wait (reduction)");
    if (path_ == Path::staged) {
      const Bucket& b = s_.plan.buckets[k];
      const int64_t n = s_.sharded ? s_.plan.shard_length(k) : b.length;
      copy(spaces_.comm, at(s_.grad, b.start, s_.type), at(grad_host_.data(), b.start, s_.type), n, false);
      h2d_done_[k].record(spaces_.comm);
      h2d_done_[k].make_wait(on);
    }
  }

  void start_gather(int k, const Exec& on) override {
    const Bucket& b = s_.plan.buckets[k];
    const int64_t shard = s_.plan.shard_length(k);
    void* buf = s_.param;
    if (path_ == Path::cuda_aware) on.fence();  // MPI reads the updated shard from device memory
    if (path_ == Path::staged) {
      const int64_t mine = s_.plan.shard_start(k, proc_.rank);
      update_done_[k].record(on);
      update_done_[k].make_wait(spaces_.comm);
      copy(spaces_.comm, at(param_host_.data(), mine, s_.type), at(s_.param, mine, s_.type), shard, true);
      spaces_.comm.fence();
      buf = param_host_.data();
    }
    if (blocking_) {
      check_mpi(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, at(buf, b.start, s_.type), mpi_count(shard),
                              mpi_type(s_.type), gather_comm_),
                "MPI_Allgather");
      return;
    }
    check_mpi(MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, at(buf, b.start, s_.type), mpi_count(shard),
                             mpi_type(s_.type), gather_comm_, &gathers_[k]),
              "MPI_Iallgather");
    gather_posted_[k] = 1;
  }

  void finish() override {
    if (path_ == Path::staged) post_until(static_cast<int>(posted_.size()) - 1);
    check_mpi(MPI_Waitall(static_cast<int>(reductions_.size()), reductions_.data(), MPI_STATUSES_IGNORE),
              "MPI_Waitall (reductions)");
    // A request that progress() saw complete is already MPI_REQUEST_NULL, but its staged bucket still has to
    // go back to the device: gather_posted_ says which buckets were gathered, not the request handle.
    for (size_t k = 0; k < gathers_.size(); ++k) {
      if (!gather_posted_[k]) continue;
      gather_posted_[k] = 0;
      check_mpi(MPI_Wait(&gathers_[k], MPI_STATUS_IGNORE), "MPI_Wait (gather)");
      if (path_ == Path::staged) {
        const Bucket& b = s_.plan.buckets[k];
        copy(spaces_.comm, at(s_.param, b.start, s_.type), at(param_host_.data(), b.start, s_.type), b.length,
             false);
      }
    }
    std::fill(posted_.begin(), posted_.end(), 0);
    if (path_ != Path::host) spaces_.comm.fence();
  }

  void progress() override {
    if (path_ == Path::staged) post_landed(false);
    // MPI_Testsome advances the progress engine and frees what completed; nothing else to do here.
    for (auto* reqs : {&reductions_, &gathers_}) {
      int done = 0;
      std::vector<int> idx(reqs->size());
      if (!reqs->empty())
        check_mpi(MPI_Testsome(static_cast<int>(reqs->size()), reqs->data(), &done, idx.data(),
                               MPI_STATUSES_IGNORE),
                  "MPI_Testsome");
    }
  }

  int64_t reduced_slice_offset(int) const override { return 0; }  // MPI_IN_PLACE: result at the buffer start

  void allreduce(const void* send, void* recv, int64_t count, ElemType t) override {
    const int n = mpi_count(count);
    if (path_ == Path::staged) {
      const int64_t bytes = count * elem_bytes(t);
      ensure_stage(bytes);
      copy(spaces_.comm, stage_a_.data(), const_cast<void*>(send), count, true, t);
      spaces_.comm.fence();
      void* result = send == recv ? stage_a_.data() : stage_b_.data();
      check_mpi(MPI_Allreduce(send == recv ? MPI_IN_PLACE : stage_a_.data(), result, n, mpi_type(t), MPI_SUM,
                              MPI_COMM_WORLD),
                "MPI_Allreduce");
      copy(spaces_.comm, recv, result, count, false, t);
      spaces_.comm.fence();
      return;
    }
    check_mpi(
        MPI_Allreduce(send == recv ? MPI_IN_PLACE : send, recv, n, mpi_type(t), MPI_SUM, MPI_COMM_WORLD),
        "MPI_Allreduce");
  }

  void synchronize() override {}

 private:
  // An asynchronous copy of n elements on `exec`: device to host (to_host) or host to device.
  void copy(const Exec& exec, void* dst, void* src, int64_t n, bool to_host) {
    copy(exec, dst, src, n, to_host, s_.type);
  }
  void copy(const Exec& exec, void* dst, void* src, int64_t n, bool to_host, ElemType t) {
    const int64_t bytes = n * elem_bytes(t);
    if (to_host)
      Kokkos::deep_copy(exec, byte_window<Staging>(dst, bytes), byte_window<Mem>(src, bytes));
    else
      Kokkos::deep_copy(exec, byte_window<Mem>(dst, bytes), byte_window<Staging>(src, bytes));
  }

  // Staged: posts, in bucket order, the reductions whose copies to the host have landed (all of them up to
  // `through` when `block`).
  void post_landed(bool block, int through = -1) {
    while (!pending_.empty()) {
      const int k = pending_.front();
      if (!(block && k <= through) && !d2h_done_[k].done()) return;
      d2h_done_[k].synchronize();
      pending_.pop_front();
      post_reduction(k, grad_host_.data());
    }
  }
  void post_until(int k) { post_landed(true, k); }

  void post_reduction(int k, void* buf) {
    posted_[k] = 1;
    const Bucket& b = s_.plan.buckets[k];
    if (k == s_.skip_bucket) return;  // tests only
    const bool blocking = blocking_;
    if (s_.sharded) {
      if (blocking)
        check_mpi(MPI_Reduce_scatter_block(MPI_IN_PLACE, at(buf, b.start, s_.type),
                                           mpi_count(s_.plan.shard_length(k)), mpi_type(s_.type), MPI_SUM,
                                           MPI_COMM_WORLD),
                  "MPI_Reduce_scatter_block");
      else
        check_mpi(MPI_Ireduce_scatter_block(MPI_IN_PLACE, at(buf, b.start, s_.type),
                                            mpi_count(s_.plan.shard_length(k)), mpi_type(s_.type), MPI_SUM,
                                            MPI_COMM_WORLD, &reductions_[k]),
                  "MPI_Ireduce_scatter_block");
    } else {
      if (blocking)
        check_mpi(MPI_Allreduce(MPI_IN_PLACE, at(buf, b.start, s_.type), mpi_count(b.length),
                                mpi_type(s_.type), MPI_SUM, MPI_COMM_WORLD),
                  "MPI_Allreduce");
      else
        check_mpi(MPI_Iallreduce(MPI_IN_PLACE, at(buf, b.start, s_.type), mpi_count(b.length),
                                 mpi_type(s_.type), MPI_SUM, MPI_COMM_WORLD, &reductions_[k]),
                  "MPI_Iallreduce");
    }
  }

  void ensure_stage(int64_t bytes) {
    if (bytes <= int64_t(stage_a_.extent(0))) return;
    stage_a_ = Kokkos::View<char*, Staging>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::stage_a"), static_cast<size_t>(bytes));
    stage_b_ = Kokkos::View<char*, Staging>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::stage_b"), static_cast<size_t>(bytes));
  }

  ProcessInfo proc_;
  CommSpaces<Exec> spaces_;
  Path path_ = Path::host;
  bool blocking_ = false;                 // cuda-aware: blocking collectives, run in wait_reduction
  MPI_Comm gather_comm_ = MPI_COMM_NULL;  // the all-gathers' own (see the constructor)
  CommSetup s_;
  std::vector<const ExecEvent<Exec>*> ready_;  // cuda-aware blocking: each bucket's gradient-ready event
  std::vector<MPI_Request> reductions_, gathers_;
  std::vector<char> gather_posted_, posted_;
  std::deque<int> pending_;  // staged: buckets whose copy to the host is enqueued, reduction not yet posted
  std::vector<ExecEvent<Exec>> d2h_done_, h2d_done_, update_done_;
  Kokkos::View<char*, Staging> grad_host_, param_host_, stage_a_, stage_b_;
};

}  // namespace

bool MpiBackend::compiled_in() {
  return true;
}

bool mpi_is_cuda_aware() {
#if defined(MPIX_CUDA_AWARE_SUPPORT)
  return MPIX_Query_cuda_support() == 1;  // Open MPI
#elif defined(MPIX_GPU_SUPPORT_CUDA)
  int supported = 0;  // MPICH 4.x
  return MPIX_GPU_query_support(MPIX_GPU_SUPPORT_CUDA, &supported) == MPI_SUCCESS && supported == 1;
#else
  return false;
#endif
}

std::string MpiBackend::problem(const CommRequest& r) {
  if (r.graph) return kNoGraphs;
  if (r.mpi_path == "cuda-aware" && !r.device_memory)
    return "--mpi-path cuda-aware needs GPU memory (--backend cuda); host memory goes to MPI directly";
  // Measured with Open MPI 4.1.4 built --with-cuda (smcuda, no UCX) on 2 x H200: reduce-scatter + all-gather
  // on device pointers returned wrong parameters (NaN, caught by the reference check); docs/data-parallel.md.
  if (r.mpi_path == "cuda-aware" && r.sharded)
    return "--mpi-path cuda-aware cannot run sharded: device-pointer reduce-scatter and all-gather gave "
           "wrong "
           "results with a CUDA-aware Open MPI (docs/data-parallel.md); use --mpi-path staged or --comm nccl";
  return "";
}

template <class Exec>
std::unique_ptr<Communicator<Exec>> MpiBackend::make(const CommSpaces<Exec>& spaces, const CommOptions& opt,
                                                     const ProcessInfo& proc) {
  return std::make_unique<MpiComm<Exec>>(spaces, opt, proc);
}

#else  // no MPI

bool MpiBackend::compiled_in() {
  return false;
}
bool mpi_is_cuda_aware() {
  return false;
}
std::string MpiBackend::problem(const CommRequest& r) {
  if (r.graph) return kNoGraphs;
  return "--comm mpi: this nagbench was built without MPI (NAGBENCH_ENABLE_MPI=OFF)";
}
template <class Exec>
std::unique_ptr<Communicator<Exec>> MpiBackend::make(const CommSpaces<Exec>&, const CommOptions&,
                                                     const ProcessInfo&) {
  throw InputError(problem({}));
}

#endif

#define NAGBENCH_INSTANTIATE(Exec)                                     \
  template std::unique_ptr<Communicator<Exec>> MpiBackend::make<Exec>( \
      const CommSpaces<Exec>&, const CommOptions&, const ProcessInfo&);
NAGBENCH_FOR_EACH_BACKEND(NAGBENCH_INSTANTIATE)

}  // namespace nagbench
