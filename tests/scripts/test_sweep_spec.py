"""Sweep specs (inputs/sweeps/*.yaml) and nagbench-sweep's checks: every committed spec is valid, a bad spec or
system file gets one line naming the key and status 2, and the expansion rules (one launch per configuration, the
one-rank baseline, tags that change with the configuration) hold."""
import glob
import os
import sys

import pytest
import yaml

from helpers import REPO, SWEEP, one_line_error, run

sys.path.insert(0, os.path.join(REPO, "job_scripts"))
from nagbench_sweep import spec as specmod  # noqa: E402

SPECS = sorted(glob.glob(os.path.join(REPO, "inputs", "sweeps", "*.yaml")))
SYSTEMS = sorted(glob.glob(os.path.join(REPO, "inputs", "sweeps", "systems", "*.yaml")))


def write(tmp_path, doc, name="spec.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return str(p)


def base():
    return {"name": "t", "defaults": {"backend": "openmp"},
            "experiments": [{"name": "strong", "scaling": "strong", "ranks": [1, 2], "model": "tiny", "comm": "mpi"}]}


def test_help():
    res = run(SWEEP, "--help")
    assert res.returncode == 0 and "nagbench-sweep run" in res.stdout
    for sub in ("check", "run", "job"):
        res = run(SWEEP, sub, "--help")
        assert res.returncode == 0 and "usage" in res.stdout


@pytest.mark.parametrize("path", SPECS, ids=os.path.basename)
def test_committed_specs_are_valid(path):
    res = run(SWEEP, "check", path)
    assert res.returncode == 0, res.stderr
    assert "valid" in res.stderr and res.stdout.count("\n") >= 3


@pytest.mark.parametrize("path", SYSTEMS, ids=os.path.basename)
def test_committed_system_files_render(path, tmp_path):
    res = run(SWEEP, "job", os.path.join(REPO, "inputs", "sweeps", "gpu-scaling.yaml"), "--system", path,
              "--out", tmp_path / "o", "--dry-run", *(["--scheduler", "slurm"] if "local" in path else []))
    if yaml.safe_load(open(path)).get("scheduler") == "local":
        one_line_error(res, "--scheduler")  # local systems are for 'nagbench-sweep run'
        return
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("#!/bin/bash") and not (tmp_path / "o").exists()  # --dry-run writes nothing


BAD = [
    # (change to the base spec, words the one-line error must hold)
    (lambda d: d["experiments"][0].update(variant="fast"), ["experiments[0].variant", "fast"]),
    (lambda d: d["experiments"][0].update(modle="tiny"), ["experiments[0].modle", "unknown key"]),
    (lambda d: d.update(extra=1), ["extra", "unknown key"]),
    (lambda d: d["defaults"].update(backend="hip"), ["defaults.backend", "hip"]),
    (lambda d: d["experiments"][0].pop("ranks"), ["experiments[0].ranks", "missing"]),
    (lambda d: d["experiments"][0].update(ranks=[0]), ["experiments[0].ranks[0]"]),
    (lambda d: d["experiments"][0].update(overlap="maybe"), ["experiments[0].overlap"]),
    (lambda d: d.update(name="has space"), ["name"]),
    (lambda d: d["experiments"][0].update(params=1000), ["experiments[0]", "exactly one of model, params"]),
    (lambda d: d["experiments"][0].update(comm="none"), ["experiments[0].comm", "more than one rank"]),
    (lambda d: d["experiments"][0].update(comm="nccl"), ["experiments[0].comm", "nccl needs backend cuda"]),
    (lambda d: d["experiments"][0].update(extra_args=["--output", "x.json"]), ["experiments[0].extra_args", "--output"]),
    (lambda d: d["experiments"][0].update(scaling="weak", model=None, params=4096) or d["experiments"][0].pop("model"),
     ["experiments[0].params", "weak scaling"]),
    (lambda d: d["experiments"][0].update(ranks=[3], ranks_per_node=2), ["experiments[0].ranks", "do not fill"]),
    (lambda d: d["experiments"].append(dict(d["experiments"][0])), ["used twice"]),
    (lambda d: d["experiments"][0].update(comm_only=True), ["experiments[0].model", "no model"]),
    (lambda d: d["defaults"].update(evict_mib=-1), ["defaults.evict_mib"]),
    (lambda d: d["experiments"][0].update(launch="eager"), ["experiments[0].launch", "eager"]),
    (lambda d: d["experiments"][0].update(update_streams=0), ["experiments[0].update_streams"]),
    (lambda d: d["experiments"][0].update(update_streams=[1, 9]), ["experiments[0].update_streams"]),
    (lambda d: d["experiments"][0].update(launch="graph"), ["experiments[0].launch", "backend cuda"]),
    (lambda d: d["experiments"][0].update(launch="graph", backend="cuda"), ["experiments[0].launch", "comm mpi"]),
    (lambda d: d["experiments"][0].update(launch="graph", backend="cuda", comm="nccl", overlap=["on", "off"]),
     ["experiments[0].launch", "overlap on"]),
    (lambda d: d["experiments"][0].update(launch="graph", backend="cuda", comm="nccl", comm_only=True, ranks=[2])
     or d["experiments"][0].pop("model"), ["experiments[0].launch", "allreduce"]),
    (lambda d: d["experiments"][0].update(launch=["direct", "graph"], backend="cuda", ranks=[1], variant="unfused")
     or d["experiments"][0].pop("comm"), ["experiments[0].launch", "unfused"]),
]


@pytest.mark.parametrize("change,words", BAD, ids=[" ".join(w) for _, w in BAD])
def test_bad_spec_is_one_line_naming_the_key(tmp_path, change, words):
    doc = base()
    change(doc)
    res = run(SWEEP, "check", write(tmp_path, doc))
    one_line_error(res, *words)


def test_unreadable_and_malformed_specs(tmp_path):
    one_line_error(run(SWEEP, "check", tmp_path / "missing.yaml"), "missing.yaml", "cannot read")
    one_line_error(run(SWEEP, "check", write(tmp_path, "name: [unclosed\n")), "not valid YAML")
    one_line_error(run(SWEEP, "check", write(tmp_path, "- a list\n")), "mapping")


def test_bad_system_and_flags(tmp_path):
    spec = write(tmp_path, base())
    one_line_error(run(SWEEP, "job", spec, "--system", write(tmp_path, {"schedular": "slurm"}, "s.yaml"),
                       "--out", tmp_path / "o"), "schedular", "unknown key")
    one_line_error(run(SWEEP, "job", spec, "--out", tmp_path / "o"), "scheduler", "missing")
    one_line_error(run(SWEEP, "job", spec, "--scheduler", "pbs", "--launcher", "jsrun", "--out", tmp_path / "o"),
                   "launcher", "jsrun")
    one_line_error(run(SWEEP, "job", spec, "--scheduler", "slurm", "--walltime", "1h", "--out", tmp_path / "o"),
                   "walltime")
    one_line_error(run(SWEEP, "job", spec, "--scheduler", "slurm", "--env", "no-equals", "--out", tmp_path / "o"),
                   "--env")
    gpu = base()
    gpu["defaults"].update(backend="cuda", ranks_per_node=2)
    one_line_error(run(SWEEP, "job", write(tmp_path, gpu, "g.yaml"), "--scheduler", "slurm", "--out", tmp_path / "o"),
                   "gpus_per_node")
    one_line_error(run(SWEEP, "job", write(tmp_path, gpu, "g.yaml"), "--scheduler", "slurm", "--gpus-per-node", "1",
                       "--out", tmp_path / "o"), "2 ranks per node but 1 GPUs")


def test_one_rank_is_the_comm_none_baseline_and_tags_are_unique():
    sweep = specmod.load(os.path.join(REPO, "inputs", "sweeps", "gpu-scaling.yaml"))
    tags = [p.tag for p in sweep.points]
    assert len(tags) == len(set(tags))
    for p in sweep.points:
        if p.ranks == 1 and "comm" in p.settings:
            assert p.args[p.args.index("--comm") + 1] == "none"
        assert "--output" not in p.args and "-q" not in p.args and "--tag" not in p.args
    # strong: 1 rank collapses nothing (comm none for every sharding x overlap), so 3 rank counts x 4
    assert len([p for p in sweep.points if p.experiment == "strong"]) == 12
    # one launch per configuration: no list left in the arguments
    assert not any("," in a for p in sweep.points for a in p.args if not a.startswith("--"))


def test_run_settings_become_nagbench_options(tmp_path):
    doc = base()
    doc["defaults"].update(evict_mib=0, roof_mib=8)
    for p in specmod.load(write(tmp_path, doc)).points:
        assert p.args[p.args.index("--evict-mib") + 1] == "0"
        assert p.args[p.args.index("--roof-mib") + 1] == "8"


def test_launch_is_an_axis(tmp_path):
    doc = {"name": "t", "defaults": {"backend": "cuda"},
           "experiments": [{"name": "launch", "scaling": "strong", "ranks": [1], "model": "resnet50",
                            "variant": "multi_tensor", "launch": ["direct", "graph"]}]}
    points = specmod.load(write(tmp_path, doc)).points
    assert [p.args[p.args.index("--launch") + 1] for p in points] == ["direct", "graph"]
    assert len({p.tag for p in points}) == 2
    # Data-parallel steps replay graphs too: comm nccl or p2p, overlap on.
    doc["experiments"][0].update(ranks=[1, 2], comm=["none", "nccl", "p2p"], overlap="on")
    points = specmod.load(write(tmp_path, doc, "dp.yaml")).points
    assert {(p.ranks, p.args[p.args.index("--comm") + 1], p.args[p.args.index("--launch") + 1])
            for p in points} >= {(2, "nccl", "graph"), (2, "p2p", "graph"), (1, "none", "graph")}


def test_update_streams_is_an_axis(tmp_path):
    doc = {"name": "t", "defaults": {"backend": "cuda"},
           "experiments": [{"name": "streams", "scaling": "strong", "ranks": [1, 2], "model": "vit_l_16",
                            "comm": "nccl", "update_streams": [1, 4]}]}
    points = specmod.load(write(tmp_path, doc)).points
    assert sorted((p.ranks, p.args[p.args.index("--update-streams") + 1]) for p in points) == \
        [(1, "1"), (1, "4"), (2, "1"), (2, "4")]
    assert len({p.tag for p in points}) == 4


def test_tag_changes_with_any_setting(tmp_path):
    a = specmod.load(write(tmp_path, base(), "a.yaml"))
    doc = base()
    doc["defaults"]["steps"] = 7
    b = specmod.load(write(tmp_path, doc, "b.yaml"))
    assert [p.tag.rsplit("/", 1)[0] for p in a.points] == [p.tag.rsplit("/", 1)[0] for p in b.points]
    assert not set(p.tag for p in a.points) & set(p.tag for p in b.points)
    again = specmod.load(write(tmp_path, base(), "c.yaml"))
    assert [p.tag for p in a.points] == [p.tag for p in again.points]  # stable: resuming finds them


def test_check_against_the_binary(tmp_path):
    from helpers import nagbench_bin
    binary = nagbench_bin()
    res = run(SWEEP, "check", os.path.join(REPO, "inputs", "sweeps", "cpu-ci.yaml"), "--nagbench", binary)
    assert res.returncode == 0, res.stderr
    doc = base()
    doc["experiments"][0]["model"] = "resnet5O"
    one_line_error(run(SWEEP, "check", write(tmp_path, doc), "--nagbench", binary), "resnet5O", "not shipped")
    one_line_error(run(SWEEP, "check", write(tmp_path, base()), "--nagbench", tmp_path / "nope"), "no nagbench binary")


def test_installed_layout(tmp_path):
    """The tools work from the prefix `cmake --install` makes with the rules asked of the top-level CMakeLists.txt:
    bin/nagbench-{sweep,report}, share/nagbench/python/{nagbench_sweep,nagbench_report}, share/nagbench/templates,
    share/nagbench/schema, share/nagbench/sweeps."""
    import shutil
    from helpers import REPORT
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    share = prefix / "share" / "nagbench"
    shutil.copy(SWEEP, prefix / "bin")
    shutil.copy(REPORT, prefix / "bin")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(os.path.join(REPO, "job_scripts", "nagbench_sweep"), share / "python" / "nagbench_sweep",
                    ignore=ignore)
    shutil.copytree(os.path.join(REPO, "scripts", "report", "nagbench_report"), share / "python" / "nagbench_report",
                    ignore=ignore)
    shutil.copytree(os.path.join(REPO, "job_scripts", "templates"), share / "templates")
    shutil.copytree(os.path.join(REPO, "docs", "schema"), share / "schema")
    shutil.copytree(os.path.join(REPO, "inputs", "sweeps"), share / "sweeps")
    res = run(prefix / "bin" / "nagbench-sweep", "job", share / "sweeps" / "gpu-scaling.yaml", "--system",
              share / "sweeps" / "systems" / "slurm-gpu.yaml", "--out", tmp_path / "o", "--dry-run", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("#!/bin/bash"), res.stderr
    res = run(prefix / "bin" / "nagbench-report", "validate", os.path.join(REPO, "results", "nvidia-h100-80gb-hbm3"),
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
