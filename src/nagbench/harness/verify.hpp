#pragma once
// The correctness check every run ends with: the device's parameters and momentum after all steps, compared
// with the float64 host reference (optim/reference.hpp) fed the same inputs. The reference rounds what it
// stores to the layout's storage types (p to bf16 in bf16 layouts, fp32 master, ...) at the same points as
// the kernels, so the only differences left are float-vs-double arithmetic; tolerances follow from that
// (docs/metrics.md).
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nagbench/optim/hyper.hpp"
#include "nagbench/optim/param_arena.hpp"
#include "nagbench/optim/reference.hpp"
#include "nagbench/workload/fill.hpp"

namespace nagbench {

struct VerifyResult {
  std::string mode = "off";  // off | full | sample
  bool passed = false;
  int64_t checked = 0;     // elements compared (each compares p, and b / master where present)
  int64_t mismatches = 0;  // elements outside tolerance (NaN included)
  double worst_ratio = 0;  // largest |got - want| / tolerance seen
  int64_t worst_index = -1;
  std::string worst_what;  // "p", "b" or "master"
  double worst_got = 0, worst_want = 0;
  std::string params_hash;  // bits of the checked parameters (verify_arena), comparable across runs
};

struct VerifySpec {
  SgdHyper hyper;
  uint64_t seed = 0;
  int ranks = 1;      // gradients are the average over ranks 0..ranks-1
  int64_t steps = 0;  // steps applied, the first (buffer-creating) one included
  std::string mode = "auto";
  int64_t sample_budget = int64_t(1) << 20;  // element-steps budget / steps, for mode "sample"/"auto"
};

// Arena indices to check: every element ("full"), or every tensor's first and last 16 elements plus an even
// stride through the arena ("sample"). "auto" picks full when it costs at most 2^26 element-steps.
std::vector<int64_t> verification_indices(const ArenaLayout& layout, const VerifySpec& spec,
                                          std::string* mode);

namespace detail {
inline double round_to_float(double v) {
  return static_cast<double>(static_cast<float>(v));
}
inline double round_to_bf16(double v) {
  return static_cast<double>(bf16::from_float(static_cast<float>(v)).to_float());
}

template <class T>
double round_to(double v) {
  if (std::is_same<T, float>::value) return round_to_float(v);
  if (std::is_same<T, bf16>::value) return round_to_bf16(v);
  return v;
}

template <class T>
constexpr double unit_roundoff() {
  return std::is_same<T, double>::value
             ? std::numeric_limits<double>::epsilon()
             : (std::is_same<T, bf16>::value ? 1.0 / 128 : std::numeric_limits<float>::epsilon());
}
}  // namespace detail

// Compares host copies of the arenas (after spec.steps steps) with the reference at `indices`. check_p and
// check_b select the arrays (a sharded rank holds only its slices of b).
template <class Layout>
VerifyResult verify_against_reference(const VerifySpec& spec, const std::vector<int64_t>& indices,
                                      const typename Layout::param_t* p, const float* master,
                                      const typename Layout::mom_t* b, bool check_p = true,
                                      bool check_b = true) {
  using P = typename Layout::param_t;
  using M = typename Layout::mom_t;
  using Compute = typename Layout::compute_t;
  const SgdHyper& h = spec.hyper;
  // Accumulated float-vs-double rounding of the compute type over the steps, scaled by the magnitudes the
  // update combines (|p| and lr * |d|); rounding to bf16 storage adds up to two bf16 units in the last place.
  const double u = detail::unit_roundoff<Compute>();
  const double mu = h.momentum;
  const double grad_bound = 1.0 + h.weight_decay * 2.0;  // |g| < 1; |p| stays O(1) in every supported run
  const double buf_bound = h.has_momentum() ? grad_bound / (1.0 - mu) : 0.0;
  const double dir_bound = grad_bound + mu * buf_bound + buf_bound;
  const double steps = static_cast<double>(spec.steps);
  auto tolerance = [&](double want, double magnitude_floor, double step_term, bool bf16_stored) {
    const double mag = std::max(std::fabs(want), magnitude_floor);
    double tol = 4.0 * steps * u * (mag + step_term);
    if (bf16_stored) tol += 2.0 * detail::unit_roundoff<bf16>() * std::max(std::fabs(want), 1.0 / 64);
    return tol;
  };
  const bool p_in_bf16 = std::is_same<P, bf16>::value;

  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<double> ratio(n, 0.0);
  std::vector<char> which(n, 0);
  std::vector<double> got_v(n, 0.0), want_v(n, 0.0);
  Kokkos::parallel_for(
      "nagbench::verify", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n), [&](const int64_t k) {
        const int64_t i = indices[k];
        ReferenceParam s;
        s.p = stored_initial_param<Layout>(spec.seed, i);
        for (int64_t step = 0; step < spec.steps; ++step) {
          double g = 0;
          for (int r = 0; r < spec.ranks; ++r)
            g += stored_gradient<Layout>(spec.seed, r, step, i);
          g /= spec.ranks;
          reference_sgd_step(h, s, g);
          s.p = Layout::has_master ? detail::round_to_float(s.p) : detail::round_to<P>(s.p);
          if (s.has_b) s.b = detail::round_to<M>(s.b);
        }
        auto check = [&](char what, double got, double want, double tol) {
          const double r =
              std::isfinite(got) ? std::fabs(got - want) / tol : std::numeric_limits<double>::infinity();
          if (!(r <= ratio[k])) {  // NaN-safe: a NaN ratio also lands here
            ratio[k] = std::isnan(r) ? std::numeric_limits<double>::infinity() : r;
            which[k] = what;
            got_v[k] = got;
            want_v[k] = want;
          }
        };
        if (!check_p) {
        } else if (Layout::has_master) {
          check('m', master[i], s.p, tolerance(s.p, 1.0, h.lr * dir_bound, false));
          check('p', to_compute(p[i]), detail::round_to<P>(s.p),
                tolerance(s.p, 1.0, h.lr * dir_bound, p_in_bf16));
        } else {
          check('p', to_compute(p[i]), s.p, tolerance(s.p, 1.0, h.lr * dir_bound, p_in_bf16));
        }
        if (check_b && h.has_momentum()) {
          // In bf16 layouts b inherits p's bf16 rounding differences through weight decay.
          check('b', static_cast<double>(b[i]), s.b, tolerance(s.b, 1.0, buf_bound, p_in_bf16));
        }
      });
  VerifyResult res;
  res.checked = n;
  for (int64_t k = 0; k < n; ++k) {
    if (ratio[k] > 1.0) ++res.mismatches;
    if (ratio[k] > res.worst_ratio || (res.worst_index < 0 && k == 0)) {
      res.worst_ratio = ratio[k];
      res.worst_index = indices[k];
      res.worst_what = which[k] == 'm' ? "master" : (which[k] == 'b' ? "b" : "p");
      res.worst_got = got_v[k];
      res.worst_want = want_v[k];
    }
  }
  res.passed = res.mismatches == 0;
  return res;
}

// A hash of the parameters' bits (padding excluded), so ranks can prove they hold identical replicas and runs
// can be compared bit for bit. FNV-1a over chunks of 1 Mi elements hashed in parallel, combined in order.
template <class T>
std::string hash_params(const T* data, const std::vector<Segment>& tensors) {
  constexpr int64_t chunk = int64_t(1) << 20;
  std::vector<std::pair<int64_t, int64_t>> pieces;
  for (const auto& t : tensors)
    for (int64_t lo = 0; lo < t.numel; lo += chunk)
      pieces.push_back({t.offset + lo, std::min(chunk, t.numel - lo)});
  std::vector<uint64_t> h(pieces.size());
  Kokkos::parallel_for(Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, int64_t(pieces.size())),
                       [&](const int64_t k) {
                         const auto* p = reinterpret_cast<const unsigned char*>(data + pieces[k].first);
                         uint64_t x = 1469598103934665603ull;
                         for (size_t i = 0; i < size_t(pieces[k].second) * sizeof(T); ++i)
                           x = (x ^ p[i]) * 1099511628211ull;
                         h[k] = x;
                       });
  uint64_t all = 1469598103934665603ull;
  for (uint64_t x : h)
    all = (all ^ x) * 1099511628211ull;
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(all));
  return buf;
}

}  // namespace nagbench
