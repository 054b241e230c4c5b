#!/usr/bin/env python3
"""PyTorch's own SGD trajectories, for nagbench's bit-for-bit tests (issue 15; tests/unit/test_torch_arithmetic.cpp).

For several hyper-parameter sets (Nesterov, plain momentum with dampening, no momentum, weight decay, maximize),
fp32 and fp64, the same initial parameters and per-step gradients go through torch.optim.SGD on
  - CPU tensors, single-tensor path (foreach=False),
  - CPU tensors, foreach path (foreach=True),
  - CUDA tensors, fused path (fused=True), when a GPU is visible,
and the parameters and momentum buffers after every step are written, with the inputs, as the raw bytes of each
array (hex, little-endian) so that nothing is lost to printing. The CPU capability PyTorch reports is recorded
beside them (its vectorised kernels depend on it).

    python3 scripts/device/torch_sgd_trajectories.py --out tests/data/torch_sgd_trajectories.json
"""
import argparse
import json
import platform
import sys

import numpy as np
import torch

STEPS = 7
N = 193  # odd: vector loops have a tail

# (name, hyper-parameters): every term of the rule matters in at least one set.
SETS = [
    ("nesterov_default", dict(lr=0.01, momentum=0.9, dampening=0.0, weight_decay=1e-4, nesterov=True)),
    ("nesterov_high", dict(lr=0.1, momentum=0.99, dampening=0.0, weight_decay=0.05, nesterov=True)),
    ("momentum_damped", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01, nesterov=False)),
    ("plain_sgd", dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.1, nesterov=False)),
    ("maximize", dict(lr=0.02, momentum=0.5, dampening=0.0, weight_decay=0.2, nesterov=True, maximize=True)),
    ("no_weight_decay", dict(lr=0.3, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True)),
]


def inputs(dtype, seed):
    """Initial parameters over six decades, and gradients; some parameters start where lr * g nearly cancels
    them, the case where a rounding difference is largest relative to the result."""
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(N) * 10.0 ** rng.integers(-3, 3, N)
    grads = rng.standard_normal((STEPS, N))
    p0[:16] = 0.05 * grads[0, :16]  # cancels towards zero under lr in the order of 0.01..0.3
    return p0.astype(dtype), grads.astype(dtype)


def run(p0, grads, hyper, device, **kind):
    p = torch.nn.Parameter(torch.from_numpy(p0.copy()).to(device))
    opt = torch.optim.SGD([p], **hyper, **kind)
    ps, bufs = [], []
    for k in range(STEPS):
        p.grad = torch.from_numpy(grads[k].copy()).to(device)
        opt.step()
        ps.append(p.detach().cpu().numpy().copy())
        buf = opt.state[p].get("momentum_buffer")
        bufs.append(buf.detach().cpu().numpy().copy() if buf is not None else np.zeros_like(p0))
    return ps, bufs


def hexed(arrays):
    return [np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes().hex() for a in arrays]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="JSON file to write")
    args = ap.parse_args()
    cuda = torch.cuda.is_available()
    doc = {
        "generator": "scripts/device/torch_sgd_trajectories.py",
        "torch_version": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu": platform.processor() or platform.machine(),
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "steps": STEPS,
        "n": N,
        "cases": [],
    }
    paths = [("cpu_single", "cpu", dict(foreach=False)), ("cpu_foreach", "cpu", dict(foreach=True))]
    if cuda:
        paths.append(("cuda_fused", "cuda", dict(fused=True)))
    for si, (name, hyper) in enumerate(SETS):
        for dtype in (np.float32, np.float64):
            p0, grads = inputs(dtype, 1000 + si)
            case = {"name": name, "dtype": "fp32" if dtype == np.float32 else "fp64",
                    "hyper": dict(dict(maximize=False), **hyper), "p0": hexed([p0])[0], "grads": hexed(grads),
                    "paths": {}}
            for path, device, kind in paths:
                ps, bufs = run(p0, grads, hyper, device, **kind)
                case["paths"][path] = {"p": hexed(ps), "b": hexed(bufs)}
            doc["cases"].append(case)
            print(f"{name} {case['dtype']}: " + ", ".join(case["paths"]), file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
