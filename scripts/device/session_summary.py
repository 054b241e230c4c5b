#!/usr/bin/env python3
"""Summary of scripts/device/session_suite.sh's results folder: the bit-for-bit gate (old vs new binary), speeds
old vs new (medians, interleaved runs), the 2-rank step, the host roof A/B, the unit tests, compute-sanitizer's
error counts, the CUDA-aware MPI runs and the PyTorch data's provenance.

    python3 scripts/device/session_summary.py RESULTS_DIR
"""
import glob
import json
import os
import re
import statistics
import sys


def records(path):
    try:
        doc = json.load(open(path))
    except (OSError, ValueError):
        return []
    return doc if isinstance(doc, list) else [doc]


def key(r):
    return (r.get("benchmark"), r.get("model"), r.get("variant"), r.get("dtype"), r.get("mode"), r.get("params"))


def main(d):
    print(f"results in {d}")
    # Gate: the same bits as the old binary
    bad = total = 0
    for old in sorted(glob.glob(f"{d}/gate_old_*.json")):
        new = old.replace("gate_old_", "gate_new_")
        o, n = records(old), records(new)
        for a, b in zip(o, n):
            total += 1
            same = a["params_hash"] == b["params_hash"]
            bad += not same
            print(f"  gate {os.path.basename(old)[9:-5]:12s} {a['variant']:13s} {a['dtype']:12s} "
                  f"old {a['params_hash']} new {b['params_hash']} {'same' if same else 'DIFFERENT'} "
                  f"(verified {a['verified']}/{b['verified']})")
        if len(o) != len(n):
            print(f"  gate {old}: {len(o)} old records, {len(n)} new")
    print(f"gate: {total - bad} of {total} configurations bitwise equal old/new")
    # Speeds
    xb = {}
    for f in sorted(glob.glob(f"{d}/xb_*.json")):
        for r in records(f):
            xb.setdefault((r["variant"], r["dtype"], r.get("rule_mode")), {})[r["backend"]] = r["params_hash"]
    for k, v in sorted(xb.items()):
        print(f"  backends {k[2]:8s} {k[0]:13s} {k[1]:12s} cuda {v.get('cuda')} openmp {v.get('openmp')} "
              f"{'same' if v.get('cuda') == v.get('openmp') else 'DIFFERENT'}")
    speeds = {}
    for f in sorted(glob.glob(f"{d}/speed_*.json")):
        who = "old" if "_old_" in f else "new"
        for r in records(f):
            k = (r["model"], r["variant"], r["dtype"], r.get("rule_mode", "separate"), who)
            speeds.setdefault(k, []).append((r["median_s"], r["pct_of_roof"], r["roof_GBps"]))
    for k in sorted(speeds):
        v = speeds[k]
        print(f"  update {k[0]:12s} {k[1]:13s} {k[2]:11s} {k[3]:8s} {k[4]}: median "
              + ", ".join(f"{m * 1e3:.3f} ms ({p:.1f}% of {roof:.0f} GB/s)" for m, p, roof in v))
    device = next((r["device"] for f in glob.glob(f"{d}/*.json") for r in records(f) if "device" in r), "?")
    print(f"device: {device}")
    for f in sorted(glob.glob(f"{d}/dp_*.json")):
        for r in records(f):
            ph = r["phases"]
            print(f"  dp {os.path.basename(f)[:-5]:14s} {r['mode']:10s} {r.get('rule_mode', 'separate'):8s} "
                  f"comm+update {ph['comm_update']['median_s'] * 1e3:.3f} ms total {ph['total']['median_s'] * 1e3:.3f} "
                  f"ms hash {r['params_hash']} verified {r['verified']}")
    roofs = {}
    for f in sorted(glob.glob(f"{d}/roof_*.json")):
        who = os.path.basename(f).split("_")[1]
        for r in records(f):
            roofs.setdefault(who, []).append(r["roof_GBps"])
    for who, v in sorted(roofs.items()):
        print(f"  roof {who:8s}: median {statistics.median(v):.1f} GB/s of {len(v)} runs ({', '.join(f'{x:.1f}' for x in v)})")
    if "old" in roofs and "new" in roofs:
        print(f"roof new/old: {statistics.median(roofs['new']) / statistics.median(roofs['old']):.3f}")
    for f in sorted(glob.glob(f"{d}/host_*.json")):
        for r in records(f):
            print(f"  host {os.path.basename(f)[:-5]:12s} {r.get('rule_mode', 'separate'):8s} roof {r['roof_GBps']:.1f} GB/s "
                  f"(copy {r['copy_GBps']:.1f}, nstream {r['nstream_GBps']:.1f}, {r['roof']['reps']} samples, "
                  f"3 x {r['roof']['bytes_per_array'] / 2**20:.0f} MiB) update {r['median_s'] * 1e3:.3f} ms "
                  f"{r['pct_of_roof']:.1f}%")
    ut = f"{d}/unit_tests.json"
    if os.path.exists(ut):
        u = json.load(open(ut))
        print(f"unit tests: {u['tests']} run, {u['failures']} failed, {u.get('disabled', 0)} disabled")
    for f in sorted(glob.glob(f"{d}/cs_*.log")):
        text = open(f, errors="replace").read()
        m = re.search(r"ERROR SUMMARY: \d+ errors?|RACECHECK SUMMARY: \d+ hazards[^\n]*", text)
        extra = ""
        if "cudaFuncGetAttributes" in text or "NoKernelImage" in text or "no kernel image" in text.lower():
            extra = " (mentions cudaFuncGetAttributes / no kernel image)"
        print(f"  {os.path.basename(f)}: {m.group(0) if m else 'no summary'}{extra}")
    for f in sorted(glob.glob(f"{d}/cudaaware_*.json")):
        for r in records(f):
            if r.get("benchmark") == "allreduce":
                row = r["rows"][-1]
                print(f"  {os.path.basename(f)}: allreduce {row['bytes']} B busbw {row['out_of_place']['busbw_GBps']:.1f} "
                      f"GB/s verified {r['verified']}")
            else:
                print(f"  {os.path.basename(f)}: {r['comm_path']} {r['mode']} overlap {r['overlap']} "
                      f"total {r['phases']['total']['median_s'] * 1e3:.2f} ms verified {r['verified']}")
    tj = f"{d}/torch_sgd_trajectories.json"
    if os.path.exists(tj):
        t = json.load(open(tj))
        print(f"torch trajectories: torch {t['torch_version']}, cpu capability {t['cpu_capability']}, gpu {t['gpu']}, "
              f"{len(t['cases'])} cases")


if __name__ == "__main__":
    main(sys.argv[1])
