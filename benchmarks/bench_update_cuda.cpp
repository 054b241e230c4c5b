// The update benchmarks of the cuda backend (one file per backend so they compile in parallel).
#include <Kokkos_Core.hpp>
#ifdef KOKKOS_ENABLE_CUDA
#include "bench_update_impl.hpp"

namespace nagbench::bench {
void register_cuda(const Options& opt) {
  register_backend<Kokkos::Cuda>("cuda", opt);
}
}  // namespace nagbench::bench
#endif
