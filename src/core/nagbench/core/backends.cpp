#include "nagbench/core/backends.hpp"

namespace nagbench {

std::vector<std::string> compiled_backend_names() {
  std::vector<std::string> names;
  for_each_type(EnabledExecSpaces{},
                [&](auto tag) { names.push_back(backend_name<typename decltype(tag)::type>()); });
  return names;
}

std::string default_backend_name() {
  return backend_name<Kokkos::DefaultExecutionSpace>();
}

std::string check_backend(const std::string& name) {
  std::string list;
  for (const auto& n : compiled_backend_names()) {
    if (n == name) return n;
    list += (list.empty() ? "" : ", ") + n;
  }
  if (name == "cuda" || name == "openmp" || name == "serial")
    throw InputError("backend '" + name + "' is not compiled into this binary (compiled: " + list + ")");
  throw InputError("unknown backend '" + name + "' (compiled: " + list + ")");
}

bool backend_is_gpu(const std::string& name) {
  return name == "cuda";
}

}  // namespace nagbench
