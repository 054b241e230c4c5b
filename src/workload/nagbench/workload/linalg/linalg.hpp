#pragma once
// GEMM and GEMV on raw device pointers, BLAS conventions (column-major, leading dimensions), on the execution
// space instance the caller gives:
//
//   gemm: C = alpha op(A) op(B) + beta C,  op(A) m x k, op(B) k x n, C m x n
//   gemv: y = alpha op(A) x + beta y,       A m x n (op(A) = A: y has m elements, x n; op(A) = A^T: y n, x m)
//   gemm_bias:   C = op(A) op(B) + b 1^T, then ReLU when asked   (b: m values, one per row of C)
//   gemm_colsum: C = op(A) op(B) and s = op(B)^T 1                (s: n values, the column sums of op(B))
//
// The last two are a layer of a neural network: the forward pass (z = W a + b, relu) and the weight gradient
// with the bias gradient (dW = dZ a^T, db = dZ 1). On CUDA they are one cuBLASLt call each, the bias and the
// ReLU (CUBLASLT_EPILOGUE_RELU_BIAS / _BIAS) or the column sums (CUBLASLT_EPILOGUE_BGRADB) done in the GEMM's
// epilogue: measured on H100 for 4096 x 4096 x 2048 with TF32 (scripts/device/gemm_probe.cu), the fused
// forward costs 8 us more than the GEMM alone, against 22-80 us for a separate bias + ReLU pass over the
// activations, and the fused bias gradient 3 us against 15 us for a GEMV. Elsewhere, or when cuBLASLt offers
// no algorithm for the shape, they are gemm followed by a Kokkos kernel (same results up to rounding: the
// check's error bounds hold for any order of summation).
//
// An empty sum is zero (k = 0 gives C = beta C, unlike reference BLAS's quick return for gemv), and beta = 0
// never reads C or y (they may hold NaN).
//
// Where the work goes:
// - Kokkos::Cuda: cuBLAS (cuBLASLt for float and double GEMMs, the legacy API where cuBLASLt offers no
//   algorithm and for GEMVs), called directly with this library's own handle. Kokkos Kernels 3.4's cuBLAS
//   path uses one shared handle on the legacy default stream, which is unordered against the non-blocking
//   streams every step runs on (harness/dp/step_spaces.hpp): a GEMM there would race the kernels before and
//   after it. So the handle is ours, cublasSetStream(handle, exec.cuda_stream()) precedes every call, and the
//   math mode is set explicitly on every float call: CUBLAS_TF32_TENSOR_OP_MATH when TF32 is allowed
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
#include <memory>

#include "nagbench/optim/bf16.hpp"

#ifdef KOKKOS_ENABLE_CUDA
struct cublasContext;  // cuBLAS's handle type (cublas_api.h: typedef struct cublasContext* cublasHandle_t)
#endif

namespace nagbench::linalg {

#ifdef KOKKOS_ENABLE_CUDA
namespace detail {
struct LtState;  // the cuBLASLt handle, its workspace and the planned matmuls (linalg.cpp)
}
#endif

enum class Trans { no, yes };

// What a GEMM or GEMV needs besides its operands: on CUDA a cuBLAS handle (created once, destroyed with the
// object), whether float GEMMs may use TF32 tensor cores, and the SM carve-out: while it is switched on
// (carve_out(true): the caller knows which GEMMs run beside another stream's kernels, e.g. the backward pass
// beside NCCL's reductions, one block per channel), GEMMs are planned for the device's SMs minus that many
// (cuBLASLt's CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET). A GEMM planned for all 132 SMs of an H100, whose tiles
// come in waves of 132, loses a whole wave when 20 of them are taken. Elsewhere only the flags.
template <class Exec>
class BlasHandle {
 public:
  explicit BlasHandle(bool tf32 = false, int sm_carveout = 0) : tf32_(tf32), sm_carveout_(sm_carveout) {}
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  bool tf32() const { return tf32_; }
  // Whether float GEMMs really run with TF32 inputs here (cuBLAS only).
  bool tf32_active() const { return false; }
  int sm_carveout() const { return sm_carveout_; }
  void carve_out(bool on) { (void)on; }

 private:
  bool tf32_;
  int sm_carveout_;
};

#ifdef KOKKOS_ENABLE_CUDA
template <>
class BlasHandle<Kokkos::Cuda> {
 public:
  // Throws InputError when the carve-out leaves the device no SM.
  explicit BlasHandle(bool tf32 = false, int sm_carveout = 0);
  ~BlasHandle();
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  bool tf32() const { return tf32_; }
  bool tf32_active() const { return tf32_; }
  int sm_carveout() const { return sm_carveout_; }
  // Whether the GEMMs from now on are planned for fewer SMs (the carve-out, when there is one).
  void carve_out(bool on) { carving_ = on; }
  // The SMs GEMMs are planned for now: the device's minus the carve-out while it is on, else 0 (no target:
  // all of them).
  int sm_target() const { return carving_ ? sm_target_ : 0; }
  // The handle, bound to exec's stream (cublasSetStream), for one call.
  cublasContext* on(const Kokkos::Cuda& exec);
  // cuBLASLt's state, created at the first fused call.
  detail::LtState& lt();

 private:
  cublasContext* handle_ = nullptr;
  std::unique_ptr<detail::LtState> lt_;
  bool tf32_;
  int sm_carveout_, sm_target_ = 0;
  bool carving_ = false;
};
#endif

template <class Exec, class T>
void gemm(const Exec& exec, BlasHandle<Exec>& h, Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, T alpha,
          const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

template <class Exec, class T>
void gemv(const Exec& exec, BlasHandle<Exec>& h, Trans t, int64_t m, int64_t n, T alpha, const T* A,
          int64_t lda, const T* x, T beta, T* y);

template <class Exec, class T>
void gemm_bias(const Exec& exec, BlasHandle<Exec>& h, Trans ta, Trans tb, int64_t m, int64_t n, int64_t k,
               const T* A, int64_t lda, const T* B, int64_t ldb, const T* bias, bool relu, T* C, int64_t ldc);

template <class Exec, class T>
void gemm_colsum(const Exec& exec, BlasHandle<Exec>& h, Trans ta, Trans tb, int64_t m, int64_t n, int64_t k,
                 const T* A, int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc, T* colsum);

}  // namespace nagbench::linalg
