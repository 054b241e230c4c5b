"""Command line of nagbench-sweep."""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

from . import SpecError
from .jobs import LAUNCHERS, SCHEDULERS, SUBMIT, job_path, load_system, merge_system, render
from .spec import load

DESCRIPTION = """Runs nagbench sweeps from a spec (inputs/sweeps/*.yaml), here with mpirun or as a batch job for Slurm,
PBS, LSF or Flux. Every point is one nagbench launch of one configuration, tagged; records go to OUT/records.jsonl
as each point finishes, logs to OUT/logs/. Run or submit the same sweep again to resume: points with a verified
record are skipped, failed points run again.

  nagbench-sweep check inputs/sweeps/cpu-ci.yaml                      # validate, list the points
  nagbench-sweep run inputs/sweeps/cpu-ci.yaml --out out/sweep --nagbench build/openmp/bin/nagbench
  nagbench-sweep job inputs/sweeps/gpu-scaling.yaml --scheduler slurm --gpus-per-node 4 --cores-per-node 64 \\
      --account abc123 --partition gpu --walltime 01:00:00 --module cuda/12.4 \\
      --nagbench $HOME/nagbench/build/cuda/bin/nagbench --out $SCRATCH/sweep --submit

Then: nagbench-report report OUT --out OUT/report (docs/reports.md)."""


def site_flags(ap):
    g = ap.add_argument_group("where it runs (each also a key of --system FILE; flags win)")
    g.add_argument("--system", metavar="FILE", help="YAML system file (docs/schema/system.schema.json)")
    g.add_argument("--out", help="folder of records.jsonl, logs/ and the job script (created)")
    g.add_argument("--nagbench", help="the nagbench binary where the sweep runs (default: $NAGBENCH_BIN, else "
                                      "nagbench on PATH)")
    g.add_argument("--launcher", choices=sorted({x for v in LAUNCHERS.values() for x in v}),
                   help="slurm: srun; pbs: mpirun or pals (Cray mpiexec); lsf: jsrun or mpirun; flux: flux")
    g.add_argument("--job-name")
    g.add_argument("--account", help="account / project / bank")
    g.add_argument("--partition", "--queue", dest="partition", help="Slurm partition, PBS/LSF/Flux queue")
    g.add_argument("--walltime", "--time", dest="walltime", help="HH:MM:SS or minutes (default 01:00:00)")
    g.add_argument("--gpus-per-node", type=int)
    g.add_argument("--cores-per-node", type=int, help="threads per rank default to cores / ranks per node")
    g.add_argument("--ranks-per-node", type=int, help="default: GPUs per node")
    g.add_argument("--exclusive", action="store_true", default=None, help="whole nodes")
    g.add_argument("--bind", choices=["cores", "none"], help="bind ranks to their own cores (default) or not")
    g.add_argument("--mpirun", help="mpirun command with its own options, e.g. 'mpirun --oversubscribe'")
    g.add_argument("--module", dest="modules", action="append", help="module to load (repeat)")
    g.add_argument("--env", action="append", metavar="KEY=VALUE", help="exported and passed to every rank (repeat)")
    g.add_argument("--setup", action="append", metavar="LINE", help="shell line run first, verbatim (repeat)")
    g.add_argument("--directive", dest="directives", action="append", metavar="LINE",
                   help="extra scheduler header line, verbatim, e.g. '#SBATCH --constraint=gpu' (repeat)")


def system_from(args, scheduler):
    flags = {k: getattr(args, k, None) for k in ("out", "nagbench", "launcher", "job_name", "account", "partition",
                                                  "walltime", "gpus_per_node", "cores_per_node", "ranks_per_node",
                                                  "exclusive", "bind", "modules", "setup", "directives")}
    flags["scheduler"] = scheduler
    if args.mpirun:
        flags["mpirun"] = shlex.split(args.mpirun)
    if args.env:
        env = {}
        for kv in args.env:
            key, sep, value = kv.partition("=")
            if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise SpecError(f"--env {kv}: expected KEY=VALUE")
            env[key] = value
        flags["env"] = env
    file_settings = load_system(args.system) if args.system else {}
    if scheduler is None:
        flags["scheduler"] = file_settings.get("scheduler")
    if scheduler == "local" and flags["nagbench"] is None and "nagbench" not in file_settings \
            and os.environ.get("NAGBENCH_BIN"):
        flags["nagbench"] = os.environ["NAGBENCH_BIN"]
    if file_settings.get("env") and flags.get("env"):
        flags["env"] = dict(file_settings["env"], **flags["env"])
    return merge_system(file_settings, flags)


def preflight(sweep, binary):
    """Input errors found before anything runs: the backends, models and variants the binary knows."""
    exe = shutil.which(binary)
    if not exe:
        raise SpecError(f"--nagbench: no nagbench binary at {binary}")
    try:
        helptext = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60).stdout
        models = subprocess.run([exe, "--list-models"], capture_output=True, text=True, timeout=60).stdout
        variants = subprocess.run([exe, "--list-variants"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SpecError(f"--nagbench: {binary} does not answer --help: {e}")
    m = re.search(r"Execution space: ([a-z|]+)", helptext)
    backends = set(m.group(1).split("|")) if m else None
    known_models = {line.split(":")[0] for line in models.splitlines() if ":" in line}
    known_variants = {line.split(":")[0] for line in variants.splitlines() if re.match(r"^[a-z_]+:", line)}
    for p in sweep.points:
        b = p.settings.get("backend", "openmp")
        if backends is not None and b not in backends:
            raise SpecError(f"{sweep.path}: experiment {p.experiment}: backend {b} is not compiled into {binary} "
                            f"(it has: {', '.join(sorted(backends))})")
        model = p.settings.get("model")
        if model and model not in known_models and not model.endswith((".yaml", ".yml")):
            raise SpecError(f"{sweep.path}: experiment {p.experiment}: model {model} is not shipped with {binary} "
                            f"(shipped: {', '.join(sorted(known_models))}; or give a .yaml path)")
        v = p.settings.get("variant")
        if v and known_variants and v not in known_variants:
            raise SpecError(f"{sweep.path}: experiment {p.experiment}: variant {v} is not in {binary} "
                            f"(it has: {', '.join(sorted(known_variants))})")


def cmd_check(args):
    sweep = load(args.spec)
    if args.nagbench:
        preflight(sweep, args.nagbench)
    for p in sweep.points:
        print(p.describe())
    print(f"{args.spec}: valid, {len(sweep.points)} points", file=sys.stderr)
    return 0


def generator_command(argv):
    return "nagbench-sweep " + " ".join(shlex.quote(a) for a in argv)


def cmd_run(args, argv):
    sweep = load(args.spec)
    system = system_from(args, "local")
    preflight(sweep, system["nagbench"])
    text = render(sweep, system, generator_command(argv))
    if args.dry_run:
        sys.stdout.write(text)
        return 0
    path = write_job(text, job_path(system), system)
    sys.stdout.flush()
    return subprocess.run(["bash", path]).returncode


def write_job(text, path, system):
    os.makedirs(os.path.join(system["out"], "logs"), exist_ok=True)  # Slurm opens --output before the job starts
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.sh"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path


def cmd_job(args, argv):
    sweep = load(args.spec)
    system = system_from(args, args.scheduler)
    if system["scheduler"] == "local":
        raise SpecError("--scheduler: local runs go through 'nagbench-sweep run'")
    if os.path.sep in system["nagbench"] and os.path.exists(system["nagbench"]):
        preflight(sweep, system["nagbench"])  # the cluster's binary is not always readable from here
    text = render(sweep, system, generator_command(argv))
    if args.dry_run:
        sys.stdout.write(text)
        return 0
    path = write_job(text, args.output or job_path(system), system)
    submit = SUBMIT[system["scheduler"]] + ([] if system["scheduler"] == "lsf" else [path])
    shown = " ".join(submit) + (f" < {path}" if system["scheduler"] == "lsf" else "")
    if not args.submit:
        print(f"wrote {path} ({len(sweep.points)} points); submit with: {shown}")
        return 0
    print(f"wrote {path} ({len(sweep.points)} points); {shown}", flush=True)
    try:
        if system["scheduler"] == "lsf":  # bsub reads the #BSUB lines from its standard input
            with open(path) as fh:
                return subprocess.run(submit, stdin=fh).returncode
        return subprocess.run(submit).returncode
    except FileNotFoundError:
        raise SpecError(f"--submit: {submit[0]} not found (is this a {system['scheduler']} login node?)")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="nagbench-sweep", description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True, metavar="{check,run,job}")
    c = sub.add_parser("check", help="validate a spec and list its points (tags and nagbench arguments)",
                       description="Validates a sweep spec (schema and rules) and lists its points; with --nagbench "
                                   "also checks backends, models and variants against that binary.")
    c.add_argument("spec")
    c.add_argument("--nagbench", help="check the points against this binary")
    r = sub.add_parser("run", help="run a sweep on this machine with mpirun (resumable)",
                       description="Writes OUT/job-local.sh (the same script logic as the batch jobs) and runs it: "
                                   "mpirun per point, progress and ETA on stderr.")
    r.add_argument("spec")
    r.add_argument("--dry-run", action="store_true", help="print the script, run nothing")
    site_flags(r)
    j = sub.add_parser("job", help="write (and submit) a batch job for slurm, pbs, lsf or flux",
                       description="Writes a batch job that runs the sweep in one allocation of the largest point, "
                                   "and creates OUT/logs (schedulers open the log before the job starts).")
    j.add_argument("spec")
    j.add_argument("--scheduler", choices=[s for s in SCHEDULERS if s != "local"],
                   help="(or scheduler: in --system FILE)")
    j.add_argument("-o", "--output", help="job script path (default OUT/job-SCHEDULER.sh)")
    mode = j.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the job script, write nothing")
    mode.add_argument("--submit", action="store_true", help="write it and submit it (sbatch, qsub, bsub, flux batch)")
    site_flags(j)
    args = ap.parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "run":
            return cmd_run(args, argv)
        return cmd_job(args, argv)
    except SpecError as e:
        print(f"nagbench-sweep: error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"nagbench-sweep: error: {e}", file=sys.stderr)
        return 2
