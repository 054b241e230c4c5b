"""Shared by the tests of the Python tools: paths, running a tool as a user would, the MPI environment."""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SWEEP = os.path.join(REPO, "job_scripts", "nagbench-sweep")
REPORT = os.path.join(REPO, "scripts", "report", "nagbench-report")
RESULTS = os.path.join(REPO, "results")
STANDINS = os.path.join(HERE, "standins")


def run(tool, *args, env=None, cwd=REPO, timeout=300, stdin=None):
    """A tool run with this test's Python, as a user runs it; returns the CompletedProcess."""
    return subprocess.run([sys.executable, tool, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, stdin=stdin)


def one_line_error(res, *words):
    """Input errors: status 2, exactly one line on stderr, naming what is wrong; never a traceback."""
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def nagbench_bin():
    """The binary under test: $NAGBENCH_BIN, which tests/scripts/CMakeLists.txt sets to the build's nagbench."""
    b = os.environ.get("NAGBENCH_BIN")
    if not b:
        import pytest
        pytest.skip("NAGBENCH_BIN is not set (CTest sets it to the nagbench of the build)")
    return b


def mpi_env(**extra):
    """The environment of a sweep run here: mpirun allowed as root and oversubscribed (CTest's NAGBENCH_TEST_ENV
    sets these too), one OpenMP thread per rank, and the real launcher for the stand-ins."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", KOKKOS_DISABLE_WARNINGS="1", OMP_NUM_THREADS="1")
    mpirun = os.environ.get("NAGBENCH_MPIRUN") or "mpirun"
    env["NAGBENCH_REAL_MPIRUN"] = shutil.which(mpirun) or mpirun
    env.update(extra)
    return env


def census(root):
    """An independent count of what results/ holds, so that the expectations follow the committed files: the
    files that hold no nagbench record (each deserves one warning line), and the records and table rows by kind."""
    not_records, kinds = [], {}
    for d, dirs, files in os.walk(root):
        for f in files:
            if not f.endswith((".json", ".jsonl")):
                continue
            path = os.path.join(d, f)
            try:
                with open(path) as fh:
                    docs = [json.loads(x) for x in fh if x.strip()] if f.endswith(".jsonl") else json.load(fh)
            except ValueError:
                not_records.append(path)
                continue
            docs = docs if isinstance(docs, list) else [docs]
            yardsticks = ("torch_ddp_mlp", "torch_dp_step", "gemm_probe", "launch_probe")
            if not any(isinstance(r, dict) and "benchmark" in r and r["benchmark"] not in yardsticks for r in docs):
                not_records.append(path)
                continue
            for r in docs:
                kinds.setdefault(r["benchmark"], [0, 0])
                kinds[r["benchmark"]][0] += 1
                kinds[r["benchmark"]][1] += len(r.get("rows", [])) if r["benchmark"] in ("allreduce",
                                                                                        "torch_allreduce") else 1
    return not_records, kinds
