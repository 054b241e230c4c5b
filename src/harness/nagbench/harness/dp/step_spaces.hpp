#pragma once
// The execution space instances of a data-parallel step. On CUDA: three non-blocking streams, for gradient
// production, communication and the update, each wrapped as a Kokkos::Cuda instance (the default Kokkos 3.4
// instance runs on the legacy stream, which would serialise with everything). Kokkos 3.4 has no
// partition_space; Kokkos::Cuda(cudaStream_t) exists from 3.4 through 5.x. The comm stream gets the highest
// priority by default: a reduction's kernels (NCCL's, or the staging copies' successors) then take SMs as
// soon as update blocks retire, instead of queueing behind a whole update grid. On host backends: default
// instances.
#include <Kokkos_Core.hpp>

#include "nagbench/comm/communicator.hpp"
#include "nagbench/core/cuda_check.hpp"

namespace nagbench {

template <class Exec>
class StepSpaces {
 public:
  explicit StepSpaces(bool /*comm_high_priority*/ = true) {}
  const Exec& compute() const { return compute_; }
  const Exec& update() const { return update_; }
  CommSpaces<Exec> comm_spaces() const { return {comm_, update_}; }

 private:
  Exec compute_, comm_, update_;
};

#ifdef KOKKOS_ENABLE_CUDA
template <>
class StepSpaces<Kokkos::Cuda> {
  struct Streams {
    cudaStream_t compute = nullptr, comm = nullptr, update = nullptr;
    explicit Streams(bool comm_high_priority) {
      int least = 0, greatest = 0;
      NAGBENCH_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
      NAGBENCH_CUDA_CHECK(cudaStreamCreateWithPriority(&compute, cudaStreamNonBlocking, least));
      NAGBENCH_CUDA_CHECK(
          cudaStreamCreateWithPriority(&comm, cudaStreamNonBlocking, comm_high_priority ? greatest : least));
      NAGBENCH_CUDA_CHECK(cudaStreamCreateWithPriority(&update, cudaStreamNonBlocking, least));
    }
    ~Streams() {
      for (auto s : {compute, comm, update}) {
        cudaStreamSynchronize(s);
        cudaStreamDestroy(s);
      }
    }
  };

 public:
  explicit StepSpaces(bool comm_high_priority = true)
      : streams_(comm_high_priority),
        compute_(streams_.compute),
        comm_(streams_.comm),
        update_(streams_.update) {
    restore_device_cache_preference();  // the Kokkos::Cuda(stream) constructors just set it again
  }
  const Kokkos::Cuda& compute() const { return compute_; }
  const Kokkos::Cuda& update() const { return update_; }
  CommSpaces<Kokkos::Cuda> comm_spaces() const { return {comm_, update_}; }

 private:
  Streams streams_;  // declared first: outlives the instances that use it
  Kokkos::Cuda compute_, comm_, update_;
};
#endif

}  // namespace nagbench
