#pragma once
// The attainable streaming bandwidth of a backend's memory, measured in the same run as the update: a copy
// (c = a, 2 arrays counted) and BabelStream's nstream (a += b + s*c, 4 arrays counted). The roof is the
// larger. Buffers are sized well past the last-level cache by the caller. On CPUs a copy under-counts (the
// write-allocate read of c is not counted), which is why nstream is there.
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/stats.hpp"
#include "nagbench/core/timer.hpp"

namespace nagbench {

struct RoofResult {
  int64_t bytes_per_array = 0;
  int reps = 0;                 // timed samples over the three kernels (each stops once stable)
  bool stable = false;          // every kernel stopped early: five samples in a row within 1% of their median
  double copy_kernel_GBps = 0;  // parallel_for copy
  double copy_library_GBps = 0;  // Kokkos::deep_copy (cudaMemcpy on CUDA, memcpy-like loop on hosts)
  double copy_GBps = 0;          // the larger of the two
  double nstream_GBps = 0;
  double roof_GBps = 0;        // max(copy, nstream)
  const char* roof_from = "";  // "copy" or "nstream"
};

// GPUs: two doubles (16 bytes) per index, as the update kernels load. Hosts: a block of kRoofHostBlock
// doubles per index through restrict pointers, so the loops vectorize exactly as the update's host loops do.
inline constexpr int64_t kRoofHostBlock = 2048;

template <int W>
struct RoofCopy {
  const double* a;
  double* c;
  int64_t n;
  KOKKOS_INLINE_FUNCTION void operator()(const int64_t k) const {
    if constexpr (W == 0) {
      const double* __restrict__ src = a;
      double* __restrict__ dst = c;
      const int64_t lo = k * kRoofHostBlock, hi = lo + kRoofHostBlock < n ? lo + kRoofHostBlock : n;
      for (int64_t i = lo; i < hi; ++i)
        dst[i] = src[i];
    } else {
      *reinterpret_cast<Pack<double, W>*>(c + k * W) = *reinterpret_cast<const Pack<double, W>*>(a + k * W);
    }
  }
};

template <int W>
struct RoofNstream {
  double* a;
  const double* b;
  const double* c;
  double scalar;
  int64_t n;
  KOKKOS_INLINE_FUNCTION void operator()(const int64_t k) const {
    if constexpr (W == 0) {
      double* __restrict__ pa = a;
      const double* __restrict__ pb = b;
      const double* __restrict__ pc = c;
      const double s = scalar;
      const int64_t lo = k * kRoofHostBlock, hi = lo + kRoofHostBlock < n ? lo + kRoofHostBlock : n;
      for (int64_t i = lo; i < hi; ++i)
        pa[i] += pb[i] + s * pc[i];
    } else {
      Pack<double, W> va = *reinterpret_cast<const Pack<double, W>*>(a + k * W);
      const Pack<double, W> vb = *reinterpret_cast<const Pack<double, W>*>(b + k * W);
      const Pack<double, W> vc = *reinterpret_cast<const Pack<double, W>*>(c + k * W);
      for (int j = 0; j < W; ++j)
        va.v[j] += vb.v[j] + scalar * vc.v[j];
      *reinterpret_cast<Pack<double, W>*>(a + k * W) = va;
    }
  }
};

struct RoofInit {
  double *a, *b, *c;
  int64_t n;
  KOKKOS_INLINE_FUNCTION void operator()(const int64_t k) const {
    const int64_t lo = k * kRoofHostBlock, hi = lo + kRoofHostBlock < n ? lo + kRoofHostBlock : n;
    for (int64_t i = lo; i < hi; ++i) {
      a[i] = 0.1;
      b[i] = 0.2;
      c[i] = 0.0;
    }
  }
};

// True when every sample lies within `rel` of the samples' median.
inline bool samples_agree(const std::vector<double>& t, double rel) {
  const double m = summarize(t).median;
  for (double x : t)
    if (std::fabs(x - m) > rel * m) return false;
  return true;
}

// Per kernel, the better of two probes of the same device.
inline RoofResult better_roof(const RoofResult& x, const RoofResult& y) {
  RoofResult r = x;
  r.copy_kernel_GBps = std::max(x.copy_kernel_GBps, y.copy_kernel_GBps);
  r.copy_library_GBps = std::max(x.copy_library_GBps, y.copy_library_GBps);
  r.nstream_GBps = std::max(x.nstream_GBps, y.nstream_GBps);
  r.copy_GBps = std::max(r.copy_kernel_GBps, r.copy_library_GBps);
  r.roof_GBps = std::max(r.copy_GBps, r.nstream_GBps);
  r.roof_from = r.nstream_GBps >= r.copy_GBps ? "nstream" : "copy";
  r.reps = x.reps + y.reps;
  r.stable = x.stable && y.stable;
  return r;
}

template <class Exec>
RoofResult measure_roof(const Exec& exec, int64_t bytes_per_array, int reps) {
  using View = Kokkos::View<double*, typename Exec::memory_space>;
  using Policy = Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>;
  constexpr int W = is_host_space<Exec>() ? 0 : 2;  // 0: host blocks
  const int64_t n = std::max<int64_t>(bytes_per_array / int64_t(sizeof(double)) / 2 * 2, 2);
  View a(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::roof_a"), n);
  View b(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::roof_b"), n);
  View c(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::roof_c"), n);
  const int64_t blocks = (n + kRoofHostBlock - 1) / kRoofHostBlock;
  // First touch by the backend's own threads, block by block as the kernels below (NUMA placement on hosts).
  Kokkos::parallel_for("nagbench::roof_init", Policy(exec, 0, blocks),
                       RoofInit{a.data(), b.data(), c.data(), n});
  const int64_t items = W == 0 ? blocks : n / (W == 0 ? 1 : W);
  auto copy_kernel = [&]() {
    Kokkos::parallel_for("nagbench::roof_copy", Policy(exec, 0, items), RoofCopy<W>{a.data(), c.data(), n});
  };
  auto nstream_kernel = [&]() {
    Kokkos::parallel_for("nagbench::roof_nstream", Policy(exec, 0, items),
                         RoofNstream<W>{a.data(), b.data(), c.data(), 0.4, n});
  };
  auto library_copy = [&]() { Kokkos::deep_copy(exec, c, a); };

  // Repeats until five samples in a row lie within 1% of their median (at least five, at most `reps`): a
  // quiet machine stops early, a drifting one keeps measuring. The bandwidth is the median of all samples.
  int samples_taken = 0;
  bool all_stable = true;
  auto bandwidth_of = [&](auto&& kernel, int arrays) {
    for (int w = 0; w < 2; ++w)
      time_fenced(kernel);  // warm-up
    std::vector<double> t;
    bool stopped = false;
    for (int r = 0; r < reps && !stopped; ++r) {
      t.push_back(time_fenced(kernel));
      stopped = t.size() >= 5 && samples_agree(std::vector<double>(t.end() - 5, t.end()), 0.01);
    }
    all_stable = all_stable && stopped;
    samples_taken += static_cast<int>(t.size());
    return double(arrays) * double(n) * sizeof(double) / summarize(t).median / 1e9;
  };

  RoofResult r;
  r.bytes_per_array = n * int64_t(sizeof(double));
  r.copy_kernel_GBps = bandwidth_of(copy_kernel, 2);
  r.copy_library_GBps = bandwidth_of(library_copy, 2);
  r.nstream_GBps = bandwidth_of(nstream_kernel, 4);
  r.reps = samples_taken;
  r.stable = all_stable;
  r.copy_GBps = std::max(r.copy_kernel_GBps, r.copy_library_GBps);
  r.roof_GBps = std::max(r.copy_GBps, r.nstream_GBps);
  r.roof_from = r.nstream_GBps >= r.copy_GBps ? "nstream" : "copy";
  return r;
}

}  // namespace nagbench
