#pragma once
// The logreg workload: L2-regularised logistic regression,
//   f(w, b) = 1/n sum_i log(1 + exp(-y_i (x_i . w + b))) + lambda/2 ||w||^2,   y_i in {-1, +1},
// strongly convex for lambda > 0 (a unique optimum, which the tests compare with SciPy's L-BFGS). Data: a
// real data set (scikit-learn's breast_cancer, standardised, with a held-out test split; data/dataset.hpp) or
// a synthetic one of any size generated on the device from a planted w* with counter-based random numbers
// keyed by the global sample index (the same data whatever the rank count). The gradient goes through two
// GEMVs on the step's batch: z = X_b^T w, then grad_w = X_b r with r_i = -y_i sigmoid(-y_i z_i)
// (linalg/linalg.hpp: cuBLAS on the workload's own stream on GPUs, Kokkos Kernels on hosts).
//
// Parameters: two tensors, w (features) and b (1).
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/random.hpp"
#include "nagbench/workload/batches.hpp"
#include "nagbench/workload/data/dataset.hpp"
#include "nagbench/workload/linalg/linalg.hpp"
#include "nagbench/workload/problem.hpp"
#include "nagbench/workload/workload.hpp"

namespace nagbench::logreg {

inline constexpr uint64_t kFeatureKind = 21, kLabelKind = 22, kPlantedKind = 23;

struct Problem {
  std::string data = "breast_cancer";  // breast_cancer | synthetic
  double lambda = 1e-2;
  double test_fraction = 0.2;
  int64_t samples = 0;   // synthetic: training samples
  int64_t features = 0;  // synthetic: features
  int64_t test_samples = 0;
  uint64_t seed = 0;
  std::string data_dir;
  std::string source;

  static Problem from_spec(const WorkloadSpec& spec) {
    const std::string where = spec.problem_source.empty() ? "(none)" : spec.problem_source;
    ProblemReader r(spec.problem, where);
    r.only({"data", "lambda", "test_fraction", "samples", "features", "test_samples"});
    Problem p;
    p.data = r.text("data", p.data, {"breast_cancer", "synthetic"});
    if (r.has("lambda") && spec.problem.at("lambda").is_number() &&
        spec.problem.at("lambda").get<double>() < 0)
      throw InputError("problem file '" + where + "': 'lambda' must be >= 0 (got " +
                       spec.problem.at("lambda").dump() + ")");
    p.lambda = r.number("lambda", p.lambda, 0, 1e6);
    p.test_fraction = r.number("test_fraction", p.test_fraction, 0, 0.9);
    if (p.data == "synthetic") {
      p.samples = r.integer("samples", 1 << 20, 1, int64_t(1) << 40);
      p.features = r.integer("features", 256, 1, 1 << 20);
      p.test_samples = r.integer("test_samples", 1 << 14, 0, int64_t(1) << 30);
    } else if (r.has("samples") || r.has("features") || r.has("test_samples")) {
      throw InputError("problem file '" + where +
                       "': 'samples', 'features' and 'test_samples' are for data: synthetic");
    }
    p.seed = spec.seed;
    p.data_dir = spec.data_dir;
    p.source = where;
    return p;
  }
};

// The real data set, split and standardised, the same on every rank (host side).
struct HostData {
  data::Dataset train, test;
};
inline HostData load_real(const Problem& p) {
  HostData h;
  const data::Dataset all = data::load(p.data, p.data_dir);
  if (all.classes != 2)
    throw InputError("logreg needs a two-class data set (" + p.data + " has " + std::to_string(all.classes) +
                     ")");
  data::split(all, p.test_fraction, p.seed, h.train, h.test);
  data::standardize(h.train, h.test);
  return h;
}

inline int64_t feature_count(const Problem& p) {
  if (p.data == "synthetic") return p.features;
  // Known without reading the file for the shipped data set (breast_cancer: 30 features); read otherwise.
  return p.data == "breast_cancer" ? 30 : data::load(p.data, p.data_dir).features;
}

template <class Exec, class Layout>
class LogregWorkload final : public Workload<Exec, Layout> {
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using Mem = typename Exec::memory_space;
  using Policy = Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>;
  template <class T>
  using DView = Kokkos::View<T*, Mem>;

 public:
  LogregWorkload(const Problem& p, const WorkloadSpec& spec, const ProcessInfo& proc)
      : p_(p), rank_(proc.rank), ranks_(proc.size), blas_(spec.tf32) {
    if (p_.data == "synthetic") {
      features_ = p_.features;
      train_n_ = p_.samples;
      test_n_ = p_.test_samples;
    } else {
      host_ = load_real(p_);
      features_ = host_.train.features;
      train_n_ = host_.train.samples;
      test_n_ = host_.test.samples;
      train_x_ = upload_x(host_.train);
      train_y_ = upload_y(host_.train);
      test_x_ = upload_x(host_.test);
      test_y_ = upload_y(host_.test);
    }
    schedule_ = std::make_unique<BatchSchedule>(train_n_, spec.batch_size, rank_, ranks_, p_.seed);
    layout_ = ArenaLayout::for_sizes({features_, 1});
    batch_capacity_ = std::max<int64_t>(schedule_->local_batch(), 1);
    alloc_batch(std::max<int64_t>(batch_capacity_, kEvalChunk));
  }

  void initialize(const Exec& exec, const ArenaPointers<Layout>& arena, const ArenaLayout&) override {
    // w = 0 and b = 0 (the usual start; the objective is strictly convex, so the start does not matter).
    P* p = arena.p;
    const int64_t wb = layout_.tensors[0].offset, n = features_, bo = layout_.tensors[1].offset;
    Kokkos::parallel_for(
        "nagbench::logreg::init", Policy(exec, 0, n + 1),
        KOKKOS_LAMBDA(const int64_t i) { p[i < n ? wb + i : bo] = P(0); });
  }

  void produce_gradients(const Exec& exec, const ArenaPointers<Layout>& arena, int64_t step,
                         const std::vector<GradientRange>& ranges,
                         const std::function<void(int)>& ready) override {
    const std::vector<int64_t> idx = schedule_->indices(step);
    const int64_t m = static_cast<int64_t>(idx.size());
    load_batch(exec, idx, Split::train);
    const P scale = P(double(ranks_) / double(schedule_->global_batch()));
    gradient_on_batch(exec, arena.p, arena.g, m, scale);
    for (size_t k = 0; k < ranges.size(); ++k)
      ready(static_cast<int>(k));
  }

  bool has_objective() const override { return true; }
  bool has_test_split() const override { return test_n_ > 0; }
  bool is_classifier() const override { return true; }
  int64_t samples_per_step() const override { return schedule_->local_batch(); }
  int64_t global_samples_per_step() const override { return schedule_->global_batch(); }
  int64_t steps_per_epoch() const override { return schedule_->steps_per_epoch(); }

  LossParts evaluate(const Exec& exec, const P* params, Split split) override {
    const int64_t n_all =
        split == Split::train ? std::min(train_n_, eval_cap()) : std::min(test_n_, eval_cap());
    const int64_t lo = n_all * rank_ / ranks_, hi = n_all * (rank_ + 1) / ranks_;
    LossParts out;
    const int64_t wo = layout_.tensors[0].offset, bo = layout_.tensors[1].offset;
    for (int64_t c = lo; c < hi; c += kEvalChunk) {
      const int64_t m = std::min(kEvalChunk, hi - c);
      std::vector<int64_t> idx(static_cast<size_t>(m));
      for (int64_t i = 0; i < m; ++i)
        idx[size_t(i)] = c + i;
      load_batch(exec, idx, split);
      margins(exec, params, m);
      auto z = z_;
      auto y = yb_;
      double loss = 0, correct = 0;
      Kokkos::parallel_reduce(
          "nagbench::logreg::loss", Policy(exec, 0, m),
          KOKKOS_LAMBDA(const int64_t i, double& l, double& ok) {
            const double t = -double(y(i)) * double(z(i));
            l += t > 0 ? t + kmath::log1p(kmath::exp(-t)) : kmath::log1p(kmath::exp(t));  // softplus(t)
            ok += t < 0 ? 1.0 : 0.0;
          },
          loss, correct);
      out.loss_sum += loss;
      out.correct += correct;
      out.count += m;
    }
    double wsq = 0;
    const int64_t n = features_;
    Kokkos::parallel_reduce(
        "nagbench::logreg::wnorm", Policy(exec, 0, n),
        KOKKOS_LAMBDA(const int64_t j, double& acc) {
          acc += double(params[wo + j]) * double(params[wo + j]);
        },
        wsq);
    exec.fence();
    (void)bo;
    out.regularizer = 0.5 * p_.lambda * wsq;
    return out;
  }

  std::string check_gradient(const Exec& exec, const ArenaPointers<Layout>& arena, int64_t step) override {
    // The whole gradient of this rank's batch recomputed on the host in float64 from the same (stored)
    // inputs, with the sum of |terms| for the tolerance: a sum of m terms rounded in type P errs by at most
    // gamma_m sum|terms|, gamma_m = m u / (1 - m u), plus the GEMV's own reordering (the same bound).
    exec.fence();
    const std::vector<int64_t> idx = schedule_->indices(step);
    const int64_t m = static_cast<int64_t>(idx.size()), F = features_;
    load_batch(exec, idx, Split::train);
    exec.fence();
    auto xb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), xb_);
    auto yb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), yb_);
    std::vector<P> p(size_t(layout_.length)), g(size_t(layout_.length));
    Kokkos::deep_copy(Kokkos::View<P*, Kokkos::HostSpace>(p.data(), p.size()),
                      Kokkos::View<const P*, Mem>(arena.p, p.size()));
    Kokkos::deep_copy(Kokkos::View<G*, Kokkos::HostSpace>(g.data(), g.size()),
                      Kokkos::View<const G*, Mem>(arena.g, g.size()));
    const int64_t wo = layout_.tensors[0].offset, bo = layout_.tensors[1].offset;
    const double scale = double(P(double(ranks_) / double(schedule_->global_batch())));
    std::vector<double> r(static_cast<size_t>(m)), rabs(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) {
      double z = p[size_t(bo)], zabs = std::abs(double(p[size_t(bo)]));
      for (int64_t j = 0; j < F; ++j) {
        z += double(xb(i * F + j)) * double(p[size_t(wo + j)]);
        zabs += std::abs(double(xb(i * F + j)) * double(p[size_t(wo + j)]));
      }
      const double y = double(yb(i));
      const double sig = 1.0 / (1.0 + std::exp(y * z));  // sigmoid(-y z)
      r[size_t(i)] = -y * sig * scale;
      // d sigmoid / dz <= 1/4: an error e in z moves r by at most e/4.
      rabs[size_t(i)] =
          std::abs(r[size_t(i)]) + 0.25 * scale * gamma(F + 2) * zabs + gamma(4) * std::abs(scale);
    }
    const auto check = [&](const char* what, int64_t j, double want, double tol, double got) -> std::string {
      if (std::abs(got - want) <= tol) return "";
      return std::string("logreg gradient of ") + what + " element " + std::to_string(j) + ": " +
             std::to_string(got) + " (float64 reference " + std::to_string(want) + ", tolerance " +
             std::to_string(tol) + ")";
    };
    for (int64_t j = 0; j < F; ++j) {
      double want = 0, abs_sum = 0;
      for (int64_t i = 0; i < m; ++i) {
        want += double(xb(i * F + j)) * r[size_t(i)];
        abs_sum += std::abs(double(xb(i * F + j))) * rabs[size_t(i)];
      }
      want += p_.lambda * double(p[size_t(wo + j)]);
      abs_sum += std::abs(p_.lambda * double(p[size_t(wo + j)]));
      const std::string bad =
          check("w", j, want, 2 * gamma(m + 2) * abs_sum + 1e-300, double(g[size_t(wo + j)]));
      if (!bad.empty()) return bad;
    }
    double want = 0, abs_sum = 0;
    for (int64_t i = 0; i < m; ++i) {
      want += r[size_t(i)];
      abs_sum += rabs[size_t(i)];
    }
    return check("b", 0, want, 2 * gamma(m + 2) * abs_sum + 1e-300, double(g[size_t(bo)]));
  }

  nlohmann::json describe() const override {
    return {{"problem", "logreg"},
            {"data", p_.data},
            {"lambda", p_.lambda},
            {"features", features_},
            {"train_samples", train_n_},
            {"test_samples", test_n_},
            {"evaluated_samples_cap", eval_cap()},
            {"batch_per_rank", schedule_->local_batch()},
            {"global_batch", schedule_->global_batch()},
            {"source", p_.data == "synthetic" ? "generated" : host_.train.source}};
  }

  // Public only because nvcc requires the functions that enclose device lambdas to be public.
  static constexpr int64_t kEvalChunk = 4096;
  static double gamma(int64_t n) {
    const double u = sizeof(P) == 4 ? 5.96e-8 : 1.12e-16;
    return double(n) * u / (1 - double(n) * u);
  }
  int64_t eval_cap() const { return p_.data == "synthetic" ? int64_t(1) << 18 : int64_t(1) << 62; }

  DView<P> upload_x(const data::Dataset& d) {
    DView<P> v(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::logreg::x"),
               size_t(std::max<int64_t>(d.samples * d.features, 1)));
    auto h = Kokkos::create_mirror_view(v);
    for (size_t i = 0; i < d.x.size(); ++i)
      h(i) = P(d.x[i]);
    Kokkos::deep_copy(v, h);
    return v;
  }
  DView<P> upload_y(const data::Dataset& d) {
    DView<P> v(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::logreg::y"),
               size_t(std::max<int64_t>(d.samples, 1)));
    auto h = Kokkos::create_mirror_view(v);
    for (int64_t i = 0; i < d.samples; ++i)
      h(i) = d.label[size_t(i)] == 1 ? P(1) : P(-1);
    Kokkos::deep_copy(v, h);
    return v;
  }
  void alloc_batch(int64_t cap) {
    cap_ = cap;
    xb_ = DView<P>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::logreg::xb"),
                   size_t(cap * features_));
    yb_ = DView<P>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::logreg::yb"), size_t(cap));
    z_ = DView<P>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::logreg::z"), size_t(cap));
    idx_ =
        DView<int64_t>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "nagbench::logreg::idx"), size_t(cap));
    idx_host_ = Kokkos::View<int64_t*, Kokkos::HostSpace>("nagbench::logreg::idx_host", size_t(cap));
  }

  // The rows `idx` of the split into xb (features x m, column-major: sample i's features contiguous) and yb.
  void load_batch(const Exec& exec, const std::vector<int64_t>& idx, Split split) {
    const int64_t m = static_cast<int64_t>(idx.size()), F = features_;
    if (m > cap_) throw RunError("logreg: internal batch buffer too small");
    exec.fence();  // the previous use of the index buffer is complete
    for (int64_t i = 0; i < m; ++i)
      idx_host_(i) = idx[size_t(i)];
    Kokkos::deep_copy(exec, idx_, idx_host_);
    auto xb = xb_;
    auto yb = yb_;
    auto id = idx_;
    if (p_.data == "synthetic") {
      // Sample s (global index; test samples follow the training ones) from counter-based numbers; its
      // label is +1 with probability sigmoid(x . w*), w*_j uniform in [-2, 2) / sqrt(F).
      const uint64_t fs = random_stream(p_.seed, RandomKind(kFeatureKind)),
                     ls = random_stream(p_.seed, RandomKind(kLabelKind)),
                     ws = random_stream(p_.seed, RandomKind(kPlantedKind));
      const int64_t base = split == Split::train ? 0 : train_n_;
      const double wscale = 2.0 / std::sqrt(double(F));
      Kokkos::parallel_for(
          "nagbench::logreg::generate", Policy(exec, 0, m), KOKKOS_LAMBDA(const int64_t i) {
            const int64_t s = id(i) + base;
            double dot = 0;
            for (int64_t j = 0; j < F; ++j) {
              const double x = double(random_value(fs, s * F + j));
              xb(i * F + j) = P(x);
              dot += x * wscale * double(random_value(ws, j));
            }
            const double u = 0.5 * (double(random_value(ls, s)) + 1.0);
            yb(i) = u < 1.0 / (1.0 + kmath::exp(-dot)) ? P(1) : P(-1);
          });
    } else {
      auto x = split == Split::train ? train_x_ : test_x_;
      auto y = split == Split::train ? train_y_ : test_y_;
      Kokkos::parallel_for(
          "nagbench::logreg::gather", Policy(exec, 0, m), KOKKOS_LAMBDA(const int64_t i) {
            const int64_t s = id(i);
            for (int64_t j = 0; j < F; ++j)
              xb(i * F + j) = x(s * F + j);
            yb(i) = y(s);
          });
    }
  }

  // z = X_b^T w + b for the m loaded samples.
  void margins(const Exec& exec, const P* params, int64_t m) {
    const int64_t wo = layout_.tensors[0].offset, bo = layout_.tensors[1].offset;
    linalg::gemv(exec, blas_, linalg::Trans::yes, features_, m, P(1), xb_.data(), features_, params + wo,
                 P(0), z_.data());
    auto z = z_;
    Kokkos::parallel_for(
        "nagbench::logreg::bias", Policy(exec, 0, m), KOKKOS_LAMBDA(const int64_t i) { z(i) += params[bo]; });
  }

  void gradient_on_batch(const Exec& exec, const P* params, G* g, int64_t m, P scale) {
    const int64_t wo = layout_.tensors[0].offset, bo = layout_.tensors[1].offset, F = features_;
    margins(exec, params, m);
    auto z = z_;
    auto y = yb_;
    // r_i = -y_i sigmoid(-y_i z_i) * scale, in place of z.
    Kokkos::parallel_for(
        "nagbench::logreg::residual", Policy(exec, 0, m),
        KOKKOS_LAMBDA(const int64_t i) { z(i) = -y(i) * (P(1) / (P(1) + kmath::exp(y(i) * z(i)))) * scale; });
    // grad_w = X_b r + lambda w (the GEMV writes it, then the decay is added).
    linalg::gemv(exec, blas_, linalg::Trans::no, F, m, P(1), xb_.data(), F, z_.data(), P(0), g + wo);
    const P lambda = P(p_.lambda);
    Kokkos::parallel_for(
        "nagbench::logreg::decay", Policy(exec, 0, F),
        KOKKOS_LAMBDA(const int64_t j) { g[wo + j] += lambda * params[wo + j]; });
    // grad_b = sum r: one team, so the sum's order is fixed (bitwise-reproducible runs).
    Kokkos::parallel_for(
        "nagbench::logreg::bias_grad", Kokkos::TeamPolicy<Exec>(exec, 1, Kokkos::AUTO),
        KOKKOS_LAMBDA(const typename Kokkos::TeamPolicy<Exec>::member_type& team) {
          P sum = 0;
          Kokkos::parallel_reduce(
              Kokkos::TeamThreadRange(team, m), [&](const int64_t i, P& acc) { acc += z(i); }, sum);
          Kokkos::single(Kokkos::PerTeam(team), [&]() { g[bo] = sum; });
        });
  }

 private:
  Problem p_;
  int rank_, ranks_;
  linalg::BlasHandle<Exec> blas_;
  HostData host_;
  int64_t features_ = 0, train_n_ = 0, test_n_ = 0, batch_capacity_ = 0, cap_ = 0;
  std::unique_ptr<BatchSchedule> schedule_;
  ArenaLayout layout_;
  DView<P> train_x_, train_y_, test_x_, test_y_, xb_, yb_, z_;
  DView<int64_t> idx_;
  Kokkos::View<int64_t*, Kokkos::HostSpace> idx_host_;  // (HostMirror is gone in Kokkos 5)
};

struct Logreg {
  static constexpr const char* kName = "logreg";
  static constexpr const char* kSummary =
      "L2-regularised logistic regression, gradient through GEMV: breast_cancer (scikit-learn's CSV) or "
      "synthetic at any size (--problem breast_cancer_logreg, logreg_synthetic)";
  static std::vector<int64_t> tensor_sizes(const WorkloadSpec& spec) {
    return {feature_count(Problem::from_spec(spec)), 1};
  }
  template <class Exec, class Layout>
  static std::unique_ptr<Workload<Exec, Layout>> make(const WorkloadSpec& spec, const ProcessInfo& proc) {
    // Real workloads compute in the parameters' own type: fp32 and fp64 (the train run kind checks it first).
    if constexpr (std::is_same<typename Layout::param_t, typename Layout::compute_t>::value &&
                  !Layout::has_master) {
      return std::make_unique<LogregWorkload<Exec, Layout>>(Problem::from_spec(spec), spec, proc);
    } else {
      throw InputError(std::string(kName) + " runs in fp32 or fp64");
    }
  }
  template <class Layout>
  static std::unique_ptr<ReplaySource> replay(const WorkloadSpec&) {
    return nullptr;
  }
};

}  // namespace nagbench::logreg
