"""job_scripts/generate.py, the first command line of the job generator, kept for existing commands: its Slurm and
PBS jobs are valid shell with every rank count 1, 2, 4, ..., bind ranks to their own cores, pass
NCCL_NVLS_ENABLE=0, create the log folder, and the PBS/mpirun one really runs a resumable sweep here."""
import json
import os
import subprocess

import pytest

from helpers import REPO, mpi_env, nagbench_bin, one_line_error, run

GEN = os.path.join(REPO, "job_scripts", "generate.py")


def generate(*args):
    res = run(GEN, *args)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_help():
    res = run(GEN, "--help")
    assert res.returncode == 0 and "nagbench-sweep" in res.stdout


@pytest.mark.parametrize("scheduler", ["slurm", "pbs"])
def test_job_is_valid_shell_with_every_rank_count(tmp_path, scheduler):
    text = generate("--scheduler", scheduler, "--nodes", "3", "--gpus-per-node", "4", "--cpus-per-node", "64",
                    "--nagbench", "/opt/nb/bin/nagbench", "--out", str(tmp_path), "--", "--model", "vit_l_16",
                    "--comm", "nccl", "--sharding", "replicated,sharded")
    job = tmp_path / "job.sh"
    job.write_text(text)
    assert subprocess.run(["bash", "-n", str(job)]).returncode == 0
    points = [l.split() for l in text.splitlines() if l.startswith("point ")]
    assert sorted({int(p[2]) for p in points}) == [1, 2, 4, 8, 12]
    assert len(points) == 10  # one launch per configuration: 5 rank counts x 2 shardings
    assert all(p[p.index("--comm") + 1] == ("none" if p[2] == "1" else "nccl") for p in points)
    assert "NCCL_NVLS_ENABLE=0" in text
    assert ("--cpu-bind=cores" in text) if scheduler == "slurm" else ("--bind-to core" in text)
    assert (tmp_path / "logs").is_dir()


def test_rejects_an_output_option(tmp_path):
    one_line_error(run(GEN, "--scheduler", "slurm", "--nagbench", "x", "--out", tmp_path, "--", "--output", "f.json"),
                   "output")


def test_pbs_job_runs_a_sweep_here(tmp_path):
    text = generate("--scheduler", "pbs", "--nodes", "1", "--gpus-per-node", "2", "--cpus-per-node", "2",
                    "--backend", "openmp", "--nagbench", nagbench_bin(), "--out", str(tmp_path), "--", "--model",
                    "tiny", "--comm", "mpi", "--roof-mib", "4", "--steps", "2", "--warmup", "0")
    job = tmp_path / "job.sh"
    job.write_text(text)
    res = subprocess.run(["bash", str(job)], capture_output=True, text=True, env=mpi_env(), timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    recs = [json.loads(l) for l in open(tmp_path / "records.jsonl")]
    assert sorted(r["ranks"] for r in recs) == [1, 2]
    assert all(r["verified"] is True and r["benchmark"] == "dp_step" for r in recs)
