#!/usr/bin/env python3
"""PyTorch DDP on the MLP data-parallel step: the PyTorch side of issue 12's side-by-side comparison (nagbench's
overlapped `dp` step against the DDP most users have), run in the same device call as nagbench.

Pinned to the configuration of issue 12's table, so that its figures (4 x H200, PyTorch 2.11) can be reproduced and
nagbench's no-communication step compared with the same GEMM work:
  - model: nn.Sequential of --layers (24) x (nn.Linear(W, W) with bias + nn.ReLU), W = --width (4096), input and
    output features W; nn.MSELoss (mean) against fixed targets; fp32 parameters, activations and gradients;
    batch --batch (2048) per rank; inputs and targets drawn once on the device, seeded per rank;
  - TF32 allowed for matmul (torch.backends.cuda.matmul.allow_tf32 = True, torch.backends.cudnn.allow_tf32 = True;
    the table's 20.2 ms no_sync step is TF32 speed); --no-tf32 turns it off and the record says which;
  - DDP(model, device_ids=[rank], bucket_cap_mb=25 (--bucket-cap-mb), gradient_as_bucket_view=True), NCCL through a
    file store; everything else at PyTorch's defaults (first bucket, no static graph, no comm hook);
  - torch.optim.SGD(lr=1e-3, momentum=0.9, nesterov=True, fused=True): the lr is tiny so that runs stay finite;
  - one step = zero_grad(set_to_none=True) + forward + backward + optimizer.step(), as a training loop does,
    timed by a pair of CUDA events per step, steps back to back; NCCL_NVLS_ENABLE=0 always (no NVLink multicast).
Timed, each after --warmup (5) untimed repetitions, --steps (30) timed ones:
  ddp_step             the DDP step;
  no_sync_step         the same step inside `with model.no_sync():` (no gradient communication; ranks diverge);
  allreduce_all_grads  one dist.all_reduce (sum, in place) of a flat fp32 buffer of as many elements as the model
                       has parameters;
  plain_step           with --gpus 1 only: the step of the bare model (no DDP wrapper), measured first.
Per rank: median / min / max of the per-step times; across ranks: the slowest rank's median and the min / avg / max
of the per-rank medians. Derived from the slowest ranks' medians: exposed communication = ddp_step - no_sync_step,
overlap ratio = 1 - exposed / allreduce_all_grads, samples/s = ranks x batch / ddp_step.

    python3 scripts/device/torch_ddp_mlp.py --gpus 2 --json out.json
    python3 scripts/device/torch_ddp_mlp.py --cpu-smoke        # no GPU: gloo, 2 processes, a tiny model

One process per GPU (torch.multiprocessing.spawn), device = rank; the launcher prints rank 0's table and writes the
JSON. Exit status: 0 good, 1 a failed run or a non-finite result, 2 bad arguments.
"""
import argparse
import datetime
import gc
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

LR, MOMENTUM = 1e-3, 0.9
SEED = 12
SMOKE = dict(layers=2, width=16, batch=8, steps=3, warmup=1, gpus=2)
QUANTITIES = ("plain_step", "ddp_step", "no_sync_step", "allreduce_all_grads")


def fail(msg, code=2):
    print(f"torch_ddp_mlp.py: error: {msg}", file=sys.stderr)
    sys.exit(code)


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        fail(message)


def parse_args(argv=None):
    ap = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gpus", type=int, default=None,
                    help="ranks, one GPU each (default: all visible GPUs; --cpu-smoke: 2 processes)")
    ap.add_argument("--layers", type=int, default=None, help="Linear+ReLU layers (default 24)")
    ap.add_argument("--width", type=int, default=None, help="features of every layer (default 4096)")
    ap.add_argument("--batch", type=int, default=None, help="samples per rank (default 2048)")
    ap.add_argument("--steps", type=int, default=None, help="timed repetitions of each quantity (default 30)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed repetitions before them (default 5)")
    ap.add_argument("--bucket-cap-mb", type=float, default=25.0, help="DDP bucket_cap_mb (default 25)")
    ap.add_argument("--no-tf32", action="store_true", help="fp32 matmul without TF32 (default: TF32 allowed)")
    ap.add_argument("--json", metavar="FILE", help="write the full record here")
    ap.add_argument("--cpu-smoke", action="store_true",
                    help="exercise the logic without a GPU: gloo backend, CPU tensors, layers 2, width 16, batch 8, "
                         "steps 3, warm-up 1, 2 processes (explicit options still win); timings by the host clock")
    args = ap.parse_args(argv)
    defaults = SMOKE if args.cpu_smoke else dict(layers=24, width=4096, batch=2048, steps=30, warmup=5)
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    for k in ("layers", "width", "batch", "steps"):
        if getattr(args, k) < 1:
            fail(f"--{k} must be at least 1 (got {getattr(args, k)})")
    if args.warmup < 0:
        fail(f"--warmup must be at least 0 (got {args.warmup})")
    if not (args.bucket_cap_mb > 0 and math.isfinite(args.bucket_cap_mb)):
        fail(f"--bucket-cap-mb must be a positive number (got {args.bucket_cap_mb})")
    if args.cpu_smoke:
        if not dist.is_gloo_available():
            fail("this PyTorch has no gloo backend")
        if args.gpus < 1:
            fail(f"--gpus (processes with --cpu-smoke) must be at least 1 (got {args.gpus})")
    else:
        if not torch.cuda.is_available():
            fail("no CUDA device visible (use --cpu-smoke to exercise the logic on the host)")
        visible = torch.cuda.device_count()
        if args.gpus is None:
            args.gpus = visible
        if args.gpus < 1 or args.gpus > visible:
            fail(f"--gpus {args.gpus}: between 1 and the {visible} visible GPU(s)")
        if not dist.is_nccl_available():
            fail("this PyTorch has no NCCL backend")
    if args.json:
        d = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(d):
            fail(f"--json {args.json}: no folder {d}")
    return args


# ---------------------------------------------------------------------------------------------------- in each rank

def set_tf32(allow):
    """The pinned switches (allow_tf32). PyTorch 2.9 and later warn that they will give way to fp32_precision; where
    they are gone, the new switches say the same."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.backends.cuda.matmul.allow_tf32 = allow
            torch.backends.cudnn.allow_tf32 = allow
            return "allow_tf32"
        except (AttributeError, RuntimeError):
            torch.backends.cuda.matmul.fp32_precision = "tf32" if allow else "ieee"
            torch.backends.cudnn.conv.fp32_precision = "tf32" if allow else "ieee"
            return "fp32_precision"


def tf32_state():
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, get in (("cuda.matmul.allow_tf32", lambda: torch.backends.cuda.matmul.allow_tf32),
                          ("cudnn.allow_tf32", lambda: torch.backends.cudnn.allow_tf32),
                          ("cuda.matmul.fp32_precision", lambda: torch.backends.cuda.matmul.fp32_precision),
                          ("float32_matmul_precision", torch.get_float32_matmul_precision)):
            try:
                out[name] = get()
            except (AttributeError, RuntimeError):
                pass
    return out


class Timer:
    """Per-step times in seconds: CUDA event pairs on the current stream (GPU), or the host clock (--cpu-smoke)."""

    def __init__(self, cuda, n):
        self.cuda, self.n = cuda, n
        if cuda:
            self.ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(n)]
        else:
            self.t = [[0.0, 0.0] for _ in range(n)]

    def start(self, i):
        if self.cuda:
            self.ev[i][0].record()
        else:
            self.t[i][0] = time.perf_counter()

    def stop(self, i):
        if self.cuda:
            self.ev[i][1].record()
        else:
            self.t[i][1] = time.perf_counter()

    def times(self):
        if self.cuda:
            torch.cuda.synchronize()
            return [a.elapsed_time(b) * 1e-3 for a, b in self.ev]
        return [b - a for a, b in self.t]


def sync(cuda):
    if cuda:
        torch.cuda.synchronize()


def barrier(cuda):
    if cuda:
        dist.barrier(device_ids=[torch.cuda.current_device()])
    else:
        dist.barrier()


def measure(fn, warmup, steps, cuda):
    """warm-up, then all ranks start together, then `steps` back-to-back calls of fn, each between two events."""
    for _ in range(warmup):
        fn()
    sync(cuda)
    barrier(cuda)
    sync(cuda)
    timer = Timer(cuda, steps)
    for i in range(steps):
        timer.start(i)
        fn()
        timer.stop(i)
    return timer.times()


def gather_floats(values, dev):
    """Every rank's list (same length) of floats, rank order."""
    t = torch.tensor(values, dtype=torch.float64, device=dev)
    out = [torch.zeros_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(out, t)
    return [o.tolist() for o in out]


def param_checksum(model, dev):
    """An exact checksum of the parameters' bits (int64 sum of their int32 views), and their float64 sum."""
    bits = torch.zeros(1, dtype=torch.int64, device=dev)
    total = torch.zeros(1, dtype=torch.float64, device=dev)
    for p in model.parameters():
        d = p.detach()
        bits += d.view(torch.int32).sum(dtype=torch.int64)
        total += d.sum(dtype=torch.float64)
    return bits, total


def make_model(args, dev):
    torch.manual_seed(SEED)  # the same initial parameters on every rank (DDP broadcasts rank 0's anyway)
    layers = []
    for _ in range(args.layers):
        layers += [nn.Linear(args.width, args.width, bias=True, device=dev, dtype=torch.float32), nn.ReLU()]
    return nn.Sequential(*layers)


def make_optimizer(params, cuda):
    """The pinned fused SGD; --cpu-smoke falls back to the default implementation where this PyTorch has no fused
    SGD on the host."""
    try:
        return torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, nesterov=True, fused=True), "fused"
    except (TypeError, RuntimeError):
        if cuda:
            raise
        return torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, nesterov=True), "default (no fused SGD here)"


def worker(rank, args, world, store_dir):
    cuda = not args.cpu_smoke
    if cuda:
        torch.cuda.set_device(rank)
        dev = torch.device("cuda", rank)
        tf32_api = set_tf32(not args.no_tf32)
    else:
        torch.set_num_threads(1)
        dev = torch.device("cpu")
        tf32_api = None
    dist.init_process_group("nccl" if cuda else "gloo", init_method="file://" + os.path.join(store_dir, "store"),
                            rank=rank, world_size=world, timeout=datetime.timedelta(seconds=600))
    gen = torch.Generator(device=dev)
    gen.manual_seed(SEED + 1000 * (rank + 1))
    x = torch.randn(args.batch, args.width, device=dev, dtype=torch.float32, generator=gen)
    y = torch.randn(args.batch, args.width, device=dev, dtype=torch.float32, generator=gen)
    loss_fn = nn.MSELoss(reduction="mean")
    times, losses, checks = {}, {}, {}

    def stepper(model, opt, ctx=None):
        last = {}

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            last["loss"] = loss.detach()

        if ctx is None:
            return step, last

        def step_in_ctx():
            with ctx():
                step()

        return step_in_ctx, last

    # 4. on one GPU, first: the bare model (no DDP wrapper), with its own optimizer; both dropped afterwards.
    if world == 1:
        plain = make_model(args, dev)
        opt, _ = make_optimizer(plain.parameters(), cuda)
        step, last = stepper(plain, opt)
        times["plain_step"] = measure(step, args.warmup, args.steps, cuda)
        losses["plain_step"] = last["loss"].item()
        del plain, opt, step, last

    base = make_model(args, dev)  # the same initial parameters as the plain run's
    n_params = sum(p.numel() for p in base.parameters())
    ddp = DDP(base, device_ids=[rank] if cuda else None, bucket_cap_mb=args.bucket_cap_mb,
              gradient_as_bucket_view=True)
    opt, opt_impl = make_optimizer(ddp.parameters(), cuda)

    # 1. the DDP step.
    step, last = stepper(ddp, opt)
    times["ddp_step"] = measure(step, args.warmup, args.steps, cuda)
    losses["ddp_step"] = last["loss"].item()
    bits, total = param_checksum(ddp, dev)
    all_bits = [torch.zeros_like(bits) for _ in range(world)]
    dist.all_gather(all_bits, bits)
    all_total = [torch.zeros_like(total) for _ in range(world)]
    dist.all_gather(all_total, total)
    checks["params_identical_across_ranks_after_ddp"] = len({int(b.item()) for b in all_bits}) == 1 and \
        len({t.item() for t in all_total}) == 1

    # 2. the same step without gradient communication (ranks keep their own gradients and diverge).
    step, last = stepper(ddp, opt, ddp.no_sync)
    times["no_sync_step"] = measure(step, args.warmup, args.steps, cuda)
    losses["no_sync_step"] = last["loss"].item()
    checks["params_finite_at_end"] = all(bool(torch.isfinite(p).all()) for p in ddp.parameters())
    del step, last, opt
    ddp.zero_grad(set_to_none=True)

    # 3. one allreduce of as many fp32 elements as the model has parameters: first checked (sum of rank + 1), then
    # timed on zeros (the values stay finite whatever the number of repetitions).
    buf = torch.full((n_params,), float(rank + 1), dtype=torch.float32, device=dev)
    dist.all_reduce(buf)
    want = world * (world + 1) / 2
    checks["allreduce_sum_correct"] = bool(buf[0].item() == want and buf[-1].item() == want)
    buf.zero_()
    times["allreduce_all_grads"] = measure(lambda: dist.all_reduce(buf), args.warmup, args.steps, cuda)
    del buf

    # Everything to rank 0.
    names = [q for q in QUANTITIES if q in times]
    per_rank = {q: gather_floats(times[q], dev) for q in names}
    loss_names = sorted(losses)
    rank_losses = gather_floats([losses[k] for k in loss_names], dev)
    devices = [None] * world
    dist.all_gather_object(devices, {
        "rank": rank, "host": socket.gethostname(),
        "name": torch.cuda.get_device_name(rank) if cuda else "cpu (" + (platform.processor() or platform.machine())
        + ")",
        "capability": ".".join(map(str, torch.cuda.get_device_capability(rank))) if cuda else None,
        "tf32": tf32_state() if cuda else None})
    if rank == 0:
        doc = {"per_rank_times_s": per_rank, "losses": {k: [r[i] for r in rank_losses] for i, k in
                                                          enumerate(loss_names)},
               "devices": devices, "checks": checks, "n_params": n_params, "optimizer_impl": opt_impl,
               "tf32_api": tf32_api, "first_bucket_bytes": getattr(dist, "_DEFAULT_FIRST_BUCKET_BYTES", None)}
        with open(os.path.join(store_dir, "rank0.json.tmp"), "w") as f:
            json.dump(doc, f)
        os.replace(os.path.join(store_dir, "rank0.json.tmp"), os.path.join(store_dir, "rank0.json"))
    # Free the model, its reducer and the data while the interpreter is whole: left to the exit, a process group's
    # worker thread can free a tensor that needs the GIL while the main thread holds it (a hang seen with gloo).
    del ddp, base, x, y, gen
    gc.collect()
    barrier(cuda)
    dist.destroy_process_group()


# ------------------------------------------------------------------------------------------------------ launcher

def nccl_version():
    try:
        v = torch.cuda.nccl.version()
    except Exception:  # noqa: BLE001 - a build without NCCL
        return None
    if isinstance(v, int):  # older PyTorch: 2.18.3 as 21803
        return f"{v // 10000}.{v // 100 % 100}.{v % 100}" if v >= 10000 else f"{v // 1000}.{v // 100 % 10}.{v % 100}"
    return ".".join(map(str, v))


def driver_version():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, subprocess.SubprocessError):
        return None


def summarise(per_rank_s):
    """Per rank median / min / max; across ranks the slowest median and the min / avg / max of the medians (ms)."""
    ranks = []
    for r, ts in enumerate(per_rank_s):
        ranks.append({"rank": r, "median_ms": statistics.median(ts) * 1e3, "min_ms": min(ts) * 1e3,
                      "max_ms": max(ts) * 1e3})
    meds = [r["median_ms"] for r in ranks]
    return {"per_rank": ranks, "slowest_rank": max(range(len(meds)), key=meds.__getitem__),
            "slowest_median_ms": max(meds), "median_min_ms": min(meds), "median_avg_ms": sum(meds) / len(meds),
            "median_max_ms": max(meds), "times_ms": [[t * 1e3 for t in ts] for ts in per_rank_s]}


def non_finite(value, path="", out=None):
    """Paths of the non-finite numbers in a JSON-like value."""
    out = [] if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            non_finite(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            non_finite(v, f"{path}[{i}]", out)
    elif isinstance(value, float) and not math.isfinite(value):
        out.append(path)
    return out


def finite_or_none(value):
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_record(args, world, r0, wall_s):
    q = {name: summarise(ts) for name, ts in r0["per_rank_times_s"].items()}
    ddp, ns, ar = (q[k]["slowest_median_ms"] for k in ("ddp_step", "no_sync_step", "allreduce_all_grads"))
    exposed = ddp - ns
    W, L, B = args.width, args.layers, args.batch
    gemm_flops = 2.0 * B * W * W * (3 * L - 1)  # forward, dW, and dX of every layer but the first
    derived = {
        "exposed_comm_ms": exposed,
        "overlap_ratio": 1.0 - exposed / ar if world > 1 else None,
        "hidden_ms": ar - exposed if world > 1 else None,
        "ddp_over_no_sync": ddp / ns,
        "samples_per_s": world * B / (ddp * 1e-3),
        "no_sync_samples_per_s": world * B / (ns * 1e-3),
        "gemm_flops_per_step_per_rank": gemm_flops,
        "no_sync_gemm_tflops_per_rank": gemm_flops / (ns * 1e-3) / 1e12,
        "allreduce_bytes": r0["n_params"] * 4,
        "allreduce_algbw_GBps": r0["n_params"] * 4 / (ar * 1e-3) / 1e9,
        "allreduce_busbw_GBps": r0["n_params"] * 4 / (ar * 1e-3) / 1e9 * 2 * (world - 1) / world,
    }
    if "plain_step" in q:
        derived["plain_samples_per_s"] = B / (q["plain_step"]["slowest_median_ms"] * 1e-3)
        derived["ddp_over_plain"] = ddp / q["plain_step"]["slowest_median_ms"]
    cuda = not args.cpu_smoke
    rec = {
        "benchmark": "torch_ddp_mlp",
        "generator": "scripts/device/torch_ddp_mlp.py",
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "ranks": world,
        "device": r0["devices"][0]["name"],
        "config": {
            "model": f"{L} x (Linear({W}, {W}, bias=True) + ReLU)", "layers": L, "width": W, "bias": True,
            "params": r0["n_params"], "param_bytes": r0["n_params"] * 4, "loss": "MSELoss(reduction='mean')",
            "dtype": "float32", "batch_per_rank": B, "global_batch": B * world,
            "tf32_allowed": (not args.no_tf32) if cuda else None, "tf32_api": r0["tf32_api"],
            "backend": "nccl" if cuda else "gloo", "store": "file",
            "ddp": {"bucket_cap_mb": args.bucket_cap_mb, "gradient_as_bucket_view": True,
                    "first_bucket_bytes": r0["first_bucket_bytes"], "static_graph": False, "comm_hook": None},
            "optimizer": {"name": "SGD", "lr": LR, "momentum": MOMENTUM, "nesterov": True, "dampening": 0.0,
                          "weight_decay": 0.0, "impl": r0["optimizer_impl"]},
            "zero_grad": "set_to_none=True, inside the timed step",
            "timing": "cuda events around each step, back to back" if cuda else "host clock (--cpu-smoke)",
            "warmup": args.warmup, "steps": args.steps, "seed": SEED, "cpu_smoke": args.cpu_smoke,
        },
        "versions": {"torch": torch.__version__, "cuda": torch.version.cuda, "nccl": nccl_version() if cuda else None,
                     "cudnn": torch.backends.cudnn.version() if cuda else None,
                     "driver": driver_version() if cuda else None, "python": platform.python_version()},
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(("NCCL_", "CUDA_VISIBLE", "TORCH_NCCL"))},
        "devices": r0["devices"],
        "quantities": q,
        "derived": derived,
        "losses_last_step": r0["losses"],
        "checks": r0["checks"],
        "wall_s": wall_s,
    }
    return rec


def table(rec):
    c, q, d, n = rec["config"], rec["quantities"], rec["derived"], rec["ranks"]
    v = rec["versions"]
    tf32 = {True: "TF32 allowed for matmul", False: "no TF32", None: "host"}[c["tf32_allowed"]]
    lines = [
        f"PyTorch DDP MLP step: {c['model']}, MSE, fp32 ({tf32}), batch {c['batch_per_rank']}/rank, {n} rank(s)",
        f"device {rec['device']}; torch {v['torch']}, CUDA {v['cuda']}, NCCL {v['nccl']}; DDP bucket_cap_mb "
        f"{c['ddp']['bucket_cap_mb']:g}, gradient_as_bucket_view; SGD(lr {c['optimizer']['lr']:g}, momentum "
        f"{c['optimizer']['momentum']:g}, nesterov, {c['optimizer']['impl']}); {c['params']} parameters",
        f"{c['warmup']} warm-up + {c['steps']} timed repetitions each ({c['timing']})",
        "",
        f"{'quantity':<22}{'rank':>5}{'median ms':>12}{'min ms':>10}{'max ms':>10}",
    ]
    for name in QUANTITIES:
        if name not in q:
            continue
        for r in q[name]["per_rank"]:
            lines.append(f"{name:<22}{r['rank']:>5}{r['median_ms']:>12.3f}{r['min_ms']:>10.3f}{r['max_ms']:>10.3f}")
        s = q[name]
        lines.append(f"{'':<22}{'all':>5}  slowest median {s['slowest_median_ms']:.3f} (rank {s['slowest_rank']}); "
                     f"medians min/avg/max {s['median_min_ms']:.3f} / {s['median_avg_ms']:.3f} / "
                     f"{s['median_max_ms']:.3f}")
    lines.append("")
    ar = "-" if n == 1 else f"{q['allreduce_all_grads']['slowest_median_ms']:.2f} ms"
    ov = "-" if d["overlap_ratio"] is None else f"{d['overlap_ratio']:.2f}"
    lines += [
        "| GPUs | DDP step | same step without communication (no_sync) | one allreduce of all gradients | "
        "exposed communication | overlap ratio | samples/s |",
        "|---|---|---|---|---|---|---|",
        f"| {n} | {q['ddp_step']['slowest_median_ms']:.2f} ms | {q['no_sync_step']['slowest_median_ms']:.2f} ms | "
        f"{ar} | {d['exposed_comm_ms']:.2f} ms | {ov} | {d['samples_per_s']:.0f} |",
    ]
    if "plain_step" in q:
        lines.append(f"plain step (no DDP wrapper): {q['plain_step']['slowest_median_ms']:.2f} ms, "
                     f"{d['plain_samples_per_s']:.0f} samples/s")
    lines.append(f"no_sync GEMM rate {d['no_sync_gemm_tflops_per_rank']:.1f} TFLOP/s per rank; allreduce of "
                 f"{d['allreduce_bytes']} B: busbw {d['allreduce_busbw_GBps']:.1f} GB/s")
    lines.append("checks: " + ", ".join(f"{k} {'ok' if ok else 'FAILED'}" for k, ok in rec["checks"].items()))
    return "\n".join(lines)


def run_ranks(args, world, store_dir, grace_s=60):
    """One process per rank; raises if one fails. Ranks still alive grace_s after rank 0 has left its result (a
    hang in the teardown) are ended, with a warning, rather than waited for."""
    ctx = mp.spawn(worker, args=(args, world, store_dir), nprocs=world, join=False)
    result, since = os.path.join(store_dir, "rank0.json"), None
    while not ctx.join(timeout=1):
        if since is None and os.path.exists(result):
            since = time.monotonic()
        if since is not None and time.monotonic() - since > grace_s:
            print(f"torch_ddp_mlp.py: warning: ranks still running {grace_s} s after the result was written; "
                  "ending them", file=sys.stderr)
            for p in ctx.processes:
                if p.is_alive():
                    p.kill()
            for p in ctx.processes:
                p.join(10)
            return


def main(argv=None):
    args = parse_args(argv)
    os.environ["NCCL_NVLS_ENABLE"] = "0"  # never NVLink multicast; the spawned ranks inherit it
    world = args.gpus
    store_dir = tempfile.mkdtemp(prefix="torch_ddp_mlp.")
    t0 = time.time()
    try:
        try:
            run_ranks(args, world, store_dir)
        except Exception as e:  # noqa: BLE001 - a rank failed: its traceback, then one line
            text = str(e).strip()
            print(text, file=sys.stderr)
            last = text.splitlines()[-1] if text else type(e).__name__
            fail(f"a rank failed ({type(e).__name__}): {last}", 1)
        try:
            with open(os.path.join(store_dir, "rank0.json")) as f:
                r0 = json.load(f)
        except (OSError, ValueError) as e:
            fail(f"rank 0 left no result ({e})", 1)
    finally:
        shutil.rmtree(store_dir, ignore_errors=True)
    rec = build_record(args, world, r0, time.time() - t0)
    problems = non_finite(rec)
    problems += [f"quantities.{k}: a step time <= 0" for k, s in rec["quantities"].items()
                 if any(t <= 0 for ts in s["times_ms"] for t in ts)]
    problems += [f"checks.{k} failed" for k, ok in rec["checks"].items() if not ok]
    rec["ok"] = not problems
    rec["problems"] = problems
    print(table(rec), flush=True)
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(finite_or_none(rec), f, indent=2)
            f.write("\n")
        os.replace(args.json + ".tmp", args.json)
    if problems:
        fail("bad results: " + "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""),
             1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
