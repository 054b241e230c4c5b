// torch.optim.SGD to the bit (issue 15). PyTorch's own trajectories (tests/data/torch_sgd_trajectories.json,
// made by scripts/device/torch_sgd_trajectories.py on the GPU machine: CPU single-tensor and foreach paths,
// the fused CUDA kernel) replayed through nagbench's variants with the torch arithmetic: every parameter and
// momentum buffer after every step bitwise equal to PyTorch's, on the host backends to its CPU results, on
// CUDA to its fused CUDA kernel's. And the other direction: the separate arithmetic is not PyTorch's (the
// comparison can fail).
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/provenance.hpp"
#include "nagbench/optim/sgd/sgd.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "support/backends.hpp"

namespace nagbench::test {
namespace {

const nlohmann::json& trajectories() {
  static const nlohmann::json doc = [] {
    const std::string path = executable_dir() + "/../share/nagbench/testdata/torch_sgd_trajectories.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("missing " + path);
    return nlohmann::json::parse(in);
  }();
  return doc;
}

template <class T>
std::vector<T> from_hex(const std::string& hex) {
  std::vector<T> out(hex.size() / 2 / sizeof(T));
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  for (size_t i = 0; i < hex.size() / 2; ++i)
    bytes[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

// Distance in units in the last place between two finite values of the same type.
template <class T>
int64_t ulps(T a, T b) {
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  I ia, ib;
  std::memcpy(&ia, &a, sizeof(T));
  std::memcpy(&ib, &b, sizeof(T));
  const auto ordered = [](I i) { return i < 0 ? std::numeric_limits<I>::min() - i : i; };
  const int64_t d = int64_t(ordered(ia)) - int64_t(ordered(ib));
  return d < 0 ? -d : d;
}

sgd::Hyper hyper_of(const nlohmann::json& j) {
  sgd::Hyper h;
  h.lr = j.at("lr");
  h.momentum = j.at("momentum");
  h.dampening = j.at("dampening");
  h.weight_decay = j.at("weight_decay");
  h.nesterov = j.at("nesterov");
  h.maximize = j.at("maximize");
  return h;
}

struct Outcome {
  int64_t compared = 0, differing = 0, max_ulps = 0;
};

// Runs one case through `variant` on Exec. Host: one continuous trajectory compared with `path` at every
// step. per_step: each step starts from PyTorch's own state of the step before (identical inputs).
template <class Exec, class T>
Outcome replay(const nlohmann::json& c, const std::string& path, const std::string& variant,
               Arithmetic arithmetic, bool per_step) {
  using Layout = std::conditional_t<std::is_same<T, float>::value, LayoutFp32, LayoutFp64>;
  using Rule = sgd::Rule<T>;
  using Mem = typename Exec::memory_space;
  const Exec exec;
  const sgd::Hyper h = hyper_of(c.at("hyper"));
  const int n = trajectories().at("n");
  const int steps = trajectories().at("steps");
  const ArenaLayout layout = ArenaLayout::for_sizes({n});
  ParamArena<Layout, Mem> arena(layout.length, 1, layout.length);
  Kokkos::deep_copy(arena.s[0], std::numeric_limits<T>::quiet_NaN());
  const auto p0 = from_hex<T>(c.at("p0"));
  const auto& want = c.at("paths").at(path);
  auto p_host = Kokkos::create_mirror_view(arena.p);
  auto g_host = Kokkos::create_mirror_view(arena.g);
  auto b_host = Kokkos::create_mirror_view(arena.s[0]);
  for (int i = 0; i < n; ++i)
    p_host(i) = p0[i];
  Kokkos::deep_copy(arena.p, p_host);
  auto v = make_variant<Exec, Layout, Rule>(variant);
  v->prepare(exec, UpdateGroups<Layout>{{arena.pointers(), layout.tensors}});
  const Rule rule(h, 1.0, arithmetic, 1);
  Outcome out;
  for (int k = 0; k < steps; ++k) {
    if (per_step && k > 0) {  // PyTorch's state before this step
      const auto p_prev = from_hex<T>(want.at("p")[k - 1]);
      const auto b_prev = from_hex<T>(want.at("b")[k - 1]);
      for (int i = 0; i < n; ++i) {
        p_host(i) = p_prev[i];
        b_host(i) = b_prev[i];
      }
      Kokkos::deep_copy(arena.p, p_host);
      Kokkos::deep_copy(arena.s[0], b_host);
    }
    const auto g = from_hex<T>(c.at("grads")[k]);
    for (int i = 0; i < n; ++i)
      g_host(i) = g[i];
    Kokkos::deep_copy(arena.g, g_host);
    v->step(exec, rule, k == 0, 0);
    Kokkos::fence();
    Kokkos::deep_copy(p_host, arena.p);
    Kokkos::deep_copy(b_host, arena.s[0]);
    const auto p_want = from_hex<T>(want.at("p")[k]);
    const auto b_want = from_hex<T>(want.at("b")[k]);
    for (int i = 0; i < n; ++i) {
      const int64_t dp = ulps(p_host(i), p_want[i]);
      const int64_t db = h.has_momentum() ? ulps(b_host(i), b_want[i]) : 0;
      out.compared += 1;
      out.differing += (dp != 0 || db != 0);
      out.max_ulps = std::max(out.max_ulps, std::max(dp, db));
    }
  }
  return out;
}

template <class Exec>
class TorchArithmetic : public ::testing::Test {};
TYPED_TEST_SUITE(TorchArithmetic, EnabledBackends, BackendName);

TYPED_TEST(TorchArithmetic, PyTorchsOwnDataAgreeWithThemselves) {
  // PyTorch's CPU single-tensor and foreach paths give the same bits: the reference is one reference.
  for (const auto& c : trajectories().at("cases")) {
    const auto& paths = c.at("paths");
    EXPECT_EQ(paths.at("cpu_single"), paths.at("cpu_foreach")) << c.at("name") << " " << c.at("dtype");
  }
}

TYPED_TEST(TorchArithmetic, MatchesPyTorchBitForBit) {
  using Exec = TypeParam;
  constexpr bool host = is_host_space<Exec>();
  if (!host && !trajectories().at("cases")[0].at("paths").contains("cuda_fused"))
    GTEST_SKIP() << "no CUDA trajectories in the data";
  for (const auto& c : trajectories().at("cases")) {
    for (const std::string variant : {"naive", "fused", "multi_tensor"}) {
      const std::string what = std::string(c.at("name")) + " " + std::string(c.at("dtype")) + " " + variant;
      const bool fp32 = c.at("dtype") == "fp32";
      const std::string path = host ? "cpu_single" : "cuda_fused";
      const Outcome o = fp32 ? replay<Exec, float>(c, path, variant, Arithmetic::torch, false)
                             : replay<Exec, double>(c, path, variant, Arithmetic::torch, false);
      EXPECT_EQ(o.differing, 0) << what << ": " << o.differing << " of " << o.compared
                                << " element-steps differ from PyTorch's " << path << " bits, up to "
                                << o.max_ulps << " ulp";
    }
  }
}

TYPED_TEST(TorchArithmetic, SeparateArithmeticIsNotPyTorchs) {
  using Exec = TypeParam;
  if (!is_host_space<Exec>()) GTEST_SKIP() << "host comparison";
  int64_t differing = 0;
  for (const auto& c : trajectories().at("cases"))
    if (c.at("dtype") == "fp32")
      differing += replay<Exec, float>(c, "cpu_single", "fused", Arithmetic::separate, false).differing;
  EXPECT_GT(differing, 0)
      << "rounding every product apart gave PyTorch's bits everywhere: the test could not fail";
}

}  // namespace
}  // namespace nagbench::test
