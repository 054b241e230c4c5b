#pragma once
// The execution space instances of a data-parallel step. On CUDA: three non-blocking streams, for gradient
// production, communication and the update, the first and last wrapped as Kokkos::Cuda instances (the default
// Kokkos 3.4 instance runs on the legacy stream, which would serialise with everything). Kokkos 3.4 has no
// partition_space; Kokkos::Cuda(cudaStream_t) exists from 3.4 through 5.x. On host backends: default
// instances.
#include <Kokkos_Core.hpp>

#include "nagbench/comm/communicator.hpp"
#include "nagbench/comm/cuda_check.hpp"

namespace nagbench {

template <class Exec>
class StepSpaces {
 public:
  const Exec& compute() const { return compute_; }
  const Exec& update() const { return update_; }
  StreamHandles handles() const { return {}; }

 private:
  Exec compute_, update_;
};

#ifdef KOKKOS_ENABLE_CUDA
template <>
class StepSpaces<Kokkos::Cuda> {
  struct Streams {
    cudaStream_t compute = nullptr, comm = nullptr, update = nullptr;
    Streams() {
      for (auto* s : {&compute, &comm, &update})
        NAGBENCH_CUDA_CHECK(cudaStreamCreateWithFlags(s, cudaStreamNonBlocking));
    }
    ~Streams() {
      for (auto s : {compute, comm, update}) {
        cudaStreamSynchronize(s);
        cudaStreamDestroy(s);
      }
    }
  };

 public:
  StepSpaces() : compute_(streams_.compute), update_(streams_.update) {}
  const Kokkos::Cuda& compute() const { return compute_; }
  const Kokkos::Cuda& update() const { return update_; }
  StreamHandles handles() const { return {streams_.comm, streams_.update}; }

 private:
  Streams streams_;  // declared first: outlives the instances that use it
  Kokkos::Cuda compute_, update_;
};
#endif

}  // namespace nagbench
