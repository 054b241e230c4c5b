#pragma once
// Backends = the Kokkos execution spaces compiled into this binary (core/enabled_backends.hpp, generated from
// the Kokkos install), chosen at run time (--backend), so one CUDA build runs the same inputs on the GPU and
// on the host's OpenMP threads.
#include <Kokkos_Core.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "nagbench/core/enabled_backends.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/type_list.hpp"

namespace nagbench {

// "cuda", "openmp", "serial": Kokkos' own name of the space, lower case.
template <class Exec>
std::string backend_name() {
  std::string n = Exec::name();
  for (auto& c : n)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

std::vector<std::string> compiled_backend_names();  // in order of preference: cuda, openmp, serial
std::string default_backend_name();                 // Kokkos' default execution space
// Throws InputError naming the compiled backends for an unknown or compiled-out name; returns the name.
std::string check_backend(const std::string& name);
bool backend_is_gpu(const std::string& name);

// Calls f(Exec{}) with the execution space named `name` (checked with check_backend first).
template <class F>
void with_backend(const std::string& name, F&& f) {
  const bool found = with_named_type(
      EnabledExecSpaces{}, name, [](auto tag) { return backend_name<typename decltype(tag)::type>(); },
      [&](auto tag) { f(typename decltype(tag)::type()); });
  if (!found) throw InputError("backend '" + name + "' is not compiled into this binary");
}

}  // namespace nagbench
