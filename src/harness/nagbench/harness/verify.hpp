#pragma once
// The correctness check every run ends with: the parameters and state arrays after all steps, compared with a
// float64 host replay of the same steps: the workload's reference gradients (averaged over ranks) fed to the
// update rule's reference step (optim/<rule>/reference.hpp). The replay rounds what it stores to the layout's
// storage types (p to bf16 in bf16 layouts, the fp32 master, ...) at the same points as the kernels, so the
// only differences left are float-vs-double arithmetic; tolerances follow from that (docs/metrics.md).
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

#include "nagbench/optim/arena.hpp"
#include "nagbench/optim/bf16.hpp"
#include "nagbench/optim/optimizer.hpp"
#include "nagbench/workload/workload.hpp"

namespace nagbench {

struct VerifyResult {
  std::string mode = "off";  // off | full | sample
  bool passed = false;
  int64_t checked = 0;     // elements compared (each compares p, and the states / master where present)
  int64_t mismatches = 0;  // elements outside tolerance (NaN included)
  double worst_ratio = 0;  // largest |got - want| / tolerance seen
  int64_t worst_index = -1;
  std::string worst_what;  // "p", "master" or the state array's name
  double worst_got = 0, worst_want = 0;
  std::string params_hash;  // bits of the checked parameters, comparable across runs
};

// What a replay needs: the rule's hyper-parameters, how many ranks' gradients are averaged, how many steps
// ran.
template <class Opt>
struct VerifySpec {
  typename Opt::Hyper hyper;
  int ranks = 1;
  int64_t steps = 0;  // steps applied, the first (state-creating) one included
  std::string mode = "auto";
  int64_t sample_budget = int64_t(1) << 20;  // element-steps budget / steps, for mode "sample"/"auto"
};

// Arena indices to check: every element ("full"), or every tensor's first and last 16 elements plus an even
// stride through the arena ("sample"). "auto" picks full when it costs at most 2^26 element-steps.
std::vector<int64_t> verification_indices(const ArenaLayout& layout, const std::string& requested_mode,
                                          int64_t steps, int64_t sample_budget, std::string* mode);

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

// The reference value of element i after `steps` steps of `spec`, rounded as the layout stores it.
template <class Opt, class Layout>
ReferenceState replay_element(const VerifySpec<Opt>& spec, const ReplaySource& src, int64_t i) {
  using P = typename Layout::param_t;
  using S = typename Layout::state_t;
  using C = typename Layout::compute_t;
  constexpr bool narrow_p = !Layout::has_master && sizeof(P) < sizeof(C);
  const double step_error = narrow_p ? 4.0 * detail::unit_roundoff<C>() *
                                           (Opt::error_bounds(spec.hyper).step * src.gradient_bound())
                                     : 0.0;
  ReferenceState s;
  s.p = src.initial_param(i);
  for (int64_t step = 0; step < spec.steps; ++step) {
    double g = 0;
    for (int r = 0; r < spec.ranks; ++r)
      g += src.gradient(r, step, i);
    g /= spec.ranks;
    Opt::reference_step(spec.hyper, s, g, step);
    if (narrow_p) {
      // p stored in bf16 and fed back: where the update lands within the compute type's error of a rounding
      // boundary, the device may round the other way, and the unit it moved by stays in the trajectory (an
      // update that hovers near half a bf16 unit can tip at many steps).
      const double e = step_error + 4.0 * detail::unit_roundoff<C>() * std::fabs(s.p);
      if (detail::round_to<P>(s.p - e) != detail::round_to<P>(s.p + e)) ++s.ambiguous_roundings;
    }
    s.p = Layout::has_master ? detail::round_to_float(s.p) : detail::round_to<P>(s.p);
    for (int k = 0; k < kMaxStates; ++k)
      s.s[k] = detail::round_to<S>(s.s[k]);
  }
  return s;
}

// Compares host copies of the arenas (after spec.steps steps) with the replay at `indices`. `states[k]` is
// state array k (null: not checked, e.g. a sharded rank holds only its slices); check_p selects the
// parameters.
template <class Opt, class Layout>
VerifyResult verify_against_reference(const VerifySpec<Opt>& spec, const ReplaySource& src,
                                      const std::vector<int64_t>& indices, const typename Layout::param_t* p,
                                      const float* master,
                                      const std::vector<const typename Layout::state_t*>& states,
                                      bool check_p = true) {
  using P = typename Layout::param_t;
  using Compute = typename Layout::compute_t;
  const auto state_uses = Opt::states(spec.hyper);
  const ErrorBounds bounds = Opt::error_bounds(spec.hyper);
  // Accumulated float-vs-double rounding of the compute type over the steps, scaled by the magnitudes the
  // update combines (|p| and the step's |lr * d|); rounding to bf16 storage adds up to two bf16 units in the
  // last place, and one more for each step whose rounding could have gone either way (replay_element).
  const double u = detail::unit_roundoff<Compute>();
  const double steps = static_cast<double>(spec.steps);
  const double gscale = src.gradient_bound();
  auto tolerance = [&](double want, double magnitude_floor, double step_term, bool bf16_stored) {
    const double mag = std::max(std::fabs(want), magnitude_floor);
    double tol = 4.0 * steps * u * (mag + step_term * gscale);
    if (bf16_stored) tol += 2.0 * detail::unit_roundoff<bf16>() * std::max(std::fabs(want), 1.0 / 64);
    return tol;
  };
  const bool p_in_bf16 = std::is_same<P, bf16>::value;

  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<double> ratio(n, 0.0);
  std::vector<int> which(n, -1);  // -2: master, -1: p, k >= 0: state k
  std::vector<double> got_v(n, 0.0), want_v(n, 0.0);
  Kokkos::parallel_for(
      "nagbench::verify", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n), [&](const int64_t e) {
        const int64_t i = indices[e];
        const ReferenceState s = replay_element<Opt, Layout>(spec, src, i);
        auto check = [&](int what, double got, double want, double tol) {
          const double r =
              std::isfinite(got) ? std::fabs(got - want) / tol : std::numeric_limits<double>::infinity();
          if (!(r <= ratio[e])) {  // NaN-safe: a NaN ratio also lands here
            ratio[e] = std::isnan(r) ? std::numeric_limits<double>::infinity() : r;
            which[e] = what;
            got_v[e] = got;
            want_v[e] = want;
          }
        };
        if (check_p) {
          if (Layout::has_master) {
            check(-2, master[i], s.p, tolerance(s.p, 1.0, bounds.step, false));
            check(-1, to_compute(p[i]), detail::round_to<P>(s.p),
                  tolerance(s.p, 1.0, bounds.step, p_in_bf16));
          } else {
            const double flips = 2.0 * detail::unit_roundoff<bf16>() * std::max(std::fabs(s.p), 1.0 / 64) *
                                 s.ambiguous_roundings;
            check(-1, to_compute(p[i]), s.p, tolerance(s.p, 1.0, bounds.step, p_in_bf16) + flips);
          }
        }
        // In bf16 layouts a state inherits p's bf16 rounding differences (through weight decay, say).
        for (size_t k = 0; k < state_uses.size() && k < states.size(); ++k)
          if (states[k])
            check(int(k), static_cast<double>(states[k][i]), s.s[k],
                  tolerance(s.s[k], 1.0, bounds.state[k], p_in_bf16));
      });
  VerifyResult res;
  res.checked = n;
  for (int64_t e = 0; e < n; ++e) {
    if (ratio[e] > 1.0) ++res.mismatches;
    if (ratio[e] > res.worst_ratio || (res.worst_index < 0 && e == 0)) {
      res.worst_ratio = ratio[e];
      res.worst_index = indices[e];
      res.worst_what = which[e] == -2 ? "master" : (which[e] == -1 ? "p" : state_uses[size_t(which[e])].name);
      res.worst_got = got_v[e];
      res.worst_want = want_v[e];
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
                         const auto* q = reinterpret_cast<const unsigned char*>(data + pieces[k].first);
                         uint64_t x = 1469598103934665603ull;
                         for (size_t i = 0; i < size_t(pieces[k].second) * sizeof(T); ++i)
                           x = (x ^ q[i]) * 1099511628211ull;
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
