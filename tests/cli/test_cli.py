"""The nagbench driver as a user meets it: --help, a small run that writes a complete record, and every kind of
bad input ending with a one-line error, exit status 2 and no result file.

Run by CTest with NAGBENCH_BIN pointing at the binary; NAGBENCH_EXPECT_NO_GPU=1 for a CUDA build on a machine
without a GPU (then only the no-GPU behaviour is checked).
"""
import json
import os
import shutil
import subprocess
from functools import lru_cache

import pytest

BIN = os.environ.get("NAGBENCH_BIN", "nagbench")
NO_GPU = os.environ.get("NAGBENCH_EXPECT_NO_GPU") == "1"
REQUIRED_KEYS = ["benchmark", "model", "variant", "dtype", "backend", "device", "ranks", "params", "tensors",
                 "median_s", "min_s", "max_s", "params_per_s", "eff_GBps", "copy_GBps", "nstream_GBps",
                 "roof_GBps", "pct_of_roof", "verified", "schema_version"]
# --evict-mib 1: the default eviction (4x the last-level cache, up to 1 GiB) costs seconds a run on a CPU and
# changes no result; test_cache_eviction_is_recorded checks the default.
SMALL = ["--roof-mib", "16", "--roof-reps", "3", "--steps", "3", "--warmup", "1", "--evict-mib", "1"]


def run(*args, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, env=env)


@lru_cache(maxsize=None)
def help_text():
    """--help's text, asked once: every start of the binary costs a second or more under the sanitizers."""
    return run("--help").stdout


def assert_input_error(res, out_file, *needles):
    assert res.returncode == 2, f"exit {res.returncode}\nstdout: {res.stdout}\nstderr: {res.stderr}"
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"want one error line, got: {res.stderr!r}"
    assert lines[0].startswith("nagbench: error: "), lines[0]
    for n in needles:
        assert n in lines[0], f"{n!r} not named in {lines[0]!r}"
    assert not os.path.exists(out_file), "no result file may be written on bad input"
    leftovers = [f for f in os.listdir(os.path.dirname(out_file)) if ".tmp." in f]
    assert not leftovers, leftovers


@pytest.mark.skipif(not NO_GPU, reason="only for a CUDA build on a machine without a GPU")
def test_cuda_build_without_gpu_is_a_clear_input_error(tmp_path):
    out = tmp_path / "r.json"
    if shutil.which("nvidia-smi") and subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0:
        pytest.skip("a GPU is visible here")
    assert_input_error(run("--model", "tiny", "-o", str(out)), str(out), "GPU")
    assert_input_error(run("--backend", "openmp", "--model", "tiny", "-o", str(out)), str(out), "OpenMP build")


gpu_free = pytest.mark.skipif(NO_GPU, reason="this CUDA build cannot start without a GPU")


@gpu_free
def test_help_lists_options():
    res = run("--help")
    assert res.returncode == 0
    for opt in ["--backend", "--model", "--variant", "--dtype", "--output", "--steps", "--verify"]:
        assert opt in res.stdout


@gpu_free
def test_small_run_writes_a_complete_verified_record(tmp_path):
    out = tmp_path / "r.json"
    res = run("--backend", "openmp" if "openmp" in help_text() else "serial", "--model", "tiny",
              "-o", str(out), *SMALL)
    assert res.returncode == 0, res.stderr
    rec = json.loads(out.read_text())
    for k in REQUIRED_KEYS:
        assert k in rec, k
    assert rec["verified"] is True
    assert rec["params"] == 6265 and rec["tensors"] == 6
    assert rec["min_s"] <= rec["median_s"] <= rec["max_s"]
    assert rec["eff_GBps"] == pytest.approx(20 * rec["params"] / rec["median_s"] / 1e9)
    assert rec["roof_GBps"] == max(rec["copy_GBps"], rec["nstream_GBps"])
    assert rec["provenance"]["command_line"].endswith(" ".join(SMALL))
    assert rec["evict_bytes"] == 1 << 20
    assert "verified: yes" in res.stdout
    assert not [f for f in os.listdir(tmp_path) if ".tmp." in f]


@gpu_free
def test_cache_eviction_is_recorded(tmp_path):
    host = ["--backend", "openmp" if "openmp" in help_text() else "serial"]
    few = ["--roof-mib", "8", "--roof-reps", "1", "--steps", "1", "--warmup", "0"]
    out = tmp_path / "default.json"
    res = run(*host, "--model", "tiny", "-o", str(out), *few)
    assert res.returncode == 0, res.stderr
    assert 64 << 20 <= json.loads(out.read_text())["evict_bytes"] <= 1 << 30  # 4x the cache, 64 MiB .. 1 GiB
    assert "cache-evicting write" in res.stderr
    out = tmp_path / "warm.json"
    res = run(*host, "--model", "tiny", "--evict-mib", "0", "-o", str(out), *few)
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text())["evict_bytes"] == 0
    assert "caches warm, --evict-mib 0" in res.stdout


@gpu_free
@pytest.mark.parametrize("variant,dtype", [("naive", "fp32"), ("multi_tensor", "bf16"), ("fused", "bf16_master"),
                                           ("fused", "fp64")])
def test_variants_and_dtypes_run_verified(tmp_path, variant, dtype):
    out = tmp_path / "r.json"
    host = "serial" if "serial" in help_text().split("Execution space:")[1].split()[0] else "openmp"
    res = run("--model", "tiny", "-v", variant, "-d", dtype, "-o", str(out), "--backend", host, *SMALL)
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text())["verified"] is True


BAD_INPUTS = [
    (["--backend", "vulkan"], ["unknown backend", "vulkan"]),
    (["--model", "no_such_model"], ["unknown model", "no_such_model"]),
    (["--model", "/nonexistent/m.yaml"], ["not found"]),
    (["--params", "0"], ["--params"]),
    (["--params", "-3"], ["--params"]),
    (["--params", "lots"], ["--params"]),
    (["--momentum", "1.0"], ["momentum"]),
    (["--momentum", "-0.5"], ["momentum"]),
    (["--dampening", "0.5"], ["Nesterov", "dampening"]),
    (["--steps", "0"], ["--steps"]),
    (["--variant", "turbo"], ["unknown variant", "turbo"]),
    (["--dtype", "fp8"], ["unknown dtype", "fp8"]),
    (["--verify", "maybe"], ["--verify"]),
    (["--frobnicate"], ["frobnicate"]),
    (["--lr", "abc"], ["--lr"]),
    (["--overlap", "sometimes"], ["--overlap"]),
    (["--comm-priority", "urgent"], ["--comm-priority", "urgent"]),
    (["--launch", "sometimes"], ["--launch", "sometimes"]),
    (["--launch", "graph", "--comm", "mpi"], ["--launch graph", "--comm mpi"]),
    (["--launch", "graph", "--comm", "none", "--overlap", "off"], ["--launch graph", "--overlap on"]),
    (["--launch", "graph", "--comm-only", "--comm", "mpi"], ["--launch", "--comm-only"]),
    (["--launch", "graph", "--optimizer", "nesterov1983", "--schedule"], ["--launch graph", "nesterov1983"]),
    (["--timeline"], ["--timeline", "data-parallel", "update runs"]),
    (["--timeline", "--comm-only", "--comm", "mpi"], ["--timeline", "allreduce runs"]),
    (["--timeline", "--comm", "none", "--launch", "graph"], ["--timeline", "--launch graph"]),
    (["--comm", "none", "--update-streams", "0"], ["--update-streams", "from 1 to 8", "'0'"]),
    (["--comm", "none", "--update-streams", "2,9"], ["--update-streams", "from 1 to 8", "'9'"]),
    (["--comm", "none", "--update-streams", "1.5"], ["--update-streams", "whole numbers", "'1.5'"]),
    (["--comm", "none", "--update-streams", "two"], ["--update-streams", "takes numbers", "'two'"]),
    (["--update-streams", "2"], ["--update-streams", "data-parallel", "update runs"]),
]


@gpu_free
@pytest.mark.parametrize("args,needles", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, args, needles):
    out = tmp_path / "r.json"
    assert_input_error(run("--model", "tiny", *args, "-o", str(out)) if "--model" not in args and "--params" not in args
                       else run(*args, "-o", str(out)), str(out), *needles)


def has_cuda():
    return "cuda" in help_text().split("Execution space:")[1].split("(")[0]


@gpu_free
def test_graph_launch(tmp_path):
    """--launch graph: refused on host backends; on CUDA the graph replays give the same bits as direct launches,
    and the record and table say how each step was launched."""
    out = tmp_path / "r.jsonl"
    host = "openmp" if "openmp" in help_text() else "serial"
    assert_input_error(run("--backend", host, "--model", "tiny", "--launch", "graph", "-o", str(out), *SMALL),
                       str(out), "--launch graph needs --backend cuda", host)
    if "\nunfused: " in run("--list-variants").stdout:  # built with Kokkos Kernels ("unfused (not compiled in)")
        assert_input_error(run("--model", "tiny", "--launch", "graph", "-v", "unfused", "-o", str(out)), str(out),
                           "--launch graph", "unfused")
    assert_input_error(run("--problem", "quadratic_k1e2", "--launch", "graph", "-o", str(out), *SMALL), str(out),
                       "--launch graph", "not train runs")
    if not has_cuda():
        return
    res = run("--backend", "cuda", "--model", "tiny", "-v", "fused,multi_tensor", "--launch", "direct,graph",
              "-o", str(out), *SMALL)
    assert res.returncode == 0, res.stderr
    recs = [json.loads(l) for l in out.read_text().splitlines()]
    assert [(r["variant"], r["launch"]) for r in recs] == [("fused", "direct"), ("fused", "graph"),
                                                            ("multi_tensor", "direct"), ("multi_tensor", "graph")]
    assert all(r["verified"] for r in recs)
    assert recs[0]["params_hash"] == recs[1]["params_hash"]  # the same bits, however launched
    assert recs[2]["params_hash"] == recs[3]["params_hash"]
    assert res.stdout.count("replayed from a CUDA graph, --launch graph") == 2


@gpu_free
def test_malformed_model_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\ntensors: [\n")
    out = tmp_path / "r.json"
    assert_input_error(run("--model", str(bad), "-o", str(out)), str(out), "malformed model file")
    bad.write_text("name: broken\ntensors:\n  - {name: w, shape: [3, 0]}\n")
    assert_input_error(run("--model", str(bad), "-o", str(out)), str(out), "dimension <= 0")


@gpu_free
def test_unwritable_output_directory(tmp_path):
    out = tmp_path / "missing_dir" / "r.json"
    res = run("--model", "tiny", "-o", str(out))
    assert res.returncode == 2
    assert "does not exist" in res.stderr
    assert not out.exists()


@gpu_free
def test_backend_not_compiled_in(tmp_path):
    helptext = help_text()
    missing = [b for b in ["cuda", "openmp", "serial"] if b not in helptext.split("Execution space:")[1].split()[0]]
    if not missing:
        pytest.skip("every backend is compiled in")
    out = tmp_path / "r.json"
    assert_input_error(run("--model", "tiny", "--backend", missing[0], "-o", str(out)), str(out),
                       "not compiled into this binary")


@gpu_free
def test_model_too_large_for_memory_is_an_input_error(tmp_path):
    out = tmp_path / "r.json"
    big = tmp_path / "huge.yaml"
    big.write_text("name: huge\ntensors:\n  - {name: w, shape: [1000000000, 1000]}\n")
    assert_input_error(run("--model", str(big), "-o", str(out), "--roof-mib", "1"), str(out), "needs", "available")
