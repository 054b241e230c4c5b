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
