#!/usr/bin/env bash
# On one GPU: two builds of nagbench side by side (A = $OLD, a baseline staged with `stage.sh old`; B = this build),
# interleaved, timing only, on the single-GPU update cases a kernel change can move (bf16 layouts, fp32 control,
# resnet50 multi_tensor); then each case once more with B, verified; then B's GPU unit tests of the kernels. Records in $OUT/ab/{a,b}_<case>_r<round>.json,
# a table in $OUT/ab/summary.md.
#   OLD=$PWD/.device/old NAGBENCH_BUILD=$PWD/.device/new ROUNDS=2 bash scripts/device/pack_ab.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
old=${OLD:?OLD: the baseline build folder (stage.sh old)}
for z in "$old"/bin/*.gz; do [[ -e $z ]] && gunzip -f "$z" && chmod +x "${z%.gz}"; done
res="$OUT/ab"
mkdir -p "$res"
cases=(
  "single2p28_bf16_fused|-m single_2p28 -d bf16 -v fused"
  "single2p28_bf16_master_fused|-m single_2p28 -d bf16_master -v fused"
  "single2p28_bf16_multi_tensor|-m single_2p28 -d bf16 -v multi_tensor"
  "single2p28_bf16_master_multi_tensor|-m single_2p28 -d bf16_master -v multi_tensor"
  "single2p28_fp32_fused|-m single_2p28 -v fused"
  "resnet50_fp32_multi_tensor|-m resnet50 -v multi_tensor"
)
{
  nvidia-smi -L
  for round in $(seq 1 "${ROUNDS:-2}"); do
    for c in "${cases[@]}"; do
      name=${c%%|*}
      read -r -a args <<<"${c#*|}"
      for side in a b; do
        exe="$B/bin/nagbench"
        [[ $side == a ]] && exe="$old/bin/nagbench"
        # Timing only here (the baseline may predate a verification change); B is verified below.
        "$exe" -b cuda -q --verify off "${args[@]}" -o "$res/${side}_${name}_r$round.json" || echo "FAILED: $side $name"
      done
    done
  done
  for c in "${cases[@]}"; do
    read -r -a args <<<"${c#*|}"
    "$B/bin/nagbench" -b cuda -q "${args[@]}" -o "$res/verified_${c%%|*}.json" || echo "FAILED: verified ${c%%|*}"
  done
  python3 - "$res" <<'EOF' | tee "$res/summary.md"
import glob, json, os, statistics, sys
res = sys.argv[1]
rows = {}
for f in sorted(glob.glob(os.path.join(res, "*.json"))):
    side, rest = os.path.basename(f)[:-len(".json")].split("_", 1)
    case = rest if side == "verified" else rest.rsplit("_r", 1)[0]
    r = json.load(open(f))
    r = r[0] if isinstance(r, list) else r
    rows.setdefault(case, {}).setdefault(side, []).append((r["median_s"], r["pct_of_roof"], r["verified"], r["device"]))
print("| case | device | A median ms (% roof) | B median ms (% roof) | B/A time | B verified run: ms (% roof) |")
print("|---|---|---|---|---|---|")
for case, s in sorted(rows.items()):
    a, b, v = s.get("a", []), s.get("b", []), s.get("verified", [])
    if not a or not b:
        continue
    am = statistics.median(x[0] for x in a); bm = statistics.median(x[0] for x in b)
    ap = statistics.median(x[1] for x in a); bp = statistics.median(x[1] for x in b)
    ver = f"{v[0][0] * 1e3:.4f} ({v[0][1]:.1f}%), verified {v[0][2]}" if v else "no record (failed)"
    print(f"| {case} | {a[0][3]} | {am * 1e3:.4f} ({ap:.1f}%) | {bm * 1e3:.4f} ({bp:.1f}%) | {bm / am:.3f} | {ver} |")
EOF
  echo "=== unit tests (B), CUDA update kernels and rules"
  "$B/bin/nagbench_unit_tests" --gtest_filter='UpdateKernels/Cuda.*:RuleKernels/Cuda.*:TorchArithmetic/Cuda.*' 2>&1 | tail -5
} 2>&1 | tee "$OUT/pack_ab.log"
tar -czf "$OUT/ab.tar.gz" -C "$OUT" ab && rm -rf "$res"
