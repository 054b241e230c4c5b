#!/usr/bin/env bash
# NCCL user-buffer registration (NAGBENCH_NCCL_REGISTER=1: arenas from ncclMemAlloc, ncclCommRegister) against
# NCCL's own staging (the default), interleaved in one call on the same GPUs (issues 12 and 14 list it as a lever):
# the --comm-only allreduce, the vit_l_16 data-parallel step (replicated and sharded, overlap on, 25 / 100 / 400
# MiB buckets) and the MLP training step of issue 12 beside PyTorch DDP. Binaries are carried
# (scripts/device/stage.sh new build/cuda). Results in $OUT/reg.tar.gz, re-packed after every step.
#   BUDGET=540 RANKS=2 bash scripts/device/nccl_register_ab.sh
# Sections: machine tests log comm dp mlp ddp (default all). ROUNDS (default 2) A/B rounds.
export NAGBENCH_BUILD=${NAGBENCH_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.device/new}
# shellcheck source=scripts/device/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck disable=SC2034 # read by step() (common.sh)
deadline=$((SECONDS + ${BUDGET:-540}))
export RES="$OUT/reg"
mkdir -p "$RES"
run="$repo/scripts/device/mpi_nagbench.sh"
pack() { tar -czf "$OUT/reg.tar.gz.tmp" -C "$OUT" reg && mv "$OUT/reg.tar.gz.tmp" "$OUT/reg.tar.gz"; }
gpus=$(nvidia-smi -L | wc -l)
np=${RANKS:-2}
((np > gpus)) && np=$gpus
mlp=(--problem mlp_4096x24 --dtype fp32 --optimizer sgd --lr 1e-3 --momentum 0.9 --weight-decay 0 --batch-size 2048
  --steps 30 --tf32 --comm nccl)
{
  if want machine; then
    step 20 "machine" bash -c 'nvidia-smi -L; nvidia-smi topo -m'
  fi
  if want tests; then
    step 180 "test_dp.py registered NCCL, cuda, 2 ranks" env NAGBENCH_BIN="$B/bin/nagbench" NAGBENCH_NP=2 \
      NAGBENCH_HAVE_NCCL=1 NAGBENCH_DP_BACKEND=cuda NAGBENCH_MPIRUN=mpirun "$repo/tests/cli/run_pytest.sh" -v \
      -k "registered or nccl_register" "$repo/tests/mpi/test_dp.py" 2>&1 | tail -20
  fi
  if want log; then
    # Whether NCCL takes the registered buffers: its REG subsystem says so.
    step 60 "NCCL REG log, registered" env NAGBENCH_NCCL_REGISTER=1 NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=REG,TUNING \
      "$run" "$np" reg_log --comm-only --comm nccl --comm-sizes 104857600 --comm-reps 1
    # (mpirun's output goes to this log; the record is reg_log.json)
  fi
  for round in $(seq 1 "${ROUNDS:-2}"); do
    for reg in 0 1; do
      if want comm; then
        step 60 "comm-only r$round reg=$reg" env NAGBENCH_NCCL_REGISTER=$reg "$run" "$np" \
          "comm_np${np}_reg${reg}_r$round" --comm-only --comm nccl --comm-min 4M --comm-max 1G --comm-reps 5
      fi
      if want dp; then
        step 120 "dp r$round reg=$reg" env NAGBENCH_NCCL_REGISTER=$reg "$run" "$np" "dp_np${np}_reg${reg}_r$round" \
          -m vit_l_16 -v multi_tensor --comm nccl --sharding replicated,sharded --overlap on \
          --bucket-mb 25,100,400 --steps 20
      fi
      if want mlp; then
        step 120 "mlp r$round reg=$reg" env NAGBENCH_NCCL_REGISTER=$reg "$run" "$np" "mlp_np${np}_reg${reg}_r$round" \
          "${mlp[@]}" --bucket-mb 100
      fi
    done
  done
  if want ddp; then
    step 120 "PyTorch DDP, same MLP" env -u OMP_PROC_BIND -u OMP_PLACES python3 \
      "$repo/scripts/device/torch_ddp_mlp.py" --gpus "$np" --json "$RES/torch_ddp_mlp_g$np.json"
  fi
} 2>&1 | tee "$RES/log.txt"
pack
