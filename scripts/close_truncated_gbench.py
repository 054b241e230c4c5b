#!/usr/bin/env python3
"""Makes a Google Benchmark JSON file cut short (the run hit its time limit) readable: keeps every benchmark
entry that was written completely, drops a partial last one, and closes the document. Numbers are not touched.

    scripts/close_truncated_gbench.py cut.json closed.json
"""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
text = open(src).read()
try:
    json.loads(text)
    closed = text
except json.JSONDecodeError:
    end = text.rfind("\n    }")
    if end < 0:
        sys.exit("no complete benchmark entry in " + src)
    closed = text[:end + len("\n    }")] + "\n  ]\n}\n"
    doc = json.loads(closed)
    doc.setdefault("context", {})["nagbench_note"] = (
        "run cut short by its time limit; closed by scripts/close_truncated_gbench.py, every entry as written")
    closed = json.dumps(doc, indent=2)
open(dst, "w").write(closed)
print(f"{len(json.loads(closed)['benchmarks'])} benchmarks in {dst}")
