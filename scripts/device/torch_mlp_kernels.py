#!/usr/bin/env python3
"""PyTorch's side of scripts/device/gemm_probe.cu: the kernels of one layer of issue 12's MLP (Linear(W, W) with
bias + ReLU, batch n, fp32, TF32 allowed for matmul), each timed alone, and the kernel list of one whole training
step of the model of scripts/device/torch_ddp_mlp.py (24 layers, MSE, fused SGD with Nesterov, no DDP) from
torch.profiler: which kernels PyTorch runs and how long each takes, to set next to nagbench's.

    python3 scripts/device/torch_mlp_kernels.py [--width 4096] [--batch 2048] [--layers 24] [--json out.json]

Timings: 3 warm-up launches, then 5 groups of --reps launches between CUDA events; median / min / max of the
groups, microseconds per launch. Exit status 2 on bad arguments, 1 without a GPU.
"""
import argparse
import json
import statistics
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def fail(msg, code=2):
    print(f"torch_mlp_kernels.py: error: {msg}", file=sys.stderr)
    sys.exit(code)


def time_us(fn, reps):
    for _ in range(3):
        fn()
    groups = []
    for _ in range(5):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(reps):
            fn()
        b.record()
        b.synchronize()
        groups.append(1e3 * a.elapsed_time(b) / reps)
    return statistics.median(groups), min(groups), max(groups)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--layers", type=int, default=24)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--json")
    a = ap.parse_args()
    if min(a.width, a.batch, a.layers, a.reps) < 1:
        fail("sizes and --reps must be positive")
    if not torch.cuda.is_available():
        fail("no GPU", 1)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    dev = torch.device("cuda", 0)
    W, n = a.width, a.batch
    g = torch.Generator(device=dev).manual_seed(12)
    x = torch.rand(n, W, device=dev, generator=g) * 2 - 1
    w = (torch.rand(W, W, device=dev, generator=g) * 2 - 1) / W ** 0.5
    bias = (torch.rand(W, device=dev, generator=g) * 2 - 1) / W ** 0.5
    dy = (torch.rand(n, W, device=dev, generator=g) * 2 - 1) * 1e-3
    y = torch.relu(F.linear(x, w, bias))
    flops = 2.0 * W * W * n
    rows = []

    def report(name, fn, fl=0.0):
        med, lo, hi = time_us(fn, a.reps)
        tf = fl / (med * 1e-6) / 1e12 if fl else 0.0
        rows.append(dict(name=name, median_us=med, min_us=lo, max_us=hi, tflops=tf))
        print(f"{name:44s} {med:9.1f} us  [{lo:8.1f}, {hi:8.1f}]" + (f"  {tf:6.1f} TFLOP/s" if fl else ""), flush=True)

    print(f"torch_mlp_kernels on {torch.cuda.get_device_name(0)}: torch {torch.__version__}, width {W}, batch {n}")
    report("F.linear fwd (addmm with bias)", lambda: F.linear(x, w, bias), flops)
    report("mm fwd x @ w.t() (no bias)", lambda: x @ w.t(), flops)
    report("mm dW = dy.t() @ x", lambda: dy.t() @ x, flops)
    report("mm dX = dy @ w", lambda: dy @ w, flops)
    report("relu", lambda: torch.relu(y))
    report("threshold_backward", lambda: torch.ops.aten.threshold_backward(dy, y, 0.0))
    report("db = dy.sum(0)", lambda: dy.sum(0))

    # One training step of the whole model under the profiler: kernels by total time.
    model = nn.Sequential(*[m for _ in range(a.layers) for m in (nn.Linear(W, W), nn.ReLU())]).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True, fused=True)
    target = torch.rand(n, W, device=dev, generator=g)
    loss_fn = nn.MSELoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), target).backward()
        opt.step()

    med, lo, hi = time_us(step, 10)
    rows.append(dict(name="whole step (no DDP)", median_us=med, min_us=lo, max_us=hi, tflops=0.0))
    print(f"{'whole step (no DDP)':44s} {med:9.1f} us  [{lo:8.1f}, {hi:8.1f}]")
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(3):
            step()
        torch.cuda.synchronize()
    kernels = {}
    for ev in prof.events():
        if ev.device_type == torch.autograd.DeviceType.CUDA:
            k = kernels.setdefault(ev.name, [0, 0.0])
            k[0] += 1
            k[1] += ev.device_time if hasattr(ev, "device_time") else ev.cuda_time
    table = sorted(((t / 3, c // 3, name) for name, (c, t) in kernels.items()), reverse=True)
    print("kernels of one step (profiler, mean of 3 steps): total us, launches, name")
    for t, c, name in table[:25]:
        print(f"  {t:10.1f} {c:5d}  {name[:150]}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(benchmark="torch_mlp_kernels", device=torch.cuda.get_device_name(0), torch=torch.__version__,
                           width=W, batch=n,
                           layers=a.layers, rows=rows,
                           step_kernels=[dict(total_us=t, launches=c, name=name) for t, c, name in table]), f,
                      indent=1)


if __name__ == "__main__":
    main()
