#!/usr/bin/env python3
"""Figures from nagbench JSON records (the same files summarize.py reads), one PNG per kind present:

    update_pct_roof.png   update variants: % of the measured roof, per model and dtype
    allreduce_busbw.png   --comm-only busbw against message size, with PyTorch's all_reduce where recorded
    dp_buckets.png        data-parallel comm+update against bucket size, per mode and rank count

    scripts/plot.py results/nvidia-h200-x2/2026-11-27-dp-bound/final --out plots/
Uses Debian's python3-matplotlib (installed by scripts/setup.sh); no display needed.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import expand, load, phase  # noqa: E402


def plot_update(recs, out):
    rows = [r for r in recs if r["benchmark"] == "update" and r.get("pct_of_roof") is not None]
    if not rows:
        return None
    labels = sorted({f"{r['model']} {r['dtype']}" for r in rows})
    variants = sorted({r["variant"] for r in rows})
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(labels)), 4))
    width = 0.8 / len(variants)
    for i, v in enumerate(variants):
        ys = []
        for lab in labels:
            match = [r["pct_of_roof"] for r in rows if r["variant"] == v and f"{r['model']} {r['dtype']}" == lab]
            ys.append(max(match) if match else 0)
        ax.bar([x + i * width for x in range(len(labels))], ys, width, label=v)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(labels))], labels, rotation=30, ha="right")
    ax.set_ylabel("% of roof (max of copy, nstream)")
    ax.axhline(100, color="gray", lw=0.5)
    ax.set_title("update: " + ", ".join(sorted({r["device"] for r in rows})))
    ax.legend(fontsize="small")
    return save(fig, out, "update_pct_roof.png")


def plot_allreduce(recs, out):
    ours = [r for r in recs if r["benchmark"] == "allreduce"]
    torch = [r for r in recs if r["benchmark"] == "torch_allreduce"]
    if not ours:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    series = {}
    for r in ours:
        key = f"nagbench {r['comm']}/{r['comm_path']} {r['ranks']} ranks"
        series.setdefault(key, []).append((r["_row"]["bytes"], r["_row"]["out_of_place"]["busbw_GBps"]))
    for r in torch:
        series.setdefault(f"PyTorch all_reduce {r['ranks']} ranks", []).append((r["_row"]["bytes"],
                                                                                 r["_row"]["busbw_GBps"]))
    for key, pts in sorted(series.items()):
        best = {}
        for b, bw in pts:  # several runs of one size: their median
            best.setdefault(b, []).append(bw)
        xs = sorted(best)
        ys = [sorted(best[x])[len(best[x]) // 2] for x in xs]
        ax.plot(xs, ys, marker="o", ms=3, label=key)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("message size (bytes)")
    ax.set_ylabel("busbw (GB/s)")
    ax.set_title("allreduce: " + ", ".join(sorted({r["device"] for r in ours})))
    ax.legend(fontsize="small")
    return save(fig, out, "allreduce_busbw.png")


def plot_buckets(recs, out):
    rows = [r for r in recs if r["benchmark"] == "dp_step" and r["overlap"] and r["ranks"] > 1
            and phase(r, "comm_update") is not None and r.get("comm_stream_priority", "high") == "high"]
    if len({r["bucket_mb"] for r in rows}) < 2:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    groups = {}
    for r in rows:
        groups.setdefault(f"{r['model']} {r['mode']} {r['ranks']} ranks {r['comm']}", {})[r["bucket_mb"]] = \
            phase(r, "comm_update") * 1e3
    for key, pts in sorted(groups.items()):
        if len(pts) < 2:
            continue
        xs = sorted(pts)
        ax.plot(xs, [pts[x] for x in xs], marker="o", ms=3, label=key)
    ax.set_xscale("log")
    ax.set_xlabel("bucket size (MiB)")
    ax.set_ylabel("comm + update per step (ms)")
    ax.set_title("data-parallel step, overlap on: " + ", ".join(sorted({r["device"] for r in rows})))
    ax.legend(fontsize="small")
    return save(fig, out, "dp_buckets.png")


def save(fig, out, name):
    path = os.path.join(out, name)
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=120)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)  # never a half-written figure
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="record files or folders")
    ap.add_argument("--out", default=".", help="folder for the PNG files (created)")
    args = ap.parse_args()
    for p in args.paths:
        if not os.path.exists(p):
            print(f"plot.py: error: no such file or folder: {p}", file=sys.stderr)
            return 2
    recs = expand(load(args.paths))
    if not recs:
        print("plot.py: error: no nagbench records found", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    made = [p for p in (plot_update(recs, args.out), plot_allreduce(recs, args.out), plot_buckets(recs, args.out)) if p]
    for p in made:
        print(p)
    return 0 if made else 2


if __name__ == "__main__":
    sys.exit(main())
