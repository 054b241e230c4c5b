#pragma once
// The execution space instances of a data-parallel step. On CUDA: non-blocking streams for gradient
// production, communication and the update, each wrapped as a Kokkos::Cuda instance (the default Kokkos 3.4
// instance runs on the legacy stream, which would serialise with everything). Kokkos 3.4 has no
// partition_space; Kokkos::Cuda(cudaStream_t) exists from 3.4 through 5.x. The comm stream gets the highest
// priority by default: a reduction's kernels (NCCL's, or the staging copies' successors) then take SMs as
// soon as update blocks retire, instead of queueing behind a whole update grid.
//
// The update may be dealt over several instances (--update-streams N): bucket k is updated on instance
// k mod N. Buckets' updates touch disjoint memory, so nothing orders them but their reductions; on one
// stream each small bucket's grid drains before the next one starts (3-4 us per bucket on an H200, whatever
// its size: scripts/device/bucket_tail_probe.cu), on several the next bucket's blocks fill the SMs the last
// one's tail leaves idle. update() is instance 0, the one the others join back into (join_updates) before
// the step's end is marked or awaited. On host backends every instance is the default one.
#include <Kokkos_Core.hpp>
#include <vector>

#include "nagbench/comm/communicator.hpp"
#include "nagbench/core/cuda_check.hpp"
#include "nagbench/core/exec_event.hpp"

namespace nagbench {

template <class Exec>
class StepSpaces {
 public:
  explicit StepSpaces(bool /*comm_high_priority*/ = true, int /*update_streams*/ = 1) {}
  const Exec& compute() const { return compute_; }
  const Exec& update() const { return update_; }
  const Exec& update_of_bucket(size_t) const { return update_; }
  int update_streams() const { return 1; }
  CommSpaces<Exec> comm_spaces() const { return {comm_, update_}; }
  // Host instances run each kernel to completion: nothing to fork or join.
  void fork_updates(const ExecEvent<Exec>&) const {}
  void join_updates() {}

 private:
  Exec compute_, comm_, update_;
};

#ifdef KOKKOS_ENABLE_CUDA
template <>
class StepSpaces<Kokkos::Cuda> {
  struct Streams {
    cudaStream_t compute = nullptr, comm = nullptr;
    std::vector<cudaStream_t> updates;
    Streams(bool comm_high_priority, int update_streams) : updates(size_t(update_streams), nullptr) {
      int least = 0, greatest = 0;
      NAGBENCH_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
      NAGBENCH_CUDA_CHECK(cudaStreamCreateWithPriority(&compute, cudaStreamNonBlocking, least));
      NAGBENCH_CUDA_CHECK(
          cudaStreamCreateWithPriority(&comm, cudaStreamNonBlocking, comm_high_priority ? greatest : least));
      for (auto& u : updates)
        NAGBENCH_CUDA_CHECK(cudaStreamCreateWithPriority(&u, cudaStreamNonBlocking, least));
    }
    ~Streams() {
      std::vector<cudaStream_t> all = updates;
      all.push_back(compute);
      all.push_back(comm);
      for (auto s : all) {
        cudaStreamSynchronize(s);
        cudaStreamDestroy(s);
      }
    }
  };

 public:
  explicit StepSpaces(bool comm_high_priority = true, int update_streams = 1)
      : streams_(comm_high_priority, update_streams < 1 ? 1 : update_streams),
        compute_(streams_.compute),
        comm_(streams_.comm) {
    for (cudaStream_t u : streams_.updates) {
      updates_.emplace_back(u);
      joined_.emplace_back();
    }
    restore_device_cache_preference();  // the Kokkos::Cuda(stream) constructors just set it again
  }
  const Kokkos::Cuda& compute() const { return compute_; }
  const Kokkos::Cuda& update() const { return updates_.front(); }
  const Kokkos::Cuda& update_of_bucket(size_t k) const { return updates_[k % updates_.size()]; }
  int update_streams() const { return static_cast<int>(updates_.size()); }
  CommSpaces<Kokkos::Cuda> comm_spaces() const { return {comm_, updates_.front()}; }
  // Instances 1.. wait for `event` (instance 0 is ordered by whoever recorded it).
  void fork_updates(const ExecEvent<Kokkos::Cuda>& event) const {
    for (size_t i = 1; i < updates_.size(); ++i)
      event.make_wait(updates_[i]);
  }
  // Instance 0 waits for everything enqueued so far on the others.
  void join_updates() {
    for (size_t i = 1; i < updates_.size(); ++i) {
      joined_[i].record(updates_[i]);
      joined_[i].make_wait(updates_.front());
    }
  }

 private:
  Streams streams_;  // declared first: outlives the instances that use it
  Kokkos::Cuda compute_, comm_;
  std::vector<Kokkos::Cuda> updates_;
  std::vector<ExecEvent<Kokkos::Cuda>> joined_;
};
#endif

}  // namespace nagbench
