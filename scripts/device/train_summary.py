#!/usr/bin/env python3
"""One Markdown table of a folder of training records (scripts/device/train_suite.sh): every nagbench `train`
record with its overlap figures, next to PyTorch DDP's step from the same folder (torch_ddp_mlp_g<N>.json, the
same call and GPUs), and the targets of issue 12 judged per row.

    scripts/device/train_summary.py results/nvidia-h200-x2/2026-11-28-train-p2p/records > summary.md

Columns are the records' own figures (slowest rank's medians); `x DDP` = DDP's step / this step (= the samples/s
ratio at the same global batch). Exit status 2, one line, on a folder with no training records."""
import argparse
import glob
import json
import os
import sys


def ms(x):
    return "-" if x is None else f"{x * 1e3:.2f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", help="folders of records (every *.json in them is read)")
    args = ap.parse_args(argv)
    records, ddp = [], {}
    for folder in args.folders:
        for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
            try:
                doc = json.load(open(path))
            except (OSError, ValueError) as e:
                print(f"train_summary.py: skipped {path}: {e}", file=sys.stderr)
                continue
            if isinstance(doc, dict) and doc.get("benchmark") == "torch_ddp_mlp":
                ddp[doc["ranks"]] = doc
            elif isinstance(doc, dict) and doc.get("benchmark") == "train":
                records.append((os.path.basename(path), doc))
    if not records:
        print(f"train_summary.py: no training records in {' '.join(args.folders)}", file=sys.stderr)
        return 2
    devices = sorted({r["device"]["name"] if isinstance(r.get("device"), dict) else str(r.get("device"))
                      for _, r in records})
    out = [f"Device: {', '.join(devices)}. Commit(s): {', '.join(sorted({r.get('provenance', {}).get('git_commit', '?')[:7] for _, r in records}))}.", ""]
    for n, d in sorted(ddp.items()):
        q = d["quantities"]
        out.append(f"PyTorch DDP ({d['device']}, {n} GPUs, torch {d['versions']['torch']}, 25 MiB buckets): step "
                   f"{q['ddp_step']['slowest_median_ms']:.2f} ms, `no_sync` {q['no_sync_step']['slowest_median_ms']:.2f} ms, "
                   + (f"one allreduce {q['allreduce_all_grads']['slowest_median_ms']:.2f} ms, overlap ratio "
                      f"{d['derived']['overlap_ratio']:.2f}." if n > 1 else "no communication."))
    out += ["", "| record | ranks | comm (path) | sharding | buckets | step ms | no-comm step ms | one allreduce ms (by) "
            "| exposed ms | overlap ratio | step / no-comm | backward slowed ms | samples/s | x DDP | verified |",
            "|" + "---|" * 15]
    for name, r in sorted(records, key=lambda x: (x[1]["ranks"], x[0])):
        ph, f = r["phases"], r.get("overlap_figures") or {}
        step = r["median_s"]
        d = ddp.get(r["ranks"])
        x_ddp = f"{d['quantities']['ddp_step']['slowest_median_ms'] / (step * 1e3):.3f}" if d and r["ranks"] > 1 else "-"
        nc = ph.get("no_comm_step") or {}
        ar = ph.get("allreduce") or {}
        out.append(
            f"| `{name}` | {r['ranks']} | {r['comm']} ({r['comm_path']}) | {r.get('sharding', 'replicated')} | "
            f"{r['bucket_mb']:g} MiB | {step * 1e3:.2f} | {ms(nc.get('median_s'))} | "
            f"{ms(ar.get('median_s'))}{' (' + r['allreduce_comm'] + ')' if ar and r.get('allreduce_comm') else ''} | "
            f"{ms(f.get('exposed_comm_s'))} | "
            f"{'-' if f.get('overlap_ratio') is None else format(f['overlap_ratio'], '.3f')} | "
            f"{'-' if not f else format(f['step_over_no_comm_step'], '.3f')} | {ms(f.get('backward_slowdown_s'))} | "
            f"{r['samples_per_s']:,.0f} | {x_ddp} | {'yes' if r['verified'] else 'NO'} |")
    out += ["", "Issue 12's targets (2 and 4 GPUs): x DDP >= 1.15; overlap ratio >= 0.75 and step / no-comm <= 1.10 "
            "(stretch: >= 0.9 and <= 1.05); the no-comm step within 5% of PyTorch's `no_sync`."]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
