// The mlp workload on every enabled backend: its backward against central finite differences of evaluate()
// (float64), check_gradient against a correct and a perturbed gradient, the ready(k) callbacks at several
// bucket granularities (once per range, in order, each as soon as its tensors are final), 1 vs 2 vs 3
// simulated ranks on the same global batch, and the loss on digits falling under plain gradient descent
// written here. Bad problem settings are one-line InputErrors naming the file and the key.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/optim/arena.hpp"
#include "nagbench/optim/dtype.hpp"
#include "nagbench/workload/mlp/mlp.hpp"
#include "nagbench/workload/problem.hpp"
#include "support/backends.hpp"

namespace nagbench::test {
namespace {

template <class Exec>
class Mlp : public ::testing::Test {};
TYPED_TEST_SUITE(Mlp, EnabledBackends, BackendName);

// The tiny problem (inputs/problems/tiny_mlp.yaml's settings), with a loss.
WorkloadSpec tiny_spec(int64_t batch, const std::string& loss = "mse", uint64_t seed = 7) {
  WorkloadSpec s;
  s.name = "mlp";
  s.problem_name = "tiny_mlp";
  s.problem_source = "tiny_mlp.yaml (test)";
  s.problem = {{"data", "synthetic"}, {"layers", 2},    {"width", 16}, {"features", 8},
               {"outputs", 4},        {"samples", 512}, {"loss", loss}};
  s.seed = seed;
  s.batch_size = batch;
  return s;
}

WorkloadSpec digits_spec(int64_t batch, int64_t width = 64) {
  WorkloadSpec s;
  s.name = "mlp";
  s.problem_name = "digits_mlp";
  s.problem_source = "digits_mlp.yaml (test)";
  s.problem = {
      {"data", "digits"}, {"layers", 2}, {"width", width}, {"loss", "cross_entropy"}, {"test_fraction", 0.2}};
  s.seed = 3;
  s.batch_size = batch;
  return s;
}

ProcessInfo rank_of(int rank, int size) {
  ProcessInfo p;
  p.rank = rank;
  p.size = size;
  return p;
}

// One rank's workload and arenas.
template <class Exec, class Layout>
struct Setup {
  using Mem = typename Exec::memory_space;
  Exec exec;
  ArenaLayout layout;
  ParamArena<Layout, Mem> arena;
  std::unique_ptr<Workload<Exec, Layout>> w;
  explicit Setup(const WorkloadSpec& spec, ProcessInfo proc = ProcessInfo())
      : layout(ArenaLayout::for_sizes(mlp::Mlp::tensor_sizes(spec))), arena(layout.length, 0, 0) {
    w = mlp::Mlp::make<Exec, Layout>(spec, proc);
    w->initialize(exec, arena.pointers(), layout);
    exec.fence();
  }
  ArenaPointers<Layout> ptr() const { return arena.pointers(); }
  void grad(int64_t step) {
    w->produce_gradients(exec, ptr(), step, {{0, layout.length}}, [](int) {});
    exec.fence();
  }
  template <class T>
  std::vector<double> read(const T* p) const {
    std::vector<T> h(size_t(layout.length));
    Kokkos::deep_copy(Kokkos::View<T*, Kokkos::HostSpace>(h.data(), h.size()),
                      Kokkos::View<const T*, Mem>(p, h.size()));
    std::vector<double> out(h.size());
    for (size_t i = 0; i < h.size(); ++i)
      out[i] = double(to_compute(h[i]));
    return out;
  }
  template <class T>
  void write(T* p, const std::vector<double>& v) const {
    std::vector<T> h(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      h[i] = StoreAs<T>::from(static_cast<typename Layout::compute_t>(v[i]));
    Kokkos::deep_copy(Kokkos::View<T*, Mem>(p, h.size()),
                      Kokkos::View<const T*, Kokkos::HostSpace>(h.data(), h.size()));
  }
  std::vector<double> g() const { return read(arena.pointers().g); }
  std::vector<double> p() const { return read(arena.pointers().p); }
  double mean_loss(const typename Layout::param_t* params, Split split = Split::train) {
    const LossParts l = w->evaluate(exec, params, split);
    return l.loss_sum / double(l.count);
  }
};

// --- Finite differences (float64): the full-batch gradient is the gradient of evaluate(train)'s mean loss.
template <class Exec>
void finite_differences(const std::string& loss) {
  using Mem = typename Exec::memory_space;
  Setup<Exec, LayoutFp64> s(tiny_spec(0, loss));
  s.grad(0);
  const std::vector<double> g = s.g(), p0 = s.p();
  Kokkos::View<double*, Mem> probe("probe", size_t(s.layout.length));
  // h small enough that no sample's ReLU changes sign in [w - h, w + h] (a kink there breaks the difference),
  // large enough that the loss's own rounding (a few ulps of a value near 1, over 2h) stays near 1e-10; the
  // agreement asked is 1e-6 relative to the element, or to the largest gradient element for elements far
  // smaller than it (where that rounding dominates).
  const double h = 1e-6;
  double gmax = 0;
  for (double v : g)
    gmax = std::max(gmax, std::abs(v));
  double worst = 0;
  int checked = 0;
  for (size_t t = 0; t < s.layout.tensors.size(); ++t) {
    const Segment seg = s.layout.tensors[t];
    std::vector<int64_t> elems = mlp::checked_elements(11, 0, int(t), seg.numel);
    elems.resize(std::min<size_t>(elems.size(), 6));
    for (int64_t e : elems) {
      const size_t i = size_t(seg.offset + e);
      std::vector<double> q = p0;
      q[i] = p0[i] + h;
      s.write(probe.data(), q);
      const double up = s.mean_loss(probe.data());
      q[i] = p0[i] - h;
      s.write(probe.data(), q);
      const double down = s.mean_loss(probe.data());
      const double fd = (up - down) / (2 * h);
      const double rel = std::abs(fd - g[i]) / std::max(std::abs(g[i]), 1e-2 * gmax);
      worst = std::max(worst, rel);
      ++checked;
      EXPECT_LE(std::abs(fd - g[i]), 1e-6 * std::max(std::abs(g[i]), 1e-2 * gmax))
          << loss << " tensor " << mlp::tensor_name(int(t)) << " element " << e << ": backward " << g[i]
          << ", central difference " << fd;
    }
  }
  std::printf(
      "[ finite differences, %s, %s ] %d elements, worst relative difference %.2e (largest |g| %.3g)\n",
      Exec::name(), loss.c_str(), checked, worst, gmax);
}

TYPED_TEST(Mlp, BackwardMatchesFiniteDifferencesMse) {
  finite_differences<TypeParam>("mse");
}
TYPED_TEST(Mlp, BackwardMatchesFiniteDifferencesCrossEntropy) {
  finite_differences<TypeParam>("cross_entropy");
}

// --- check_gradient: "" on the gradient produce_gradients wrote; a line naming the tensor when one of the
// checked elements is off.
template <class Exec, class Layout>
void check_gradient_catches(const WorkloadSpec& spec, int64_t step) {
  Setup<Exec, Layout> s(spec);
  s.grad(step);
  EXPECT_EQ(s.w->check_gradient(s.exec, s.ptr(), step), "") << dtype_name(Layout::id);
  // Off by 1% (and a little), in one checked element of W2.
  std::vector<double> g = s.g();
  const Segment w2 = s.layout.tensors[2];
  const int64_t e = mlp::checked_elements(spec.seed, step, 2, w2.numel).front();
  double& v = g[size_t(w2.offset + e)];
  v += 0.01 * std::abs(v) + 1e-4;
  s.write(s.ptr().g, g);
  const std::string line = s.w->check_gradient(s.exec, s.ptr(), step);
  std::printf("[ check_gradient, %s, %s ] %s\n", Exec::name(), dtype_name(Layout::id), line.c_str());
  EXPECT_NE(line.find("mlp gradient of tensor W2 element " + std::to_string(e)), std::string::npos)
      << dtype_name(Layout::id) << ": " << line;
}

TYPED_TEST(Mlp, CheckGradientAcceptsCorrectAndCatchesPerturbed) {
  check_gradient_catches<TypeParam, LayoutFp32>(tiny_spec(32), 3);
  check_gradient_catches<TypeParam, LayoutFp64>(tiny_spec(32), 3);
  check_gradient_catches<TypeParam, LayoutFp32>(tiny_spec(0, "cross_entropy"), 0);
  check_gradient_catches<TypeParam, LayoutBf16>(tiny_spec(32), 1);
  check_gradient_catches<TypeParam, LayoutBf16Master>(tiny_spec(32, "cross_entropy"), 1);
}

// Large enough that the host cannot redo the whole batch: the check recomputes the first samples on the
// device and must agree with the host.
TYPED_TEST(Mlp, CheckGradientOnAReducedBatch) {
  WorkloadSpec spec = tiny_spec(256);
  spec.problem["width"] = 512;
  spec.problem["features"] = 512;
  spec.problem["outputs"] = 256;
  spec.problem["samples"] = 1024;
  Setup<TypeParam, LayoutFp32> s(spec);
  s.grad(2);
  EXPECT_EQ(s.w->check_gradient(s.exec, s.ptr(), 2), "");
  // The recompute does not read arena.g: the check of another step passes too (the whole-batch check of a
  // small problem fails there, below).
  EXPECT_EQ(s.w->check_gradient(s.exec, s.ptr(), 3), "");
}

TYPED_TEST(Mlp, CheckGradientOfAnotherStepFails) {
  Setup<TypeParam, LayoutFp32> s(tiny_spec(32));
  s.grad(2);
  EXPECT_NE(s.w->check_gradient(s.exec, s.ptr(), 3), "");
}

// --- ready(k): once per range, in the order given, each as soon as every tensor it overlaps is final.
template <class Exec>
void ready_order(const std::vector<GradientRange>& ranges, const std::string& what) {
  Setup<Exec, LayoutFp64> s(tiny_spec(16));
  s.grad(4);
  const std::vector<double> want = s.g();
  std::vector<double> nan(want.size(), std::numeric_limits<double>::quiet_NaN());
  s.write(s.ptr().g, nan);
  const std::vector<Segment>& tensors = s.layout.tensors;
  int next = 0;
  s.w->produce_gradients(s.exec, s.ptr(), 4, ranges, [&](int k) {
    ASSERT_EQ(k, next) << what;
    ++next;
    s.exec.fence();
    const std::vector<double> g = s.g();
    for (const Segment& t : tensors)
      for (int64_t i = std::max(t.offset, ranges[size_t(k)].begin);
           i < std::min(t.offset + t.numel, ranges[size_t(k)].end); ++i)
        ASSERT_EQ(g[size_t(i)], want[size_t(i)])
            << what << ": range " << k << " ready before element " << i << " is final";
  });
  EXPECT_EQ(next, int(ranges.size())) << what;
}

TYPED_TEST(Mlp, ReadyOncePerRangeInOrderAtSeveralGranularities) {
  const ArenaLayout layout = ArenaLayout::for_sizes(mlp::Mlp::tensor_sizes(tiny_spec(16)));
  const int64_t n = layout.length;
  ready_order<TypeParam>({{0, n}}, "one range");
  std::vector<GradientRange> per_tensor;
  for (auto it = layout.tensors.rbegin(); it != layout.tensors.rend(); ++it)
    per_tensor.push_back({it->offset, it->offset + it->numel});
  ready_order<TypeParam>(per_tensor, "per tensor, last first");
  for (int64_t size : {100, 37, 1}) {
    std::vector<GradientRange> back;
    for (int64_t end = n; end > 0; end -= size)
      back.push_back({std::max<int64_t>(0, end - size), end});
    ready_order<TypeParam>(back, "chunks of " + std::to_string(size) + " from the end");
  }
  std::vector<GradientRange> front;
  for (int64_t b = 0; b < n; b += 53)
    front.push_back({b, std::min(n, b + 53)});
  ready_order<TypeParam>(front, "chunks of 53 from the start");
}

// The head's range is ready before the first layer's gradient exists: ranges fire during the backward.
TYPED_TEST(Mlp, ReadyFiresDuringTheBackward) {
  Setup<TypeParam, LayoutFp64> s(tiny_spec(16));
  std::vector<double> nan(size_t(s.layout.length), std::numeric_limits<double>::quiet_NaN());
  s.write(s.ptr().g, nan);
  const Segment head_b = s.layout.tensors.back(), w1 = s.layout.tensors.front();
  bool checked = false;
  s.w->produce_gradients(
      s.exec, s.ptr(), 0, {{head_b.offset, head_b.offset + head_b.numel}, {0, s.layout.length}}, [&](int k) {
        if (k != 0) return;
        s.exec.fence();
        const std::vector<double> g = s.g();
        EXPECT_FALSE(std::isnan(g[size_t(head_b.offset)]));
        EXPECT_TRUE(std::isnan(g[size_t(w1.offset)])) << "W1's gradient was written already";
        checked = true;
      });
  EXPECT_TRUE(checked);
}

// --- 1, 2 and 3 ranks on the same global batch: the average of the rank gradients is the same gradient.
template <class Exec>
void ranks_agree(const std::function<WorkloadSpec(int ranks)>& spec_for, const std::string& what) {
  for (int64_t step : {0, 5, 61}) {
    std::vector<double> one;
    for (int ranks : {1, 2, 3}) {
      const WorkloadSpec spec = spec_for(ranks);
      std::vector<double> sum;
      for (int r = 0; r < ranks; ++r) {
        Setup<Exec, LayoutFp64> s(spec, rank_of(r, ranks));
        s.grad(step);
        const std::vector<double> g = s.g();
        if (sum.empty()) sum.assign(g.size(), 0.0);
        for (size_t i = 0; i < g.size(); ++i)
          sum[i] += g[i] / ranks;
        EXPECT_EQ(s.w->check_gradient(s.exec, s.ptr(), step), "") << what << " rank " << r << " of " << ranks;
      }
      if (ranks == 1) {
        one = sum;
        continue;
      }
      double scale = 0;
      for (double v : one)
        scale = std::max(scale, std::abs(v));
      for (size_t i = 0; i < one.size(); ++i)
        ASSERT_NEAR(sum[i], one[i], 1e-12 * scale)
            << what << ", step " << step << ", " << ranks << " ranks, element " << i;
    }
  }
}

TYPED_TEST(Mlp, OneTwoThreeRanksGiveTheSameAveragedGradient) {
  ranks_agree<TypeParam>([](int ranks) { return tiny_spec(12 / ranks); }, "tiny, global batch 12");
  ranks_agree<TypeParam>([](int) { return tiny_spec(0, "cross_entropy"); }, "tiny, full batch");
  ranks_agree<TypeParam>([](int ranks) { return digits_spec(60 / ranks, 16); }, "digits, global batch 60");
}

// --- Digits: plain gradient descent written here, a few dozen steps, the loss falls.
// p -= lr g (a free function: nvcc's extended lambdas may not sit in a test's private TestBody).
template <class Exec>
void gradient_descent_step(const Exec& exec, float* p, const float* g, int64_t n, float lr) {
  Kokkos::parallel_for(
      "test::gd", Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>(exec, 0, n),
      KOKKOS_LAMBDA(const int64_t i) { p[i] -= lr * g[i]; });
}

TYPED_TEST(Mlp, DigitsLossFallsUnderGradientDescent) {
  using Exec = TypeParam;
  Setup<Exec, LayoutFp32> s(digits_spec(64));
  const double loss0 = s.mean_loss(s.ptr().p);
  const LossParts test0 = s.w->evaluate(s.exec, s.ptr().p, Split::test);
  const int steps = 60;
  const float lr = 0.2f;
  for (int step = 0; step < steps; ++step) {
    s.grad(step);
    if (step == steps / 2) {
      ASSERT_EQ(s.w->check_gradient(s.exec, s.ptr(), step), "");
    }
    gradient_descent_step(s.exec, s.ptr().p, s.ptr().g, s.layout.length, lr);
  }
  s.exec.fence();
  const double loss1 = s.mean_loss(s.ptr().p);
  const LossParts test1 = s.w->evaluate(s.exec, s.ptr().p, Split::test);
  const double acc0 = test0.correct / double(test0.count), acc1 = test1.correct / double(test1.count);
  std::printf(
      "[ digits, %s ] %d steps of GD (lr %.2f, batch 64): train loss %.4f -> %.4f, test loss %.4f -> %.4f, "
      "test accuracy %.3f -> %.3f (%lld test samples)\n",
      Exec::name(), steps, double(lr), loss0, loss1, test0.loss_sum / double(test0.count),
      test1.loss_sum / double(test1.count), acc0, acc1, static_cast<long long>(test1.count));
  EXPECT_LT(loss1, 0.5 * loss0);
  EXPECT_GT(acc1, 0.85);
  EXPECT_TRUE(s.w->is_classifier());
  EXPECT_TRUE(s.w->has_test_split());
  EXPECT_EQ(s.w->samples_per_step(), 64);
}

// --- Problem settings.
std::string input_error(WorkloadSpec spec) {
  try {
    mlp::Mlp::tensor_sizes(spec);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(MlpProblem, BadSettingsAreOneLineErrorsNamingFileAndKey) {
  const auto expect_bad = [](const std::string& key, const nlohmann::json& value) {
    WorkloadSpec s = tiny_spec(0);
    s.problem[key] = value;
    const std::string e = input_error(s);
    EXPECT_NE(e.find("tiny_mlp.yaml (test)"), std::string::npos) << key << ": " << e;
    EXPECT_NE(e.find("'" + key + "'"), std::string::npos) << key << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  };
  expect_bad("colour", "blue");
  expect_bad("layers", 0);
  expect_bad("layers", "many");
  expect_bad("width", 0);
  expect_bad("loss", "hinge");
  expect_bad("data", "imagenet");
  expect_bad("test_fraction", 0.2);  // not for synthetic data
  WorkloadSpec d = digits_spec(0);
  d.problem["features"] = 10;
  EXPECT_NE(input_error(d).find("'features'"), std::string::npos);
  d = digits_spec(0);
  d.problem["test_fraction"] = 1.5;
  EXPECT_NE(input_error(d).find("'test_fraction'"), std::string::npos);
}

TEST(MlpProblem, ShippedProblemFiles) {
  const auto spec_of = [](const std::string& name) {
    const ProblemSpec p = load_problem(name, "");
    EXPECT_EQ(p.workload, "mlp") << name;
    WorkloadSpec s;
    s.name = "mlp";
    s.problem = p.settings;
    s.problem_source = p.source;
    return s;
  };
  // 24 Linear(4096, 4096) layers, the last being the head.
  const std::vector<int64_t> big = mlp::Mlp::tensor_sizes(spec_of("mlp_4096x24"));
  ASSERT_EQ(big.size(), 48u);
  for (size_t t = 0; t < big.size(); ++t)
    EXPECT_EQ(big[t], t % 2 == 0 ? 4096 * 4096 : 4096);
  const std::vector<int64_t> digits = mlp::Mlp::tensor_sizes(spec_of("digits_mlp"));
  ASSERT_EQ(digits.size(), 6u);
  EXPECT_EQ(digits[0], 64 * 128);
  EXPECT_EQ(digits[5], 10);
  const std::vector<int64_t> tiny = mlp::Mlp::tensor_sizes(spec_of("tiny_mlp"));
  EXPECT_EQ(tiny, mlp::Mlp::tensor_sizes(tiny_spec(0)));
}

}  // namespace
}  // namespace nagbench::test
