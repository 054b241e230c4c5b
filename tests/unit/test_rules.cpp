// The update rules beside sgd (gd, heavy_ball, nesterov1983): every variant, on every enabled backend and
// dtype layout, against the float64 reference over several steps on fresh random inputs (first step included,
// states poisoned with NaN, odd tensor sizes, one and several ranks); rules that break one part must fail the
// same check. Then, on the host, that the rules are what they say: their references against the recurrences
// derived by hand on a 1-D quadratic, the t_k schedule, Nesterov's O(1/k^2) bound, and their tables.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/optimizers.hpp"
#include "support/backends.hpp"
#include "support/run_steps.hpp"

namespace nagbench::test {
namespace {

const std::vector<int64_t> kRuleSizes = {1, 3, 7, 64, 1000, 4099, 65};

// Hyper-parameters for which every term moves the result far beyond the tolerance (the fault tests prove it).
gd::Hyper gd_hyper() {
  gd::Hyper h;
  h.lr = 0.05;
  return h;
}
heavy_ball::Hyper heavy_ball_hyper() {
  heavy_ball::Hyper h;
  h.lr = 0.05;
  h.beta = 0.9;
  return h;
}
nesterov1983::Hyper nesterov_constant_hyper() {
  nesterov1983::Hyper h;
  h.lr = 0.05;
  h.beta = 0.9;
  return h;
}
nesterov1983::Hyper nesterov_schedule_hyper() {
  nesterov1983::Hyper h = nesterov_constant_hyper();
  h.schedule = true;
  h.beta = 0.5;  // unused with the schedule
  return h;
}

template <class Exec>
class RuleKernels : public ::testing::Test {};
TYPED_TEST_SUITE(RuleKernels, EnabledBackends, BackendName);

template <class Exec, class Layout, class Opt>
void expect_variant_matches(const std::string& variant, const typename Opt::Hyper& h,
                            const std::vector<int64_t>& sizes, int steps, int ranks = 1) {
  int64_t params = 0;
  for (auto n : sizes)
    params += n;
  const VerifyResult r =
      run_and_verify<Exec, Layout, Opt>(variant, sizes, h, steps, /*seed=*/777 + steps + 10 * ranks, ranks);
  EXPECT_TRUE(r.passed) << variant << " " << dtype_name(Layout::id) << " " << h.describe() << ", " << ranks
                        << " ranks: " << r.mismatches << " mismatches, worst " << r.worst_what << "["
                        << r.worst_index << "] = " << r.worst_got << " want " << r.worst_want << " ("
                        << r.worst_ratio << " x tol)";
  EXPECT_EQ(r.checked, params);
}

template <class Layout>
std::vector<std::string> variants_for() {
  std::vector<std::string> variants = {"naive", "fused", "multi_tensor"};
#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
  if (Layout::id == DtypeLayout::fp32 || Layout::id == DtypeLayout::fp64) variants.push_back("unfused");
#endif
  return variants;
}

// Every variant of one layout, each rule (nesterov1983 with a constant beta and with the schedule), 5 steps.
// `beta` is that of heavy_ball and of nesterov1983's constant.
template <class Exec, class Layout>
void expect_all_rules(int steps = 5, int ranks = 1, double beta = 0.9) {
  heavy_ball::Hyper hb = heavy_ball_hyper();
  nesterov1983::Hyper nc = nesterov_constant_hyper();
  hb.beta = nc.beta = beta;
  for (const auto& v : variants_for<Layout>()) {
    expect_variant_matches<Exec, Layout, gd::Gd>(v, gd_hyper(), kRuleSizes, steps, ranks);
    expect_variant_matches<Exec, Layout, heavy_ball::HeavyBall>(v, hb, kRuleSizes, steps, ranks);
    expect_variant_matches<Exec, Layout, nesterov1983::Nesterov1983>(v, nc, kRuleSizes, steps, ranks);
    expect_variant_matches<Exec, Layout, nesterov1983::Nesterov1983>(v, nesterov_schedule_hyper(), kRuleSizes,
                                                                     steps, ranks);
  }
}

TYPED_TEST(RuleKernels, Fp32) {
  expect_all_rules<TypeParam, LayoutFp32>();
}
TYPED_TEST(RuleKernels, Fp64) {
  expect_all_rules<TypeParam, LayoutFp64>();
}
// bf16 with an fp32 master: the iterates live in fp32, 5 steps as above.
TYPED_TEST(RuleKernels, Bf16Master) {
  expect_all_rules<TypeParam, LayoutBf16Master>();
}
// Plain bf16, 2 steps (the first and a steady-state one: bf16 p beside fp32 state arrays). Over more steps
// the check cannot follow these rules there: where the fp32 kernel and the float64 reference round an iterate
// to different bf16 neighbours (about once in 10^4 element-steps), the momentum (a difference of stored
// iterates) carries that difference on, up to (1 + beta) / (1 - beta) times, and from a larger value to a
// smaller one, beyond the check's bf16 allowance (2 bf16 units of the final value, harness/verify.hpp).
// Measured on 10^6 elements, beta 0.9, lr 0.05: worst 0.48 x tolerance after 2 steps, 3.6 x after 3; sgd
// keeps p's rounding out of its momentum buffer.
TYPED_TEST(RuleKernels, Bf16) {
  expect_all_rules<TypeParam, LayoutBf16>(2);
}

TYPED_TEST(RuleKernels, FirstStepAlone) {
  expect_all_rules<TypeParam, LayoutFp32>(1);
}

// The gradient arrives as the sum over ranks; the rule averages it (grad_scale = 1/ranks).
TYPED_TEST(RuleKernels, SeveralRanksAverage) {
  expect_all_rules<TypeParam, LayoutFp32>(5, 3);
  expect_all_rules<TypeParam, LayoutFp64>(5, 2);
}

// The schedule over more steps (beta_k up to 0.8), and a large learning rate.
TYPED_TEST(RuleKernels, LongerScheduleAndLargeLearningRate) {
  nesterov1983::Hyper h = nesterov_schedule_hyper();
  expect_variant_matches<TypeParam, LayoutFp32, nesterov1983::Nesterov1983>("fused", h, kRuleSizes, 16);
  expect_variant_matches<TypeParam, LayoutFp64, nesterov1983::Nesterov1983>("multi_tensor", h, kRuleSizes,
                                                                            16);
  h.lr = 1.0;
  expect_variant_matches<TypeParam, LayoutFp32, nesterov1983::Nesterov1983>("fused", h, kRuleSizes, 12);
  heavy_ball::Hyper hb = heavy_ball_hyper();
  hb.lr = 1.0;
  expect_variant_matches<TypeParam, LayoutFp32, heavy_ball::HeavyBall>("fused", hb, kRuleSizes, 12);
}

TYPED_TEST(RuleKernels, EmptyAndSingleTensors) {
  for (const auto& sizes : std::vector<std::vector<int64_t>>{{0}, {1}, {0, 5, 0}, {2}, {3}}) {
    for (const std::string v : {"naive", "fused", "multi_tensor"}) {
      expect_variant_matches<TypeParam, LayoutFp32, nesterov1983::Nesterov1983>(v, nesterov_constant_hyper(),
                                                                                sizes, 5);
      expect_variant_matches<TypeParam, LayoutBf16Master, heavy_ball::HeavyBall>(v, heavy_ball_hyper(), sizes,
                                                                                 5);
    }
  }
}

// --launch graph replays one captured graph per first-step flag: right for every rule whose make_rule is the
// same at every step (same_rule_every_step), and, on CUDA, wrong for the t_k schedule (why validate() refuses
// it): the replays keep beta_1 and the check catches it.
TYPED_TEST(RuleKernels, GraphReplayServesRulesThatDoNotChangeWithTheStep) {
  using nesterov1983::Nesterov1983;
  EXPECT_TRUE(gd::Gd::same_rule_every_step(gd_hyper()));
  EXPECT_TRUE(heavy_ball::HeavyBall::same_rule_every_step(heavy_ball_hyper()));
  EXPECT_TRUE(Nesterov1983::same_rule_every_step(nesterov_constant_hyper()));
  EXPECT_FALSE(Nesterov1983::same_rule_every_step(nesterov_schedule_hyper()));
  for (const std::string v : {"naive", "fused", "multi_tensor"}) {
    const auto gd = run_and_verify<TypeParam, LayoutFp32, gd::Gd>(v, kRuleSizes, gd_hyper(), 5, 31, 1, true);
    const auto hb = run_and_verify<TypeParam, LayoutBf16Master, heavy_ball::HeavyBall>(
        v, kRuleSizes, heavy_ball_hyper(), 5, 32, 1, true);
    const auto nc = run_and_verify<TypeParam, LayoutFp32, Nesterov1983>(
        v, kRuleSizes, nesterov_constant_hyper(), 5, 33, 1, true);
    EXPECT_TRUE(gd.passed && hb.passed && nc.passed)
        << v << ": gd " << gd.passed << ", heavy_ball " << hb.passed << ", nesterov1983 " << nc.passed;
    const auto stale = run_and_verify<TypeParam, LayoutFp32, Nesterov1983>(
        v, kRuleSizes, nesterov_schedule_hyper(), 8, 34, 1, true);
    EXPECT_EQ(stale.passed, is_host_space<TypeParam>()) << v << ": a replayed beta_1 went unnoticed";
  }
}

// A rule with one part broken must fail the check, by a wide margin: proof that the hyper-parameters above
// make every part matter and that the tolerance cannot hide a broken one.
template <class Exec, class Opt, class Rule>
void expect_fault_detected(const typename Opt::Hyper& h, const char* what, int ranks = 1) {
  for (const std::string v : {"fused", "naive", "multi_tensor"}) {
    const VerifyResult r = run_and_verify<Exec, LayoutFp32, Opt, Rule>(v, kRuleSizes, h, 5, 99, ranks);
    EXPECT_FALSE(r.passed) << v << " " << h.describe() << ": " << what << " went unnoticed";
    EXPECT_GT(r.worst_ratio, 100.0) << v << " " << h.describe() << ": " << what
                                    << " changes the result by only " << r.worst_ratio << " x the tolerance";
  }
}

TYPED_TEST(RuleKernels, BrokenRulesAreDetected) {
  using nesterov1983::Nesterov1983;
  using NF = nesterov1983::Fault;
  expect_fault_detected<TypeParam, Nesterov1983, nesterov1983::Rule<float, NF::drop_momentum_term>>(
      nesterov_constant_hyper(), "a dropped beta term");
  expect_fault_detected<TypeParam, Nesterov1983, nesterov1983::Rule<float, NF::drop_momentum_term>>(
      nesterov_schedule_hyper(), "a dropped beta_k term");
  expect_fault_detected<TypeParam, Nesterov1983, nesterov1983::Rule<float, NF::x0_from_state>>(
      nesterov_constant_hyper(), "x_0 taken from the (unloaded) state");
  expect_fault_detected<TypeParam, Nesterov1983, nesterov1983::Rule<float, NF::schedule_off_by_one>>(
      nesterov_schedule_hyper(), "beta_{k+1} at step k");
  using HF = heavy_ball::Fault;
  expect_fault_detected<TypeParam, heavy_ball::HeavyBall, heavy_ball::Rule<float, HF::drop_momentum_term>>(
      heavy_ball_hyper(), "a dropped momentum term");
  expect_fault_detected<TypeParam, heavy_ball::HeavyBall, heavy_ball::Rule<float, HF::drop_state_write>>(
      heavy_ball_hyper(), "a previous iterate never stored");
  expect_fault_detected<TypeParam, gd::Gd, gd::Rule<float, gd::Fault::drop_grad_scale>>(
      gd_hyper(), "a sum over 3 ranks not averaged", 3);
}

// --- On the host: the rules are what they say.

// f(x) = a/2 x^2 in one dimension, gradient a x. In error terms, with q = 1 - lr a, Nesterov (1983) with a
// constant beta is x_{k+1} = q y_k and y_{k+1} = (1 + beta) q y_k - beta q y_{k-1} (x_0 = y_0, so
// y_1 = (1 + beta) q y_0 - beta y_0).
TEST(RuleMath, Nesterov1983IsTheTwoTermRecurrenceOnAQuadratic) {
  for (const double beta : {0.0, 0.5, 0.9}) {
    nesterov1983::Hyper h;
    h.lr = 0.1;
    h.beta = beta;
    const double a = 3.0, q = 1 - h.lr * a, y0 = 0.75;
    ReferenceState s;
    s.p = y0;
    double y_prev = y0, y = y0;
    for (int64_t k = 0; k < 30; ++k) {
      nesterov1983::Nesterov1983::reference_step(h, s, a * s.p, k);
      const double y_next = k == 0 ? (1 + beta) * q * y - beta * y : (1 + beta) * q * y - beta * q * y_prev;
      EXPECT_NEAR(s.s[0], q * y, 1e-14) << "x_" << k + 1 << ", beta " << beta;
      EXPECT_NEAR(s.p, y_next, 1e-14) << "y_" << k + 1 << ", beta " << beta;
      y_prev = y;
      y = y_next;
    }
  }
}

// Heavy ball on the same quadratic: x_{k+1} = (1 + beta - lr a) x_k - beta x_{k-1}, x_{-1} = x_0.
TEST(RuleMath, HeavyBallIsTheTwoTermRecurrenceOnAQuadratic) {
  heavy_ball::Hyper h;
  h.lr = 0.1;
  h.beta = 0.6;
  const double a = 2.5;
  ReferenceState s;
  s.p = -0.4;
  double x_prev = s.p, x = s.p;
  for (int64_t k = 0; k < 30; ++k) {
    heavy_ball::HeavyBall::reference_step(h, s, a * s.p, k);
    const double x_next = (1 + h.beta - h.lr * a) * x - h.beta * x_prev;
    EXPECT_NEAR(s.p, x_next, 1e-14) << "x_" << k + 1;
    EXPECT_NEAR(s.s[0], x, 1e-14) << "the previous iterate after step " << k;
    x_prev = x;
    x = x_next;
  }
}

TEST(RuleMath, GdIsGradientDescent) {
  gd::Hyper h;
  h.lr = 0.25;
  ReferenceState s;
  s.p = 1.0;
  gd::Gd::reference_step(h, s, 0.5, 0);
  EXPECT_EQ(s.p, 1.0 - 0.25 * 0.5);
  EXPECT_EQ(gd::Rule<double>(h, 0.5).apply(gd::Flags{}, 1.0, 1.0, nullptr), 1.0 - 0.25 * 0.5);
}

// t_0 = 1, t_1 = (1 + sqrt 5) / 2, t_2 = (1 + sqrt(1 + 4 t_1^2)) / 2: beta_0 = 0, beta_1 = (t_1 - 1) / t_2 =
// 0.2817...; the kernels' and the reference's schedules agree for every k, in any order (restarts at 0,
// jumps).
TEST(RuleMath, ScheduleBetas) {
  const double t1 = (1 + std::sqrt(5.0)) / 2, t2 = (1 + std::sqrt(1 + 4 * t1 * t1)) / 2;
  EXPECT_EQ(nesterov1983::reference_schedule_beta(0), 0.0);
  EXPECT_NEAR(nesterov1983::reference_schedule_beta(1), (t1 - 1) / t2, 1e-15);
  EXPECT_NEAR(nesterov1983::reference_schedule_beta(1), 0.2817, 1e-4);
  nesterov1983::Hyper h;
  h.schedule = true;
  const auto kernel_beta = [&](int64_t k) {
    return nesterov1983::Nesterov1983::make_rule<double>(h, 1, k, Arithmetic::separate).beta;
  };
  EXPECT_EQ(kernel_beta(0), 0.0);
  EXPECT_NEAR(kernel_beta(1), 0.2817, 1e-4);
  // The defining equation t_{k+1}^2 - t_{k+1} = t_k^2, and beta_k = (t_k - 1) / t_{k+1} rising towards 1.
  double t = 1, prev_beta = -1;
  for (int64_t k = 0; k < 2000; ++k) {
    const double t_next = nesterov1983::next_t(t);
    EXPECT_NEAR(t_next * t_next - t_next, t * t, 1e-12 * t * t);
    EXPECT_NEAR(nesterov1983::schedule_t(k), t, 1e-12 * t);
    EXPECT_NEAR(kernel_beta(k), (t - 1) / t_next, 1e-15);
    EXPECT_NEAR(nesterov1983::reference_schedule_beta(k), kernel_beta(k), 1e-15);
    EXPECT_GT(kernel_beta(k), prev_beta);
    prev_beta = kernel_beta(k);
    t = t_next;
  }
  EXPECT_GT(kernel_beta(26), 0.9);
  EXPECT_GT(kernel_beta(300), 0.99);
  // Restarts and jumps: the same values whatever came before.
  for (const int64_t k : {int64_t(0), int64_t(1500), int64_t(3), int64_t(3), int64_t(0), int64_t(1999)}) {
    const double want = kernel_beta(k);
    EXPECT_EQ(nesterov1983::reference_schedule_beta(0), 0.0);
    EXPECT_EQ(kernel_beta(0), 0.0);
    EXPECT_EQ(kernel_beta(k), want);
    EXPECT_NEAR(nesterov1983::reference_schedule_beta(k), want, 1e-15);
  }
  // A large step count is reached in amortised O(1) per step (a loop from the last k, not from 0).
  for (int64_t k = 0; k <= 1000000; ++k)
    nesterov1983::schedule_beta(k);
  EXPECT_NEAR(nesterov1983::schedule_beta(1000000), 1.0 - 3.0 / 1000000, 1e-6);
}

// The schedule's y_{k+1} = (1 + beta_k) q y_k - beta_k q y_{k-1} on the 1-D quadratic, and Nesterov's bound
// f(x_k) - f* <= 2 L |x_0 - x*|^2 / (k + 1)^2 (lr = 1/L) on a badly conditioned diagonal quadratic.
TEST(RuleMath, ScheduleRecurrenceAndRate) {
  nesterov1983::Hyper h;
  h.lr = 0.1;
  h.schedule = true;
  const double a = 3.0, q = 1 - h.lr * a;
  ReferenceState s;
  s.p = 0.5;
  double y_prev = s.p, y = s.p;
  for (int64_t k = 0; k < 30; ++k) {
    const double beta = nesterov1983::reference_schedule_beta(k);
    nesterov1983::Nesterov1983::reference_step(h, s, a * s.p, k);
    const double y_next = (1 + beta) * q * y - beta * q * (k == 0 ? y / q : y_prev);
    EXPECT_NEAR(s.p, y_next, 1e-14) << "y_" << k + 1;
    y_prev = y;
    y = y_next;
  }

  const std::vector<double> curvatures = {1.0, 0.3, 0.01, 1e-3, 1e-4};
  const double L = 1.0;
  h.lr = 1.0 / L;
  std::vector<ReferenceState> xs(curvatures.size());
  double dist2 = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    xs[i].p = 1.0 - 0.1 * double(i);
    dist2 += xs[i].p * xs[i].p;
  }
  for (int64_t k = 0; k < 300; ++k) {
    double f = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      nesterov1983::Nesterov1983::reference_step(h, xs[i], curvatures[i] * xs[i].p, k);
      f += 0.5 * curvatures[i] * xs[i].s[0] * xs[i].s[0];  // at the iterate x_{k+1}, state 0
    }
    const double bound = 2 * L * dist2 / double((k + 2) * (k + 2));
    EXPECT_LE(f, bound) << "f(x_" << k + 1 << ")";
  }
  static_assert(nesterov1983::Nesterov1983::kIterateState == 0, "x_k is state array 0");
  static_assert(heavy_ball::HeavyBall::kIterateState == -1 && gd::Gd::kIterateState == -1 &&
                    sgd::Sgd::kIterateState == -1,
                "the iterate is p");
}

// The bytes table, the registry, and the hyper-parameters' checks.
TEST(RuleMath, TablesAndChecks) {
  const auto bytes = [](DtypeLayout d, const std::vector<StateUse>& s) {
    return min_bytes_per_param(d, s).total();
  };
  EXPECT_EQ(bytes(DtypeLayout::fp32, gd::Gd::states(gd_hyper())), 12);  // p r/w, g r
  EXPECT_EQ(bytes(DtypeLayout::fp32, heavy_ball::HeavyBall::states(heavy_ball_hyper())), 20);
  EXPECT_EQ(bytes(DtypeLayout::fp32, nesterov1983::Nesterov1983::states(nesterov_constant_hyper())), 20);
  EXPECT_EQ(bytes(DtypeLayout::fp32, sgd::Sgd::states(nesterov_hyper())), 20);
  EXPECT_EQ(bytes(DtypeLayout::fp64, nesterov1983::Nesterov1983::states(nesterov_schedule_hyper())), 40);
  EXPECT_EQ(describe_bytes(DtypeLayout::fp32, heavy_ball::HeavyBall::states(heavy_ball_hyper())),
            "fp32 p r/w, fp32 g r, fp32 previous_iterate r/w");

  std::vector<std::string> names;
  for (const auto& o : optimizer_catalog())
    names.push_back(o.name);
  EXPECT_EQ(names, (std::vector<std::string>{"sgd", "gd", "heavy_ball", "nesterov1983"}));

  for (const double bad : {1.0, 1.5, -0.1, std::nan("")}) {
    heavy_ball::Hyper hb;
    hb.beta = bad;
    EXPECT_THROW(hb.validate(), InputError);
    nesterov1983::Hyper n;
    n.beta = bad;
    try {
      n.validate();
      ADD_FAILURE() << "beta " << bad << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--beta"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("0 <= beta < 1"), std::string::npos) << e.what();
    }
  }
  gd::Hyper g;
  g.lr = -1;
  EXPECT_THROW(g.validate(), InputError);
  g.lr = 1e-50;
  EXPECT_THROW(g.validate_in_compute_type(true), InputError);
  EXPECT_NO_THROW(g.validate_in_compute_type(false));
  EXPECT_THROW(nesterov1983::Hyper::from_json({{"momentum", 0.9}}), InputError);
  EXPECT_THROW(heavy_ball::Hyper::from_json({{"schedule", true}}), InputError);
  EXPECT_THROW(gd::Hyper::from_json({{"beta", 0.5}}), InputError);
  EXPECT_THROW(nesterov1983::Hyper::from_json({{"schedule", 1}}), InputError);

  nesterov1983::Hyper n = nesterov_schedule_hyper();
  n.lr = 0.1;
  EXPECT_EQ(n.describe(), "lr=0.1 t_k schedule");
  EXPECT_EQ(nesterov1983::Hyper::from_json(n.to_json()).describe(), n.describe());
  n.schedule = false;
  n.beta = 0.9;
  EXPECT_EQ(n.describe(), "lr=0.1 beta=0.9");
  EXPECT_EQ(heavy_ball::Hyper::from_json(heavy_ball_hyper().to_json()).describe(), "lr=0.05 beta=0.9");
  EXPECT_EQ(gd::Hyper::from_json(gd_hyper().to_json()).describe(), "lr=0.05");
}

}  // namespace
}  // namespace nagbench::test
