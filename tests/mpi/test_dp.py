"""Data-parallel runs under mpirun at NAGBENCH_NP ranks, one file for every backend (NAGBENCH_DP_BACKEND):

- openmp (CTest mpi_np1/2/3; 3 catches uneven splits): one thread per rank, oversubscribed on a 2-core machine,
  MPI on host memory;
- cuda (CTest mpi_cuda_np2, GPU machines): the paths that exist only with device memory, MPI staged through
  pinned host buffers (with non-blocking requests MPI_Testsome may complete early) and NCCL; ranks may share a
  GPU (--allow-gpu-sharing) so that a one-GPU machine runs it too.

Asserted: every mode is verified against the float64 reference and all ranks hold bitwise-identical parameters;
the modes agree bit for bit (sums of at most two values do not depend on reduction order), and so do p2p's fused
reduce-update and the reduce-then-update paths; at one rank the
data-parallel machinery reproduces the single-rank driver exactly; a skipped bucket is caught; a stopped rank
ends the job through the watchdog; input errors end every rank with status 2 and no file.
"""
import json
import os
import re
import subprocess
import sys
import time

import pytest

BIN = os.environ["NAGBENCH_BIN"]
NP = int(os.environ.get("NAGBENCH_NP", "2"))
BACKEND = os.environ.get("NAGBENCH_DP_BACKEND", "openmp")
GPU = BACKEND == "cuda"
HAVE_NCCL = os.environ.get("NAGBENCH_HAVE_NCCL", "0") == "1"
SMALL = ["--roof-mib", "64" if GPU else "8", "--roof-reps", "2", "--steps", "3", "--warmup", "1", "-q"]
if GPU:
    SMALL.append("--allow-gpu-sharing")
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_PROC_BIND="false", KOKKOS_DISABLE_WARNINGS="1",
           NCCL_NVLS_ENABLE="0", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
# The communication paths of this backend, each as the arguments that select it and the path the record names.
# p2p (the reduction fused into the update, peers' arenas mapped: CUDA IPC or MPI shared memory) serves
# data-parallel steps only; ALLREDUCE_COMMS are those with --comm-only.
if GPU:
    COMMS = [(["--comm", "mpi", "--mpi-path", "staged"], "staged")] + \
        ([(["--comm", "nccl"], "nccl-registered")] if HAVE_NCCL else []) + [(["--comm", "p2p"], "cuda-ipc")]
else:
    COMMS = [(["--comm", "mpi"], "host"), (["--comm", "p2p"], "shm")]
COMM_IDS = ["/".join(c[0][1::2]) for c in COMMS]
# CUDA p2p's record names its variant: cuda-ipc[-push|-push-sm][-memop] (push, push-sm: sharded runs under
# NAGBENCH_P2P_REDUCE=push (copy engines) or push-sm (SM stores, the default; pull names no push);
# memop: flags by stream memory operations, the default on the GPUs we test, NAGBENCH_P2P_FLAGS=kernel turns them
# off; -ahead<N> / -ahead-all: NAGBENCH_P2P_START_AHEAD other than its default, 2).
P2P_REDUCE = os.environ.get("NAGBENCH_P2P_REDUCE") or "push-sm"  # sharded CUDA runs push by SM stores by default
P2P_PUSH = P2P_REDUCE if GPU and P2P_REDUCE in ("push", "push-sm") else None
P2P_MEMOP = GPU and os.environ.get("NAGBENCH_P2P_FLAGS", "") != "kernel"
P2P_AHEAD = os.environ.get("NAGBENCH_P2P_START_AHEAD", "2")
ALLREDUCE_COMMS = [c for c in COMMS if c[0][1] != "p2p"]
PLOT_TIMELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "plot_timeline.py")


def mpi_launch(np):
    """The launcher, as CMake's FindMPI describes it (MPIEXEC_EXECUTABLE, MPIEXEC_NUMPROC_FLAG, MPIEXEC_PREFLAGS)."""
    return [os.environ.get("NAGBENCH_MPIRUN", "mpirun"), os.environ.get("NAGBENCH_MPIEXEC_NUMPROC_FLAG") or "-np",
            str(np), *os.environ.get("NAGBENCH_MPIEXEC_PREFLAGS", "").split()]


def mpirun(*args, np=NP, timeout=900):
    # Local ranks inherit the environment (NCCL_NVLS_ENABLE=0 included; nagbench sets it too); oversubscription on a
    # 2-core machine comes from OMPI_MCA_rmaps_base_oversubscribe in ENV.
    cmd = [*mpi_launch(np), BIN, "--backend", BACKEND, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)


def expected_path(path, record):
    if path != "cuda-ipc":
        return path
    ahead = "" if P2P_AHEAD == "2" else "-ahead-all" if P2P_AHEAD == "0" else f"-ahead{P2P_AHEAD}"
    return ("cuda-ipc" + (f"-{P2P_PUSH}" if P2P_PUSH and record["mode"] == "sharded" and NP > 1 else "") +
            ("-memop" if P2P_MEMOP else "") + ahead)


def assert_skipped_bucket_is_caught(tmp_path, *args):
    """A sharded tiny run that leaves a bucket unreduced (--debug-skip-bucket in args) fails its check, no file."""
    skip = tmp_path / "skip.json"
    res = mpirun("--model", "tiny", "--sharding", "sharded", *args, "-o", str(skip), *SMALL)
    assert res.returncode != 0 and "verification failed" in res.stderr, res.stdout + res.stderr
    assert not skip.exists()


def records(path):
    doc = json.loads(open(path).read())
    return doc if isinstance(doc, list) else [doc]


@pytest.mark.parametrize("comm,path", COMMS, ids=COMM_IDS)
def test_every_mode_is_verified_and_ranks_agree(tmp_path, comm, path):
    # tiny with buckets of 10 KB (several buckets, odd splits) and 25 MiB (one); resnet50 with 5 MiB buckets (about
    # 20). resnet50 in 10 KB buckets (~10,000 of them) would only cost CI minutes on a 2-core machine.
    recs = []
    for model, buckets in (("tiny", "0.01,25"), ("resnet50", "5")):
        out = tmp_path / f"dp_{model}.json"
        res = mpirun("--model", model, *comm, "--sharding", "replicated,sharded", "--overlap", "on,off",
                     "--bucket-mb", buckets, "-o", str(out), *SMALL)
        assert res.returncode == 0, res.stdout + res.stderr
        recs += records(out)
    assert len(recs) == 2 * 2 * 2 + 2 * 2
    for r in recs:
        assert r["benchmark"] == "dp_step" and r["ranks"] == NP and r["backend"] == BACKEND
        assert r["verified"] is True and r["ranks_agree"] is True, (r["mode"], r["overlap"], r["verification"])
        assert r["comm"] == comm[1] and r["comm_path"] == expected_path(path, r)
        assert len(r["rank_detail"]) == NP
        assert r["phases"]["total"]["median_s"] > 0
        if not r["overlap"]:
            assert r["phases"]["comm"] is not None and r["phases"]["update"] is not None
    if NP <= 2:  # a sum of at most two floats is exact-order independent: every mode gives the same bits
        for model in ("tiny", "resnet50"):
            assert len({r["params_hash"] for r in recs if r["model"] == model}) == 1
    small = [r for r in recs if r["model"] == "tiny" and r["bucket_mb"] < 1]
    assert all(r["buckets"] >= 2 for r in small), "tiny buckets must split the model"
    assert all(r["buckets"] >= 10 for r in recs if r["model"] == "resnet50")
    sharded = [r for r in recs if r["mode"] == "sharded" and r["model"] == "resnet50"][0]
    replicated = [r for r in recs if r["mode"] == "replicated" and r["model"] == "resnet50"][0]
    assert sharded["memory_per_rank"]["momentum_bytes"] * NP == pytest.approx(
        replicated["memory_per_rank"]["momentum_bytes"], rel=0.01)


@pytest.mark.skipif(NP != 1 or GPU, reason="single-rank equivalence, host")
def test_one_rank_reproduces_the_single_rank_driver(tmp_path):
    upd = tmp_path / "u.json"
    res = subprocess.run([BIN, "--backend", BACKEND, "--model", "tiny", "-o", str(upd), *SMALL],
                         capture_output=True, text=True, env=ENV)
    assert res.returncode == 0, res.stderr
    want = records(upd)[0]["params_hash"]
    for comm in ("none", "mpi", "p2p"):
        out = tmp_path / f"{comm}.json"
        res = mpirun("--model", "tiny", "--comm", comm, "--sharding", "replicated,sharded", "-o", str(out), *SMALL)
        assert res.returncode == 0, res.stderr
        for r in records(out):
            assert r["params_hash"] == want, (comm, r["mode"])


@pytest.mark.skipif(NP < 2, reason="a reduction needs two ranks")
@pytest.mark.parametrize("comm,path", COMMS, ids=COMM_IDS)
@pytest.mark.parametrize("sharding", ["replicated", "sharded"])
def test_skipping_a_bucket_is_caught(tmp_path, comm, path, sharding):
    out = tmp_path / "skip.json"
    res = mpirun("--model", "tiny", *comm, "--bucket-mb", "0.01", "--sharding", sharding,
                 "--debug-skip-bucket", "1", "-o", str(out), *SMALL)
    assert res.returncode != 0
    assert "verification failed" in res.stderr
    assert not out.exists()


@pytest.mark.skipif(NP < 2, reason="a hung peer needs two ranks")
@pytest.mark.parametrize("comm,path", COMMS, ids=COMM_IDS)
def test_a_stopped_rank_ends_the_job_through_the_watchdog(tmp_path, comm, path):
    """Rank 1 stops itself (SIGSTOP) in its first timed step; without the watchdog the job hangs forever."""
    out = tmp_path / "hang.json"
    start = time.monotonic()
    res = mpirun("--model", "tiny", *comm, "--timeout", "3", "--debug-stop-rank", "1", "-o", str(out), *SMALL,
                 timeout=180)
    elapsed = time.monotonic() - start
    assert res.returncode != 0
    assert "watchdog: a data-parallel step did not finish within 3 s" in res.stderr, res.stderr
    # A rank that waited for the stopped one reports it (with 3 ranks, rank 0's or rank 2's watchdog may fire first,
    # and the launcher then ends the job before the other prints).
    assert re.search(r"error on rank [02-9]", res.stderr), res.stderr
    assert elapsed < 90, f"the job took {elapsed:.0f} s to end"
    assert not out.exists()


@pytest.mark.skipif(not GPU, reason="device memory")
def test_cuda_aware_sharded_is_refused(tmp_path):
    """Device-pointer reduce-scatter + all-gather gave wrong parameters with a CUDA-aware Open MPI 4.1 (no UCX)."""
    out = tmp_path / "bad.json"
    res = mpirun("--model", "tiny", "--comm", "mpi", "--mpi-path", "cuda-aware", "--shard", "-o", str(out), *SMALL)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "cannot run sharded" in res.stderr
    assert not out.exists()


@pytest.mark.skipif(GPU or NP < 2, reason="host input errors, across ranks")
@pytest.mark.parametrize("var,message", [
    ("NAGBENCH_P2P_REDUCE", "NAGBENCH_P2P_REDUCE must be pull, push or push-sm"),
    ("NAGBENCH_P2P_FLAGS", "NAGBENCH_P2P_FLAGS must be kernel or memop"),
    ("NAGBENCH_P2P_START_AHEAD", "NAGBENCH_P2P_START_AHEAD must be a count"),
    ("NAGBENCH_P2P_PUSH_THREADS", "NAGBENCH_P2P_PUSH_THREADS must be a thread count")])
def test_a_bad_p2p_variable_ends_every_rank_with_status_2(tmp_path, var, message):
    out = tmp_path / "bad.json"
    cmd = [*mpi_launch(NP), BIN, "--backend", BACKEND, "--model", "tiny", "--comm", "p2p", "-o", str(out), *SMALL]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(ENV, **{var: "sideways"}))
    assert res.returncode == 2, res.stdout + res.stderr
    errors = [l for l in res.stderr.splitlines() if l.startswith("nagbench: error:")]
    assert len(errors) == 1 and message in errors[0], res.stderr
    assert not out.exists()


@pytest.mark.skipif(NP > 2, reason="sums of more than two values depend on the reduction order")
def test_fused_reduce_update_gives_the_bits_of_reduce_then_update(tmp_path):
    """p2p sums every rank's gradient inside the update kernel; mpi / nccl reduce first, then update: the same
    arithmetic, so the same bits, sharded or not."""
    hashes = {}
    for comm, path in COMMS:
        out = tmp_path / f"{comm[1]}.json"
        res = mpirun("--model", "tiny,resnet50", *comm, "--sharding", "replicated,sharded", "--bucket-mb", "1",
                     "-o", str(out), *SMALL)
        assert res.returncode == 0, res.stdout + res.stderr
        for r in records(out):
            assert r["verified"] is True and r["ranks_agree"] is True
            hashes.setdefault(r["model"], set()).add(r["params_hash"])
    assert all(len(h) == 1 for h in hashes.values()), hashes


def with_steps(args, steps):
    i = args.index("--steps")
    return args[:i + 1] + [str(steps)] + args[i + 2:]


@pytest.mark.parametrize("comm,path", COMMS, ids=COMM_IDS)
def test_timeline_marks_every_bucket_of_one_more_untimed_step(tmp_path, comm, path):
    """--timeline: one more step after the timed ones, with marks around every bucket's reduction and update on each
    rank (device events on GPUs); it is not timed (reps stay --steps) but it is a real step: verified, and the
    parameters are those of a run with one more timed step. CUDA p2p also marks where its handshake starts."""
    out = tmp_path / "tl.json"
    res = mpirun("--model", "tiny", *comm, "--sharding", "replicated,sharded", "--overlap", "on,off",
                 "--bucket-mb", "0.01", "--timeline", "-o", str(out), *SMALL)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("timeline of one more, untimed step") == 4
    recs = records(out)
    plain = tmp_path / "plain.json"
    res = mpirun("--model", "tiny", *comm, "--sharding", "replicated,sharded", "--overlap", "on,off",
                 "--bucket-mb", "0.01", "-o", str(plain), *with_steps(SMALL, 4))
    assert res.returncode == 0, res.stdout + res.stderr
    assert [r["params_hash"] for r in recs] == [r["params_hash"] for r in records(plain)]
    for r in recs:
        assert r["verified"] is True and r["ranks_agree"] is True and r["reps"] == 3, (r["mode"], r["overlap"])
        assert r["buckets"] >= 2 and len(r["timeline"]) == NP
        # The default: bucket k is updated on stream k mod 4 (host backends have one instance, which the timeline
        # says).
        assert r["update_streams"] == 4
        n = 4 if GPU else 1
        for t in r["timeline"]:
            assert len(t["buckets"]) == r["buckets"] and t["host_comm_update_s"] > 0
            assert t["update_streams"] == n and [b["update_stream"] for b in t["buckets"]] == \
                [k % n for k in range(r["buckets"])]
            # Each instance marks its buckets in order (each update stream its own); a reduction starts after the
            # gradients' mark, an update after its reduction's mark; every update before the step's end mark.
            reduced = [b["reduced_s"] for b in t["buckets"]]
            updated = [b["updated_s"] for b in t["buckets"]]
            assert 0 < t["gradients_s"] <= reduced[0] and reduced == sorted(reduced)
            assert all(updated[k::n] == sorted(updated[k::n]) for k in range(n))
            assert all(rd <= up for rd, up in zip(reduced, updated)) and max(updated) <= t["updates_end_s"]
            cuda_p2p = GPU and comm[1] == "p2p"
            for b in t["buckets"]:
                # A mark is enqueued before it happens (the host's clock starts when it has seen the start mark).
                assert 0 < b["reduced_enqueued_s"] <= b["reduced_s"] + 1e-6
                assert 0 < b["updated_enqueued_s"] <= b["updated_s"] + 1e-6
                assert (b["handshake_s"] is not None) == cuda_p2p
                if cuda_p2p:
                    assert t["gradients_s"] <= b["handshake_s"] <= b["reduced_s"]
    plot = tmp_path / "tl.png"
    res = subprocess.run([sys.executable, PLOT_TIMELINE, str(out), "--out", str(plot), "--index", "1"],
                         capture_output=True, text=True)
    if "No module named 'matplotlib'" not in res.stderr:
        assert res.returncode == 0 and plot.stat().st_size > 0, res.stderr
        bad = tmp_path / "bad.png"
        res = subprocess.run([sys.executable, PLOT_TIMELINE, str(out), "--out", str(bad), "--index", "4"],
                             capture_output=True, text=True)
        assert res.returncode == 2 and "--index 4 is out of range" in res.stderr and not bad.exists()
    res = subprocess.run([sys.executable, PLOT_TIMELINE, str(out), "--table"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = [x for x in res.stdout.splitlines() if x.startswith("| tiny |")]
    assert len(rows) == 4 * NP and all(x.count("|") == 17 for x in rows), res.stdout


@pytest.mark.parametrize("comm,path", COMMS, ids=COMM_IDS)
def test_update_streams_give_the_bits_of_one_stream(tmp_path, comm, path):
    """--update-streams: bucket k's update runs on stream k mod N (GPUs; host backends have one instance). Buckets'
    updates touch disjoint memory, so any N gives the bits of one stream, verified and equal on every rank, in
    every mode; on GPUs also replayed from a CUDA graph. A skipped bucket is still caught with several streams."""
    out = tmp_path / "streams.json"
    res = mpirun("--model", "tiny", *comm, "--sharding", "replicated,sharded", "--overlap", "on,off",
                 "--update-streams", "1,3", "--bucket-mb", "0.005", "-o", str(out), *SMALL)
    assert res.returncode == 0, res.stdout + res.stderr
    recs = records(out)
    if GPU and comm[1] != "mpi":
        graph = tmp_path / "graph.json"
        res = mpirun("--model", "resnet50", *comm, "--sharding", "replicated,sharded", "--update-streams", "1,3",
                     "--launch", "graph", "--bucket-mb", "5", "-o", str(graph), *with_steps(SMALL, 4))
        assert res.returncode == 0, res.stdout + res.stderr
        recs += records(graph)
    assert {r["update_streams"] for r in recs} == {1, 3} and all(r["buckets"] >= 4 for r in recs)
    pairs = {}
    for r in recs:
        assert r["verified"] is True and r["ranks_agree"] is True, (r["mode"], r["update_streams"], r["verification"])
        key = (r["model"], r["mode"], r["overlap"], r["launch"])
        pairs.setdefault(key, {})[r["update_streams"]] = r["params_hash"]
    assert all(set(p) == {1, 3} and p[1] == p[3] for p in pairs.values()), pairs
    if GPU:
        assert "3 update streams" in res.stdout
    if NP >= 2:
        assert_skipped_bucket_is_caught(tmp_path, *comm, "--bucket-mb", "0.005", "--update-streams", "3",
                                        "--debug-skip-bucket", "2")


# --launch graph: the communicators whose steps a CUDA graph can hold (MPI calls run on the host).
GRAPH_COMMS = [c for c in COMMS if c[0][1] != "mpi"] + ([(["--comm", "none"], "none")] if NP == 1 else [])


@pytest.mark.skipif(not GPU, reason="CUDA graphs (hosts: test_input_errors_end_every_rank_with_status_2)")
@pytest.mark.parametrize("comm,path", GRAPH_COMMS, ids=["/".join(c[0][1::2]) for c in GRAPH_COMMS])
def test_graph_replay_gives_the_bits_of_direct_launches(tmp_path, comm, path):
    """--launch graph: after a first step launched directly, each step's reductions and updates replay one of two
    CUDA graphs (odd and even steps: p2p's flags alternate their values); 4 timed steps replay each graph at least
    once more after its capture; tiny in 10 KB buckets, resnet50 in 5 MiB ones. Same bits as direct launches,
    verified, ranks bitwise equal; a skipped bucket is still caught, so the check can fail under replay."""
    recs = []
    for model, buckets in (("tiny", "0.01"), ("resnet50", "5")):  # several buckets each
        out = tmp_path / f"graph_{model}.json"
        res = mpirun("--model", model, *comm, "--sharding", "replicated,sharded", "--bucket-mb", buckets,
                     "--launch", "direct,graph", "-o", str(out), *with_steps(SMALL, 4))
        assert res.returncode == 0, res.stdout + res.stderr
        recs += records(out)
    assert len(recs) == 2 * 2 * 2 and all(r["buckets"] >= 2 for r in recs)
    for r in recs:
        assert r["verified"] is True and r["ranks_agree"] is True, (r["mode"], r["launch"], r["verification"])
        assert r["comm_path"] == expected_path(path, r)
        assert r["graphs_captured"] == (2 if r["launch"] == "graph" else 0)  # replayed, not launched directly
    pairs = {}
    for r in recs:
        pairs.setdefault((r["model"], r["mode"], r["bucket_mb"]), {})[r["launch"]] = r["params_hash"]
    assert all(set(p) == {"direct", "graph"} and p["direct"] == p["graph"] for p in pairs.values()), pairs
    if NP >= 2:
        assert_skipped_bucket_is_caught(tmp_path, *comm, "--bucket-mb", "0.01", "--launch", "graph",
                                        "--debug-skip-bucket", "1")


@pytest.mark.parametrize("comm,path", ALLREDUCE_COMMS, ids=["/".join(c[0][1::2]) for c in ALLREDUCE_COMMS])
def test_allreduce_sweep_is_exact(tmp_path, comm, path):
    out = tmp_path / "ar.json"
    res = mpirun("--comm-only", *comm, "--comm-min", "4K", "--comm-max", "1M", "--comm-iters", "3",
                 "--comm-reps", "2", "-q", "-o", str(out), *(["--allow-gpu-sharing"] if GPU else []))
    assert res.returncode == 0, res.stderr
    rec = records(out)[0]
    assert rec["benchmark"] == "allreduce" and rec["verified"] is True
    assert [row["bytes"] for row in rec["rows"]] == [4096 << i for i in range(9)]
    for row in rec["rows"]:
        bus = row["out_of_place"]["busbw_GBps"]
        alg = row["out_of_place"]["algbw_GBps"]
        assert bus == pytest.approx(alg * (2 * (NP - 1) / NP if NP > 1 else 0.0))


@pytest.mark.skipif(GPU or NP < 2, reason="host input errors, across ranks (one process: tests/cli)")
@pytest.mark.parametrize("args,needle", [
    (["--comm", "none"], "--comm none runs a single rank"),
    (["--comm", "nccl"], "nccl"),
    (["--comm", "mpi", "--dtype", "bf16"], "fp32 and fp64"),
    (["--comm", "mpi", "--bucket-mb", "0"], "--bucket-mb"),
    (["--comm-only", "--comm", "none"], "--comm"),
    (["--comm-only", "--comm", "p2p"], "--comm p2p fuses the reduction"),
    (["--comm", "mpi", "--mpi-path", "cuda-aware"], "needs GPU memory"),
    (["--comm", "p2p", "--launch", "graph"], "--launch graph needs --backend cuda"),
    (["--comm", "mpi", "--launch", "graph"], "--launch graph cannot replay --comm mpi"),
])
def test_input_errors_end_every_rank_with_status_2(tmp_path, args, needle):
    out = tmp_path / "bad.json"
    res = mpirun("--model", "tiny", *args, "-o", str(out), *SMALL)
    assert res.returncode == 2, res.stdout + res.stderr
    errors = [l for l in res.stderr.splitlines() if l.startswith("nagbench: error:")]
    assert len(errors) == 1 and needle in errors[0], res.stderr
    assert not out.exists()


@pytest.mark.skipif(not (GPU and HAVE_NCCL), reason="NCCL on GPUs")
def test_registered_nccl_buffers_give_the_same_bits(tmp_path):
    """Registered buffers (the default; arenas from ncclMemAlloc, registered with the communicator) change where
    the buffers live, not the arithmetic: verified records, named for the path, with the parameters' bits of
    NAGBENCH_NCCL_REGISTER=0 (NCCL's own staging); the --comm-only sweep verifies its sums too."""
    hashes = {}
    for reg in ("0", "1"):
        out = tmp_path / f"reg{reg}.json"
        cmd = [*mpi_launch(NP), BIN, "--backend", BACKEND, "--model", "tiny,resnet50", "--comm", "nccl",
               "--sharding", "replicated,sharded", "--bucket-mb", "1", "-o", str(out), *SMALL]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                             env=dict(ENV, NAGBENCH_NCCL_REGISTER=reg))
        assert res.returncode == 0, res.stdout + res.stderr
        for r in records(out):
            assert r["verified"] is True and r["ranks_agree"] is True
            assert r["comm_path"] == ("nccl-registered" if reg == "1" else "nccl")
            hashes.setdefault((r["model"], r["mode"]), set()).add(r["params_hash"])
    assert all(len(h) == 1 for h in hashes.values()), hashes
    out = tmp_path / "comm.json"
    cmd = [*mpi_launch(NP), BIN, "--backend", BACKEND, "--comm-only", "--comm", "nccl", "--comm-max", "8M",
           "-o", str(out), "-q"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(ENV, NAGBENCH_NCCL_REGISTER="1"))
    assert res.returncode == 0, res.stdout + res.stderr
    rec = records(out)[0]
    assert rec["verified"] is True and rec["comm_path"] == "nccl-registered"


@pytest.mark.skipif(not (GPU and HAVE_NCCL), reason="NCCL on GPUs")
def test_a_bad_nccl_register_value_ends_every_rank_with_status_2(tmp_path):
    out = tmp_path / "bad.json"
    cmd = [*mpi_launch(NP), BIN, "--backend", BACKEND, "--model", "tiny", "--comm", "nccl", "-o", str(out), *SMALL]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(ENV, NAGBENCH_NCCL_REGISTER="yes"))
    assert res.returncode == 2, res.stdout + res.stderr
    errors = [l for l in res.stderr.splitlines() if l.startswith("nagbench: error:")]
    assert len(errors) == 1 and "NAGBENCH_NCCL_REGISTER must be 0 or 1" in errors[0], res.stderr
    assert not out.exists()
