#pragma once
// The execution spaces compiled into this build (core/enabled_backends.hpp, generated from the Kokkos
// install), as a GoogleTest type list: tests are written once and run for every enabled backend (Kokkos' own
// unit tests do the same with category files).
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <string>

#include "nagbench/core/enabled_backends.hpp"

namespace nagbench::test {

template <class L>
struct ToGTest;
template <class... T>
struct ToGTest<TypeList<T...>> {
  using type = ::testing::Types<T...>;
};

using EnabledBackends = ToGTest<EnabledExecSpaces>::type;

// Test names carry the backend (UpdateTest/OpenMP.Name), so CTest can run one backend per entry.
struct BackendName {
  template <class Exec>
  static std::string GetName(int) {
    std::string n = Exec::name();
    return n;
  }
};

}  // namespace nagbench::test
