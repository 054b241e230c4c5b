"""docs/schema/record.schema.json: every committed record under results/ is valid (and every committed JSON file is
either records, a PyTorch yardstick, a GEMM / kernel probe, Google Benchmark or GoogleTest output, a performance
model, or the one truncated Google Benchmark file); the
schema admits fields it does not know (schema_version 2, new kinds) and rejects records that lack what every record
has."""
import copy
import glob
import json
import os

import jsonschema
import pytest

from helpers import REPO, RESULTS

SCHEMA = json.load(open(os.path.join(REPO, "docs", "schema", "record.schema.json")))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FILES = sorted(glob.glob(os.path.join(RESULTS, "**", "*.json"), recursive=True))
KERNEL_PROBES = ("gemm_probe", "torch_mlp_kernels", "launch_probe", "bucket_tail_probe")


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.relpath(p, RESULTS))
def test_committed_records_are_valid(path):
    try:
        doc = json.load(open(path))
    except json.JSONDecodeError:
        assert path.endswith(".truncated.json"), path  # the one Google Benchmark file cut off mid-write
        return
    if isinstance(doc, dict) and "benchmarks" in doc and "context" in doc:
        return  # Google Benchmark output
    if isinstance(doc, dict) and "testsuites" in doc:
        return  # GoogleTest's --gtest_output=json (the unit tests run on a GPU machine)
    if isinstance(doc, dict) and "parameters" in doc and "evaluation" in doc:
        return  # nagbench-report model's model.json
    early_probe = isinstance(doc, dict) and ({"rows", "width", "batch"} <= set(doc) or
                                             {"rows", "persistent_grid"} <= set(doc))
    if isinstance(doc, dict) and (doc.get("benchmark") in KERNEL_PROBES or early_probe):
        return  # kernel probes (scripts/device/*_probe.cu, torch_mlp_kernels.py; early ones lack "benchmark")
    for r in doc if isinstance(doc, list) else [doc]:
        if r.get("benchmark") in ("torch_allreduce", "torch_ddp_mlp", "torch_dp_step"):
            continue  # PyTorch yardsticks (scripts/device/torch_*.py), not nagbench records
        errors = list(VALIDATOR.iter_errors(r))
        assert not errors, f"{path}: {jsonschema.exceptions.best_match(errors).message}"


def sample():
    return json.load(open(os.path.join(RESULTS, "nvidia-h100-80gb-hbm3", "2026-11-27-update-ladder-1gpu", "records",
                                       "cuda_resnet50_fp32_fused.json")))


def test_future_fields_and_kinds_are_admitted():
    r = sample()
    r.update(schema_version=2, optimizer="sgd", workload="synthetic", rule_mode="fused", something_new={"x": 1})
    assert VALIDATOR.is_valid(r)
    later = {k: r[k] for k in ("backend", "device", "ranks", "verified", "provenance")}
    later.update(schema_version=2, benchmark="some_later_kind", loss=[2.3, 1.1, 0.7])
    assert VALIDATOR.is_valid(later)
    # A kind the schema knows (train) must have its own fields.
    later.update(benchmark="train")
    assert not VALIDATOR.is_valid(later)


@pytest.mark.parametrize("field", ["schema_version", "benchmark", "backend", "device", "ranks", "verified",
                                   "provenance", "median_s", "pct_of_roof"])
def test_missing_common_fields_are_rejected(field):
    r = copy.deepcopy(sample())
    del r[field]
    assert not VALIDATOR.is_valid(r)


def test_failure_lines():
    ok = {"benchmark": "failure", "tag": "s/e/n2/abcd", "cause": "nagbench: error on rank 0 (h): x", "exit_code": 1}
    assert VALIDATOR.is_valid(ok)
    assert not VALIDATOR.is_valid({k: v for k, v in ok.items() if k != "cause"})
