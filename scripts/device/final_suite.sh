#!/usr/bin/env bash
# One lease, everything left for the GPU issues, most important first, each step under its own time limit and a
# global deadline (BUDGET seconds) so that a slow step cannot cost the rest. Results are re-packed into
# $OUT/results.tar.gz after every step, so whatever finished comes back even if the call is cut short.
#   BUDGET=540 bash scripts/device/final_suite.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
deadline=$((SECONDS + ${BUDGET:-540}))
res="$OUT/res"
mkdir -p "$res/dp" "$res/gbench" "$res/host"
gpus=$(nvidia-smi -L | wc -l)
threads=$(($(nproc) / gpus))
pack() { tar -czf "$OUT/results.tar.gz.tmp" -C "$OUT" res && mv "$OUT/results.tar.gz.tmp" "$OUT/results.tar.gz"; }
step() {  # step <max seconds> <name> <command...>
  local max=$1 name=$2 left=$((deadline - SECONDS))
  shift 2
  if ((left < 25)); then
    echo "=== SKIPPED $name: no time left"
    return
  fi
  ((max > left)) && max=$left
  echo "=== $name (limit ${max}s, t=${SECONDS}s)"
  timeout "$max" "$@"
  echo "=== $name: exit $? (t=${SECONDS}s)"
  pack
}
mpi() {  # mpi <ranks> <record name> <nagbench args>
  local np=$1 name=$2
  shift 2
  mpirun --allow-run-as-root -np "$np" --bind-to none --mca btl_vader_single_copy_mechanism none \
    -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH -x OMP_NUM_THREADS="$threads" -x OMP_PROC_BIND -x OMP_PLACES \
    "$B/bin/nagbench" -b cuda -q -o "$res/dp/$name.json" "$@"
}
torch_nccl=$(dirname "$(find / -name 'libnccl.so.2' -path '*site-packages*' 2>/dev/null | head -1)")
{
  nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version --format=csv
  nvidia-smi topo -m
  echo "torch's NCCL: $torch_nccl"
  step 100 "torch allreduce np2" python3 -m torch.distributed.run --nproc_per_node=2 \
    "$repo/scripts/device/torch_allreduce.py" --max-bytes $((4 << 30)) --out "$res/dp/torch_allreduce_np2.json"
  step 70 "comm-only nccl np2" mpi 2 comm_only_nccl_np2 --comm-only --comm nccl --comm-min 1M --comm-max 4G
  if [[ -d "$torch_nccl" ]]; then
    step 70 "comm-only nccl np2 (torch's libnccl)" env LD_LIBRARY_PATH="$torch_nccl:${LD_LIBRARY_PATH:-}" \
      bash -c "$(declare -f mpi); res=$res B=$B threads=$threads; mpi 2 comm_only_nccl_torchlib_np2 --comm-only --comm nccl --comm-min 1M --comm-max 4G"
  fi
  step 100 "dp np1" mpi 1 dp_np1 -m vit_l_16,single_2p28 -v multi_tensor --comm none --sharding replicated,sharded \
    --overlap on,off
  step 100 "dp nccl np2" mpi 2 dp_nccl_np2 -m vit_l_16,single_2p28 -v multi_tensor --comm nccl \
    --sharding replicated,sharded --overlap on,off
  step 150 "gbench cuda" "$B/bin/nagbench_bench" --nagbench_backends=cuda --benchmark_min_time=0.05 \
    --benchmark_out="$res/gbench/gbench_cuda.json" --benchmark_out_format=json
  python3 "$repo/benchmarks/check_results.py" "$res/gbench/gbench_cuda.json" --expect 100
  step 90 "dp mpi staged np2" mpi 2 dp_mpi_np2 -m vit_l_16,single_2p28 -v multi_tensor --comm mpi --mpi-path staged \
    --sharding replicated,sharded --overlap on,off --steps 5 --warmup 1
  step 40 "comm-only mpi staged np2" mpi 2 comm_only_mpi_np2 --comm-only --comm mpi --mpi-path staged \
    --comm-min 1M --comm-max 64M --comm-iters 5 --comm-reps 3
  step 40 "weak sharded np1" mpi 1 weak_sharded_np1 --params-per-rank 2^27 -v multi_tensor --comm none --shard \
    --overlap on,off
  step 40 "weak sharded np2" mpi 2 weak_sharded_np2 --params-per-rank 2^27 -v multi_tensor --comm nccl --shard \
    --overlap on,off
  export OMP_NUM_THREADS=$(nproc)
  step 40 "host driver" bash -c "for m in single_2p28 resnet50; do $B/bin/nagbench -q -b openmp -m \$m -v fused -n 10 -o $res/host/openmp_\${m}_fp32_fused.json; done"
  step 120 "gbench openmp" "$B/bin/nagbench_bench" --nagbench_backends=openmp --nagbench_host_max_log2=26 \
    --benchmark_filter='fp32|fp64|roof' --benchmark_min_time=0.05 \
    --benchmark_out="$res/gbench/gbench_openmp.json" --benchmark_out_format=json
  python3 "$repo/scripts/summarize.py" "$res" >"$OUT/summary.txt" 2>&1
  pack
} >"$OUT/log.txt" 2>&1
grep -E "^===|busbw|verified: NO|error" "$OUT/log.txt" | tail -40
tail -60 "$OUT/summary.txt"
