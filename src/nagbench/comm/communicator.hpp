#pragma once
// The communication backends of a data-parallel step (--comm none | mpi | nccl). One interface, one file per
// backend (comm_none.cpp, comm_mpi.cpp, comm_nccl.cpp), like nccl-tests' one file per collective.
//
// A step gives the communicator its buckets once (setup), then per step:
//   start_reductions()   every bucket's gradients are ready: start all reductions (allreduce; reduce-scatter
//   when
//                        sharded), in bucket order, without blocking where the backend allows;
//   wait_reduction(k)    work enqueued afterwards on the update stream (GPU) or run on the host sees bucket
//   k's
//                        reduced gradients; blocks the host only when the backend must (MPI);
//   start_gather(k)      sharded only: this rank's updated parameter shard of bucket k is enqueued on the
//   update
//                        stream; gather the shards of all ranks;
//   finish()             blocks the host until every operation of the step is complete;
//   progress()           lets pending non-blocking MPI operations advance (called between update slices).
// Reductions are sums: the 1/ranks average is fused into the update (UpdateRule::grad_scale).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nagbench/comm/buckets.hpp"
#include "nagbench/harness/runtime.hpp"

namespace nagbench {

enum class ElemType { f32, f64 };
inline int64_t elem_bytes(ElemType t) {
  return t == ElemType::f32 ? 4 : 8;
}

// CUDA streams of a step on a GPU (opaque here so this header needs no CUDA): the communicator enqueues its
// work on `comm` and orders the update stream after it with events.
struct StreamHandles {
  void* comm = nullptr;    // cudaStream_t
  void* update = nullptr;  // cudaStream_t
};

struct CommSetup {
  void* grad = nullptr;   // gradient arena base
  void* param = nullptr;  // parameter arena base (gathered when sharded)
  ElemType type = ElemType::f32;
  BucketPlan plan;
  bool sharded = false;
  int skip_bucket = -1;  // tests only: leave this bucket unreduced, to prove the check catches it
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual std::string name() const = 0;  // none | mpi | nccl
  virtual std::string path() const = 0;  // none | host | staged | cuda-aware | nccl
  virtual std::string library_version() const { return ""; }

  virtual void setup(const CommSetup& s) = 0;
  virtual void start_reductions() = 0;
  virtual void wait_reduction(int k) = 0;
  virtual void start_gather(int k) = 0;
  virtual void finish() = 0;
  virtual void progress() {}
  // Sharded: where this rank's reduced slice of bucket k lands, relative to the bucket start (NCCL: at the
  // rank's shard, in place; MPI_IN_PLACE reduce-scatter: at the start of the buffer).
  virtual int64_t reduced_slice_offset(int k) const = 0;

  // --comm-only: one sum-allreduce of `count` elements, send == recv for in place; enqueued (NCCL) or
  // completed (MPI) before returning. synchronize() waits for everything enqueued.
  virtual void allreduce(const void* send, void* recv, int64_t count, ElemType t) = 0;
  virtual void synchronize() = 0;
};

struct CommOptions {
  std::string comm = "none";      // none | mpi | nccl
  std::string mpi_path = "auto";  // auto | staged | cuda-aware (device memory only)
  bool device_memory = false;     // buffers live in GPU memory
  StreamHandles streams;
};

// Throws InputError for a backend that is not compiled in or does not fit the run (checked on rank 0 before
// any collective), RunError for failures while creating it.
std::unique_ptr<Communicator> make_communicator(const CommOptions& opt, const ProcessInfo& proc);
// Frees what communicators keep for the whole process (the NCCL communicator); call before Kokkos finalizes.
void release_communicators();
bool nccl_compiled_in();
bool mpi_compiled_in();
// Open MPI's MPIX_Query_cuda_support(); false where the MPI library cannot say.
bool mpi_is_cuda_aware();

}  // namespace nagbench
