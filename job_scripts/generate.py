#!/usr/bin/env python3
"""Writes a Slurm or PBS job for a strong-scaling ladder (the first command-line interface of nagbench's job
generator, kept for the commands people already have). It builds a one-experiment sweep from its arguments and
writes the same resumable job as `nagbench-sweep job` (job_scripts/nagbench-sweep, which also does LSF, Flux, Cray
PALS, spec files, the local runner and --submit; prefer it for new work):

    job_scripts/generate.py --scheduler slurm --nodes 2 --gpus-per-node 4 --cpus-per-node 64 \\
        --nagbench $HOME/nagbench/build/cuda/bin/nagbench --out results/mycluster -- \\
        --model vit_l_16,single_2p28 --variant multi_tensor --comm nccl --sharding replicated,sharded \\
        --overlap on,off > sweep.sbatch
    sbatch sweep.sbatch

Rank counts 1, 2, 4, ... up to nodes x gpus-per-node (one rank runs --comm none, the baseline). The list options of
nagbench after `--` (--model, --variant, --dtype, --comm, --sharding, --overlap, --bucket-mb, --comm-priority,
--update-streams)
become axes: one launch per configuration, each tagged, records appended to OUT/records.jsonl, logs in OUT/logs
(created now: Slurm opens the log before the job starts). Other nagbench arguments are passed unchanged.
"""
import argparse
import os
import re
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from nagbench_sweep import SpecError  # noqa: E402
from nagbench_sweep.jobs import merge_system, render  # noqa: E402
from nagbench_sweep.spec import Sweep, validate_with_schema  # noqa: E402

LIST_OPTIONS = {"--model": "model", "-m": "model", "--variant": "variant", "-v": "variant", "--dtype": "dtype",
                "-d": "dtype", "--comm": "comm", "--sharding": "sharding", "--overlap": "overlap",
                "--bucket-mb": "bucket_mb", "--comm-priority": "comm_priority", "--update-streams": "update_streams"}
SCALAR_OPTIONS = {"--params": "params", "--params-per-rank": "params_per_rank", "--backend": "backend", "-b": "backend"}
FLAGS = {"--shard": ("sharding", "sharded"), "--no-overlap": ("overlap", "off"), "--comm-only": ("comm_only", True)}


def experiment_from(nb_args, backend):
    """nagbench's arguments as one experiment: list options become axes, the rest is passed unchanged."""
    e, extra, i = {"backend": backend}, [], 0
    while i < len(nb_args):
        a = nb_args[i]
        opt, eq, inline = a.partition("=")
        if opt in ("-o", "--output", "--tag", "-q", "--quiet"):
            raise SpecError("the job names the output files itself; drop --output from the nagbench arguments")
        if opt in LIST_OPTIONS or opt in SCALAR_OPTIONS:
            value = inline if eq else (nb_args[i + 1] if i + 1 < len(nb_args) else None)
            if value is None:
                raise SpecError(f"{opt} needs a value")
            i += 1 if eq else 2
            if opt in SCALAR_OPTIONS:
                e[SCALAR_OPTIONS[opt]] = value
                continue
            values = [float(v) if opt == "--bucket-mb" else v for v in value.split(",")]
            e[LIST_OPTIONS[opt]] = values
            continue
        if a in FLAGS:
            e[FLAGS[a][0]] = FLAGS[a][1]
        else:
            extra.append(a)
        i += 1
    if extra:
        e["extra_args"] = extra
    if not any(k in e for k in ("model", "params", "params_per_rank", "comm_only")):
        e["model"] = "resnet50"  # nagbench's default
    return e


def main(argv):
    if "--" in argv:
        i = argv.index("--")
        argv, nb_args = argv[:i], argv[i + 1:]
    else:
        nb_args = []
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scheduler", choices=["slurm", "pbs"], required=True)
    ap.add_argument("--nodes", type=int, default=1)
    ap.add_argument("--gpus-per-node", type=int, default=4, help="ranks per node (one per GPU)")
    ap.add_argument("--cpus-per-node", type=int, default=64)
    ap.add_argument("--nagbench", required=True, help="path of the nagbench binary on the cluster")
    ap.add_argument("--backend", default="cuda", choices=["cuda", "openmp"])
    ap.add_argument("--out", required=True, help="folder for records.jsonl, logs/ and the job script")
    ap.add_argument("--time", default="00:30:00")
    ap.add_argument("--name", default="nagbench-sweep")
    ap.add_argument("--account", default="")
    ap.add_argument("--partition", default="")
    args = ap.parse_args(argv)
    if args.nodes < 1 or args.gpus_per_node < 1 or args.cpus_per_node < args.gpus_per_node:
        ap.error("need nodes >= 1, gpus-per-node >= 1 and cpus-per-node >= gpus-per-node")
    try:
        total = args.nodes * args.gpus_per_node
        ranks, r = [], 1
        while r < total:
            ranks.append(r)
            r *= 2
        ranks.append(total)
        exp = experiment_from(nb_args, args.backend)
        if "comm" not in exp and not exp.get("comm_only"):
            exp["comm"] = ["nccl" if args.backend == "cuda" else "mpi"]
        exp.update(name="ladder", scaling="strong", ranks=ranks,
                   threads_per_rank=args.cpus_per_node // args.gpus_per_node)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", args.name)[:48]
        doc = {"name": name, "experiments": [exp]}
        validate_with_schema(doc, "sweep.schema.json", "generate.py arguments")
        sweep = Sweep("generate.py arguments", doc)
        system = merge_system({}, {"scheduler": args.scheduler, "out": args.out, "nagbench": args.nagbench,
                                   "job_name": name, "walltime": args.time, "account": args.account or None,
                                   "partition": args.partition or None,
                                   "gpus_per_node": args.gpus_per_node if args.backend == "cuda" else 0,
                                   "ranks_per_node": args.gpus_per_node, "cores_per_node": args.cpus_per_node})
        text = render(sweep, system, "job_scripts/generate.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    except SpecError as e:
        print(f"generate.py: error: {e}", file=sys.stderr)
        return 2
    os.makedirs(os.path.join(system["out"], "logs"), exist_ok=True)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
