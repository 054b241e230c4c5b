#!/usr/bin/env python3
"""Fails when a Google Benchmark JSON file reports an error (Google Benchmark exits 0 after SkipWithError) or
holds no benchmarks.   check_results.py results.json [--expect N]"""
import argparse
import json
import sys

ap = argparse.ArgumentParser()
ap.add_argument("json")
ap.add_argument("--expect", type=int, default=1, help="at least this many benchmarks")
args = ap.parse_args()
doc = json.load(open(args.json))
benches = doc.get("benchmarks", [])
errors = [b for b in benches if b.get("error_occurred")]
for b in errors:
    print(f"ERROR {b['name']}: {b.get('error_message', '')}")
ctx = doc.get("context", {})
missing = [k for k in ("git_commit", "kokkos_version", "kokkos_configuration") if k not in ctx]
if missing:
    print("context lacks", missing)
print(f"{len(benches)} benchmarks, {len(errors)} errors")
sys.exit(1 if errors or missing or len(benches) < args.expect else 0)
