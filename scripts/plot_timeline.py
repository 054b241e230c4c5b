#!/usr/bin/env python3
"""Draws one data-parallel training step per rank from a nagbench `train` record's timeline (recorded with device
events by the overlapped step): for every bucket, the backward until its gradient is ready, its reduction (from
when it could start, after its gradient and the previous reduction, to its end) and its update, on three lanes per
rank; the step without communication below for comparison.

  scripts/plot_timeline.py RECORD.json --out timeline.png [--title T]

Bad input (no train record with a timeline): one line on stderr, exit 2, no file.
"""
import argparse
import json
import os
import sys


def fail(msg):
    print(f"plot_timeline.py: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        text = open(path).read()
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = [json.loads(x) for x in text.splitlines() if x.strip()]
    recs = doc if isinstance(doc, list) else [doc]
    recs = [r for r in recs if r.get("benchmark") == "train" and r.get("timeline")]
    if not recs:
        fail(f"{path}: no train record with a timeline (run with --overlap on and at least 2 steps)")
    return recs[-1]


def lanes(ax, tl, y0, label_prefix):
    """Bars for one rank's step: backward (gradient ready), reduction, update, per bucket."""
    prev_ready = prev_reduced = prev_updated = 0.0
    for b in tl:
        ready, reduced, updated = b["gradient_ready_s"] * 1e3, b["reduced_s"] * 1e3, b["updated_s"] * 1e3
        ax.barh(y0 + 2, ready - prev_ready, left=prev_ready, color="tab:blue", edgecolor="white", height=0.8)
        start = max(ready, prev_reduced)
        ax.barh(y0 + 1, max(reduced - start, 0), left=start, color="tab:orange", edgecolor="white", height=0.8)
        ustart = max(reduced, prev_updated)
        ax.barh(y0, max(updated - ustart, 0), left=ustart, color="tab:green", edgecolor="white", height=0.8)
        prev_ready, prev_reduced, prev_updated = ready, reduced, updated
    return [(y0 + 2, f"{label_prefix} backward"), (y0 + 1, f"{label_prefix} reduce"), (y0, f"{label_prefix} update")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("record")
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default=None)
    a = ap.parse_args()
    r = load(a.record)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_rank = r["timeline"]
    fig, ax = plt.subplots(figsize=(12, 1.0 + 1.2 * len(per_rank) * 2))
    ticks = []
    y = 0
    for rank, t in reversed(list(enumerate(per_rank))):
        if t.get("no_comm"):
            ticks += lanes(ax, t["no_comm"], y, f"rank {rank} no-comm")
            y += 4
        if t.get("with_comm"):
            ticks += lanes(ax, t["with_comm"], y, f"rank {rank}")
            y += 4
    ax.set_yticks([p for p, _ in ticks])
    ax.set_yticklabels([n for _, n in ticks], fontsize=8)
    ax.set_xlabel("ms from the start of the step (device events)")
    figs = r.get("overlap_figures") or {}
    dev = r.get("device", "")
    title = a.title or (f"{r.get('problem')} step, {r.get('ranks')} ranks, {r.get('buckets')} buckets of "
                        f"<= {r.get('bucket_mb')} MiB, {dev}")
    if figs:
        ratio = figs.get("overlap_ratio")
        title += (f"\nexposed communication {figs['exposed_comm_s'] * 1e3:.2f} ms"
                  + (f", overlap ratio {ratio:.2f}" if ratio is not None else "")
                  + f", backward slowed by {figs['backward_slowdown_s'] * 1e3:.2f} ms")
    ax.set_title(title, fontsize=9)
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color="tab:blue", label="backward (bucket's gradient ready)"),
                       Patch(color="tab:orange", label="reduction"), Patch(color="tab:green", label="update")],
              loc="lower right", fontsize=8)
    fig.tight_layout()
    tmp = a.out + ".tmp" + os.path.splitext(a.out)[1]
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, a.out)
    except OSError as e:
        fail(f"cannot write {a.out}: {e.strerror}")


if __name__ == "__main__":
    main()
