#!/usr/bin/env bash
# On a machine with 2+ GPUs: the data-parallel results (issue "Data-parallel Nesterov"), most important first, each
# step under its own time limit and a global deadline (BUDGET seconds), results re-packed into $OUT/dp.tar.gz
# after every step so that whatever finished comes back even if the lease ends early.
#   BUDGET=400 bash scripts/device/dp_suite.sh                        # every section
#   BUDGET=400 SECTIONS="ctest staged" bash scripts/device/dp_suite.sh  # some, in the order below
# Sections: machine yardstick dp staged buckets weak repeat ctest np4; on request only: diagnose probe cache.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
deadline=$((SECONDS + ${BUDGET:-300}))
export RES="$OUT/dp"
mkdir -p "$RES"
run="$repo/scripts/device/mpi_nagbench.sh"
pack() { tar -czf "$OUT/dp.tar.gz.tmp" -C "$OUT" dp && mv "$OUT/dp.tar.gz.tmp" "$OUT/dp.tar.gz"; }
gpus=$(nvidia-smi -L | wc -l)
vit_bytes=$((304326632 * 4)) # one fp32 gradient of vit_l_16: the "one allreduce of the same bytes" yardstick
# PyTorch's all_reduce over NCCL, the yardstick: torch_ar <limit> <label> <record> [torch_allreduce.py args]
torch_ar() {
  local limit=$1 label=$2 record=$3
  shift 3
  step "$limit" "$label" env -u OMP_PROC_BIND -u OMP_PLACES python3 -m torch.distributed.run --nproc_per_node=2 \
    "$repo/scripts/device/torch_allreduce.py" --out "$RES/$record.json" "$@"
}
# The Kokkos-free NCCL probe at 1 and 4 GiB: probe <label> core|none [probe args] (core: bound like nagbench)
probe() {
  local label=$1 bind=(--bind-to none)
  [[ $2 == core ]] && bind=(--map-by ppr:2:node:PE=$(($(nproc) / 2)) --bind-to core)
  shift 2
  step 40 "$label" mpirun --allow-run-as-root -np 2 "${bind[@]}" -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH \
    "$B/bin/nagbench_nccl_probe" --bytes 1G --bytes 4G "$@"
}
{
  if want machine; then
    step 20 "machine" bash -c 'nvidia-smi -L; nvidia-smi topo -m; lscpu | head -20; numactl -H 2>/dev/null | head -5'
    step 40 "nccl transports (NCCL_DEBUG=INFO)" env NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,GRAPH,ENV "$run" 2 \
      nccl_info_np2 --comm-only --comm nccl --comm-min 1M --comm-max 16M
  fi
  if want yardstick; then
    torch_ar 60 "torch allreduce np2" torch_allreduce_np2 --max-bytes $((4 << 30))
    step 120 "comm-only nccl np2" "$run" 2 comm_only_nccl_np2 --comm-only --comm nccl --comm-min 1M --comm-max 4G
  fi
  if want yardstick || want buckets; then
    step 30 "comm-only nccl np2, vit_l_16 bytes" "$run" 2 comm_only_nccl_np2_vit --comm-only --comm nccl \
      --comm-sizes "$vit_bytes"
  fi
  if want dp; then
    step 90 "dp nccl np2" "$run" 2 dp_nccl_np2 -m vit_l_16,single_2p28 -v multi_tensor --comm nccl \
      --sharding replicated,sharded --overlap on,off --comm-priority high,normal
    step 60 "dp np1" "$run" 1 dp_np1 -m vit_l_16,single_2p28 -v multi_tensor --comm none \
      --sharding replicated,sharded --overlap on,off
  fi
  if want staged; then
    step 90 "dp mpi staged np2" "$run" 2 dp_mpi_np2 -m vit_l_16 -v multi_tensor --comm mpi --mpi-path staged \
      --sharding replicated,sharded --overlap on,off --steps 3 --warmup 1
  fi
  if want buckets; then
    step 60 "bucket sweep nccl np2" "$run" 2 dp_nccl_np2_buckets -m vit_l_16 -v multi_tensor --comm nccl \
      --sharding replicated,sharded --bucket-mb 5,10,50,100,200,400,1200
  fi
  if want weak; then
    step 40 "weak sharded np1" "$run" 1 weak_sharded_np1 --params-per-rank 2^27 -v multi_tensor --comm none \
      --shard --overlap on,off
    step 40 "weak sharded np2" "$run" 2 weak_sharded_np2 --params-per-rank 2^27 -v multi_tensor --comm nccl \
      --shard --overlap on,off
  fi
  if want staged; then
    step 60 "comm-only mpi staged np2" "$run" 2 comm_only_mpi_np2 --comm-only --comm mpi --mpi-path staged \
      --comm-sizes 1M,4M,16M,64M,256M,"$vit_bytes" --comm-iters 3 --comm-reps 3
  fi
  if want repeat; then
    # The >= 95% target, taken twice, interleaved, more repetitions, at the large sizes only; and nagbench once
    # more with PyTorch's own NCCL library, to separate the library version from nagbench's use of it.
    sizes=256M,512M,1G,2G,4G
    for round in 1 2; do
      torch_ar 60 "torch allreduce np2, round $round" repeat_torch_np2_r$round --min-bytes $((256 << 20)) \
        --max-bytes $((4 << 30)) --reps 10
      step 60 "comm-only nccl np2, round $round" "$run" 2 repeat_nccl_np2_r$round --comm-only --comm nccl \
        --comm-sizes "$sizes" --comm-reps 10
    done
    torch_nccl=$(find / -xdev -name 'libnccl.so.2' -path '*site-packages*' 2>/dev/null | head -1)
    echo "PyTorch's NCCL: ${torch_nccl:-not found}"
    if [[ -n "$torch_nccl" ]]; then
      step 60 "comm-only nccl np2 with PyTorch's NCCL" env LD_LIBRARY_PATH="$(dirname "$torch_nccl"):${LD_LIBRARY_PATH:-}" \
        "$run" 2 repeat_nccl_np2_torchlib --comm-only --comm nccl --comm-sizes "$sizes" --comm-reps 10
    fi
  fi
  if want ctest; then
    # CTest's mpi_cuda_np2, run directly (the carried build folder holds the binary, not CTest's files).
    step 200 "test mpi_cuda_np2" env NAGBENCH_BIN="$B/bin/nagbench" NAGBENCH_NP=2 NAGBENCH_HAVE_NCCL=1 \
      NAGBENCH_MPIRUN=mpirun "$repo/tests/cli/run_pytest.sh" -v "$repo/tests/mpi/test_dp_gpu.py"
  fi
  if [[ " ${SECTIONS:-} " == *" diagnose "* ]]; then
    # Only on request: what separates nagbench's NCCL allreduce from PyTorch's (binding, buffer alignment,
    # the algorithm NCCL picks). NAGBENCH_PREV_EXE: an earlier binary (before 4 KiB-aligned messages).
    sizes=1G,2G,4G
    torch_ar 40 "torch a" diag_torch_a --min-bytes $((1 << 30)) --max-bytes $((4 << 30)) --reps 10
    step 40 "nagbench aligned, bound" "$run" 2 diag_nccl_aligned_a --comm-only --comm nccl --comm-sizes $sizes --comm-reps 10
    if [[ -x "${NAGBENCH_PREV_EXE:-}" ]]; then
      step 40 "nagbench previous, bound" env NAGBENCH_EXE="$NAGBENCH_PREV_EXE" "$run" 2 diag_nccl_prev \
        --comm-only --comm nccl --comm-sizes $sizes --comm-reps 10
    fi
    step 40 "nagbench aligned, unbound" env NAGBENCH_BIND=none "$run" 2 diag_nccl_aligned_unbound --comm-only \
      --comm nccl --comm-sizes $sizes --comm-reps 10
    torch_ar 40 "torch b" diag_torch_b --min-bytes $((1 << 30)) --max-bytes $((4 << 30)) --reps 10
    step 40 "nagbench aligned, bound, again" "$run" 2 diag_nccl_aligned_b --comm-only --comm nccl \
      --comm-sizes $sizes --comm-reps 10
    NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=TUNING,COLL torch_ar 40 "NCCL's choices, torch" diag_torch_debug \
      --min-bytes $((1 << 30)) --max-bytes $((1 << 30)) --reps 1 --iters 2
    step 40 "NCCL's choices, nagbench" env NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=TUNING,COLL "$run" 2 \
      diag_nccl_debug --comm-only --comm nccl --comm-sizes 1G --comm-reps 1 --comm-iters 2
  fi
  if [[ " ${SECTIONS:-} " == *" probe "* ]]; then
    # The Kokkos-free NCCL probe on three kinds of stream, between PyTorch and nagbench runs (same binding).
    torch_ar 40 "torch p1" probe_torch_p1 --min-bytes $((1 << 30)) --max-bytes $((4 << 30)) --reps 10
    for kind in legacy nonblocking high; do probe "probe $kind" core --stream $kind; done
    step 40 "nagbench p1" "$run" 2 probe_nagbench_p1 --comm-only --comm nccl --comm-sizes 1G,4G --comm-reps 10
    probe "probe legacy" core --stream legacy
    torch_ar 40 "torch p2" probe_torch_p2 --min-bytes $((1 << 30)) --max-bytes $((4 << 30)) --reps 10
    probe "probe legacy, unbound" none --stream legacy
  fi
  if [[ " ${SECTIONS:-} " == *" cache "* ]]; then
    # The device-wide cache preference Kokkos 3.4 sets, in the Kokkos-free probe and in nagbench before
    # (NAGBENCH_PREV_EXE) and after it resets it; then the NCCL results again with the fixed binary.
    torch_ar 40 "torch c1" cache_torch_c1 --min-bytes $((1 << 30)) --max-bytes $((4 << 30)) --reps 10
    for cache in untouched prefer-shared prefer-none; do
      probe "probe high $cache" core --stream high --device-cache $cache
    done
    if [[ -x "${NAGBENCH_PREV_EXE:-}" ]]; then
      step 40 "nagbench before the reset" env NAGBENCH_EXE="$NAGBENCH_PREV_EXE" "$run" 2 cache_nagbench_prev \
        --comm-only --comm nccl --comm-sizes 1G,4G --comm-reps 10
    fi
    step 40 "nagbench with the reset" "$run" 2 cache_nagbench_c1 --comm-only --comm nccl --comm-sizes 1G,4G --comm-reps 10
    torch_ar 40 "torch c2" cache_torch_c2 --min-bytes $((1 << 30)) --max-bytes $((4 << 30)) --reps 10
    step 40 "nagbench with the reset, again" "$run" 2 cache_nagbench_c2 --comm-only --comm nccl \
      --comm-sizes 1G,4G --comm-reps 10
    probe "probe legacy prefer-shared" core --stream legacy --device-cache prefer-shared
    torch_ar 60 "torch allreduce np2" torch_allreduce_np2 --max-bytes $((4 << 30))
    step 60 "comm-only nccl np2" "$run" 2 comm_only_nccl_np2 --comm-only --comm nccl --comm-min 1M --comm-max 4G
    step 30 "comm-only nccl np2, vit_l_16 bytes" "$run" 2 comm_only_nccl_np2_vit --comm-only --comm nccl \
      --comm-sizes "$vit_bytes"
    step 60 "dp nccl np2" "$run" 2 dp_nccl_np2 -m vit_l_16,single_2p28 -v multi_tensor --comm nccl \
      --sharding replicated,sharded --overlap on,off
    step 60 "bucket sweep nccl np2" "$run" 2 dp_nccl_np2_buckets -m vit_l_16 -v multi_tensor --comm nccl \
      --sharding replicated,sharded --bucket-mb 5,10,50,100,200,400,1200
    step 30 "weak sharded np2" "$run" 2 weak_sharded_np2 --params-per-rank 2^27 -v multi_tensor --comm nccl \
      --shard --overlap on,off
  fi
  if want np4 && ((gpus >= 4)); then
    step 150 "dp nccl np4" "$run" 4 dp_nccl_np4 -m vit_l_16,single_2p28 -v multi_tensor --comm nccl \
      --sharding replicated,sharded --overlap on,off --bucket-mb 25,200
    step 60 "comm-only nccl np4" "$run" 4 comm_only_nccl_np4 --comm-only --comm nccl --comm-min 1M --comm-max 4G
    step 30 "comm-only nccl np4, vit_l_16 bytes" "$run" 4 comm_only_nccl_np4_vit --comm-only --comm nccl \
      --comm-sizes "$vit_bytes"
  fi
  python3 "$repo/scripts/summarize.py" "$RES" >"$OUT/dp_summary.txt" 2>&1
} >"$OUT/dp_log.txt" 2>&1
grep -E "^===|error" "$OUT/dp_log.txt" | tail -30
sed -n "/^\[comparisons\]/,\$p" "$OUT/dp_summary.txt"
