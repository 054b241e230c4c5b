"""Command line of nagbench-report."""
import argparse
import os
import shlex
import sys

from . import InputError

DESCRIPTION = """Tables, figures, a flat CSV, a regression gate and a performance model from nagbench records
(files or folders: JSON documents and JSON Lines; other files are skipped with one warning line each).

  nagbench-report report results/nvidia-h200-x2 --out report/          # report.md, figures/*.png|svg, records.csv
  nagbench-report csv results/ > records.csv                           # one row per record
  nagbench-report compare base/ new/ --threshold 5%                    # status 1 past the threshold
  nagbench-report compare --references inputs/sweeps/references/nvidia-h200-x2.yaml new/
  nagbench-report references results/... --tolerance 5% -o refs.yaml   # reference values from records
  nagbench-report model results/nvidia-h200-x2/2026-11-27-dp-bound/final --out model/
  nagbench-report validate results/                                    # every record against the schema

docs/reports.md says what each computes."""


def load_or_fail(paths, quiet=False):
    from .records import frame, load
    loaded = load(paths)
    if not quiet:
        for w in loaded.warnings:
            print(f"nagbench-report: warning: {w}", file=sys.stderr)
    if not loaded.records and not loaded.yardsticks and not loaded.failures:
        raise InputError(f"no nagbench records in {' '.join(paths)}")
    return loaded, frame(loaded)


def threshold(text):
    t = text.strip()
    try:
        v = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a fraction or percentage: {text}")
    if not 0 <= v < 10:
        raise argparse.ArgumentTypeError(f"out of range: {text}")
    return v


def cmd_report(args):
    from .report import build
    loaded, df = load_or_fail(args.paths)
    command = "nagbench-report " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = build(loaded, df, args.out, command, figures=not args.no_figures)
    print(path)
    return 0


def cmd_csv(args):
    loaded, df = load_or_fail(args.paths)
    if args.output:
        from .report import write_csv
        write_csv(df, args.output)
    else:
        from .records import csv_ready
        csv_ready(df).to_csv(sys.stdout, index=False)
    return 0


def cmd_validate(args):
    from .records import list_files, load
    loaded = load(args.paths)
    bad = [w for w in loaded.warnings if "not a valid nagbench record" in w]
    for w in loaded.warnings:
        print(f"nagbench-report: {'error' if w in bad else 'warning'}: {w}", file=sys.stderr)
    n = len(list_files(args.paths, lambda w: None))
    print(f"{len(loaded.records)} valid records, {len(loaded.failures)} failure lines, "
          f"{len(loaded.yardsticks)} yardsticks in {n} files; {len(bad)} invalid")
    return 1 if bad else 0


def cmd_compare(args):
    from .compare import compare_records, compare_references
    if args.references:
        if len(args.paths) != 1:
            raise InputError("compare --references FILE NEW: give one NEW (file or folder)")
        _, new = load_or_fail(args.paths, quiet=args.quiet)
        return compare_references(args.references, new, args.system, args.require_all)
    if len(args.paths) != 2:
        raise InputError("compare BASE NEW: give two record sets (files or folders), or --references FILE NEW")
    _, base = load_or_fail([args.paths[0]], quiet=args.quiet)
    _, new = load_or_fail([args.paths[1]], quiet=args.quiet)
    return compare_records(base, new, args.threshold, args.faster_too)


def cmd_references(args):
    from .compare import write_references
    _, df = load_or_fail(args.paths)
    write_references(df, args.output, args.tolerance, args.system, args.paths)
    print(args.output)
    return 0


def cmd_model(args):
    from .model import run_model
    _, df = load_or_fail(args.paths)
    if args.same_code:
        # Commits the user vouches run the same step code (say, builds that differ only in an arithmetic the step does
        # not use): their records are one set, so points of one can be held out against a fit on the other.
        same = [c.strip() for c in args.same_code.split(",") if c.strip()]
        label = "+".join(same)
        hit = df["commit"].astype(str).apply(lambda c: any(c.startswith(s) or s.startswith(c) for s in same))
        df.loc[hit, "commit"] = label
    return run_model(df, args.out, args.fit_ranks, args.systems, not args.no_figures)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="nagbench-report", description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True, metavar="{report,csv,compare,references,model,validate}")
    r = sub.add_parser("report", help="Markdown report with PNG and SVG figures, and the flat CSV")
    r.add_argument("paths", nargs="+", help="record files or folders")
    r.add_argument("--out", required=True, help="folder for report.md, figures/ and records.csv (created)")
    r.add_argument("--no-figures", action="store_true", help="tables only")
    c = sub.add_parser("csv", help="one flat CSV: one row per record, configuration and measurements as columns")
    c.add_argument("paths", nargs="+")
    c.add_argument("-o", "--output", help="file (default: standard output)")
    v = sub.add_parser("validate", help="check every record against docs/schema/record.schema.json")
    v.add_argument("paths", nargs="+")
    g = sub.add_parser("compare", help="regression gate: NEW against BASE (or against reference values)",
                       description="Matches points by configuration and device (never by commit or host), prints "
                                   "NEW/BASE time ratios and exits with status 1 when a point is slower than BASE by "
                                   "more than the threshold (or outside its reference's bounds with --references).")
    g.add_argument("paths", nargs="+", metavar="BASE NEW", help="BASE and NEW record sets, or NEW with --references")
    g.add_argument("--threshold", type=threshold, default=0.05, help="allowed slowdown, e.g. 5%% or 0.05 (default 5%%)")
    g.add_argument("--faster-too", action="store_true", help="also fail on speed-ups past the threshold "
                                                             "(a point that got faster may have skipped work)")
    g.add_argument("--references", help="YAML file of reference values with tolerances (nagbench-report references)")
    g.add_argument("--system", help="with --references: the system whose references apply (default: the file's)")
    g.add_argument("--require-all", action="store_true", help="with --references: fail when a reference has no record")
    g.add_argument("-q", "--quiet", action="store_true", help="no warnings about skipped files")
    f = sub.add_parser("references", help="write a references file (value, lower and upper bounds) from records")
    f.add_argument("paths", nargs="+")
    f.add_argument("-o", "--output", required=True)
    f.add_argument("--tolerance", type=threshold, default=0.05, help="allowed slowdown (default 5%%)")
    f.add_argument("--system", required=True, help="name of the system these values hold for")
    m = sub.add_parser("model", help="fit the step-time model on 2-GPU records, hold out the rest, extrapolate",
                       description="docs/reports.md states the model's form and parameters.")
    m.add_argument("paths", nargs="+")
    m.add_argument("--out", required=True, help="folder for model.md, model.json and figures (created)")
    m.add_argument("--fit-ranks", type=int, default=2, help="rank count whose records fit the model (default 2)")
    m.add_argument("--systems", help="YAML of inter-node systems to extrapolate to (default: the shipped one)")
    m.add_argument("--no-figures", action="store_true")
    m.add_argument("--same-code", metavar="C1,C2",
                   help="treat the records of these commits as one set (commits that run the same step code); "
                        "say why where the result is reported")
    args = ap.parse_args(argv)
    handlers = {"report": cmd_report, "csv": cmd_csv, "validate": cmd_validate, "compare": cmd_compare,
                "references": cmd_references, "model": cmd_model}
    try:
        for p in getattr(args, "paths", []):
            if not os.path.exists(p):
                raise InputError(f"no such file or folder: {p}")
        return handlers[args.command](args)
    except InputError as e:
        print(f"nagbench-report: error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"nagbench-report: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
