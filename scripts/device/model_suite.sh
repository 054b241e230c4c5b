#!/usr/bin/env bash
# The performance model's records on a GPU node (docs/reports.md, "The performance model"): the sweep generated
# on the build machine from inputs/sweeps/model-2gpu.yaml (or gpu-scaling.yaml on 4 GPUs), and NCCL's own choice of
# algorithm and protocol per allreduce size (NCCL_DEBUG_SUBSYS=TUNING), which fixes the per-step latency the model
# takes from NCCL's constants. Binaries are carried (scripts/device/stage.sh new build/cuda), never built here:
#   job_scripts/nagbench-sweep run inputs/sweeps/model-2gpu.yaml --system inputs/sweeps/systems/gpu-node-2.yaml \
#       --nagbench /work/main/build/cuda/bin/nagbench --out /work/main/.device/model-out --dry-run \
#       | sed 's|^nagbench=.*|nagbench=/work/main/.device/new/bin/nagbench|' > .device/model-sweep.sh
#   BUDGET=540 SECTIONS="machine sweep tuning" bash scripts/device/model_suite.sh
# Everything lands in $OUT/model.tar.gz (re-packed after every section).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export NAGBENCH_BUILD=${NAGBENCH_BUILD:-$repo/.device/new}
# shellcheck source=scripts/device/common.sh
source "$here/common.sh"
# shellcheck disable=SC2034 # read by step() (common.sh)
deadline=$((SECONDS + ${BUDGET:-300}))
RES=$OUT/model
mkdir -p "$RES"
pack() {
  cp -r "$repo/.device/model-out/." "$RES/" 2>/dev/null
  tar -czf "$OUT/model.tar.gz.tmp" -C "$OUT" model && mv "$OUT/model.tar.gz.tmp" "$OUT/model.tar.gz"
}
gpus=$(nvidia-smi -L | wc -l)
export RES gpus B
# NCCL's algorithm and protocol for each allreduce size, as its tuner logs them.
tuning() {
  local np
  for np in 2 4; do
    ((np > gpus)) && continue
    mpirun --allow-run-as-root -np "$np" -x NCCL_NVLS_ENABLE -x NCCL_DEBUG=INFO -x NCCL_DEBUG_SUBSYS=TUNING \
      -x LD_LIBRARY_PATH "$B/bin/nagbench" -b cuda -q --comm-only --comm nccl --comm-min 1M --comm-max 1G \
      --comm-reps 1 -o "$RES/tuning-np$np.json" >"$RES/tuning-np$np.log" 2>&1
    grep -E "Bytes -> Algo|Algo .* proto" "$RES/tuning-np$np.log" | sort | uniq -c | head -60 >"$RES/tuning-np$np.txt"
  done
}
# shellcheck disable=SC2034 # read by step() (common.sh)
STEP_FUNCTIONS="tuning"
{
  if want machine; then
    step 20 "machine" bash -c 'nvidia-smi -L; nvidia-smi topo -m; lscpu | head -20'
  fi
  if want sweep; then
    rm -rf "$repo/.device/model-out"
    step 500 "sweep (.device/model-sweep.sh)" bash "$repo/.device/model-sweep.sh"
  fi
  if want tuning; then
    step 60 "NCCL tuning log" tuning
  fi
} 2>&1 | tee "$OUT/model_suite.log"
pack
