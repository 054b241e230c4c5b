#pragma once
// The execution spaces compiled into this build, as a GoogleTest type list: tests are written once and run
// for every enabled backend (Kokkos' own unit tests do the same with category files).
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <string>

namespace nagbench::test {

template <class... T>
struct TypeList {};
template <class... A, class... B>
TypeList<A..., B...> operator+(TypeList<A...>, TypeList<B...>);

#ifdef KOKKOS_ENABLE_SERIAL
using SerialList = TypeList<Kokkos::Serial>;
#else
using SerialList = TypeList<>;
#endif
#ifdef KOKKOS_ENABLE_OPENMP
using OpenMPList = TypeList<Kokkos::OpenMP>;
#else
using OpenMPList = TypeList<>;
#endif
#ifdef KOKKOS_ENABLE_CUDA
using CudaList = TypeList<Kokkos::Cuda>;
#else
using CudaList = TypeList<>;
#endif

template <class L>
struct ToGTest;
template <class... T>
struct ToGTest<TypeList<T...>> {
  using type = ::testing::Types<T...>;
};

using EnabledBackends = ToGTest<decltype(SerialList{} + OpenMPList{} + CudaList{})>::type;

// Test names carry the backend (UpdateTest/OpenMP.Name), so CTest can run one backend per entry.
struct BackendName {
  template <class Exec>
  static std::string GetName(int) {
    std::string n = Exec::name();
    return n;
  }
};

}  // namespace nagbench::test
