// Host-side building blocks: bf16 rounding, the bytes table, statistics, the counter RNG, arena layout,
// hyper-parameter validation, model files and the verification sample.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/random.hpp"
#include "nagbench/core/stats.hpp"
#include "nagbench/harness/verify.hpp"
#include "nagbench/optim/arena.hpp"
#include "nagbench/optim/bf16.hpp"
#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/sgd/sgd.hpp"
#include "nagbench/workload/model.hpp"

namespace nagbench {
namespace {

float bf16_round(float f) {
  return bf16::from_float(f).to_float();
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(bf16_round(1.0f), 1.0f);
  const float ulp = std::ldexp(1.0f, -7);                        // bf16 spacing in [1, 2)
  EXPECT_EQ(bf16_round(1.0f + ulp / 2), 1.0f);                   // tie -> even (1.0)
  EXPECT_EQ(bf16_round(1.0f + 3 * ulp / 2), 1.0f + 2 * ulp);     // tie -> even (1 + 2 ulp)
  EXPECT_EQ(bf16_round(1.0f + ulp / 2 + ulp / 64), 1.0f + ulp);  // above the tie -> up
  EXPECT_EQ(bf16_round(-1.0f - ulp / 2), -1.0f);
  EXPECT_EQ(bf16::from_float(3.0f).bits, 0x4040);
  EXPECT_TRUE(std::isinf(bf16_round(std::numeric_limits<float>::infinity())));
  EXPECT_TRUE(std::isnan(bf16_round(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::isinf(bf16_round(std::numeric_limits<float>::max())));  // rounds past the largest bf16
  EXPECT_EQ(sizeof(bf16), 2u);
}

TEST(Bf16, ErrorIsAtMostHalfAnUlp) {
  for (int i = 0; i < 100000; ++i) {
    const float f = random_value(random_stream(7, RandomKind::gradient), i) * 37.0f;
    const float r = bf16_round(f);
    if (f == 0) continue;
    const float ulp = std::ldexp(1.0f, std::ilogb(f) - 7);
    EXPECT_LE(std::fabs(r - f), ulp / 2) << f;
  }
}

TEST(BytesTable, DerivedFromTheRuleStateListMatchesTheHandCounts) {
  sgd::Hyper with_momentum, plain;
  plain.momentum = 0;
  plain.nesterov = false;
  const auto bytes = [](DtypeLayout d, const sgd::Hyper& h) {
    return min_bytes_per_param(d, sgd::Sgd::states(h)).total();
  };
  EXPECT_EQ(bytes(DtypeLayout::fp32, with_momentum), 20);  // p r/w, g r, b r/w
  EXPECT_EQ(bytes(DtypeLayout::fp64, with_momentum), 40);
  EXPECT_EQ(bytes(DtypeLayout::bf16, with_momentum), 14);         // bf16 p r/w 2+2, g 2, fp32 b 4+4
  EXPECT_EQ(bytes(DtypeLayout::bf16_master, with_momentum), 20);  // master 4+4, bf16 p w 2, g 2, b 4+4
  EXPECT_EQ(bytes(DtypeLayout::fp32, plain), 12);                 // plain SGD: no state
  const BytesPerParam m = min_bytes_per_param(DtypeLayout::bf16_master, sgd::Sgd::states(with_momentum));
  EXPECT_EQ(m.param_read, 0);
  EXPECT_EQ(m.param_write, 2);
  EXPECT_EQ(m.master_read + m.master_write, 8);
  EXPECT_EQ(describe_bytes(DtypeLayout::fp32, sgd::Sgd::states(with_momentum)),
            "fp32 p r/w, fp32 g r, fp32 momentum_buffer r/w");
}

TEST(Stats, MedianMinMax) {
  const Summary odd = summarize({3, 1, 2});
  EXPECT_EQ(odd.median, 2);
  EXPECT_EQ(odd.min, 1);
  EXPECT_EQ(odd.max, 3);
  EXPECT_EQ(summarize({4, 1, 3, 2}).median, 2.5);
  EXPECT_THROW(summarize({}), std::invalid_argument);
  const RankSpread s = spread_of_medians({1.0, 3.0, 2.0});
  EXPECT_EQ(s.slowest_median, 3.0);
  EXPECT_EQ(s.min_of_medians, 1.0);
  EXPECT_EQ(s.avg_of_medians, 2.0);
}

TEST(Random, ValuesAreReproducibleNonZeroAndInRange) {
  const uint64_t st = random_stream(1, RandomKind::gradient, 2, 3);
  EXPECT_EQ(random_value(st, 10), random_value(st, 10));
  EXPECT_NE(random_stream(1, RandomKind::gradient, 2, 3), random_stream(1, RandomKind::gradient, 3, 3));
  double sum = 0, sumsq = 0;
  int zeros = 0;
  for (int i = 0; i < 100000; ++i) {
    const float v = random_value(st, i);
    ASSERT_GE(v, -1.0f);
    ASSERT_LT(v, 1.0f);
    zeros += v == 0;
    sum += v;
    sumsq += v * v;
  }
  EXPECT_LT(zeros, 5);
  EXPECT_NEAR(sum / 1e5, 0.0, 0.01);
  EXPECT_NEAR(sumsq / 1e5, 1.0 / 3, 0.01);  // uniform on [-1, 1)
}

TEST(ArenaLayout, AlignsEveryTensor) {
  const ArenaLayout a = ArenaLayout::for_sizes({1, 64, 65, 0, 7});
  ASSERT_EQ(a.tensors.size(), 5u);
  for (const auto& t : a.tensors)
    EXPECT_EQ(t.offset % ArenaLayout::kAlignElements, 0);
  EXPECT_EQ(a.params, 1 + 64 + 65 + 7);
  EXPECT_EQ(a.tensors[2].offset, 128);
  EXPECT_EQ(a.length, 64 + 64 + 128 + 0 + 64);
  EXPECT_EQ(arena_bytes(a, DtypeLayout::fp32, 1), a.length * 12);
  EXPECT_EQ(arena_bytes(a, DtypeLayout::bf16_master, 1), a.length * (2 + 2 + 4 + 4));
}

TEST(Hyper, RejectsWhatPyTorchRejects) {
  sgd::Hyper h;
  EXPECT_NO_THROW(h.validate());
  h.dampening = 0.1;  // with nesterov
  EXPECT_THROW(h.validate(), InputError);
  h = sgd::Hyper{};
  h.momentum = 0;  // nesterov without momentum
  EXPECT_THROW(h.validate(), InputError);
  h = sgd::Hyper{};
  h.momentum = 1.0;
  EXPECT_THROW(h.validate(), InputError);
  h.momentum = -0.1;
  EXPECT_THROW(h.validate(), InputError);
  h = sgd::Hyper{};
  h.lr = -1;
  EXPECT_THROW(h.validate(), InputError);
  h = sgd::Hyper{};
  h.weight_decay = std::nan("");
  EXPECT_THROW(h.validate(), InputError);
}

TEST(Models, ShippedModelsHaveThePublishedSizes) {
  const ModelSpec r = load_model("resnet50", "");
  EXPECT_EQ(r.tensors.size(), 161u);
  EXPECT_EQ(r.params, 25557032);
  const ModelSpec v = load_model("vit_l_16", "");
  EXPECT_EQ(v.tensors.size(), 296u);
  EXPECT_EQ(v.params, 304326632);
  const ModelSpec s = load_model("single_2p28", "");
  EXPECT_EQ(s.params, int64_t(1) << 28);
}

TEST(Models, BadFilesAreInputErrors) {
  EXPECT_THROW(load_model("no_such_model", ""), InputError);
  EXPECT_THROW(load_model("/nonexistent/x.yaml", ""), InputError);
  const std::string path = ::testing::TempDir() + "nagbench_bad_model.yaml";
  for (const char* text : {"name: x\ntensors: [\n", "name: x\n", "name: x\ntensors: []\n",
                           "name: x\ntensors:\n  - {name: a, shape: [0]}\n",
                           "name: x\ntensors:\n  - {name: a, shape: [2, -1]}\n",
                           "name: x\ntensors:\n  - {name: a, shape: [two]}\n", "- just\n- a list\n"}) {
    std::ofstream(path) << text;
    EXPECT_THROW(load_model(path, ""), InputError) << text;
  }
  std::remove(path.c_str());
  EXPECT_THROW(flat_model(0), InputError);
  EXPECT_THROW(flat_model(-5), InputError);
}

TEST(Verify, SampleHitsEveryTensorEdgeAndEveryLane) {
  const ArenaLayout a = ArenaLayout::for_sizes({100000, 3, 5000000});
  std::string mode;
  const auto idx = verification_indices(a, "auto", 100, 4096, &mode);
  EXPECT_EQ(mode, "sample");
  auto has = [&](int64_t i) { return std::binary_search(idx.begin(), idx.end(), i); };
  for (const auto& t : a.tensors) {
    EXPECT_TRUE(has(t.offset));
    EXPECT_TRUE(has(t.offset + t.numel - 1));
  }
  int lanes[8] = {0};
  for (auto i : idx)
    lanes[i % 8]++;
  for (int l = 0; l < 8; ++l)
    EXPECT_GT(lanes[l], 0) << "lane " << l;
  EXPECT_EQ(int64_t(verification_indices(a, "full", 100, 4096, nullptr).size()), a.params);
}

}  // namespace
}  // namespace nagbench
