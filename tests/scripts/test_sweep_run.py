"""Sweeps run for real with the build's nagbench (OpenMP backend, under mpirun): the CPU sweep of
inputs/sweeps/cpu-ci.yaml end to end with nagbench-sweep run; resuming (a rerun skips done points, a killed run
resumes where it stopped, a failed point leaves a failure line, the sweep goes on and the rerun retries it); and
the batch job of every scheduler and launcher executed through stand-ins for sbatch/srun, qsub/mpiexec (PALS),
bsub/jsrun, flux batch/flux run that run the ranks with the real mpirun."""
import json
import os
import sys

import jsonschema
import pytest

from helpers import REPO, STANDINS, SWEEP, mpi_env, nagbench_bin, run

CPU_CI = os.path.join(REPO, "inputs", "sweeps", "cpu-ci.yaml")
JOBS_CI = os.path.join(REPO, "tests", "scripts", "data", "jobs-ci.yaml")
sys.path.insert(0, os.path.join(REPO, "job_scripts"))
from nagbench_sweep import spec as specmod  # noqa: E402


def records(path):
    with open(path) as fh:
        return [json.loads(l) for l in fh if l.strip()]


def validator():
    with open(os.path.join(REPO, "docs", "schema", "record.schema.json")) as fh:
        return jsonschema.Draft202012Validator(json.load(fh))


def sweep_run(spec, out, *extra, binary=None, env=None):
    return run(SWEEP, "run", spec, "--out", out, "--bind", "none", "--nagbench", binary or nagbench_bin(), *extra,
               env=env or mpi_env(), timeout=600)


@pytest.fixture(scope="module")
def cpu_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("cpu-ci")
    return out, sweep_run(CPU_CI, out)


def test_cpu_sweep_end_to_end(cpu_sweep):
    out, res = cpu_sweep
    assert res.returncode == 0, res.stderr[-3000:]
    recs = records(out / "records.jsonl")
    points = specmod.load(CPU_CI).points
    assert sorted(r["tag"] for r in recs) == sorted(p.tag for p in points)
    v = validator()
    for r in recs:
        assert r["verified"] is True
        assert not list(v.iter_errors(r)), r["tag"]
    kinds = {r["benchmark"] for r in recs}
    assert kinds == {"dp_step", "allreduce"}
    assert {r["ranks"] for r in recs} == {1, 2, 3}
    weak = [r for r in recs if "/weak/" in r["tag"]]
    assert {r["params"] // r["ranks"] for r in weak} == {2 ** 14}  # fixed per rank
    # progress with an ETA on stderr, nagbench's own progress lines in the logs (no -q)
    assert "10/10" in res.stderr and "left" in res.stderr and "finished: 10 run, 0 skipped" in res.stderr
    logs = os.listdir(out / "logs")
    assert len(logs) == 10
    assert any("[nagbench" in (out / "logs" / l).read_text() for l in logs)


def test_rerun_skips_done_points(cpu_sweep):
    out, _ = cpu_sweep
    before = (out / "records.jsonl").read_text()
    res = sweep_run(CPU_CI, out)
    assert res.returncode == 0, res.stderr
    assert "finished: 0 run, 10 skipped" in res.stderr
    assert (out / "records.jsonl").read_text() == before


def test_killed_sweep_resumes(cpu_sweep, tmp_path):
    out, _ = cpu_sweep
    lines = (out / "records.jsonl").read_text().splitlines(keepends=True)
    # As a job killed at its walltime leaves it: 4 records, then half a line.
    (tmp_path / "records.jsonl").write_text("".join(lines[:4]) + lines[4][: len(lines[4]) // 2])
    res = sweep_run(CPU_CI, tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "finished: 6 run, 4 skipped" in res.stderr
    text = (tmp_path / "records.jsonl").read_text().splitlines()
    good = [json.loads(l) for l in text[:4] + text[5:]]
    assert len(good) == 10 and len({r["tag"] for r in good}) == 10


def test_failed_point_leaves_a_failure_line_and_the_sweep_goes_on(tmp_path):
    real = nagbench_bin()
    fake = tmp_path / "nagbench"
    # Fails the 2-rank sharded strong point at run time, as nagbench reports it (one line, status 1).
    fake.write_text("#!/bin/bash\n"
                    "if [[ \"$*\" == *strong/n2/sharding=sharded* ]]; then\n"
                    "  echo 'nagbench: error on rank 1 (host): injected \"failure\"' >&2; exit 1\n"
                    "fi\n"
                    f"exec {real} \"$@\"\n")
    fake.chmod(0o755)
    out = tmp_path / "out"
    res = sweep_run(CPU_CI, out, binary=str(fake))
    assert res.returncode == 1, res.stderr[-3000:]
    assert "finished: 10 run, 0 skipped (done before), 1 failed" in res.stderr
    recs = records(out / "records.jsonl")
    failures = [r for r in recs if r["benchmark"] == "failure"]
    assert len(failures) == 1 and len(recs) == 10
    f = failures[0]
    assert "strong/n2/sharding=sharded" in f["tag"]
    assert f["cause"] == 'nagbench: error on rank 1 (host): injected "failure"'
    assert f["exit_code"] == 1 and f["input_error"] is False and f["ranks"] == 2
    assert not list(validator().iter_errors(f))
    # The rerun retries only the failed point.
    res = sweep_run(CPU_CI, out)
    assert res.returncode == 0 and "finished: 1 run, 9 skipped" in res.stderr, res.stderr[-2000:]


def test_input_error_is_found_before_anything_runs(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: t\nexperiments: [{name: a, ranks: [1], model: no_such_model, backend: openmp}]\n")
    res = sweep_run(str(spec), tmp_path / "out")
    assert res.returncode == 2 and "no_such_model" in res.stderr and res.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


JOBS = [("slurm", "srun"), ("pbs", "mpirun"), ("pbs", "pals"), ("lsf", "jsrun"), ("lsf", "mpirun"), ("flux", "flux")]


@pytest.mark.parametrize("scheduler,launcher", JOBS, ids=[f"{s}-{l}" for s, l in JOBS])
def test_generated_job_runs_through_the_scheduler(tmp_path, scheduler, launcher):
    env = mpi_env(PATH=STANDINS + os.pathsep + os.environ["PATH"], NAGBENCH_STANDIN_LOG=str(tmp_path / "calls.jsonl"))
    out = tmp_path / "out"
    res = run(SWEEP, "job", JOBS_CI, "--scheduler", scheduler, "--launcher", launcher, "--out", out,
              "--nagbench", nagbench_bin(), "--cores-per-node", "2", "--bind", "none", "--mpirun",
              env["NAGBENCH_REAL_MPIRUN"], "--account", "ci", "--walltime", "10", "--submit", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    calls = records(tmp_path / "calls.jsonl")
    job = [c for c in calls if "job_status" in c]
    assert len(job) == 1, calls
    log = open(job[0]["log"]).read()
    assert job[0]["job_status"] == 0, log[-3000:]
    assert "finished: 3 run, 0 skipped" in log
    recs = records(out / "records.jsonl")
    assert sorted(r["ranks"] for r in recs) == [1, 2, 4] and all(r["verified"] for r in recs)
    assert {r["ranks_per_node"] for r in recs if r["ranks"] > 1} <= {2, 4}  # all on this machine
    launches = [c for c in calls if "ranks" in c]
    if launcher != "mpirun":  # the scheduler's own launcher was called once per point, two nodes for 4 ranks
        assert [(c["ranks"], c["nodes"], c["per_node"]) for c in launches] == [(1, 1, 1), (2, 1, 2), (4, 2, 2)]
