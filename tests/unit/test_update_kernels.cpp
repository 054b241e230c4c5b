// Every update variant, on every enabled backend and dtype layout, against the float64 reference: several
// steps on fresh random inputs, first step included, tensors of size 0, 1 and odd sizes. Then the other
// direction: a rule that drops one term must fail the same check, far beyond its tolerance.
#include <gtest/gtest.h>

#include "support/backends.hpp"
#include "support/run_steps.hpp"

namespace nagbench::test {
namespace {

const std::vector<int64_t> kOddSizes = {1, 3, 7, 64, 1000, 4099, 65, 9408, 17};

template <class Exec>
class UpdateKernels : public ::testing::Test {};
TYPED_TEST_SUITE(UpdateKernels, EnabledBackends, BackendName);

template <class Exec, class Layout>
void expect_variant_matches(const std::string& variant, const sgd::Hyper& h,
                            const std::vector<int64_t>& sizes, int steps = 5) {
  int64_t params = 0;
  for (auto n : sizes)
    params += n;
  const VerifyResult r = run_and_verify<Exec, Layout>(variant, sizes, h, steps, /*seed=*/1234 + steps);
  EXPECT_TRUE(r.passed) << variant << " " << dtype_name(Layout::id) << " " << h.describe() << ": "
                        << r.mismatches << " mismatches, worst " << r.worst_what << "[" << r.worst_index
                        << "] = " << r.worst_got << " want " << r.worst_want << " (" << r.worst_ratio
                        << " x tol)";
  EXPECT_EQ(r.checked, params);
}

template <class Exec, class Layout>
void expect_all_variants(const sgd::Hyper& h) {
  std::vector<std::string> variants = {"naive", "fused", "multi_tensor"};
#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
  if (Layout::id == DtypeLayout::fp32 || Layout::id == DtypeLayout::fp64) variants.push_back("unfused");
#endif
  for (const auto& v : variants)
    expect_variant_matches<Exec, Layout>(v, h, kOddSizes);
}

TYPED_TEST(UpdateKernels, Fp32Nesterov) {
  expect_all_variants<TypeParam, LayoutFp32>(nesterov_hyper());
}
TYPED_TEST(UpdateKernels, Fp64Nesterov) {
  expect_all_variants<TypeParam, LayoutFp64>(nesterov_hyper());
}
TYPED_TEST(UpdateKernels, Bf16Nesterov) {
  expect_all_variants<TypeParam, LayoutBf16>(nesterov_hyper());
}
TYPED_TEST(UpdateKernels, Bf16MasterNesterov) {
  expect_all_variants<TypeParam, LayoutBf16Master>(nesterov_hyper());
}

TYPED_TEST(UpdateKernels, Fp32DampedMomentum) {
  expect_all_variants<TypeParam, LayoutFp32>(damped_momentum_hyper());
}
TYPED_TEST(UpdateKernels, Bf16DampedMomentum) {
  expect_all_variants<TypeParam, LayoutBf16>(damped_momentum_hyper());
}

TYPED_TEST(UpdateKernels, Fp32PlainSgdAndNoWeightDecay) {
  sgd::Hyper h = nesterov_hyper();
  h.momentum = 0;
  h.nesterov = false;
  expect_all_variants<TypeParam, LayoutFp32>(h);
  h = nesterov_hyper();
  h.weight_decay = 0;
  expect_all_variants<TypeParam, LayoutFp32>(h);
}

TYPED_TEST(UpdateKernels, Fp32Maximize) {
  sgd::Hyper h = nesterov_hyper();
  h.maximize = true;
  expect_all_variants<TypeParam, LayoutFp32>(h);
}

TYPED_TEST(UpdateKernels, LargeLearningRateStaysWithinTolerance) {
  sgd::Hyper h = nesterov_hyper();
  h.lr = 1.0;
  expect_variant_matches<TypeParam, LayoutFp32>("fused", h, kOddSizes, 12);
  expect_variant_matches<TypeParam, LayoutFp64>("fused", h, kOddSizes, 12);
}

TYPED_TEST(UpdateKernels, FirstStepAlone) {
  expect_variant_matches<TypeParam, LayoutFp32>("fused", nesterov_hyper(), kOddSizes, 1);
  expect_variant_matches<TypeParam, LayoutFp32>("multi_tensor", damped_momentum_hyper(), kOddSizes, 1);
}

TYPED_TEST(UpdateKernels, EmptyAndSingleTensors) {
  for (const auto& sizes : std::vector<std::vector<int64_t>>{{0}, {1}, {0, 5, 0}, {2}, {3}}) {
    for (const std::string v : {"naive", "fused", "multi_tensor"}) {
      expect_variant_matches<TypeParam, LayoutFp32>(v, nesterov_hyper(), sizes);
      expect_variant_matches<TypeParam, LayoutBf16>(v, nesterov_hyper(), sizes);
    }
  }
}

TYPED_TEST(UpdateKernels, LargeTensorCrossesManyChunks) {
  expect_variant_matches<TypeParam, LayoutFp32>("multi_tensor", nesterov_hyper(), {1 << 20, 3, (1 << 18) + 5},
                                                3);
  expect_variant_matches<TypeParam, LayoutFp32>("fused", nesterov_hyper(), {(1 << 20) + 1}, 3);
}

// --launch graph: the first step and the later ones each replay one captured graph (on CUDA; host spaces
// launch directly), and every element still matches the reference.
TYPED_TEST(UpdateKernels, GraphReplayMatchesTheReference) {
  for (const std::string v : {"naive", "fused", "multi_tensor"}) {
    for (const auto& sizes : std::vector<std::vector<int64_t>>{kOddSizes, {1 << 20, 3, (1 << 18) + 5}}) {
      const VerifyResult r = run_and_verify<TypeParam, LayoutFp32>(v, sizes, nesterov_hyper(), 5, 77,
                                                                   /*ranks=*/1, /*graph=*/true);
      EXPECT_TRUE(r.passed) << v << ": " << r.mismatches << " mismatches, worst " << r.worst_ratio
                            << " x tol";
      const VerifyResult b =
          run_and_verify<TypeParam, LayoutBf16Master>(v, sizes, nesterov_hyper(), 4, 78, 1, /*graph=*/true);
      EXPECT_TRUE(b.passed) << v << " bf16_master: " << b.mismatches << " mismatches";
    }
  }
}

// Adds `amount` to count(0) on the instance it is given, and counts its own calls (captures on CUDA).
template <class Exec>
struct AddToCount {
  Kokkos::View<int64_t*, typename Exec::memory_space> count;
  int64_t amount;
  int* calls;
  KOKKOS_INLINE_FUNCTION void operator()(const int) const { count(0) += amount; }
  void operator()(const Exec& on) const {
    ++*calls;
    Kokkos::parallel_for("nagbench::test::add", Kokkos::RangePolicy<Exec>(on, 0, 1), *this);
  }
};

// A key's work is captured once and replayed; a new key captures again. On CUDA, work put on another instance
// than the one given (a replay would silently skip it) is refused.
TYPED_TEST(UpdateKernels, GraphLaunchReplaysAndRefusesStrayWork) {
  using Exec = TypeParam;
  const Exec exec;
  Kokkos::View<int64_t*, typename Exec::memory_space> count("nagbench::test::count", 1);
  int calls = 0;
  const AddToCount<Exec> one{count, 1, &calls}, hundred{count, 100, &calls};
  GraphedLaunch<Exec> launcher(true);
  for (int i = 0; i < 3; ++i)
    launcher.run(exec, 0, one);
  launcher.run(exec, 1, hundred);
  launcher.run(exec, 0, one);
  Kokkos::fence();
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), count);
  EXPECT_EQ(host(0), 104);
  if (is_host_space<Exec>()) {
    EXPECT_EQ(calls, 5);
    EXPECT_EQ(launcher.captures(), 0);
  } else {
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(launcher.captures(), 2);
    EXPECT_THROW(launcher.run(exec, 2, [&](const Exec&) { one(exec); }), RunError);
  }
}

// A rule with one term dropped must fail the check, by a wide margin: proof that the hyper-parameters above
// make every term matter and that the tolerance cannot hide a missing term.
template <class Exec, sgd::Fault F>
void expect_fault_detected(const sgd::Hyper& h) {
  using Rule = sgd::Rule<float, F>;
  for (const std::string v : {"fused", "naive", "multi_tensor"}) {
    const VerifyResult r = run_and_verify<Exec, LayoutFp32, sgd::Sgd, Rule>(v, kOddSizes, h, 5, 99);
    EXPECT_FALSE(r.passed) << v << ": a dropped term went unnoticed";
    EXPECT_GT(r.worst_ratio, 100.0) << v << ": a dropped term changes the result by only " << r.worst_ratio
                                    << " x the tolerance";
  }
}

TYPED_TEST(UpdateKernels, DroppedTermsAreDetected) {
  expect_fault_detected<TypeParam, sgd::Fault::drop_weight_decay>(nesterov_hyper());
  expect_fault_detected<TypeParam, sgd::Fault::drop_nesterov_term>(nesterov_hyper());
  expect_fault_detected<TypeParam, sgd::Fault::drop_dampening>(damped_momentum_hyper());
  expect_fault_detected<TypeParam, sgd::Fault::drop_first_step_rule>(damped_momentum_hyper());
  sgd::Hyper maximize = nesterov_hyper();
  maximize.maximize = true;
  expect_fault_detected<TypeParam, sgd::Fault::drop_maximize>(maximize);
}

}  // namespace
}  // namespace nagbench::test
