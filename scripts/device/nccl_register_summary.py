#!/usr/bin/env python3
"""Summary of scripts/device/nccl_register_ab.sh's records (one folder): NCCL with registered buffers against NCCL's
own staging, per configuration the median over rounds of each side's median, and the ratio.

    python3 scripts/device/nccl_register_summary.py results/<machine>/<date>-nccl-register > summary.md
"""
import collections
import glob
import json
import os
import statistics
import sys


def records(path):
    doc = json.load(open(path))
    return doc if isinstance(doc, list) else [doc]


def main(folder):
    comm = collections.defaultdict(list)   # (bytes, reg) -> out-of-place times
    dp = collections.defaultdict(list)     # (mode, bucket, reg) -> comm + update
    mlp = collections.defaultdict(list)    # (quantity, reg) -> value
    for f in sorted(glob.glob(os.path.join(folder, "*.json"))):
        name = os.path.basename(f)
        if not name.startswith(("comm_", "dp_", "mlp_")):
            continue
        reg = "registered" if "_reg1_" in name else "staged"
        for r in records(f):
            if not r.get("verified"):
                sys.exit(f"{f}: an unverified record")
            if name.startswith("comm_"):
                for row in r["rows"]:
                    comm[(row["bytes"], reg)].append(row["out_of_place"]["time_s"])
            elif name.startswith("dp_"):
                dp[(r["mode"], r["bucket_mb"], reg)].append(r["phases"]["comm_update"]["median_s"])
            else:
                p = r["phases"]
                mlp[("step", reg)].append(p["total"]["median_s"])
                mlp[("no-communication step", reg)].append(p["no_comm_step"]["median_s"])
                mlp[("one allreduce", reg)].append(p["allreduce"]["median_s"])
    med = statistics.median
    out = ["| allreduce (--comm-only), MiB | staged us | registered us | registered / staged |", "|---|---|---|---|"]
    for b in sorted({k[0] for k in comm}):
        s, r = med(comm[(b, "staged")]) * 1e6, med(comm[(b, "registered")]) * 1e6
        out.append(f"| {b / 2 ** 20:g} | {s:.1f} | {r:.1f} | {r / s:.3f} |")
    out += ["", "| vit_l_16 step, comm + update | bucket MiB | staged ms | registered ms | registered / staged |",
            "|---|---|---|---|---|"]
    for mode, bucket in sorted({k[:2] for k in dp}):
        s, r = med(dp[(mode, bucket, "staged")]) * 1e3, med(dp[(mode, bucket, "registered")]) * 1e3
        out.append(f"| {mode}, overlap on | {bucket:g} | {s:.3f} | {r:.3f} | {r / s:.3f} |")
    if mlp:
        out += ["", "| MLP 24 x 4096 training step (100 MiB buckets) | staged ms | registered ms |", "|---|---|---|"]
        for q in ("step", "no-communication step", "one allreduce"):
            out.append(f"| {q} | {med(mlp[(q, 'staged')]) * 1e3:.3f} | {med(mlp[(q, 'registered')]) * 1e3:.3f} |")
    ddp = glob.glob(os.path.join(folder, "torch_ddp_mlp_g*.json"))
    if ddp:
        d = json.load(open(ddp[0]))
        out += ["", f"PyTorch DDP, same MLP, same GPUs: {d['quantities']['ddp_step']['slowest_median_ms']:.3f} ms "
                f"per step (slowest rank's median)."]
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: nccl_register_summary.py FOLDER")
    main(sys.argv[1])
