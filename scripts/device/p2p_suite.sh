#!/usr/bin/env bash
# On a machine with 2 or 4 GPUs: the fused reduce-update path (--comm p2p, issue 14) beside its yardsticks, in one
# call: one NCCL allreduce of the same bytes (--comm-only), NCCL's reduce-then-update step, and PyTorch's
# all_reduce + mul_ + fused SGD (scripts/device/torch_dp_step.py), on vit_l_16 fp32. Results in $OUT/p2p.tar.gz,
# re-packed after every step.
#   BUDGET=420 bash scripts/device/p2p_suite.sh
#   BUDGET=420 SECTIONS="tests np2" RANKS="2" bash scripts/device/p2p_suite.sh
# Sections: machine tests np1 np<N> (one per entry of RANKS, default "2 4" where the GPUs exist) push torch
#   memop (flags by stream memory operations, NAGBENCH_P2P_FLAGS=memop: its GPU tests, then an A/B of the
#   configurations in AB (default: kernel and memop flags, pull and push), ROUNDS interleaved rounds, at the first
#   entry of RANKS; MEMOP_TESTS=0 skips the tests, MEMOP_TEST_FLAGS=kernel runs them with the flag kernels)
#   graph (--launch direct,graph: the step's reductions and updates replayed from CUDA graphs, their GPU tests at 1
#   and 2 ranks (2 ranks share the GPU of a one-GPU machine), then ROUNDS rounds, the order swapped each round, at 1
#   rank (comm none, nccl, p2p: what a bucket costs without NVLink traffic) and at every rank count of RANKS that
#   the GPUs allow (p2p and nccl, with the yardsticks); GRAPH_BUCKETS, default 2,8,25,100,400)
#   timeline (--timeline: its GPU tests at 1 and 2 ranks, then ROUNDS rounds of the same launch without and with
#   --timeline, vit_l_16 sharded overlap on, at 1 rank (comm none, nccl, p2p) and at every rank count of RANKS
#   that the GPUs allow (p2p and nccl, with one NCCL allreduce of the same bytes); TIMELINE_BUCKETS, default
#   2,8,25,400; the per-bucket table of every timeline in $RES/timelines.md)
#   streams (--update-streams: the buckets' updates dealt over 1, 2 or 4 streams; its GPU tests at 1 and 2 ranks,
#   the bucket-tail probe in plain CUDA (scripts/device/bucket_tail_probe.cu, built into .device/probe where
#   carried), then ROUNDS rounds, the order of the stream counts swapped each round, vit_l_16 sharded overlap on at
#   1 rank (comm none, nccl, p2p) and at every rank count of RANKS that the GPUs allow (p2p and nccl, with one
#   NCCL allreduce of the same bytes), launched directly (1,2,4 streams) and from graphs (1,4); STREAMS_BUCKETS,
#   default 2,8,25,400; then one p2p timeline at 8 MiB with 1 and 4 streams).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
deadline=$((SECONDS + ${BUDGET:-420}))
export RES="$OUT/p2p"
mkdir -p "$RES"
run="$repo/scripts/device/mpi_nagbench.sh"
pack() { tar -czf "$OUT/p2p.tar.gz.tmp" -C "$OUT" p2p && mv "$OUT/p2p.tar.gz.tmp" "$OUT/p2p.tar.gz"; }
gpus=$(nvidia-smi -L | wc -l)
vit_bytes=$((304326632 * 4)) # one fp32 gradient of vit_l_16
model="$repo/inputs/models/vit_l_16.yaml"
P2P_BUCKETS=${P2P_BUCKETS:-8,25,50,100,200,400}
STEPS=(--steps "${STEPS:-20}" --warmup 5)
# The two yardsticks of every section, at np ranks: one NCCL allreduce of vit_l_16's bytes, and PyTorch's step.
nccl_allreduce_step() {
  step 40 "comm-only nccl np$1, vit_l_16 bytes" "$run" "$1" "comm_only_nccl_np${1}_vit" --comm-only --comm nccl \
    --comm-sizes "$vit_bytes" --comm-reps 10
}
# tests/mpi/test_dp.py -k "$1" on CUDA at 1 and 2 ranks (2 share the GPU of a one-GPU machine; NCCL refuses that,
# so its cases skip there), then tests/cli/test_cli.py -k "$2"; $3: the limit of each test_dp.py run.
gpu_tests() {
  local np nccl
  for np in 1 2; do
    nccl=1
    ((np > gpus)) && nccl=0
    step "$3" "test_dp.py $1, cuda, $np rank(s) on $gpus GPU(s)" env NAGBENCH_BIN="$B/bin/nagbench" \
      NAGBENCH_NP=$np NAGBENCH_HAVE_NCCL=$nccl NAGBENCH_DP_BACKEND=cuda NAGBENCH_MPIRUN=mpirun \
      "$repo/tests/cli/run_pytest.sh" -v -k "$1" "$repo/tests/mpi/test_dp.py" 2>&1 | tail -15
  done
  step 120 "test_cli.py $2, cuda" env NAGBENCH_BIN="$B/bin/nagbench" \
    NAGBENCH_MODELS_DIR="$B/share/nagbench/models" NAGBENCH_MPIRUN=mpirun OMP_PROC_BIND=false \
    "$repo/tests/cli/run_pytest.sh" "$repo/tests/cli/test_cli.py" -k "$2" 2>&1 | tail -6
}
torch_step() {
  step 90 "torch allreduce + mul_ + fused SGD np$1" env -u OMP_PROC_BIND -u OMP_PLACES python3 -m \
    torch.distributed.run --nproc_per_node="$1" "$repo/scripts/device/torch_dp_step.py" --model "$model" \
    --out "$RES/torch_dp_step_np$1.json"
}
{
  if want machine; then
    step 20 "machine" bash -c 'nvidia-smi -L; nvidia-smi topo -m; python3 -c "import torch; print(torch.__version__)"'
  fi
  if want tests; then
    # tests/mpi/test_dp.py's p2p cases on CUDA at 2 ranks (the cuda-ipc path, skipped-bucket check, bit equality
    # with NCCL's reduce-then-update).
    step 240 "test_dp.py p2p, cuda, 2 ranks" env NAGBENCH_BIN="$B/bin/nagbench" NAGBENCH_NP=2 NAGBENCH_HAVE_NCCL=1 \
      NAGBENCH_DP_BACKEND=cuda NAGBENCH_MPIRUN=mpirun "$repo/tests/cli/run_pytest.sh" -v -k "p2p or fused" \
      "$repo/tests/mpi/test_dp.py" 2>&1 | tail -40
  fi
  if want np1; then
    step 60 "np1: update alone, sharded layout" "$run" 1 dp_np1 -m vit_l_16 -v multi_tensor --comm none,p2p \
      --shard --overlap off --bucket-mb 400 "${STEPS[@]}"
  fi
  for np in ${RANKS:-2 4}; do
    want "np$np" || continue
    ((np > gpus)) && { echo "=== SKIPPED np$np: $gpus GPUs"; continue; }
    nccl_allreduce_step "$np"
    torch_step "$np"
    step 150 "dp p2p np$np" "$run" "$np" "dp_p2p_np$np" -m vit_l_16 -v multi_tensor --comm p2p \
      --sharding sharded,replicated --overlap on,off --bucket-mb "$P2P_BUCKETS" "${STEPS[@]}"
    step 90 "dp nccl np$np" "$run" "$np" "dp_nccl_np$np" -m vit_l_16 -v multi_tensor --comm nccl \
      --sharding replicated,sharded --overlap on,off --bucket-mb 25,100,400 "${STEPS[@]}"
  done
  if want push; then
    # The push form (NAGBENCH_P2P_REDUCE=push: copy engines write each owner's part into its inbox), its tests
    # at 2 ranks, then the step beside the pull form, at every rank count of RANKS.
    step 180 "test_dp.py p2p push, cuda, 2 ranks" env NAGBENCH_P2P_REDUCE=push NAGBENCH_BIN="$B/bin/nagbench" \
      NAGBENCH_NP=2 NAGBENCH_HAVE_NCCL=1 NAGBENCH_DP_BACKEND=cuda NAGBENCH_MPIRUN=mpirun \
      "$repo/tests/cli/run_pytest.sh" -v -k "p2p or fused" "$repo/tests/mpi/test_dp.py" 2>&1 | tail -15
    for np in ${RANKS:-2 4}; do
      ((np > gpus)) && continue
      nccl_allreduce_step "$np"
      for mode in pull push; do
        step 90 "dp p2p $mode np$np" env NAGBENCH_P2P_REDUCE=$mode "$run" "$np" "dp_p2p_${mode}_np$np" -m vit_l_16 \
          -v multi_tensor --comm p2p --shard --overlap on,off --bucket-mb 25,100,200,400 "${STEPS[@]}"
      done
    done
  fi
  if want torch; then
    # PyTorch's step alone at every rank count of RANKS (the yardstick for an A/B in the memop section).
    for np in ${RANKS:-2 4}; do
      ((np > gpus)) && continue
      torch_step "$np"
    done
  fi
  if want memop; then
    np=${RANKS%% *}
    np=${np:-2}
    if [[ ${MEMOP_TESTS:-1} == 1 ]]; then
      # shellcheck disable=SC2086 # a list of modes
      for mode in ${MEMOP_TEST_MODES:-pull push}; do
        step 150 "test_dp.py p2p, ${MEMOP_TEST_FLAGS-memop} flags, $mode, cuda, 2 ranks" \
          env NAGBENCH_P2P_FLAGS="${MEMOP_TEST_FLAGS-memop}" \
          NAGBENCH_P2P_REDUCE=$mode NAGBENCH_BIN="$B/bin/nagbench" NAGBENCH_NP=2 NAGBENCH_HAVE_NCCL=1 \
          NAGBENCH_DP_BACKEND=cuda NAGBENCH_MPIRUN=mpirun "$repo/tests/cli/run_pytest.sh" -v -k "p2p or fused" \
          "$repo/tests/mpi/test_dp.py" 2>&1 | tail -15
      done
      # Training: the backward's streams run beside the flag waits (a wait in a shared hardware queue would stall
      # them), with the early-read negative test.
      step 150 "test_train.py p2p, ${MEMOP_TEST_FLAGS-memop} flags, cuda" \
        env NAGBENCH_P2P_FLAGS="${MEMOP_TEST_FLAGS-memop}" NAGBENCH_BIN="$B/bin/nagbench" \
        NAGBENCH_TRAIN_BACKEND=cuda NAGBENCH_HAVE_NCCL=1 NAGBENCH_GPUS="$gpus" python3 -m pytest -q \
        "$repo/tests/train/test_train.py" -p no:cacheprovider -k "p2p" 2>&1 | tail -15
    fi
    nccl_allreduce_step "$np"
    # AB: flags,mode[,start-ahead[,push-threads]] (NAGBENCH_P2P_FLAGS: kernel, memop or default;
    # NAGBENCH_P2P_REDUCE: pull, push or push-sm; NAGBENCH_P2P_START_AHEAD, 0 = every bucket first, empty or
    # left out: the default, 2; NAGBENCH_P2P_PUSH_THREADS for push-sm, left out: the default).
    for round in $(seq 1 "${ROUNDS:-2}"); do
      for cfg in ${AB:-kernel,pull kernel,push default,pull default,push}; do
        IFS=, read -r flags mode ahead threads <<<"$cfg"
        vars=(NAGBENCH_P2P_REDUCE="$mode")
        [[ $flags != default ]] && vars+=(NAGBENCH_P2P_FLAGS="$flags")
        [[ -n $ahead ]] && vars+=(NAGBENCH_P2P_START_AHEAD="$ahead")
        [[ -n $threads ]] && vars+=(NAGBENCH_P2P_PUSH_THREADS="$threads")
        name="dp_p2p_${mode}_${flags}${ahead:+_ahead$ahead}${threads:+_t$threads}_np${np}_r$round"
        step 60 "dp p2p $mode, $flags flags${ahead:+, start ahead $ahead}${threads:+, $threads push threads}, np$np, round $round" \
          env -u NAGBENCH_P2P_FLAGS -u NAGBENCH_P2P_START_AHEAD -u NAGBENCH_P2P_PUSH_THREADS "${vars[@]}" \
          "$run" "$np" "$name" -m vit_l_16 -v multi_tensor --comm p2p --shard --overlap on \
          --bucket-mb "$P2P_BUCKETS" "${STEPS[@]}"
      done
    done
  fi
  if want graph; then
    gpu_tests graph "graph or bad_input" 240
    for np in ${RANKS:-2 4}; do
      ((np > gpus)) && continue
      nccl_allreduce_step "$np"
      torch_step "$np"
    done
    for round in $(seq 1 "${ROUNDS:-2}"); do
      order=direct,graph
      ((round % 2 == 0)) && order=graph,direct
      step 150 "graph np1 round $round ($order)" "$run" 1 "graph_np1_r$round" -m vit_l_16 -v multi_tensor \
        --comm none,nccl,p2p --shard --overlap on --bucket-mb "${GRAPH_BUCKETS:-2,8,25,100,400}" --launch "$order" \
        "${STEPS[@]}"
      for np in ${RANKS:-2 4}; do
        ((np > gpus)) && continue
        step 150 "graph np$np round $round ($order)" "$run" "$np" "graph_np${np}_r$round" -m vit_l_16 \
          -v multi_tensor --comm p2p,nccl --shard --overlap on --bucket-mb "${GRAPH_BUCKETS:-2,8,25,100,400}" \
          --launch "$order" "${STEPS[@]}"
      done
    done
  fi
  if want timeline; then
    gpu_tests timeline timeline 180
    for np in ${RANKS:-2 4}; do
      ((np > gpus)) && continue
      nccl_allreduce_step "$np"
    done
    tl_buckets=${TIMELINE_BUCKETS:-2,8,25,400}
    for round in $(seq 1 "${ROUNDS:-2}"); do
      for np in 1 ${RANKS:-2 4}; do
        ((np > gpus)) && continue
        comms=p2p,nccl
        ((np == 1)) && comms=none,nccl,p2p
        step 150 "np$np round $round, timed steps alone" "$run" "$np" "plain_np${np}_r$round" -m vit_l_16 \
          -v multi_tensor --comm "$comms" --shard --overlap on --bucket-mb "$tl_buckets" "${STEPS[@]}"
        step 150 "np$np round $round, --timeline" "$run" "$np" "timeline_np${np}_r$round" -m vit_l_16 \
          -v multi_tensor --comm "$comms" --shard --overlap on --bucket-mb "$tl_buckets" "${STEPS[@]}" --timeline
      done
    done
    step 30 "timeline table" bash -c "python3 '$repo/scripts/plot_timeline.py' --table '$RES'/timeline_np*.json \
      > '$RES/timelines.md'; cat '$RES/timelines.md'"
  fi
  if want streams; then
    gpu_tests "update_streams or timeline" "update_streams or bad_input" 240
    probe=$repo/.device/probe/bucket_tail_probe # nvcc -O3 -std=c++17 -arch=sm_90 scripts/device/bucket_tail_probe.cu
    if [[ -x $probe ]]; then
      step 90 "bucket-tail probe (plain CUDA)" "$probe" --reps 20 --json "$RES/bucket_tail_probe.json"
    fi
    for np in ${RANKS:-2 4}; do
      ((np > gpus)) && continue
      nccl_allreduce_step "$np"
    done
    st_buckets=${STREAMS_BUCKETS:-2,8,25,400}
    for round in $(seq 1 "${ROUNDS:-2}"); do
      order=1,2,4 graph_order=1,4
      ((round % 2 == 0)) && order=4,2,1 graph_order=4,1
      for np in 1 ${RANKS:-2 4}; do
        ((np > gpus)) && continue
        comms=p2p,nccl
        ((np == 1)) && comms=none,nccl,p2p
        step 200 "streams np$np round $round ($order), direct" "$run" "$np" "streams_np${np}_r$round" \
          -m vit_l_16 -v multi_tensor --comm "$comms" --shard --overlap on --bucket-mb "$st_buckets" \
          --update-streams "$order" "${STEPS[@]}"
        step 150 "streams np$np round $round ($graph_order), graph" "$run" "$np" "streams_graph_np${np}_r$round" \
          -m vit_l_16 -v multi_tensor --comm "$comms" --shard --overlap on --bucket-mb "$st_buckets" \
          --update-streams "$graph_order" --launch graph "${STEPS[@]}"
      done
    done
    step 60 "streams timeline np1, p2p 8 MiB" "$run" 1 "streams_timeline_np1" -m vit_l_16 -v multi_tensor \
      --comm p2p --shard --overlap on --bucket-mb 8 --update-streams 1,4 "${STEPS[@]}" --timeline
  fi
  python3 "$repo/scripts/device/p2p_summary.py" "$RES" | tee "$RES/summary.md"
  pack
} 2>&1 | tee "$OUT/p2p_suite.log"
