#pragma once
// THE table of communication backends. A backend is one file (none.cpp, mpi.cpp, nccl.cpp) that defines the
// members of its row below; adding one is that file plus one row (a struct and its place in CommBackends).
#include <memory>
#include <string>
#include <vector>

#include "nagbench/comm/communicator.hpp"
#include "nagbench/core/process.hpp"
#include "nagbench/core/type_list.hpp"

namespace nagbench {

// What the configuration checks need to know of a run, without any device.
struct CommRequest {
  std::string backend;  // execution space name: cuda, openmp, serial
  int ranks = 1;
  bool device_memory = false;
  std::string mpi_path = "auto";
  bool sharded = false;
  std::string run_kind = "dp";  // dp | allreduce | train
  bool graph = false;           // --launch graph: the step is captured into a CUDA graph and replayed
};

// Each row: its name and summary, whether this build has it, why it cannot serve a request ("" when it can),
// and make<Exec>, defined in the backend's file for every enabled execution space (RunError on failure).
#define NAGBENCH_COMM_BACKEND(Type, Name, Summary)                                                          \
  struct Type {                                                                                             \
    static constexpr const char* kName = Name;                                                              \
    static constexpr const char* kSummary = Summary;                                                        \
    static bool compiled_in();                                                                              \
    static std::string problem(const CommRequest& request);                                                 \
    template <class Exec>                                                                                   \
    static std::unique_ptr<Communicator<Exec>> make(const CommSpaces<Exec>& spaces, const CommOptions& opt, \
                                                    const ProcessInfo& proc);                               \
  }

NAGBENCH_COMM_BACKEND(NoneBackend, "none",
                      "a single rank, no communication: the baseline of every scaling figure");
NAGBENCH_COMM_BACKEND(
    MpiBackend, "mpi",
    "MPI_Iallreduce per bucket (reduce-scatter + all-gather sharded); host memory, staged through "
    "pinned buffers, or CUDA-aware");
NAGBENCH_COMM_BACKEND(
    NcclBackend, "nccl",
    "ncclAllReduce per bucket (ReduceScatter + AllGather sharded) on the step's comm stream");

NAGBENCH_COMM_BACKEND(
    P2pBackend, "p2p",
    "one node: every rank maps its peers' arenas (CUDA IPC, MPI shared memory); one kernel per bucket sums "
    "its shard of every rank's gradient, updates it and writes the parameters into every rank");

using CommBackends = TypeList<NoneBackend, MpiBackend, NcclBackend, P2pBackend>;

struct CommBackendInfo {
  std::string name, summary;
  bool compiled_in = false;
};
std::vector<CommBackendInfo> comm_backend_catalog();

// Throws InputError for an unknown or compiled-out backend, or one that cannot serve the request; checked on
// rank 0 before any collective.
void check_comm(const std::string& name, const CommRequest& request);

template <class Exec>
std::unique_ptr<Communicator<Exec>> make_communicator(const std::string& name, const CommSpaces<Exec>& spaces,
                                                      const CommOptions& opt, const ProcessInfo& proc) {
  std::unique_ptr<Communicator<Exec>> out;
  for_each_type(CommBackends{}, [&](auto t) {
    using B = typename decltype(t)::type;
    if (!out && name == B::kName) out = B::template make<Exec>(spaces, opt, proc);
  });
  if (!out) check_comm(name, {});  // throws the InputError naming the known backends
  return out;
}

// Frees what communicators keep for the whole process (the NCCL communicator); call before Kokkos finalizes.
void release_communicators();
// Open MPI's MPIX_Query_cuda_support() or MPICH's MPIX_GPU_query_support(); false where MPI cannot say.
bool mpi_is_cuda_aware();

}  // namespace nagbench
