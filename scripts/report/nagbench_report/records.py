"""Reading records: files and folders of nagbench JSON documents and JSON Lines, sorted into nagbench records,
sweep failure lines and PyTorch yardstick documents; everything else is skipped with one warning line (never a
traceback). Records become rows of one flat table (pandas): configuration, environment and measurements as
columns."""
import json
import os

import jsonschema
import numpy as np
import pandas as pd

from .paths import schema_path

# Top-level scalar fields of a record that are measurements or run settings, not configuration. Every other scalar
# field is configuration, including fields that later schema versions add (optimizer, workload, rule_mode, ...),
# so records that differ in any of them are never merged.
NOT_CONFIG = {
    "schema_version", "verified", "tag", "model_source", "median_s", "min_s", "max_s", "mean_s", "reps", "iters",
    "params_per_s", "params_per_s_per_rank", "params_per_s_aggregate", "bytes_per_param", "eff_GBps", "copy_GBps",
    "nstream_GBps", "roof_GBps", "pct_of_roof", "suspect", "params_hash", "gradient_median_s", "seed", "tensors",
    "arena_bytes", "buckets", "ranks_agree", "comm_library", "ranks_per_node", "timeline",
}
# Configuration columns first in this order (then any others, sorted).
CONFIG_ORDER = ["benchmark", "optimizer", "workload", "rule_mode", "backend", "device", "ranks", "nodes",
                "ranks_per_node", "threads", "model", "params", "params_per_rank", "scaling", "variant", "dtype",
                "comm", "comm_path", "mode", "overlap", "bucket_mb", "comm_stream_priority"]
ENVIRONMENT = ["commit", "dirty", "hostname", "kokkos_version", "compiler", "mpi_library", "comm_library", "timestamp"]
# What identifies a point across runs (compare, references): configuration, never the environment.
MATCH_EXCLUDE = {"commit", "dirty", "hostname", "timestamp", "kokkos_version", "compiler", "mpi_library",
                 "comm_library", "tag", "source", "folder", "row", "nodes"}


class Loaded:
    def __init__(self):
        self.records = []      # (record dict, source path)
        self.failures = []     # (failure line, source path)
        self.yardsticks = []   # (torch_allreduce document, source path)
        self.warnings = []     # one line each
        self.files = 0


class Validator:
    """record.schema.json, with errors named for the kind of line at hand (a failure line or a record), not for the
    schema's top-level choice between them."""

    def __init__(self):
        with open(schema_path("record.schema.json")) as fh:
            schema = json.load(fh)
        self.parts = {}
        for part in ("record", "failure"):
            sub = {k: v for k, v in schema.items() if k != "oneOf"}
            sub["$ref"] = f"#/$defs/{part}"
            self.parts[part] = jsonschema.Draft202012Validator(sub)

    def iter_errors(self, r):
        part = "failure" if isinstance(r, dict) and r.get("benchmark") == "failure" else "record"
        return self.parts[part].iter_errors(r)


def validator():
    return Validator()


def list_files(paths, warn):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for d, dirs, files in os.walk(p):
                dirs.sort()
                out += [os.path.join(d, f) for f in sorted(files) if f.endswith((".json", ".jsonl"))]
        elif os.path.isfile(p):
            out.append(p)
        else:
            warn(f"{p}: no such file or folder")
    return out


def classify(doc, path, where, loaded, check):
    """Sorts one JSON value into the loaded lists; returns False when nothing in it is usable."""
    items = doc if isinstance(doc, list) else [doc]
    if isinstance(doc, dict) and "benchmarks" in doc and "context" in doc:
        loaded.warnings.append(f"{where}: skipped: Google Benchmark output, not nagbench records "
                               "(compare those with Google Benchmark's compare.py)")
        return False
    if isinstance(doc, dict) and "testsuites" in doc and "tests" in doc:
        loaded.warnings.append(f"{where}: skipped: GoogleTest output, not nagbench records")
        return False
    if isinstance(doc, dict) and "parameters" in doc and "evaluation" in doc:
        loaded.warnings.append(f"{where}: skipped: a fitted model (nagbench-report model), not nagbench records")
        return False
    if isinstance(doc, dict) and doc.get("benchmark") in ("gemm_probe", "launch_probe"):
        loaded.warnings.append(f"{where}: skipped: a kernel probe (scripts/device/{doc['benchmark']}.cu), not "
                               "nagbench records")
        return False
    if isinstance(doc, dict) and doc.get("benchmark") in ("torch_ddp_mlp", "torch_dp_step"):
        loaded.warnings.append(f"{where}: skipped: PyTorch yardstick (scripts/device/{doc['benchmark']}.py), not "
                               "nagbench records (docs/data-parallel.md compares them)")
        return False
    used = False
    for i, r in enumerate(items):
        at = where if len(items) == 1 else f"{where} [{i}]"
        if not isinstance(r, dict) or "benchmark" not in r:
            loaded.warnings.append(f"{at}: skipped: not a nagbench record (no 'benchmark' field)")
            continue
        if r["benchmark"] == "torch_allreduce":
            loaded.yardsticks.append((r, path))
            used = True
            continue
        errors = list(check.iter_errors(r))
        if errors:
            e = jsonschema.exceptions.best_match(errors)
            field = ".".join(map(str, e.absolute_path)) or "record"
            loaded.warnings.append(f"{at}: skipped: not a valid nagbench record ({field}: {e.message[:120]})")
            continue
        if r["benchmark"] == "failure":
            loaded.failures.append((r, path))
        else:
            loaded.records.append((r, path))
        used = True
    return used


def load(paths):
    loaded = Loaded()
    check = validator()
    for path in list_files(paths, loaded.warnings.append):
        loaded.files += 1
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            loaded.warnings.append(f"{path}: skipped: cannot read ({getattr(e, 'strerror', None) or e})")
            continue
        if path.endswith(".jsonl"):
            for n, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError:
                    # A launch killed mid-write leaves a partial line; the rest of the file is still good.
                    loaded.warnings.append(f"{path}:{n}: skipped: not a complete JSON line (a killed write?)")
                    continue
                classify(doc, path, f"{path}:{n}", loaded, check)
            continue
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            loaded.warnings.append(f"{path}: skipped: not valid JSON (line {e.lineno}: {e.msg}; truncated?)")
            continue
        classify(doc, path, path, loaded, check)
    return loaded


def phase(r, name):
    p = (r.get("phases") or {}).get(name)
    return None if p is None else p.get("median_s")


def is_weak(r):
    """A weak-scaling record: a fixed problem per rank (--params-per-rank; later a field of its own)."""
    if r.get("params_per_rank") is not None:
        return True
    return "--params-per-rank" in (r.get("provenance") or {}).get("command_line", "")


def config_of(r):
    """The configuration of a record as flat columns (scalars only)."""
    c = {}
    for k, v in r.items():
        if k in NOT_CONFIG or isinstance(v, (dict, list)):
            continue
        c[k] = v
    for k, v in (r.get("hyper") or {}).items():
        c[f"hyper_{k}"] = v
    prov = r.get("provenance") or {}
    ranks = r.get("ranks", 1)
    per_node = r.get("ranks_per_node") or prov.get("ranks_per_node") or ranks
    c["ranks_per_node"] = per_node
    c["nodes"] = -(-ranks // per_node)
    if r.get("backend") != "cuda":
        threads = prov.get("omp_num_threads") or (r.get("device_detail") or {}).get("threads")
        c["threads"] = int(threads) if str(threads or "").isdigit() else None
    if r.get("benchmark") == "dp_step":
        weak = is_weak(r)
        c["scaling"] = "weak" if weak else "strong"
        if weak and r.get("params_per_rank") is None:
            c["params_per_rank"] = r["params"] // ranks
    return c


def environment_of(r, path):
    prov = r.get("provenance") or {}
    return {"commit": (prov.get("git_commit") or "")[:7] or None, "dirty": prov.get("git_dirty"),
            "hostname": prov.get("hostname"), "kokkos_version": prov.get("kokkos_version"),
            "compiler": prov.get("compiler"), "mpi_library": prov.get("mpi_library"),
            "comm_library": r.get("comm_library"), "timestamp": prov.get("timestamp_utc"), "tag": r.get("tag"),
            "source": path, "folder": os.path.dirname(path)}


def measurements_of(r):
    m = {k: r.get(k) for k in ("median_s", "min_s", "max_s", "params_per_s", "eff_GBps", "copy_GBps",
                                "nstream_GBps", "roof_GBps", "pct_of_roof", "suspect", "bytes_per_param",
                                "tensors", "buckets", "reps", "verified")}
    if r.get("benchmark") == "dp_step":
        for name in ("gradient", "comm", "update", "comm_update", "total"):
            m[f"{name}_s"] = phase(r, name)
        ar = r.get("allreduce") or {}
        m["allreduce_bytes"] = ar.get("bytes")
        m["step_busbw_GBps"] = ar.get("busbw_GBps")
        m["params_per_s_per_rank"] = r.get("params_per_s_per_rank")
        m["params_per_s_aggregate"] = r.get("params_per_s_aggregate")
        mem = r.get("memory_per_rank") or {}
        m["momentum_bytes_per_rank"] = mem.get("momentum_bytes")
    return m


def rows_of(r, path):
    """One row per record; an allreduce sweep gives one row per message size (each its own measurement)."""
    base = dict(config_of(r))
    base.update(environment_of(r, path))
    base.update(measurements_of(r))
    if r.get("benchmark") != "allreduce":
        return [base]
    rows = []
    for i, row in enumerate(r.get("rows", [])):
        x = dict(base, row=i, bytes=row["bytes"], row_verified=row.get("verified"))
        for kind, short in (("out_of_place", "oop"), ("in_place", "ip")):
            t = row.get(kind) or {}
            x[f"{short}_time_s"] = t.get("time_s")
            x[f"{short}_algbw_GBps"] = t.get("algbw_GBps")
            x[f"{short}_busbw_GBps"] = t.get("busbw_GBps")
        rows.append(x)
    return rows


def yardstick_rows(doc, path):
    rows = []
    for i, row in enumerate(doc.get("rows", [])):
        rows.append({"benchmark": "torch_allreduce", "device": doc.get("device"), "ranks": doc.get("ranks"),
                     "torch": doc.get("torch"), "comm_library": f"NCCL {doc.get('nccl')}", "row": i,
                     "bytes": row.get("bytes"), "in_place": doc.get("in_place"), "ip_time_s": row.get("time_s"),
                     "ip_busbw_GBps": row.get("busbw_GBps"), "source": path, "folder": os.path.dirname(path)})
    return rows


# Columns every frame has, even when no record fills them (a folder of update records has no comm column
# otherwise), so that every table can select them.
ALWAYS = CONFIG_ORDER + ["commit", "hostname", "timestamp", "tag", "source", "folder", "comm_library", "bytes",
                         "oop_time_s", "oop_busbw_GBps", "ip_busbw_GBps", "ip_time_s"] + \
    list(measurements_of({"benchmark": "dp_step"}))


def ordered(df):
    for c in ALWAYS:
        if c not in df.columns:
            df[c] = np.nan
    cols = list(df.columns)
    first = [c for c in CONFIG_ORDER if c in cols]
    env = [c for c in ENVIRONMENT + ["tag", "source", "folder", "row"] if c in cols]
    hyper = sorted(c for c in cols if c.startswith("hyper_"))
    rest = [c for c in cols if c not in first + env + hyper]
    measured = set(measurements_of({"benchmark": "dp_step"})) | {"bytes", "row_verified"} | \
        {c for c in cols if c.startswith(("oop_", "ip_"))}
    other_config = sorted(c for c in rest if c not in measured)
    meas = [c for c in rest if c in measured]
    return df[first + other_config + hyper + env + meas]


def frame(loaded, yardsticks=True):
    rows = [x for r, p in loaded.records for x in rows_of(r, p)]
    if yardsticks:
        rows += [x for d, p in loaded.yardsticks for x in yardstick_rows(d, p)]
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    if "launch" in df.columns:  # records made before --launch existed launched directly (record schema)
        df.loc[df["benchmark"].isin(["update", "dp_step"]) & df["launch"].isna(), "launch"] = "direct"
    if "update_streams" in df.columns:  # dp records made before --update-streams existed updated on one stream
        df.loc[(df["benchmark"] == "dp_step") & df["update_streams"].isna(), "update_streams"] = 1
    return ordered(df)


def config_columns(df):
    """The configuration columns of a frame: every column that is not environment, provenance or measurement."""
    measured = set(measurements_of({"benchmark": "dp_step"})) | {"bytes", "row_verified", "torch", "in_place"} | \
        {c for c in df.columns if c.startswith(("oop_", "ip_"))}
    return [c for c in df.columns if c not in measured and c not in ENVIRONMENT and c not in MATCH_EXCLUDE]


def csv_ready(df):
    """Integer columns stay integers in the CSV (pandas turns a column with empty cells into floats)."""
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype.kind == "f" and col.notna().any() and (col.dropna() % 1 == 0).all() \
                and c not in ("bucket_mb", "hyper_lr", "hyper_momentum", "hyper_dampening", "hyper_weight_decay"):
            out[c] = col.astype("Int64")
    return out
