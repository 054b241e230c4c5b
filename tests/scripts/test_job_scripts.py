"""job_scripts/generate.py: the Slurm and PBS jobs it writes are valid shell, cover the rank counts 1, 2, 4, ...,
bind ranks to their own cores, and the PBS/mpirun one really runs a sweep (OpenMP backend, this machine)."""
import glob
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "job_scripts", "generate.py")
BIN = os.environ.get("NAGBENCH_BIN", "nagbench")


def generate(*args):
    res = subprocess.run([sys.executable, GEN, *args], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("scheduler", ["slurm", "pbs"])
def test_job_is_valid_shell_with_every_rank_count(tmp_path, scheduler):
    text = generate("--scheduler", scheduler, "--nodes", "3", "--gpus-per-node", "4", "--cpus-per-node", "64",
                    "--nagbench", "/opt/nb/bin/nagbench", "--out", str(tmp_path), "--", "--model", "vit_l_16",
                    "--comm", "nccl")
    job = tmp_path / "job.sh"
    job.write_text(text)
    assert subprocess.run(["bash", "-n", str(job)]).returncode == 0
    assert "for ranks in 1 2 4 8 12; do" in text
    assert "NCCL_NVLS_ENABLE=0" in text
    assert ("--cpu-bind=cores" in text) if scheduler == "slurm" else ("--bind-to core" in text)


def test_rejects_an_output_option():
    res = subprocess.run([sys.executable, GEN, "--scheduler", "slurm", "--nagbench", "x", "--out", "o", "--",
                          "--output", "f.json"], capture_output=True, text=True)
    assert res.returncode != 0 and "output" in res.stderr


def test_pbs_job_runs_a_sweep_here(tmp_path):
    text = generate("--scheduler", "pbs", "--nodes", "1", "--gpus-per-node", "2", "--cpus-per-node", "2",
                    "--backend", "openmp", "--nagbench", BIN, "--out", str(tmp_path), "--", "--model", "tiny",
                    "--comm", "mpi", "--roof-mib", "4", "--steps", "2", "--warmup", "0")
    job = tmp_path / "job.sh"
    job.write_text(text)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               KOKKOS_DISABLE_WARNINGS="1")
    res = subprocess.run(["bash", str(job)], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    files = sorted(glob.glob(str(tmp_path / "sweep-*ranks-*.json")))
    assert len(files) == 2, files
    for f in files:
        rec = json.load(open(f))
        assert rec["verified"] is True and rec["benchmark"] == "dp_step"
