"""nagbench-report on the committed records: every file of results/ read without a traceback (non-record files
skipped with one warning line each), tables grouped by commit, device, backend and configuration (never a maximum
over them), the scaling efficiencies the docs state, CUDA vs OpenMP, figures in PNG and SVG, one flat CSV."""
import csv
import json
import os
import shutil

import pytest

from helpers import REPO, REPORT, RESULTS, census, one_line_error, run

H200 = os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-27-dp-bound")
H100 = os.path.join(RESULTS, "nvidia-h100-80gb-hbm3", "2026-11-27-update-ladder-1gpu")


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    res = run(REPORT, "report", RESULTS, "--out", out)
    return out, res


def table_rows(md, first_cells):
    """Markdown table rows whose first cells are these."""
    rows = []
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[:len(first_cells)] == first_cells:
            rows.append(cells)
    return rows


def test_help():
    res = run(REPORT, "--help")
    assert res.returncode == 0 and "nagbench-report report" in res.stdout
    for sub in ("report", "csv", "compare", "references", "model", "validate"):
        assert run(REPORT, sub, "--help").returncode == 0


def test_whole_results_folder_reads_without_traceback(whole):
    out, res = whole
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    warnings = res.stderr.splitlines()
    # Every file that holds no record (Google Benchmark and GoogleTest output, a fitted model, the truncated file):
    # one line each, naming it, nothing else.
    not_records, kinds = census(RESULTS)
    assert len(not_records) >= 3
    assert len(warnings) == len(not_records), warnings
    assert all(w.startswith("nagbench-report: warning: ") for w in warnings), warnings
    for path in not_records:
        assert sum(os.path.relpath(path, REPO) in w or path in w for w in warnings) == 1, path
    assert sum("gbench_cuda.truncated.json" in w and "not valid JSON" in w for w in warnings) == 1
    assert sum("Google Benchmark output" in w for w in warnings) == 2
    md = (out / "report.md").read_text()
    records = sum(n for k, (n, _) in kinds.items() if k not in ("torch_allreduce", "failure"))
    assert records >= 200
    assert f"{records} nagbench records" in md and f"{kinds['torch_allreduce'][0]} PyTorch yardstick documents" in md


def test_update_is_never_a_maximum_over_backends(whole):
    md = (whole[0] / "report.md").read_text()
    # resnet50 fp32 fused on the H100 machine: CUDA 18.5% and the host's OpenMP 86.5%, each in its own row.
    cuda = table_rows(md, ["ffe8a6d", "NVIDIA H100 80GB HBM3", "cuda", "-", "resnet50", "fp32", "fused"])
    omp = table_rows(md, ["ffe8a6d", "Intel(R) Xeon(R) Processor", "openmp", "16", "resnet50", "fp32", "fused"])
    assert [r[11] for r in cuda] == ["18.5"] and [r[11] for r in omp] == ["86.5"]
    single = table_rows(md, ["ffe8a6d", "NVIDIA H100 80GB HBM3", "cuda", "-", "single_2p28", "fp32", "fused"])
    assert [r[11] for r in single] == ["96.3"]


def test_rows_that_differ_in_a_setting_say_which(tmp_path):
    """Records that differ only in a key the update table has no column for (here launch) are two rows, each naming
    its setting, and two bars: never one median over both."""
    src = os.path.join(H100, "records")
    rec = json.load(open(os.path.join(src, sorted(os.listdir(src))[0])))
    rec = rec[0] if isinstance(rec, list) else rec
    direct = dict(rec, launch="direct")
    graph = dict(rec, launch="graph", median_s=rec["median_s"] / 2, pct_of_roof=rec["pct_of_roof"] * 2)
    (tmp_path / "r.jsonl").write_text(json.dumps(direct) + "\n" + json.dumps(graph) + "\n")
    res = run(REPORT, "report", tmp_path, "--out", tmp_path / "out", "--no-figures")
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "out" / "report.md").read_text()
    rows = table_rows(md, [rec["provenance"]["git_commit"][:7]])
    assert sorted(r[7] for r in rows) == ["launch=direct", "launch=graph"]
    assert sorted(float(r[11]) for r in rows) == sorted(round(x, 1) for x in (direct["pct_of_roof"],
                                                                              graph["pct_of_roof"]))


def test_dp_rows_that_differ_in_launch_say_which(tmp_path):
    """The same for the data-parallel table: a dp record without `launch` (made before dp steps replayed graphs)
    counts as direct, and its graph twin is a row of its own that names it."""
    recs = json.load(open(os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-27-dp-bound", "final", "dp_nccl_np2.json")))
    old = (recs if isinstance(recs, list) else [recs])[0]
    assert "launch" not in old
    graph = dict(old, launch="graph", median_s=old["median_s"] / 2)
    (tmp_path / "r.jsonl").write_text(json.dumps(old) + "\n" + json.dumps(graph) + "\n")
    res = run(REPORT, "report", tmp_path, "--out", tmp_path / "out", "--no-figures")
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "out" / "report.md").read_text()
    rows = table_rows(md, [old["provenance"]["git_commit"][:7], old["device"]])
    assert sorted(r[10] for r in rows) == ["launch=direct", "launch=graph"]


def test_cuda_vs_openmp_same_node(whole):
    md = (whole[0] / "report.md").read_text()
    assert "## CUDA vs OpenMP, same node and inputs" in md
    rows = table_rows(md, ["ffe8a6d", "resnet50", "fp32", "fused", "NVIDIA H100 80GB HBM3"])
    assert len(rows) == 1
    assert rows[0][5] == "0.901" and rows[0][6] == "18.5" and rows[0][10] == "86.5"
    assert float(rows[0][11]) == pytest.approx(4.731514 / 0.901143, abs=0.01)
    assert (whole[0] / "figures" / "cuda_vs_openmp.svg").exists()


def test_bucket_points_are_per_commit(whole):
    md = (whole[0] / "report.md").read_text()
    # The 25 MiB, overlap on, replicated step of the final runs (commit fa04661) reads 6.281 ms as the docs say;
    # the two earlier commits of the same folder keep their own rows.
    rows = table_rows(md, ["fa04661", "NVIDIA H200", "vit_l_16", "2", "nccl", "nccl", "replicated", "on", "25",
                           "high"])
    assert [r[14] for r in rows] == ["6.281"]
    older = table_rows(md, ["c2748d3", "NVIDIA H200", "vit_l_16", "2", "nccl", "nccl", "replicated", "on", "25",
                            "high"])
    assert [r[14] for r in older] == ["6.794"]


def test_scaling_efficiencies_as_the_docs_state(whole):
    md = (whole[0] / "report.md").read_text()
    strong = table_rows(md, ["fa04661", "strong", "vit_l_16", "sharded", "off", "2", "nccl/nccl"])
    assert len(strong) == 1 and strong[0][7:11] == ["1.648", "0.932", "1.77", "0.88"]
    weak = table_rows(md, ["fa04661", "weak", "134217728 per rank", "sharded", "off", "2", "nccl/nccl"])
    assert len(weak) == 1 and weak[0][7] == "0.732" and weak[0][8] == "0.814" and weak[0][10] == "0.90"
    assert (whole[0] / "figures" / "scaling_efficiency.png").exists()


def test_allreduce_against_pytorch_per_folder(whole):
    md = (whole[0] / "report.md").read_text()
    rows = table_rows(md, ["2026-11-27-dp-bound/final", "fa04661", "2", "1073741824"])
    assert len(rows) == 1 and rows[0][4] == "329.6" and rows[0][5] == "4" and rows[0][6] == "330.1" \
        and rows[0][8] == "99.9"


def test_figures_png_and_svg(whole):
    figs = whole[0] / "figures"
    names = {p.stem for p in figs.iterdir() if p.suffix == ".png"}
    assert {"update_pct_roof", "roofline", "cuda_vs_openmp", "scaling_efficiency", "allreduce_busbw",
            "dp_buckets"} <= names
    assert any(n.startswith("step_breakdown_") for n in names)
    for n in names:
        png, svg = (figs / f"{n}.png").read_bytes(), (figs / f"{n}.svg").read_text()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
        assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert not [p for p in figs.iterdir() if ".tmp." in p.name]


def test_a_folder_of_overlapped_steps_and_their_timelines(tmp_path):
    """A folder whose dp steps all overlap (no comm phase timed apart) gets its report and figures: pandas' median
    dropped the comm column, all None, and the step breakdown failed with KeyError 'comm_s' (2026-11-29). A
    timeline is no configuration: the same launch with and without --timeline is one row of 4 records."""
    folder = os.path.join(RESULTS, "nvidia-h200-x1", "2026-11-29-dp-timeline")
    res = run(REPORT, "report", folder, "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    rows = table_rows((tmp_path / "out" / "report.md").read_text(), ["847e142", "NVIDIA H200", "vit_l_16"])
    assert len(rows) == 12 and all(r[-1] == "4" and r[12] == "-" for r in rows), rows
    assert any(n.startswith("step_breakdown_") for n in os.listdir(tmp_path / "out" / "figures"))
    res = run(REPORT, "csv", folder)
    assert res.returncode == 0 and "timeline" not in res.stdout.splitlines()[0].split(",")


def test_flat_csv_one_row_per_record(whole, tmp_path):
    with open(whole[0] / "records.csv") as fh:
        rows = list(csv.DictReader(fh))
    # update and dp_step: one row per record; allreduce: one per message size; torch yardsticks likewise.
    kinds = census(RESULTS)[1]
    for kind in ("update", "dp_step", "allreduce", "torch_allreduce"):
        assert kinds[kind][1] > 0 and sum(r["benchmark"] == kind for r in rows) == kinds[kind][1], kind
    for col in ("commit", "device", "backend", "model", "variant", "ranks", "mode", "overlap", "bucket_mb",
                "median_s", "pct_of_roof", "comm_update_s", "oop_busbw_GBps", "source"):
        assert col in rows[0], col
    res = run(REPORT, "csv", os.path.join(H200, "final"))
    assert res.returncode == 0 and res.stdout.count("benchmark,") == 1  # one header, not one per table


def test_jsonl_with_a_partial_last_line_and_failures(tmp_path):
    src = os.path.join(H200, "final", "dp_np1.json")
    recs = json.load(open(src))
    lines = [json.dumps(r) for r in recs[:3]]
    lines.append(json.dumps({"benchmark": "failure", "tag": "s/e/n2/x", "cause": "nagbench: error on rank 1 (vm): "
                             "boom", "exit_code": 1}))
    lines.append(json.dumps(recs[3])[:200])  # killed mid-write
    (tmp_path / "records.jsonl").write_text("\n".join(lines))
    res = run(REPORT, "report", tmp_path, "--out", tmp_path / "r", "--no-figures")
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("\n") == 1 and "records.jsonl:5: skipped" in res.stderr
    md = (tmp_path / "r" / "report.md").read_text()
    assert "## Failed sweep points" in md and "boom" in md and "3 nagbench records" in md


def test_bad_input(tmp_path):
    one_line_error(run(REPORT, "report", tmp_path / "missing", "--out", tmp_path / "o"), "no such file")
    (tmp_path / "empty").mkdir()
    one_line_error(run(REPORT, "report", tmp_path / "empty", "--out", tmp_path / "o"), "no nagbench records")
    (tmp_path / "gb").mkdir()
    shutil.copy(os.path.join(RESULTS, "nvidia-h200-x2", "2026-11-27-dp-gbench", "gbench", "gbench_openmp.json"),
                tmp_path / "gb")
    res = run(REPORT, "report", tmp_path / "gb", "--out", tmp_path / "o")
    assert res.returncode == 2 and res.stderr.count("\n") == 2 and "Google Benchmark" in res.stderr
    assert "Traceback" not in res.stderr


def test_validate(tmp_path):
    res = run(REPORT, "validate", RESULTS)
    assert res.returncode == 0 and "0 invalid" in res.stdout, res.stdout + res.stderr
    bad = json.load(open(os.path.join(H100, "records", "cuda_resnet50_fp32_fused.json")))
    del bad["median_s"]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    res = run(REPORT, "validate", tmp_path)
    assert res.returncode == 1 and "median_s" in res.stderr
