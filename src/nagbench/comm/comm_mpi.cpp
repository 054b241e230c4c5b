// --comm mpi: MPI_Iallreduce (MPI_Ireduce_scatter_block + MPI_Iallgather when sharded), all in place.
//   host        buffers in host memory (OpenMP backend): MPI reads and writes them directly;
//   cuda-aware  device pointers handed to a CUDA-aware MPI (detected with MPIX_Query_cuda_support, or
//   forced); staged      device buffers copied through pinned host buffers on the comm stream: D2H of every
//   bucket is
//               enqueued at once and each bucket's reduction starts as soon as its copy lands; the reduced
//               bucket goes back H2D and the update stream waits on an event, never on the whole device.
#include <Kokkos_Core.hpp>
#include <climits>
#include <vector>

#include "nagbench/comm/communicator.hpp"
#include "nagbench/comm/cuda_check.hpp"
#include "nagbench/core/errors.hpp"

#ifdef NAGBENCH_HAVE_MPI
#include <mpi.h>
#if defined(OPEN_MPI) && OPEN_MPI && __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif

namespace nagbench {
namespace {

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw RunError(std::string(what) + " failed: " + std::string(msg, static_cast<size_t>(len)));
}

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

class MpiComm final : public Communicator {
  enum class Path { host, staged, cuda_aware };

 public:
  MpiComm(const CommOptions& opt, const ProcessInfo& proc) : proc_(proc) {
    streams_ = opt.streams;
    if (!opt.device_memory) {
      path_ = Path::host;
    } else if (opt.mpi_path == "staged") {
      path_ = Path::staged;
    } else if (opt.mpi_path == "cuda-aware") {
      path_ = Path::cuda_aware;
    } else {
      path_ = mpi_is_cuda_aware() ? Path::cuda_aware : Path::staged;
    }
  }

  ~MpiComm() override {
#ifdef KOKKOS_ENABLE_CUDA
    for (auto* v : {&grad_host_, &param_host_, &stage_a_, &stage_b_})
      if (*v) cudaFreeHost(*v);
    for (auto* evs : {&d2h_done_, &h2d_done_, &update_done_})
      for (auto e : *evs)
        cudaEventDestroy(e);
#endif
  }

  std::string name() const override {
    return "mpi";
  }
  std::string path() const override {
    return path_ == Path::host ? "host" : (path_ == Path::staged ? "staged" : "cuda-aware");
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
#ifdef KOKKOS_ENABLE_CUDA
    if (path_ == Path::staged) {
      const size_t bytes = static_cast<size_t>(s.plan.arena.length * elem_bytes(s.type));
      NAGBENCH_CUDA_CHECK(cudaMallocHost(&grad_host_, bytes));
      if (s.sharded) NAGBENCH_CUDA_CHECK(cudaMallocHost(&param_host_, bytes));
      for (auto* evs : {&d2h_done_, &h2d_done_, &update_done_}) {
        evs->resize(nb);
        for (auto& e : *evs)
          NAGBENCH_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      }
    }
#endif
  }

  void start_reductions() override {
    const auto& b = s_.plan.buckets;
#ifdef KOKKOS_ENABLE_CUDA
    if (path_ == Path::staged) {
      const cudaStream_t comm = as_stream(streams_.comm);
      for (size_t k = 0; k < b.size(); ++k) {
        NAGBENCH_CUDA_CHECK(cudaMemcpyAsync(at(grad_host_, b[k].start, s_.type),
                                            at(s_.grad, b[k].start, s_.type),
                                            b[k].length * elem_bytes(s_.type), cudaMemcpyDeviceToHost, comm));
        NAGBENCH_CUDA_CHECK(cudaEventRecord(d2h_done_[k], comm));
      }
      for (size_t k = 0; k < b.size(); ++k) {
        NAGBENCH_CUDA_CHECK(cudaEventSynchronize(d2h_done_[k]));
        post_reduction(static_cast<int>(k), grad_host_);
        progress();
      }
      return;
    }
#endif
    for (size_t k = 0; k < b.size(); ++k)
      post_reduction(static_cast<int>(k), s_.grad);
  }

  void wait_reduction(int k) override {
    check_mpi(MPI_Wait(&reductions_[k], MPI_STATUS_IGNORE), "MPI_Wait (reduction)");
#ifdef KOKKOS_ENABLE_CUDA
    if (path_ == Path::staged) {
      const Bucket& b = s_.plan.buckets[k];
      const int64_t n = s_.sharded ? s_.plan.shard_length(k) : b.length;
      const cudaStream_t comm = as_stream(streams_.comm);
      NAGBENCH_CUDA_CHECK(cudaMemcpyAsync(at(s_.grad, b.start, s_.type), at(grad_host_, b.start, s_.type),
                                          n * elem_bytes(s_.type), cudaMemcpyHostToDevice, comm));
      NAGBENCH_CUDA_CHECK(cudaEventRecord(h2d_done_[k], comm));
      NAGBENCH_CUDA_CHECK(cudaStreamWaitEvent(as_stream(streams_.update), h2d_done_[k], 0));
    }
#endif
  }

  void start_gather(int k) override {
    const Bucket& b = s_.plan.buckets[k];
    const int64_t shard = s_.plan.shard_length(k);
    void* buf = s_.param;
#ifdef KOKKOS_ENABLE_CUDA
    if (path_ == Path::cuda_aware) NAGBENCH_CUDA_CHECK(cudaStreamSynchronize(as_stream(streams_.update)));
    if (path_ == Path::staged) {
      const cudaStream_t comm = as_stream(streams_.comm);
      const int64_t mine = s_.plan.shard_start(k, proc_.rank);
      NAGBENCH_CUDA_CHECK(cudaEventRecord(update_done_[k], as_stream(streams_.update)));
      NAGBENCH_CUDA_CHECK(cudaStreamWaitEvent(comm, update_done_[k], 0));
      NAGBENCH_CUDA_CHECK(cudaMemcpyAsync(at(param_host_, mine, s_.type), at(s_.param, mine, s_.type),
                                          shard * elem_bytes(s_.type), cudaMemcpyDeviceToHost, comm));
      NAGBENCH_CUDA_CHECK(cudaStreamSynchronize(comm));
      buf = param_host_;
    }
#endif
    check_mpi(MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, at(buf, b.start, s_.type), mpi_count(shard),
                             mpi_type(s_.type), MPI_COMM_WORLD, &gathers_[k]),
              "MPI_Iallgather");
    gather_posted_[k] = 1;
  }

  void finish() override {
    check_mpi(MPI_Waitall(static_cast<int>(reductions_.size()), reductions_.data(), MPI_STATUSES_IGNORE),
              "MPI_Waitall (reductions)");
    // A request that progress() saw complete is already MPI_REQUEST_NULL, but its staged bucket still has to
    // go back to the device: gather_posted_ says which buckets were gathered, not the request handle.
    for (size_t k = 0; k < gathers_.size(); ++k) {
      if (!gather_posted_[k]) continue;
      gather_posted_[k] = 0;
      check_mpi(MPI_Wait(&gathers_[k], MPI_STATUS_IGNORE), "MPI_Wait (gather)");
#ifdef KOKKOS_ENABLE_CUDA
      if (path_ == Path::staged) {
        const Bucket& b = s_.plan.buckets[k];
        NAGBENCH_CUDA_CHECK(cudaMemcpyAsync(at(s_.param, b.start, s_.type), at(param_host_, b.start, s_.type),
                                            b.length * elem_bytes(s_.type), cudaMemcpyHostToDevice,
                                            as_stream(streams_.comm)));
      }
#endif
    }
#ifdef KOKKOS_ENABLE_CUDA
    if (path_ != Path::host) NAGBENCH_CUDA_CHECK(cudaStreamSynchronize(as_stream(streams_.comm)));
#endif
  }

  void progress() override {
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

  int64_t reduced_slice_offset(int) const override {
    return 0;
  }  // MPI_IN_PLACE: result at the buffer start

  void allreduce(const void* send, void* recv, int64_t count, ElemType t) override {
    const int n = mpi_count(count);
#ifdef KOKKOS_ENABLE_CUDA
    if (path_ == Path::staged) {
      const size_t bytes = static_cast<size_t>(count * elem_bytes(t));
      ensure_stage(bytes);
      const cudaStream_t comm = as_stream(streams_.comm);
      NAGBENCH_CUDA_CHECK(cudaMemcpyAsync(stage_a_, send, bytes, cudaMemcpyDeviceToHost, comm));
      NAGBENCH_CUDA_CHECK(cudaStreamSynchronize(comm));
      if (send == recv) {
        check_mpi(MPI_Allreduce(MPI_IN_PLACE, stage_a_, n, mpi_type(t), MPI_SUM, MPI_COMM_WORLD),
                  "MPI_Allreduce");
        NAGBENCH_CUDA_CHECK(cudaMemcpyAsync(recv, stage_a_, bytes, cudaMemcpyHostToDevice, comm));
      } else {
        check_mpi(MPI_Allreduce(stage_a_, stage_b_, n, mpi_type(t), MPI_SUM, MPI_COMM_WORLD),
                  "MPI_Allreduce");
        NAGBENCH_CUDA_CHECK(cudaMemcpyAsync(recv, stage_b_, bytes, cudaMemcpyHostToDevice, comm));
      }
      NAGBENCH_CUDA_CHECK(cudaStreamSynchronize(comm));
      return;
    }
#endif
    check_mpi(
        MPI_Allreduce(send == recv ? MPI_IN_PLACE : send, recv, n, mpi_type(t), MPI_SUM, MPI_COMM_WORLD),
        "MPI_Allreduce");
  }

  void synchronize() override {}

 private:
  void post_reduction(int k, void* buf) {
    const Bucket& b = s_.plan.buckets[k];
    if (k == s_.skip_bucket) return;  // tests only
    if (s_.sharded)
      check_mpi(MPI_Ireduce_scatter_block(MPI_IN_PLACE, at(buf, b.start, s_.type),
                                          mpi_count(s_.plan.shard_length(k)), mpi_type(s_.type), MPI_SUM,
                                          MPI_COMM_WORLD, &reductions_[k]),
                "MPI_Ireduce_scatter_block");
    else
      check_mpi(MPI_Iallreduce(MPI_IN_PLACE, at(buf, b.start, s_.type), mpi_count(b.length),
                               mpi_type(s_.type), MPI_SUM, MPI_COMM_WORLD, &reductions_[k]),
                "MPI_Iallreduce");
  }

#ifdef KOKKOS_ENABLE_CUDA
  void ensure_stage(size_t bytes) {
    if (bytes <= stage_bytes_) return;
    if (stage_a_) cudaFreeHost(stage_a_);
    if (stage_b_) cudaFreeHost(stage_b_);
    stage_a_ = stage_b_ = nullptr;
    NAGBENCH_CUDA_CHECK(cudaMallocHost(&stage_a_, bytes));
    NAGBENCH_CUDA_CHECK(cudaMallocHost(&stage_b_, bytes));
    stage_bytes_ = bytes;
  }
  std::vector<cudaEvent_t> d2h_done_, h2d_done_, update_done_;
#endif

  ProcessInfo proc_;
  Path path_ = Path::host;
  StreamHandles streams_;
  CommSetup s_;
  std::vector<MPI_Request> reductions_, gathers_;
  std::vector<char> gather_posted_;
  void* grad_host_ = nullptr;
  void* param_host_ = nullptr;
  void* stage_a_ = nullptr;
  void* stage_b_ = nullptr;
  size_t stage_bytes_ = 0;
};

}  // namespace

bool mpi_compiled_in() {
  return true;
}

bool mpi_is_cuda_aware() {
#if defined(MPIX_CUDA_AWARE_SUPPORT)
  return MPIX_Query_cuda_support() == 1;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> make_mpi_comm(const CommOptions& opt, const ProcessInfo& proc) {
  return std::make_unique<MpiComm>(opt, proc);
}

}  // namespace nagbench

#else  // no MPI

namespace nagbench {
bool mpi_compiled_in() {
  return false;
}
bool mpi_is_cuda_aware() {
  return false;
}
std::unique_ptr<Communicator> make_mpi_comm(const CommOptions&, const ProcessInfo&) {
  throw InputError("--comm mpi: this nagbench was built without MPI (NAGBENCH_ENABLE_MPI=OFF)");
}
}  // namespace nagbench
#endif
