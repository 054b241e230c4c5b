"""scripts/train_report.py: convergence figures and the time-to-solution table from real `train` records (written
here by $NAGBENCH_BIN, skipped without it) in all three forms a record file takes (one document, a list, JSON
Lines); other kinds of record skipped with a warning; bad input is one line and status 2 with nothing written."""
import csv
import json
import os
import subprocess

import pytest

from helpers import REPO, nagbench_bin, one_line_error, run

SCRIPT = os.path.join(REPO, "scripts", "train_report.py")

# quadratic_k1e2 (kappa 100) to a relative gap of 1e-6: tens to hundreds of full-batch steps on 4,096 parameters
RUNS = {
    "gd": ["--optimizer", "gd", "--lr", "0.01"],
    "heavy_ball": ["--optimizer", "heavy_ball", "--lr", "0.033", "--beta", "0.669"],
    "restart": ["--optimizer", "nesterov1983", "--lr", "0.01", "--schedule", "--restart", "gradient"],
}


def train(binary, out, args):
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_PROC_BIND="false", KOKKOS_DISABLE_WARNINGS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    res = subprocess.run([binary, "--problem", "quadratic_k1e2", "--dtype", "fp64", "--target", "1e-6", "--steps",
                          "2000", "-q", "--output", str(out), *args], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Three real records: gd and heavy ball in one JSON list, nesterov1983 with restarts as JSON Lines."""
    binary = nagbench_bin()
    d = tmp_path_factory.mktemp("records")
    for name, args in RUNS.items():
        train(binary, d / (name + (".jsonl" if name == "restart" else ".json")), args)
    recs = {name: json.loads((d / f"{name}.json").read_text()) for name in ("gd", "heavy_ball")}
    (d / "list.json").write_text(json.dumps([recs["gd"], recs["heavy_ball"]]))
    (d / "gd.json").unlink()
    (d / "heavy_ball.json").unlink()
    recs["restart"] = json.loads((d / "restart.jsonl").read_text().splitlines()[0])
    for r in recs.values():
        assert r["benchmark"] == "train" and isinstance(r["iterations_to_target"], int)
    # not a train record: skipped with a warning, not an error
    (d / "other.json").write_text(json.dumps({"schema_version": 2, "benchmark": "allreduce", "rows": []}))
    return d, recs


def test_figures_and_tables(records, tmp_path):
    d, recs = records
    out = tmp_path / "out"
    res = run(SCRIPT, d / "list.json", d / "restart.jsonl", d / "other.json", "--out", out, "--title", "trial")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    warnings = [line for line in res.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "other.json" in warnings[0] and "allreduce" in warnings[0], res.stderr

    png = (out / "convergence_quadratic_k1e2.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
    svg = (out / "convergence_quadratic_k1e2.svg").read_text()
    assert "theory" in svg and "heavy_ball lr=0.033 beta=0.669" in svg and "restart gradient" in svg
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "convergence_quadratic_k1e2.png", "convergence_quadratic_k1e2.svg", "time_to_solution.csv",
        "time_to_solution.md"])  # and no staging folder left behind

    # CSV: one row per record, sorted by optimizer; the measured and predicted iteration counts of each record
    rows = list(csv.DictReader((out / "time_to_solution.csv").open()))
    assert [r["optimizer"].split()[0] for r in rows] == ["gd", "heavy_ball", "nesterov1983"]
    want = [recs["gd"], recs["heavy_ball"], recs["restart"]]
    for row, rec in zip(rows, want):
        assert int(row["iterations_to_target"]) == rec["iterations_to_target"]
        theory = rec["theory_iterations_to_target"]
        assert row["theory_iterations_to_target"] == ("" if theory is None else str(theory))
        assert float(row["time_to_target_s"]) == pytest.approx(rec["time_to_target_s"])
        assert float(row["step_median_s"]) == pytest.approx(rec["median_s"])
        assert row["ranks"] == "1" and row["problem"] == "quadratic_k1e2" and row["verified"] == "True"
    assert rows[2]["restart"] == "gradient" and int(rows[2]["restarts"]) == recs["restart"]["restarts"]
    # the predicted counts where the theory has one (gd and heavy ball on a quadratic: exact)
    assert recs["gd"]["theory_iterations_to_target"] == recs["gd"]["iterations_to_target"]

    # Markdown: the same rows, "measured / theory" iterations
    md = (out / "time_to_solution.md").read_text()
    assert md.startswith("# trial\n")
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 3  # header and one row per record
    for line, rec in zip(table[1:], want):
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        theory = rec["theory_iterations_to_target"]
        assert f"{rec['iterations_to_target']} / {'—' if theory is None else theory}" in cells


def test_one_file_of_each_form_alone(records, tmp_path):
    d, recs = records
    res = run(SCRIPT, d / "restart.jsonl", "--out", tmp_path)
    assert res.returncode == 0 and not res.stderr, res.stderr
    rows = list(csv.DictReader((tmp_path / "time_to_solution.csv").open()))
    assert len(rows) == 1 and int(rows[0]["iterations_to_target"]) == recs["restart"]["iterations_to_target"]


def test_bad_input_is_one_line_status_2_and_nothing_written(tmp_path):
    out = tmp_path / "out"
    one_line_error(run(SCRIPT, tmp_path / "missing.json", "--out", out), "no such file", "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    one_line_error(run(SCRIPT, bad, "--out", out), "bad.json", "not valid JSON")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"benchmark": "dp_step"}))
    res = run(SCRIPT, other, "--out", out)
    assert res.returncode == 2 and "no train records" in res.stderr.splitlines()[-1], res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "other.json"]


def test_out_that_cannot_be_created(records, tmp_path):
    d, _ = records
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_line_error(run(SCRIPT, d / "restart.jsonl", "--out", blocker / "out"), "--out", "cannot create")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
