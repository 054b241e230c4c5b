// GEMM and GEMV (workload/linalg) on every enabled backend against a float64 host triple loop: every
// transpose combination, odd sizes, an empty inner dimension, leading dimensions larger than the rows, beta =
// 0 over NaN (C must not be read) and beta != 0; float, double and bf16 (storage only). The fused forms
// (gemm_bias with and without ReLU, gemm_colsum) likewise, over NaN-poisoned outputs, with TF32 allowed and
// with an SM carve-out (on CUDA: cuBLASLt's epilogues and SM count target; elsewhere the unfused path).
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/random.hpp"
#include "nagbench/optim/bf16.hpp"
#include "nagbench/workload/linalg/linalg.hpp"
#include "support/backends.hpp"

namespace nagbench::test {
namespace {

using linalg::Trans;

template <class Exec>
class Linalg : public ::testing::Test {};
TYPED_TEST_SUITE(Linalg, EnabledBackends, BackendName);

template <class T>
double unit_roundoff() {
  if (std::is_same<T, double>::value) return std::ldexp(1.0, -53);
  return std::ldexp(1.0, -24);  // float, and bf16's float arithmetic
}
template <class T>
double storage_roundoff() {
  return std::is_same<T, bf16>::value ? std::ldexp(1.0, -8) : 0.0;
}

// A device array of n values from counter-based numbers (exact in every type), and its host copy widened.
template <class Exec, class T>
struct Operand {
  Kokkos::View<T*, typename Exec::memory_space> dev;
  std::vector<double> host;
  Operand(int64_t n, uint64_t stream, bool nan = false)
      : dev("linalg_operand", size_t(n > 0 ? n : 1)), host(size_t(n > 0 ? n : 1)) {
    auto h = Kokkos::create_mirror_view(dev);
    for (size_t i = 0; i < h.extent(0); ++i) {
      const float v = nan ? std::numeric_limits<float>::quiet_NaN() : random_value(stream, int64_t(i));
      h(i) = StoreAs<T>::from(v);
      host[i] = double(to_compute(h(i)));
    }
    Kokkos::deep_copy(dev, h);
  }
  std::vector<double> read() const {
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), dev);
    std::vector<double> v(h.extent(0));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = double(to_compute(h(i)));
    return v;
  }
};

template <class Exec, class T>
void check_gemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, int64_t pad, double alpha, double beta) {
  const bool at = ta == Trans::yes, bt = tb == Trans::yes;
  const int64_t ar = at ? k : m, ac = at ? m : k, br = bt ? n : k, bc = bt ? k : n;
  const int64_t lda = std::max<int64_t>(ar, 1) + pad, ldb = std::max<int64_t>(br, 1) + pad,
                ldc = std::max<int64_t>(m, 1) + pad;
  Operand<Exec, T> A(lda * ac, 11), B(ldb * bc, 12), C(ldc * n, 13, beta == 0);
  const std::vector<double> c0 = C.host;
  Exec exec;
  linalg::BlasHandle<Exec> h(false);
  linalg::gemm<Exec, T>(exec, h, ta, tb, m, n, k, StoreAs<T>::from(float(alpha)), A.dev.data(), lda,
                        B.dev.data(), ldb, StoreAs<T>::from(float(beta)), C.dev.data(), ldc);
  exec.fence();
  const std::vector<double> got = C.read();
  const double u = unit_roundoff<T>(), gam = double(k + 2) * u / (1 - double(k + 2) * u);
  const std::string what = std::string("gemm ") + (at ? "T" : "N") + (bt ? "T" : "N") + " m " +
                           std::to_string(m) + " n " + std::to_string(n) + " k " + std::to_string(k) +
                           " pad " + std::to_string(pad);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < m; ++i) {
      double want = 0, mag = 0;
      for (int64_t l = 0; l < k; ++l) {
        const double a = at ? A.host[size_t(l + i * lda)] : A.host[size_t(i + l * lda)];
        const double b = bt ? B.host[size_t(j + l * ldb)] : B.host[size_t(l + j * ldb)];
        want += a * b;
        mag += std::abs(a * b);
      }
      want *= alpha;
      mag *= std::abs(alpha);
      if (beta != 0) {
        want += beta * c0[size_t(i + j * ldc)];
        mag += std::abs(beta * c0[size_t(i + j * ldc)]);
      }
      const double tol = 2 * gam * mag + storage_roundoff<T>() * std::abs(want) + 1e-300;
      const double g = got[size_t(i + j * ldc)];
      ASSERT_LE(std::abs(g - want), tol)
          << what << " C(" << i << ", " << j << ") = " << g << ", want " << want;
    }
  // Padding rows of C are untouched.
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = m; i < ldc; ++i) {
      const double g = got[size_t(i + j * ldc)], w = c0[size_t(i + j * ldc)];
      ASSERT_TRUE(g == w || (std::isnan(g) && std::isnan(w)))
          << what << ": padding C(" << i << ", " << j << ") written";
    }
}

template <class Exec, class T>
void check_gemv(Trans t, int64_t m, int64_t n, int64_t pad, double alpha, double beta) {
  const bool tr = t == Trans::yes;
  const int64_t lda = std::max<int64_t>(m, 1) + pad, rows = tr ? n : m, inner = tr ? m : n;
  Operand<Exec, T> A(lda * n, 21), x(inner, 22), y(rows, 23, beta == 0);
  const std::vector<double> y0 = y.host;
  Exec exec;
  linalg::BlasHandle<Exec> h(false);
  linalg::gemv<Exec, T>(exec, h, t, m, n, StoreAs<T>::from(float(alpha)), A.dev.data(), lda, x.dev.data(),
                        StoreAs<T>::from(float(beta)), y.dev.data());
  exec.fence();
  const std::vector<double> got = y.read();
  const double u = unit_roundoff<T>(), gam = double(inner + 2) * u / (1 - double(inner + 2) * u);
  for (int64_t i = 0; i < rows; ++i) {
    double want = 0, mag = 0;
    for (int64_t j = 0; j < inner; ++j) {
      const double a = tr ? A.host[size_t(j + i * lda)] : A.host[size_t(i + j * lda)];
      want += a * x.host[size_t(j)];
      mag += std::abs(a * x.host[size_t(j)]);
    }
    want *= alpha;
    mag *= std::abs(alpha);
    if (beta != 0) {
      want += beta * y0[size_t(i)];
      mag += std::abs(beta * y0[size_t(i)]);
    }
    const double tol = 2 * gam * mag + storage_roundoff<T>() * std::abs(want) + 1e-300;
    ASSERT_LE(std::abs(got[size_t(i)] - want), tol)
        << "gemv " << (tr ? "T" : "N") << " m " << m << " n " << n << " pad " << pad << " y(" << i << ")";
  }
}

// C = op(A) op(B) + b 1^T (ReLU when relu) through gemm_bias, or C = op(A) op(B) and s = op(B)^T 1 through
// gemm_colsum (colsum = true), against float64. TF32 handles get the products' input rounding (2^-11 relative
// on each factor) in the tolerance.
template <class Exec, class T>
void check_fused(bool colsum, bool relu, bool tf32, int carveout, Trans ta, Trans tb, int64_t m, int64_t n,
                 int64_t k, int64_t pad) {
  const bool at = ta == Trans::yes, bt = tb == Trans::yes;
  const int64_t ar = at ? k : m, ac = at ? m : k, br = bt ? n : k, bc = bt ? k : n;
  const int64_t lda = std::max<int64_t>(ar, 1) + pad, ldb = std::max<int64_t>(br, 1) + pad,
                ldc = std::max<int64_t>(m, 1) + pad;
  Operand<Exec, T> A(lda * ac, 31), B(ldb * bc, 32), C(ldc * n, 33, true), bias(m, 34), sums(n, 35, true);
  const std::vector<double> c0 = C.host;
  Exec exec;
  linalg::BlasHandle<Exec> h(tf32, carveout);
  if (colsum)
    linalg::gemm_colsum<Exec, T>(exec, h, ta, tb, m, n, k, A.dev.data(), lda, B.dev.data(), ldb, C.dev.data(),
                                 ldc, sums.dev.data());
  else
    linalg::gemm_bias<Exec, T>(exec, h, ta, tb, m, n, k, A.dev.data(), lda, B.dev.data(), ldb,
                               bias.dev.data(), relu, C.dev.data(), ldc);
  exec.fence();
  const std::vector<double> got = C.read(), got_sums = sums.read();
  const double u = unit_roundoff<T>(),
               u_in = tf32 && std::is_same<T, float>::value ? std::ldexp(1.0, -11) : 0.0;
  const double gam = double(k + 2) * u / (1 - double(k + 2) * u) + 2 * u_in;
  const std::string what = std::string(colsum ? "gemm_colsum "
                                       : relu ? "gemm_bias relu "
                                              : "gemm_bias ") +
                           (at ? "T" : "N") + (bt ? "T" : "N") + " m " + std::to_string(m) + " n " +
                           std::to_string(n) + " k " + std::to_string(k) + " pad " + std::to_string(pad) +
                           (tf32 ? " tf32" : "") + " carveout " + std::to_string(carveout);
  const auto b_at = [&](int64_t l, int64_t j) {
    return bt ? B.host[size_t(j + l * ldb)] : B.host[size_t(l + j * ldb)];
  };
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < m; ++i) {
      double want = 0, mag = 0;
      for (int64_t l = 0; l < k; ++l) {
        const double a = at ? A.host[size_t(l + i * lda)] : A.host[size_t(i + l * lda)];
        want += a * b_at(l, j);
        mag += std::abs(a * b_at(l, j));
      }
      // The unfused path stores the product before adding the bias: bf16 rounds both.
      double stored = std::abs(want);
      if (!colsum) {
        want += bias.host[size_t(i)];
        mag += std::abs(bias.host[size_t(i)]);
        stored += std::abs(want);
      }
      double tol = 2 * gam * mag + storage_roundoff<T>() * stored + 1e-300;
      if (relu) {
        // ReLU is 1-Lipschitz: the bound holds after it; a value within the bound of 0 may go either way.
        want = want < 0 ? 0 : want;
      }
      const double g = got[size_t(i + j * ldc)];
      ASSERT_LE(std::abs(g - want), tol)
          << what << " C(" << i << ", " << j << ") = " << g << ", want " << want;
    }
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = m; i < ldc; ++i)
      ASSERT_TRUE(std::isnan(got[size_t(i + j * ldc)]))
          << what << ": padding C(" << i << ", " << j << ") written";
  if (!colsum) return;
  const double gs = double(k + 2) * u / (1 - double(k + 2) * u) + u_in;
  for (int64_t j = 0; j < n; ++j) {
    double want = 0, mag = 0;
    for (int64_t l = 0; l < k; ++l) {
      want += b_at(l, j);
      mag += std::abs(b_at(l, j));
    }
    const double tol = 2 * gs * mag + storage_roundoff<T>() * std::abs(want) + 1e-300;
    ASSERT_LE(std::abs(got_sums[size_t(j)] - want), tol)
        << what << " s(" << j << ") = " << got_sums[size_t(j)];
  }
}

template <class Exec, class T>
void all_fused() {
  const std::vector<std::vector<int64_t>> sizes = {{1, 1, 1},     {3, 5, 7},     {64, 65, 31},
                                                   {130, 7, 129}, {128, 96, 64}, {5, 3, 0}};
  for (Trans ta : {Trans::no, Trans::yes})
    for (Trans tb : {Trans::no, Trans::yes})
      for (const auto& s : sizes)
        for (int64_t pad : {0, 3})
          for (bool tf32 : {false, true}) {
            const int carveout = tf32 ? 8 : 0;
            check_fused<Exec, T>(false, false, tf32, carveout, ta, tb, s[0], s[1], s[2], pad);
            check_fused<Exec, T>(false, true, tf32, carveout, ta, tb, s[0], s[1], s[2], pad);
            check_fused<Exec, T>(true, false, tf32, carveout, ta, tb, s[0], s[1], s[2], pad);
          }
}

struct Size3 {
  int64_t m, n, k;
};
const std::vector<Size3> kGemmSizes = {{1, 1, 1},     {3, 5, 7}, {17, 4, 33}, {64, 65, 31},
                                       {130, 7, 129}, {5, 3, 0}, {0, 4, 3}};

template <class Exec, class T>
void all_gemms() {
  for (Trans ta : {Trans::no, Trans::yes})
    for (Trans tb : {Trans::no, Trans::yes})
      for (const auto& s : kGemmSizes)
        for (int64_t pad : {0, 3}) {
          check_gemm<Exec, T>(ta, tb, s.m, s.n, s.k, pad, 1.0, 0.0);
          check_gemm<Exec, T>(ta, tb, s.m, s.n, s.k, pad, -1.5, 0.5);
        }
}

template <class Exec, class T>
void all_gemvs() {
  for (Trans t : {Trans::no, Trans::yes})
    for (auto mn :
         std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 3}, {33, 65}, {128, 17}, {5, 0}, {0, 5}})
      for (int64_t pad : {0, 2}) {
        check_gemv<Exec, T>(t, mn.first, mn.second, pad, 1.0, 0.0);
        check_gemv<Exec, T>(t, mn.first, mn.second, pad, 0.75, -2.0);
      }
}

TYPED_TEST(Linalg, GemmFloat) {
  all_gemms<TypeParam, float>();
}
TYPED_TEST(Linalg, GemmDouble) {
  all_gemms<TypeParam, double>();
}
TYPED_TEST(Linalg, GemmBf16) {
  all_gemms<TypeParam, bf16>();
}
TYPED_TEST(Linalg, GemvFloat) {
  all_gemvs<TypeParam, float>();
}
TYPED_TEST(Linalg, GemvDouble) {
  all_gemvs<TypeParam, double>();
}
TYPED_TEST(Linalg, GemvBf16) {
  all_gemvs<TypeParam, bf16>();
}

TYPED_TEST(Linalg, FusedFloat) {
  all_fused<TypeParam, float>();
}
TYPED_TEST(Linalg, FusedDouble) {
  all_fused<TypeParam, double>();
}
TYPED_TEST(Linalg, FusedBf16) {
  all_fused<TypeParam, bf16>();
}

// A carve-out of every SM is the user's error (an InputError naming the option) on CUDA; elsewhere it has
// no meaning and is accepted.
TYPED_TEST(Linalg, CarveoutOfEverySmIsAnInputError) {
  using Exec = TypeParam;
  if (std::is_same<typename Exec::memory_space, Kokkos::HostSpace>::value) {
    EXPECT_NO_THROW(linalg::BlasHandle<Exec>(false, 1 << 20));
  } else {
    EXPECT_THROW(linalg::BlasHandle<Exec>(false, 1 << 20), InputError);
  }
}

// A bad call is a RunError naming it, before anything runs.
TYPED_TEST(Linalg, BadLeadingDimensionIsAnError) {
  using Exec = TypeParam;
  Kokkos::View<float*, typename Exec::memory_space> a("a", 64);
  linalg::BlasHandle<Exec> h;
  const auto bad_gemm = [&]() {
    linalg::gemm<Exec, float>(Exec(), h, Trans::no, Trans::no, 4, 4, 4, 1.f, a.data(), 3, a.data(), 4, 0.f,
                              a.data(), 4);
  };
  const auto bad_gemv = [&]() {
    linalg::gemv<Exec, float>(Exec(), h, Trans::no, 4, 4, 1.f, a.data(), 2, a.data(), 0.f, a.data());
  };
  EXPECT_THROW(bad_gemm(), RunError);
  EXPECT_THROW(bad_gemv(), RunError);
}

}  // namespace
}  // namespace nagbench::test
