#!/usr/bin/env python3
"""Prints a table of nagbench JSON records (files or folders; a file may hold one record or a list).

    scripts/summarize.py results/h100/*.json
    scripts/summarize.py --csv out/ > table.csv
"""
import argparse
import json
import os
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
                if isinstance(r, dict) and "schema_version" in r:
                    r["_file"] = f
                    recs.append(r)
    return recs


COLUMNS = [("benchmark", "{}"), ("model", "{}"), ("variant", "{}"), ("dtype", "{}"), ("backend", "{}"),
           ("ranks", "{}"), ("params", "{}"), ("median_s", "{:.6f}"), ("eff_GBps", "{:.1f}"),
           ("roof_GBps", "{:.1f}"), ("pct_of_roof", "{:.1f}"), ("verified", "{}"), ("device", "{}")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--csv", action="store_true", help="comma-separated output")
    args = ap.parse_args()
    recs = load(args.paths)
    if not recs:
        print("no nagbench records found", file=sys.stderr)
        return 1
    rows = [[fmt.format(r.get(k, "")) if r.get(k, "") != "" else "" for k, fmt in COLUMNS] for r in recs]
    head = [k for k, _ in COLUMNS]
    if args.csv:
        print(",".join(head))
        for row in rows:
            print(",".join('"%s"' % c if "," in c else c for c in row))
        return 0
    width = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, width)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, width)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
