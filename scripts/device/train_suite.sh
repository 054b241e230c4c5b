#!/usr/bin/env bash
# The GPU-machine runs of the training issues (11: workloads that converge; 12: the allreduce hidden behind a real
# backward pass, side by side with PyTorch DDP), in sections under a global deadline (BUDGET seconds); everything
# lands in $OUT/train.tar.gz, re-packed after every step. The CUDA build is carried in .device/new
# (scripts/device/stage.sh new build/cuda), never built here.
#
#   BUDGET=560 SECTIONS="machine unit tests converge" bash scripts/device/train_suite.sh
#   BUDGET=560 SECTIONS="mlp ddp" bash scripts/device/train_suite.sh
# Sections: machine unit tests converge mlp ddp kernels. NPR=4 (default 2): the rank count of the multi-GPU runs;
# MLP_RANKS="2 4" (default NPR), MLP_BUCKETS="50 100 200" (MiB, default "25 100"), MLP_PHASED=0 (skip the phased
# run), MLP_NORMAL_PRIORITY=1 (add a run with the reductions at normal priority) and MLP_COMBOS="16:16 0:24" (NCCL
# channels:backward GEMMs' SM carve-out pairs, default "4:0 8:0 16:0"; none: no such runs), MLP_FIRST_BUCKET=1 (add a
# run with --first-bucket-mb 1), MLP_P2P="shard:100 push:200 pushmemop:100 repl:100 ncclshard:100" (mode:bucket
# MiB pairs: the fused reduce-update, --comm p2p, sharded with the default reduction / pull: sharded pull / push:
# sharded push by copy engines / pushsm: sharded push by SM stores / push with flags by stream memory operations /
# replicated; NCCL sharded): the MLP
# runs; DDP_GPUS="1 2" (default): the PyTorch runs.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export NAGBENCH_BUILD=${NAGBENCH_BUILD:-$repo/.device/new}
# shellcheck source=scripts/device/common.sh
source "$here/common.sh"
NB=$B/bin/nagbench
# scikit-learn's data files (Debian's python3-sklearn on the build machine), carried in .device/data when the GPU
# image has no scikit-learn.
[[ -d $repo/.device/data ]] && export NAGBENCH_DATA_DIR=${NAGBENCH_DATA_DIR:-$repo/.device/data}
# breast_cancer logreg (lambda 1e-2, seed 20261127): 1/L, the strongly convex beta, and SciPy's L-BFGS optimum
# times (1 + 5e-9), computed on the build machine with tests/train/theory.py.
export LOGREG_LR=${LOGREG_LR:-0.2973867133515997} LOGREG_BETA=${LOGREG_BETA:-0.8965738092890906}
export LOGREG_TARGET=${LOGREG_TARGET:-0.08885990374526978} LOGREG_OPT=${LOGREG_OPT:-0.08885990330097027}
# shellcheck disable=SC2034 # used by step (common.sh)
deadline=$((SECONDS + ${BUDGET:-300}))
RES=$OUT/train
mkdir -p "$RES"
pack() { tar -czf "$OUT/train.tar.gz.tmp" -C "$OUT" train && mv "$OUT/train.tar.gz.tmp" "$OUT/train.tar.gz"; }
# shellcheck disable=SC2034 # used by step (common.sh)
STEP_FUNCTIONS="one mpi converge mlp_runs ddp_runs kernel_list"
gpus=$(nvidia-smi -L | wc -l)
cores=$(lscpu -p=SOCKET,CORE | grep -v '^#' | sort -u | wc -l)
export RES gpus cores NB repo
one() {
  local name=$1
  shift
  OMP_NUM_THREADS=$cores "$NB" -q -o "$RES/$name.json" "$@" >"$RES/$name.txt" 2>&1
  echo "$name: exit $?"
}
mpi() {
  local np=$1 name=$2 threads=$((cores / gpus))
  shift 2
  mpirun --allow-run-as-root -np "$np" --map-by ppr:"$np":node:PE="$threads" --bind-to core \
    --mca btl_vader_single_copy_mechanism none -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH -x OMP_NUM_THREADS="$threads" \
    ${NCCL_MAX_NCHANNELS:+-x NCCL_MAX_NCHANNELS} ${NAGBENCH_P2P_REDUCE:+-x NAGBENCH_P2P_REDUCE} ${NAGBENCH_P2P_FLAGS:+-x NAGBENCH_P2P_FLAGS} -x OMP_PROC_BIND -x OMP_PLACES "$NB" -q -o "$RES/$name.json" "$@" \
    >"$RES/$name.txt" 2>&1
  echo "$name: exit $?"
}
# Convergence: the quadratic (theory next to the measurement), logreg and the digits MLP, on 1 and 2 GPUs (NCCL);
# the same on the host cores (OpenMP) for CUDA vs OpenMP on the same node and inputs.
converge() {
  local n=16777216
  # lr = 1/L, beta = (sqrt(kappa)-1)/(sqrt(kappa)+1); heavy ball's optimal pair (tests/train/test_train.py).
  for r in 1 "${NPR:-2}"; do
    local run=one pre=()
    if ((r > 1)); then run="mpi"; pre=("$r"); fi
    for kap in 1e2 1e4; do
      local hb_lr hb_b nb_b lr
      lr=$(python3 -c "print(1/$kap)")
      nb_b=$(python3 -c "import math;k=$kap;print((math.sqrt(k)-1)/(math.sqrt(k)+1))")
      hb_lr=$(python3 -c "import math;print(4/(math.sqrt($kap)+1)**2)")
      hb_b=$(python3 -c "import math;k=$kap;print(((math.sqrt(k)-1)/(math.sqrt(k)+1))**2)")
      local common=(-b cuda --problem "quadratic_k$kap" --params "$n" --dtype fp32 --target 1e-6 --steps 200000 --comm nccl)
      ((r == 1)) && common=(-b cuda --problem "quadratic_k$kap" --params "$n" --dtype fp32 --target 1e-6 --steps 200000)
      $run "${pre[@]}" "quad_k${kap}_gd_r$r" "${common[@]}" --optimizer gd --lr "$lr"
      $run "${pre[@]}" "quad_k${kap}_hb_r$r" "${common[@]}" --optimizer heavy_ball --lr "$hb_lr" --beta "$hb_b"
      $run "${pre[@]}" "quad_k${kap}_nag_r$r" "${common[@]}" --optimizer nesterov1983 --lr "$lr" --beta "$nb_b"
      $run "${pre[@]}" "quad_k${kap}_nagsched_r$r" "${common[@]}" --optimizer nesterov1983 --lr "$lr" --schedule
      $run "${pre[@]}" "quad_k${kap}_nagrestart_r$r" "${common[@]}" --optimizer nesterov1983 --lr "$lr" --schedule --restart gradient
    done
  done
  one quad_k1e2_nag_openmp -b openmp --problem quadratic_k1e2 --params "$n" --dtype fp32 --target 1e-6 --steps 20000 \
    --optimizer nesterov1983 --lr 0.01 --beta 0.8181818181818182
  # logreg on breast_cancer (fp64, to SciPy's optimum given by the caller in LOGREG_OPT) and synthetic at scale.
  local lc=(--problem breast_cancer_logreg --dtype fp64 --optimizer nesterov1983 --lr "${LOGREG_LR:-0.3}" --beta "${LOGREG_BETA:-0.9}" --steps 3000 --target-loss "${LOGREG_TARGET:-0.0889}" --optimum "$LOGREG_OPT" --seed 20261127)
  local n2=${NPR:-2}
  one logreg_bc_r1 -b cuda "${lc[@]}"
  mpi "$n2" "logreg_bc_r$n2" -b cuda "${lc[@]}" --comm nccl
  one logreg_bc_openmp -b openmp "${lc[@]}"
  local ls=(--problem logreg_synthetic --dtype fp32 --optimizer nesterov1983 --lr 1.0 --beta 0.9 --epochs 2 --eval-every 32)
  one logreg_syn_r1 -b cuda "${ls[@]}" --batch-size 4096
  mpi "$n2" "logreg_syn_r$n2" -b cuda "${ls[@]}" --batch-size $((4096 / n2)) --comm nccl
  # The digits MLP: a global batch of 128 on 1 and 2 GPUs, and on the host.
  local dm=(--problem digits_mlp --dtype fp32 --optimizer nesterov1983 --lr 0.05 --beta 0.9 --epochs 20)
  one digits_r1 -b cuda "${dm[@]}" --batch-size 128
  mpi "$n2" "digits_r$n2" -b cuda "${dm[@]}" --batch-size $((128 / n2)) --comm nccl
  one digits_openmp -b openmp "${dm[@]}" --batch-size 128
}
# The throughput MLP of issue 12 (24 x Linear(4096, 4096), batch 2048 per rank, MSE, TF32): overlap on and off,
# 1 GPU and each rank count of MLP_RANKS (default NPR), buckets of 25 MiB (DDP's) and 100 MiB, fewer NCCL channels.
mlp_runs() {
  local m=(-b cuda --problem mlp_4096x24 --dtype fp32 --optimizer sgd --lr 1e-3 --momentum 0.9 --weight-decay 0
    --batch-size 2048 --steps 30 --tf32)
  one mlp_r1 "${m[@]}"
  for n in ${MLP_RANKS:-${NPR:-2}}; do
    ((n > gpus)) && continue
    for b in ${MLP_BUCKETS:-25 100}; do
      mpi "$n" "mlp_r${n}_b${b}_overlap" "${m[@]}" --comm nccl --bucket-mb "$b"
    done
    ((${MLP_PHASED:-1})) && mpi "$n" "mlp_r${n}_b25_phased" "${m[@]}" --comm nccl --bucket-mb 25 --overlap off
    # The reductions' stream at normal priority, like the backward's.
    ((${MLP_NORMAL_PRIORITY:-0})) &&
      mpi "$n" "mlp_r${n}_b100_overlap_normalprio" "${m[@]}" --comm nccl --bucket-mb 100 --comm-priority normal
    # Contention: fewer NCCL channels leave the GEMMs more SMs (and take longer themselves); the GEMMs planned
    # for the SMs NCCL leaves them (--sm-carveout). MLP_COMBOS: channels:carve-out pairs, channels 0 = NCCL's
    # choice.
    # DDP's small first bucket.
    [[ -n ${MLP_FIRST_BUCKET:-} ]] && mpi "$n" "mlp_r${n}_b100_first${MLP_FIRST_BUCKET}_overlap" "${m[@]}" \
      --comm nccl --bucket-mb 100 --first-bucket-mb "$MLP_FIRST_BUCKET"
    # The fused reduce-update (--comm p2p) and sharded NCCL, at the bucket sizes given.
    for pm in ${MLP_P2P:-}; do
      local mode=${pm%%:*} b=${pm##*:}
      case $mode in
        shard) mpi "$n" "mlp_r${n}_b${b}_p2p_shard" "${m[@]}" --comm p2p --shard --bucket-mb "$b" ;;
        pull) NAGBENCH_P2P_REDUCE=pull mpi "$n" "mlp_r${n}_b${b}_p2p_pull" "${m[@]}" --comm p2p --shard --bucket-mb "$b" ;;
        push) NAGBENCH_P2P_REDUCE=push mpi "$n" "mlp_r${n}_b${b}_p2p_push" "${m[@]}" --comm p2p --shard --bucket-mb "$b" ;;
        pushsm) NAGBENCH_P2P_REDUCE=push-sm mpi "$n" "mlp_r${n}_b${b}_p2p_pushsm" "${m[@]}" --comm p2p --shard \
          --bucket-mb "$b" ;;
        pushmemop) NAGBENCH_P2P_REDUCE=push NAGBENCH_P2P_FLAGS=memop mpi "$n" "mlp_r${n}_b${b}_p2p_push_memop" "${m[@]}" \
          --comm p2p --shard --bucket-mb "$b" ;;
        repl) mpi "$n" "mlp_r${n}_b${b}_p2p_repl" "${m[@]}" --comm p2p --bucket-mb "$b" ;;
        ncclshard) mpi "$n" "mlp_r${n}_b${b}_nccl_shard" "${m[@]}" --comm nccl --shard --bucket-mb "$b" ;;
        *) echo "MLP_P2P: unknown mode $mode" ;;
      esac
    done
    [[ ${MLP_COMBOS:-} == none ]] && continue
    for combo in ${MLP_COMBOS:-4:0 8:0 16:0}; do
      local ch=${combo%%:*} co=${combo##*:} name="mlp_r${n}_b100_overlap"
      ((ch > 0)) && name+="_ch$ch"
      ((co > 0)) && name+="_co$co"
      if ((ch > 0)); then
        NCCL_MAX_NCHANNELS=$ch mpi "$n" "$name" "${m[@]}" --comm nccl --bucket-mb 100 --sm-carveout "$co"
      else
        mpi "$n" "$name" "${m[@]}" --comm nccl --bucket-mb 100 --sm-carveout "$co"
      fi
    done
  done
  one mlp_r1_notf32 "${m[@]/--tf32/--no-tf32}"
}
# Which kernels one MLP step runs and how long each takes (Nsight Compute, clocks left alone), to set next to
# PyTorch's (scripts/device/torch_mlp_kernels.py, run here too).
kernel_list() {
  env -u OMP_PROC_BIND -u OMP_PLACES python3 "$repo/scripts/device/torch_mlp_kernels.py" \
    --json "$RES/torch_mlp_kernels.json" >"$RES/torch_mlp_kernels.txt" 2>&1
  echo "torch kernels: exit $?"
  command -v ncu >/dev/null || { echo "no ncu"; return; }
  ncu --clock-control none --metrics gpu__time_duration.sum --csv --launch-skip "${NCU_SKIP:-400}" \
    --launch-count "${NCU_COUNT:-200}" "$NB" -q -b cuda --problem mlp_4096x24 --dtype fp32 --optimizer sgd --lr 1e-3 \
    --momentum 0.9 --weight-decay 0 --batch-size 2048 --steps 12 --tf32 >"$RES/ncu_mlp_r1.csv" 2>"$RES/ncu_mlp_r1.err"
  echo "ncu: exit $?"
}
ddp_runs() {
  for g in ${DDP_GPUS:-1 2}; do
    ((g > gpus)) && continue
    env -u OMP_PROC_BIND -u OMP_PLACES python3 "$repo/scripts/device/torch_ddp_mlp.py" --gpus "$g" \
      --json "$RES/torch_ddp_mlp_g$g.json" >"$RES/torch_ddp_mlp_g$g.txt" 2>&1
    echo "torch ddp $g GPUs: exit $?"
  done
}
{
  if want machine; then
    step 20 "machine" bash -c 'nvidia-smi -L; nvidia-smi topo -m; python3 -c "import torch; print(torch.__version__)"'
  fi
  if want unit; then
    step 120 "unit tests: rules, linalg, mlp (CUDA, OpenMP, Serial)" env OMP_NUM_THREADS=8 OMP_PROC_BIND=false \
      "$B/bin/nagbench_unit_tests" --gtest_filter='RuleKernels*:Linalg*:Mlp*:*Rules*' --gtest_output=json:"$RES/unit_tests.json"
  fi
  if want tests; then
    step 200 "training tests on CUDA (tests/train/test_train.py)" env NAGBENCH_BIN="$NB" NAGBENCH_TRAIN_BACKEND=cuda \
      NAGBENCH_HAVE_NCCL=1 NAGBENCH_GPUS="$gpus" python3 -m pytest -q -x "$repo/tests/train/test_train.py" -p no:cacheprovider \
      ${TESTS_K:+-k "$TESTS_K"}
  fi
  if want mlp; then step "${MLP_LIMIT:-240}" "MLP step: overlap, no-communication baseline, allreduce" mlp_runs; fi
  if want ddp; then step 200 "PyTorch DDP, same MLP, same GPUs" ddp_runs; fi
  if want converge; then step 300 "convergence runs" converge; fi
  if want kernels; then step 150 "kernels of one MLP step: PyTorch's and nagbench's" kernel_list; fi
} 2>&1 | tee "$RES/log.txt"
pack
