#!/usr/bin/env python3
"""Writes a batch job that runs a nagbench scaling sweep on a cluster: one allocation of the largest size, one
launch per rank count inside it (each launch runs its whole list of configurations), JSON records per rank count.

    job_scripts/generate.py --scheduler slurm --nodes 2 --gpus-per-node 4 --cpus-per-node 64 \\
        --nagbench $HOME/nagbench/build/cuda/bin/nagbench --out results/mycluster -- \\
        --model vit_l_16,single_2p28 --variant multi_tensor --comm nccl --sharding replicated,sharded \\
        --overlap on,off > sweep.sbatch
    sbatch sweep.sbatch

Ranks are bound to their own cores (PE = cores per rank) and OpenMP threads stay inside them; NCCL_NVLS_ENABLE=0
is exported to every rank. Arguments after `--` go to nagbench unchanged. Strong scaling: the rank counts
1, 2, 4, ... up to nodes x gpus-per-node on the same model; weak scaling: pass --params-per-rank to nagbench.
"""
import argparse
import shlex
import sys

SLURM = """#!/bin/bash
#SBATCH --job-name={name}
#SBATCH --nodes={nodes}
#SBATCH --ntasks-per-node={gpn}
#SBATCH --cpus-per-task={cpt}
#SBATCH --time={time}
{gpu_line}{extra}#SBATCH --output={out}/%x-%j.log
set -euo pipefail
export NCCL_NVLS_ENABLE=0 OMP_NUM_THREADS={cpt} OMP_PROC_BIND=spread OMP_PLACES=cores
mkdir -p {out}
for ranks in {ranks}; do
  nodes=$(( (ranks + {gpn} - 1) / {gpn} ))
  per_node=$(( ranks < {gpn} ? ranks : {gpn} ))
  echo "=== $ranks ranks on $nodes node(s)"
  srun --nodes=$nodes --ntasks=$ranks --ntasks-per-node=$per_node --cpus-per-task={cpt} --cpu-bind=cores \\
    {nagbench} --backend {backend} -q --output {out}/sweep-${{ranks}}ranks-$SLURM_JOB_ID.json {args}
done
"""

PBS = """#!/bin/bash
#PBS -N {name}
#PBS -l select={nodes}:ncpus={cpn}:mpiprocs={gpn}:ompthreads={cpt}{pbs_gpus}
#PBS -l walltime={time}
{extra}#PBS -j oe
set -euo pipefail
cd "${{PBS_O_WORKDIR:-.}}"
export NCCL_NVLS_ENABLE=0 OMP_NUM_THREADS={cpt} OMP_PROC_BIND=spread OMP_PLACES=cores
mkdir -p {out}
for ranks in {ranks}; do
  per_node=$(( ranks < {gpn} ? ranks : {gpn} ))
  echo "=== $ranks ranks"
  mpirun -np $ranks --map-by ppr:$per_node:node:PE={cpt} --bind-to core -x NCCL_NVLS_ENABLE -x OMP_NUM_THREADS \\
    -x OMP_PROC_BIND -x OMP_PLACES \\
    {nagbench} --backend {backend} -q --output {out}/sweep-${{ranks}}ranks-${{PBS_JOBID:-local}}.json {args}
done
"""


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
    ap.add_argument("--out", required=True, help="folder for the JSON records and the job log")
    ap.add_argument("--time", default="00:30:00")
    ap.add_argument("--name", default="nagbench-sweep")
    ap.add_argument("--account", default="")
    ap.add_argument("--partition", default="")
    args = ap.parse_args(argv)
    if args.nodes < 1 or args.gpus_per_node < 1 or args.cpus_per_node < args.gpus_per_node:
        ap.error("need nodes >= 1, gpus-per-node >= 1 and cpus-per-node >= gpus-per-node")
    if "--output" in nb_args or "-o" in nb_args:
        ap.error("the job names the output files itself; drop --output from the nagbench arguments")
    total = args.nodes * args.gpus_per_node
    ranks, r = [], 1
    while r < total:
        ranks.append(r)
        r *= 2
    ranks.append(total)
    cpt = args.cpus_per_node // args.gpus_per_node
    extra = ""
    if args.scheduler == "slurm":
        extra += f"#SBATCH --account={args.account}\n" if args.account else ""
        extra += f"#SBATCH --partition={args.partition}\n" if args.partition else ""
    else:
        extra += f"#PBS -A {args.account}\n" if args.account else ""
        extra += f"#PBS -q {args.partition}\n" if args.partition else ""
    fields = dict(name=args.name, nodes=args.nodes, gpn=args.gpus_per_node, cpt=cpt, cpn=args.cpus_per_node,
                  time=args.time, out=shlex.quote(args.out), nagbench=shlex.quote(args.nagbench),
                  backend=args.backend, ranks=" ".join(map(str, ranks)),
                  args=" ".join(shlex.quote(a) for a in nb_args), extra=extra,
                  gpu_line=f"#SBATCH --gpus-per-node={args.gpus_per_node}\n" if args.backend == "cuda" else "",
                  pbs_gpus=f":ngpus={args.gpus_per_node}" if args.backend == "cuda" else "")
    sys.stdout.write((SLURM if args.scheduler == "slurm" else PBS).format(**fields))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
