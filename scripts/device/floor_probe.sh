#!/usr/bin/env bash
# Where the small-model update's time goes on one GPU (issue 14's resnet50 multi_tensor gap): the wall time of a
# timed step (fence, launch, fence) at sizes from 1 Ki parameters (the fixed cost alone) to resnet50's 25.6M, as
# one flat tensor and as resnet50's 161 tensors, and the kernel's own duration from Nsight Systems where the
# machine has it (else Nsight Compute), and the same fixed costs in plain CUDA (scripts/device/launch_probe.cu, built
# into .device/probe/). Binaries are carried (scripts/device/stage.sh new build/cuda). Results: $OUT/floor.tar.gz.
#   BUDGET=300 bash scripts/device/floor_probe.sh
export NAGBENCH_BUILD=${NAGBENCH_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.device/new}
# shellcheck source=scripts/device/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck disable=SC2034 # read by step() (common.sh)
deadline=$((SECONDS + ${BUDGET:-300}))
RES=$OUT/floor
mkdir -p "$RES"
pack() { tar -czf "$OUT/floor.tar.gz.tmp" -C "$OUT" floor && mv "$OUT/floor.tar.gz.tmp" "$OUT/floor.tar.gz"; }
NB=$B/bin/nagbench
STEPS=${STEPS:-200}
{
  step 20 "machine" bash -c 'nvidia-smi -L; which nsys ncu; nsys --version 2>/dev/null | head -1'
  for size in 1024 65536 1048576 25557032; do
    step 60 "flat $size" "$NB" -b cuda -q --params "$size" -v fused,multi_tensor -d fp32 -n "$STEPS" \
      -o "$RES/flat_$size.json"
  done
  probe=$repo/.device/probe/launch_probe # nvcc -O3 -std=c++17 -arch=sm_90 scripts/device/launch_probe.cu
  if [[ -x $probe ]]; then
    step 60 "launch probe (plain CUDA)" "$probe" --params 25557032 --reps 400 --json "$RES/launch_probe.json"
  fi
  step 60 "resnet50" "$NB" -b cuda -q -m resnet50 -v fused,multi_tensor -d fp32 -n "$STEPS" -o "$RES/resnet50.json"
  if command -v nsys >/dev/null; then
    step 120 "nsys resnet50 multi_tensor" nsys profile -t cuda -o "$RES/resnet50_mt" -f true "$NB" -b cuda -q \
      -m resnet50 -v multi_tensor -d fp32 -n 50 --roof-reps 5 --verify off
    step 60 "nsys stats" nsys stats -r cuda_gpu_kern_sum,cuda_api_sum -f csv -o "$RES/resnet50_mt" \
      "$RES/resnet50_mt.nsys-rep"
    rm -f "$RES"/*.sqlite
  elif command -v ncu >/dev/null; then
    # The kernel's own duration (no launch, no fence), 10 launches after the warm-up.
    step 150 "ncu resnet50 multi_tensor" ncu --kernel-name-base demangled --kernel-name regex:MultiTensorVariant --launch-skip 20 --launch-count 10 \
      --metrics gpu__time_duration.sum,dram__bytes.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed \
      --csv "$NB" -b cuda -q -m resnet50 -v multi_tensor -d fp32 -n 40 --roof-reps 5 --verify off \
      >"$RES/ncu_resnet50_mt.csv"
    step 150 "ncu flat 25557032 fused" ncu --kernel-name-base demangled --kernel-name regex:FusedVariant --launch-skip 20 --launch-count 10 \
      --metrics gpu__time_duration.sum,dram__bytes.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed \
      --csv "$NB" -b cuda -q --params 25557032 -v fused -d fp32 -n 40 --roof-reps 5 --verify off \
      >"$RES/ncu_flat_fused.csv"
  fi
} 2>&1 | tee "$RES/floor.log"
