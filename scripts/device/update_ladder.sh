#!/usr/bin/env bash
# On a GPU machine: the device facts, the CUDA build's tests, then the single-GPU update ladder (every variant,
# dtype and model of issue "GPU performance") on CUDA and the host's OpenMP threads. Records land in
# $OUT/records/, a summary in $OUT/summary.txt.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rec="$OUT/records"
mkdir -p "$rec"
{
  nvidia-smi --query-gpu=index,name,uuid,memory.total,clocks.max.sm,clocks.max.mem,driver_version --format=csv
  nproc
  ldd "$B/bin/nagbench" | grep -E "not found|cudart|cublas|mpi|yaml|benchmark" || true
} 2>&1 | tee "$OUT/device.txt"

if [[ "${SKIP_CTEST:-0}" != 1 ]]; then
  (cd "$B" && ctest --output-on-failure -j 4 2>&1) | tee "$OUT/ctest.txt" | tail -25
fi

nb() {  # nb <record name> <nagbench args...>
  local name=$1
  shift
  echo "=== $name: nagbench $*"
  "$B/bin/nagbench" -q -o "$rec/$name.json" "$@" 2>&1 | grep -vE "^$"
}
{
  for v in naive fused multi_tensor unfused; do nb "cuda_single2p28_fp32_$v" -b cuda -m single_2p28 -v "$v"; done
  for v in naive fused multi_tensor unfused; do nb "cuda_2p27_fp64_$v" -b cuda --params 2^27 -d fp64 -v "$v"; done
  for v in naive fused multi_tensor unfused; do nb "cuda_vit_l_16_fp32_$v" -b cuda -m vit_l_16 -v "$v"; done
  for v in naive fused multi_tensor unfused; do nb "cuda_resnet50_fp32_$v" -b cuda -m resnet50 -v "$v"; done
  for d in bf16 bf16_master; do
    for v in naive fused multi_tensor; do nb "cuda_single2p28_${d}_$v" -b cuda -m single_2p28 -d "$d" -v "$v"; done
  done
  OMP_NUM_THREADS=$(nproc)
  export OMP_NUM_THREADS
  for v in naive fused multi_tensor; do nb "openmp_single2p28_fp32_$v" -b openmp -m single_2p28 -v "$v" -n 10; done
  nb "openmp_resnet50_fp32_fused" -b openmp -m resnet50 -v fused
} 2>&1 | tee "$OUT/ladder.txt"
python3 "$repo/scripts/summarize.py" "$rec" | tee "$OUT/summary.txt"
tar -czf "$OUT/records.tar.gz" -C "$OUT" records && rm -rf "$rec"
# The machine code of every kernel, for docs/performance.md (cuobjdump runs only where a GPU toolkit has it).
command -v cuobjdump >/dev/null && cuobjdump -sass "$B/bin/nagbench" | gzip -9 >"$OUT/nagbench.sass.gz"
