"""Figures of a report, PNG and SVG each (Debian's python3-matplotlib, no display needed). Every series is one
group of the tables (commit, device, backend and configuration); none is a maximum over any of them."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# Figures that do not change when their data do not: no dates in SVG or PNG, fixed SVG ids.
plt.rcParams["svg.hashsalt"] = "nagbench"
plt.rcParams["figure.max_open_warning"] = 0


def save(fig, out, name):
    """Writes name.png and name.svg atomically; returns the PNG's file name."""
    os.makedirs(out, exist_ok=True)
    fig.tight_layout()
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        path = os.path.join(out, f"{name}.{ext}")
        tmp = f"{path}.tmp.{ext}"
        fig.savefig(tmp, dpi=110, metadata=meta)
        os.replace(tmp, path)
    plt.close(fig)
    return f"{name}.png"


def grid(n, width=6.0, height=3.6, cols=2):
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def slug(*parts):
    text = "_".join(str(p) for p in parts if p is not None and str(p) != "nan")
    return "".join(c if c.isalnum() or c in "-." else "_" for c in text).strip("_")[:80]


def update_pct_roof(table, out):
    """% of the measured roof per variant, one panel per commit, device and backend."""
    if table.empty:
        return None
    panels = list(table.groupby(["commit", "device", "backend"], sort=True))
    if not panels:
        return None
    most = max(len(g.drop_duplicates(["model", "dtype"] + (["settings"] if "settings" in g else []))) for _, g in panels)
    fig, axes = grid(len(panels), width=max(6.0, 0.5 * most), height=3.6 + (1.0 if most > 8 else 0.0))
    for ax, ((commit, device, backend), g) in zip(axes, panels):
        label = g["model"] + " " + g["dtype"]
        if "settings" in g:  # every other setting that differs in the panel, rule_mode too (analysis.varying_settings)
            label = label + g["settings"].fillna("").map(lambda s: f" [{s}]" if s else "")
        elif "rule_mode" in g:  # rows of both arithmetics are separate bars, never merged
            label = label + g["rule_mode"].fillna("").map(lambda m: f" ({m})" if m else "")
        g = g.assign(label=label)
        labels = sorted(g["label"].unique())
        variants = sorted(g["variant"].unique())
        width = 0.8 / len(variants)
        for i, v in enumerate(variants):
            # one bar per label: rows that still share one (other settings) show their median
            gv = g[g["variant"] == v].groupby("label")["pct_of_roof"].median()
            ys = [gv.get(lab, np.nan) for lab in labels]
            ax.bar(np.arange(len(labels)) + i * width, ys, width, label=v)
        ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels, rotation=25, ha="right", fontsize=8)
        ax.axhline(100, color="gray", lw=0.6)
        ax.set_ylabel("% of roof (max of copy, nstream)")
        ax.set_title(f"{backend} on {device} @ {commit}", fontsize=9)
        ax.legend(fontsize=7)
    return save(fig, out, "update_pct_roof")


def roofline(rows, out):
    """Update bandwidth against bytes moved per step, with each device's measured roof: how far each variant and
    model is from the memory bound of its own device."""
    u = rows[rows["benchmark"] == "update"] if not rows.empty else rows
    if u.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 5))
    markers = dict(zip(sorted(u["variant"].unique()), "osD^vP*X"))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, ((device, backend), g) in enumerate(u.groupby(["device", "backend"], sort=True)):
        c = colors[i % len(colors)]
        roof = g["roof_GBps"].median()
        ax.axhline(roof, color=c, ls="--", lw=0.8)
        ax.annotate(f"roof {roof:.0f} GB/s ({backend}, {device})", (0.01, roof), xycoords=("axes fraction", "data"),
                    fontsize=7, color=c, va="bottom")
        for v, gv in g.groupby("variant"):
            ax.scatter(gv["params"] * gv["bytes_per_param"], gv["eff_GBps"], color=c, marker=markers[v], s=22,
                       label=f"{v}" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("minimum bytes moved per update step (params x bytes/param)")
    ax.set_ylabel("update GB/s (minimum bytes / median time)")
    ax.set_title("update against the measured roof of each device (dashed)", fontsize=10)
    ax.legend(title="variant (marker)", fontsize=7)
    return save(fig, out, "roofline")


def backends(table, out):
    """CUDA against OpenMP on the same node and inputs: update time of each."""
    if table.empty:
        return None
    t = table.assign(label=table["model"] + " " + table["dtype"] + " " + table["variant"] + " @" + table["commit"])
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(t) + 2), 4.2))
    x = np.arange(len(t))
    ax.bar(x - 0.2, t["cuda_ms"], 0.4, label="CUDA (" + ", ".join(sorted(t["gpu"].unique())) + ")")
    ax.bar(x + 0.2, t["openmp_ms"], 0.4, label="OpenMP (" + ", ".join(sorted(t["cpu"].unique())) + ")")
    for xi, (_, r) in zip(x, t.iterrows()):
        ax.annotate(f"{r['speedup']:.1f}x", (xi, max(r["cuda_ms"], r["openmp_ms"])), ha="center", va="bottom",
                    fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(x, t["label"], rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("update time per step (ms, median)")
    ax.set_title("CUDA vs OpenMP, same node and inputs (label: OpenMP time / CUDA time)", fontsize=10)
    ax.legend(fontsize=7)
    return save(fig, out, "cuda_vs_openmp")


def step_breakdown(table, out):
    """Stacked phases of the data-parallel step, one figure per commit and device."""
    names = []
    if table.empty:
        return names
    for (commit, device), g in table.groupby(["commit", "device"], sort=True):
        g = g.sort_values(["model", "ranks", "comm", "mode", "overlap", "bucket_mb"])
        labels = [f"{r.model} {r.ranks}r {r.comm} {r.mode[:5]} ov={'on' if r.overlap else 'off'} {r.bucket_mb:g}M"
                  + ("" if pd.isna(getattr(r, "comm_stream_priority", np.nan)) or r.comm_stream_priority == "high"
                     else f" {r.comm_stream_priority}")
                  + (f" {r.settings}" if isinstance(getattr(r, "settings", None), str) and r.settings else "")
                  for r in g.itertuples()]
        fig, ax = plt.subplots(figsize=(max(6, 0.42 * len(g) + 2), 4.5))
        x = np.arange(len(g))
        grad = g["gradient_s"].fillna(0) * 1e3
        comm = g["comm_s"].fillna(0) * 1e3
        upd = g["update_s"].fillna(0) * 1e3
        both = np.where(g["comm_s"].isna(), g["comm_update_s"].fillna(0) * 1e3, 0)
        ax.bar(x, grad, label="gradient")
        ax.bar(x, comm, bottom=grad, label="comm")
        ax.bar(x, upd, bottom=grad + comm, label="update")
        ax.bar(x, both, bottom=grad, label="comm + update (overlapped)", hatch="//", alpha=0.8)
        ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=6)
        ax.set_ylabel("ms per step (slowest rank's median)")
        ax.set_yscale("log" if (g["total_s"].max() / g["total_s"].min()) > 30 else "linear")
        ax.set_title(f"data-parallel step, {device} @ {commit}", fontsize=10)
        ax.legend(fontsize=7)
        names.append(save(fig, out, "step_breakdown_" + slug(device, commit)))
    return names


def scaling(table, out):
    if table.empty:
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for key, g in table.groupby(["commit", "problem", "scaling", "mode", "overlap", "comm", "device"], sort=True,
                                dropna=False):
        commit, problem, kind, mode, overlap, comm, device = key
        if g["ranks"].nunique() < 1:
            continue
        g = g.sort_values("ranks")
        label = f"{kind} {problem} {mode} ov={'on' if overlap else 'off'} {comm} @{commit}"
        xs = [1] + list(g["ranks"])
        if g["update_efficiency"].notna().any():
            a1.plot(xs, [1.0] + list(g["update_efficiency"]), marker="o", ms=3, label=label)
        a2.plot(xs, [1.0] + list(g["step_T1_ms"] / g["step_TN_ms"]), marker="o", ms=3, label=label)
    for ax, what, ylabel in ((a1, "update phase (overlap off)", "efficiency: strong T1/(N TN), weak T1/TN"),
                             (a2, "whole step (each rank brings its own batch)", "T1 / TN")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("ranks (GPUs)")
        ax.set_ylabel(ylabel)
        ax.set_title(what, fontsize=10)
        ax.axhline(1.0, color="gray", lw=0.5)
        ax.set_ylim(bottom=0)
    for ax in (a1, a2):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
            break
    return save(fig, out, "scaling_efficiency")


def allreduce_busbw(ours, torch, out):
    if ours.empty:
        return None
    panels = list(ours.groupby(["device", "ranks"], sort=True))
    fig, axes = grid(len(panels), width=7, height=4.2, cols=1)
    for ax, ((device, ranks), g) in zip(axes, panels):
        for key, s in g.groupby(["commit", "comm", "comm_path", "comm_library"], sort=True, dropna=False):
            s = s.sort_values("bytes")
            ax.plot(s["bytes"], s["oop_busbw_GBps"], marker="o", ms=2.5, lw=1,
                    label=f"nagbench {key[1]}/{key[2]} {key[3]} @{key[0]}")
        if not torch.empty:
            t = torch[(torch["device"] == device) & (torch["ranks"] == ranks)]
            for (folder, lib), s in t.groupby(["folder", "comm_library"], sort=True):
                s = s.groupby("bytes")["ip_busbw_GBps"].median()
                ax.plot(s.index, s.values, ls="--", lw=1, marker="x", ms=3,
                        label=f"PyTorch all_reduce {lib} ({'/'.join(folder.split(os.sep)[-2:])})")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("message size (bytes)")
        ax.set_ylabel("busbw (GB/s)")
        ax.set_title(f"allreduce, {ranks} ranks, {device} (median of runs per commit)", fontsize=10)
        ax.legend(fontsize=6)
    return save(fig, out, "allreduce_busbw")


def buckets(table, out):
    if table.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5))
    keys = [c for c in ["commit", "device", "model", "mode", "ranks", "comm", "comm_stream_priority", "launch",
                        "update_streams"] if c in table]
    for key, g in table.groupby(keys, sort=True, dropna=False):
        g = g.sort_values("bucket_mb")
        ax.plot(g["bucket_mb"], g["comm_update_s"] * 1e3, marker="o", ms=3, label=" ".join(map(str, key)))
    ax.set_xscale("log")
    ax.set_xlabel("bucket size (MiB)")
    ax.set_ylabel("comm + update per step (ms)")
    ax.set_title("data-parallel step against bucket size, overlap on (one series per commit)", fontsize=10)
    ax.legend(fontsize=6)
    return save(fig, out, "dp_buckets")
