#!/usr/bin/env python3
"""NCCL on its own, through PyTorch, as the yardstick for nagbench --comm-only: torch.distributed.all_reduce (in
place, float32, sum) over the same sizes, timed the same way (warm-up, back-to-back iterations between two
synchronisations, median of repetitions, slowest rank). Launch with
    NCCL_NVLS_ENABLE=0 python3 -m torch.distributed.run --nproc_per_node=N torch_allreduce.py --out FILE
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.distributed as dist


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-bytes", type=int, default=1 << 20)
    ap.add_argument("--max-bytes", type=int, default=1 << 30)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
    local = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local)
    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    rows = []
    size = args.min_bytes
    while size <= args.max_bytes:
        x = torch.full((size // 4,), float(rank + 1), device="cuda", dtype=torch.float32)
        for _ in range(3):
            dist.all_reduce(x)
        torch.cuda.synchronize()
        per_op = []
        for _ in range(args.reps):
            dist.barrier()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(args.iters):
                dist.all_reduce(x)
            torch.cuda.synchronize()
            per_op.append((time.perf_counter() - t0) / args.iters)
        med = torch.tensor([statistics.median(per_op)], device="cuda", dtype=torch.float64)
        gathered = [torch.zeros_like(med) for _ in range(world)]
        dist.all_gather(gathered, med)
        times = [g.item() for g in gathered]
        t = max(times)
        algbw = size / t / 1e9
        rows.append({"bytes": size, "time_s": t, "rank_time_min_s": min(times), "rank_time_max_s": max(times),
                     "algbw_GBps": algbw, "busbw_GBps": algbw * 2 * (world - 1) / world})
        if rank == 0:
            print(f"{size:>12} B  {t * 1e6:10.1f} us  algbw {algbw:8.2f}  busbw {rows[-1]['busbw_GBps']:8.2f} GB/s",
                  flush=True)
        del x
        size *= 2
    if rank == 0:
        rec = {"benchmark": "torch_allreduce", "ranks": world, "device": torch.cuda.get_device_name(local),
               "torch": torch.__version__, "nccl": ".".join(map(str, torch.cuda.nccl.version())),
               "in_place": True, "dtype": "float32", "iters": args.iters, "reps": args.reps, "rows": rows,
               "command": "python3 -m torch.distributed.run --nproc_per_node=%d torch_allreduce.py" % world}
        with open(args.out + ".tmp", "w") as f:
            json.dump(rec, f, indent=2)
        os.replace(args.out + ".tmp", args.out)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
