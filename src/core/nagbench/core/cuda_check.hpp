#pragma once
// Every CUDA runtime call's return code checked: a failure is a RunError naming the call and the place.
#include <Kokkos_Core.hpp>
#ifdef KOKKOS_ENABLE_CUDA
#include <cuda_runtime.h>

#include <string>

#include "nagbench/core/errors.hpp"

#define NAGBENCH_CUDA_CHECK(call)                                                                      \
  do {                                                                                                 \
    const cudaError_t nagbench_err_ = (call);                                                          \
    if (nagbench_err_ != cudaSuccess)                                                                  \
      throw ::nagbench::RunError(std::string(#call) + " failed at " + __FILE__ + ":" +                 \
                                 std::to_string(__LINE__) + ": " + cudaGetErrorString(nagbench_err_)); \
  } while (0)

namespace nagbench {

// Kokkos 3.4 sets the device-wide cache preference to shared memory in Kokkos::initialize and again in every
// Kokkos::Cuda(stream) constructor. Kokkos' own kernels set their preference per kernel, so the device
// default only reaches other libraries' kernels: NCCL's allreduce runs ~5% slower under it (1 GiB on 2 x
// H200: 311.6 vs 328.5 GB/s busbw in benchmarks/nccl_probe.cpp --device-cache). Call after creating Kokkos
// instances.
inline void restore_device_cache_preference() {
  if (cudaDeviceSetCacheConfig(cudaFuncCachePreferNone) != cudaSuccess) cudaGetLastError();
}
}  // namespace nagbench
#endif
