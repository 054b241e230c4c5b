// The cuda instantiation of the update benchmark (one file per backend so they compile in parallel).
#include <Kokkos_Core.hpp>
#ifdef KOKKOS_ENABLE_CUDA
#include "nagbench/harness/update_run_impl.hpp"

namespace nagbench {
template UpdateRunResult run_update<Kokkos::Cuda>(const Config&, const ProcessInfo&, Progress&);
}  // namespace nagbench
#endif
