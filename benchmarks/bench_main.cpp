// main() of the Google Benchmark suite: Kokkos started once around all benchmarks, and the context of every
// result file says how it was built and where it ran (Kokkos version and configuration, git commit, devices),
// as Kokkos' own perf tests do (core/perf_test/Benchmark_Context.cpp).
#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "bench_update.hpp"
#include "nagbench/core/backends.hpp"
#include "nagbench/core/provenance.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/record_common.hpp"
#include "nagbench/harness/runtime.hpp"

namespace {

// Our own flags, taken out of argv before Google Benchmark sees it.
nagbench::bench::Options take_options(int& argc, char** argv) {
  nagbench::bench::Options o;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 ? argv[i] + n : nullptr;
    };
    if (const char* v = value("--nagbench_backends=")) {
      o.backends.clear();
      std::stringstream ss(v);
      for (std::string b; std::getline(ss, b, ',');)
        o.backends.push_back(b);
    } else if (const char* v = value("--nagbench_max_log2=")) {
      o.max_log2 = std::atoi(v);
    } else if (const char* v = value("--nagbench_host_max_log2=")) {
      o.host_max_log2 = std::atoi(v);
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  nagbench::bench::Options opt = take_options(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  int device = -1;
#ifdef KOKKOS_ENABLE_CUDA
  std::string why;
  const int gpus = nagbench::visible_gpu_count(&why);
  if (gpus == 0) {
    std::fprintf(stderr, "nagbench_bench: error: this CUDA build needs a visible GPU (%s)\n", why.c_str());
    return 2;
  }
  device = 0;
#endif
  nagbench::KokkosSession kokkos(device, {"--kokkos-disable-warnings"});
  // The enabled Kokkos options on one line (print_configuration's "yes" lines), to keep the console header
  // short.
  std::ostringstream full;
  Kokkos::print_configuration(full, false);
  std::istringstream lines(full.str());
  std::string kcfg;
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(": yes");
    if (colon == std::string::npos) continue;
    const auto start = line.find_first_not_of(" \t");
    kcfg += (kcfg.empty() ? "" : ", ") + line.substr(start, colon - start);
  }
  benchmark::AddCustomContext("nagbench_version", NAGBENCH_VERSION);
  benchmark::AddCustomContext("git_commit", nagbench::git_commit());
  benchmark::AddCustomContext("git_dirty", nagbench::git_dirty() ? "true" : "false");
  benchmark::AddCustomContext("kokkos_version", nagbench::kokkos_version_string());
  benchmark::AddCustomContext("kokkos_configuration", kcfg);
  benchmark::AddCustomContext("hostname", nagbench::host_name());
  for (const auto& b : nagbench::compiled_backend_names()) {
    const auto dev = nagbench::describe_device(b);
    benchmark::AddCustomContext("device_" + b, dev.name + (dev.kind == "gpu" ? " [" + dev.uuid + "]" : ""));
  }
  nagbench::bench::register_all(opt);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
