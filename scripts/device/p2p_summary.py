#!/usr/bin/env python3
"""The table of scripts/device/p2p_suite.sh: per rank count, the data-parallel comm+update time of every p2p and
NCCL configuration against one NCCL allreduce of the same bytes (--comm-only, same launch family) and PyTorch's
all_reduce + mul_ + fused SGD step (torch_dp_step.py), all from the records of one folder (one device call).
    p2p_summary.py RESULTS_DIR            Markdown on stdout
"""
import glob
import json
import os
import statistics
import sys


def load(path):
    doc = json.load(open(path))
    return doc if isinstance(doc, list) else [doc]


def launch(r):
    return r.get("launch", "direct")  # records before --launch graph served dp steps launched directly


def streams(r):
    return r.get("update_streams", 1)  # records before --update-streams updated on one stream


def per_bucket_costs(rows):
    """What one more bucket costs a step (overlap on): the comm+update difference between the smallest and the
    largest bucket size of a configuration, over the difference in bucket counts (median of its records)."""
    groups = {}
    for r in rows:
        if r["overlap"]:
            key = (r["comm"], r["comm_path"], r["mode"], launch(r), streams(r))
            groups.setdefault(key, {}).setdefault(r["bucket_mb"], []).append(r)
    lines = []
    for (comm, path, mode, how, ns), by_size in sorted(groups.items()):
        if len(by_size) < 2:
            continue
        small, large = by_size[min(by_size)], by_size[max(by_size)]
        med = lambda rs: statistics.median(x["phases"]["comm_update"]["median_s"] for x in rs)
        extra = small[0]["buckets"] - large[0]["buckets"]
        if extra > 0:
            lines.append(f"- {comm} ({path}), {mode}, {how}, {ns} update stream(s): "
                         f"{(med(small) - med(large)) / extra * 1e6:.1f} us per "
                         f"bucket ({min(by_size):g} MiB: {small[0]['buckets']} buckets, {max(by_size):g} MiB: "
                         f"{large[0]['buckets']})")
    if lines:
        print("\nWhat a bucket costs (overlap on; median of the records at each size):\n")
        print("\n".join(lines))


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: p2p_summary.py RESULTS_DIR")
    res = sys.argv[1]
    dp, allreduce, torch = [], {}, {}
    for f in sorted(glob.glob(os.path.join(res, "*.json"))):
        try:
            recs = load(f)
        except (OSError, ValueError) as e:
            print(f"warning: {f}: {e}", file=sys.stderr)
            continue
        for r in recs:
            if r.get("benchmark") == "dp_step":
                r["_record"] = os.path.basename(f)[:-len(".json")]
                dp.append(r)
            elif r.get("benchmark") == "allreduce":
                for row in r["rows"]:
                    allreduce[(r["ranks"], row["bytes"])] = row["in_place"]["time_s"]
            elif r.get("benchmark") == "torch_dp_step":
                torch[r["world"]] = r
    devices = sorted({r["device"] for r in dp} | {t["device"] for t in torch.values()})
    print(f"# p2p fused reduce-update, vit_l_16 fp32 ({', '.join(devices) or 'no records'})\n")
    one = [r for r in dp if r["ranks"] == 1 and not r["overlap"] and r["comm"] == "none"]
    for r in one:
        print(f"- 1 GPU, {r['comm']}, sharded layout, update phase: {r['phases']['update']['median_s'] * 1e3:.3f} ms")
    # One GPU too where steps overlapped there (the graph section's per-bucket costs, no NVLink traffic).
    for np in sorted({r["ranks"] for r in dp if r["ranks"] > 1 or r["overlap"]}):
        t = torch.get(np)
        print(f"\n## {np} GPU{'s' if np > 1 else ''}\n")
        for (n, nbytes), secs in sorted(allreduce.items()):
            if n == np and any(r["params"] * 4 == nbytes for r in dp):
                print(f"- one NCCL allreduce of {nbytes} B (a model's fp32 gradient): {secs * 1e3:.3f} ms")
        if t:
            print(f"- PyTorch {t['torch']} (NCCL {t['nccl']}): allreduce {t['allreduce']['median_s'] * 1e3:.3f} ms, "
                  f"fused SGD {t['update']['median_s'] * 1e3:.3f} ms, step {t['step']['median_s'] * 1e3:.3f} ms")
        print("\n| record | comm | mode | overlap | update streams | bucket MiB | comm+update ms | x allreduce | "
              "PyTorch step / this | update phase ms | verified |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        rows = sorted((r for r in dp if r["ranks"] == np),
                      key=lambda r: (r["comm"], r["comm_path"], r["mode"], not r["overlap"], launch(r),
                                     r["bucket_mb"], streams(r), r["_record"]))
        for r in rows:
            cu = r["phases"]["comm_update"]["median_s"]
            ar = allreduce.get((np, r["params"] * 4)) if r["dtype"] == "fp32" else None
            upd = r["phases"].get("update") or {}
            comm = f"{r['comm']} ({r['comm_path']})" if r["comm"] == "p2p" else r["comm"]
            over = ("on" if r["overlap"] else "off") + (", graph" if launch(r) == "graph" else "")
            head = (f"| `{r['_record']}` | {comm} | {r['mode']} | {over} | {streams(r)} | {r['bucket_mb']:g} | "
                    f"{cu * 1e3:.3f}")
            vs_ar = f"{cu / ar:.3f}" if ar else "-"
            vs_torch = f"{t['step']['median_s'] / cu:.2f}" if t else "-"
            upd_ms = f"{upd['median_s'] * 1e3:.3f}" if upd else "-"
            print(f"{head} | {vs_ar} | {vs_torch} | {upd_ms} | {r['verified'] and r['ranks_agree']} |")
        per_bucket_costs(rows)
        # (p2p's update phase holds its reduction too: the strong-efficiency figure is the reduce-then-update path's.)
        sharded_off = [r for r in rows if r["mode"] == "sharded" and not r["overlap"] and r["bucket_mb"] == 400
                       and r["comm"] != "p2p"]
        for r in sharded_off:
            base = [b for b in one if b["comm"] == "none" and b["model"] == r["model"]]
            if base and r["phases"].get("update"):
                u1 = base[0]["phases"]["update"]["median_s"]
                un = r["phases"]["update"]["median_s"]
                print(f"\n- sharded update strong efficiency ({r['comm']}, 400 MiB, overlap off): "
                      f"{u1 * 1e3:.3f} / ({np} x {un * 1e3:.3f}) = {u1 / (np * un):.2f}")


if __name__ == "__main__":
    main()
