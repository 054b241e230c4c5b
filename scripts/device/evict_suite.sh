#!/usr/bin/env bash
# On a GPU machine: the CUDA build's unit and CLI tests, then the update benchmark with its default cache-evicting
# write before each timed step and with none (--evict-mib 0), interleaved in rounds, on the GPU and on the host's
# OpenMP threads. Records land in $OUT/records/, the table in $OUT/summary.md.
#   NAGBENCH_BUILD=$PWD/.device/new ROUNDS=2 bash scripts/device/evict_suite.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rec="$OUT/records"
mkdir -p "$rec"
describe_machine

if [[ "${TESTS:-1}" == 1 ]]; then
  {
    echo "=== unit tests (GPU)"
    NAGBENCH_MODELS_DIR="$B/share/nagbench/models" "$B/bin/nagbench_unit_tests" 2>&1 | grep -E "FAILED|PASSED|SKIPPED"
    echo "=== CLI tests (CUDA binary)"
    NAGBENCH_BIN="$B/bin/nagbench" NAGBENCH_MODELS_DIR="$B/share/nagbench/models" NAGBENCH_MPIRUN=mpirun \
      OMP_PROC_BIND=false "$repo/tests/cli/run_pytest.sh" "$repo/tests/cli/test_cli.py" \
      "$repo/tests/cli/test_hardening.py" 2>&1 | tail -6
  } 2>&1 | tee "$OUT/tests.txt"
fi

nb() {  # nb <record name> <nagbench args...>
  local name=$1
  shift
  echo "=== $name: nagbench $*"
  "$B/bin/nagbench" -q -o "$rec/$name.json" "$@" 2>&1 | grep -vE "^$"
}
{
  for r in $(seq 1 "${ROUNDS:-2}"); do
    for evict in default 0; do
      e=()
      [[ $evict == 0 ]] && e=(--evict-mib 0)
      nb "cuda_resnet50_multi_tensor_evict-${evict}_r$r" -b cuda -m resnet50 -v multi_tensor "${e[@]}"
      nb "cuda_vit_l_16_multi_tensor_evict-${evict}_r$r" -b cuda -m vit_l_16 -v multi_tensor "${e[@]}"
      nb "cuda_single2p28_fused_evict-${evict}_r$r" -b cuda -m single_2p28 -v fused "${e[@]}"
      OMP_NUM_THREADS=$(nproc) nb "openmp_resnet50_fused_evict-${evict}_r$r" -b openmp -m resnet50 -v fused \
        -n 10 "${e[@]}"
    done
  done
} 2>&1 | tee "$OUT/runs.txt"

python3 - "$rec" <<'EOF' | tee "$OUT/summary.md"
import glob, json, os, sys
rows = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = json.load(open(f))
    key = (r["backend"], r["model"], r["variant"], "default" if r["evict_bytes"] else "0 (warm)")
    rows.setdefault(key, []).append((r["median_s"], r["pct_of_roof"], r["evict_bytes"], r["verified"], r["device"]))
print("| backend | model | variant | --evict-mib | bytes evicted | median ms per round | % of roof per round |"
      " verified | device |")
print("|---|---|---|---|---|---|---|---|---|")
for (b, m, v, e), runs in sorted(rows.items()):
    print(f"| {b} | {m} | {v} | {e} | {runs[0][2]:,} | " + " / ".join(f"{t * 1e3:.4f}" for t, *_ in runs) +
          " | " + " / ".join(f"{p:.1f}" for _, p, *_ in runs) + f" | {all(x[3] for x in runs)} | {runs[0][4]} |")
EOF
tar -czf "$OUT/records.tar.gz" -C "$OUT" records && rm -rf "$rec"
