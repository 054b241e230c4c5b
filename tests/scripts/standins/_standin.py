"""Shared by the scheduler and launcher stand-ins: they check the options a generated job passes, log each call
(one JSON line in $NAGBENCH_STANDIN_LOG) and run the job or its ranks on this machine, the ranks with the real
mpirun ($NAGBENCH_REAL_MPIRUN), so that a generated job's shell logic runs for real on CI."""
import json
import os
import re
import shlex
import subprocess
import sys


def fail(tool, message):
    print(f"{tool} (stand-in): error: {message}", file=sys.stderr)
    sys.exit(97)


def log(tool, **fields):
    path = os.environ.get("NAGBENCH_STANDIN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(dict(tool=tool, **fields)) + "\n")


def run_ranks(tool, np, env_updates, command, nodes=1, per_node=None, threads=None):
    """The ranks of one launch, on this machine (every 'node' is this one)."""
    if np < 1 or not command:
        fail(tool, f"nothing to run (ranks {np}, command {command})")
    if per_node is not None and np > nodes * per_node:
        fail(tool, f"{np} ranks do not fit {nodes} node(s) x {per_node}")
    if nodes > 1 and per_node is not None and np != nodes * per_node:
        fail(tool, f"{np} ranks on {nodes} nodes of {per_node}: nodes not filled")
    # The real launcher would hand its ranks its own process-management interface; mpirun must not mistake the
    # stand-in's job variables for a real allocation (Open MPI's Flux support segfaults on FLUX_JOB_ID).
    env = {k: v for k, v in os.environ.items() if k not in ("SLURM_JOB_ID", "FLUX_JOB_ID", "LSB_JOBID")}
    env.update(env_updates)
    if threads is not None and env.get("OMP_NUM_THREADS") != str(threads):
        fail(tool, f"OMP_NUM_THREADS is {env.get('OMP_NUM_THREADS')!r}, the launch asks {threads} cores per rank")
    if env.get("NCCL_NVLS_ENABLE") != "0":
        fail(tool, "NCCL_NVLS_ENABLE=0 is not passed to the ranks")
    log(tool, ranks=np, nodes=nodes, per_node=per_node, threads=threads, command=command)
    mpirun = shlex.split(os.environ.get("NAGBENCH_REAL_MPIRUN", "mpirun"))
    forwarded = [x for k in sorted(env_updates) for x in ("-x", k)]
    sys.stdout.flush()
    return subprocess.run(mpirun + ["-np", str(np), "--bind-to", "none", "-x", "OMP_NUM_THREADS", "-x",
                                    "NCCL_NVLS_ENABLE"] + forwarded + command, env=env).returncode


def run_job(tool, script_text, script_path, directive, output_option, job_env, name_default):
    """A batch job: its header's log file must be in a folder that exists (the scheduler opens it before the job
    starts); the job runs to its end before the stand-in returns, so the test can look at its records."""
    options = []
    for line in script_text.splitlines()[1:]:
        if line.startswith(directive):
            options += shlex.split(line[len(directive):])
        elif line and not line.startswith("#"):
            break
    output = None
    for i, o in enumerate(options):
        if o.startswith(output_option + "="):
            output = o.split("=", 1)[1]
        elif o == output_option and i + 1 < len(options):
            output = options[i + 1]
    if not output:
        fail(tool, f"the job names no log file ({directive} {output_option})")
    job_id = "4242"
    output = re.sub(r"%x", name_default, output)
    output = output.replace("%j", job_id).replace("%J", job_id).replace("{{id}}", job_id)
    if not os.path.isdir(os.path.dirname(output)):
        fail(tool, f"the log folder {os.path.dirname(output)} does not exist when the job starts")
    env = dict(os.environ, **job_env(job_id))
    with open(output, "w") as fh:
        status = subprocess.run(["bash", script_path], stdout=fh, stderr=subprocess.STDOUT, env=env).returncode
    log(tool, job_status=status, log=output, options=options)
    print(f"Submitted job {job_id}")
    return 0
