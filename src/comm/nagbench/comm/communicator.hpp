#pragma once
// The communication backends of a data-parallel step (--comm none | mpi | nccl). One interface, templated on
// the execution space (like kokkos-comm's Handle<ExecSpace, Mpi>): a communicator works on Kokkos execution
// space instances, never on raw streams, and one file per backend implements it (none.cpp, mpi.cpp,
// nccl.cpp), registered in one table (comm/registry.hpp), like nccl-tests' one file per collective.
//
// A step gives the communicator its buckets once (setup), then per step:
//   start_reduction(k, ready)  bucket k's gradients are complete once `ready` is reached: start its reduction
//                              (allreduce; reduce-scatter when sharded) without blocking where the backend
//                              allows; buckets are started in bucket order;
//   wait_reduction(k, on)      work enqueued afterwards on instance `on` (the one that updates bucket k)
//                              sees bucket k's reduced gradients; blocks the host only when the backend must
//                              (MPI);
//   start_gather(k, on)        sharded (and p2p): this rank's update of bucket k is enqueued on instance
//                              `on`; gather the shards of every rank (p2p: tell the peers it is done);
//   finish()                   after every update was joined into the update instance (CommSpaces::update):
//                              blocks the host until every operation of the step is complete (captured
//                              steps: enqueues what remains of the step on the comm and update instances and
//                              returns; the harness waits for the graph);
//   progress()                 lets pending non-blocking operations advance (called between update slices).
// Reductions are sums: the 1/ranks average is fused into the update (the rule's grad_scale).
//
// A communicator that reduces and updates in one pass (p2p) returns its peers' arenas from peer_arenas(): the
// harness then replaces the update of bucket k (between wait_reduction(k) and start_gather(k)) with the
// rule's reduce-update kernel (optim/variants/reduce_update.hpp), which reads every rank's gradient and
// writes the updated parameters into every rank's arena; start_reduction / start_gather / finish carry the
// cross-rank ordering (flags in shared memory, no host barrier per bucket).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nagbench/comm/buckets.hpp"
#include "nagbench/core/exec_event.hpp"
#include "nagbench/core/process.hpp"
#include "nagbench/optim/arena.hpp"

namespace nagbench {

enum class ElemType { f32, f64 };
inline int64_t elem_bytes(ElemType t) {
  return t == ElemType::f32 ? 4 : 8;
}

// Every rank's arenas, mapped into this process (CUDA IPC on GPUs, an MPI shared-memory window on hosts),
// indexed by rank; the element offsets are those of the local arenas.
struct PeerArenas {
  std::vector<void*> grad, param;
  // Sharded, push form: peers copy their part of this rank's shards here (source r's part of bucket k's shard
  // at bucket start + r x shard length), so the reduce-update reads local memory only; null: it reads `grad`.
  void* inbox = nullptr;
};

struct CommSetup {
  void* grad = nullptr;   // gradient arena base
  void* param = nullptr;  // parameter arena base (gathered when sharded)
  ElemType type = ElemType::f32;
  BucketPlan plan;
  bool sharded = false;
  int skip_bucket = -1;  // tests only: leave this bucket unreduced, to prove the check catches it
  // --launch graph: after a first step run directly, each step's start_reduction .. finish is captured into a
  // CUDA graph once per step parity (odd, even) and replayed: nothing may block the host, and what a step
  // enqueues may depend on the step number's parity only.
  bool captured = false;
  // --timeline (harness/dp/step_timeline.hpp): called where a communicator's handshake of bucket k starts, in
  // the order of its comm instance (p2p: after the push, before the flags); empty: nobody listens.
  std::function<void(int)> mark_handshake;
};

// The execution space instances a communicator works with: it enqueues its own work on `comm` and orders the
// instances that update buckets after it with events (the harness names the instance of each bucket;
// `update` is the one every update has joined into when finish() is called). On host backends all are the
// default instance.
template <class Exec>
struct CommSpaces {
  Exec comm, update;
};

template <class Exec>
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual std::string name() const = 0;  // none | mpi | nccl
  virtual std::string path() const = 0;  // none | host | staged | cuda-aware | nccl
  virtual std::string library_version() const { return ""; }
  // Memory the arenas should come from (e.g. shareable with peers); null: Kokkos' own allocation.
  virtual ArenaAllocator* arena_allocator() { return nullptr; }

  virtual void setup(const CommSetup& s) = 0;
  virtual void start_reduction(int k, const ExecEvent<Exec>& ready) = 0;
  virtual void wait_reduction(int k, const Exec& on) = 0;
  virtual void start_gather(int k, const Exec& on) = 0;
  virtual void finish() = 0;
  virtual void progress() {}
  // A step whose gradients are all ready (the dp kind) starts this many buckets' reductions before the first
  // update and one more before each update; 0: every bucket first (NCCL and MPI keep their queues full).
  virtual int start_ahead() const { return 0; }
  // The fused reduce-update path: every rank's arenas (see above); null for communicators that only reduce.
  virtual const PeerArenas* peer_arenas() const { return nullptr; }
  // With peer_arenas(): the bucket (or -1) whose peers' gradients this rank leaves out (tests: the check must
  // catch it).
  virtual int skipped_bucket() const { return -1; }
  // Sharded: where this rank's reduced slice of bucket k lands, relative to the bucket start (NCCL: at the
  // rank's shard, in place; MPI_IN_PLACE reduce-scatter: at the start of the buffer).
  virtual int64_t reduced_slice_offset(int k) const = 0;

  // --comm-only: one sum-allreduce of `count` elements, send == recv for in place; enqueued (NCCL) or
  // completed (MPI) before returning. synchronize() waits for everything enqueued.
  virtual void allreduce(const void* send, void* recv, int64_t count, ElemType t) = 0;
  virtual void synchronize() = 0;
};

struct CommOptions {
  std::string mpi_path = "auto";  // auto | staged | cuda-aware (device memory only)
  bool sharded = false;           // the step reduce-scatters and all-gathers (the path may depend on it)
  // The reductions run beside kernels that want every SM (a training step's backward): a path that can move
  // data without SMs (copy engines) prefers that.
  bool beside_compute = false;
  bool graph = false;  // --launch graph: the steps are captured (CommSetup::captured)
};

}  // namespace nagbench
