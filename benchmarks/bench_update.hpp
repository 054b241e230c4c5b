#pragma once
#include <string>
#include <vector>

namespace nagbench::bench {

struct Options {
  std::vector<std::string> backends;  // default: every compiled backend except serial (when OpenMP exists)
  int max_log2 = 28;                  // sizes 2^10, 2^12, ..., 2^max_log2
  int host_max_log2 = 26;             // the same on host backends
};

// Registers update benchmarks (variant x dtype x size, and the model tensor lists) and the copy/nstream roof
// benchmarks for every selected backend.
void register_all(const Options& opt);

// One backend's benchmarks; defined in bench_update_impl.hpp and instantiated once per enabled execution
// space in files CMake generates (benchmarks/CMakeLists.txt), so the backends compile in parallel.
template <class Exec>
void register_backend(const std::string& backend, const Options& opt);

}  // namespace nagbench::bench
