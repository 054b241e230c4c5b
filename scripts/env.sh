# shellcheck shell=bash
# Sourced by the scripts in this folder: where the cache and the Kokkos installs live.
# Override NAGBENCH_CACHE to move everything (e.g. to a shared project space on a cluster).
: "${NAGBENCH_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/nagbench}"
: "${CUDA_HOME:=/usr/local/cuda}"
# The CUDA install's name says its GPU architecture: Kokkos 3.4 bakes one arch in (here Hopper, sm_90).
NAGBENCH_KOKKOS_OPENMP="$NAGBENCH_CACHE/kokkos-3.4.01-openmp"
NAGBENCH_KOKKOS_CUDA="$NAGBENCH_CACHE/kokkos-3.4.01-cuda-sm90"
export NAGBENCH_CACHE CUDA_HOME NAGBENCH_KOKKOS_OPENMP NAGBENCH_KOKKOS_CUDA
