// The update benchmarks of the serial backend (one file per backend so they compile in parallel).
#include <Kokkos_Core.hpp>
#ifdef KOKKOS_ENABLE_SERIAL
#include "bench_update_impl.hpp"

namespace nagbench::bench {
void register_serial(const Options& opt) {
  register_backend<Kokkos::Serial>("serial", opt);
}
}  // namespace nagbench::bench
#endif
