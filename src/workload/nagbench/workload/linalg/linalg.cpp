#include "nagbench/workload/linalg/linalg.hpp"

#include <climits>
#include <string>
#include <type_traits>

#include "nagbench/core/enabled_backends.hpp"
#include "nagbench/core/errors.hpp"

#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
#include <KokkosBlas2_gemv.hpp>
#include <KokkosBlas3_gemm.hpp>
#endif
#ifdef KOKKOS_ENABLE_CUDA
#include <cublas_v2.h>
#endif

namespace nagbench::linalg {

namespace detail {

// What the straightforward kernels accumulate in: the type itself, float for bf16.
template <class T>
struct Acc {
  using type = T;
};
template <>
struct Acc<bf16> {
  using type = float;
};

[[noreturn]] void bad_call(const char* what, const std::string& why) {
  throw RunError(std::string("linalg::") + what + ": " + why);
}

void check_dims(const char* what, int64_t rows_a, int64_t m, int64_t n, int64_t k, int64_t lda,
                int64_t rows_b, int64_t ldb, int64_t ldc) {
  if (m < 0 || n < 0 || k < 0)
    bad_call(what, "negative size (m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " +
                       std::to_string(k) + ")");
  const auto ld_ok = [](int64_t ld, int64_t rows) { return ld >= (rows > 1 ? rows : 1); };
  if (!ld_ok(lda, rows_a) || (rows_b >= 0 && !ld_ok(ldb, rows_b)) || (ldc >= 0 && !ld_ok(ldc, m)))
    bad_call(what, "a leading dimension is smaller than its matrix's rows (lda " + std::to_string(lda) +
                       ", ldb " + std::to_string(ldb) + ", ldc " + std::to_string(ldc) + ")");
}

// C = alpha op(A) op(B) + beta C, one dot product per element of C.
template <class Exec, class T>
void gemm_kernel(const Exec& exec, bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* A,
                 int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  using S = typename Acc<T>::type;
  const S a = to_compute(alpha), b = to_compute(beta);
  Kokkos::parallel_for(
      "nagbench::linalg::gemm", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, m * n),
      KOKKOS_LAMBDA(const int64_t e) {
        const int64_t i = e % m, j = e / m;
        S sum = 0;
        for (int64_t l = 0; l < k; ++l) {
          const S av = to_compute(ta ? A[l + i * lda] : A[i + l * lda]);
          const S bv = to_compute(tb ? B[j + l * ldb] : B[l + j * ldb]);
          sum += av * bv;
        }
        S out = a * sum;
        if (b != S(0)) out += b * to_compute(C[i + j * ldc]);
        C[i + j * ldc] = StoreAs<T>::from(out);
      });
}

// y = alpha op(A) x + beta y; A is m x n.
template <class Exec, class T>
void gemv_kernel(const Exec& exec, bool t, int64_t m, int64_t n, T alpha, const T* A, int64_t lda, const T* x,
                 T beta, T* y) {
  using S = typename Acc<T>::type;
  const S a = to_compute(alpha), b = to_compute(beta);
  const int64_t rows = t ? n : m, inner = t ? m : n;
  Kokkos::parallel_for(
      "nagbench::linalg::gemv", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, rows),
      KOKKOS_LAMBDA(const int64_t i) {
        S sum = 0;
        for (int64_t j = 0; j < inner; ++j)
          sum += to_compute(t ? A[j + i * lda] : A[i + j * lda]) * to_compute(x[j]);
        S out = a * sum;
        if (b != S(0)) out += b * to_compute(y[i]);
        y[i] = StoreAs<T>::from(out);
      });
}

#ifdef KOKKOS_ENABLE_CUDA
std::string status_text(cublasStatus_t s) {
  return std::string(cublasGetStatusString(s)) + " (" + std::to_string(static_cast<int>(s)) + ")";
}
void cublas_check(cublasStatus_t s, const char* call) {
  if (s != CUBLAS_STATUS_SUCCESS) throw RunError(std::string(call) + " failed: " + status_text(s));
}
int as_int(int64_t v, const char* what) {
  if (v > INT_MAX) bad_call(what, "size " + std::to_string(v) + " exceeds cuBLAS's 32-bit int");
  return static_cast<int>(v);
}
cublasOperation_t op(bool t) {
  return t ? CUBLAS_OP_T : CUBLAS_OP_N;
}

void cublas_gemm(cublasHandle_t h, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  cublas_check(cublasSgemm(h, op(ta), op(tb), as_int(m, "gemm"), as_int(n, "gemm"), as_int(k, "gemm"), &alpha,
                           A, as_int(lda, "gemm"), B, as_int(ldb, "gemm"), &beta, C, as_int(ldc, "gemm")),
               "cublasSgemm");
}
void cublas_gemm(cublasHandle_t h, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                 const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
                 int64_t ldc) {
  cublas_check(cublasDgemm(h, op(ta), op(tb), as_int(m, "gemm"), as_int(n, "gemm"), as_int(k, "gemm"), &alpha,
                           A, as_int(lda, "gemm"), B, as_int(ldb, "gemm"), &beta, C, as_int(ldc, "gemm")),
               "cublasDgemm");
}
void cublas_gemv(cublasHandle_t h, bool t, int64_t m, int64_t n, float alpha, const float* A, int64_t lda,
                 const float* x, float beta, float* y) {
  cublas_check(cublasSgemv(h, op(t), as_int(m, "gemv"), as_int(n, "gemv"), &alpha, A, as_int(lda, "gemv"), x,
                           1, &beta, y, 1),
               "cublasSgemv");
}
void cublas_gemv(cublasHandle_t h, bool t, int64_t m, int64_t n, double alpha, const double* A, int64_t lda,
                 const double* x, double beta, double* y) {
  cublas_check(cublasDgemv(h, op(t), as_int(m, "gemv"), as_int(n, "gemv"), &alpha, A, as_int(lda, "gemv"), x,
                           1, &beta, y, 1),
               "cublasDgemv");
}
// The math mode of each call, set explicitly: TF32 tensor cores for float only when allowed.
template <class T>
void set_math_mode(cublasHandle_t h, bool tf32) {
  const cublasMath_t mode =
      std::is_same<T, float>::value && tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
  cublas_check(cublasSetMathMode(h, mode), "cublasSetMathMode");
}
#endif

}  // namespace detail

#ifdef KOKKOS_ENABLE_CUDA
BlasHandle<Kokkos::Cuda>::BlasHandle(bool tf32) : tf32_(tf32) {
  cublasHandle_t h = nullptr;
  detail::cublas_check(cublasCreate(&h), "cublasCreate");
  handle_ = h;
}
BlasHandle<Kokkos::Cuda>::~BlasHandle() {
  if (handle_) cublasDestroy(handle_);
}
cublasContext* BlasHandle<Kokkos::Cuda>::on(const Kokkos::Cuda& exec) {
  detail::cublas_check(cublasSetStream(handle_, exec.cuda_stream()), "cublasSetStream");
  return handle_;
}
#endif

template <class Exec, class T>
void gemm(const Exec& exec, BlasHandle<Exec>& h, Trans ta_, Trans tb_, int64_t m, int64_t n, int64_t k,
          T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  const bool ta = ta_ == Trans::yes, tb = tb_ == Trans::yes;
  const int64_t ar = ta ? k : m, br = tb ? n : k;
  detail::check_dims("gemm", ar, m, n, k, lda, br, ldb, ldc);
  if (m == 0 || n == 0) return;
  (void)h;
  constexpr bool blas_type = std::is_same<T, float>::value || std::is_same<T, double>::value;
  if constexpr (blas_type) {
    if (k > 0) {
#ifdef KOKKOS_ENABLE_CUDA
      if constexpr (std::is_same<Exec, Kokkos::Cuda>::value) {
        cublasHandle_t handle = h.on(exec);
        detail::set_math_mode<T>(handle, h.tf32());
        detail::cublas_gemm(handle, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
      }
#endif
#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
      if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible) {
        if (lda == ar && ldb == br && ldc == m) {
          using Dev = Kokkos::Device<Exec, typename Exec::memory_space>;
          using In =
              Kokkos::View<const T**, Kokkos::LayoutLeft, Dev, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
          using Out = Kokkos::View<T**, Kokkos::LayoutLeft, Dev, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
          KokkosBlas::gemm(ta ? "T" : "N", tb ? "T" : "N", alpha, In(A, ar, ta ? m : k),
                           In(B, br, tb ? k : n), beta, Out(C, m, n));
          return;
        }
      }
#endif
    }
  }
  detail::gemm_kernel(exec, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class Exec, class T>
void gemv(const Exec& exec, BlasHandle<Exec>& h, Trans t_, int64_t m, int64_t n, T alpha, const T* A,
          int64_t lda, const T* x, T beta, T* y) {
  const bool t = t_ == Trans::yes;
  detail::check_dims("gemv", m, m, n, 0, lda, -1, 0, -1);
  const int64_t rows = t ? n : m, inner = t ? m : n;
  if (rows == 0) return;
  (void)h;
  constexpr bool blas_type = std::is_same<T, float>::value || std::is_same<T, double>::value;
  if constexpr (blas_type) {
    if (inner > 0) {
#ifdef KOKKOS_ENABLE_CUDA
      if constexpr (std::is_same<Exec, Kokkos::Cuda>::value) {
        cublasHandle_t handle = h.on(exec);
        detail::set_math_mode<T>(handle, h.tf32());
        detail::cublas_gemv(handle, t, m, n, alpha, A, lda, x, beta, y);
        return;
      }
#endif
#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
      if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible) {
        if (lda == m) {
          using Dev = Kokkos::Device<Exec, typename Exec::memory_space>;
          using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;
          // Kokkos Kernels 3.4's transposed GEMV (TwoLevelTransposeGEMV) computes beta * y + ... even when
          // beta = 0, so a NaN in y would survive: y is zeroed first.
          if (t && beta == T(0))
            Kokkos::parallel_for(
                "nagbench::linalg::gemv_zero",
                Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, rows),
                KOKKOS_LAMBDA(const int64_t i) { y[i] = T(0); });
          KokkosBlas::gemv(t ? "T" : "N", alpha,
                           Kokkos::View<const T**, Kokkos::LayoutLeft, Dev, Unmanaged>(A, m, n),
                           Kokkos::View<const T*, Kokkos::LayoutLeft, Dev, Unmanaged>(x, inner), beta,
                           Kokkos::View<T*, Kokkos::LayoutLeft, Dev, Unmanaged>(y, rows));
          return;
        }
      }
#endif
    }
  }
  detail::gemv_kernel(exec, t, m, n, alpha, A, lda, x, beta, y);
}

#define NAGBENCH_LINALG_INSTANTIATE_T(E, T)                                                                \
  template void gemm<E, T>(const E&, BlasHandle<E>&, Trans, Trans, int64_t, int64_t, int64_t, T, const T*, \
                           int64_t, const T*, int64_t, T, T*, int64_t);                                    \
  template void gemv<E, T>(const E&, BlasHandle<E>&, Trans, int64_t, int64_t, T, const T*, int64_t,        \
                           const T*, T, T*);
#define NAGBENCH_LINALG_INSTANTIATE(E)     \
  NAGBENCH_LINALG_INSTANTIATE_T(E, float)  \
  NAGBENCH_LINALG_INSTANTIATE_T(E, double) \
  NAGBENCH_LINALG_INSTANTIATE_T(E, bf16)
NAGBENCH_FOR_EACH_BACKEND(NAGBENCH_LINALG_INSTANTIATE)

}  // namespace nagbench::linalg
