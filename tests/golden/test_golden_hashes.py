"""Bit-for-bit gate: every configuration below must give the same params_hash (the bits of the final parameters)
as the binary that recorded tests/data/golden_hashes.json. A refactoring that changes one bit of one update,
one gradient or one reduction order fails here. The file says which commit recorded it and how.

    NAGBENCH_BIN=build/openmp/bin/nagbench python3 tests/golden/test_golden_hashes.py --regenerate

regenerates it (only when a change of results is intended, and said so in the commit).
"""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "data", "golden_hashes.json")
BIN = os.environ.get("NAGBENCH_BIN", "nagbench")
BACKEND = os.environ.get("NAGBENCH_GOLDEN_BACKEND", "openmp")
SMALL = ["--roof-mib", "8", "--roof-reps", "2", "--steps", "3", "--warmup", "1", "-q"]
# The cache-evicting write between steps changes no bits; 1 MiB instead of up to 1 GiB saves a minute on CI.
EVICT = ["--evict-mib", "1"]
# The golden file was recorded before --rule-mode existed, by a binary whose only arithmetic is today's `separate`.
ARITHMETIC = ["--rule-mode", "separate"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_PROC_BIND="false", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")

DAMPED = ["--no-nesterov", "--dampening", "0.3", "--weight-decay", "0.05", "--lr", "0.05"]
PLAIN = ["--momentum", "0", "--no-nesterov"]
# (name, ranks, arguments): one launch each; a launch with list options gives several records, hashed in order.
CASES = [
    ("update_tiny_all_variants_fp32", 1, ["--model", "tiny", "-v", "naive,fused,multi_tensor,unfused"]),
    ("update_tiny_fp64", 1, ["--model", "tiny", "-v", "naive,fused,multi_tensor,unfused", "-d", "fp64"]),
    ("update_tiny_bf16", 1, ["--model", "tiny", "-v", "naive,fused,multi_tensor", "-d", "bf16,bf16_master"]),
    ("update_flat_odd", 1, ["--params", "100003", "-v", "fused,multi_tensor", "-d", "fp32,bf16"]),
    ("update_damped", 1, ["--model", "tiny", "-v", "naive,fused,multi_tensor", *DAMPED]),
    ("update_plain_sgd", 1, ["--model", "tiny", "-v", "fused,multi_tensor", *PLAIN]),
    ("update_maximize", 1, ["--model", "tiny", "-v", "fused", "--maximize", "--seed", "7"]),
    ("update_resnet50_sample", 1, ["--model", "resnet50", "-v", "multi_tensor"]),
    ("dp_np1_mpi", 1, ["--model", "tiny", "--comm", "mpi", "--sharding", "replicated,sharded",
                       "--bucket-mb", "0.01,25"]),
    ("dp_np2_mpi", 2, ["--model", "tiny", "--comm", "mpi", "--sharding", "replicated,sharded",
                       "--overlap", "on,off", "--bucket-mb", "0.01,25"]),
    ("dp_np3_mpi", 3, ["--model", "tiny", "--comm", "mpi", "--sharding", "replicated,sharded",
                       "--bucket-mb", "0.01"]),
    ("dp_np3_fp64_damped", 3, ["--model", "tiny", "--comm", "mpi", "-d", "fp64", "--sharding", "sharded",
                               "--bucket-mb", "0.01", *DAMPED]),
]


def mpi_launch(np):
    """The launcher, as CMake's FindMPI describes it (MPIEXEC_EXECUTABLE, MPIEXEC_NUMPROC_FLAG, MPIEXEC_PREFLAGS)."""
    return [os.environ.get("NAGBENCH_MPIRUN", "mpirun"), os.environ.get("NAGBENCH_MPIEXEC_NUMPROC_FLAG") or "-np",
            str(np), *os.environ.get("NAGBENCH_MPIEXEC_PREFLAGS", "").split()]


def run_case(ranks, args, out):
    cmd = [BIN, "--backend", BACKEND, *args, *SMALL, *ARITHMETIC, *EVICT, "-o", out]
    if ranks > 1 or "--comm" in args:
        cmd = mpi_launch(ranks) + cmd
    res = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.load(open(out))
    recs = doc if isinstance(doc, list) else [doc]
    assert all(r["verified"] for r in recs)
    return [r["params_hash"] for r in recs]


def load_golden():
    with open(GOLDEN) as f:
        return json.load(f)


@pytest.mark.parametrize("name,ranks,args", CASES, ids=[c[0] for c in CASES])
def test_same_bits_as_golden(tmp_path, name, ranks, args):
    golden = load_golden()
    assert name in golden["cases"], f"{name} missing from {GOLDEN}: regenerate it"
    want = golden["cases"][name]
    assert want["args"] == args, "the case changed since the golden file was recorded"
    assert run_case(ranks, args, str(tmp_path / "r.json")) == want["hashes"], name


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit(__doc__)
    import tempfile
    commit = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.strip()
    if "--rule-mode" not in subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout:
        ARITHMETIC.clear()  # a binary from before --rule-mode
    cases = {}
    with tempfile.TemporaryDirectory() as d:
        for name, ranks, args in CASES:
            cases[name] = {"ranks": ranks, "args": args, "hashes": run_case(ranks, args, os.path.join(d, "r.json"))}
            print(name, cases[name]["hashes"], file=sys.stderr)
    with open(GOLDEN, "w") as f:
        json.dump({"recorded_by": commit, "backend": BACKEND, "common_args": SMALL, "cases": cases}, f, indent=1)
        f.write("\n")
