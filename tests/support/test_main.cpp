// main() of the unit tests: MPI (when built with it) and Kokkos are started once around all tests, in that
// order.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <string>

#include "nagbench/harness/runtime.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  nagbench::MpiSession mpi(argc, argv);
  int device = -1;
#ifdef KOKKOS_ENABLE_CUDA
  std::string why;
  const int gpus = nagbench::visible_gpu_count(&why);
  if (gpus == 0) {
    std::fprintf(stderr,
                 "no GPU visible (%s): a CUDA build of Kokkos cannot start; run these tests on a GPU node\n",
                 why.c_str());
    return 1;
  }
  device = mpi.info().local_rank % gpus;
#endif
  int rc = 0;
  {
    nagbench::KokkosSession kokkos(device);
    rc = RUN_ALL_TESTS();
  }
  return rc;
}
