#pragma once
// The update benchmarks for one backend: every variant and dtype layout over sizes 2^10 ... 2^28, the model
// tensor lists, and the copy / nstream roof kernels. Manual timing around fences; bytes/s from the one bytes
// table (optim/bytes.hpp, derived from the rule's state list) and params/s as Google Benchmark rates. Each
// benchmark first runs three steps on fresh random inputs and checks them against the float64 reference; a
// failure is reported with SkipWithError.
#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>
#include <string>
#include <vector>

#include "bench_update.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/timer.hpp"
#include "nagbench/harness/checked_steps.hpp"
#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/sgd/sgd.hpp"
#include "nagbench/optim/variants/registry.hpp"
#include "nagbench/roof/stream.hpp"
#include "nagbench/workload/model.hpp"
#include "nagbench/workload/synthetic/synthetic.hpp"

namespace nagbench::bench {

template <class Exec, class Layout>
void run_update_benchmark(benchmark::State& st, const std::string& variant_name,
                          const std::vector<int64_t>& sizes) {
  using Opt = sgd::Sgd;
  using Rule = Opt::Rule<typename Layout::compute_t>;
  const Exec exec;
  const Opt::Hyper h;  // the driver's defaults: Nesterov, momentum 0.9, weight decay 1e-4
  const auto states = Opt::states(h);
  const ArenaLayout layout = ArenaLayout::for_sizes(sizes);
  ParamArena<Layout, typename Exec::memory_space> arena(layout.length, int(states.size()), layout.length);
  const uint64_t seed = 7;
  synthetic::SyntheticWorkload<Exec, Layout> workload(seed, 0);
  const synthetic::SyntheticReplay<Layout> replay(seed);
  workload.initialize(exec, arena.pointers(), layout);
  poison_states(exec, arena);
  auto variant = make_variant<Exec, Layout, Rule>(variant_name);
  variant->prepare(exec, UpdateGroups<Layout>{{arena.pointers(), layout.tensors}});
  const Rule rule(h);
  const VerifyResult v = run_checked_steps<Opt>(exec, arena, layout, workload, replay, *variant, h, rule, 3,
                                                "sample", int64_t(1) << 16);
  if (!v.passed) {
    st.SkipWithError(
        ("result differs from the float64 reference: " + std::to_string(v.mismatches) + " mismatches")
            .c_str());
    return;
  }
  for (auto _ : st)
    st.SetIterationTime(time_fenced([&]() { variant->step(exec, rule, false, 0); }));
  const int bytes = min_bytes_per_param(Layout::id, states).total();
  st.SetBytesProcessed(int64_t(st.iterations()) * bytes * layout.params);
  st.SetItemsProcessed(int64_t(st.iterations()) * layout.params);
  st.counters["params"] = double(layout.params);
  st.counters["tensors"] = double(layout.tensors.size());
  st.counters["bytes_per_param"] = bytes;
}

template <class Exec>
void run_roof_benchmark(benchmark::State& st, bool nstream, int64_t bytes_per_array) {
  // One probe per repetition of measure_roof's own kernels, reported as time per kernel.
  for (auto _ : st) {
    const RoofResult r = measure_roof(Exec(), bytes_per_array, 5);
    const double gbps = nstream ? r.nstream_GBps : r.copy_GBps;
    const int arrays = nstream ? 4 : 2;
    st.SetIterationTime(double(arrays) * double(bytes_per_array) / (gbps * 1e9));
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * (nstream ? 4 : 2) * bytes_per_array);
}

template <class Exec>
void register_backend(const std::string& backend, const Options& opt) {
  const bool host = is_host_space<Exec>();
  const int max_log2 = host ? opt.host_max_log2 : opt.max_log2;
  auto add = [&](const std::string& name, auto&& fn) {
    benchmark::RegisterBenchmark(name.c_str(), fn)->UseManualTime()->Unit(benchmark::kMicrosecond);
  };
  auto sizes_of = [](int log2) { return std::vector<int64_t>{int64_t(1) << log2}; };
  for (int lg = 10; lg <= max_log2; lg += 2) {
    const std::string size = "/2^" + std::to_string(lg);
    for (const std::string v : {"naive", "fused", "multi_tensor", "unfused"}) {
      bool kk = v != "unfused";
#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
      kk = true;
#endif
      if (!kk) continue;
      add("update/" + backend + "/fp32/" + v + size,
          [=](benchmark::State& st) { run_update_benchmark<Exec, LayoutFp32>(st, v, sizes_of(lg)); });
      add("update/" + backend + "/fp64/" + v + size,
          [=](benchmark::State& st) { run_update_benchmark<Exec, LayoutFp64>(st, v, sizes_of(lg)); });
      if (v == "unfused") continue;
      add("update/" + backend + "/bf16/" + v + size,
          [=](benchmark::State& st) { run_update_benchmark<Exec, LayoutBf16>(st, v, sizes_of(lg)); });
      add("update/" + backend + "/bf16_master/" + v + size,
          [=](benchmark::State& st) { run_update_benchmark<Exec, LayoutBf16Master>(st, v, sizes_of(lg)); });
    }
  }
  for (const std::string model : {"resnet50", "vit_l_16"}) {
    std::vector<int64_t> sizes;
    try {
      for (const auto& t : load_model(model, "").tensors)
        sizes.push_back(t.numel);
    } catch (...) {
      continue;  // models not found (NAGBENCH_MODELS_DIR unset outside the build tree)
    }
    int64_t total = 0;
    for (auto n : sizes)
      total += n;
    if (total > (int64_t(1) << max_log2) * 2) continue;
    for (const std::string v : {"naive", "fused", "multi_tensor"})
      add("model/" + backend + "/fp32/" + v + "/" + model,
          [=](benchmark::State& st) { run_update_benchmark<Exec, LayoutFp32>(st, v, sizes); });
  }
  const int64_t roof_bytes = host ? (int64_t(256) << 20) : (int64_t(1) << 30);
  add("roof/" + backend + "/copy",
      [=](benchmark::State& st) { run_roof_benchmark<Exec>(st, false, roof_bytes); });
  add("roof/" + backend + "/nstream",
      [=](benchmark::State& st) { run_roof_benchmark<Exec>(st, true, roof_bytes); });
}

}  // namespace nagbench::bench
