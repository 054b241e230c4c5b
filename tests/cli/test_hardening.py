"""Sizes that would overflow, values that are finite in one type and not in another, and paths and files that are
not what they seem: every one must end with one line naming the problem, exit status 2 and no result file (or,
for a failure while writing, exit status 1 with the system's reason and no file). Each case here once ran,
crashed or wrote a wrong result (issue 9).
"""
import json
import os
import resource
import signal
import stat
import subprocess
import time

import pytest

from test_cli import BIN, NO_GPU, SMALL, assert_input_error, help_text, run

gpu_free = pytest.mark.skipif(NO_GPU, reason="this CUDA build cannot start without a GPU")
MPI_ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_PROC_BIND="false", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")


def mpi_launch(np):
    """The launcher, as CMake's FindMPI describes it (MPIEXEC_EXECUTABLE, MPIEXEC_NUMPROC_FLAG, MPIEXEC_PREFLAGS)."""
    return [os.environ.get("NAGBENCH_MPIRUN", "mpirun"), os.environ.get("NAGBENCH_MPIEXEC_NUMPROC_FLAG") or "-np",
            str(np), *os.environ.get("NAGBENCH_MPIEXEC_PREFLAGS", "").split()]


def backend_args():
    helptext = help_text()
    return ["--backend", "openmp" if "openmp" in helptext else "serial"]


OVERFLOWS = [
    # (arguments, words the one line must contain)
    (["--params", "2^62"], ["too large"]),                       # was: divide-by-zero after "allocating 0 B"
    (["--params", "9e18"], ["too large"]),                       # was: memory check overflowed and passed
    (["--params", "5e17", "-d", "fp64"], ["too large"]),
    (["--params", "9e18", "--comm", "mpi"], ["buckets"]),        # was: 30 s of growth then bad_alloc
    (["--warmup", "2147483647"], ["--warmup"]),                  # was: "running -2147483647 steps"
    (["--steps", "2147483647"], ["--steps"]),
    (["--roof-mib", "1e30"], ["--roof-mib"]),                    # was: "3 x -9223372036854775808 B", status 0
    (["--roof-mib", "1e-9"], ["--roof-mib"]),                    # was: 16 B arrays, 12555% of roof, status 0
    (["--roof-mib", "nan"], ["--roof-mib"]),                     # was: status 1, json type_error.302
    (["--comm", "mpi", "--bucket-mb", "1e-7"], ["--bucket-mb"]),  # was: one whole-model bucket
    (["--comm", "mpi", "--bucket-mb", "inf"], ["--bucket-mb"]),   # was: status 1, json type_error.302
    (["--lr", "1e39"], ["--lr", "fp32"]),                        # was: ran, then "verification failed: -nan"
    (["--weight-decay", "1e300"], ["--weight-decay", "fp32"]),
    (["--weight-decay", "1e300", "-d", "fp64"], ["overflow", "fp64"]),
    (["--seed", "-1"], ["--seed"]),                              # was: 18446744073709551615, silently
    (["--seed", "18446744073709551616"], ["--seed"]),
    (["--comm-only", "--comm", "mpi", "--comm-min", "4", "--comm-max", "9e18"], ["--comm-max"]),  # was: endless loop
    (["--comm-only", "--comm", "mpi", "--comm-sizes", "18014398509481988K"], ["--comm-sizes", "too large"]),
    (["--comm-only", "--comm", "mpi", "--comm-sizes", "16G"], ["8 GiB"]),
    (["-m", ","], ["--model", "empty item"]),                    # was: the next flag taken as the model
    (["-v", ","], ["--variant", "empty item"]),
    (["-d", ","], ["--dtype", "empty item"]),
    (["--comm", ","], ["--comm", "empty item"]),
    (["--bucket-mb", "25,"], ["--bucket-mb", "empty item"]),
    (["--evict-mib", "-1"], ["--evict-mib"]),
    (["--evict-mib", "nan"], ["--evict-mib"]),
    (["--evict-mib", "1e7"], ["--evict-mib"]),
    (["--kokkos-threads=0"], ["--kokkos-threads"]),              # was: accepted, threads=0 recorded
    (["--kokkos-frobnicate=1"], ["unknown Kokkos argument"]),    # was: accepted silently
    (["--kokkos-device-id=1"], ["local rank"]),
]


@gpu_free
@pytest.mark.parametrize("args,needles", OVERFLOWS, ids=[" ".join(a) for a, _ in OVERFLOWS])
def test_sizes_and_values_out_of_range(tmp_path, args, needles):
    out = tmp_path / "r.json"
    model = [] if any(a in args for a in ("--params", "-m")) else ["--model", "tiny"]
    assert_input_error(run(*backend_args(), *model, *args, *SMALL[:4], "-o", str(out), timeout=120), str(out),
                       *needles)


@gpu_free
def test_params_per_rank_times_ranks_overflow_is_refused(tmp_path):
    out = tmp_path / "r.json"
    res = subprocess.run([*mpi_launch(3), BIN, *backend_args(), "--params-per-rank",
                          "6148914691236517888", "-o", str(out), *SMALL], capture_output=True, text=True,
                         env=MPI_ENV, timeout=120)
    assert res.returncode == 2, res.stderr  # was: wrapped to a 2,048-parameter model, "verified", status 0
    assert "--params-per-rank x ranks is too large" in res.stderr
    assert not out.exists()


def write_model(path, tensors):
    lines = ["name: m", "tensors:"] + [f"  - {t}" for t in tensors]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@gpu_free
def test_model_file_problems(tmp_path):
    out = tmp_path / "r.json"
    big = "[4611686018427387904]"
    wrap = write_model(tmp_path / "wrap.yaml", [f"{{name: t{i}, shape: {big}}}" for i in range(4)] +
                       ["{name: small, shape: [1000]}"])
    assert_input_error(run("-m", wrap, "-o", str(out)), str(out), "too large")  # was: 12 KiB allocated, SIGSEGV
    dup = write_model(tmp_path / "dup.yaml", ["{name: w, shape: [3]}", "{name: w, shape: [4]}"])
    assert_input_error(run("-m", dup, "-o", str(out)), str(out), "repeats the tensor name 'w'")
    odd = write_model(tmp_path / "odd.yaml", ["{name: {k: 1}, shape: [3]}"])
    assert_input_error(run("-m", odd, "-o", str(out)), str(out), "'name' that is not a string")  # was: status 1
    assert_input_error(run("-m", str(tmp_path), "-o", str(out)), str(out), "a directory")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert_input_error(run("-m", str(fifo), "-o", str(out)), str(out), "a FIFO")  # was: "not found"
    loop = tmp_path / "loop.yaml"
    os.symlink(loop, loop)
    assert_input_error(run("-m", str(loop), "-o", str(out)), str(out), "symbolic link loop")


@gpu_free
def test_output_paths_are_checked_before_running(tmp_path):
    # A directory: was found only at the final rename, after the whole run, status 1.
    start = time.monotonic()
    res = run(*backend_args(), "--model", "tiny", "-o", str(tmp_path), *SMALL)
    assert res.returncode == 2 and "a directory" in res.stderr, res.stderr
    assert time.monotonic() - start < 30
    # An empty name: was accepted, nothing written.
    res = run(*backend_args(), "--model", "tiny", "-o", "", *SMALL)
    assert res.returncode == 2 and "empty" in res.stderr, res.stderr
    # A symbolic link: refused, named with its target; the link survives.
    target = tmp_path / "target.json"
    link = tmp_path / "link.json"
    os.symlink(target, link)
    res = run(*backend_args(), "--model", "tiny", "-o", str(link), *SMALL)
    assert res.returncode == 2 and "symbolic link" in res.stderr and str(target) in res.stderr, res.stderr
    assert os.path.islink(link) and not target.exists()
    # A FIFO stands for any special file (a copy of /dev/null made as root is a character device: was replaced).
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    res = run(*backend_args(), "--model", "tiny", "-o", str(fifo), *SMALL)
    assert res.returncode == 2 and "not a regular file" in res.stderr, res.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@gpu_free
def test_long_output_name_and_kept_mode(tmp_path):
    # 250 characters: the old ".tmp.PID" suffix pushed the temporary name past NAME_MAX at the very end.
    out = tmp_path / ("r" * 245 + ".json")
    res = run(*backend_args(), "--model", "tiny", "-o", str(out), *SMALL)
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text())["verified"] is True
    # An existing result keeps its permissions when replaced.
    os.chmod(out, 0o640)
    res = run(*backend_args(), "--model", "tiny", "-o", str(out), *SMALL)
    assert res.returncode == 0, res.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".nagbench-")]
    too_long = tmp_path / ("r" * 300 + ".json")
    assert_input_error(run(*backend_args(), "--model", "tiny", "-o", str(too_long), *SMALL), str(tmp_path / "x"),
                       "longer than")


@gpu_free
def test_a_full_disk_names_the_reason(tmp_path):
    out = tmp_path / "r.json"

    def tiny_file_limit():  # writes past 1 KiB fail with EFBIG, as a full disk fails with ENOSPC
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    res = subprocess.run([BIN, *backend_args(), "--model", "tiny", "-o", str(out), *SMALL], capture_output=True,
                         text=True, timeout=120, preexec_fn=tiny_file_limit,
                         # PMIx keeps its job data in memory (not in files the limit would cut short)
                         env=dict(os.environ, OMP_NUM_THREADS="2", PMIX_MCA_gds="hash"))
    assert res.returncode == 1, res.stderr
    assert "File too large" in res.stderr, res.stderr  # was: "failed writing '...tmp.123'" and no reason
    assert not out.exists()
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".nagbench-")]


@gpu_free
def test_too_many_openmp_threads_is_an_input_error(tmp_path):
    if "openmp" not in help_text():
        pytest.skip("no OpenMP backend")
    out = tmp_path / "r.json"
    res = subprocess.run([BIN, "--model", "tiny", "-o", str(out), *SMALL], capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="600"), timeout=60)
    if "supports at most" not in res.stderr and res.returncode == 0:
        pytest.skip("this Kokkos has no fixed thread limit")
    assert res.returncode == 2, res.stderr  # was: SIGSEGV inside Kokkos::OpenMP initialisation, no message
    assert "600 OpenMP threads" in res.stderr
    assert not out.exists()


@gpu_free
def test_list_run_checks_every_configuration_before_running_any(tmp_path):
    out = tmp_path / "r.json"
    huge = write_model(tmp_path / "huge.yaml", ["{name: w, shape: [1000000000, 1000]}"])
    start = time.monotonic()
    res = run(*backend_args(), "--model", "tiny," + huge, "-o", str(out), *SMALL)
    assert_input_error(res, str(out), "needs", "available")
    assert "verified" not in res.stdout, "the first configuration ran before the second was refused"
    assert time.monotonic() - start < 60


@gpu_free
def test_records_are_written_as_configurations_finish(tmp_path):
    jl = tmp_path / "r.jsonl"
    res = run(*backend_args(), "--model", "tiny", "-v", "naive,fused", "--tag", "p1", "-o", str(jl), *SMALL)
    assert res.returncode == 0, res.stderr
    res = run(*backend_args(), "--model", "tiny", "-v", "multi_tensor", "--tag", "p2", "-o", str(jl), *SMALL)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(l) for l in jl.read_text().splitlines()]
    assert [(r["variant"], r["tag"]) for r in lines] == [("naive", "p1"), ("fused", "p1"), ("multi_tensor", "p2")]
    doc = tmp_path / "r.json"
    res = run(*backend_args(), "--model", "tiny", "-v", "naive,fused", "-o", str(doc), *SMALL)
    assert res.returncode == 0, res.stderr
    assert [r["variant"] for r in json.loads(doc.read_text())] == ["naive", "fused"]
