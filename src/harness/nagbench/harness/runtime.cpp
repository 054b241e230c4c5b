#include "nagbench/harness/runtime.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstdlib>

#ifdef NAGBENCH_HAVE_MPI
#include <mpi.h>
#endif
#ifdef KOKKOS_ENABLE_CUDA
#include <cuda_runtime.h>
#endif

#include "nagbench/core/cuda_check.hpp"
#include "nagbench/core/provenance.hpp"

namespace nagbench {

MpiSession::MpiSession(int& argc, char**& argv) {
#ifdef NAGBENCH_HAVE_MPI
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    // Only the main thread calls MPI; OpenMP threads stay inside Kokkos kernels.
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      std::fprintf(stderr, "nagbench: error: MPI_Init_thread failed\n");
      std::exit(1);
    }
    initialized_here_ = true;
  }
  // Errors come back as return codes, which nagbench checks, instead of aborting inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  info_.mpi = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &info_.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &info_.size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, info_.rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &info_.local_rank);
  MPI_Comm_size(node, &info_.local_size);
  MPI_Comm_free(&node);
#else
  (void)argc;
  (void)argv;
#endif
}

MpiSession::~MpiSession() {
#ifdef NAGBENCH_HAVE_MPI
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (initialized_here_ && !finalized) MPI_Finalize();
#endif
}

int visible_gpu_count(std::string* why) {
#ifdef KOKKOS_ENABLE_CUDA
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (why) *why = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later calls are not confused by it
    return 0;
  }
  if (n == 0 && why) *why = "cudaGetDeviceCount reports 0 devices";
  return n;
#else
  if (why) *why = "this build has no CUDA backend";
  return 0;
#endif
}

KokkosSession::KokkosSession(int device_id, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {"nagbench"};
  // --kokkos-device-id is understood by Kokkos 3.4 through 5.x.
  if (device_id >= 0) args.push_back("--kokkos-device-id=" + std::to_string(device_id));
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  char** argvp = argv.data();
  Kokkos::initialize(argc, argvp);
#ifdef KOKKOS_ENABLE_CUDA
  restore_device_cache_preference();  // see cuda_check.hpp
#endif
}

KokkosSession::~KokkosSession() {
  Kokkos::finalize();
}

void abort_job(const ProcessInfo& who, const std::string& message, int exit_code) {
  std::fprintf(stderr, "nagbench: error on rank %d (%s): %s\n", who.rank, host_name().c_str(),
               message.c_str());
  std::fflush(stderr);
#ifdef NAGBENCH_HAVE_MPI
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized && who.size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
  std::_Exit(exit_code);
}

}  // namespace nagbench
