// Every run kind instantiated for the openmp backend (one file per backend, so the backends compile in
// parallel).
#include <Kokkos_Core.hpp>
#ifdef KOKKOS_ENABLE_OPENMP
#include "nagbench/harness/dp_run_impl.hpp"
#include "nagbench/harness/update_run_impl.hpp"

namespace nagbench {
template UpdateRunResult run_update<Kokkos::OpenMP>(const Config&, const ProcessInfo&, Progress&);
template DpRunResult run_dp<Kokkos::OpenMP>(const Config&, const ProcessInfo&, Progress&);
template CommOnlyResult run_comm_only<Kokkos::OpenMP>(const Config&, const ProcessInfo&, Progress&);
}  // namespace nagbench
#endif
