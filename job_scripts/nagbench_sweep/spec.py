"""Sweep specifications: loading, validation (JSON Schema, then the rules a schema cannot say) and expansion into
points, each one nagbench launch of one configuration."""
import hashlib
import itertools
import json
import os
import re

import jsonschema
import yaml

from . import SpecError
from .paths import schema_dir

# Settings that become nagbench options, in the order they appear on the command line and in tags.
# (spec key, nagbench option); options whose value is a flag are handled in nagbench_args().
OPTION_OF = [
    ("backend", "--backend"), ("model", "--model"), ("params", "--params"), ("params_per_rank", "--params-per-rank"),
    ("variant", "--variant"), ("launch", "--launch"), ("dtype", "--dtype"), ("comm", "--comm"),
    ("mpi_path", "--mpi-path"), ("sharding", "--sharding"), ("overlap", "--overlap"), ("bucket_mb", "--bucket-mb"),
    ("comm_priority", "--comm-priority"), ("update_streams", "--update-streams"), ("comm_min", "--comm-min"),
    ("comm_max", "--comm-max"),
    ("comm_iters", "--comm-iters"), ("comm_reps", "--comm-reps"), ("steps", "--steps"), ("warmup", "--warmup"),
    ("verify", "--verify"), ("roof_mib", "--roof-mib"), ("roof_reps", "--roof-reps"), ("evict_mib", "--evict-mib"),
    ("timeout", "--timeout"), ("seed", "--seed"), ("lr", "--lr"), ("momentum", "--momentum"),
    ("dampening", "--dampening"), ("weight_decay", "--weight-decay"),
]
# Settings that may be lists (axes); the others are scalars. ranks is always an axis.
AXIS_KEYS = ["backend", "threads_per_rank", "model", "params", "params_per_rank", "variant", "launch", "dtype",
             "comm", "sharding", "overlap", "bucket_mb", "comm_priority", "update_streams"]
# The runner owns these nagbench options: a point's record goes to the sweep's records.jsonl under the point's tag,
# and jobs show nagbench's progress lines.
RUNNER_OPTIONS = {"-o", "--output", "--tag", "-q", "--quiet"}
TAG_SAFE = re.compile(r"[^A-Za-z0-9_.=-]")


def error_path(path):
    """['experiments', 0, 'variant'] -> 'experiments[0].variant'."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def known_keys(schema, root):
    """The keys a (sub)schema allows, following allOf references into the root's $defs."""
    keys = set(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        ref = sub.get("$ref", "")
        if ref.startswith("#/$defs/"):
            keys.update(known_keys(root["$defs"][ref.split("/")[-1]], root))
    return sorted(keys)


def schema_error_line(err, root):
    """One line naming the key for a jsonschema error; descends into oneOf/anyOf to the most specific cause."""
    while err.context:
        # The branch that got furthest (deepest path) is the one the author meant.
        err = max(err.context, key=lambda e: (len(e.absolute_path), -len(e.message)))
    path = list(err.absolute_path)
    if err.validator in ("additionalProperties", "unevaluatedProperties"):
        m = re.search(r"\('([^']+)'", err.message)
        key = m.group(1) if m else "?"
        known = known_keys(err.schema, root) if isinstance(err.schema, dict) else []
        hint = f" (known keys: {', '.join(known)})" if known else ""
        return f"{error_path(path + [key])}: unknown key{hint}"
    if err.validator == "required":
        m = re.search(r"'([^']+)' is a required property", err.message)
        return f"{error_path(path + [m.group(1) if m else '?'])}: missing (required)"
    return f"{error_path(path)}: {err.message}"


def validate_with_schema(doc, schema_name, where):
    with open(os.path.join(schema_dir(), schema_name)) as fh:
        schema = json.load(fh)
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(doc))
    # A key that fails its own check is also "unevaluated" for unevaluatedProperties: report the real failure.
    errors = [e for e in errors if e.validator != "unevaluatedProperties"] or errors
    if errors:
        errors.sort(key=lambda e: list(map(str, e.absolute_path)))
        raise SpecError(f"{where}: {schema_error_line(jsonschema.exceptions.best_match(errors), schema)}")


def load_yaml(path, what):
    try:
        with open(path) as fh:
            doc = yaml.safe_load(fh)
    except OSError as e:
        raise SpecError(f"{path}: cannot read the {what}: {e.strerror}")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SpecError(f"{path}:{where}: not valid YAML: {getattr(e, 'problem', None) or e}")
    if not isinstance(doc, dict):
        raise SpecError(f"{path}: the {what} must be a YAML mapping")
    return doc


def as_list(v):
    return list(v) if isinstance(v, list) else [v]


def fmt(v):
    """A spec value as nagbench reads it (YAML turns on/off into booleans)."""
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class Point:
    """One launch: geometry, settings (scalars), the nagbench arguments and the tag."""

    def __init__(self, sweep, experiment, ranks, rep, settings, axes, repetitions):
        self.sweep = sweep
        self.experiment = experiment
        self.ranks = ranks
        self.rep = rep
        self.settings = settings
        self.threads = settings.get("threads_per_rank")  # None: decided by where it runs
        self.ranks_per_node = settings.get("ranks_per_node")  # None: decided by where it runs
        self.args = nagbench_args(settings)
        # The tag is readable (experiment, ranks, the values of the experiment's axes) and ends with a hash of
        # everything that makes the run, so editing a setting makes a new point instead of reusing stale records.
        digest = hashlib.sha1(json.dumps([ranks, self.ranks_per_node, self.threads, self.args]).encode()).hexdigest()
        parts = [sweep, experiment, f"n{ranks}"]
        parts += [TAG_SAFE.sub("_", f"{k}={fmt(settings[k])}") for k in axes if k in settings]
        if repetitions > 1:
            parts.append(f"r{rep}")
        self.tag = "/".join(parts) + "/" + digest[:8]

    def geometry(self, ranks_per_node):
        """(nodes, ranks per node) of this point when nodes hold ranks_per_node ranks (None: one node)."""
        per = self.ranks_per_node or ranks_per_node or self.ranks
        if self.ranks <= per:
            return 1, self.ranks
        return self.ranks // per, per

    def describe(self):
        threads = f"{self.threads} thread(s)" if self.threads else "threads from the system"
        return f"{self.tag}: {self.ranks} rank(s), {threads}: nagbench {' '.join(self.args)}"


def nagbench_args(s):
    args = []
    for key, opt in OPTION_OF:
        if key in s:
            args += [opt, fmt(s[key])]
    if s.get("comm_sizes"):
        args += ["--comm-sizes", ",".join(fmt(x) for x in s["comm_sizes"])]
    if s.get("comm_only"):
        args.append("--comm-only")
    if "nesterov" in s:
        args.append("--nesterov" if s["nesterov"] else "--no-nesterov")
    if s.get("maximize"):
        args.append("--maximize")
    if s.get("allow_gpu_sharing"):
        args.append("--allow-gpu-sharing")
    return args + list(s.get("extra_args", []))


class Sweep:
    def __init__(self, path, doc):
        self.path = path
        self.doc = doc
        self.name = doc["name"]
        self.description = doc.get("description", "")
        self.points = expand(doc, path)

    def backends(self):
        return sorted({p.settings.get("backend", "openmp") for p in self.points})

    def max_ranks(self):
        return max(p.ranks for p in self.points)


def load(path):
    doc = load_yaml(path, "sweep spec")
    validate_with_schema(doc, "sweep.schema.json", path)
    return Sweep(path, doc)


def check_experiment(e, where):
    """The rules the schema cannot state; one line naming the key."""
    problem = [k for k in ("model", "params", "params_per_rank") if k in e]
    if e.get("comm_only"):
        if problem:
            raise SpecError(f"{where}.{problem[0]}: an allreduce sweep (comm_only) has no model")
        if min(e["ranks"]) < 2:
            raise SpecError(f"{where}.ranks: an allreduce sweep (comm_only) needs at least 2 ranks")
        if "none" in as_list(e.get("comm", "mpi")):
            raise SpecError(f"{where}.comm: an allreduce sweep (comm_only) needs mpi or nccl")
    else:
        if len(problem) != 1:
            raise SpecError(f"{where}: give exactly one of model, params, params_per_rank "
                            f"({'none' if not problem else ', '.join(problem)} given)")
        if e.get("scaling") == "strong" and "params_per_rank" in e:
            raise SpecError(f"{where}.params_per_rank: strong scaling fixes the global problem (use model or params)")
        if e.get("scaling") == "weak" and "params" in e:
            raise SpecError(f"{where}.params: weak scaling fixes the per-rank problem (use params_per_rank or model)")
        if max(e["ranks"]) > 1 and as_list(e.get("comm", "none")) == ["none"]:
            raise SpecError(f"{where}.comm: more than one rank needs comm mpi or nccl")
    if "nccl" in as_list(e.get("comm", [])) and "cuda" not in as_list(e.get("backend", "openmp")):
        raise SpecError(f"{where}.comm: nccl needs backend cuda")
    if "graph" in as_list(e.get("launch", [])):
        if as_list(e.get("backend", "openmp")) != ["cuda"]:
            raise SpecError(f"{where}.launch: graph needs backend cuda (CUDA graphs)")
        # The update benchmark, or a data-parallel step's reductions and updates (comm none, nccl or p2p).
        if e.get("comm_only"):
            raise SpecError(f"{where}.launch: graph replays update and data-parallel steps, not allreduce sweeps")
        if "mpi" in as_list(e.get("comm", [])):
            raise SpecError(f"{where}.launch: graph cannot replay comm mpi (MPI calls run on the host; use nccl or "
                            "p2p)")
        if any(v in ("off", False) for v in as_list(e.get("overlap", []))):
            raise SpecError(f"{where}.launch: graph replays data-parallel steps with overlap on only")
        if "unfused" in as_list(e.get("variant", [])):
            raise SpecError(f"{where}.launch: graph cannot capture variant unfused (Kokkos Kernels' own instance)")
    if "comm_sizes" in e and ("comm_min" in e or "comm_max" in e):
        raise SpecError(f"{where}.comm_sizes: give comm_sizes or comm_min/comm_max, not both")
    for a in e.get("extra_args", []):
        if a.split("=")[0] in RUNNER_OPTIONS:
            raise SpecError(f"{where}.extra_args: {a} is set by the runner (records go to records.jsonl, tagged)")
    per = e.get("ranks_per_node")
    if per:
        for n in e["ranks"]:
            if n > per and n % per:
                raise SpecError(f"{where}.ranks: {n} ranks do not fill nodes of ranks_per_node {per}")


def expand(doc, path):
    points, seen = [], set()
    defaults = doc.get("defaults", {})
    for i, exp in enumerate(doc["experiments"]):
        e = dict(defaults)
        e.update(exp)
        where = f"{path}: experiments[{i}]"
        check_experiment(e, where)
        reps = e.get("repetitions", doc.get("repetitions", 1))
        axes = [k for k in AXIS_KEYS if isinstance(e.get(k), list) and len(e[k]) > 1]
        fixed = {k: v for k, v in e.items() if k not in AXIS_KEYS + ["name", "description", "ranks", "repetitions"]}
        fixed.update({k: e[k] for k in AXIS_KEYS if k in e and not isinstance(e[k], list)})
        fixed.update({k: e[k][0] for k in AXIS_KEYS if isinstance(e.get(k), list) and len(e[k]) == 1})
        for ranks in e["ranks"]:
            for combo in itertools.product(*(e[k] for k in axes)):
                settings = dict(fixed)
                settings.update(zip(axes, combo))
                if ranks == 1 and "comm" in e and not e.get("comm_only"):
                    # A data-parallel experiment runs one rank with --comm none: the baseline of every scaling
                    # figure (duplicates collapse). Without comm, one rank is the update benchmark alone.
                    settings["comm"] = "none"
                    settings.pop("mpi_path", None)
                for rep in range(1, reps + 1):
                    p = Point(doc["name"], exp["name"], ranks, rep, settings, axes, reps)
                    if p.tag not in seen:
                        seen.add(p.tag)
                        points.append(p)
    names = [e["name"] for e in doc["experiments"]]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SpecError(f"{path}: experiments: the name {sorted(dup)[0]} is used twice")
    return points
