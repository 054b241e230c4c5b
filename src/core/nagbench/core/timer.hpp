#pragma once
// Wall-clock timing of device work: fence before (nothing earlier leaks in) and after (all of it is counted).
#include <Kokkos_Core.hpp>
#include <chrono>

namespace nagbench {

template <class F>
double time_fenced(F&& f) {
  Kokkos::fence();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  Kokkos::fence();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace nagbench
