"""The tables of a report, from the flat frame of records.py. Records of one group (same commit and every
configuration column equal) are repetitions: a table gives their median, their count and their spread; nothing
is ever the maximum over backends, devices, commits or any other configuration key."""
import numpy as np
import pandas as pd

from .records import config_columns


def present(df, cols):
    """The columns of cols that exist and hold a value somewhere."""
    return [c for c in cols if c in df.columns and df[c].notna().any()]


def group_keys(df, extra=()):
    return ["commit"] + [c for c in present(df, config_columns(df)) if c not in extra]


def setting_text(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else f"{v:.6g}"
    return str(v)


def varying_settings(table, keys, shown, per=("commit", "device", "backend")):
    """Per row of a table grouped by `keys`, "key=value" for each of them that differs between the rows of its
    panel (the rows sharing `per`) and is not among `shown` (e.g. launch=graph, evict_bytes=0), so that no two rows
    or bars of different settings look alike."""
    out = pd.Series("", index=table.index, dtype=object)
    if table.empty:
        return out
    per = [c for c in per if c in table]
    for _, g in (table.groupby(per, dropna=False, sort=False) if per else [(None, table)]):
        vary = [c for c in keys if c in g and c not in shown and c not in per and g[c].nunique(dropna=False) > 1]
        for i, r in g.iterrows():
            out[i] = ", ".join(f"{k}={setting_text(r[k])}" for k in vary)
    return out


def aggregate(df, keys, metrics):
    """Median of each metric per group, with n (records) and the min..max of the first metric."""
    if df.empty:
        return pd.DataFrame()
    metrics = [m for m in metrics if m not in keys]
    # A metric no record of the frame has (comm_s where every step overlapped) is a column of None, which pandas'
    # median would drop as a non-numeric column: numbers (NaN) keep it.
    df = df.assign(**{m: pd.to_numeric(df[m], errors="coerce") for m in metrics})
    g = df.groupby(keys, dropna=False, sort=True)
    out = g[metrics].median()
    out["n"] = g.size()
    first = metrics[0]
    out[f"{first}_min"] = g[first].min()
    out[f"{first}_max"] = g[first].max()
    return out.reset_index()


def kind(df, name):
    return df[df["benchmark"] == name].copy() if "benchmark" in df.columns else pd.DataFrame()


def update_table(df):
    u = kind(df, "update")
    if u.empty:
        return u
    return aggregate(u, group_keys(u), ["median_s", "eff_GBps", "roof_GBps", "pct_of_roof", "params"])


def backend_comparison(df):
    """CUDA against OpenMP on the same node and inputs: update records of one folder and host (one machine, one
    run) whose configuration differs only in backend and device."""
    u = kind(df, "update")
    if u.empty or not {"cuda", "openmp"} <= set(u["backend"]):
        return pd.DataFrame()
    keys = [c for c in group_keys(u) if c not in ("backend", "device", "threads")] + ["folder", "hostname"]
    agg = aggregate(u, keys + ["backend", "device", "threads"], ["median_s", "eff_GBps", "pct_of_roof"])
    rows = []
    for key, g in agg.groupby(keys, dropna=False, sort=True):
        cuda, omp = g[g["backend"] == "cuda"], g[g["backend"] == "openmp"]
        if cuda.empty or omp.empty:
            continue
        c, o = cuda.iloc[0], omp.iloc[0]
        row = dict(zip(keys, key))
        row.update(gpu=c["device"], cpu=o["device"], cpu_threads=o["threads"], cuda_ms=c["median_s"] * 1e3,
                   openmp_ms=o["median_s"] * 1e3, speedup=o["median_s"] / c["median_s"],
                   cuda_pct_of_roof=c["pct_of_roof"], openmp_pct_of_roof=o["pct_of_roof"],
                   cuda_GBps=c["eff_GBps"], openmp_GBps=o["eff_GBps"], n=f"{c['n']}/{o['n']}")
        rows.append(row)
    return pd.DataFrame(rows)


def step_table(df):
    s = kind(df, "dp_step")
    if s.empty:
        return s
    return aggregate(s, group_keys(s), ["total_s", "gradient_s", "comm_s", "update_s", "comm_update_s"])


FAMILY_EXCLUDE = {"ranks", "nodes", "ranks_per_node", "comm", "comm_path", "params", "model"}


def scaling(df):
    """Strong and weak scaling per family (one configuration as ranks grow; the one-rank baseline runs with comm
    none). Strong (fixed model): speedup S = T1 / TN and efficiency E = T1 / (N TN); weak (fixed parameters per
    rank): E = T1 / TN. Both for the update phase (timed apart only without overlap) and for the whole step."""
    s = step_table(df)
    if s.empty:
        return pd.DataFrame()
    config = group_keys(kind(df, "dp_step"))
    s = s.copy()
    # A family is the configuration without the rank count and what follows from it; strong families keep the
    # model (fixed global problem), weak ones the parameters per rank.
    per_rank = s["params_per_rank"] if "params_per_rank" in s else pd.Series(np.nan, index=s.index)
    s["problem"] = [f"{int(p)} per rank" if w == "weak" and pd.notna(p) else str(m)
                    for w, p, m in zip(s["scaling"], per_rank, s["model"])]
    keys = ["commit", "problem"] + [c for c in config if c not in FAMILY_EXCLUDE and c != "commit"]
    rows = []
    for key, g in s.groupby(keys, dropna=False, sort=True):
        base = g[g["ranks"] == 1]
        if base.empty or len(g) < 2:
            continue
        b = base.iloc[0]
        for _, r in g[g["ranks"] > 1].sort_values("ranks").iterrows():
            n = r["ranks"]
            row = dict(zip(keys, key))
            row.update(ranks=n, comm=r["comm"], comm_path=r["comm_path"], n=r["n"])
            for metric, col in (("update", "update_s"), ("step", "total_s")):
                t1, tn = b[col], r[col]
                row[f"{metric}_T1_ms"] = t1 * 1e3 if pd.notna(t1) else np.nan
                row[f"{metric}_TN_ms"] = tn * 1e3 if pd.notna(tn) else np.nan
                if pd.isna(t1) or pd.isna(tn):
                    row[f"{metric}_speedup"] = row[f"{metric}_efficiency"] = np.nan
                elif r["scaling"] == "weak":
                    row[f"{metric}_speedup"] = np.nan
                    row[f"{metric}_efficiency"] = t1 / tn
                else:
                    row[f"{metric}_speedup"] = t1 / tn
                    row[f"{metric}_efficiency"] = t1 / (n * tn)
            rows.append(row)
    return pd.DataFrame(rows)


def allreduce_table(df):
    a = kind(df, "allreduce")
    if a.empty:
        return a
    keys = ["commit", "device", "backend", "comm", "comm_path", "comm_library", "ranks", "nodes", "bytes"]
    return aggregate(a, [k for k in keys if k in a.columns], ["oop_busbw_GBps", "oop_time_s", "ip_busbw_GBps"])


def yardstick_table(df):
    t = kind(df, "torch_allreduce")
    if t.empty:
        return t
    return aggregate(t, ["device", "ranks", "torch", "comm_library", "bytes"], ["ip_busbw_GBps", "ip_time_s"])


def allreduce_vs_torch(df):
    """nagbench's NCCL allreduce (out of place) against PyTorch's (in place) per size, device and rank count, for
    runs of the same folder (one machine and lease: runs are interleaved there): the median over every run of
    each, with the run count and spread."""
    a, t = kind(df, "allreduce"), kind(df, "torch_allreduce")
    if a.empty or t.empty:
        return pd.DataFrame()
    a = a[a["comm"] == "nccl"]
    keys = ["folder", "device", "ranks", "bytes"]
    ours = a.groupby(["commit"] + keys, dropna=False)["oop_busbw_GBps"]
    theirs = t.groupby(keys, dropna=False)["ip_busbw_GBps"]
    o = pd.DataFrame({"nagbench_busbw": ours.median(), "nagbench_runs": ours.size(),
                      "nagbench_min": ours.min(), "nagbench_max": ours.max()}).reset_index()
    th = pd.DataFrame({"torch_busbw": theirs.median(), "torch_runs": theirs.size(), "torch_min": theirs.min(),
                       "torch_max": theirs.max()}).reset_index()
    m = o.merge(th, on=keys)
    m["pct_of_torch"] = 100 * m["nagbench_busbw"] / m["torch_busbw"]
    return m


def bucket_table(df):
    """The step's comm + update against bucket size (overlap on), per commit: never one series of mixed runs."""
    s = step_table(df)
    if s.empty:
        return s
    s = s[(s["overlap"] == True) & (s["ranks"] > 1) & s["comm_update_s"].notna()]  # noqa: E712 (object column)
    keys = [c for c in ["commit", "device", "model", "mode", "ranks", "comm", "comm_path", "comm_stream_priority",
                        "launch", "update_streams", "variant", "dtype"] if c in s.columns]
    out = []
    for key, g in s.groupby(keys, dropna=False, sort=True):
        if g["bucket_mb"].nunique() >= 2:
            out.append(g)
    return pd.concat(out) if out else pd.DataFrame()
