#!/usr/bin/env bash
# README command 1: installs what is missing, builds the OpenMP flavour and runs the default benchmark, a
# Nesterov step of ResNet-50's 25.6M parameters (161 tensors) on the CPU, printing a table and writing a JSON record.
# Extra arguments go to nagbench (e.g. --model vit_l_16).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
NAGBENCH_CUDA=${NAGBENCH_CUDA:-off} NAGBENCH_COMPAT=${NAGBENCH_COMPAT:-off} "$here/setup.sh"
"$here/build.sh" openmp -DNAGBENCH_ENABLE_TESTS=OFF >/dev/null
mkdir -p "$repo/out"
out="$repo/out/default-$(hostname -s).json"
export OMP_PROC_BIND=${OMP_PROC_BIND:-spread} OMP_PLACES=${OMP_PLACES:-threads}
"$repo/build/openmp/bin/nagbench" --backend openmp --model resnet50 --output "$out" "$@"
echo "JSON record: $out"
