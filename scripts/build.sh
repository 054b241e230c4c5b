#!/usr/bin/env bash
# Configures and builds nagbench against the Kokkos that scripts/setup.sh installed.
#
#   scripts/build.sh openmp [extra cmake args]   -> build/openmp   (Kokkos OpenMP + Serial)
#   scripts/build.sh cuda   [extra cmake args]   -> build/cuda     (Kokkos CUDA (sm_90) + OpenMP + Serial)
#   scripts/build.sh openmp-asan [extra args]    -> build/openmp-asan (ASan + UBSan, -Wall -Wextra -Werror; CI)
#   scripts/build.sh cuda-check [extra args]     -> build/cuda-check (the CUDA binary, host code unoptimised: the
#                                                   compile-and-link check of machines without a GPU, run_tests.sh)
#   scripts/build.sh cuda-mpicuda [extra args]   -> build/cuda-mpicuda (CUDA, linked to the CUDA-aware Open MPI of
#                                                   scripts/build_cuda_aware_mpi.sh; tests and benchmarks off)
#
# To build against your own Kokkos instead, skip this script: see README "Build against your own Kokkos".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=scripts/env.sh
source "$here/env.sh"
flavor=${1:?usage: scripts/build.sh openmp|cuda [cmake args]}
shift

build_type=Release
flags=()
targets=()
case "$flavor" in
  openmp) prefix=$NAGBENCH_KOKKOS_OPENMP; compiler=() ;;
  openmp-asan)
    prefix=$NAGBENCH_KOKKOS_OPENMP
    compiler=()
    build_type=RelWithDebInfo
    # -O1 -g1 (line tables: sanitizer stacks keep file:line) and OpenMP only (the Serial instantiations repeat the
    # same host code): half the compile time of -O2 -g with both, which CI's 45 minutes need.
    flags=(-DNAGBENCH_SANITIZE=ON -DNAGBENCH_WERROR=ON -DNAGBENCH_ENABLE_BENCHMARKS=OFF
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DNAGBENCH_EXEC_SPACES=OpenMP)
    ;;
  cuda) prefix=$NAGBENCH_KOKKOS_CUDA; compiler=(-DCMAKE_CXX_COMPILER="$prefix/bin/nvcc_wrapper") ;;
  cuda-check)
    # Without a GPU nothing of a CUDA build can run but its no-GPU test: this proves that every source compiles for
    # the GPU (device code optimised by ptxas as usual) and that the binary links. Host code at -O0 and only the
    # nagbench binary halve the time (CI's 45 minutes); the unit tests and benchmarks of the CUDA flavour are built
    # by `scripts/build.sh cuda`, on the GPU machine that runs them.
    prefix=$NAGBENCH_KOKKOS_CUDA
    compiler=(-DCMAKE_CXX_COMPILER="$prefix/bin/nvcc_wrapper")
    flags=(-DNAGBENCH_ENABLE_TESTS=ON -DNAGBENCH_ENABLE_BENCHMARKS=OFF "-DCMAKE_CXX_FLAGS_RELEASE=-O0 -DNDEBUG")
    targets=(--target nagbench)
    ;;
  cuda-mpicuda)
    prefix=$NAGBENCH_KOKKOS_CUDA
    compiler=(-DCMAKE_CXX_COMPILER="$prefix/bin/nvcc_wrapper")
    ompi=$NAGBENCH_CACHE/openmpi-4.1.4-cuda
    [[ -f "$ompi/.nagbench-stamp" ]] || { echo "build.sh: no CUDA-aware Open MPI; run scripts/build_cuda_aware_mpi.sh" >&2; exit 2; }
    flags=(-DMPI_HOME="$ompi" -DMPIEXEC_EXECUTABLE="$ompi/bin/mpirun" -DNAGBENCH_ENABLE_TESTS=OFF
      -DNAGBENCH_ENABLE_BENCHMARKS=OFF)
    ;;
  *) echo "build.sh: unknown flavor '$flavor' (openmp, cuda, cuda-check, openmp-asan or cuda-mpicuda)" >&2; exit 2 ;;
esac
[[ -f "$prefix/.nagbench-stamp" ]] || { echo "build.sh: no Kokkos at $prefix; run scripts/setup.sh first" >&2; exit 2; }

bdir="$repo/build/$flavor"
export PATH="$CUDA_HOME/bin:$PATH"
cmake -S "$repo" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=$build_type -DCMAKE_CXX_EXTENSIONS=OFF \
  -DCMAKE_PREFIX_PATH="$prefix" "${compiler[@]}" "${flags[@]}" -DNAGBENCH_COMPAT_DIR="$NAGBENCH_CACHE/compat" "$@" >/dev/null
cmake --build "$bdir" -j "${NAGBENCH_JOBS:-$(nproc)}" "${targets[@]}"
