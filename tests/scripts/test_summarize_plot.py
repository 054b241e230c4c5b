"""scripts/summarize.py and scripts/plot.py (kept for the device scripts and existing commands; built on
nagbench-report's loader): tables and target ratios of committed records, the whole results/ folder read without a
traceback, one flat CSV, figures that never mix commits or take a maximum over backends, one-line errors."""
import csv
import io
import os
import subprocess
import sys

from helpers import REPO, RESULTS, census

FINAL = os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-27-dp-bound", "final")


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(REPO, "scripts", script), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_summarize_prints_tables_and_the_target_ratios():
    res = run("summarize.py", FINAL)
    assert res.returncode == 0, res.stderr
    for table in ("[dp_step]", "[allreduce]", "[torch_allreduce]", "[comparisons]"):
        assert table in res.stdout
    lines = res.stdout.splitlines()
    gib = [l for l in lines if l.startswith("allreduce 2 ranks 1073741824 B:") and "of torch" in l]
    assert len(gib) == 1 and "329.6 (4 runs" in gib[0] and "= 99.9% of torch 330.1 (3 runs" in gib[0], gib
    ratios = [l for l in lines if l.startswith("dp_step vit_l_16 2 ranks") and "x one allreduce of 1217306528 B" in l]
    assert len(ratios) >= 8
    assert all(float(l.split(" = ")[1].split(" x ")[0]) > 1.0 for l in ratios)  # never faster than one call


def test_summarize_whole_results_folder_without_traceback():
    res = run("summarize.py", RESULTS)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    # one warning per committed file that holds no record (tests/scripts/helpers.py counts them independently)
    assert res.stderr.count("warning:") == len(census(RESULTS)[0]) and "truncated" in res.stderr


def test_summarize_csv_is_one_flat_table():
    res = run("summarize.py", "--csv", FINAL)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("benchmark,") == 1
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert {r["benchmark"] for r in rows} == {"dp_step", "allreduce", "torch_allreduce"}


def test_plot_writes_the_figures(tmp_path):
    res = run("plot.py", os.path.dirname(FINAL), "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    for name in ("allreduce_busbw", "dp_buckets"):
        data = (tmp_path / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
        assert (tmp_path / f"{name}.svg").exists()
    # one bucket series per commit: the folder holds three
    svg = (tmp_path / "dp_buckets.svg").read_text()
    for commit in ("fa04661", "c2748d3", "3447196"):
        assert commit in svg
    assert not list(tmp_path.glob("*.tmp.*"))


def test_plot_update_panels_per_backend(tmp_path):
    res = run("plot.py", os.path.join(RESULTS, "nvidia-h100-80gb-hbm3"), "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    svg = (tmp_path / "update_pct_roof.svg").read_text()
    assert "cuda on NVIDIA H100 80GB HBM3" in svg and "openmp on Intel(R) Xeon(R) Processor" in svg


def test_plot_bad_input_is_one_line_and_status_2(tmp_path):
    res = run("plot.py", tmp_path / "missing", "--out", tmp_path / "o")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "no such file" in res.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run("plot.py", empty, "--out", tmp_path / "o")
    assert res.returncode == 2 and "no nagbench records" in res.stderr
