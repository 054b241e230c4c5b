#!/usr/bin/env python3
"""Convergence figures and a time-to-solution table from nagbench `train` records (nagbench --problem ...
--output X.json or X.jsonl). Reads one JSON document, a JSON list of records, or JSON Lines; folders are searched
for *.json and *.jsonl. Records of other kinds (dp_step, allreduce, ...) are skipped with a warning.

    scripts/train_report.py /tmp/tr/*.json runs.jsonl --out report/ [--title "quadratic, OpenMP"]

writes into --out (created):

    convergence_<problem>.png/.svg  relative gap (f - f*) / (f_0 - f*) when f* is known, else the objective, on a
                                    log scale against the iteration and against the time; one line per record,
                                    its predicted curve (theory_relative_gap) dashed in the same colour, the
                                    target dotted; classifiers get a third panel: test accuracy (train accuracy
                                    thin) against the iteration
    time_to_solution.md             one row per record, sorted by problem, ranks, optimizer: iterations to the
                                    target (measured / theory), time to it, the step time and its phase split
                                    (medians of the slowest rank), samples/s, final loss and test accuracy,
                                    whether the run verified
    time_to_solution.csv            the same rows and columns, raw numbers (seconds, fractions), the measured and
                                    the predicted iteration counts in two columns, the restart mode and count in two

Bad input (a missing or unreadable file, invalid JSON, no train record, an --out that cannot be created): one line
on stderr, status 2, and nothing written. Debian's python3-matplotlib, no display needed.
"""
import argparse
import csv
import io
import json
import math
import os
import shutil
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Figures that do not change when their data do not: no dates in SVG or PNG, fixed SVG ids.
plt.rcParams["svg.hashsalt"] = "nagbench"
plt.rcParams["figure.max_open_warning"] = 0

PROG = "train_report.py"


class InputError(Exception):
    """Bad input: reported as one line on stderr, status 2."""


def warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


# --- reading -------------------------------------------------------------------------------------------------------

def record_files(paths):
    """The files to read: each file named, and the *.json / *.jsonl files under each folder named (sorted)."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            found = []
            for d, dirs, names in os.walk(p):
                dirs.sort()
                found += [os.path.join(d, n) for n in sorted(names) if n.endswith((".json", ".jsonl"))]
            if not found:
                warn(f"{p}: no .json or .jsonl files")
            files += found
        elif os.path.exists(p):
            files.append(p)
        else:
            raise InputError(f"no such file or folder: {p}")
    return files


def parse(path):
    """The documents of one file: a JSON document (one record or a list of them) or JSON Lines. A truncated last
    line of JSON Lines (a run killed while writing) is skipped with a warning; any other invalid JSON is an error."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file")
    if not path.endswith(".jsonl"):
        try:
            doc = json.loads(text)
            return doc if isinstance(doc, list) else [doc]
        except ValueError as e:
            if text.count("\n") <= 1 or not text.lstrip().startswith("{"):
                raise InputError(f"{path}: not valid JSON: {e}")
            # else: JSON Lines under another name; read below
    docs = []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    for i, (n, line) in enumerate(lines):
        try:
            docs.append(json.loads(line))
        except ValueError as e:
            if i == len(lines) - 1 and not text.endswith("\n"):
                warn(f"{path}: line {n}: truncated JSON line skipped")
                continue
            raise InputError(f"{path}: line {n}: not valid JSON: {e}")
    return docs


def load(paths):
    """The train records of all files, each with its file name under "_file"."""
    out = []
    for path in record_files(paths):
        others, broken = {}, 0
        for doc in parse(path):
            if not isinstance(doc, dict) or "benchmark" not in doc:
                others["not a nagbench record"] = others.get("not a nagbench record", 0) + 1
            elif doc["benchmark"] != "train":
                key = f"benchmark {doc['benchmark']}"
                others[key] = others.get(key, 0) + 1
            elif not isinstance(doc.get("curve"), list) or not doc["curve"]:
                broken += 1
            else:
                out.append(dict(doc, _file=path))
        if others:
            what = ", ".join(f"{n} x {k}" for k, n in sorted(others.items()))
            warn(f"{path}: skipped {sum(others.values())} record(s) that are not train records ({what})")
        if broken:
            warn(f"{path}: skipped {broken} train record(s) without a convergence curve")
    return out


# --- describing a record -------------------------------------------------------------------------------------------

def num(x):
    """A finite float, or None."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def problem_of(r):
    return r.get("problem") or (r.get("problem_detail") or {}).get("problem") or r.get("model") or \
        r.get("workload") or "unknown"


def device_of(r):
    d = r.get("device")
    if isinstance(d, dict):
        d = d.get("name")
    return d or (r.get("device_detail") or {}).get("name") or ""


def hyper_short(h):
    """lr first, then beta, then the rest by name: "lr=0.033 beta=0.669", "lr=0.01 schedule" (a schedule of beta_k
    replaces --beta, which the record still holds)."""
    if not isinstance(h, dict):
        return ""
    order = sorted(h, key=lambda k: ({"lr": 0, "beta": 1}.get(k, 2), k))
    if h.get("schedule") is True and "beta" in order:
        order.remove("beta")
    parts = []
    for k in order:
        v = h[k]
        if isinstance(v, bool):
            if v:
                parts.append(k)
        elif isinstance(v, (int, float)):
            parts.append(f"{k}={v:g}")
        elif v not in (None, ""):
            parts.append(f"{k}={v}")
    return " ".join(parts)


def optimizer_short(r):
    return " ".join(x for x in (str(r.get("optimizer", "?")), hyper_short(r.get("hyper"))) if x)


def restart_short(r):
    mode = r.get("restart") or "none"
    n = r.get("restarts")
    return mode if mode == "none" or not isinstance(n, int) else f"{mode} ({n})"


def label(r):
    ranks = r.get("ranks", 1)
    parts = [optimizer_short(r)]
    if (r.get("restart") or "none") != "none":
        parts.append(f"restart {r['restart']}")
    parts.append(f"{ranks} rank{'s' if ranks != 1 else ''}, {r.get('backend', '?')} on {device_of(r)}")
    if r.get("dtype"):
        parts[-1] += f", {r['dtype']}"
    return " | ".join(parts)


def optimum_of(r):
    """(f*, f_0) when the relative gap is defined, else None."""
    f_star, f0 = num(r.get("optimum")), num(r.get("initial_loss"))
    if f0 is None and r["curve"]:
        f0 = num(r["curve"][0].get("loss"))
    if f_star is None or f0 is None or not f0 - f_star > 0:
        return None
    return f_star, f0


def final_test_accuracy(r):
    for p in reversed(r["curve"]):
        if num(p.get("test_accuracy")) is not None:
            return p["test_accuracy"]
    return None


def is_classifier(r):
    return any(num(p.get("test_accuracy")) is not None for p in r["curve"])


# --- the figures ---------------------------------------------------------------------------------------------------

def slug(text):
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in str(text)).strip("_")[:80] or "problem"


def unique_labels(recs):
    """One legend entry per record: repeats of one configuration get their seed or a run number."""
    labels = [label(r) for r in recs]
    for lab in set(labels):
        idx = [i for i, x in enumerate(labels) if x == lab]
        if len(idx) > 1:
            seeds = [recs[i].get("seed") for i in idx]
            distinct = len(set(map(str, seeds))) == len(seeds)
            for n, i in enumerate(idx, 1):
                labels[i] = f"{lab} | " + (f"seed {seeds[n - 1]}" if distinct else f"run {n}")
    return labels


def convergence_figure(problem, recs, title, out, name):
    """name.png and name.svg; returns name."""
    scaled = all(optimum_of(r) for r in recs)  # relative gap only where every record knows f*
    classifier = any(is_classifier(r) for r in recs)
    ncols = 3 if classifier else 2
    fig, axes = plt.subplots(1, ncols, figsize=(6.0 * ncols, 4.4), squeeze=False)
    ax_it, ax_t = axes[0][0], axes[0][1]
    colours = plt.get_cmap("tab10" if len(recs) <= 10 else "tab20")
    ylabel = "relative gap (f - f*) / (f_0 - f*)" if scaled else "objective f"
    measured, last_step = [], 0
    for i, (r, lab) in enumerate(zip(recs, unique_labels(recs))):
        c = colours(i % colours.N)
        pts = [p for p in r["curve"] if num(p.get("loss")) is not None and num(p.get("step")) is not None]
        steps = [p["step"] for p in pts]
        if scaled:
            f_star, f0 = optimum_of(r)
            ys = [(p["loss"] - f_star) / (f0 - f_star) for p in pts]
        else:
            ys = [p["loss"] for p in pts]
        measured += ys
        last_step = max([last_step] + steps)
        ax_it.plot(steps, ys, color=c, lw=1.3, label=lab, zorder=2)
        times = [num(p.get("time_s")) for p in pts]
        tpts = [(t, y) for t, y in zip(times, ys) if t is not None]
        if tpts:
            ax_t.plot([t for t, _ in tpts], [y for _, y in tpts], color=c, lw=1.4)
        if classifier and is_classifier(r):
            acc = [(p["step"], p["test_accuracy"]) for p in pts if num(p.get("test_accuracy")) is not None]
            axes[0][2].plot([s for s, _ in acc], [100 * a for _, a in acc], color=c, lw=1.4)
            tr = [(p["step"], p["train_accuracy"]) for p in pts if num(p.get("train_accuracy")) is not None]
            if tr:
                axes[0][2].plot([s for s, _ in tr], [100 * a for _, a in tr], color=c, lw=0.7, alpha=0.6)
    # theory: the predicted relative gap, dashed in the record's colour, up to the last measured step
    theory_drawn = False
    for i, r in enumerate(recs):
        th = r.get("theory_relative_gap")
        if not isinstance(th, list) or not th:
            continue
        opt = optimum_of(r)
        if not scaled and opt is None:
            continue
        ks = [k for k, v in enumerate(th) if k <= max(last_step, 1) and num(v) is not None]
        ys = [th[k] if scaled else opt[0] + th[k] * (opt[1] - opt[0]) for k in ks]
        # wide and pale beneath the measured line: where the two agree it shows as a dashed halo around it
        ax_it.plot(ks, ys, color=colours(i % colours.N), lw=2.6, ls="--", alpha=0.45, zorder=1.5,
                   label="theory (predicted), dashed" if not theory_drawn else None)
        theory_drawn = True
    # targets: the relative-gap target when the gap is drawn, the loss target when the objective is
    targets = sorted({num(r.get("target" if scaled else "target_loss")) for r in recs} - {None})
    for ax in (ax_it, ax_t):
        for t in targets:
            ax.axhline(t, color="0.35", lw=0.9, ls=":", label=None)
    if targets:
        ax_it.plot([], [], color="0.35", lw=0.9, ls=":", label="target " + ", ".join(f"{t:g}" for t in targets))
    positive = [y for y in measured + targets if y > 0]
    # log scale; values at or below zero (f* reached, or passed by rounding) are left out of it
    log = bool(positive) and (scaled or all(y >= 0 for y in measured))
    for ax in (ax_it, ax_t):
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
        if log:
            ax.set_yscale("log")
            lo, hi = min(positive), max(positive)
            ax.set_ylim(lo / 3, hi * 3)  # theory curves may fall far below what was measured: not the scale
    ax_it.set_xlabel("iteration")
    ax_it.set_title("against the iteration")
    ax_t.set_xlabel("time (s)")
    ax_t.set_title("against the time (slowest rank's clock)")
    if classifier:
        axes[0][2].set_xlabel("iteration")
        axes[0][2].set_ylabel("test accuracy (%), train accuracy thin")
        axes[0][2].set_title("classification accuracy")
        axes[0][2].grid(True, alpha=0.3)
    fig.suptitle(f"{title}: {problem}" if title else problem)
    fig.tight_layout()
    handles, labels = ax_it.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=1 if len(labels) > 6 else 2,
               fontsize=8, frameon=False)
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        fig.savefig(os.path.join(out, f"{name}.{ext}"), dpi=110, metadata=meta, bbox_inches="tight")
    plt.close(fig)
    return name


# --- the table -----------------------------------------------------------------------------------------------------

def fmt_seconds(s):
    if s is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(s) >= scale:
            return f"{s / scale:.3f} {unit}" if unit != "s" else f"{s:.3f} s"
    return f"{s * 1e9:.1f} ns" if s else "0 s"


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def phase_median(r, phase):
    p = (r.get("phases") or {}).get(phase)
    return num(p.get("median_s")) if isinstance(p, dict) else None


# (markdown header, csv header, value of a record for CSV, its Markdown text); None is an empty CSV cell and "—"
COLUMNS = [
    ("problem", "problem", problem_of, str),
    ("optimizer", "optimizer", optimizer_short, str),
    ("restart (count)", "restart", lambda r: r.get("restart") or "none", None),
    (None, "restarts", lambda r: r.get("restarts"), None),
    ("ranks", "ranks", lambda r: r.get("ranks"), str),
    ("backend", "backend", lambda r: r.get("backend"), str),
    ("device", "device", lambda r: device_of(r) or None, str),
    ("dtype", "dtype", lambda r: r.get("dtype"), str),
    ("iterations to target (measured / theory)", "iterations_to_target", lambda r: r.get("iterations_to_target"),
     None),
    (None, "theory_iterations_to_target", lambda r: r.get("theory_iterations_to_target"), None),
    ("time to target", "time_to_target_s", lambda r: num(r.get("time_to_target_s")), None),
    ("step median (slowest rank)", "step_median_s", lambda r: num(r.get("median_s")), fmt_seconds),
    ("gradient", "gradient_median_s", lambda r: phase_median(r, "gradient"), fmt_seconds),
    ("comm", "comm_median_s", lambda r: phase_median(r, "comm"), fmt_seconds),
    ("update", "update_median_s", lambda r: phase_median(r, "update"), fmt_seconds),
    ("samples/s", "samples_per_s", lambda r: num(r.get("samples_per_s")), lambda v: f"{v:,.0f}"),
    ("samples/s per rank", "samples_per_s_per_rank", lambda r: num(r.get("samples_per_s_per_rank")),
     lambda v: f"{v:,.0f}"),
    ("final loss", "final_loss", lambda r: num(r.get("final_loss")), lambda v: f"{v:.6g}"),
    ("final test accuracy", "final_test_accuracy", final_test_accuracy, lambda v: f"{100 * v:.2f}%"),
    ("verified", "verified", lambda r: r.get("verified"), lambda v: "yes" if v else "NO"),
]


def target_text(r):
    if num(r.get("target")) is not None:
        return f"gap {r['target']:g}"
    if num(r.get("target_loss")) is not None:
        return f"loss {r['target_loss']:g}"
    return None


def md_cell(r, header, value, text):
    if header == "restart (count)":
        return restart_short(r)
    if header.startswith("iterations to target"):
        theory = r.get("theory_iterations_to_target")
        if value is None:
            value = f"not reached ({r.get('steps_run', '?')} steps)" if target_text(r) else None
        return f"{fmt(value, '')} / {fmt(theory, '')}" if value is not None or theory is not None else "—"
    if header == "time to target":
        return fmt_seconds(value) if value is not None else ("not reached" if target_text(r) else "—")
    if value is None:
        return "—"
    return text(value)


def sort_key(r):
    return (str(problem_of(r)), r.get("ranks") or 0, str(r.get("optimizer")), optimizer_short(r), restart_short(r),
            str(r.get("backend")), device_of(r), str(r.get("dtype")), str(r.get("seed")), r["_file"])


def table(recs, title, files):
    """The Markdown and the CSV text."""
    md_cols = [c for c in COLUMNS if c[0]]
    rows = ["| " + " | ".join(c[0] for c in md_cols) + " |", "|" + "|".join("---" for _ in md_cols) + "|"]
    for r in recs:
        cells = [md_cell(r, h, fn(r), text) for h, _, fn, text in md_cols]
        rows.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    targets = sorted({target_text(r) for r in recs} - {None})
    md = [f"# {title}", "",
          f"{len(recs)} train record(s) from {len(files)} file(s). One row per record, sorted by problem, ranks and "
          "optimizer. Iterations to the target: the first evaluated step at or below the target (measured) and the "
          "step the optimizer's theory predicts (— where it has none). Time to the target: the slowest rank's clock "
          "at that step. Step and phase times: the median of the slowest rank. Targets: "
          + (", ".join(targets) if targets else "none") + ".", ""] + rows + [""]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c[1] for c in COLUMNS])
    for r in recs:
        w.writerow(["" if v is None else v for v in (fn(r) for _, _, fn, _ in COLUMNS)])
    return "\n".join(md), buf.getvalue()


# --- main ----------------------------------------------------------------------------------------------------------

def build(recs, files, title, out):
    """Writes everything into a fresh folder beside --out's files, then moves the files into --out: a failure
    leaves --out as it was."""
    try:
        stage = tempfile.mkdtemp(prefix=".train_report.", dir=out)
    except OSError as e:
        raise InputError(f"--out {out}: cannot write: {e.strerror}")
    try:
        made = []
        problems = {}
        for r in recs:
            problems.setdefault(problem_of(r), []).append(r)
        names = set()
        for problem, group in problems.items():
            name = base = f"convergence_{slug(problem)}"
            for n in range(2, len(problems) + 2):  # problems whose names differ in characters a file name avoids
                if name not in names:
                    break
                name = f"{base}_{n}"
            names.add(name)
            convergence_figure(problem, group, title, stage, name)
            made += [f"{name}.png", f"{name}.svg"]
        md, csv_text = table(recs, title, files)
        for name, text in (("time_to_solution.md", md), ("time_to_solution.csv", csv_text)):
            with open(os.path.join(stage, name), "w", encoding="utf-8") as fh:
                fh.write(text)
            made.append(name)
        for name in made:
            os.replace(os.path.join(stage, name), os.path.join(out, name))
        return [os.path.join(out, m) for m in made]
    except OSError as e:
        raise InputError(f"--out {out}: cannot write: {e.strerror or e}")
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("records", nargs="+", help="record files (.json: one record or a list; .jsonl) or folders")
    ap.add_argument("--out", required=True, help="folder for the figures and tables (created)")
    ap.add_argument("--title", default="nagbench training: time to solution",
                    help="title of the table and the figures")
    args = ap.parse_args(argv)
    try:
        recs = load(args.records)
        if not recs:
            raise InputError("no train records found in " + ", ".join(args.records))
        files = sorted({r["_file"] for r in recs})
        recs.sort(key=sort_key)
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as e:
            raise InputError(f"--out {args.out}: cannot create the folder: {e.strerror}")
        if not os.access(args.out, os.W_OK):
            raise InputError(f"--out {args.out}: not writable")
        for path in build(recs, files, args.title, args.out):
            print(path)
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
