#!/bin/bash
#BSUB -J nagbench-gpu-scaling
#BSUB -n 4
#BSUB -R "span[ptile=4] affinity[core(16)]"
#BSUB -gpu "num=4"
#BSUB -W 01:00
#BSUB -q gpu
#BSUB -o /scratch/nagbench/gpu-scaling/logs/nagbench-gpu-scaling-%J.out
# nagbench sweep 'gpu-scaling': 66 points, one nagbench launch each (lsf, mpirun).
# Written by: nagbench-sweep job inputs/sweeps/gpu-scaling.yaml --system inputs/sweeps/systems/lsf-openmpi.yaml --nagbench /opt/nagbench/bin/nagbench --out /scratch/nagbench/gpu-scaling --dry-run
# from the sweep spec inputs/sweeps/gpu-scaling.yaml; do not edit, generate again.
#
# Run it again (or submit it again) to resume: a point whose tag has a verified record in records.jsonl is skipped.
# Each point appends its record to records.jsonl as it finishes; a point that fails appends a failure line
# ({"benchmark":"failure","tag":...,"cause":...}) and the sweep goes on. Exit status: 0 when every point has its
# record, 1 when some failed, 2 when the sweep cannot start.
set -uo pipefail

nagbench=/opt/nagbench/bin/nagbench
out=/scratch/nagbench/gpu-scaling
sweep=gpu-scaling
records="$out/records.jsonl"
logs="$out/logs"
mkdir -p "$logs"
module load cuda/12.4
module load openmpi/4.1.6
# NVLink multicast stays off (it can take a shared host's GPUs out of service); every launch passes it to the ranks.
export NCCL_NVLS_ENABLE=0
# Each rank's OpenMP threads stay inside the cores its launcher gave it.
export OMP_PROC_BIND=spread OMP_PLACES=cores

if ! command -v "$nagbench" >/dev/null; then
  echo "nagbench-sweep: error: no nagbench binary at $nagbench" >&2
  exit 2
fi

# launch RANKS NODES RANKS_PER_NODE THREADS COMMAND...: one launch of COMMAND on RANKS ranks.
launch() {
  local ranks=$1 nodes=$2 per_node=$3 threads=$4
  shift 4
  # Open MPI under LSF: hosts from the allocation, each rank bound to its own cores.
  local mpirun=(mpirun) hostfile=()
  [[ -z "${LSB_DJOB_HOSTFILE:-}" ]] || hostfile=(--hostfile "$LSB_DJOB_HOSTFILE")
  OMP_NUM_THREADS=$threads "${mpirun[@]}" "${hostfile[@]}" -np "$ranks" --map-by "ppr:$per_node:node:PE=$threads" --bind-to core \
    -x NCCL_NVLS_ENABLE -x OMP_NUM_THREADS -x OMP_PROC_BIND -x OMP_PLACES "$@"
}

total=66
index=0 ran=0 skipped=0 failed=0 run_seconds=0 start=$SECONDS

say() { echo "[nagbench-sweep $sweep $(duration $((SECONDS - start)))] $*" >&2; }
duration() {
  if (($1 >= 3600)); then printf '%dh%02dm' $(($1 / 3600)) $(($1 % 3600 / 60)); else printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); fi
}
# Time left, from the mean time of the points run so far.
eta() {
  local left=$((total - index))
  if ((ran > 0 && left > 0)); then echo "$left left, about $(duration $((run_seconds * left / ran))) to go"; else echo "$left left"; fi
}
# A point is done when its tag has a verified record; failure lines have none, so a failed point runs again.
is_done() {
  [[ -f "$records" ]] && grep -F -e "\"tag\":\"$1\"" -e "\"tag\": \"$1\"" "$records" | grep -Eq '"verified": ?true'
}
json_string() {  # $1 as the inside of a JSON string: backslashes and quotes escaped, control characters dropped
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '%s' "$s" | tr -d '\000-\037'
}

# point TAG RANKS NODES RANKS_PER_NODE THREADS NAGBENCH_ARGS...
point() {
  local tag=$1 ranks=$2 nodes=$3 per_node=$4 threads=$5
  shift 5
  index=$((index + 1))
  if is_done "$tag"; then
    skipped=$((skipped + 1))
    say "$index/$total $tag: done before, skipped"
    return 0
  fi
  local log="$logs/${tag//\//_}.log" t0=$SECONDS status cause
  # A launch killed while writing leaves a partial last line: end it, so the next record starts a line of its own.
  [[ ! -s "$records" || -z "$(tail -c 1 "$records")" ]] || echo >>"$records"
  say "$index/$total $tag: $ranks rank(s) on $nodes node(s), $threads thread(s) per rank"
  launch "$ranks" "$nodes" "$per_node" "$threads" "$nagbench" "$@" --tag "$tag" --output "$records" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  ran=$((ran + 1))
  run_seconds=$((run_seconds + SECONDS - t0))
  if ((status == 0)) && is_done "$tag"; then
    say "$index/$total $tag: done in $(duration $((SECONDS - t0))); $(eta)"
    return 0
  fi
  failed=$((failed + 1))
  # nagbench's own one-line error; else the launcher's last line.
  cause=$(grep -m1 -E '^nagbench: error' "$log")
  [[ -n "$cause" ]] || cause=$(grep -v -E '^[[:space:]]*$' "$log" | tail -n 1)
  ((status != 0)) || cause="exit status 0 but no verified record tagged $tag${cause:+ (last line: $cause)}"
  [[ -n "$cause" ]] || cause="exit status $status without output"
  local input_error=false
  ((status == 2)) && input_error=true
  printf '{"benchmark":"failure","tag":"%s","cause":"%s","exit_code":%d,"input_error":%s,"ranks":%d,"sweep":"%s","command":"%s","log":"%s","timestamp_utc":"%s"}\n' \
    "$(json_string "$tag")" "$(json_string "$cause")" "$status" "$input_error" "$ranks" "$(json_string "$sweep")" \
    "$(json_string "$*")" "$(json_string "$log")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$records"
  say "$index/$total $tag: FAILED (exit status $status): $cause; $(eta)"
}

say "$total points; records in $records"
point gpu-scaling/strong/n1/sharding=replicated/overlap=on/6a08c08a 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm none --sharding replicated --overlap on
point gpu-scaling/strong/n1/sharding=replicated/overlap=off/be69c81e 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm none --sharding replicated --overlap off
point gpu-scaling/strong/n1/sharding=sharded/overlap=on/7bc5049a 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm none --sharding sharded --overlap on
point gpu-scaling/strong/n1/sharding=sharded/overlap=off/c35b7c51 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm none --sharding sharded --overlap off
point gpu-scaling/strong/n2/sharding=replicated/overlap=on/0d5f084b 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on
point gpu-scaling/strong/n2/sharding=replicated/overlap=off/b514676a 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap off
point gpu-scaling/strong/n2/sharding=sharded/overlap=on/ca36cd2f 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on
point gpu-scaling/strong/n2/sharding=sharded/overlap=off/8d6c5ac2 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap off
point gpu-scaling/strong/n4/sharding=replicated/overlap=on/3199476e 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on
point gpu-scaling/strong/n4/sharding=replicated/overlap=off/5be0b807 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap off
point gpu-scaling/strong/n4/sharding=sharded/overlap=on/d9056d2d 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on
point gpu-scaling/strong/n4/sharding=sharded/overlap=off/0ac75469 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap off
point gpu-scaling/weak/n1/overlap=on/d912098c 1 1 1 16 --backend cuda --params-per-rank '2^27' --variant multi_tensor --dtype fp32 --comm none --sharding sharded --overlap on
point gpu-scaling/weak/n1/overlap=off/abe0a0da 1 1 1 16 --backend cuda --params-per-rank '2^27' --variant multi_tensor --dtype fp32 --comm none --sharding sharded --overlap off
point gpu-scaling/weak/n2/overlap=on/b16fbd22 2 1 2 16 --backend cuda --params-per-rank '2^27' --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on
point gpu-scaling/weak/n2/overlap=off/590acddb 2 1 2 16 --backend cuda --params-per-rank '2^27' --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap off
point gpu-scaling/weak/n4/overlap=on/bcf15518 4 1 4 16 --backend cuda --params-per-rank '2^27' --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on
point gpu-scaling/weak/n4/overlap=off/8853b28c 4 1 4 16 --backend cuda --params-per-rank '2^27' --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap off
point gpu-scaling/buckets/n2/sharding=replicated/bucket_mb=5/978897b6 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 5
point gpu-scaling/buckets/n2/sharding=replicated/bucket_mb=10/162dc885 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 10
point gpu-scaling/buckets/n2/sharding=replicated/bucket_mb=25/5ada1827 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 25
point gpu-scaling/buckets/n2/sharding=replicated/bucket_mb=50/b59c8a73 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 50
point gpu-scaling/buckets/n2/sharding=replicated/bucket_mb=100/fd1c9e13 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 100
point gpu-scaling/buckets/n2/sharding=replicated/bucket_mb=200/e20da41e 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 200
point gpu-scaling/buckets/n2/sharding=replicated/bucket_mb=400/9bc25b6c 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 400
point gpu-scaling/buckets/n2/sharding=replicated/bucket_mb=1200/30766538 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 1200
point gpu-scaling/buckets/n2/sharding=sharded/bucket_mb=5/09cbe7fe 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 5
point gpu-scaling/buckets/n2/sharding=sharded/bucket_mb=10/6eb349ed 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 10
point gpu-scaling/buckets/n2/sharding=sharded/bucket_mb=25/e7e2a433 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 25
point gpu-scaling/buckets/n2/sharding=sharded/bucket_mb=50/403b5590 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 50
point gpu-scaling/buckets/n2/sharding=sharded/bucket_mb=100/857fcfc2 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 100
point gpu-scaling/buckets/n2/sharding=sharded/bucket_mb=200/77588487 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 200
point gpu-scaling/buckets/n2/sharding=sharded/bucket_mb=400/c0c51386 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 400
point gpu-scaling/buckets/n2/sharding=sharded/bucket_mb=1200/a19ba06c 2 1 2 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 1200
point gpu-scaling/buckets/n4/sharding=replicated/bucket_mb=5/4af188c9 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 5
point gpu-scaling/buckets/n4/sharding=replicated/bucket_mb=10/cdbafd93 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 10
point gpu-scaling/buckets/n4/sharding=replicated/bucket_mb=25/9a09893b 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 25
point gpu-scaling/buckets/n4/sharding=replicated/bucket_mb=50/ca495d9e 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 50
point gpu-scaling/buckets/n4/sharding=replicated/bucket_mb=100/f126e79b 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 100
point gpu-scaling/buckets/n4/sharding=replicated/bucket_mb=200/89e7d47d 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 200
point gpu-scaling/buckets/n4/sharding=replicated/bucket_mb=400/a22e0f00 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 400
point gpu-scaling/buckets/n4/sharding=replicated/bucket_mb=1200/3b2375c9 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding replicated --overlap on --bucket-mb 1200
point gpu-scaling/buckets/n4/sharding=sharded/bucket_mb=5/82aa04b5 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 5
point gpu-scaling/buckets/n4/sharding=sharded/bucket_mb=10/5ed14bec 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 10
point gpu-scaling/buckets/n4/sharding=sharded/bucket_mb=25/79a37036 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 25
point gpu-scaling/buckets/n4/sharding=sharded/bucket_mb=50/d5a06a42 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 50
point gpu-scaling/buckets/n4/sharding=sharded/bucket_mb=100/a76e49ea 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 100
point gpu-scaling/buckets/n4/sharding=sharded/bucket_mb=200/4dbbb8d4 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 200
point gpu-scaling/buckets/n4/sharding=sharded/bucket_mb=400/c5f3f756 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 400
point gpu-scaling/buckets/n4/sharding=sharded/bucket_mb=1200/d8867558 4 1 4 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32 --comm nccl --sharding sharded --overlap on --bucket-mb 1200
point gpu-scaling/allreduce/n2/d8a0be27 2 1 2 16 --backend cuda --variant multi_tensor --dtype fp32 --comm nccl --comm-min 1M --comm-max 4G --comm-only
point gpu-scaling/allreduce/n4/659dcb86 4 1 4 16 --backend cuda --variant multi_tensor --dtype fp32 --comm nccl --comm-min 1M --comm-max 4G --comm-only
point gpu-scaling/allreduce-step-size/n2/be772c6a 2 1 2 16 --backend cuda --variant multi_tensor --dtype fp32 --comm nccl --comm-sizes 1217306528 --comm-only
point gpu-scaling/allreduce-step-size/n4/4e6a67ce 4 1 4 16 --backend cuda --variant multi_tensor --dtype fp32 --comm nccl --comm-sizes 1217306528 --comm-only
point gpu-scaling/backends/n1/backend=cuda/model=resnet50/variant=fused/2de24ddb 1 1 1 16 --backend cuda --model resnet50 --variant fused --dtype fp32
point gpu-scaling/backends/n1/backend=cuda/model=resnet50/variant=multi_tensor/1758d105 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --dtype fp32
point gpu-scaling/backends/n1/backend=cuda/model=vit_l_16/variant=fused/0e96f2a0 1 1 1 16 --backend cuda --model vit_l_16 --variant fused --dtype fp32
point gpu-scaling/backends/n1/backend=cuda/model=vit_l_16/variant=multi_tensor/f41cb2f4 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --dtype fp32
point gpu-scaling/backends/n1/backend=cuda/model=single_2p28/variant=fused/d3eeafcf 1 1 1 16 --backend cuda --model single_2p28 --variant fused --dtype fp32
point gpu-scaling/backends/n1/backend=cuda/model=single_2p28/variant=multi_tensor/413d14cc 1 1 1 16 --backend cuda --model single_2p28 --variant multi_tensor --dtype fp32
point gpu-scaling/backends/n1/backend=openmp/model=resnet50/variant=fused/89aba839 1 1 1 64 --backend openmp --model resnet50 --variant fused --dtype fp32
point gpu-scaling/backends/n1/backend=openmp/model=resnet50/variant=multi_tensor/39bcb39f 1 1 1 64 --backend openmp --model resnet50 --variant multi_tensor --dtype fp32
point gpu-scaling/backends/n1/backend=openmp/model=vit_l_16/variant=fused/a1d67334 1 1 1 64 --backend openmp --model vit_l_16 --variant fused --dtype fp32
point gpu-scaling/backends/n1/backend=openmp/model=vit_l_16/variant=multi_tensor/3fb1bb65 1 1 1 64 --backend openmp --model vit_l_16 --variant multi_tensor --dtype fp32
point gpu-scaling/backends/n1/backend=openmp/model=single_2p28/variant=fused/8f19bf48 1 1 1 64 --backend openmp --model single_2p28 --variant fused --dtype fp32
point gpu-scaling/backends/n1/backend=openmp/model=single_2p28/variant=multi_tensor/4d4fc4da 1 1 1 64 --backend openmp --model single_2p28 --variant multi_tensor --dtype fp32
say "finished: $ran run, $skipped skipped (done before), $failed failed, in $(duration $((SECONDS - start)))"
((failed == 0)) || exit 1
