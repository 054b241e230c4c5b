#!/usr/bin/env bash
# On a GPU machine: the Google Benchmark suite on the GPU (every variant x dtype x size, model lists, roof) and on
# the host's OpenMP threads (fp32/fp64 up to 2^26), plus the nagbench driver on the host. JSON under $OUT.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
{
  "$B/bin/nagbench_bench" --nagbench_backends=cuda --benchmark_min_time=0.1 \
    --benchmark_out="$OUT/gbench_cuda.json" --benchmark_out_format=json
  python3 "$repo/benchmarks/check_results.py" "$OUT/gbench_cuda.json" --expect 100
  OMP_NUM_THREADS=$(nproc)
  export OMP_NUM_THREADS
  "$B/bin/nagbench_bench" --nagbench_backends=openmp --nagbench_host_max_log2=26 \
    --benchmark_filter='fp32|fp64|roof' --benchmark_min_time=0.1 \
    --benchmark_out="$OUT/gbench_openmp.json" --benchmark_out_format=json
  python3 "$repo/benchmarks/check_results.py" "$OUT/gbench_openmp.json" --expect 40
  mkdir -p "$OUT/host"
  for m in single_2p28 resnet50; do
    "$B/bin/nagbench" -q -b openmp -m "$m" -v fused -n 10 -o "$OUT/host/openmp_${m}_fp32_fused.json"
  done
} 2>&1 | tee "$OUT/gbench_log.txt" | grep -vE "^(update|model|roof)/" | tail -40
