#!/usr/bin/env bash
# On a GPU machine: the CUDA build's unit tests and the CLI tests of --launch, then the update benchmark with each
# step's kernels launched directly and replayed from a CUDA graph (--launch direct,graph: both in one launch, the
# order swapped every round), for the cases where the launch's fixed cost shows (resnet50's 120-us update, its 161
# launches with the fused variant) and where it should not (vit_l_16, a 2^28 flat tensor). Records land in
# $OUT/records.tar.gz, the table in $OUT/summary.md.
#   NAGBENCH_BUILD=$PWD/.device/new ROUNDS=3 bash scripts/device/graph_suite.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rec="$OUT/records"
mkdir -p "$rec"
describe_machine

if [[ "${TESTS:-1}" == 1 ]]; then
  {
    echo "=== unit tests (GPU)"
    NAGBENCH_MODELS_DIR="$B/share/nagbench/models" "$B/bin/nagbench_unit_tests" 2>&1 |
      grep -E "FAILED|PASSED|SKIPPED|Graph"
    echo "=== CLI tests of --launch and bad input (CUDA binary)"
    NAGBENCH_BIN="$B/bin/nagbench" NAGBENCH_MODELS_DIR="$B/share/nagbench/models" NAGBENCH_MPIRUN=mpirun \
      OMP_PROC_BIND=false "$repo/tests/cli/run_pytest.sh" "$repo/tests/cli/test_cli.py" -k "graph or bad_input" \
      2>&1 | tail -6
  } 2>&1 | tee "$OUT/tests.txt"
fi

nb() { # nb <record name> <nagbench args...>
  local name=$1
  shift
  echo "=== $name: nagbench $*"
  "$B/bin/nagbench" -q -o "$rec/$name.jsonl" "$@" 2>&1 | grep -vE "^$"
}
{
  for r in $(seq 1 "${ROUNDS:-3}"); do
    order=direct,graph
    ((r % 2 == 0)) && order=graph,direct
    nb "resnet50_multi_tensor_fp32_r$r" -b cuda -m resnet50 -v multi_tensor --launch "$order"
    nb "resnet50_fused_fp32_r$r" -b cuda -m resnet50 -v fused --launch "$order"
    nb "resnet50_multi_tensor_bf16_r$r" -b cuda -m resnet50 -v multi_tensor -d bf16,bf16_master --launch "$order"
    nb "vit_l_16_multi_tensor_fp32_r$r" -b cuda -m vit_l_16 -v multi_tensor --launch "$order"
    nb "single2p28_fused_fp32_r$r" -b cuda -m single_2p28 -v fused --launch "$order"
  done
} 2>&1 | tee "$OUT/runs.txt"

python3 - "$rec" <<'EOF' | tee "$OUT/summary.md"
import glob, json, os, statistics, sys
rows = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.jsonl"))):
    for line in open(f):
        r = json.loads(line)
        key = (r["model"], r["variant"], r["dtype"], r["launch"])
        rows.setdefault(key, []).append(r)
print("| model | variant | dtype | --launch | median us per round | % of roof per round | median of rounds |"
      " verified | device |")
print("|---|---|---|---|---|---|---|---|---|")
for (m, v, d, l), runs in sorted(rows.items()):
    pct = [x["pct_of_roof"] for x in runs]
    print(f"| {m} | {v} | {d} | {l} | " + " / ".join(f"{x['median_s'] * 1e6:.1f}" for x in runs) + " | " +
          " / ".join(f"{p:.1f}" for p in pct) + f" | {statistics.median(pct):.1f}% | "
          f"{all(x['verified'] for x in runs)} | {runs[0]['device']} |")
hashes = {}
for (m, v, d, l), runs in rows.items():
    hashes.setdefault((m, v, d), set()).update(x["params_hash"] for x in runs)
print("\nSame final parameters (params_hash) for direct and graph launches, every case: " +
      str(all(len(h) == 1 for h in hashes.values())))
EOF
tar -czf "$OUT/records.tar.gz" -C "$OUT" records && rm -rf "$rec"
