"""The performance model of the data-parallel step (docs/reports.md states its forms and parameters first).

Two forms are fitted on the same records and both are reported; the first is the model's answer, the second a
candidate that was not adopted (docs/reports.md: it fits the 4-GPU allreduce better, but is not better on the 2-GPU
held-out bucket sizes, the criterion fixed before the candidate was judged on 4 GPUs).

The kept form (2026-11-28). Per step, after the gradients (measured, not modelled), K buckets of s = S / K bytes (S:
gradient bytes) take

    T_cu = K (t_coll(s) + eps) + T_upd                                  overlap off
    T_cu = K (t_coll(s) + eps) + T_upd / K + kappa T_upd (K - 1) / K     overlap on

The update streams its minimum bytes at a fraction eta of the device's roof R (measured in the same run) and pays a
fixed cost tau per bucket: T_upd = B P_u / (eta R) + K tau, P_u = P (replicated) or P / N (sharded). The allreduce of
one bucket on one node (NCCL ring, N ranks, 2 (N - 1) steps):

    t_coll(s) = L + (2 (N - 1) - 2 (N_fit - 1)) h + x + m s / R + 2 sqrt(L_p s / (N beta)),
    x = 2 (N - 1) / N * s / beta

an alpha-beta (Hockney) model with latency L and link bandwidth beta, plus a memory term (m = 2 passes over local HBM
that the links do not carry, at the roof R), h = 3.4 us, NCCL's latency per NVLink step of a Simple-protocol ring
(src/graph/tuning.cc), for every step added to the fit's ring, and the fill time of the chunked pipeline of one
rank's piece s / N (per-chunk latency L_p). Sharded steps reduce-scatter and all-gather each bucket: two calls of
half the steps, link bytes and latency, each reading and writing (1 + 1/N) s of local memory. eps is the step's own
cost per bucket (events, launches), kappa the share of the overlapped update that is not hidden.
Fitted on one rank count only (2 GPUs): L, beta, L_p on the --comm-only NCCL sweep (out of place, 4 MiB and up); eta
and tau on the update phase of the replicated and the sharded step (same buckets, 1 : N of the bytes); eps and kappa
on the step at the same bucket size (25 MiB, or the nearest measured; overlap off and on).

The candidate form (2026-11-29) changes four things, each for a stated physical reason:
  - the hop latency of a ring step (lambda = NCCL's 3.4 us) is exposed only where the step is latency-bound: NCCL's
    Simple protocol moves a step's chunk in two slices, so a step takes the longer of its transfer s / (N beta) and
    half of it plus the hop; t_coll = L + 2 (N - 1) max(0, lambda - s / (2 N beta)) + x + m s / R + fill, with L the
    same at any rank count of one node (at 2 ranks the hop shows below about 5 MiB, at 4 below about 10 MiB);
  - the curve fitted is NCCL's in-place time: the step calls ncclAllReduce in place (nccl.cpp);
  - kappa is a function of the bucket size, measured at every 2-GPU bucket size with the four step records
    (interpolated in log s between them, constant beyond): the share of the time an update runs beside a NCCL
    kernel that the collective loses to it (contention for HBM and SMs);
  - overlap on, the two CUDA streams of nccl.cpp are followed: all reductions are enqueued at once, update k waits
    for reduction k, and a sharded step's all-gathers run after its last reduce-scatter (all-gather k after update
    k): T_cu = M(K, c, u) + kappa(s) O(K, c, u), with M the makespan of the two streams for equal buckets
    (c = t_coll + eps, u = T_upd / K) and O the time an update runs beside a NCCL kernel.
Each 2-GPU bucket size is also held out in turn (refit without it): the candidate's 2-GPU held-out errors.

Every other record of the same device and commit (other bucket sizes, models, rank counts) and the allreduce curve at
other rank counts are held out. Beyond one node the latency grows with NCCL's constants (src/graph/tuning.cc) and the
bandwidth is the lesser of the node's and the network's."""
import json
import math
import os

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import least_squares

from . import InputError

HERE = os.path.dirname(os.path.abspath(__file__))
MIN_FIT_BYTES = 4 * 2 ** 20  # below, NCCL switches protocol (LL/LL128): another curve
MEM_PASSES = 2.0  # an allreduce reads its input and writes its output once in local memory
RING_STEP_US = 3.4  # NCCL's latency per NVLink step of a Simple-protocol ring (src/graph/tuning.cc)
PRIMARY_BUCKET_MB = 25.0  # DDP's default bucket: eta, tau and eps are fitted there (or at the nearest measured size)
KEPT, CANDIDATE = "2026-11-28", "2026-11-29"
MODES = ("replicated", "sharded")
QUAD = {("replicated", False), ("replicated", True), ("sharded", False), ("sharded", True)}
PARAMS = [
    ("L_us", "latency of one allreduce call on the fit rank count (us)"),
    ("beta_GBps", "link bandwidth per GPU and direction (GB/s)"),
    ("Lp_us", "per-chunk latency of the pipelined transfer (us)"),
    ("roof_GBps", "the device's roof, measured in the same run: the memory term's rate (GB/s)"),
    ("eta", "fraction of the roof the update streams at in the step"),
    ("tau_us", "the update's fixed cost per bucket (us)"),
    ("eps_replicated_us", "the step's own cost per bucket, replicated (us)"),
    ("eps_sharded_us", "the step's own cost per bucket, sharded: two calls (us)"),
    ("kappa_replicated", "share of the overlapped update not hidden, replicated"),
    ("kappa_sharded", "share of the overlapped update not hidden, sharded"),
]
CANDIDATE_PARAMS = [
    ("L_us", "latency of one allreduce call, the same at any rank count of one node (us)"),
    ("beta_GBps", "link bandwidth per GPU and direction (GB/s)"),
    ("Lp_us", "per-chunk latency of the pipelined transfer (us)"),
    ("lambda_us", "hop latency of a ring step, exposed only where the step is latency-bound (us; NCCL's, fixed)"),
    ("roof_GBps", "the device's roof, measured in the same run: the memory term's rate (GB/s)"),
    ("eta", "fraction of the roof the update streams at in the step"),
    ("tau_us", "the update's fixed cost per bucket (us)"),
    ("eps_replicated_us", "the step's own cost per bucket, replicated (us)"),
    ("eps_sharded_us", "the step's own cost per bucket, sharded: two calls (us)"),
    ("kappa_replicated", "share of the time an update runs beside the reductions that they lose, replicated, per "
                         "bucket size (MiB: value)"),
    ("kappa_sharded", "the same, sharded"),
]


def coll(p, s, n, half=False):
    """Seconds of one NCCL call on n ranks of one node: an allreduce, or (half) a reduce-scatter or all-gather (half
    the steps, link bytes and call latency, its own pipeline fill)."""
    steps = (n - 1) if half else 2 * (n - 1)
    base = p["L_us"] / 2 if half else p["L_us"]
    beta = p["beta_GBps"] * 1e9
    piece = np.asarray(s, dtype=float) / n
    if p["form"] == KEPT:
        fit_steps = (p["fit_ranks"] - 1) if half else 2 * (p["fit_ranks"] - 1)
        hop = (steps - fit_steps) * RING_STEP_US * 1e-6
    else:
        # A step moves one rank's piece in two slices (NCCL's Simple protocol): it takes the longer of its transfer
        # and half of it plus the hop latency, so the hop shows only where the half-transfer is shorter.
        hop = steps * np.maximum(0.0, p["lambda_us"] * 1e-6 - piece / (2 * beta))
    x = steps * piece / beta
    passes = MEM_PASSES / 2 * (1 + 1 / n) if half else MEM_PASSES
    mem = passes * np.asarray(s, dtype=float) / (p["roof_GBps"] * 1e9)
    fill = 2 * np.sqrt(p["Lp_us"] * 1e-6 * piece / beta)
    return base * 1e-6 + hop + x + mem + fill


def streams(K, c, u, sharded):
    """The candidate's two CUDA streams of an overlapped step (nccl.cpp) for K equal buckets, each reduction (sharded:
    reduce-scatter and all-gather) taking c seconds in all and each update u: (makespan, time an update runs beside
    a NCCL kernel). Replicated: the K allreduces back to back, update k after allreduce k and update k - 1. Sharded:
    the K reduce-scatters, then the K all-gathers, all-gather k after update k."""
    K = int(K)
    one = c / 2 if sharded else c
    calls, spans = [], []  # (start, end) of the NCCL kernels and of the updates
    t = upd_end = 0.0
    for _ in range(K):
        calls.append((t, t + one))
        t += one
    for k in range(K):
        start = max(calls[k][1], upd_end)
        spans.append((start, start + u))
        upd_end = start + u
    end = upd_end
    if sharded:
        for k in range(K):
            start = max(t, spans[k][1])
            calls.append((start, start + one))
            t = start + one
        end = t
    overlap, j = 0.0, 0
    for a, b in spans:  # both sorted by start; NCCL kernels never overlap each other
        while j < len(calls) and calls[j][1] <= a:
            j += 1
        i = j
        while i < len(calls) and calls[i][0] < b:
            overlap += max(0.0, min(b, calls[i][1]) - max(a, calls[i][0]))
            i += 1
    return end, overlap


def kappa_at(p, mode, bucket_mb):
    """kappa of a mode at a bucket size: the kept form's one value; the candidate's table, linear in log(bucket
    size) between the measured sizes, constant beyond them."""
    table = p[f"kappa_{mode}"]
    if not isinstance(table, dict):
        return float(table)
    sizes = sorted(table, key=float)
    return float(np.interp(math.log(bucket_mb), [math.log(float(b)) for b in sizes], [table[b] for b in sizes]))


def step_parts(p, rec):
    """(comm, update, comm+update) in seconds for a dp_step row."""
    n, K, S = int(rec["ranks"]), int(rec["buckets"]), float(rec["allreduce_bytes"])
    s = S / K
    sharded = rec["mode"] == "sharded"
    upd_params = rec["params"] / n if sharded else rec["params"]
    upd = rec["bytes_per_param"] * upd_params / (p["eta"] * rec["roof_GBps"] * 1e9) + K * p["tau_us"] * 1e-6
    if sharded:
        c = 2 * coll(p, s, n, half=True) + p["eps_sharded_us"] * 1e-6
    else:
        c = coll(p, s, n) + p["eps_replicated_us"] * 1e-6
    comm = K * c
    kappa = kappa_at(p, rec["mode"], s / 2 ** 20)
    if not rec["overlap"]:
        cu = comm + upd
    elif p["form"] == KEPT:
        cu = comm + upd / K + kappa * upd * (K - 1) / K
    else:
        end, overlap = streams(K, c, upd / K, sharded)
        cu = end + kappa * overlap
    return comm, upd, cu


def nccl_steps(df):
    """The NCCL data-parallel step records (reductions on the high-priority stream, the default)."""
    steps = df[(df["benchmark"] == "dp_step") & (df["comm"] == "nccl")]
    if "comm_stream_priority" in steps:
        steps = steps[steps["comm_stream_priority"].fillna("high") == "high"]
    return steps


def one_set(df, device, commit, path):
    """The records of one device, commit and NCCL path: what one fit sees."""
    return df[(df["device"] == device) & (df["commit"] == commit) & (df["comm_path"] == path)]


def quad_buckets(g):
    """The bucket sizes of one model's step records that have all four: replicated and sharded, overlap off and on."""
    return sorted(float(b) for b, gb in g.groupby("bucket_mb")
                  if QUAD <= {(m, bool(o)) for m, o in zip(gb["mode"], gb["overlap"])})


def nearest_primary(buckets):
    return min(buckets, key=lambda b: abs(math.log(b / PRIMARY_BUCKET_MB)))


def choose_fit_set(df, fit_ranks, only=None):
    """The newest (device, commit, NCCL path) with the fit's ingredients at fit_ranks (only: that set and model). The
    path (NCCL's staging or registered buffers) is part of the set: the two are different collectives, never fitted
    or judged together. Returns device, commit, path, model, the primary bucket size (25 MiB, or the nearest
    measured) and every bucket size with the four step records."""
    steps = nccl_steps(df)
    sweeps = df[(df["benchmark"] == "allreduce") & (df["comm"] == "nccl") & (df["ranks"] == fit_ranks)]
    candidates = []
    for (device, commit, path), g in steps[steps["ranks"] == fit_ranks].groupby(["device", "commit", "comm_path"]):
        if only and (device, commit, path) != tuple(only[:3]):
            continue
        sw = sweeps[(sweeps["device"] == device) & (sweeps["commit"] == commit) & (sweeps["comm_path"] == path)]
        if sw[sw["bytes"] >= MIN_FIT_BYTES]["bytes"].nunique() < 4:
            continue
        for model, gm in g.groupby("model"):
            buckets = quad_buckets(gm)
            if buckets and not (only and model != only[3]):
                primary = nearest_primary(buckets)
                candidates.append((primary == PRIMARY_BUCKET_MB, g["timestamp"].max(), device, commit, path, model,
                                   primary, buckets))
    if not candidates:
        raise InputError(f"model: no device and commit has, at {fit_ranks} ranks, a --comm-only NCCL sweep (4 sizes "
                         f"of 4 MiB and up) and dp_step records of one model and bucket size with overlap on and off, "
                         f"replicated and sharded (inputs/sweeps/gpu-scaling.yaml makes them)")
    # Prefer DDP's default bucket of 25 MiB, then the newest run.
    candidates.sort(key=lambda c: (c[0], c[1]))
    return candidates[-1][2:]


def curve_times(sw, form):
    """Median time per size of an allreduce sweep: out of place (the kept form), or in place as the step calls it
    (the candidate; out of place where a record has no in-place time)."""
    t = sw["oop_time_s"]
    if form != KEPT and "ip_time_s" in sw:
        t = sw["ip_time_s"].fillna(t)
    return sw.assign(time_s=t).groupby("bytes")["time_s"].median().reset_index()


def fit(df, fit_ranks, form=KEPT, only=None, leave_out=None):
    """Fits one form's parameters on fit_ranks records; leave_out: a bucket size whose step records are not used
    (the candidate's 2-GPU held-out check)."""
    device, commit, path, model, bucket, buckets = choose_fit_set(df, fit_ranks, only)
    if leave_out is not None:
        buckets = [b for b in buckets if b != leave_out]
        if not buckets:
            raise InputError("model: no bucket size left to fit")
        bucket = nearest_primary(buckets)
    if form == KEPT:
        buckets = [bucket]
    same = one_set(df, device, commit, path)
    sw = same[(same["benchmark"] == "allreduce") & (same["comm"] == "nccl") & (same["ranks"] == fit_ranks)]
    curve = curve_times(sw, form)
    fitc = curve[curve["bytes"] >= MIN_FIT_BYTES]
    s, t = fitc["bytes"].to_numpy(float), fitc["time_s"].to_numpy(float)
    c = 2 * (fit_ranks - 1) / fit_ranks
    steps = nccl_steps(same)
    roof = float(steps[steps["ranks"] == fit_ranks]["roof_GBps"].median())
    fixed = {"form": form, "fit_ranks": fit_ranks, "roof_GBps": roof}
    if form != KEPT:
        fixed["lambda_us"] = RING_STEP_US

    def extended(q):
        pq = dict(fixed, L_us=q[0] * 1e6, beta_GBps=q[1] / 1e9, Lp_us=q[2] * 1e6)
        return (coll(pq, s, fit_ranks) - t) / t

    def alpha_beta(q):
        return (q[0] + c * s / q[1] - t) / t

    r = least_squares(extended, [1e-5, 3e11, 1e-6], x_scale=[1e-5, 1e11, 1e-6],
                      bounds=([0, 1e8, 0], [1e-2, 1e14, 1e-2]))
    ab = least_squares(alpha_beta, [1e-5, 3e11], x_scale=[1e-5, 1e11], bounds=([0, 1e8], [1e-2, 1e14]))
    p = dict(fixed, L_us=r.x[0] * 1e6, beta_GBps=r.x[1] / 1e9, Lp_us=r.x[2] * 1e6)
    at_model = steps[(steps["ranks"] == fit_ranks) & (steps["model"] == model)]

    def row(b, mode, overlap):
        g = at_model[(at_model["bucket_mb"] == b) & (at_model["mode"] == mode) & (at_model["overlap"] == overlap)]
        return g.iloc[0]

    off_r, off_s = row(bucket, "replicated", False), row(bucket, "sharded", False)
    # The update phase of the replicated and the sharded step (same buckets, 1 : N of the bytes) separate the
    # streaming rate from the per-bucket cost: update_s = B P_u / (eta R) + K tau.
    secs_r = off_r["bytes_per_param"] * off_r["params"] / (off_r["roof_GBps"] * 1e9)
    secs_s = off_s["bytes_per_param"] * off_s["params"] / fit_ranks / (off_s["roof_GBps"] * 1e9)
    inv_eta = (off_r["update_s"] - off_s["update_s"]) / (secs_r - secs_s)
    p["eta"] = 1 / inv_eta
    p["tau_us"] = (off_r["update_s"] - secs_r * inv_eta) / off_r["buckets"] * 1e6
    K, sb = off_r["buckets"], off_r["allreduce_bytes"] / off_r["buckets"]
    p["eps_replicated_us"] = (off_r["comm_s"] / K - coll(p, sb, fit_ranks)) * 1e6
    K, sb = off_s["buckets"], off_s["allreduce_bytes"] / off_s["buckets"]
    p["eps_sharded_us"] = (off_s["comm_s"] / K - 2 * coll(p, sb, fit_ranks, half=True)) * 1e6
    fit_rows = []
    for mode in MODES:
        if form == KEPT:
            # The share of the overlapped update not hidden, at the primary bucket size.
            rec = row(bucket, mode, True)
            p[f"kappa_{mode}"] = 0.0
            comm, upd, _ = step_parts(p, rec)
            K = rec["buckets"]
            p[f"kappa_{mode}"] = (rec["comm_update_s"] - comm - upd / K) / (upd * (K - 1) / K)
            continue
        # The candidate: kappa at every bucket size from the measured pair alone: what the overlapped step takes
        # beyond the two streams' makespan with the measured comm and update, per second of update beside NCCL.
        table = {}
        for b in buckets:
            off, on = row(b, mode, False), row(b, mode, True)
            if b != bucket:
                fit_rows += [off, on]
            K = int(on["buckets"])
            end, overlap = streams(K, off["comm_s"] / K, off["update_s"] / K, mode == "sharded")
            if overlap > 0:
                table[f"{b:g}"] = float((on["comm_update_s"] - end) / overlap)
        p[f"kappa_{mode}"] = table or {f"{bucket:g}": 0.0}  # one bucket per step: nothing overlaps
    fit_rows += [off_r, off_s, row(bucket, "replicated", True), row(bucket, "sharded", True)]
    quality = {"sizes": int(len(fitc)), "curve": "out of place" if form == KEPT else "in place",
               "extended_max_abs_err_pct": float(100 * np.abs(r.fun).max()),
               "alpha_beta_max_abs_err_pct": float(100 * np.abs(ab.fun).max()),
               "alpha_beta": {"L_us": ab.x[0] * 1e6, "beta_GBps": ab.x[1] / 1e9}}
    sel = {"device": device, "commit": commit, "comm_path": path, "model": model, "bucket_mb": float(bucket),
           "kappa_buckets_mb": [float(b) for b in buckets], "fit_ranks": fit_ranks}
    return p, sel, quality, fit_rows, steps, curve


def record_key(r):
    return (r["model"], r["mode"], bool(r["overlap"]), float(r["bucket_mb"]), int(r["ranks"]))


def evaluate(p, steps, fit_rows, fit_ranks):
    fit_ids = {record_key(r) for r in fit_rows}
    rows = []
    for _, rec in steps.iterrows():
        if pd.isna(rec.get("comm_update_s")) or pd.isna(rec.get("roof_GBps")):
            continue
        comm, upd, cu = step_parts(p, rec)
        role = "fit" if record_key(rec) in fit_ids else ("held out" if rec["ranks"] == fit_ranks else
                                                         f"held out ({int(rec['ranks'])} ranks)")
        rows.append({"role": role, "model": rec["model"], "ranks": int(rec["ranks"]), "mode": rec["mode"],
                     "overlap": bool(rec["overlap"]), "bucket_mb": float(rec["bucket_mb"]),
                     "buckets": int(rec["buckets"]), "measured_ms": rec["comm_update_s"] * 1e3,
                     "predicted_ms": cu * 1e3, "error_pct": 100 * (cu / rec["comm_update_s"] - 1),
                     "measured_step_ms": rec["total_s"] * 1e3,
                     "predicted_step_ms": (rec["gradient_s"] + cu) * 1e3})
    ev = pd.DataFrame(rows)
    return ev.drop_duplicates(subset=["role", "model", "ranks", "mode", "overlap", "bucket_mb"]) \
        .sort_values(["role", "model", "ranks", "mode", "overlap", "bucket_mb"])


def leave_one_bucket_out(df, sel, fit_ranks, form):
    """Each bucket size of the fit set held out in turn at the fit rank count: refitted without its four step records
    (the candidate's kappa then comes from the neighbouring sizes; eta, tau and eps from the nearest other size
    when it is the primary one), then those four predicted. Empty with one bucket size."""
    rows = []
    only = (sel["device"], sel["commit"], sel["comm_path"], sel["model"])
    buckets = choose_fit_set(df, fit_ranks, only)[5]
    if len(buckets) < 2:
        return pd.DataFrame(rows)
    for b in buckets:
        p, _, _, _, steps, _ = fit(df, fit_ranks, form, only, leave_out=b)
        at = steps[(steps["ranks"] == fit_ranks) & (steps["model"] == sel["model"]) & (steps["bucket_mb"] == b)]
        for (mode, overlap), g in at.groupby(["mode", "overlap"]):
            rec = g.iloc[0]
            _, _, cu = step_parts(p, rec)
            rows.append({"model": rec["model"], "ranks": int(rec["ranks"]), "mode": mode, "overlap": bool(overlap),
                         "bucket_mb": float(b), "buckets": int(rec["buckets"]),
                         "measured_ms": rec["comm_update_s"] * 1e3, "predicted_ms": cu * 1e3,
                         "error_pct": 100 * (cu / rec["comm_update_s"] - 1)})
    return pd.DataFrame(rows).sort_values(["mode", "overlap", "bucket_mb"])


def two_gpu_held_out(ev, cv, fit_ranks):
    """The errors a form makes on the fit rank count's held-out bucket sizes of the fit model: its held-out records
    there, and (the candidate) each fitted bucket size held out in turn. Keyed by (model, mode, overlap, bucket)."""
    at = ev[(ev["ranks"] == fit_ranks) & (ev["role"] == "held out")]
    out = {(r["model"], r["mode"], bool(r["overlap"]), float(r["bucket_mb"])): float(r["error_pct"])
           for _, r in at.iterrows()}
    for _, r in cv.iterrows():
        out[(r["model"], r["mode"], bool(r["overlap"]), float(r["bucket_mb"]))] = float(r["error_pct"])
    return out


def evaluate_curves(p, df, sel, fit_ranks):
    """The NCCL allreduce curve (out of place for the kept form, in place for the candidate) at every other rank count
    of the fit's device and commit (4 MiB and up), model against measurement: held out like the step records."""
    same = one_set(df, sel["device"], sel["commit"], sel["comm_path"])
    sw = same[(same["benchmark"] == "allreduce") & (same["comm"] == "nccl") & (same["ranks"] != fit_ranks)]
    rows = []
    for n, g in sw.groupby("ranks"):
        for _, c in curve_times(g, p["form"]).iterrows():
            size, t = float(c["bytes"]), float(c["time_s"])
            if size < MIN_FIT_BYTES:
                continue
            model = float(coll(p, size, int(n)))
            rows.append({"ranks": int(n), "bytes": int(size), "mib": size / 2 ** 20, "measured_us": t * 1e6,
                         "predicted_us": model * 1e6, "error_pct": 100 * (model / t - 1)})
    return pd.DataFrame(rows)


def multi_node_bucket(p, s, n, gpn, system, consts, eff, lat_scale):
    """One bucket's allreduce on n ranks in nodes of gpn: NCCL's choice of ring or tree (the faster by the model);
    returns (time, algorithm, latency part, bandwidth part, pipeline part, local-memory part)."""
    nodes = max(1, n // gpn)
    ppn = min(n, gpn)
    beta_node = p["beta_GBps"] * 1e9
    beta_net = system["nics_per_node"] * system["nic_GBps"] * 1e9 * eff
    busbw = min(beta_node, beta_net) if nodes > 1 else beta_node
    steps, inter = 2 * (n - 1), (2 * (nodes - 1) if nodes > 1 else 0)
    net_hop = consts["ring_net_step"] * consts["ring_plateau"] * lat_scale
    if p["form"] == KEPT:
        ring_L = (p["L_us"] + (steps - inter - 2 * (p["fit_ranks"] - 1)) * consts["ring_intra_step"] +
                  inter * net_hop) * 1e-6
    else:  # each hop exposed where the step's half-transfer of one rank's piece is shorter, as on one node
        half = s / n / (2 * busbw)
        ring_L = p["L_us"] * 1e-6 + (steps - inter) * max(0.0, p["lambda_us"] * 1e-6 - half) + \
            inter * max(0.0, net_hop * 1e-6 - half)
    x = steps / n * s / busbw
    pipe = 2 * math.sqrt(p["Lp_us"] * 1e-6 * s / (n * busbw))
    mem = MEM_PASSES * s / (p["roof_GBps"] * 1e9)
    ring = (ring_L + x + pipe + mem, "ring", ring_L, x, pipe, mem)
    tree_L = (consts["tree_base"] + 2 * ((ppn - 1) * consts["tree_intra_step"] +
                                         math.log2(max(nodes, 1)) * consts["tree_net_level"] * lat_scale)) * 1e-6
    tx = s / (0.5 * consts["tree_bandwidth_factor"] * busbw)
    tree = (tree_L + tx + mem, "tree", tree_L, tx, 0.0, mem)
    return min(ring, tree) if nodes > 1 else ring


def extrapolate(p, sel, fit_rec, systems_doc, err_band):
    consts = systems_doc["nccl_latency_us"]
    lat_lo, lat_hi = systems_doc.get("network_latency_scale", [1.0, 1.0])
    rows = []
    S, P, B, R = fit_rec["allreduce_bytes"], fit_rec["params"], fit_rec["bytes_per_param"], fit_rec["roof_GBps"]
    stream = B * P / (p["eta"] * R * 1e9)
    for system in systems_doc["systems"]:
        e_lo, e_hi = system["network_efficiency"]
        gpn = system["gpus_per_node"]
        for bucket_mb in (25.0, 100.0):
            K = max(1, math.ceil(S / (bucket_mb * 2 ** 20)))
            upd = stream + K * p["tau_us"] * 1e-6
            s = S / K
            kappa = kappa_at(p, "replicated", s / 2 ** 20)
            n = 64
            while n <= 4096:
                def total(eff, lat):
                    t, algo, L, x, pipe, mem = multi_node_bucket(p, s, n, gpn, system, consts, eff, lat)
                    c = t + p["eps_replicated_us"] * 1e-6
                    if p["form"] == KEPT:
                        cu = K * c + upd / K + kappa * upd * (K - 1) / K
                    else:
                        end, overlap = streams(K, c, upd / K, False)
                        cu = end + kappa * overlap
                    terms = {"latency": K * L, "bandwidth": K * x, "pipeline fill": K * pipe,
                             "local memory": K * mem, "per-bucket overhead": K * p["eps_replicated_us"] * 1e-6,
                             "exposed update": cu - K * c}
                    return cu, algo, terms
                mid, algo, terms = total((e_lo + e_hi) / 2, 1.0)
                lo = total(e_hi, lat_lo)[0] * (1 - err_band)
                hi = total(e_lo, lat_hi)[0] * (1 + err_band)
                dominant = max(terms, key=terms.get)
                rows.append({"system": system["name"], "gpus": n, "nodes": n // gpn, "bucket_mb": bucket_mb,
                             "buckets": K, "algorithm": algo, "predicted_ms": mid * 1e3, "low_ms": lo * 1e3,
                             "high_ms": hi * 1e3, "dominant": dominant,
                             "dominant_share_pct": 100 * terms[dominant] / sum(terms.values())})
                n *= 2
    return pd.DataFrame(rows)


def figures(ev, ex, out):
    from .figures import plt, save
    names = []
    fig, ax = plt.subplots(figsize=(6, 5))
    for role, g in ev.groupby("role"):
        ax.scatter(g["measured_ms"], g["predicted_ms"], s=18, label=role)
    lim = [0, max(ev["measured_ms"].max(), ev["predicted_ms"].max()) * 1.05]
    ax.plot(lim, lim, color="gray", lw=0.6)
    ax.fill_between(lim, [x * 0.95 for x in lim], [x * 1.05 for x in lim], color="gray", alpha=0.15, label="+-5%")
    ax.set_xlabel("measured comm + update (ms)")
    ax.set_ylabel("model (ms)")
    ax.set_title("model against measurements", fontsize=10)
    ax.legend(fontsize=7)
    names.append(save(fig, out, "model_vs_measured"))
    if not ex.empty:
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        for (system, bucket), g in ex.groupby(["system", "bucket_mb"]):
            ax.errorbar(g["gpus"], g["predicted_ms"], yerr=[g["predicted_ms"] - g["low_ms"],
                                                            g["high_ms"] - g["predicted_ms"]],
                        marker="o", ms=3, capsize=3, label=f"{system}, {bucket:g} MiB buckets")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("GPUs")
        ax.set_ylabel("predicted comm + update per step (ms)")
        ax.set_title("ILLUSTRATION: extrapolated, not measured (vit_l_16, replicated, overlap on)", fontsize=10)
        ax.legend(fontsize=7)
        names.append(save(fig, out, "model_extrapolation"))
    return names


def md_rows(df, cols):
    head = "| " + " | ".join(h for h, _, _ in cols) + " |\n|" + "|".join("---" for _ in cols) + "|\n"
    body = []
    for _, r in df.iterrows():
        cells = []
        for _, c, f in cols:
            v = r[c]
            if isinstance(v, (bool, np.bool_)):
                v = "on" if v else "off"
            cells.append(format(v, f) if f else str(v))
        body.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(body) + "\n"


def shown_path(path):
    """A path as the report shows it: relative to the repository when inside it."""
    rel = os.path.relpath(path, os.path.join(HERE, "..", "..", ".."))
    return rel if not rel.startswith("..") else path


def value_text(v):
    if isinstance(v, dict):
        return ", ".join(f"{float(b):g}: {x:.2f}" for b, x in sorted(v.items(), key=lambda kv: float(kv[0])))
    return format(v, ".4g")


def tally(errors):
    e = np.abs(np.asarray(list(errors), dtype=float))
    if not len(e):
        return "no points"
    return f"{int((e <= 5).sum())} of {len(e)} within 5%, median |error| {np.median(e):.1f}%, max {e.max():.1f}%"


def run_model(df, out, fit_ranks, systems_path, make_figures):
    if df.empty or "benchmark" not in df:
        raise InputError("model: no records")
    p, sel, quality, fit_rows, steps, curve = fit(df, fit_ranks)
    ev = evaluate(p, steps, fit_rows, fit_ranks)
    curves = evaluate_curves(p, df, sel, fit_ranks)
    held = ev[ev["role"] != "fit"]
    at_fit = held[held["ranks"] == fit_ranks]
    band = float(at_fit["error_pct"].abs().max() / 100) if not at_fit.empty else 0.1
    # The candidate form, fitted on the same set and judged on the same records.
    only = (sel["device"], sel["commit"], sel["comm_path"], sel["model"])
    cp, csel, cquality, cfit_rows, _, _ = fit(df, fit_ranks, CANDIDATE, only)
    cev = evaluate(cp, steps, cfit_rows, fit_ranks)
    ccurves = evaluate_curves(cp, df, csel, fit_ranks)
    ccv = leave_one_bucket_out(df, csel, fit_ranks, CANDIDATE)
    kept2 = two_gpu_held_out(ev, pd.DataFrame(), fit_ranks)
    cand2 = two_gpu_held_out(cev, ccv, fit_ranks)
    common = sorted(set(kept2) & set(cand2))
    systems_path = systems_path or os.path.join(HERE, "model_systems.yaml")
    try:
        with open(systems_path) as fh:
            systems_doc = yaml.safe_load(fh)
        systems_doc["systems"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise InputError(f"{systems_path}: not a model systems file ({e})")
    fit_rec = [r for r in fit_rows if r["mode"] == "replicated" and r["overlap"]][0]
    ex = extrapolate(p, sel, fit_rec, systems_doc, band)
    os.makedirs(out, exist_ok=True)
    names = figures(ev, ex, os.path.join(out, "figures")) if make_figures else []
    comparison = [{"model": k[0], "mode": k[1], "overlap": k[2], "bucket_mb": k[3], "kept_error_pct": kept2[k],
                   "candidate_error_pct": cand2[k]} for k in common]
    with open(os.path.join(out, "model.json"), "w") as fh:
        json.dump({"parameters": p, "fit": sel, "fit_quality": quality,
                   "evaluation": ev.to_dict(orient="records"),
                   "allreduce_held_out": curves.to_dict(orient="records"),
                   "extrapolation": ex.to_dict(orient="records"),
                   "candidate": {"parameters": cp, "fit": csel, "fit_quality": cquality,
                                 "evaluation": cev.to_dict(orient="records"),
                                 "bucket_sizes_held_out_in_turn": ccv.to_dict(orient="records"),
                                 "allreduce_held_out": ccurves.to_dict(orient="records")},
                   "held_out_at_fit_ranks_both_forms": comparison},
                  fh, indent=1, default=float)
    md = ["# Performance model of the data-parallel step", "",
          "Form and meaning of every parameter: docs/reports.md (and the docstring of "
          "scripts/report/nagbench_report/model.py). Fitted on "
          f"{fit_ranks}-GPU records only: {sel['device']} at commit {sel['commit']}, NCCL path {sel['comm_path']}, "
          f"model {sel['model']}, "
          f"{sel['bucket_mb']:g} MiB buckets (overlap off and on, replicated and sharded), and the --comm-only "
          f"NCCL sweep ({quality['sizes']} sizes of 4 MiB and up). The form is the kept one ({KEPT}); a candidate "
          "form, fitted on the same records, is judged beside it at the end.", "", "## Parameters", "",
          "| parameter | value | meaning |", "|---|---|---|"]
    for name, meaning in PARAMS:
        md.append(f"| `{name}` | {value_text(p[name])} | {meaning} |")
    md += ["", f"The allreduce curve: max |error| {quality['extended_max_abs_err_pct']:.1f}% with the pipeline term, "
           f"{quality['alpha_beta_max_abs_err_pct']:.1f}% for the alpha-beta model alone (L = "
           f"{quality['alpha_beta']['L_us']:.1f} us, beta = {quality['alpha_beta']['beta_GBps']:.1f} GB/s).", "",
           "## Held-out points", "",
           f"comm + update per step, model against measurement, for every step record of that device and commit "
           f"(`fit`: the four records the step parameters come from). Held out at {fit_ranks} GPUs: "
           f"{len(at_fit)} points, max |error| {at_fit['error_pct'].abs().max():.1f}%, median "
           f"{at_fit['error_pct'].abs().median():.1f}%, {int((at_fit['error_pct'].abs() <= 5).sum())} within 5%."
           if not at_fit.empty else "No held-out point at the fit rank count.", ""]
    other = held[held["ranks"] != fit_ranks]
    md.append(f"At other rank counts: {len(other)} points, max |error| {other['error_pct'].abs().max():.1f}%, "
              f"{int((other['error_pct'].abs() <= 5).sum())} within 5%."
              if not other.empty else "No records at other rank counts (4 GPUs) yet: run "
              "inputs/sweeps/gpu-scaling.yaml on a 4-GPU node and rerun this command; those points are held out.")
    md += ["", md_rows(ev, [("role", "role", None), ("model", "model", None), ("ranks", "ranks", None),
                            ("mode", "mode", None), ("overlap", "overlap", None), ("bucket MiB", "bucket_mb", "g"),
                            ("buckets", "buckets", None), ("measured ms", "measured_ms", ".3f"),
                            ("model ms", "predicted_ms", ".3f"), ("error %", "error_pct", "+.1f")])]
    if not curves.empty:
        md += ["The NCCL allreduce (`--comm-only`) at other rank counts, held out: max |error| "
               f"{curves['error_pct'].abs().max():.1f}% over {len(curves)} sizes of 4 MiB and up, "
               f"{int((curves['error_pct'].abs() <= 5).sum())} within 5% (the link bandwidth "
               "fitted at the fit rank count, NCCL's per-step latency for the added ring steps).", "",
               md_rows(curves, [("ranks", "ranks", ".0f"), ("MiB", "mib", ".4g"),
                                ("measured us", "measured_us", ".1f"), ("model us", "predicted_us", ".1f"),
                                ("error %", "error_pct", "+.1f")])]
    md += [f"![model vs measured](figures/{names[0]})" if names else "", "",
           "## Extrapolation (an illustration, not a measurement)", "",
           "vit_l_16, replicated, overlap on, on the systems of "
           f"{shown_path(systems_path)} (cited there): "
           "intra-node terms from the fit, inter-node bandwidth = min(node, NICs x line rate x efficiency), "
           "latency from NCCL's constants; NCCL's choice of ring or tree per bucket. Error bars: the network "
           "efficiency and latency ranges of that file, widened by the largest held-out error at "
           f"{fit_ranks} GPUs ({100 * band:.1f}%). `dominant`: the largest term of the step at that size.", "",
           md_rows(ex, [("system", "system", None), ("GPUs", "gpus", None), ("nodes", "nodes", None),
                        ("bucket MiB", "bucket_mb", "g"), ("algorithm", "algorithm", None),
                        ("model ms", "predicted_ms", ".2f"), ("low", "low_ms", ".2f"), ("high", "high_ms", ".2f"),
                        ("dominant term", "dominant", None), ("its share %", "dominant_share_pct", ".0f")])]
    if len(names) > 1:
        md += [f"![extrapolation](figures/{names[1]})", ""]
    md += candidate_md(cp, csel, cquality, ev, cev, curves, ccurves, ccv, kept2, cand2, common, fit_ranks)
    with open(os.path.join(out, "model.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    print(os.path.join(out, "model.md"))
    return 0


def candidate_md(cp, csel, cquality, ev, cev, curves, ccurves, ccv, kept2, cand2, common, fit_ranks):
    """The candidate form's section of model.md: its parameters and its errors beside the kept form's."""
    kb = ", ".join(f"{b:g}" for b in csel["kappa_buckets_mb"])
    md = [f"## The candidate form ({CANDIDATE}, not adopted)", "",
          "Fitted on the same records (docs/reports.md states its form and why it was not adopted): the in-place "
          "curve, the hop latency only where a ring step is latency-bound, kappa per bucket size (measured at "
          f"{kb} MiB), the two CUDA streams of an overlapped step. Allreduce curve: max |error| "
          f"{cquality['extended_max_abs_err_pct']:.1f}%.", "",
          "| parameter | value | meaning |", "|---|---|---|"]
    for name, meaning in CANDIDATE_PARAMS:
        md.append(f"| `{name}` | {value_text(cp[name])} | {meaning} |")
    md += ["", "The criterion that chooses between the forms (fixed before the candidate was judged on other rank "
           f"counts), the {fit_ranks}-GPU held-out bucket sizes ({len(common)} points held out by both: the kept "
           "form's held-out records, the candidate's with each bucket size held out in turn): kept form "
           f"{tally(kept2[k] for k in common)}; candidate {tally(cand2[k] for k in common)}.", ""]
    key = ["role", "model", "ranks", "mode", "overlap", "bucket_mb"]
    both = ev.merge(cev[key + ["predicted_ms", "error_pct"]], on=key, suffixes=("", "_candidate"))
    other = both[both["ranks"] != fit_ranks]
    if not other.empty:
        md += [f"At other rank counts (held out): kept form {tally(other['error_pct'])}; candidate "
               f"{tally(other['error_pct_candidate'])}.", "",
               md_rows(other, [("model", "model", None), ("ranks", "ranks", None), ("mode", "mode", None),
                               ("overlap", "overlap", None), ("bucket MiB", "bucket_mb", "g"),
                               ("measured ms", "measured_ms", ".3f"), ("kept ms", "predicted_ms", ".3f"),
                               ("kept error %", "error_pct", "+.1f"),
                               ("candidate ms", "predicted_ms_candidate", ".3f"),
                               ("candidate error %", "error_pct_candidate", "+.1f")])]
    if not ccurves.empty:
        cc = ccurves.merge(curves[["ranks", "bytes", "error_pct"]], on=["ranks", "bytes"], suffixes=("", "_kept"))
        md += ["The allreduce at other rank counts (the candidate against the in-place time, the kept form against "
               f"the out-of-place one): kept form {tally(cc['error_pct_kept'])}; candidate "
               f"{tally(cc['error_pct'])}.", "",
               md_rows(cc, [("ranks", "ranks", ".0f"), ("MiB", "mib", ".4g"),
                            ("kept error %", "error_pct_kept", "+.1f"), ("in place us", "measured_us", ".1f"),
                            ("candidate us", "predicted_us", ".1f"), ("candidate error %", "error_pct", "+.1f")])]
    if not ccv.empty:
        md += [f"The candidate with each bucket size held out in turn at {fit_ranks} GPUs: {tally(ccv['error_pct'])}.",
               "", md_rows(ccv, [("mode", "mode", None), ("overlap", "overlap", None),
                                 ("bucket MiB", "bucket_mb", "g"), ("measured ms", "measured_ms", ".3f"),
                                 ("model ms", "predicted_ms", ".3f"), ("error %", "error_pct", "+.1f")])]
    return md
