"""Data-parallel runs of the CUDA backend under mpirun at NAGBENCH_NP ranks (CTest: 2), GPU machines only.

The communication paths that exist only with device memory: MPI staged through pinned host buffers (with the
non-blocking requests that MPI_Testsome may complete early) and NCCL, each replicated and sharded, with and
without overlap, with many small buckets. Asserted as in test_dp.py: verified against the float64 reference,
ranks bitwise identical, a skipped bucket caught. Ranks may share a GPU (--allow-gpu-sharing) so that a one-GPU
machine runs it too.
"""
import json
import os
import subprocess

import pytest

BIN = os.environ["NAGBENCH_BIN"]
NP = int(os.environ.get("NAGBENCH_NP", "2"))
MPIRUN = os.environ.get("NAGBENCH_MPIRUN", "mpirun")
HAVE_NCCL = os.environ.get("NAGBENCH_HAVE_NCCL", "0") == "1"
SMALL = ["--roof-mib", "64", "--roof-reps", "2", "--steps", "3", "--warmup", "1", "-q", "--allow-gpu-sharing"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_PROC_BIND="false", NCCL_NVLS_ENABLE="0",
           OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
COMMS = [["--comm", "mpi", "--mpi-path", "staged"]] + ([["--comm", "nccl"]] if HAVE_NCCL else [])


def mpirun(*args):
    cmd = [MPIRUN, "-np", str(NP), "--oversubscribe", "-x", "NCCL_NVLS_ENABLE", BIN, "--backend", "cuda", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ENV)


def records(path):
    doc = json.loads(open(path).read())
    return doc if isinstance(doc, list) else [doc]


@pytest.mark.parametrize("comm", COMMS, ids=lambda c: "/".join(c[1::2]))
def test_every_mode_is_verified_and_ranks_agree(tmp_path, comm):
    out = tmp_path / "dp.json"
    res = mpirun("--model", "tiny,resnet50", *comm, "--sharding", "replicated,sharded", "--overlap", "on,off",
                 "--bucket-mb", "0.01,25", "-o", str(out), *SMALL)
    assert res.returncode == 0, res.stdout + res.stderr
    recs = records(out)
    assert len(recs) == 2 * 2 * 2 * 2
    for r in recs:
        assert r["ranks"] == NP and r["backend"] == "cuda"
        assert r["comm_path"] == ("staged" if comm[1] == "mpi" else "nccl")
        assert r["verified"] is True and r["ranks_agree"] is True, (r["mode"], r["overlap"], r["verification"])
    if NP <= 2:  # a sum of two floats does not depend on the order: every mode gives the same bits
        for model in ("tiny", "resnet50"):
            assert len({r["params_hash"] for r in recs if r["model"] == model}) == 1


@pytest.mark.skipif(NP < 2, reason="a reduction needs two ranks")
@pytest.mark.parametrize("comm", COMMS, ids=lambda c: "/".join(c[1::2]))
@pytest.mark.parametrize("sharding", ["replicated", "sharded"])
def test_skipping_a_bucket_is_caught(tmp_path, comm, sharding):
    out = tmp_path / "skip.json"
    res = mpirun("--model", "tiny", *comm, "--bucket-mb", "0.01", "--sharding", sharding, "--debug-skip-bucket", "1",
                 "-o", str(out), *SMALL)
    assert res.returncode != 0
    assert "verification failed" in res.stderr
    assert not out.exists()


@pytest.mark.parametrize("comm", COMMS, ids=lambda c: "/".join(c[1::2]))
def test_allreduce_sweep_is_exact(tmp_path, comm):
    out = tmp_path / "ar.json"
    res = mpirun("--comm-only", *comm, "--comm-min", "4K", "--comm-max", "4M", "--comm-iters", "3", "--comm-reps", "2",
                 "-q", "--allow-gpu-sharing", "-o", str(out))
    assert res.returncode == 0, res.stderr
    rec = records(out)[0]
    assert rec["verified"] is True and len(rec["rows"]) == 11
