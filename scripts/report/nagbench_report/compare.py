"""The regression gate. Points are matched by configuration and device (never by commit, host or time); each point's
metric is the median over its records (repetitions). `compare BASE NEW` prints NEW/BASE ratios of time and fails
past a threshold, as nccl-tests' minimum-bandwidth check and Google Benchmark's compare.py do; `compare
--references FILE NEW` checks NEW against per-system reference values with bounds, as ReFrame's references do."""
import math
import os
import sys

import numpy as np
import pandas as pd
import yaml

from . import InputError
from .records import MATCH_EXCLUDE, config_columns

# The time each kind of record is judged by (lower is better) and how a point is named in the printout.
METRIC = {"update": "median_s", "dp_step": "total_s", "allreduce": "oop_time_s"}
LABEL = {
    "update": ["device", "backend", "threads", "model", "dtype", "variant"],
    "dp_step": ["device", "backend", "model", "ranks", "comm", "comm_path", "mode", "overlap", "bucket_mb",
                "comm_stream_priority"],
    "allreduce": ["device", "backend", "comm", "comm_path", "ranks", "bytes"],
}


def native(v):
    """A pandas/numpy value as plain Python (for YAML and for comparisons)."""
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        f = float(v)
        return int(f) if f.is_integer() and abs(f) < 2 ** 53 else f
    return v


def match_columns(df, kind):
    k = df[df["benchmark"] == kind]
    cols = [c for c in config_columns(k) if c not in MATCH_EXCLUDE and k[c].notna().any()]
    return cols + (["bytes"] if kind == "allreduce" else [])


def points(df, kind):
    """One row per point of this kind: its match columns, the median of the metric and the record count."""
    k = df[df["benchmark"] == kind] if "benchmark" in df else df
    if k.empty:
        return pd.DataFrame(), []
    cols = match_columns(df, kind)
    g = k.groupby(cols, dropna=False)[METRIC[kind]]
    p = pd.DataFrame({"value": g.median(), "n": g.size()}).reset_index()
    return p, cols


def label(row, kind, cols):
    parts = []
    for c in LABEL[kind] + [c for c in cols if c not in LABEL[kind] and c != "benchmark"]:
        v = row.get(c)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if c == "overlap":
            v = "overlap " + ("on" if v else "off")
        elif c == "ranks":
            v = f"{v} ranks"
        elif c == "bucket_mb":
            v = f"{v:g} MiB"
        elif c == "bytes":
            v = f"{int(v)} B"
        elif c == "threads":
            v = f"{int(v)} threads"
        elif c.startswith("hyper_") or c in ("params", "params_per_rank", "scaling", "ranks_per_node"):
            continue  # hyper-parameters and sizes follow from the model; they still have to match
        parts.append(str(v))
    return " ".join(parts)


def compare_records(base, new, threshold, faster_too, out=sys.stdout):
    lines, failed, matched, unmatched = [], 0, 0, []
    for kind in METRIC:
        pb, cols_b = points(base, kind) if "benchmark" in base else (pd.DataFrame(), [])
        pn, cols_n = points(new, kind) if "benchmark" in new else (pd.DataFrame(), [])
        if pb.empty or pn.empty:
            continue
        cols = [c for c in cols_n if c in cols_b]
        m = pb.merge(pn, on=cols, how="outer", suffixes=("_base", "_new"), indicator=True)
        unmatched += [(kind, "base only") for _ in range((m["_merge"] == "left_only").sum())]
        unmatched += [(kind, "new only") for _ in range((m["_merge"] == "right_only").sum())]
        both = m[m["_merge"] == "both"]
        for _, r in both.iterrows():
            ratio = r["value_new"] / r["value_base"]
            status = "ok"
            if ratio > 1 + threshold:
                status, failed = "SLOWER", failed + 1
            elif ratio < 1 - threshold:
                status = "FASTER" if faster_too else "faster"
                failed += faster_too
            matched += 1
            lines.append((kind, label(r, kind, cols), r["value_base"], r["value_new"], ratio, status,
                          f"{int(r['n_base'])}/{int(r['n_new'])}"))
    if not matched:
        raise InputError("no point of NEW matches a point of BASE (same kind, device and configuration)")
    width = max(len(l[1]) for l in lines)
    print(f"{'kind':9} {'point':{width}} {'base':>11} {'new':>11} {'new/base':>9}  status  runs", file=out)
    for kind, name, b, n, ratio, status, runs in lines:
        print(f"{kind:9} {name:{width}} {fmt_time(b):>11} {fmt_time(n):>11} {ratio:9.3f}  {status:6}  {runs}",
              file=out)
    tail = f"{matched} points matched"
    if unmatched:
        tail += f", {sum(1 for _, w in unmatched if w == 'base only')} only in BASE, " \
                f"{sum(1 for _, w in unmatched if w == 'new only')} only in NEW (not compared)"
    verdict = f"{failed} past the threshold of {threshold:.1%}" if failed else f"all within {threshold:.1%}"
    print(f"{tail}; {verdict}", file=out)
    return 1 if failed else 0


def fmt_time(s):
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} us"


def latest(df):
    """Per point, the records of the newest commit (by record time): references describe the current code."""
    if "timestamp" not in df or "commit" not in df:
        return df
    newest = df.groupby("commit")["timestamp"].max().sort_values()
    order = {c: i for i, c in enumerate(newest.index)}
    return df.assign(_order=df["commit"].map(order))


def write_references(df, path, tolerance, system, sources):
    entries = []
    columns = {kind: match_columns(df, kind) for kind in METRIC if (df["benchmark"] == kind).any()}
    df = latest(df)
    for kind, cols in columns.items():
        k = df[df["benchmark"] == kind]
        for key, g in k.groupby(cols, dropna=False, sort=True):
            g = g[g["_order"] == g["_order"].max()] if "_order" in g else g
            match = {c: native(v) for c, v in zip(cols, key) if not (isinstance(v, float) and math.isnan(v))}
            entries.append({"match": match, "metric": METRIC[kind], "value": native(float(g[METRIC[kind]].median())),
                            "unit": "s", "lower": None, "upper": tolerance,
                            "from": {"commit": str(g["commit"].iloc[0]), "records": int(len(g))}})
    doc = {"system": system, "generated_by": "nagbench-report references " + " ".join(sources) +
           f" --tolerance {tolerance:g} --system {system}", "references": entries}
    head = ("# Reference values for the regression gate (nagbench-report compare --references THIS NEW), like ReFrame's\n"
            "# references: per point, the value of its metric (a time, in seconds) and the bounds as fractions of it\n"
            "# (lower: how much faster, upper: how much slower it may be; null: no bound). Generated from records by the\n"
            "# command in generated_by; regenerate rather than edit.\n")
    tmp = path + ".tmp.yaml"
    with open(tmp, "w") as fh:
        fh.write(head)
        yaml.safe_dump(doc, fh, sort_keys=False, width=120, default_flow_style=None)
    os.replace(tmp, path)


def load_references(path, system):
    try:
        with open(path) as fh:
            doc = yaml.safe_load(fh)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}")
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML: {getattr(e, 'problem', None) or e}")
    if not isinstance(doc, dict) or not isinstance(doc.get("references"), list):
        raise InputError(f"{path}: references: missing (a list of match/metric/value/lower/upper entries)")
    if system and doc.get("system") != system:
        raise InputError(f"{path}: system: holds references for {doc.get('system')}, not {system}")
    for i, e in enumerate(doc["references"]):
        for key in ("match", "metric", "value"):
            if key not in e:
                raise InputError(f"{path}: references[{i}].{key}: missing")
        if e["metric"] not in METRIC.values():
            raise InputError(f"{path}: references[{i}].metric: {e['metric']} is not one of {sorted(METRIC.values())}")
    return doc


def compare_references(path, new, system, require_all, out=sys.stdout):
    doc = load_references(path, system)
    failed, missing, lines = 0, 0, []
    for e in doc["references"]:
        sel = new
        for c, v in e["match"].items():
            if c not in sel:
                sel = sel.iloc[0:0]
                break
            col = sel[c]
            sel = sel[col.map(lambda x: native(x) == v or (isinstance(v, float) and isinstance(native(x), (int, float))
                                                            and math.isclose(native(x), v, rel_tol=1e-9)))]
        kind = e["match"].get("benchmark", "?")
        name = label(e["match"], kind, list(e["match"])) if kind in LABEL else str(e["match"])
        if sel.empty:
            missing += 1
            lines.append((name, e["value"], None, None, "no record"))
            continue
        value = float(sel[e["metric"]].median())
        lo = e["value"] * (1 + e["lower"]) if e.get("lower") is not None else -math.inf
        hi = e["value"] * (1 + e["upper"]) if e.get("upper") is not None else math.inf
        ok = lo <= value <= hi
        failed += not ok
        lines.append((name, e["value"], value, value / e["value"], "ok" if ok else "OUT OF BOUNDS"))
    width = max((len(l[0]) for l in lines), default=10)
    print(f"{'point':{width}} {'reference':>11} {'new':>11} {'new/ref':>8}  status", file=out)
    for name, ref, value, ratio, status in lines:
        print(f"{name:{width}} {fmt_time(ref):>11} {fmt_time(value) if value is not None else '-':>11} "
              f"{ratio if ratio is not None else float('nan'):8.3f}  {status}", file=out)
    print(f"{len(lines)} references of {doc.get('system')}: {failed} out of bounds, {missing} without a record"
          + (" (--require-all)" if require_all and missing else ""), file=out)
    return 1 if failed or (require_all and missing) else 0
