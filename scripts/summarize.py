#!/usr/bin/env python3
"""Prints tables of nagbench records (files or folders: JSON documents, JSON Lines) and the ratios the targets are
stated in; files that hold no records are skipped with one warning line each. For reports with figures, scaling
tables and the regression gate: scripts/report/nagbench-report (docs/reports.md).

    scripts/summarize.py results/h100/*.json
    scripts/summarize.py --csv out/ > table.csv       # nagbench-report csv: one row per record, one header
"""
import argparse
import os
import statistics
import sys

# The records are read by nagbench-report's loader (scripts/report/nagbench_report).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
from nagbench_report import records  # noqa: E402


def load(paths):
    """nagbench records and PyTorch yardsticks of the files and folders given, each with its file; anything else
    (Google Benchmark output, truncated or foreign JSON) is skipped with one warning line (nagbench-report's
    loader)."""
    loaded = records.load(paths)
    for w in loaded.warnings:
        print(f"summarize.py: warning: {w}", file=sys.stderr)
    recs = []
    for r, f in loaded.records + loaded.yardsticks:
        recs.append(dict(r, _file=f))
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


def commit(r):
    return (r.get("provenance") or {}).get("git_commit")


def allreduce_time(recs, ranks, comm, path, nbytes, device, folder, git_commit):
    """The out-of-place time of the --comm-only row of exactly this size, from the same folder (machine) and commit,
    or None (never interpolated)."""
    for a in recs:
        if a["benchmark"] == "allreduce" and a["ranks"] == ranks and a["comm"] == comm and \
                a["comm_path"] == path and a["_row"]["bytes"] == nbytes and a["device"] == device and \
                os.path.dirname(a["_file"]) == folder and commit(a) == git_commit:
            return a["_row"]["out_of_place"]["time_s"]
    return None


def comparisons(recs):
    """Ratios the issue's targets are stated in, computed from records of the same folder set."""
    lines = []
    for r in recs:
        if r["benchmark"] != "dp_step" or r["ranks"] < 2 or phase(r, "comm_update") is None:
            continue
        t = allreduce_time(recs, r["ranks"], r["comm"], r["comm_path"], r["allreduce"]["bytes"], r["device"],
                           os.path.dirname(r["_file"]), commit(r))
        if t is not None:
            lines.append(f"dp_step {r['model']} {r['ranks']} ranks {r['comm']}/{r['comm_path']} {r['mode']} "
                         f"overlap {'on' if r['overlap'] else 'off'} prio {r.get('comm_stream_priority', '-')} bucket {r['bucket_mb']:g} MiB: comm+update "
                         f"{ms(phase(r, 'comm_update'))} ms = {phase(r, 'comm_update') / t:.2f} x one allreduce of "
                         f"{r['allreduce']['bytes']} B ({ms(t)} ms)")
    # NCCL through nagbench against NCCL through PyTorch, per message size: the median over every run of each
    # in one folder (one machine; runs are interleaved on the device), with the spread.
    ours, theirs = {}, {}
    for r in recs:
        folder = os.path.dirname(r["_file"])
        if r["benchmark"] == "allreduce" and r["comm"] == "nccl":
            ours.setdefault((folder, r["ranks"], r["_row"]["bytes"], r["device"]), []).append(
                r["_row"]["out_of_place"]["busbw_GBps"])
        elif r["benchmark"] == "torch_allreduce":
            theirs.setdefault((folder, r["ranks"], r["_row"]["bytes"], r["device"]), []).append(
                r["_row"]["busbw_GBps"])
    folders = {k[0] for k in set(ours) & set(theirs)}
    for key in sorted(set(ours) & set(theirs)):
        a, t = ours[key], theirs[key]
        where = f" [{key[0]}]" if len(folders) > 1 else ""
        key = key[1:]
        lines.append(f"allreduce {key[0]} ranks {key[1]} B{where}: nagbench busbw {statistics.median(a):.1f} "
                     f"({len(a)} runs, {min(a):.1f}..{max(a):.1f}) = {100 * statistics.median(a) / statistics.median(t):.1f}% "
                     f"of torch {statistics.median(t):.1f} ({len(t)} runs, {min(t):.1f}..{max(t):.1f}) GB/s")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--csv", action="store_true", help="one flat CSV: one row per record (nagbench-report csv)")
    args = ap.parse_args()
    for p in args.paths:
        if not os.path.exists(p):
            print(f"summarize.py: error: no such file or folder: {p}", file=sys.stderr)
            return 2
    if args.csv:
        loaded = records.load(args.paths)
        for w in loaded.warnings:
            print(f"summarize.py: warning: {w}", file=sys.stderr)
        if not loaded.records and not loaded.yardsticks:
            print("summarize.py: error: no nagbench records found", file=sys.stderr)
            return 2
        records.csv_ready(records.frame(loaded)).to_csv(sys.stdout, index=False)
        return 0
    recs = expand(load(args.paths))
    if not recs:
        print("summarize.py: error: no nagbench records found", file=sys.stderr)
        return 2
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
        width = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        print(f"[{kind}]")
        print("  ".join(h.ljust(w) for h, w in zip(head, width)))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, width)))
        print()
    lines = comparisons(recs)
    if lines:
        print("[comparisons]")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into head
        sys.exit(0)
