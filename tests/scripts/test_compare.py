"""The regression gate: nagbench-report compare BASE NEW --threshold matches points by configuration and device,
prints NEW/BASE ratios and fails past the threshold; compare --references checks against per-system reference
values with bounds; the committed reference files are exactly what `references` writes from the committed records
(no hand-edited numbers)."""
import json
import os
import shlex

import pytest
import yaml

from helpers import REPO, REPORT, RESULTS, one_line_error, run

FINAL = os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-27-dp-bound", "final")
SUITE = os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-27-dp-bound", "suite")
REFS = os.path.join(REPO, "inputs", "sweeps", "references")


def slowed(tmp_path, factor, only=None):
    """A copy of the final records with every time (or those of one kind) multiplied by factor."""
    out = tmp_path / f"x{factor}"
    out.mkdir()
    for name in os.listdir(FINAL):
        if not name.endswith(".json"):
            continue
        doc = json.load(open(os.path.join(FINAL, name)))
        for r in doc if isinstance(doc, list) else [doc]:
            if r.get("benchmark") == "torch_allreduce" or (only and r.get("benchmark") != only):
                continue
            if "median_s" in r:
                r["median_s"] *= factor
                for ph in (r.get("phases") or {}).values():
                    if ph:
                        ph["median_s"] *= factor
            for row in r.get("rows", []):
                row["out_of_place"]["time_s"] *= factor
        (out / name).write_text(json.dumps(doc))
    return out


def test_same_records_pass_with_ratio_one():
    res = run(REPORT, "compare", FINAL, FINAL, "--threshold", "5%", "-q")
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [l for l in res.stdout.splitlines() if l.startswith(("dp_step", "allreduce"))]
    assert len(lines) == 56 and all(" 1.000  ok" in l for l in lines)
    assert "56 points matched; all within 5.0%" in res.stdout


def test_slowdown_past_the_threshold_fails(tmp_path):
    res = run(REPORT, "compare", FINAL, slowed(tmp_path, 1.10, only="dp_step"), "--threshold", "5%", "-q")
    assert res.returncode == 1, res.stdout
    slower = [l for l in res.stdout.splitlines() if "SLOWER" in l]
    assert len(slower) == 42 and all(" 1.100  SLOWER" in l for l in slower)
    res = run(REPORT, "compare", FINAL, slowed(tmp_path, 1.03), "--threshold", "0.05", "-q")
    assert res.returncode == 0, res.stdout


def test_speedups_pass_unless_asked(tmp_path):
    fast = slowed(tmp_path, 0.8)
    assert run(REPORT, "compare", FINAL, fast, "-q").returncode == 0
    res = run(REPORT, "compare", FINAL, fast, "-q", "--faster-too")
    assert res.returncode == 1 and "FASTER" in res.stdout


def test_real_change_between_commits_is_flagged():
    # suite/ ran before the cache-preference fix: NCCL steps were slower; compared the other way, final is faster.
    res = run(REPORT, "compare", FINAL, SUITE, "--threshold", "5%", "-q")
    assert res.returncode == 1 and "SLOWER" in res.stdout
    assert "only in NEW (not compared)" in res.stdout  # suite has staged-MPI points final has not


def test_no_common_point_is_an_input_error(tmp_path):
    h100 = os.path.join(RESULTS, "nvidia-h100-80gb-hbm3", "2026-11-27-update-ladder-1gpu", "records")
    one_line_error(run(REPORT, "compare", FINAL, h100, "-q"), "no point of NEW matches")
    one_line_error(run(REPORT, "compare", FINAL, "-q"), "two record sets")


@pytest.mark.parametrize("name", sorted(os.listdir(REFS)))
def test_committed_references_are_generated_not_edited(tmp_path, name):
    committed = os.path.join(REFS, name)
    doc = yaml.safe_load(open(committed))
    argv = shlex.split(doc["generated_by"])
    assert argv[:2] == ["nagbench-report", "references"]
    out = tmp_path / name
    res = run(REPORT, *argv[1:], "-o", out)
    assert res.returncode == 0, res.stderr
    assert out.read_text() == open(committed).read(), f"regenerate {committed} with: {doc['generated_by']} -o ..."
    # and the records they come from pass them
    sources = [a for a in argv[2:] if not a.startswith("--") and os.path.exists(os.path.join(REPO, a))]
    res = run(REPORT, "compare", "--references", committed, *sources[:1], "-q", "--require-all")
    assert res.returncode == 0, res.stdout


def test_references_catch_a_slowdown(tmp_path):
    refs = os.path.join(REFS, "nvidia-h200-x2.yaml")
    res = run(REPORT, "compare", "--references", refs, slowed(tmp_path, 1.08), "-q")
    assert res.returncode == 1 and "OUT OF BOUNDS" in res.stdout
    res = run(REPORT, "compare", "--references", refs, slowed(tmp_path, 1.02), "-q")
    assert res.returncode == 0, res.stdout
    one_line_error(run(REPORT, "compare", "--references", refs, FINAL, "--system", "other", "-q"), "not other")
    bad = tmp_path / "bad.yaml"
    bad.write_text("system: x\nreferences:\n- {match: {benchmark: update}, metric: speed, value: 1}\n")
    one_line_error(run(REPORT, "compare", "--references", bad, FINAL, "-q"), "references[0].metric")
