#include "nagbench/harness/backend.hpp"

#include <type_traits>

namespace nagbench {

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::serial:
      return "serial";
    case Backend::openmp:
      return "openmp";
    case Backend::cuda:
      return "cuda";
  }
  return "?";
}

std::vector<std::string> compiled_backend_names() {
  std::vector<std::string> names;
#ifdef KOKKOS_ENABLE_CUDA
  names.emplace_back("cuda");
#endif
#ifdef KOKKOS_ENABLE_OPENMP
  names.emplace_back("openmp");
#endif
#ifdef KOKKOS_ENABLE_SERIAL
  names.emplace_back("serial");
#endif
  return names;
}

Backend default_backend() {
  using D = Kokkos::DefaultExecutionSpace;
#ifdef KOKKOS_ENABLE_CUDA
  if (std::is_same<D, Kokkos::Cuda>::value) return Backend::cuda;
#endif
#ifdef KOKKOS_ENABLE_OPENMP
  if (std::is_same<D, Kokkos::OpenMP>::value) return Backend::openmp;
#endif
  return Backend::serial;
}

Backend parse_backend(const std::string& name) {
  std::string list;
  for (const auto& n : compiled_backend_names()) {
    if (n == name) {
      if (n == "cuda") return Backend::cuda;
      if (n == "openmp") return Backend::openmp;
      return Backend::serial;
    }
    list += (list.empty() ? "" : ", ") + n;
  }
  if (name == "cuda" || name == "openmp" || name == "serial")
    throw InputError("backend '" + name + "' is not compiled into this binary (compiled: " + list + ")");
  throw InputError("unknown backend '" + name + "' (compiled: " + list + ")");
}

bool backend_is_gpu(Backend b) {
  return b == Backend::cuda;
}

}  // namespace nagbench
