#!/usr/bin/env python3
"""Draws one data-parallel step per rank from a nagbench record's timeline (device events; host clock on CPUs).

- `train` records (the overlapped step, always recorded): for every bucket, the backward until its gradient is
  ready, its reduction (from when it could start, after its gradient and the previous reduction, to its end) and
  its update, on three lanes per rank; the step without communication below for comparison.
- `dp_step` records made with `--timeline` (one more, untimed step after the timed ones): the gradients, then per
  bucket the comm instance's reduction (p2p: its push, then the flags' handshake) and the update, on two lanes per
  rank (three with the gradients; with --update-streams N, the update lane has a thin row per stream).

  scripts/plot_timeline.py RECORD.json --out timeline.png [--index I] [--title T]
  scripts/plot_timeline.py RECORD.json... --table      (dp records: a Markdown table, a row per record and rank)

--index picks a record among those with a timeline (default: the last). --table gives, per bucket, the median of
the comm instance's reduction (from the previous reduction's end, or the gradients, to its end), of p2p's handshake
and of the update (from its reduction's end, or the previous update's on its stream), and in all the time the
update instances waited for reductions (as nagbench's table), beside the host's time for the timeline step's
reductions and updates and the timed steps' median: their difference is what recording the marks cost. "reduced
after its enqueue" is the median time from the host's enqueue of a bucket's reduced mark to the mark on the device:
a few microseconds when the comm instance waited for the host, more when it was busy.
Bad input (no such record): one line on stderr, exit 2, no file.
"""
import argparse
import json
import os
import sys


def fail(msg):
    print(f"plot_timeline.py: {msg}", file=sys.stderr)
    sys.exit(2)


def with_timeline(path, kinds=("train", "dp_step")):
    try:
        text = open(path).read()
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        try:
            doc = [json.loads(x) for x in text.splitlines() if x.strip()]
        except json.JSONDecodeError:
            fail(f"{path}: not JSON or JSON Lines")
    recs = doc if isinstance(doc, list) else [doc]
    return [r for r in recs if isinstance(r, dict) and r.get("benchmark") in kinds and r.get("timeline")]


def load(path, index):
    recs = with_timeline(path)
    if not recs:
        fail(f"{path}: no record with a timeline (train: --overlap on and at least 2 steps; dp: --timeline)")
    if not -len(recs) <= index < len(recs):
        fail(f"{path}: --index {index} is out of range: the file has {len(recs)} with a timeline")
    return recs[index]


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


def dp_lanes(ax, t, y0, label_prefix):
    """Bars for one rank's dp step: the gradients, then per bucket its reduction on the comm lane (from the previous
    reduction's end; p2p: push, then handshake) and its update (from its reduction's end or the previous update on
    its stream; with --update-streams N the update lane has N thin rows, one per stream)."""
    grads = t["gradients_s"] * 1e3
    # Many buckets: thin bars, so no white edges (they would hide the bars).
    edge = dict(edgecolor="white", linewidth=0.5) if len(t["buckets"]) <= 50 else dict(edgecolor="none")
    ax.barh(y0 + 2, grads, left=0, color="tab:blue", height=0.8, **edge)
    streams = max(int(t.get("update_streams", 1)), 1)
    row = 0.8 / streams
    prev_reduced, prev_updated = grads, [grads] * streams
    for b in t["buckets"]:
        start, reduced = prev_reduced, b["reduced_s"] * 1e3
        if b.get("handshake_s") is not None:
            hs = max(b["handshake_s"] * 1e3, start)
            ax.barh(y0 + 1, hs - start, left=start, color="tab:purple", height=0.8, **edge)
            start = hs
        ax.barh(y0 + 1, max(reduced - start, 0), left=start, color="tab:orange", height=0.8, **edge)
        s = int(b.get("update_stream", 0)) % streams
        ub, ud = max(reduced, prev_updated[s]), b["updated_s"] * 1e3
        ax.barh(y0 - 0.4 + row * (s + 0.5), max(ud - ub, 0), left=ub, color="tab:green", height=row, **edge)
        prev_reduced, prev_updated[s] = max(reduced, grads), ud
    return [(y0 + 2, f"{label_prefix} gradients"), (y0 + 1, f"{label_prefix} reduce"), (y0, f"{label_prefix} update")]


def median(v):
    v = sorted(v)
    n = len(v)
    return (v[n // 2] + v[(n - 1) // 2]) / 2 if n else float("nan")


def bucket_phases(t):
    """One rank's dp timeline: per bucket its reduction (from the previous reduction's end, or the gradients), p2p
    handshake and update (from its reduction's end, or the previous update's on its stream), in seconds, and the
    update instances' wait for reductions in all (nagbench's dp_timeline_summary, the same definitions)."""
    grads = t["gradients_s"]
    reduction, handshake, update, waited = [], [], [], 0.0
    streams = max(int(t.get("update_streams", 1)), 1)
    prev_reduced, prev_updated = grads, [grads] * streams
    for b in t["buckets"]:
        reduced, updated = b["reduced_s"], b["updated_s"]
        s = int(b.get("update_stream", 0)) % streams
        reduction.append(reduced - prev_reduced)
        if b.get("handshake_s") is not None:
            handshake.append(reduced - b["handshake_s"])
        update.append(updated - max(reduced, prev_updated[s]))
        waited += max(0.0, reduced - prev_updated[s])
        prev_reduced, prev_updated[s] = max(reduced, grads), updated
    return reduction, handshake, update, waited


def table(paths):
    rows = []
    for path in paths:
        for r in with_timeline(path, ("dp_step",)):
            for rank, t in enumerate(r["timeline"]):
                red, hs, upd, waited = bucket_phases(t)
                lag = [b["reduced_s"] - b["reduced_enqueued_s"] for b in t["buckets"]]
                rows.append(
                    f"| {r.get('model')} | {r.get('ranks')} | {r.get('comm')} ({r.get('comm_path')}) | {r.get('mode')} | "
                    f"{'on' if r.get('overlap') else 'off'} | {r.get('bucket_mb')} ({r.get('buckets')}) | "
                    f"{t.get('update_streams', 1)} | {rank} | "
                    f"{median(red) * 1e6:.1f} | {median(hs) * 1e6:.1f} | {median(upd) * 1e6:.1f} | "
                    f"{median(lag) * 1e6:.1f} | "
                    f"{waited * 1e3:.3f} | {t['updates_end_s'] * 1e3:.3f} | {t['host_comm_update_s'] * 1e3:.3f} | "
                    f"{r['phases']['comm_update']['median_s'] * 1e3:.3f} |".replace("| nan |", "| - |"))
    if not rows:
        fail(f"{', '.join(paths)}: no dp_step record with a timeline (run nagbench with --timeline)")
    print("| model | ranks | comm (path) | mode | overlap | bucket MiB (buckets) | update streams | rank | "
          "reduction us | handshake us | update us | reduced after its enqueue us | update waited ms | "
          "last update ms | host comm+update ms | timed comm+update ms (median) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def dp_title(r):
    t = r["timeline"][0]
    reductions, _, per_bucket, _ = bucket_phases(t)
    return (f"{r.get('model')} dp step (--timeline), {r.get('ranks')} ranks, {r.get('comm')} ({r.get('comm_path')}), "
            f"{r.get('mode')}, overlap {'on' if r.get('overlap') else 'off'}, {r.get('buckets')} buckets of <= "
            f"{r.get('bucket_mb')} MiB, {t.get('update_streams', 1)} update stream(s), {r.get('device', '')}\n"
            f"rank 0, per bucket median: reduction "
            f"{median(reductions) * 1e6:.1f} us, update {median(per_bucket) * 1e6:.1f} us; last update done at "
            f"{t['updates_end_s'] * 1e3:.3f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("record", nargs="+")
    ap.add_argument("--out")
    ap.add_argument("--table", action="store_true", help="print a Markdown table of dp timelines instead of a plot")
    ap.add_argument("--title", default=None)
    ap.add_argument("--index", type=int, default=-1, help="which record with a timeline (default: the last)")
    a = ap.parse_args()
    if a.table:
        table(a.record)
        return
    if not a.out or len(a.record) != 1:
        fail("give one record file and --out FILE (or --table)")
    r = load(a.record[0], a.index)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_rank = r["timeline"]
    if r["benchmark"] == "dp_step":
        fig, ax = plt.subplots(figsize=(12, 1.0 + 1.2 * len(per_rank)))
        ticks = []
        for y, (rank, t) in enumerate(reversed(list(enumerate(per_rank)))):
            ticks += dp_lanes(ax, t, 4 * y, f"rank {rank}")
        ax.set_yticks([p for p, _ in ticks])
        ax.set_yticklabels([n for _, n in ticks], fontsize=8)
        ax.set_xlabel("ms from the start of the step (device events; host clock on CPUs)")
        ax.set_title(a.title or dp_title(r), fontsize=9)
        from matplotlib.patches import Patch
        handles = [Patch(color="tab:blue", label="gradients"), Patch(color="tab:orange", label="reduction")]
        if any(b.get("handshake_s") is not None for t in per_rank for b in t["buckets"]):
            handles = [handles[0], Patch(color="tab:purple", label="push (p2p)"),
                       Patch(color="tab:orange", label="handshake (p2p flags)")]
        handles.append(Patch(color="tab:green", label="update"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        save(fig, a.out)
        return
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
    save(fig, a.out)


def save(fig, out):
    fig.tight_layout()
    tmp = out + ".tmp" + os.path.splitext(out)[1]
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, out)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror}")


if __name__ == "__main__":
    main()
