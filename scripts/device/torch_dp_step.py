#!/usr/bin/env python3
"""PyTorch's data-parallel optimizer step, the yardstick for nagbench's dp comm+update time: the model's fp32
gradients in one flat buffer (tensors are views of it, as DDP's gradient_as_bucket_view), one in-place
all_reduce of it, grad.mul_(1/world), then torch.optim.SGD(momentum=0.9, nesterov=True, fused=True).step().
Also the all_reduce alone and the optimizer alone, in the same launch. Timed like nagbench: warm-up, each step
between two synchronisations, median and min/max of repetitions, the slowest rank's median. Launch with
    NCCL_NVLS_ENABLE=0 python3 -m torch.distributed.run --nproc_per_node=N torch_dp_step.py \
        --model inputs/models/vit_l_16.yaml --out FILE
"""
import argparse
import json
import math
import os
import re
import statistics
import time

import torch
import torch.distributed as dist


def shapes_of(path):
    """The tensor shapes of a nagbench model file ('- {name: x, shape: [a, b]}' lines; no YAML parser needed)."""
    out = []
    for line in open(path):
        m = re.search(r"shape:\s*\[([0-9,\s]*)\]", line)
        if m:
            out.append([int(x) for x in m.group(1).split(",") if x.strip()])
    if not out:
        raise SystemExit(f"torch_dp_step.py: no tensors in {path}")
    return out


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        torch.cuda.synchronize()
        dist.barrier()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times


def summary(times, world):
    med = statistics.median(times)
    meds = [None] * world
    dist.all_gather_object(meds, med)
    return {"median_s": max(meds), "rank_medians_s": meds, "min_s": min(times), "max_s": max(times)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="a nagbench model file (inputs/models/*.yaml)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
    local = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local)
    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    shapes = shapes_of(args.model)
    numels = [math.prod(s) for s in shapes]
    total = sum(numels)
    gen = torch.Generator(device="cuda").manual_seed(1234 + rank)
    flat_grad = torch.randn(total, device="cuda", generator=gen) * 1e-3
    params, off = [], 0
    for s, n in zip(shapes, numels):
        p = torch.nn.Parameter(torch.randn(s, device="cuda", generator=gen))
        p.grad = flat_grad[off:off + n].view(s)
        params.append(p)
        off += n
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9, nesterov=True, fused=True)
    scale = 1.0 / world

    def allreduce():
        dist.all_reduce(flat_grad)

    def update():
        opt.step()

    def step():
        dist.all_reduce(flat_grad)
        flat_grad.mul_(scale)
        opt.step()

    rec = {"benchmark": "torch_dp_step", "torch": torch.__version__, "nccl": ".".join(map(str, torch.cuda.nccl.version())),
           "device": torch.cuda.get_device_name(local), "world": world, "model": os.path.basename(args.model),
           "params": total, "gradient_bytes": total * 4, "warmup": args.warmup, "reps": args.reps}
    for name, fn in (("allreduce", allreduce), ("update", update), ("step", step)):
        rec[name] = summary(timed(fn, args.warmup, args.reps), world)
    if rank == 0:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(rec, f, indent=1)
        os.replace(tmp, args.out)
        print(f"torch {world} GPUs {rec['model']}: allreduce {rec['allreduce']['median_s'] * 1e3:.3f} ms, "
              f"update {rec['update']['median_s'] * 1e3:.3f} ms, step {rec['step']['median_s'] * 1e3:.3f} ms")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
