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
inline cudaStream_t as_stream(void* s) {
  return static_cast<cudaStream_t>(s);
}
}  // namespace nagbench
#endif
