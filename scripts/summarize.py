#!/usr/bin/env python3
"""Prints a table of nagbench JSON records (files or folders; a file may hold one record or a list).

    scripts/summarize.py results/h100/*.json
    scripts/summarize.py --csv out/ > table.csv
"""
import argparse
import json
import os
import statistics
import sys


def load(paths):
    recs = []
    for p in paths:
        files = [os.path.join(d, f) for d, _, fs in os.walk(p) for f in sorted(fs) if f.endswith(".json")] \
            if os.path.isdir(p) else [p]
        for f in files:
            with open(f) as fh:
                doc = json.load(fh)
            for r in doc if isinstance(doc, list) else [doc]:
                if isinstance(r, dict) and "benchmark" in r:
                    r["_file"] = f
                    recs.append(r)
    return recs


def ms(x):
    return "" if x is None else f"{x * 1e3:.3f}"


def phase(r, name):
    p = (r.get("phases") or {}).get(name)
    return None if p is None else p["median_s"]


# One table per kind of record: (header, function of the record).
TABLES = {
    "update": [("model", lambda r: r["model"]), ("variant", lambda r: r["variant"]), ("dtype", lambda r: r["dtype"]),
               ("backend", lambda r: r["backend"]), ("params", lambda r: str(r["params"])),
               ("median_ms", lambda r: ms(r["median_s"])), ("eff_GBps", lambda r: f"{r['eff_GBps']:.1f}"),
               ("roof_GBps", lambda r: f"{r['roof_GBps']:.1f}"), ("pct_roof", lambda r: f"{r['pct_of_roof']:.1f}"),
               ("verified", lambda r: str(r["verified"])), ("device", lambda r: r["device"])],
    "dp_step": [("model", lambda r: r["model"]), ("ranks", lambda r: str(r["ranks"])), ("comm", lambda r: r["comm"]),
                ("path", lambda r: r["comm_path"]), ("mode", lambda r: r["mode"]),
                ("overlap", lambda r: "on" if r["overlap"] else "off"),
                ("prio", lambda r: r.get("comm_stream_priority", "")), ("bucket_mb", lambda r: f"{r['bucket_mb']:g}"),
                ("buckets", lambda r: str(r["buckets"])),
                ("grad_ms", lambda r: ms(phase(r, "gradient"))), ("comm_ms", lambda r: ms(phase(r, "comm"))),
                ("update_ms", lambda r: ms(phase(r, "update"))), ("comm+upd_ms", lambda r: ms(phase(r, "comm_update"))),
                ("total_ms", lambda r: ms(r["median_s"])),
                ("busbw", lambda r: "" if r["allreduce"]["busbw_GBps"] is None else f"{r['allreduce']['busbw_GBps']:.1f}"),
                ("verified", lambda r: str(r["verified"])), ("device", lambda r: r["device"])],
    "allreduce": [("ranks", lambda r: str(r["ranks"])), ("comm", lambda r: r["comm"]), ("path", lambda r: r["comm_path"]),
                  ("bytes", lambda r: str(r["_row"]["bytes"])),
                  ("oop_us", lambda r: f"{r['_row']['out_of_place']['time_s'] * 1e6:.1f}"),
                  ("oop_busbw", lambda r: f"{r['_row']['out_of_place']['busbw_GBps']:.1f}"),
                  ("ip_us", lambda r: f"{r['_row']['in_place']['time_s'] * 1e6:.1f}"),
                  ("ip_busbw", lambda r: f"{r['_row']['in_place']['busbw_GBps']:.1f}"),
                  ("verified", lambda r: str(r["_row"]["verified"])), ("device", lambda r: r["device"])],
    "torch_allreduce": [("ranks", lambda r: str(r["ranks"])), ("bytes", lambda r: str(r["_row"]["bytes"])),
                        ("ip_us", lambda r: f"{r['_row']['time_s'] * 1e6:.1f}"),
                        ("ip_busbw", lambda r: f"{r['_row']['busbw_GBps']:.1f}"), ("torch", lambda r: r["torch"]),
                        ("nccl", lambda r: r["nccl"]), ("device", lambda r: r["device"])],
}


def expand(recs):
    """Sweeps hold one row per message size: one table line each."""
    out = []
    for r in recs:
        if "rows" in r:
            out += [dict(r, _row=row) for row in r["rows"]]
        else:
            out.append(r)
    return out


def allreduce_time(recs, ranks, comm, path, nbytes, device):
    """The out-of-place time of the --comm-only row of exactly this size, or None (never interpolated)."""
    for a in recs:
        if a["benchmark"] == "allreduce" and a["ranks"] == ranks and a["comm"] == comm and \
                a["comm_path"] == path and a["_row"]["bytes"] == nbytes and a["device"] == device:
            return a["_row"]["out_of_place"]["time_s"]
    return None


def comparisons(recs):
    """Ratios the issue's targets are stated in, computed from records of the same folder set."""
    lines = []
    for r in recs:
        if r["benchmark"] != "dp_step" or r["ranks"] < 2 or phase(r, "comm_update") is None:
            continue
        t = allreduce_time(recs, r["ranks"], r["comm"], r["comm_path"], r["allreduce"]["bytes"], r["device"])
        if t is not None:
            lines.append(f"dp_step {r['model']} {r['ranks']} ranks {r['comm']}/{r['comm_path']} {r['mode']} "
                         f"overlap {'on' if r['overlap'] else 'off'} prio {r.get('comm_stream_priority', '-')} bucket {r['bucket_mb']:g} MiB: comm+update "
                         f"{ms(phase(r, 'comm_update'))} ms = {phase(r, 'comm_update') / t:.2f} x one allreduce of "
                         f"{r['allreduce']['bytes']} B ({ms(t)} ms)")
    # NCCL through nagbench against NCCL through PyTorch, per message size: the median over every run of each
    # in the folders given (runs are interleaved on the device), with the spread.
    ours, theirs = {}, {}
    for r in recs:
        if r["benchmark"] == "allreduce" and r["comm"] == "nccl":
            ours.setdefault((r["ranks"], r["_row"]["bytes"], r["device"]), []).append(
                r["_row"]["out_of_place"]["busbw_GBps"])
        elif r["benchmark"] == "torch_allreduce":
            theirs.setdefault((r["ranks"], r["_row"]["bytes"], r["device"]), []).append(r["_row"]["busbw_GBps"])
    for key in sorted(set(ours) & set(theirs)):
        a, t = ours[key], theirs[key]
        lines.append(f"allreduce {key[0]} ranks {key[1]} B: nagbench busbw {statistics.median(a):.1f} "
                     f"({len(a)} runs, {min(a):.1f}..{max(a):.1f}) = {100 * statistics.median(a) / statistics.median(t):.1f}% "
                     f"of torch {statistics.median(t):.1f} ({len(t)} runs, {min(t):.1f}..{max(t):.1f}) GB/s")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--csv", action="store_true", help="comma-separated output")
    args = ap.parse_args()
    recs = expand(load(args.paths))
    if not recs:
        print("no nagbench records found", file=sys.stderr)
        return 1
    for kind, cols in TABLES.items():
        rows = []
        for r in recs:
            if r["benchmark"] != kind:
                continue
            try:
                rows.append([f(r) for _, f in cols])
            except (KeyError, TypeError):
                rows.append(["?"] * len(cols))
        if not rows:
            continue
        head = [h for h, _ in cols]
        if args.csv:
            print(",".join(["benchmark"] + head))
            for row in rows:
                print(",".join([kind] + ['"%s"' % c if "," in c else c for c in row]))
            continue
        width = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        print(f"[{kind}]")
        print("  ".join(h.ljust(w) for h, w in zip(head, width)))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, width)))
        print()
    lines = [] if args.csv else comparisons(recs)
    if lines:
        print("[comparisons]")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
