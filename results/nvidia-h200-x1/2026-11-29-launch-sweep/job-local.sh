#!/bin/bash
# nagbench sweep 'launch-1gpu': 48 points, one nagbench launch each (local, mpirun).
# Written by: nagbench-sweep run inputs/sweeps/launch-1gpu.yaml --gpus-per-node 1 --cores-per-node 16 --bind cores --mpirun 'mpirun --allow-run-as-root' --nagbench /work/main/build/cuda/bin/nagbench --out /work/main/.device/launch-out --dry-run
# from the sweep spec inputs/sweeps/launch-1gpu.yaml; do not edit, generate again.
#
# Run it again (or submit it again) to resume: a point whose tag has a verified record in records.jsonl is skipped.
# Each point appends its record to records.jsonl as it finishes; a point that fails appends a failure line
# ({"benchmark":"failure","tag":...,"cause":...}) and the sweep goes on. Exit status: 0 when every point has its
# record, 1 when some failed, 2 when the sweep cannot start.
set -uo pipefail

nagbench=/work/main/.device/new/bin/nagbench
out=/work/main/.device/launch-out
sweep=launch-1gpu
records="$out/records.jsonl"
logs="$out/logs"
mkdir -p "$logs"
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
  # This machine: each rank bound to its own cores.
  local mpirun=(mpirun --allow-run-as-root)
  OMP_NUM_THREADS=$threads "${mpirun[@]}" -np "$ranks" --map-by "ppr:$per_node:node:PE=$threads" --bind-to core \
    -x NCCL_NVLS_ENABLE -x OMP_NUM_THREADS -x OMP_PROC_BIND -x OMP_PLACES "$@"
}

total=48
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
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=fp32/r1/88b1596b 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype fp32
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=fp32/r2/88b1596b 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype fp32
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=fp32/r3/88b1596b 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype fp32
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=bf16/r1/5e8498ab 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype bf16
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=bf16/r2/5e8498ab 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype bf16
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=bf16/r3/5e8498ab 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype bf16
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=bf16_master/r1/b4f39aa7 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype bf16_master
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=bf16_master/r2/b4f39aa7 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype bf16_master
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=direct/dtype=bf16_master/r3/b4f39aa7 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch direct --dtype bf16_master
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=fp32/r1/1afdb061 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype fp32
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=fp32/r2/1afdb061 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype fp32
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=fp32/r3/1afdb061 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype fp32
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=bf16/r1/d16c7d43 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype bf16
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=bf16/r2/d16c7d43 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype bf16
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=bf16/r3/d16c7d43 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype bf16
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=bf16_master/r1/63f3c7d7 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype bf16_master
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=bf16_master/r2/63f3c7d7 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype bf16_master
point launch-1gpu/small-models/n1/variant=multi_tensor/launch=graph/dtype=bf16_master/r3/63f3c7d7 1 1 1 16 --backend cuda --model resnet50 --variant multi_tensor --launch graph --dtype bf16_master
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=fp32/r1/db707b18 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype fp32
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=fp32/r2/db707b18 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype fp32
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=fp32/r3/db707b18 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype fp32
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=bf16/r1/23c8c25b 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype bf16
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=bf16/r2/23c8c25b 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype bf16
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=bf16/r3/23c8c25b 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype bf16
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=bf16_master/r1/497f9fba 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype bf16_master
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=bf16_master/r2/497f9fba 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype bf16_master
point launch-1gpu/small-models/n1/variant=fused/launch=direct/dtype=bf16_master/r3/497f9fba 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch direct --dtype bf16_master
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=fp32/r1/24694bd5 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype fp32
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=fp32/r2/24694bd5 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype fp32
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=fp32/r3/24694bd5 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype fp32
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=bf16/r1/fb185ebb 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype bf16
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=bf16/r2/fb185ebb 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype bf16
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=bf16/r3/fb185ebb 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype bf16
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=bf16_master/r1/8fe36e85 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype bf16_master
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=bf16_master/r2/8fe36e85 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype bf16_master
point launch-1gpu/small-models/n1/variant=fused/launch=graph/dtype=bf16_master/r3/8fe36e85 1 1 1 16 --backend cuda --model resnet50 --variant fused --launch graph --dtype bf16_master
point launch-1gpu/large-updates/n1/model=vit_l_16/launch=direct/r1/a6b2793b 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --launch direct
point launch-1gpu/large-updates/n1/model=vit_l_16/launch=direct/r2/a6b2793b 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --launch direct
point launch-1gpu/large-updates/n1/model=vit_l_16/launch=direct/r3/a6b2793b 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --launch direct
point launch-1gpu/large-updates/n1/model=vit_l_16/launch=graph/r1/723ab48e 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --launch graph
point launch-1gpu/large-updates/n1/model=vit_l_16/launch=graph/r2/723ab48e 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --launch graph
point launch-1gpu/large-updates/n1/model=vit_l_16/launch=graph/r3/723ab48e 1 1 1 16 --backend cuda --model vit_l_16 --variant multi_tensor --launch graph
point launch-1gpu/large-updates/n1/model=single_2p28/launch=direct/r1/694fecf6 1 1 1 16 --backend cuda --model single_2p28 --variant multi_tensor --launch direct
point launch-1gpu/large-updates/n1/model=single_2p28/launch=direct/r2/694fecf6 1 1 1 16 --backend cuda --model single_2p28 --variant multi_tensor --launch direct
point launch-1gpu/large-updates/n1/model=single_2p28/launch=direct/r3/694fecf6 1 1 1 16 --backend cuda --model single_2p28 --variant multi_tensor --launch direct
point launch-1gpu/large-updates/n1/model=single_2p28/launch=graph/r1/fa44ce7b 1 1 1 16 --backend cuda --model single_2p28 --variant multi_tensor --launch graph
point launch-1gpu/large-updates/n1/model=single_2p28/launch=graph/r2/fa44ce7b 1 1 1 16 --backend cuda --model single_2p28 --variant multi_tensor --launch graph
point launch-1gpu/large-updates/n1/model=single_2p28/launch=graph/r3/fa44ce7b 1 1 1 16 --backend cuda --model single_2p28 --variant multi_tensor --launch graph
say "finished: $ran run, $skipped skipped (done before), $failed failed, in $(duration $((SECONDS - start)))"
((failed == 0)) || exit 1
