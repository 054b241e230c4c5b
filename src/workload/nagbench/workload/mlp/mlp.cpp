#include <algorithm>
#include <cfloat>
#include <cmath>

#include "nagbench/core/errors.hpp"
#include "nagbench/optim/bf16.hpp"
#include "nagbench/workload/mlp/config.hpp"
#include "nagbench/workload/problem.hpp"

namespace nagbench::mlp {

namespace {

// The real data sets' shapes, known without reading them (tensor_sizes runs before any data is loaded; the
// workload checks the loaded set against these).
struct RealShape {
  const char* name;
  int64_t features, classes;
};
constexpr RealShape kRealShapes[] = {{"digits", 64, 10}, {"breast_cancer", 30, 2}};

}  // namespace

Config Config::from_spec(const WorkloadSpec& spec) {
  const std::string where = spec.problem_source.empty() ? "(none)" : spec.problem_source;
  const auto fail = [&](const std::string& key, const std::string& what) {
    throw InputError("problem file '" + where + "': '" + key + "' " + what);
  };
  ProblemReader r(spec.problem, where);
  r.only({"data", "layers", "width", "loss", "test_fraction", "features", "outputs", "samples"});
  Config c;
  c.source = where;
  c.data = r.text("data", c.data, {"digits", "breast_cancer", "synthetic"});
  c.layers = r.integer("layers", c.layers, 1, 10000);
  c.width = r.integer("width", c.width, 1, int64_t(1) << 20);
  c.loss = r.text("loss", c.synthetic() ? "mse" : "cross_entropy", {"mse", "cross_entropy"}) == "mse"
               ? Loss::mse
               : Loss::cross_entropy;
  if (c.synthetic()) {
    if (r.has("test_fraction")) fail("test_fraction", "is for the real data sets (digits, breast_cancer)");
    c.features = r.integer("features", 64, 1, int64_t(1) << 20);
    c.outputs = r.integer("outputs", 10, 1, int64_t(1) << 20);
    c.samples = r.integer("samples", int64_t(1) << 16, 1, int64_t(1) << 40);
    if (c.loss == Loss::cross_entropy && c.outputs < 2)
      fail("outputs", "must be at least 2 for loss: cross_entropy (it is the number of classes)");
  } else {
    for (const char* k : {"features", "outputs", "samples"})
      if (r.has(k)) fail(k, "is for data: synthetic (a real data set has its own)");
    c.test_fraction = r.number("test_fraction", c.test_fraction, 0, 0.9);
    for (const auto& s : kRealShapes)
      if (c.data == s.name) {
        c.features = s.features;
        c.outputs = s.classes;
      }
  }
  return c;
}

std::vector<int64_t> Config::dims() const {
  std::vector<int64_t> d;
  d.push_back(features);
  for (int64_t l = 0; l < layers; ++l)
    d.push_back(width);
  d.push_back(outputs);
  return d;
}

std::vector<int64_t> tensor_sizes(const Config& c) {
  const auto d = c.dims();
  std::vector<int64_t> n;
  for (size_t k = 1; k < d.size(); ++k) {
    if (d[k - 1] > INT64_MAX / d[k])
      throw InputError("problem file '" + c.source + "': a layer is too large");
    n.push_back(d[k - 1] * d[k]);
    n.push_back(d[k]);
  }
  return n;
}

std::string tensor_name(int tensor) {
  return std::string(tensor % 2 == 0 ? "W" : "b") + std::to_string(tensor / 2 + 1);
}

int64_t weight_count(const Config& c) {
  const auto d = c.dims();
  int64_t n = 0;
  for (size_t k = 1; k < d.size(); ++k)
    n += d[k - 1] * d[k];
  return n;
}

double flops_per_sample(const Config& c) {
  const auto d = c.dims();
  double f = 0;
  for (size_t k = 1; k < d.size(); ++k)
    f += (k == 1 ? 4.0 : 6.0) * double(d[k - 1]) * double(d[k]);
  return f;
}

std::vector<int64_t> checked_elements(uint64_t seed, int64_t step, int tensor, int64_t numel) {
  std::vector<int64_t> e;
  if (numel <= 16) {
    for (int64_t i = 0; i < numel; ++i)
      e.push_back(i);
    return e;
  }
  const uint64_t s = random_stream(seed, RandomKind(kCheckKind), uint64_t(tensor), uint64_t(step));
  for (uint64_t m = 0; m < 16; ++m)
    e.push_back(static_cast<int64_t>(mix64(s + m) % uint64_t(numel)));
  return e;
}

SyntheticGen synthetic_gen(const Config& c) {
  SyntheticGen g;
  g.x_stream = random_stream(0, RandomKind(kDataKind));
  g.features = c.features;
  return g;
}

template <class C>
Teacher make_teacher(const Config& c) {
  Teacher t;
  t.terms = static_cast<int>(std::min<int64_t>(kTeacherTerms, c.features));
  const uint64_t js = random_stream(0, RandomKind(kTeacherIndexKind)),
                 as = random_stream(0, RandomKind(kTeacherWeightKind));
  const C scale = static_cast<C>(3.0 / std::sqrt(double(t.terms)));
  const int64_t n = c.outputs * t.terms;
  t.j.resize(size_t(n));
  t.a.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    t.j[size_t(i)] = static_cast<int>(mix64(js + uint64_t(i)) % uint64_t(c.features));
    t.a[size_t(i)] = double(mul_rn(static_cast<C>(random_value(as, i)), scale));
  }
  return t;
}
template Teacher make_teacher<float>(const Config&);
template Teacher make_teacher<double>(const Config&);

namespace {

using HostPolicy = Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace, Kokkos::IndexType<int64_t>>;

// Runs f(i) for i in [0, n): in parallel on the host when the work (n x inner) is worth a parallel region.
template <class F>
void host_for(int64_t n, int64_t inner, const F& f) {
  if (n * inner < (int64_t(1) << 15)) {
    for (int64_t i = 0; i < n; ++i)
      f(i);
  } else {
    Kokkos::parallel_for("nagbench::mlp::reference", HostPolicy(0, n), f);
  }
}

}  // namespace

template <class W>
void reference_gradient(const Config& cfg, const std::vector<Segment>& tensors, const W* params,
                        const RefBatch& batch, double scale, double mse_factor,
                        const std::vector<std::vector<int64_t>>& elements, const Rounding& rd,
                        std::vector<std::vector<double>>& value, std::vector<std::vector<double>>& tol) {
  const auto d = cfg.dims();
  const int K = cfg.linear_layers();
  const double u = rd.u, ui = rd.u_in;
  const auto gam = [&](int64_t n) { return double(n) * u / (1 - double(n) * u); };
  const auto stage = [&](int64_t n) { return gam(n + 1) + 2.01 * ui; };
  const auto w_at = [&](int k, int64_t o, int64_t i) {  // weight[o][i] of Linear k (1-based)
    return double(params[tensors[size_t(2 * (k - 1))].offset + o * d[size_t(k - 1)] + i]);
  };
  const auto b_at = [&](int k, int64_t o) {
    return double(params[tensors[size_t(2 * (k - 1) + 1)].offset + o]);
  };

  const size_t T = size_t(2 * K);
  std::vector<std::vector<double>> val(T), err(T), abs(T);
  for (size_t t = 0; t < T; ++t) {
    val[t].assign(elements[t].size(), 0.0);
    err[t].assign(elements[t].size(), 0.0);
    abs[t].assign(elements[t].size(), 0.0);
  }
  std::vector<std::vector<double>> a(size_t(K + 1)), ea(size_t(K + 1));
  std::vector<std::vector<char>> unsure(size_t(K + 1));
  for (int k = 0; k <= K; ++k) {
    a[size_t(k)].resize(size_t(d[size_t(k)]));
    ea[size_t(k)].resize(size_t(d[size_t(k)]));
    unsure[size_t(k)].assign(size_t(d[size_t(k)]), 0);
  }
  int64_t dmax = 0;
  for (auto v : d)
    dmax = std::max(dmax, v);
  const size_t nmax = static_cast<size_t>(dmax);
  std::vector<double> dz(nmax), edz(nmax), da(nmax), eda(nmax), v(nmax);

  const int64_t F = d[0], O = d[size_t(K)];
  for (int64_t s = 0; s < batch.n; ++s) {
    for (int64_t j = 0; j < F; ++j) {
      a[0][size_t(j)] = batch.x[size_t(s * F + j)];
      ea[0][size_t(j)] = 0;
    }
    // Forward.
    for (int k = 1; k <= K; ++k) {
      const int64_t in = d[size_t(k - 1)], out = d[size_t(k)];
      const double g = stage(in);
      const auto& ap = a[size_t(k - 1)];
      const auto& eap = ea[size_t(k - 1)];
      for (int64_t i = 0; i < in; ++i)
        v[size_t(i)] = (1 + g) * eap[size_t(i)] + g * std::abs(ap[size_t(i)]);
      auto& ak = a[size_t(k)];
      auto& eak = ea[size_t(k)];
      auto& unk = unsure[size_t(k)];
      const bool hidden = k < K;
      host_for(out, in, [&](const int64_t o) {
        double z = b_at(k, o), ez = g * std::abs(b_at(k, o));
        for (int64_t i = 0; i < in; ++i) {
          const double w = w_at(k, o, i);
          z += w * ap[size_t(i)];
          ez += std::abs(w) * v[size_t(i)];
        }
        unk[size_t(o)] = hidden && std::abs(z) <= ez;
        ak[size_t(o)] = hidden ? (z > 0 ? z : 0.0) : z;
        eak[size_t(o)] = ez;
      });
    }
    // The loss's gradient with respect to the head's output f.
    const auto& f = a[size_t(K)];
    const auto& ef = ea[size_t(K)];
    if (cfg.loss == Loss::mse) {
      for (int64_t o = 0; o < O; ++o) {
        const double r = f[size_t(o)] - batch.y[size_t(s * O + o)];
        dz[size_t(o)] = mse_factor * r;
        edz[size_t(o)] = mse_factor * ((1 + 2 * u) * ef[size_t(o)] + 2 * u * std::abs(r));
      }
    } else {
      double m = f[0], emax = 0;
      for (int64_t o = 0; o < O; ++o) {
        m = std::max(m, f[size_t(o)]);
        emax = std::max(emax, ef[size_t(o)]);
      }
      double sum = 0;
      for (int64_t o = 0; o < O; ++o)
        sum += std::exp(f[size_t(o)] - m);
      const double r = std::expm1(2 * emax), rel = r + double(O + 8) * u * (1 + r);
      const int label = batch.labels[size_t(s)];
      for (int64_t o = 0; o < O; ++o) {
        const double p = std::exp(f[size_t(o)] - m) / sum, q = p - (o == label ? 1.0 : 0.0);
        dz[size_t(o)] = scale * q;
        edz[size_t(o)] = scale * ((1 + 2 * u) * p * rel + 2 * u * std::abs(q));
      }
    }
    // Backward, last layer first.
    for (int k = K; k >= 1; --k) {
      const int64_t in = d[size_t(k - 1)], out = d[size_t(k)];
      const auto& ap = a[size_t(k - 1)];
      const auto& eap = ea[size_t(k - 1)];
      const size_t tw = size_t(2 * (k - 1)), tb = tw + 1;
      for (size_t e = 0; e < elements[tw].size(); ++e) {
        const int64_t o = elements[tw][e] / in, i = elements[tw][e] % in;
        const double x = std::abs(dz[size_t(o)]) * std::abs(ap[size_t(i)]);
        const double bound =
            (std::abs(dz[size_t(o)]) + edz[size_t(o)]) * (std::abs(ap[size_t(i)]) + eap[size_t(i)]);
        val[tw][e] += dz[size_t(o)] * ap[size_t(i)];
        err[tw][e] += bound - x;
        abs[tw][e] += bound;
      }
      for (size_t e = 0; e < elements[tb].size(); ++e) {
        const int64_t o = elements[tb][e];
        val[tb][e] += dz[size_t(o)];
        err[tb][e] += edz[size_t(o)];
        abs[tb][e] += std::abs(dz[size_t(o)]) + edz[size_t(o)];
      }
      if (k == 1) break;
      // dA = W^T dZ, in blocks of inputs (rows of W are contiguous).
      const double g = stage(out);
      for (int64_t o = 0; o < out; ++o)
        v[size_t(o)] = (1 + g) * edz[size_t(o)] + g * std::abs(dz[size_t(o)]);
      constexpr int64_t kBlock = 256;
      const int64_t blocks = (in + kBlock - 1) / kBlock;
      host_for(blocks, out * kBlock, [&](const int64_t blk) {
        const int64_t lo = blk * kBlock, hi = std::min(in, lo + kBlock);
        for (int64_t i = lo; i < hi; ++i) {
          da[size_t(i)] = 0;
          eda[size_t(i)] = 0;
        }
        for (int64_t o = 0; o < out; ++o) {
          const double g0 = dz[size_t(o)], v0 = v[size_t(o)];
          for (int64_t i = lo; i < hi; ++i) {
            const double w = w_at(k, o, i);
            da[size_t(i)] += w * g0;
            eda[size_t(i)] += std::abs(w) * v0;
          }
        }
      });
      const auto& unp = unsure[size_t(k - 1)];
      for (int64_t i = 0; i < in; ++i) {
        const bool on = ap[size_t(i)] > 0;
        dz[size_t(i)] = on ? da[size_t(i)] : 0.0;
        edz[size_t(i)] =
            unp[size_t(i)] ? eda[size_t(i)] + std::abs(da[size_t(i)]) : (on ? eda[size_t(i)] : 0.0);
      }
    }
  }

  value.assign(T, {});
  tol.assign(T, {});
  const double own = 1 + std::ldexp(1.0, -53) / u;  // the reference's own float64 error, same form
  for (size_t t = 0; t < T; ++t) {
    value[t].resize(elements[t].size());
    tol[t].resize(elements[t].size());
    for (size_t e = 0; e < elements[t].size(); ++e) {
      double bound = err[t][e] + (gam(batch.n + 1) + 2.01 * ui) * abs[t][e];
      bound += rd.u_out * (std::abs(val[t][e]) + bound);
      value[t][e] = val[t][e];
      tol[t][e] = 1.25 * bound * own + DBL_MIN;
    }
  }
}

template void reference_gradient<float>(const Config&, const std::vector<Segment>&, const float*,
                                        const RefBatch&, double, double,
                                        const std::vector<std::vector<int64_t>>&, const Rounding&,
                                        std::vector<std::vector<double>>&, std::vector<std::vector<double>>&);
template void reference_gradient<double>(const Config&, const std::vector<Segment>&, const double*,
                                         const RefBatch&, double, double,
                                         const std::vector<std::vector<int64_t>>&, const Rounding&,
                                         std::vector<std::vector<double>>&,
                                         std::vector<std::vector<double>>&);

}  // namespace nagbench::mlp
