#!/usr/bin/env bash
# On a machine with 1-N GPUs: the data-parallel results of issue "Data-parallel Nesterov". One mpirun per rank
# count, each running its whole list of configurations. Results: $OUT/dp/*.json, logs $OUT/dp_*.txt.
#   bash scripts/device/dp_suite.sh [max ranks, default: number of GPUs]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
gpus=$(nvidia-smi -L | wc -l)
max=${1:-$gpus}
res="$OUT/dp"
mkdir -p "$res"
threads=$(($(nproc) / gpus))
run_np() {  # run_np <ranks> <name> <nagbench args...>
  local np=$1 name=$2
  shift 2
  echo "=== np=$np $name: nagbench $*"
  timeout 420 mpirun --allow-run-as-root -np "$np" --bind-to none -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH \
    -x OMP_NUM_THREADS=$threads -x OMP_PROC_BIND -x OMP_PLACES \
    "$B/bin/nagbench" -b cuda -q -o "$res/$name.json" "$@"
  echo "=== exit $?"
}
{
  # Allreduce sweeps: NCCL and staged MPI, then NCCL on its own through PyTorch at the same sizes.
  for np in $(seq 2 "$max"); do
    run_np "$np" "comm_only_nccl_np$np" --comm-only --comm nccl --comm-min 1M --comm-max 4G
    run_np "$np" "comm_only_mpi_np$np" --comm-only --comm mpi --mpi-path staged --comm-min 1M --comm-max 256M \
      --comm-iters 5 --comm-reps 3
    timeout 300 python3 -m torch.distributed.run --nproc_per_node="$np" "$repo/scripts/device/torch_allreduce.py" \
      --max-bytes $((4 << 30)) --out "$res/torch_allreduce_np$np.json" 2>&1 | grep -v "^W"
  done
  # The step: every model x comm x mode x overlap, one launch per rank count.
  run_np 1 "dp_np1" -m vit_l_16,single_2p28 -v multi_tensor --comm none --sharding replicated,sharded --overlap on,off
  for np in $(seq 2 "$max"); do
    run_np "$np" "dp_nccl_np$np" -m vit_l_16,single_2p28 -v multi_tensor --comm nccl --sharding replicated,sharded \
      --overlap on,off
    run_np "$np" "dp_mpi_np$np" -m vit_l_16,single_2p28 -v multi_tensor --comm mpi --mpi-path staged \
      --sharding replicated,sharded --overlap on,off --steps 5 --warmup 1
  done
  # Weak scaling of the sharded update: 2^27 parameters per rank.
  for np in $(seq 1 "$max"); do
    run_np "$np" "weak_sharded_np$np" --params-per-rank 2^27 -v multi_tensor --comm $([[ $np == 1 ]] && echo none || echo nccl) \
      --shard --overlap on,off
  done
} 2>&1 | tee "$OUT/dp_log.txt"
python3 "$repo/scripts/summarize.py" "$res" | tee "$OUT/dp_summary.txt"
tar -czf "$OUT/dp.tar.gz" -C "$OUT" dp && rm -rf "$res"
