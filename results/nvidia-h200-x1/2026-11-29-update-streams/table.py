#!/usr/bin/env python3
"""The README's tables: the bucket-tail probe's whole update (us, first run / suite run), then comm + update per
step (ms, slowest rank's median; the range over the records of both rounds) per communicator, bucket size, launch
and update-stream count, from records/*.json.
    python3 table.py > table.md
"""
import glob
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
runs = [{(r["bucket_mib"], r["case"]): r for r in json.load(open(os.path.join(here, f)))["rows"]}
        for f in ("bucket_tail_probe_first.json", "bucket_tail_probe.json")]
cases = ["one_kernel", "streams_1", "streams_2", "streams_4", "graph_1", "persistent"]
print("| bucket MiB (buckets) | one kernel | one stream | 2 streams | 4 streams | one stream, graph | "
      "persistent kernel |")
print("|---|---|---|---|---|---|---|")
for mib in sorted({k[0] for k in runs[0]}):
    assert all(run[(mib, c)]["mismatches"] == 0 for run in runs for c in cases)
    cells = [" / ".join(f"{run[(mib, c)]['median_us']:.0f}" for run in runs) for c in cases]
    print(f"| {mib:g} ({runs[0][(mib, 'one_kernel')]['buckets']}) | " + " | ".join(cells) + " |")
print()
cells = {}
for f in sorted(glob.glob(os.path.join(here, "records", "streams_*np1_r*.json"))):
    doc = json.load(open(f))
    for r in doc if isinstance(doc, list) else [doc]:
        assert r["verified"] and r["ranks_agree"], f
        key = (r["comm"], r["bucket_mb"], r["buckets"], r.get("launch", "direct"), r["update_streams"])
        cells.setdefault(key, []).append(r["phases"]["comm_update"]["median_s"] * 1e3)
columns = [("direct", 1), ("direct", 2), ("direct", 4), ("graph", 1), ("graph", 4)]
print("| comm | bucket MiB (buckets) | " + " | ".join(f"{how}, {n} stream{'s' if n > 1 else ''}"
                                                      for how, n in columns) + " |")
print("|---|---|" + "---|" * len(columns))
for comm, mb, nb in sorted({(k[0], k[1], k[2]) for k in cells}):
    row = []
    for how, n in columns:
        v = cells.get((comm, mb, nb, how, n))
        row.append("-" if not v else f"{min(v):.2f}" if f"{min(v):.2f}" == f"{max(v):.2f}"
                   else f"{min(v):.2f}-{max(v):.2f}")
    print(f"| {comm} | {mb:g} ({nb}) | " + " | ".join(row) + " |")
