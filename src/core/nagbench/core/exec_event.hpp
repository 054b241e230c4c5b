#pragma once
// An event in an execution space instance's stream of work, so that work on one instance can wait for work
// enqueued on another without a device-wide fence (Kokkos 3.4 has no event API; Kokkos 4.x's differs by
// version).
//   record(exec)      marks "everything enqueued on exec so far";
//   make_wait(other)  work enqueued on `other` afterwards starts only after the mark (GPU:
//   cudaStreamWaitEvent); synchronize()     blocks the host until the mark is reached; done() asks without
//   blocking; seconds_since(e)  device-clock time between two recorded events (GPU), for per-phase timelines.
// Host spaces run each kernel to completion before returning (OpenMP, Serial), so record() fences that
// instance and the rest is immediate; the host's clock stands in for the device's.
#include <Kokkos_Core.hpp>
#include <chrono>

#include "nagbench/core/cuda_check.hpp"

namespace nagbench {

template <class Exec>
class ExecEvent {
 public:
  explicit ExecEvent(bool /*timing*/ = false) {}
  void record(const Exec& exec) {
    exec.fence();
    at_ = std::chrono::steady_clock::now();
  }
  void make_wait(const Exec&) const {}
  void synchronize() const {}
  bool done() const { return true; }
  // Seconds from `earlier` to this event.
  double seconds_since(const ExecEvent& earlier) const {
    return std::chrono::duration<double>(at_ - earlier.at_).count();
  }

 private:
  std::chrono::steady_clock::time_point at_{};
};

#ifdef KOKKOS_ENABLE_CUDA
template <>
class ExecEvent<Kokkos::Cuda> {
 public:
  explicit ExecEvent(bool timing = false) {
    NAGBENCH_CUDA_CHECK(
        cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming));
  }
  ~ExecEvent() {
    if (event_) cudaEventDestroy(event_);
  }
  ExecEvent(ExecEvent&& o) noexcept : event_(o.event_) { o.event_ = nullptr; }
  ExecEvent& operator=(ExecEvent&& o) noexcept {
    std::swap(event_, o.event_);
    return *this;
  }
  ExecEvent(const ExecEvent&) = delete;
  ExecEvent& operator=(const ExecEvent&) = delete;

  void record(const Kokkos::Cuda& exec) { NAGBENCH_CUDA_CHECK(cudaEventRecord(event_, exec.cuda_stream())); }
  void make_wait(const Kokkos::Cuda& other) const {
    NAGBENCH_CUDA_CHECK(cudaStreamWaitEvent(other.cuda_stream(), event_, 0));
  }
  void synchronize() const { NAGBENCH_CUDA_CHECK(cudaEventSynchronize(event_)); }
  bool done() const {
    const cudaError_t e = cudaEventQuery(event_);
    if (e == cudaErrorNotReady) return false;
    NAGBENCH_CUDA_CHECK(e);
    return true;
  }
  double seconds_since(const ExecEvent& earlier) const {
    float ms = 0;
    NAGBENCH_CUDA_CHECK(cudaEventElapsedTime(&ms, earlier.event_, event_));
    return double(ms) * 1e-3;
  }
  cudaEvent_t native() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};
#endif

}  // namespace nagbench
