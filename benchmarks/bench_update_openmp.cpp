// The update benchmarks of the openmp backend (one file per backend so they compile in parallel).
#include <Kokkos_Core.hpp>
#ifdef KOKKOS_ENABLE_OPENMP
#include "bench_update_impl.hpp"

namespace nagbench::bench {
void register_openmp(const Options& opt) {
  register_backend<Kokkos::OpenMP>("openmp", opt);
}
}  // namespace nagbench::bench
#endif
