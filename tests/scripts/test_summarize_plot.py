"""scripts/summarize.py and scripts/plot.py on committed records: the tables, the target ratios, the figures, and
the errors on bad input."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FINAL = os.path.join(REPO, "results", "nvidia-h200-x2", "2026-11-27-dp-bound", "final")


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(REPO, "scripts", script), *args], capture_output=True,
                          text=True, timeout=300)


def test_summarize_prints_tables_and_the_target_ratios():
    res = run("summarize.py", FINAL)
    assert res.returncode == 0, res.stderr
    for table in ("[dp_step]", "[allreduce]", "[torch_allreduce]", "[comparisons]"):
        assert table in res.stdout
    lines = res.stdout.splitlines()
    gib = [l for l in lines if l.startswith("allreduce 2 ranks 1073741824 B:") and "of torch" in l]
    assert len(gib) == 1, gib
    ratios = [l for l in lines if l.startswith("dp_step vit_l_16 2 ranks") and "x one allreduce of 1217306528 B" in l]
    assert len(ratios) >= 8
    assert all(float(l.split(" = ")[1].split(" x ")[0]) > 1.0 for l in ratios)  # never faster than one call


def test_summarize_csv_has_one_header_per_table():
    res = run("summarize.py", "--csv", FINAL)
    assert res.returncode == 0, res.stderr
    headers = [l for l in res.stdout.splitlines() if l.startswith("benchmark,")]
    assert len(headers) == 3 and "[comparisons]" not in res.stdout  # dp_step, allreduce, torch_allreduce


def test_plot_writes_the_figures(tmp_path):
    res = run("plot.py", FINAL, "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    for name in ("allreduce_busbw.png", "dp_buckets.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    assert not list(tmp_path.glob("*.tmp.png"))


def test_plot_bad_input_is_one_line_and_status_2(tmp_path):
    res = run("plot.py", str(tmp_path / "missing"), "--out", str(tmp_path / "o"))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "no such file" in res.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run("plot.py", str(empty), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "no nagbench records" in res.stderr
