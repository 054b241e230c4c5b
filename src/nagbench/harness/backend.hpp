#pragma once
// Backends = the Kokkos execution spaces compiled into this binary, chosen at run time (--backend), so one
// CUDA build runs the same inputs on the GPU and on the host's OpenMP threads.
#include <Kokkos_Core.hpp>
#include <string>
#include <vector>

#include "nagbench/core/errors.hpp"

namespace nagbench {

enum class Backend { serial, openmp, cuda };

const char* backend_name(Backend b);
std::vector<std::string> compiled_backend_names();  // in order of preference: cuda, openmp, serial
Backend default_backend();                          // Kokkos' default execution space
// Throws InputError naming the compiled backends for an unknown or compiled-out name.
Backend parse_backend(const std::string& name);
bool backend_is_gpu(Backend b);

// Calls f(ExecSpace{}) with the execution space of the backend.
template <class F>
decltype(auto) with_backend(Backend b, F&& f) {
  switch (b) {
#ifdef KOKKOS_ENABLE_CUDA
    case Backend::cuda:
      return f(Kokkos::Cuda());
#endif
#ifdef KOKKOS_ENABLE_OPENMP
    case Backend::openmp:
      return f(Kokkos::OpenMP());
#endif
#ifdef KOKKOS_ENABLE_SERIAL
    case Backend::serial:
      return f(Kokkos::Serial());
#endif
    default:
      break;
  }
  throw InputError(std::string("backend '") + backend_name(b) + "' is not compiled into this binary");
}

}  // namespace nagbench
