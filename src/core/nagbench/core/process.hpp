#pragma once
// Who this process is in the job: its rank in MPI_COMM_WORLD and on its node. Filled by the harness's MPI
// session (one rank, no MPI, in builds without MPI); read by every layer that must name a rank or pick a
// shard.
namespace nagbench {

struct ProcessInfo {
  int rank = 0, size = 1;              // MPI_COMM_WORLD
  int local_rank = 0, local_size = 1;  // ranks on this node (shared-memory split)
  bool mpi = false;                    // built with MPI
};

}  // namespace nagbench
