#!/usr/bin/env bash
# Compiles every nagbench source (syntax only) against another Kokkos's headers, to catch code that only Kokkos
# 3.4 accepts. The headers come from Debian unstable packages that scripts/setup.sh unpacks (their libraries
# need a newer glibc than Debian 12's, so this checks compilation, not linking).
#
#   scripts/check_kokkos_compat.sh kokkos5 <compat dir>   # libkokkos-dev 5.2.2 (OpenMP), C++20
#   scripts/check_kokkos_compat.sh kokkos4 <compat dir>   # Trilinos 16.1: Kokkos 4.5.1 + Kokkos Kernels (Serial), C++17
set -euo pipefail
which=${1:?kokkos5 or kokkos4}
compat=${2:?compat dir}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

case "$which" in
  kokkos5)
    inc=(-I"$compat/kokkos-5.2.2/usr/include/kokkos")
    flags=(-std=c++20 -fopenmp)
    ;;
  kokkos4)
    inc=(-I"$compat/trilinos-16.1/usr/include/kokkos" -I"$compat/trilinos-16.1/usr/include/trilinos")
    flags=(-std=c++17 -DNAGBENCH_HAVE_KOKKOSKERNELS)
    ;;
  *) echo "unknown check '$which'" >&2; exit 2 ;;
esac
[[ -d "${inc[0]#-I}" ]] || { echo "skipped: no headers at ${inc[0]#-I} (scripts/setup.sh fetches them)"; exit 77; }
read -r -a mpi <<<"$(mpicxx --showme:compile 2>/dev/null || true)"

# The files CMake generates from the Kokkos install: the list of enabled execution spaces, and one instantiation of
# every run kind and benchmark per space, made here from the other Kokkos's own configuration.
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
config="${inc[0]#-I}/KokkosCore_config.h"
spaces=()
for s in Cuda OpenMP Serial; do
  grep -q "^#define KOKKOS_ENABLE_${s^^}\b" "$config" && spaces+=("Kokkos::$s")
done
mkdir -p "$gen/include/nagbench/core"
types=$(IFS=,; echo "${spaces[*]}" | sed 's/,/, /g')
macro=""
for s in "${spaces[@]}"; do macro+="M($s) "; done
sed -e "s/@NAGBENCH_BACKEND_TYPES@/$types/" -e "s/@NAGBENCH_BACKEND_MACRO_BODY@/$macro/" \
  "$repo/src/core/nagbench/core/enabled_backends.hpp.in" >"$gen/include/nagbench/core/enabled_backends.hpp"
generated=()
for s in "${spaces[@]}"; do
  name=$(echo "${s#Kokkos::}" | tr 'A-Z' 'a-z')
  sed "s/@NAGBENCH_EXEC@/$s/" "$repo/src/harness/nagbench/harness/instantiate_backend.cpp.in" >"$gen/instantiate_$name.cpp"
  sed "s/@NAGBENCH_EXEC@/$s/" "$repo/benchmarks/bench_backend.cpp.in" >"$gen/bench_$name.cpp"
  generated+=("$gen/instantiate_$name.cpp" "$gen/bench_$name.cpp")
done
roots=()
for layer in core optim workload comm roof harness app; do roots+=(-I"$repo/src/$layer"); done

mapfile -t sources < <(cd "$repo" && find src tests benchmarks -name '*.cpp' | sort)
# The Kokkos-free NCCL probe needs the CUDA toolkit's headers (NCCL's sit beside them); without them it is skipped.
cuda_inc=${CUDA_HOME:-/usr/local/cuda}/include
failed=0
sources+=("${generated[@]}")
for f in "${sources[@]}"; do
  extra=()
  if [[ "$f" != /* ]] && grep -q '#include <nccl.h>' "$repo/$f" && ! grep -q KOKKOS_ENABLE_CUDA "$repo/$f"; then
    [[ -f "$cuda_inc/nccl.h" ]] || { echo "skip $f (no CUDA/NCCL headers at $cuda_inc)"; continue; }
    extra=(-I"$cuda_inc")
  fi
  path=$f
  [[ "$f" == /* ]] || path=$repo/$f
  if ! out=$(g++ "${flags[@]}" -fsyntax-only -Wall "${inc[@]}" "${extra[@]}" "${roots[@]}" -I"$gen/include" \
      -I"$repo/tests" -I"$repo/benchmarks" "${mpi[@]}" -DNAGBENCH_HAVE_MPI -DNAGBENCH_VERSION='"compat"' "$path" 2>&1); then
    echo "FAIL $f"
    echo "$out" | grep -E "error" | head -5
    failed=1
  fi
done
echo "$which (${spaces[*]}): ${#sources[@]} files checked, $([[ $failed == 0 ]] && echo all compile || echo FAILURES)"
exit $failed
