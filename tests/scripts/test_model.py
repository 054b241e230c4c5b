"""nagbench-report model: fitted on 2-GPU records only, the error on every held-out point reported (other bucket
sizes, models, rank counts), the extrapolation to 64-4096 GPUs labelled as an illustration with error bars and the
dominant term; ready for 4-GPU records (held out when present); a one-line error when the fit's records are
missing. Two forms are fitted and judged on the same records: the kept one and a candidate (docs/reports.md); the
kept one is the better on the 2-GPU held-out bucket sizes of the committed sets, the criterion that chooses."""
import json
import math
import os
import shutil
import sys

import pytest

from helpers import REPO, REPORT, RESULTS, one_line_error, run

DP = os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-27-dp-bound")
SCALING = os.path.join(RESULTS, "nvidia-h200-x4", "2026-11-27-scaling")
FRESH4 = os.path.join(RESULTS, "nvidia-h200-x4", "2026-11-28-model")
# Every committed set the docs' results table judges the model on, with the command's extra arguments.
COMMITTED = {"dp-bound": (DP,), "model-2gpu": (os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-28-model"),),
             "model-2gpu-registered": (os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-28-model-registered"),),
             "scaling-4gpu": (SCALING, "--same-code", "1c0c38e,1d3fd9f"), "model-4gpu": (FRESH4,)}


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """model.json of every committed set, each made once by the command as the docs give it."""
    out = {}
    for name, args in COMMITTED.items():
        d = tmp_path_factory.mktemp(name)
        res = run(REPORT, "model", *args, "--out", d, "--no-figures")
        assert res.returncode == 0, res.stderr
        out[name] = json.load(open(d / "model.json"))
    return out


def test_model_on_the_committed_h200_records(tmp_path):
    res = run(REPORT, "model", DP, "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.load(open(tmp_path / "model.json"))
    p = doc["parameters"]
    assert doc["fit"]["fit_ranks"] == 2 and doc["fit"]["commit"] == "fa04661" and doc["fit"]["bucket_mb"] == 25
    # beta is a link's bandwidth (H200 NVLink: 450 GB/s per direction), eta near the update's 96% of roof alone.
    assert 350 < p["beta_GBps"] < 450 and 0.85 < p["eta"] < 1 and 0 < p["tau_us"] < 20
    assert 0 <= p["kappa_replicated"] <= 1 and p["roof_GBps"] > 4000
    ev = doc["evaluation"]
    held = [e for e in ev if e["role"] == "held out"]
    assert len([e for e in ev if e["role"] == "fit"]) == 4 and len(held) == 20
    assert all(e["ranks"] == 2 for e in ev)
    # The 2-GPU held-out points: bucket sizes 5..1200 MiB, the other model, weak scaling. From 25 MiB up within
    # 8% (100 MiB overlapped: +7.3%, the overlap hides more there than a constant kappa says); sharded 5 MiB
    # buckets (two NCCL calls of 2.5 MiB of traffic each, below the fitted curve's 4 MiB) at -12%.
    assert {e["bucket_mb"] for e in held} == {5, 10, 25, 50, 100, 200, 400, 1200}
    assert max(abs(e["error_pct"]) for e in held if e["bucket_mb"] >= 25) < 8
    assert max(abs(e["error_pct"]) for e in held) < 15
    ex = doc["extrapolation"]
    assert sorted({e["gpus"] for e in ex}) == [64, 128, 256, 512, 1024, 2048, 4096]
    assert all(e["low_ms"] < e["predicted_ms"] < e["high_ms"] for e in ex)
    assert {e["dominant"] for e in ex} <= {"latency", "bandwidth", "pipeline fill", "local memory",
                                           "per-bucket overhead", "exposed update"}
    md = (tmp_path / "model.md").read_text()
    assert "illustration, not a measurement" in md and "alpha-beta model alone" in md
    assert (tmp_path / "figures" / "model_vs_measured.svg").exists()
    assert (tmp_path / "figures" / "model_extrapolation.png").exists()


def test_model_holds_on_the_committed_four_gpu_h200_records(tmp_path):
    """Fitted on the 2-GPU records of the 4 x H200 sweep, the five 4-GPU step points (held out) within 5%, and the
    4-GPU allreduce curve evaluated as held out (large sizes within 5%)."""
    res = run(REPORT, "model", SCALING, "--same-code", "1c0c38e,1d3fd9f", "--out", tmp_path, "--no-figures")
    assert res.returncode == 0, res.stderr
    doc = json.load(open(tmp_path / "model.json"))
    four = [e for e in doc["evaluation"] if e["ranks"] == 4]
    assert len(four) == 5 and all(e["role"] == "held out (4 ranks)" for e in four)
    assert max(abs(e["error_pct"]) for e in four) < 5
    curve = doc["allreduce_held_out"]
    assert {c["ranks"] for c in curve} == {4} and len(curve) >= 8
    assert max(abs(c["error_pct"]) for c in curve if c["bytes"] >= 2 ** 26) < 5


def test_four_gpu_records_are_held_out(tmp_path):
    """With (made-up) 4-GPU records beside the 2-GPU ones, the fit stays on 2 GPUs and the 4-GPU points are
    evaluated as held out."""
    data = tmp_path / "data"
    shutil.copytree(os.path.join(DP, "final"), data)
    steps = json.load(open(data / "dp_nccl_np2.json"))
    four = []
    for r in steps:
        r = json.loads(json.dumps(r))
        r["ranks"] = r["ranks_per_node"] = r["provenance"]["ranks"] = 4
        four.append(r)
    (data / "dp_nccl_np4.json").write_text(json.dumps(four))
    res = run(REPORT, "model", data, "--out", tmp_path / "m", "--no-figures")
    assert res.returncode == 0, res.stderr
    doc = json.load(open(tmp_path / "m" / "model.json"))
    roles = {e["role"] for e in doc["evaluation"]}
    assert "held out (4 ranks)" in roles and doc["fit"]["fit_ranks"] == 2
    assert "At other rank counts" in (tmp_path / "m" / "model.md").read_text()


def test_nccl_paths_are_never_fitted_or_judged_together(tmp_path):
    """Records of NCCL's staging and of registered buffers at one commit (e.g. an A/B of NAGBENCH_NCCL_REGISTER) are
    two sets: the fit takes one path, and every evaluated point comes from that path."""
    data = tmp_path / "data"
    shutil.copytree(os.path.join(DP, "final"), data)
    for name in ("dp_nccl_np2.json", "dp_nccl_np2_buckets.json", "comm_only_nccl_np2.json"):
        doc = json.load(open(data / name))
        other = json.loads(json.dumps(doc))
        for r in other if isinstance(other, list) else [other]:
            r["comm_path"] = "nccl-registered"
            for ph in (r.get("phases") or {}).values():
                if isinstance(ph, dict) and "median_s" in ph:
                    ph["median_s"] *= 0.5
            for row in r.get("rows", []):
                for side in ("in_place", "out_of_place"):
                    row[side]["time_s"] *= 0.5
        (data / name.replace(".json", "_registered.json")).write_text(json.dumps(other))
    res = run(REPORT, "model", data, "--out", tmp_path / "m", "--no-figures")
    assert res.returncode == 0, res.stderr
    doc = json.load(open(tmp_path / "m" / "model.json"))
    alone = run(REPORT, "model", os.path.join(DP, "final"), "--out", tmp_path / "a", "--no-figures")
    assert alone.returncode == 0, alone.stderr
    base = json.load(open(tmp_path / "a" / "model.json"))
    factor = {"nccl": 1.0, "nccl-registered": 0.5}[doc["fit"]["comm_path"]]
    measured = sorted(e["measured_ms"] for e in doc["evaluation"])
    assert measured == pytest.approx(sorted(e["measured_ms"] * factor for e in base["evaluation"]))
    assert f"NCCL path {doc['fit']['comm_path']}" in (tmp_path / "m" / "model.md").read_text()


def test_missing_fit_records_is_one_line(tmp_path):
    one_line_error(run(REPORT, "model", os.path.join(RESULTS, "nvidia-h100-80gb-hbm3"), "--out", tmp_path),
                   "model: no device and commit has")


def test_the_candidate_is_fitted_on_two_gpus_only_and_judged_beside_the_kept_form(committed):
    """The fresh 4 x H200 set (registered buffers): both forms fitted on its 2-GPU records alone (the candidate's kappa
    at the three measured bucket sizes), its twelve 4-GPU steps and the 4-GPU allreduce held out by both."""
    doc = committed["model-4gpu"]
    cand = doc["candidate"]
    assert doc["fit"]["fit_ranks"] == cand["fit"]["fit_ranks"] == 2
    assert cand["fit"]["kappa_buckets_mb"] == [25.0, 100.0, 400.0]
    assert set(cand["parameters"]["kappa_replicated"]) == {"25", "100", "400"}
    assert cand["parameters"]["lambda_us"] == 3.4 and cand["fit_quality"]["curve"] == "in place"
    for ev in (doc["evaluation"], cand["evaluation"]):
        assert all(e["ranks"] == 2 for e in ev if e["role"] == "fit")
        four = [e for e in ev if e["ranks"] == 4]
        assert len(four) == 12 and all(e["role"] == "held out (4 ranks)" for e in four)
    # docs/reports.md's results table: 8 of 12 within 5% (kept), 9 of 12 (candidate: its misses are the sharded
    # 25 MiB steps, -10.5 and -11.3%, and replicated 100 MiB overlapped, -6.0%).
    kept4 = {(e["mode"], e["overlap"], e["bucket_mb"]): e["error_pct"] for e in doc["evaluation"] if e["ranks"] == 4}
    cand4 = {(e["mode"], e["overlap"], e["bucket_mb"]): e["error_pct"] for e in cand["evaluation"] if e["ranks"] == 4}
    assert sum(abs(e) <= 5 for e in kept4.values()) == 8 and sum(abs(e) <= 5 for e in cand4.values()) == 9
    assert {k for k, e in cand4.items() if abs(e) > 5} == {("sharded", False, 25.0), ("sharded", True, 25.0),
                                                           ("replicated", True, 100.0)}
    # The 4-GPU allreduce: the candidate within 3% from 8 MiB (the kept form: 3.8-5.9% from 64 MiB, 17% at 8).
    assert max(abs(c["error_pct"]) for c in cand["allreduce_held_out"] if c["bytes"] >= 2 ** 23) < 3
    assert max(abs(c["error_pct"]) for c in doc["allreduce_held_out"] if c["bytes"] >= 2 ** 26) > 5


def test_the_kept_form_is_the_better_on_the_two_gpu_held_out_bucket_sizes(committed):
    """The criterion that chooses between the forms, on every committed set: at the fit rank count, the points held
    out by both (the candidate's fitted bucket sizes each held out in turn). Pooled: kept 71 of 87 within 5%,
    candidate 68 of 87; the kept form also has the lower median error."""
    kept, cand = [], []
    for name, doc in committed.items():
        rows = doc["held_out_at_fit_ranks_both_forms"]
        assert rows, name
        kept += [abs(r["kept_error_pct"]) for r in rows]
        cand += [abs(r["candidate_error_pct"]) for r in rows]
    assert len(kept) == 87
    assert sum(e <= 5 for e in kept) == 71 and sum(e <= 5 for e in cand) == 68
    assert sorted(kept)[len(kept) // 2] < sorted(cand)[len(cand) // 2]
    # Each 2-GPU bucket size held out in turn is a refit without its records: the candidate's error there differs
    # from its fitted one (kappa then comes from the neighbouring sizes).
    cv = committed["model-2gpu"]["candidate"]["bucket_sizes_held_out_in_turn"]
    assert sorted({r["bucket_mb"] for r in cv}) == [5, 10, 25, 50, 100, 200, 400, 1200] and len(cv) == 32


def test_candidate_terms():
    """The candidate's pieces on made-up numbers: the two CUDA streams of an overlapped step, the hop latency that a
    ring step shows only when it is latency-bound, kappa between measured bucket sizes."""
    for mod in ("numpy", "pandas", "scipy", "yaml"):
        pytest.importorskip(mod)
    sys.path.insert(0, os.path.join(REPO, "scripts", "report"))
    from nagbench_report import model as m
    # Replicated, updates shorter than the reductions: all hidden but the last; K - 1 run beside a reduction.
    assert m.streams(3, 1.0, 0.3, False) == pytest.approx((3.3, 0.6))
    # Update-bound: the updates set the pace; only the first one overlaps the last two reductions.
    assert m.streams(3, 0.1, 0.5, False) == pytest.approx((1.6, 0.2))
    # Sharded: the all-gathers follow the last reduce-scatter, so the last update hides behind them too.
    assert m.streams(3, 1.0, 0.3, True) == pytest.approx((3.0, 0.9))
    assert m.streams(1, 1.0, 0.3, True) == pytest.approx((1.3, 0.0))
    assert m.streams(1, 1.0, 0.3, False) == pytest.approx((1.3, 0.0))
    p = {"form": m.CANDIDATE, "L_us": 10.0, "beta_GBps": 400.0, "Lp_us": 0.0, "lambda_us": 3.4, "roof_GBps": 4000.0}
    bare = {**p, "lambda_us": 0.0}
    big, small = 64 * 2 ** 20, 2 * 2 ** 20
    for n in (2, 4, 8):  # bandwidth-bound: no latency per added ring step
        assert m.coll(p, big, n) == pytest.approx(m.coll(bare, big, n))
    hop = 6 * (3.4e-6 - small / 4 / (2 * 400e9))  # latency-bound: 2 (N - 1) exposed hops
    assert m.coll(p, small, 4) - m.coll(bare, small, 4) == pytest.approx(hop)
    q = {"kappa_replicated": {"25": 0.6, "100": 0.2}}
    assert m.kappa_at(q, "replicated", 50.0) == pytest.approx(0.6 - 0.4 * math.log(2) / math.log(4))
    assert m.kappa_at(q, "replicated", 5.0) == 0.6 and m.kappa_at(q, "replicated", 400.0) == 0.2
    assert m.kappa_at({"kappa_sharded": 0.5}, "sharded", 7.0) == 0.5
