#!/usr/bin/env python3
"""Figures from nagbench records (the files summarize.py reads), PNG and SVG, one per kind present:

    update_pct_roof   update variants: % of the measured roof, one panel per commit, device and backend
    allreduce_busbw   --comm-only busbw against message size, one series per commit, with PyTorch's all_reduce
                      where recorded (one series per folder)
    dp_buckets        data-parallel comm+update against bucket size, one series per commit, mode and rank count

    scripts/plot.py results/nvidia-h200-x2/2026-11-27-dp-bound/final --out plots/
The same figures, and the rest of the report (scaling, step breakdown, CUDA vs OpenMP, roofline), come from
scripts/report/nagbench-report report (docs/reports.md); this command draws these three alone. No figure takes a
maximum over backends, devices or commits. Debian's python3-matplotlib, no display needed.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
from nagbench_report import analysis, figures, records  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="record files or folders")
    ap.add_argument("--out", default=".", help="folder for the figures (created)")
    args = ap.parse_args()
    for p in args.paths:
        if not os.path.exists(p):
            print(f"plot.py: error: no such file or folder: {p}", file=sys.stderr)
            return 2
    loaded = records.load(args.paths)
    for w in loaded.warnings:
        print(f"plot.py: warning: {w}", file=sys.stderr)
    if not loaded.records:
        print("plot.py: error: no nagbench records found", file=sys.stderr)
        return 2
    df = records.frame(loaded)
    made = [figures.update_pct_roof(analysis.update_table(df), args.out),
            figures.allreduce_busbw(analysis.allreduce_table(df), analysis.kind(df, "torch_allreduce"), args.out),
            figures.buckets(analysis.bucket_table(df), args.out)]
    made = [os.path.join(args.out, m) for m in made if m]
    for p in made:
        print(p)
    return 0 if made else 2


if __name__ == "__main__":
    sys.exit(main())
