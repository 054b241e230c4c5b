"""Where a sweep runs (the system: scheduler, launcher, account, node shape, environment) and the job script that
runs it, from Jinja2 templates (job_scripts/templates/<scheduler>.sh.j2, which extend body.sh.j2)."""
import os
import re
import shlex

import jinja2

from . import SpecError
from .paths import template_dir
from .spec import load_yaml, validate_with_schema

SCHEDULERS = ["slurm", "pbs", "lsf", "flux", "local"]
LAUNCHERS = {"slurm": ["srun"], "pbs": ["mpirun", "pals"], "lsf": ["jsrun", "mpirun"], "flux": ["flux"],
             "local": ["mpirun"]}
SUBMIT = {"slurm": ["sbatch"], "pbs": ["qsub"], "lsf": ["bsub"], "flux": ["flux", "batch"], "local": ["bash"]}
DEFAULTS = {"nagbench": "nagbench", "walltime": "01:00:00", "bind": "cores", "mpirun": ["mpirun"], "modules": [],
            "env": {}, "setup": [], "directives": [], "exclusive": False}


def load_system(path):
    doc = load_yaml(path, "system file")
    validate_with_schema(doc, "system.schema.json", path)
    return doc


def merge_system(file_settings, flags):
    """File settings, then flags that were given (not None), then defaults."""
    s = dict(DEFAULTS)
    s.update(file_settings or {})
    s.update({k: v for k, v in flags.items() if v is not None})
    validate_with_schema({k: v for k, v in s.items() if k in SCHEMA_KEYS}, "system.schema.json", "system")
    if not s.get("scheduler"):
        raise SpecError("system: scheduler: missing (--scheduler or scheduler: in the system file)")
    s.setdefault("launcher", LAUNCHERS[s["scheduler"]][0])
    if s["launcher"] not in LAUNCHERS[s["scheduler"]]:
        raise SpecError(f"system: launcher: {s['launcher']} does not run under {s['scheduler']} "
                        f"(choose {' or '.join(LAUNCHERS[s['scheduler']])})")
    if not s.get("out"):
        raise SpecError("system: out: missing (--out DIR: the folder of records.jsonl and logs/)")
    s["out"] = os.path.abspath(s["out"])
    if re.search(r"\s", s["out"]):
        raise SpecError(f"system: out: {s['out']} has white space (scheduler directives cannot hold it)")
    return s


SCHEMA_KEYS = {"name", "description", "scheduler", "launcher", "nagbench", "out", "job_name", "account", "partition",
               "walltime", "gpus_per_node", "cores_per_node", "ranks_per_node", "exclusive", "bind", "mpirun",
               "modules", "env", "setup", "directives"}


def walltime_seconds(text):
    parts = [int(x) for x in str(text).split(":")]
    if len(parts) == 1:
        return parts[0] * 60  # minutes
    secs = 0
    for x in parts:
        secs = secs * 60 + x
    return secs


def walltimes(text):
    """The walltime as each scheduler writes it."""
    s = walltime_seconds(text)
    if s <= 0:
        raise SpecError(f"system: walltime: {text} is not a positive duration")
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    minutes = -(-s // 60)
    return {"slurm": f"{h:02d}:{m:02d}:{sec:02d}", "pbs": f"{h:02d}:{m:02d}:{sec:02d}",
            "lsf": f"{minutes // 60:02d}:{minutes % 60:02d}", "flux": f"{minutes}m"}


def shell_quote(v):
    return shlex.quote(str(v))


def environment():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir()), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             autoescape=False)
    env.filters["q"] = shell_quote
    return env


def plan_launches(sweep, system):
    """Per point: (point, nodes, ranks per node, threads); and the allocation that holds the largest point."""
    gpus = system.get("gpus_per_node")
    uses_gpus = "cuda" in sweep.backends()
    if uses_gpus and not gpus and system["scheduler"] != "local":
        raise SpecError("system: gpus_per_node: missing, and the sweep runs backend cuda (--gpus-per-node N)")
    per_node = system.get("ranks_per_node") or (gpus if gpus else None)
    cores = system.get("cores_per_node")
    launches = []
    for p in sweep.points:
        nodes, ppn = p.geometry(per_node)
        if system["scheduler"] == "local" and nodes > 1:
            raise SpecError(f"{sweep.path}: {p.tag}: {p.ranks} ranks need {nodes} nodes; a local run uses one")
        if p.ranks > ppn and p.ranks % ppn:
            raise SpecError(f"{sweep.path}: experiment {p.experiment}: {p.ranks} ranks do not fill nodes of "
                            f"{ppn} ranks (ranks_per_node)")
        if uses_gpus and gpus and ppn > gpus and not p.settings.get("allow_gpu_sharing"):
            raise SpecError(f"{sweep.path}: experiment {p.experiment}: {ppn} ranks per node but {gpus} GPUs per node")
        # Threads per rank, unless the spec says: a GPU's share of the node's cores for a CUDA rank (the same at
        # every rank count), the node's cores split among the ranks for a host backend.
        if p.threads:
            threads = p.threads
        elif cores and p.settings.get("backend") == "cuda" and gpus:
            threads = max(1, cores // gpus)
        elif cores:
            threads = max(1, cores // ppn)
        else:
            threads = 1
        if cores and ppn * threads > cores:
            raise SpecError(f"{sweep.path}: experiment {p.experiment}: {ppn} ranks x {threads} threads exceed "
                            f"cores_per_node {cores}")
        launches.append({"point": p, "nodes": nodes, "per_node": ppn, "threads": threads})
    nodes = max(x["nodes"] for x in launches)
    tasks_per_node = max(x["per_node"] for x in launches)
    # The allocation asks for whole nodes' cores split among the most ranks any point puts on a node; each launch
    # then lays out its own ranks and threads inside it (a one-rank OpenMP point takes every core).
    alloc_threads = cores // tasks_per_node if cores else max(x["threads"] for x in launches)
    return launches, {"nodes": nodes, "tasks_per_node": tasks_per_node, "max_threads": alloc_threads,
                      "cores_per_node": cores or tasks_per_node * alloc_threads,
                      "gpus_per_node": gpus if uses_gpus else 0}


def render(sweep, system, generator_command):
    launches, alloc = plan_launches(sweep, system)
    out = system["out"]
    job_name = system.get("job_name") or f"nagbench-{sweep.name}"
    context = dict(alloc, sweep=sweep, launches=launches, scheduler=system["scheduler"],
                   launcher=system["launcher"], nagbench=system["nagbench"], out=out, logs=os.path.join(out, "logs"),
                   job_name=job_name, account=system.get("account"), partition=system.get("partition"),
                   walltime=walltimes(system["walltime"]), exclusive=system.get("exclusive"),
                   modules=system["modules"], setup=system["setup"], directives=system["directives"],
                   env=sorted((k, str(v)) for k, v in system["env"].items()), bind=system["bind"],
                   mpirun=system["mpirun"], spec_path=os.path.relpath(sweep.path) if not os.path.isabs(sweep.path)
                   else sweep.path, generator_command=generator_command)
    return environment().get_template(f"{system['scheduler']}.sh.j2").render(**context)


def job_path(system):
    return os.path.join(system["out"], f"job-{system['scheduler']}.sh")
