#!/usr/bin/env bash
# README command 2: installs what is missing, builds and runs the whole test suite.
#   - OpenMP flavour: every test (unit tests per backend, MPI tests at 1/2/3 ranks, CLI, benchmark smoke tests,
#     compile checks against Kokkos 4.5 and 5.2 headers);
#   - CUDA flavour, when nvcc is present: on a machine with a GPU, built whole (build/cuda) and every test run;
#     without one, the nagbench binary built with host code unoptimised (build/cuda-check: proves that it compiles
#     and links) and its `nogpu` test run (a CUDA build cannot start Kokkos without a GPU).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
"$here/setup.sh"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
jobs=${NAGBENCH_JOBS:-$(nproc)}

# Tests and benchmarks are switched on explicitly: the default-benchmark command may have configured the same
# folder without them, and "no tests found" must never pass (--no-tests=error).
"$here/build.sh" openmp -DNAGBENCH_ENABLE_TESTS=ON -DNAGBENCH_ENABLE_BENCHMARKS=ON
(cd "$repo/build/openmp" && ctest --output-on-failure --no-tests=error -j "$jobs")

if [[ -f "$NAGBENCH_KOKKOS_CUDA/.nagbench-stamp" && "${NAGBENCH_CUDA:-auto}" != off ]]; then
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    "$here/build.sh" cuda -DNAGBENCH_ENABLE_TESTS=ON -DNAGBENCH_ENABLE_BENCHMARKS=ON
    (cd "$repo/build/cuda" && ctest --output-on-failure --no-tests=error)
  else
    # No GPU: a CUDA build cannot start Kokkos here, so the check is that the CUDA binary compiles and links
    # (build/cuda-check, host code unoptimised) and that it says so clearly when started without a GPU. The
    # source-compatibility checks and the Python tools' tests do not depend on the build: the OpenMP build above
    # ran them already.
    echo "[run_tests] no GPU here: building the CUDA binary (compile-and-link check) and running its no-GPU test"
    "$here/build.sh" cuda-check
    (cd "$repo/build/cuda-check" && ctest --output-on-failure --no-tests=error -L nogpu -LE scripts -E '^compat_')
  fi
fi
echo "[run_tests] all tests passed"
