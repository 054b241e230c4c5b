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
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <tuple>
#include <utility>
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

template <class T>
T one() {
  return StoreAs<T>::from(typename Acc<T>::type(1));
}
template <class T>
T zero() {
  return StoreAs<T>::from(typename Acc<T>::type(0));
}

// C (m x n) = C + b 1^T, then ReLU when relu (NaN stays NaN, as torch.relu).
template <class Exec, class T>
void add_bias_kernel(const Exec& exec, int64_t m, int64_t n, const T* bias, bool relu, T* C, int64_t ldc) {
  using S = typename Acc<T>::type;
  Kokkos::parallel_for(
      "nagbench::linalg::add_bias", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, m * n),
      KOKKOS_LAMBDA(const int64_t e) {
        const int64_t i = e % m, j = e / m;
        const S v = to_compute(C[i + j * ldc]) + to_compute(bias[i]);
        C[i + j * ldc] = StoreAs<T>::from(relu && v < S(0) ? S(0) : v);
      });
}

// s[j] = sum over l of op(B)[l, j] (op(B) k x n), in order of l: deterministic.
template <class Exec, class T>
void colsum_kernel(const Exec& exec, bool tb, int64_t n, int64_t k, const T* B, int64_t ldb, T* s) {
  using S = typename Acc<T>::type;
  Kokkos::parallel_for(
      "nagbench::linalg::colsum", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, n),
      KOKKOS_LAMBDA(const int64_t j) {
        S sum = 0;
        for (int64_t l = 0; l < k; ++l)
          sum += to_compute(tb ? B[j + l * ldb] : B[l + j * ldb]);
        s[j] = StoreAs<T>::from(sum);
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

// --- cuBLASLt, for the GEMMs with a fused epilogue.
//
// A plan is made once per shape, epilogue and operand alignment (descriptors and the heuristic's first
// algorithm for a 32 MiB workspace, cuBLAS's recommendation for Hopper) and reused: the heuristic query costs
// host time a step of 48 GEMMs should not pay. `ok` is false when cuBLASLt offers no algorithm (e.g. an
// epilogue it does not support for the type); the caller then takes the unfused path. The workspace is one
// per handle: the calls through a handle are ordered on one stream (the workload's compute stream).
struct LtPlan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool ok = false;
};
// (double?, ta, tb, m, n, k, lda, ldb, ldc, epilogue, alignment of A, B, C in bytes, SM target). The
// handle's TF32 flag is fixed for its plans.
using LtKey = std::tuple<bool, bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int, int,
                         int, int, int>;

}  // namespace detail

struct detail::LtState {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = size_t(32) << 20;
  std::map<LtKey, LtPlan> plans;
  LtState() {
    cublas_check(cublasLtCreate(&handle), "cublasLtCreate");
    const cudaError_t e = cudaMalloc(&workspace, workspace_bytes);
    if (e != cudaSuccess) {
      cublasLtDestroy(handle);
      throw RunError(std::string("cudaMalloc of cuBLASLt's workspace failed: ") + cudaGetErrorString(e));
    }
  }
  ~LtState() {
    for (auto& kv : plans) {
      LtPlan& p = kv.second;
      if (p.a) cublasLtMatrixLayoutDestroy(p.a);
      if (p.b) cublasLtMatrixLayoutDestroy(p.b);
      if (p.c) cublasLtMatrixLayoutDestroy(p.c);
      if (p.op) cublasLtMatmulDescDestroy(p.op);
    }
    cudaFree(workspace);
    cublasLtDestroy(handle);
  }
  LtState(const LtState&) = delete;
  LtState& operator=(const LtState&) = delete;
};

namespace detail {

// The alignment of a pointer in bytes, capped at 256 (cuBLASLt's default assumption, which a plan must not
// make for a less aligned operand).
int alignment(const void* p) {
  const auto v = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t low = v & (~v + 1);
  return low == 0 || low > 256 ? 256 : static_cast<int>(low);
}

template <class T>
const LtPlan& lt_plan(LtState& st, bool tf32, int sm_target, bool ta, bool tb, int64_t m, int64_t n,
                      int64_t k, const T* A, int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc,
                      cublasLtEpilogue_t epi, const T* epilogue_vector) {
  constexpr bool dbl = std::is_same<T, double>::value;
  const LtKey key{
      dbl,          ta,           tb,           m,        n, k, lda, ldb, ldc, static_cast<int>(epi),
      alignment(A), alignment(B), alignment(C), sm_target};
  auto it = st.plans.find(key);
  if (it != st.plans.end()) return it->second;
  LtPlan& p = st.plans[key];
  const cudaDataType_t type = dbl ? CUDA_R_64F : CUDA_R_32F;
  const cublasComputeType_t compute =
      dbl ? CUBLAS_COMPUTE_64F : (tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
  cublas_check(cublasLtMatmulDescCreate(&p.op, compute, type), "cublasLtMatmulDescCreate");
  const cublasOperation_t oa = op(ta), ob = op(tb);
  cublas_check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &oa, sizeof oa),
               "cublasLtMatmulDescSetAttribute(TRANSA)");
  cublas_check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &ob, sizeof ob),
               "cublasLtMatmulDescSetAttribute(TRANSB)");
  cublas_check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi),
               "cublasLtMatmulDescSetAttribute(EPILOGUE)");
  if (epi != CUBLASLT_EPILOGUE_DEFAULT)
    cublas_check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &epilogue_vector,
                                                sizeof epilogue_vector),
                 "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  if (sm_target > 0) {
    const int32_t target = sm_target;
    cublas_check(
        cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET, &target, sizeof target),
        "cublasLtMatmulDescSetAttribute(SM_COUNT_TARGET)");
  }
  cublas_check(cublasLtMatrixLayoutCreate(&p.a, type, ta ? k : m, ta ? m : k, lda),
               "cublasLtMatrixLayoutCreate");
  cublas_check(cublasLtMatrixLayoutCreate(&p.b, type, tb ? n : k, tb ? k : n, ldb),
               "cublasLtMatrixLayoutCreate");
  cublas_check(cublasLtMatrixLayoutCreate(&p.c, type, m, n, ldc), "cublasLtMatrixLayoutCreate");
  cublasLtMatmulPreference_t pref = nullptr;
  cublas_check(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
  const uint32_t al_a = uint32_t(std::get<10>(key)), al_b = uint32_t(std::get<11>(key)),
                 al_c = uint32_t(std::get<12>(key));
  cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                          &st.workspace_bytes, sizeof st.workspace_bytes);
  // The alignments the plan may assume (D is written where C is read).
  const std::pair<cublasLtMatmulPreferenceAttributes_t, const uint32_t*> alignments[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_c}};
  for (const auto& [attribute, bytes] : alignments)
    if (s == CUBLAS_STATUS_SUCCESS)
      s = cublasLtMatmulPreferenceSetAttribute(pref, attribute, bytes, sizeof *bytes);
  int found = 0;
  cublasLtMatmulHeuristicResult_t result{};
  if (s == CUBLAS_STATUS_SUCCESS)
    s = cublasLtMatmulAlgoGetHeuristic(st.handle, p.op, p.a, p.b, p.c, p.c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  // No algorithm for this epilogue is an answer (the unfused path runs), not an error.
  p.ok = s == CUBLAS_STATUS_SUCCESS && found > 0 && result.state == CUBLAS_STATUS_SUCCESS;
  if (p.ok) p.algo = result.algo;
  return p;
}

// C = alpha op(A) op(B) + beta C with the epilogue, on exec's stream; false when cuBLASLt has no plan for it.
template <class T>
bool lt_matmul(BlasHandle<Kokkos::Cuda>& h, const Kokkos::Cuda& exec, bool ta, bool tb, int64_t m, int64_t n,
               int64_t k, T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
               int64_t ldc, cublasLtEpilogue_t epi, const T* epilogue_vector) {
  // cuBLASLt reads the epilogue vector with vector loads: an odd address takes the unfused path.
  if (epilogue_vector && alignment(epilogue_vector) < 16) return false;
  LtState& st = h.lt();
  const LtPlan& p =
      lt_plan<T>(st, h.tf32(), h.sm_target(), ta, tb, m, n, k, A, lda, B, ldb, C, ldc, epi, epilogue_vector);
  if (!p.ok) return false;
  if (epi != CUBLASLT_EPILOGUE_DEFAULT)
    cublas_check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &epilogue_vector,
                                                sizeof epilogue_vector),
                 "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  cublas_check(cublasLtMatmul(st.handle, p.op, &alpha, A, p.a, B, p.b, &beta, C, p.c, C, p.c, &p.algo,
                              st.workspace, st.workspace_bytes, exec.cuda_stream()),
               "cublasLtMatmul");
  return true;
}
#endif

}  // namespace detail

#ifdef KOKKOS_ENABLE_CUDA
BlasHandle<Kokkos::Cuda>::BlasHandle(bool tf32, int sm_carveout) : tf32_(tf32), sm_carveout_(sm_carveout) {
  if (sm_carveout_ > 0) {
    int device = 0, sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
      throw RunError("cannot read the GPU's multiprocessor count");
    if (sm_carveout_ >= sms)
      throw InputError("--sm-carveout " + std::to_string(sm_carveout_) +
                       " leaves no SM for the GEMMs (the GPU has " + std::to_string(sms) + ")");
    sm_target_ = sms - sm_carveout_;
  }
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
detail::LtState& BlasHandle<Kokkos::Cuda>::lt() {
  if (!lt_) lt_ = std::make_unique<detail::LtState>();
  return *lt_;
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
        if (detail::lt_matmul<T>(h, exec, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                                 CUBLASLT_EPILOGUE_DEFAULT, nullptr))
          return;
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

template <class Exec, class T>
void gemm_bias(const Exec& exec, BlasHandle<Exec>& h, Trans ta, Trans tb, int64_t m, int64_t n, int64_t k,
               const T* A, int64_t lda, const T* B, int64_t ldb, const T* bias, bool relu, T* C,
               int64_t ldc) {
  detail::check_dims("gemm_bias", ta == Trans::yes ? k : m, m, n, k, lda, tb == Trans::yes ? n : k, ldb, ldc);
  if (m == 0 || n == 0) return;
#ifdef KOKKOS_ENABLE_CUDA
  if constexpr (std::is_same<Exec, Kokkos::Cuda>::value &&
                (std::is_same<T, float>::value || std::is_same<T, double>::value)) {
    if (k > 0 &&
        detail::lt_matmul<T>(h, exec, ta == Trans::yes, tb == Trans::yes, m, n, k, T(1), A, lda, B, ldb, T(0),
                             C, ldc, relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS, bias))
      return;
  }
#endif
  gemm<Exec, T>(exec, h, ta, tb, m, n, k, detail::one<T>(), A, lda, B, ldb, detail::zero<T>(), C, ldc);
  detail::add_bias_kernel(exec, m, n, bias, relu, C, ldc);
}

template <class Exec, class T>
void gemm_colsum(const Exec& exec, BlasHandle<Exec>& h, Trans ta, Trans tb, int64_t m, int64_t n, int64_t k,
                 const T* A, int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc, T* colsum) {
  detail::check_dims("gemm_colsum", ta == Trans::yes ? k : m, m, n, k, lda, tb == Trans::yes ? n : k, ldb,
                     ldc);
  if (m == 0 || n == 0) return;
#ifdef KOKKOS_ENABLE_CUDA
  if constexpr (std::is_same<Exec, Kokkos::Cuda>::value &&
                (std::is_same<T, float>::value || std::is_same<T, double>::value)) {
    if (k > 0 && detail::lt_matmul<T>(h, exec, ta == Trans::yes, tb == Trans::yes, m, n, k, T(1), A, lda, B,
                                      ldb, T(0), C, ldc, CUBLASLT_EPILOGUE_BGRADB, colsum))
      return;
  }
#endif
  gemm<Exec, T>(exec, h, ta, tb, m, n, k, detail::one<T>(), A, lda, B, ldb, detail::zero<T>(), C, ldc);
  detail::colsum_kernel(exec, tb == Trans::yes, n, k, B, ldb, colsum);
}

#define NAGBENCH_LINALG_INSTANTIATE_T(E, T)                                                                  \
  template void gemm<E, T>(const E&, BlasHandle<E>&, Trans, Trans, int64_t, int64_t, int64_t, T, const T*,   \
                           int64_t, const T*, int64_t, T, T*, int64_t);                                      \
  template void gemv<E, T>(const E&, BlasHandle<E>&, Trans, int64_t, int64_t, T, const T*, int64_t,          \
                           const T*, T, T*);                                                                 \
  template void gemm_bias<E, T>(const E&, BlasHandle<E>&, Trans, Trans, int64_t, int64_t, int64_t, const T*, \
                                int64_t, const T*, int64_t, const T*, bool, T*, int64_t);                    \
  template void gemm_colsum<E, T>(const E&, BlasHandle<E>&, Trans, Trans, int64_t, int64_t, int64_t,         \
                                  const T*, int64_t, const T*, int64_t, T*, int64_t, T*);
#define NAGBENCH_LINALG_INSTANTIATE(E)     \
  NAGBENCH_LINALG_INSTANTIATE_T(E, float)  \
  NAGBENCH_LINALG_INSTANTIATE_T(E, double) \
  NAGBENCH_LINALG_INSTANTIATE_T(E, bf16)
NAGBENCH_FOR_EACH_BACKEND(NAGBENCH_LINALG_INSTANTIATE)

}  // namespace nagbench::linalg
