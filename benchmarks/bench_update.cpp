#include "bench_update.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>

namespace nagbench::bench {

void register_cuda(const Options&);
void register_openmp(const Options&);
void register_serial(const Options&);

void register_all(const Options& opt_in) {
  Options opt = opt_in;
  if (opt.backends.empty()) {
#ifdef KOKKOS_ENABLE_CUDA
    opt.backends.push_back("cuda");
#endif
#ifdef KOKKOS_ENABLE_OPENMP
    opt.backends.push_back("openmp");
#elif defined(KOKKOS_ENABLE_SERIAL)
    opt.backends.push_back("serial");
#endif
  }
  auto wants = [&](const char* b) {
    return std::find(opt.backends.begin(), opt.backends.end(), b) != opt.backends.end();
  };
#ifdef KOKKOS_ENABLE_CUDA
  if (wants("cuda")) register_cuda(opt);
#endif
#ifdef KOKKOS_ENABLE_OPENMP
  if (wants("openmp")) register_openmp(opt);
#endif
#ifdef KOKKOS_ENABLE_SERIAL
  if (wants("serial")) register_serial(opt);
#endif
}

}  // namespace nagbench::bench
