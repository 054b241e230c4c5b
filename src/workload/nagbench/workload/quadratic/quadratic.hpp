#pragma once
// The quadratic workload: f(w) = 1/2 sum_i a_i (w_i - w*_i)^2 over any number of parameters (a tensor list,
// so it scales to billions of parameters and works with buckets), with curvatures log-uniform over [mu, L]:
// a_i = mu kappa^u_i, u_i uniform in [0, 1), the first element at mu and the last at L = kappa mu, so the
// condition number is exactly the problem's kappa. The optimum w* and the initial error w_0 - w* come from
// counter-based random numbers (core/random.hpp), so nothing is stored but the arenas: any element can be
// recomputed on any rank, backend or the host.
//
// Each rank holds its share of the objective: rank r's curvatures are a_i (1 + spread s_r v_i) with s_r = +1
// and -1 for the two ranks of a pair (ranks 2j, 2j+1; a last unpaired rank has s = 0) and v_i in [-1, 1)
// drawn per pair, so the ranks' curvatures average to a_i exactly and the average of the rank gradients is
// the exact full gradient, while every rank's gradient differs (the reduction matters).
//
// Theory: every coordinate evolves by its own linear recurrence under GD, heavy ball, Nesterov 1983 (constant
// beta or the t_k schedule) and SGD with momentum, so the relative gap (f_k - f*) / (f_0 - f*) is predicted
// exactly (up to float64 rounding) by running those recurrences on the generated spectrum: theory_curve().
#include <Kokkos_Core.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/random.hpp"
#include "nagbench/workload/problem.hpp"
#include "nagbench/workload/workload.hpp"

namespace nagbench::quadratic {

inline constexpr uint64_t kCurvatureKind = 11, kOptimumKind = 12, kInitialKind = 13, kRankKind = 14;

struct Problem {
  int64_t size = 1 << 20;  // parameters
  int64_t tensors = 4;     // split into this many tensors of (nearly) equal size
  double kappa = 100;      // L / mu >= 1
  double mu = 1;           // smallest curvature > 0
  double spread = 0.5;     // per-rank curvature spread, 0 <= spread < 1
  double init_scale = 1;   // |w_0 - w*| <= init_scale per coordinate
  uint64_t seed = 0;

  static Problem from_spec(const WorkloadSpec& spec) {
    ProblemReader r(spec.problem, spec.problem_source.empty() ? "(none)" : spec.problem_source);
    r.only({"size", "tensors", "kappa", "mu", "spread", "init_scale"});
    Problem p;
    p.size = r.integer("size", p.size, 1, int64_t(1) << 40);
    if (spec.params_override > 0) p.size = spec.params_override;
    p.tensors = r.integer("tensors", p.tensors, 1, 100000);
    if (p.tensors > p.size) p.tensors = p.size;
    if (r.has("kappa")) {
      const auto& v = spec.problem.at("kappa");
      if (v.is_number() && v.get<double>() < 1)
        throw InputError("problem file '" + spec.problem_source + "': 'kappa' must be >= 1 (got " + v.dump() +
                         "): it is L / mu, the condition number");
    }
    p.kappa = r.number("kappa", p.kappa, 1, 1e12);
    p.mu = r.number("mu", p.mu, 1e-12, 1e12);
    p.spread = r.number("spread", p.spread, 0, 0.99);
    p.init_scale = r.number("init_scale", p.init_scale, 1e-12, 1e6);
    p.seed = spec.seed;
    return p;
  }
  std::vector<int64_t> tensor_sizes() const {
    std::vector<int64_t> n;
    for (int64_t t = 0; t < tensors; ++t)
      n.push_back(size / tensors + (t < size % tensors ? 1 : 0));
    return n;
  }
};

// Element i's constants, computed the same way on every backend and the host.
struct Coefficients {
  uint64_t curvature, optimum, initial, pair;
  double mu, log_kappa, spread, init_scale, sign;
  int64_t last;  // index of the element pinned at L

  Coefficients(const Problem& p, int rank, int ranks)
      : curvature(random_stream(p.seed, RandomKind(kCurvatureKind))),
        optimum(random_stream(p.seed, RandomKind(kOptimumKind))),
        initial(random_stream(p.seed, RandomKind(kInitialKind))),
        pair(random_stream(p.seed, RandomKind(kRankKind), uint64_t(rank / 2))),
        mu(p.mu),
        log_kappa(std::log(p.kappa)),
        spread(p.spread),
        init_scale(p.init_scale),
        sign((rank % 2 == 1) ? -1.0 : (rank + 1 < ranks ? 1.0 : 0.0)),
        last(p.size - 1) {}

  KOKKOS_INLINE_FUNCTION double a(int64_t i) const {
    double u = 0.5 * (double(random_value(curvature, i)) + 1.0);
    if (i == 0) u = 0;
    if (i == last && last > 0) u = 1;
    return mu * kmath::exp(u * log_kappa);
  }
  KOKKOS_INLINE_FUNCTION double a_rank(int64_t i) const {
    return a(i) * (1.0 + spread * sign * double(random_value(pair, i)));
  }
  KOKKOS_INLINE_FUNCTION double w_star(int64_t i) const { return double(random_value(optimum, i)); }
  KOKKOS_INLINE_FUNCTION double e0(int64_t i) const { return init_scale * double(random_value(initial, i)); }
};

// The tensors as (arena offset, global index of their first element, length).
struct Piece {
  int64_t offset, first, numel;
};
inline std::vector<Piece> pieces_of(const ArenaLayout& layout) {
  std::vector<Piece> out;
  int64_t first = 0;
  for (const auto& s : layout.tensors) {
    out.push_back({s.offset, first, s.numel});
    first += s.numel;
  }
  return out;
}

template <class Exec, class Layout>
class QuadraticWorkload final : public Workload<Exec, Layout> {
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using Policy = Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>;

 public:
  QuadraticWorkload(const Problem& p, const ProcessInfo& proc)
      : p_(p), rank_(proc.rank), ranks_(proc.size), layout_(ArenaLayout::for_sizes(p.tensor_sizes())) {}

  void initialize(const Exec& exec, const ArenaPointers<Layout>& arena, const ArenaLayout&) override {
    const Coefficients c(p_, rank_, ranks_);
    for (const Piece& t : pieces_of(layout_)) {
      P* p = arena.p + t.offset;
      const int64_t first = t.first;
      Kokkos::parallel_for(
          "nagbench::quadratic::init", Policy(exec, 0, t.numel),
          KOKKOS_LAMBDA(const int64_t j) { p[j] = P(c.w_star(first + j) + c.e0(first + j)); });
    }
  }

  void produce_gradients(const Exec& exec, const ArenaPointers<Layout>& arena, int64_t /*step*/,
                         const std::vector<GradientRange>& ranges,
                         const std::function<void(int)>& ready) override {
    const Coefficients c(p_, rank_, ranks_);
    for (size_t k = 0; k < ranges.size(); ++k) {
      for (const Piece& t : pieces_of(layout_)) {
        const int64_t b = std::max(ranges[k].begin, t.offset),
                      e = std::min(ranges[k].end, t.offset + t.numel);
        if (b >= e) continue;
        const P* p = arena.p;
        G* g = arena.g;
        const int64_t shift = t.first - t.offset;  // global index = arena offset + shift
        Kokkos::parallel_for(
            "nagbench::quadratic::gradient", Policy(exec, b, e), KOKKOS_LAMBDA(const int64_t i) {
              const int64_t gi = i + shift;
              g[i] = G(c.a_rank(gi) * (double(p[i]) - c.w_star(gi)));
            });
      }
      ready(static_cast<int>(k));
    }
  }

  bool has_objective() const override { return true; }
  double known_optimum() const override { return 0.0; }

  LossParts evaluate(const Exec& exec, const P* params, Split) override {
    const Coefficients c(p_, rank_, ranks_);
    // Rank r sums the coordinates of its slice of the global index range; rank 0 counts the one "sample".
    const int64_t lo = p_.size * rank_ / ranks_, hi = p_.size * (rank_ + 1) / ranks_;
    double total = 0;
    for (const Piece& t : pieces_of(layout_)) {
      const int64_t b = std::max(lo, t.first), e = std::min(hi, t.first + t.numel);
      if (b >= e) continue;
      const int64_t shift = t.offset - t.first;  // arena offset = global index + shift
      double part = 0;
      Kokkos::parallel_reduce(
          "nagbench::quadratic::loss", Policy(exec, b, e),
          KOKKOS_LAMBDA(const int64_t gi, double& acc) {
            const double d = double(params[gi + shift]) - c.w_star(gi);
            acc += 0.5 * c.a(gi) * d * d;
          },
          part);
      total += part;
    }
    exec.fence();
    LossParts out;
    out.loss_sum = total;
    out.count = rank_ == 0 ? 1 : 0;
    return out;
  }

  std::string check_gradient(const Exec& /*exec*/, const ArenaPointers<Layout>& arena, int64_t) override {
    // A sample of every tensor: g = a_r (p - w*) recomputed on the host in float64, from the device's p.
    const Coefficients c(p_, rank_, ranks_);
    const double u = sizeof(G) == 4 ? 5.96e-8 : 1.12e-16;
    for (size_t ti = 0; ti < layout_.tensors.size(); ++ti) {
      const Piece t = pieces_of(layout_)[ti];
      const int64_t n = t.numel, samples = std::min<int64_t>(n, 16);
      for (int64_t s = 0; s < samples; ++s) {
        const int64_t j = samples == n ? s : int64_t(mix64(p_.seed + 977 * s + ti) % uint64_t(n));
        P pv;
        G gv;
        Kokkos::deep_copy(Kokkos::View<P, Kokkos::HostSpace>(&pv),
                          Kokkos::View<const P, typename Exec::memory_space>(arena.p + t.offset + j));
        Kokkos::deep_copy(Kokkos::View<G, Kokkos::HostSpace>(&gv),
                          Kokkos::View<const G, typename Exec::memory_space>(arena.g + t.offset + j));
        const double want = c.a_rank(t.first + j) * (double(pv) - c.w_star(t.first + j));
        // a and exp are computed in double on both sides (differences of a few ulps of double); the
        // stored gradient is rounded once to G.
        const double tol = 2 * u * std::abs(want) + 1e-13 * (std::abs(want) + c.mu * std::exp(c.log_kappa));
        if (!(std::abs(double(gv) - want) <= tol))
          return "quadratic gradient of tensor " + std::to_string(ti) + " element " + std::to_string(j) +
                 ": " + std::to_string(double(gv)) + " (float64 reference " + std::to_string(want) + ")";
      }
    }
    return "";
  }

  std::vector<double> theory_curve(const Exec& exec, const std::string& optimizer, const nlohmann::json& h,
                                   int64_t iterations, double stop_below = 0) override;

  nlohmann::json describe() const override {
    return {{"problem", "quadratic"},
            {"size", p_.size},
            {"tensors", p_.tensors},
            {"kappa", p_.kappa},
            {"mu", p_.mu},
            {"L", p_.mu * p_.kappa},
            {"spread", p_.spread},
            {"init_scale", p_.init_scale},
            {"optimum", 0.0}};
  }

 private:
  Problem p_;
  int rank_, ranks_;
  ArenaLayout layout_;
};

// Theory (see the top of this file): per-coordinate recurrences in float64 on the workload's execution
// space, on the averaged curvatures a_i, the loss taken where theory measures it (Nesterov 1983: at x_k).
template <class Exec, class Layout>
std::vector<double> QuadraticWorkload<Exec, Layout>::theory_curve(const Exec& exec, const std::string& opt,
                                                                  const nlohmann::json& h, int64_t iterations,
                                                                  double stop_below) {
  // Plain ints: nvcc refuses types local to the function in what a device lambda captures.
  constexpr int gd = 0, heavy_ball = 1, nesterov1983 = 2, sgd_momentum = 3;
  int m = gd;
  const auto num = [&](const char* k, double d) { return h.contains(k) ? h.at(k).get<double>() : d; };
  const auto flag = [&](const char* k) { return h.contains(k) && h.at(k).get<bool>(); };
  double lr = num("lr", 0), beta = num("beta", 0), mom = num("momentum", 0);
  const bool schedule = flag("schedule");
  bool nesterov = false;
  if (opt == "gd") {
    m = gd;
  } else if (opt == "heavy_ball") {
    m = heavy_ball;
  } else if (opt == "nesterov1983") {
    m = nesterov1983;
  } else if (opt == "sgd") {
    if (num("weight_decay", 0) != 0 || num("dampening", 0) != 0 || flag("maximize")) return {};
    m = sgd_momentum;
    nesterov = flag("nesterov");
  } else {
    return {};
  }
  using Mem = typename Exec::memory_space;
  const int64_t n = p_.size;
  Kokkos::View<double*, Mem> e(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::theory_e"), n);
  Kokkos::View<double*, Mem> z(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::theory_z"), n);
  const Coefficients c(p_, 0, 1);
  const Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>> all(exec, 0, n);
  double f0 = 0;
  Kokkos::parallel_reduce(
      "nagbench::quadratic::theory_init", all,
      KOKKOS_LAMBDA(const int64_t i, double& acc) {
        e(i) = c.e0(i);
        z(i) = c.e0(i);  // heavy ball: e_{-1} = e_0; Nesterov: x_0 = y_0; SGD: the buffer, set at step 0
        acc += 0.5 * c.a(i) * e(i) * e(i);
      },
      f0);
  std::vector<double> out = {1.0};
  double t = 1;
  for (int64_t k = 0; k < iterations; ++k) {
    double b = beta;
    if (m == nesterov1983 && schedule) {
      const double t_next = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
      b = (t - 1) / t_next;
      t = t_next;
    }
    const bool first = k == 0;
    double f = 0;
    Kokkos::parallel_reduce(
        "nagbench::quadratic::theory_step", all,
        KOKKOS_LAMBDA(const int64_t i, double& acc) {
          const double a = c.a(i);
          double measured = 0;
          if (m == gd) {
            e(i) = e(i) - lr * a * e(i);
            measured = e(i);
          } else if (m == heavy_ball) {
            const double next = e(i) - lr * a * e(i) + b * (e(i) - z(i));
            z(i) = e(i);
            e(i) = next;
            measured = next;
          } else if (m == nesterov1983) {  // e = y (look-ahead), z = x
            const double x_next = e(i) - lr * a * e(i);
            e(i) = x_next + b * (x_next - z(i));
            z(i) = x_next;
            measured = x_next;
          } else {  // torch.optim.SGD with momentum: z = buffer
            const double g = a * e(i);
            z(i) = first ? g : mom * z(i) + g;
            const double d = nesterov ? g + mom * z(i) : z(i);
            e(i) = e(i) - lr * d;
            measured = e(i);
          }
          acc += 0.5 * a * measured * measured;
        },
        f);
    out.push_back(f0 > 0 ? f / f0 : 0.0);
    if (!(f <= 1e300)) break;  // diverged: the rest is meaningless
    if (stop_below > 0 && out.back() < stop_below) break;
  }
  return out;
}

// The plug-in.
struct Quadratic {
  static constexpr const char* kName = "quadratic";
  static constexpr const char* kSummary =
      "1/2 sum a_i (w_i - w*_i)^2, curvatures log-uniform over [mu, L] (condition number kappa), known "
      "optimum; theory predicts every iteration (--problem quadratic_k1e2, quadratic_k1e4)";
  static std::vector<int64_t> tensor_sizes(const WorkloadSpec& spec) {
    return Problem::from_spec(spec).tensor_sizes();
  }
  template <class Exec, class Layout>
  static std::unique_ptr<Workload<Exec, Layout>> make(const WorkloadSpec& spec, const ProcessInfo& proc) {
    // Real workloads compute in the parameters' own type: fp32 and fp64 (the train run kind checks it first).
    if constexpr (std::is_same<typename Layout::param_t, typename Layout::compute_t>::value &&
                  !Layout::has_master) {
      return std::make_unique<QuadraticWorkload<Exec, Layout>>(Problem::from_spec(spec), proc);
    } else {
      throw InputError(std::string(kName) + " runs in fp32 or fp64");
    }
  }
  template <class Layout>
  static std::unique_ptr<ReplaySource> replay(const WorkloadSpec&) {
    return nullptr;
  }
};

}  // namespace nagbench::quadratic
