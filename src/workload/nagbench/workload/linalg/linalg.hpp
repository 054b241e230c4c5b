#pragma once
// GEMM and GEMV on raw device pointers, BLAS conventions (column-major, leading dimensions), on the execution
// space instance the caller gives:
//
//   gemm: C = alpha op(A) op(B) + beta C,  op(A) m x k, op(B) k x n, C m x n
//   gemv: y = alpha op(A) x + beta y,       A m x n (op(A) = A: y has m elements, x n; op(A) = A^T: y n, x m)
//
// An empty sum is zero (k = 0 gives C = beta C, unlike reference BLAS's quick return for gemv), and beta = 0
// never reads C or y (they may hold NaN).
//
// Where the work goes:
// - Kokkos::Cuda: cuBLAS, called directly with this library's own handle. Kokkos Kernels 3.4's cuBLAS path
//   uses one shared handle on the legacy default stream, which is unordered against the non-blocking streams
//   every step runs on (harness/dp/step_spaces.hpp): a GEMM there would race the kernels before and after it.
//   So the handle is ours, cublasSetStream(handle, exec.cuda_stream()) precedes every call, and the math mode
//   is set explicitly on every float call: CUBLAS_TF32_TENSOR_OP_MATH when TF32 is allowed
//   (WorkloadSpec::tf32, the recorded --tf32 option), else CUBLAS_DEFAULT_MATH (exact fp32 products,
//   PyTorch's default for matmul); double calls always use CUBLAS_DEFAULT_MATH. Every cuBLAS status is
//   checked: a failure is a RunError naming the call and the status.
// - Host spaces (OpenMP, Serial): Kokkos Kernels' KokkosBlas::gemm / gemv on unmanaged LayoutLeft views of
//   the space (its own Kokkos parallel kernels, so Kokkos' thread count holds), when the leading dimensions
//   equal the row counts (all this project's calls); otherwise, or without Kokkos Kernels, a straightforward
//   Kokkos kernel (one dot product per output element).
// - bf16 (storage only, optim/bf16.hpp) on any space: the straightforward kernel, products and sums in
//   float.
//
// Defined in linalg.cpp for every enabled execution space and T = float, double, bf16.
#include <Kokkos_Core.hpp>
#include <cstdint>

#include "nagbench/optim/bf16.hpp"

#ifdef KOKKOS_ENABLE_CUDA
struct cublasContext;  // cuBLAS's handle type (cublas_api.h: typedef struct cublasContext* cublasHandle_t)
#endif

namespace nagbench::linalg {

enum class Trans { no, yes };

// What a GEMM or GEMV needs besides its operands: on CUDA a cuBLAS handle (created once, destroyed with the
// object) and whether float GEMMs may use TF32 tensor cores; elsewhere only the flag.
template <class Exec>
class BlasHandle {
 public:
  explicit BlasHandle(bool tf32 = false) : tf32_(tf32) {}
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  bool tf32() const { return tf32_; }
  // Whether float GEMMs really run with TF32 inputs here (cuBLAS only).
  bool tf32_active() const { return false; }

 private:
  bool tf32_;
};

#ifdef KOKKOS_ENABLE_CUDA
template <>
class BlasHandle<Kokkos::Cuda> {
 public:
  explicit BlasHandle(bool tf32 = false);
  ~BlasHandle();
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  bool tf32() const { return tf32_; }
  bool tf32_active() const { return tf32_; }
  // The handle, bound to exec's stream (cublasSetStream), for one call.
  cublasContext* on(const Kokkos::Cuda& exec);

 private:
  cublasContext* handle_ = nullptr;
  bool tf32_;
};
#endif

template <class Exec, class T>
void gemm(const Exec& exec, BlasHandle<Exec>& h, Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, T alpha,
          const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

template <class Exec, class T>
void gemv(const Exec& exec, BlasHandle<Exec>& h, Trans t, int64_t m, int64_t n, T alpha, const T* A,
          int64_t lda, const T* x, T beta, T* y);

}  // namespace nagbench::linalg
