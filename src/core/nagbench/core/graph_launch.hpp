#pragma once
// Launching a step's device work directly, or replaying it as a CUDA graph (--launch graph).
//
// A CUDA graph is submitted with one call and starts its kernels with less host and device overhead than a
// stream launch: on an H200 a fenced empty kernel costs 9.7 us launched directly and 6.5 us from a graph
// (results/nvidia-h200-x1/2026-11-28-launch-floor), against a 120-us update of resnet50. PyTorch removes
// the same cost with CUDA graphs (torch.cuda.graphs).
//
//   GraphedLaunch<Exec> launcher(graph);
//   launcher.prepare(key, enqueue);    captures the key's graph now (runs nothing), if it has none yet
//   launcher.run(exec, key, enqueue);  launches it on exec's stream (capturing first if needed)
//
// `enqueue(on)` must put all its work on the instance `on`, or on instances that wait for an event recorded
// on `on` before their first work and that `on` waits for before enqueue returns (forked and joined: the
// data-parallel step's comm and update instances, harness/dp/dp_impl.hpp), and nowhere else. Direct mode
// (graph == false), and every host space, just call enqueue(exec). Graph mode (CUDA) captures what enqueue
// puts on a private non-blocking stream (Kokkos 3.4's default instance runs on the legacy stream, which
// cannot be captured). Kernel arguments are baked into the graph, so the key must name everything the work
// depends on (the update rule, its first-step flag, the group).
//
// Limits of the capture, which the variants respect (variant.hpp, `capturable`): work enqueued on another
// stream is not captured but runs at once, so a replay would skip it (a capture that holds no work at all is
// refused; part of the work elsewhere cannot be told apart); and Kokkos launches functors of 512 bytes or
// more from a constant-memory buffer shared by every launch, which a replay would read as the last launch
// left it (nagbench's update functors are about 200 bytes).
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "nagbench/core/cuda_check.hpp"
#include "nagbench/core/errors.hpp"

namespace nagbench {

template <class Exec>
class GraphedLaunch {
 public:
  explicit GraphedLaunch(bool /*graph*/) {}
  template <class F>
  void prepare(uint64_t /*key*/, F&& /*enqueue*/) {}
  template <class F>
  void run(const Exec& exec, uint64_t /*key*/, F&& enqueue) {
    enqueue(exec);
  }
  int captures() const { return 0; }
};

#ifdef KOKKOS_ENABLE_CUDA
template <>
class GraphedLaunch<Kokkos::Cuda> {
 public:
  explicit GraphedLaunch(bool graph) {
    if (!graph) return;
    NAGBENCH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    try {
      capture_on_.emplace(stream_);
    } catch (...) {
      cudaStreamDestroy(stream_);
      throw;
    }
    restore_device_cache_preference();  // the Kokkos::Cuda(stream) constructor just set it again
  }
  ~GraphedLaunch() {
    for (auto& kv : graphs_)
      cudaGraphExecDestroy(kv.second);
    capture_on_.reset();  // the instance before its stream
    if (stream_) cudaStreamDestroy(stream_);
  }
  GraphedLaunch(const GraphedLaunch&) = delete;
  GraphedLaunch& operator=(const GraphedLaunch&) = delete;

  template <class F>
  void prepare(uint64_t key, F&& enqueue) {
    if (capture_on_ && graphs_.find(key) == graphs_.end()) graphs_.emplace(key, capture(enqueue));
  }

  template <class F>
  void run(const Kokkos::Cuda& exec, uint64_t key, F&& enqueue) {
    if (!capture_on_) {
      enqueue(exec);
      return;
    }
    auto it = graphs_.find(key);
    if (it == graphs_.end()) it = graphs_.emplace(key, capture(enqueue)).first;
    NAGBENCH_CUDA_CHECK(cudaGraphLaunch(it->second, exec.cuda_stream()));
  }
  // Graphs captured so far (the tests check that a key is captured once).
  int captures() const { return captures_; }

 private:
  template <class F>
  cudaGraphExec_t capture(F& enqueue) {
    // Relaxed: Kokkos may query or set kernel attributes while launching, which the stricter modes forbid.
    // A synchronization of the capture stream still ends the capture with an error.
    NAGBENCH_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeRelaxed));
    cudaGraph_t graph = nullptr;
    try {
      enqueue(*capture_on_);
    } catch (...) {
      if (cudaStreamEndCapture(stream_, &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
      cudaGetLastError();  // the capture is over; leave no error behind for the next call to find
      throw;
    }
    const cudaError_t ended = cudaStreamEndCapture(stream_, &graph);
    if (ended != cudaSuccess) {
      cudaGetLastError();
      throw RunError(std::string("--launch graph: capturing the step failed (") + cudaGetErrorString(ended) +
                     "): it synchronized, or its work did not stay on the instance it was given");
    }
    size_t nodes = 0;
    const cudaError_t counted = cudaGraphGetNodes(graph, nullptr, &nodes);
    if (counted != cudaSuccess || nodes == 0) {
      cudaGraphDestroy(graph);
      if (counted != cudaSuccess)
        throw RunError(std::string("--launch graph: cudaGraphGetNodes failed: ") +
                       cudaGetErrorString(counted));
      // The work went to another stream and ran at once: a replay would skip it.
      throw RunError("--launch graph: the step put no work on the instance it was given, nothing to capture");
    }
    cudaGraphExec_t instance = nullptr;
    // Each kernel node keeps the priority of the stream it was captured from (a data-parallel step's comm
    // stream runs at high priority) rather than taking that of the stream the graph is launched into.
#if CUDART_VERSION >= 11070
    const unsigned long long flags = cudaGraphInstantiateFlagUseNodePriority;
#else
    const unsigned long long flags = 0;
#endif
    const cudaError_t made = cudaGraphInstantiateWithFlags(&instance, graph, flags);
    cudaGraphDestroy(graph);
    if (made != cudaSuccess)
      throw RunError(std::string("--launch graph: cudaGraphInstantiateWithFlags failed: ") +
                     cudaGetErrorString(made));
    // Uploaded now, so that the first launch (maybe a timed step) does not pay for it; the caller's fence
    // before its timer waits for the upload.
    const cudaError_t uploaded = cudaGraphUpload(instance, stream_);
    if (uploaded != cudaSuccess) {
      cudaGraphExecDestroy(instance);
      throw RunError(std::string("--launch graph: cudaGraphUpload failed: ") + cudaGetErrorString(uploaded));
    }
    ++captures_;
    return instance;
  }

  cudaStream_t stream_ = nullptr;
  std::optional<Kokkos::Cuda> capture_on_;  // set only in graph mode
  std::map<uint64_t, cudaGraphExec_t> graphs_;
  int captures_ = 0;
};
#endif

}  // namespace nagbench
