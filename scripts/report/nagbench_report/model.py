"""The performance model of the data-parallel step (docs/reports.md states its form and parameters first).

Per step, after the gradients (measured, not modelled), the reduction and the update take

    T_cu = K (t_coll(s) + eps) + T_upd                                  overlap off
    T_cu = K (t_coll(s) + eps) + T_upd / K + kappa T_upd (K - 1) / K     overlap on

for K buckets of s = S / K bytes (S: gradient bytes). The update streams its minimum bytes at a fraction eta of the
device's roof R (measured in the same run) and pays a fixed cost tau per bucket (a launch and its tail):
T_upd = B P_u / (eta R) + K tau, P_u = P (replicated) or P / N (sharded). The allreduce of one bucket on one node
(NCCL ring, N ranks, 2 (N - 1) steps):

    t_coll(s) = L + (2 (N - 1) - 2 (N_fit - 1)) h + x + m s / R + 2 sqrt(L_p s / (N beta)),
    x = 2 (N - 1) / N * s / beta

an alpha-beta (Hockney) model with latency L and link bandwidth beta, plus
  - a memory term: the m = 2 passes over local HBM that the links do not carry (the input read once, the output
    written once), at the roof R. Without it the bandwidth fitted at 2 ranks (335 GB/s) does not carry over to 4
    (355 GB/s bus bandwidth on the same H200 node); with it, fits at 2 and at 4 ranks give the same beta (403 and
    407 GB/s), a property of a GPU's NVLink port, as it should be on an NVSwitch;
  - h, NCCL's own latency per NVLink step of its ring with the Simple protocol (3.4 us, src/graph/tuning.cc), the
    protocol NCCL logs for 2 MiB and up (results/nvidia-h200-x2/2026-11-28-model/tuning-np2.txt);
  - the fill time of the chunked pipeline of one rank's piece s / N, per-chunk latency L_p (the alpha-beta model
    alone errs by +-9% over 4 MiB - 4 GiB on two H200s).
Sharded steps reduce-scatter and all-gather each bucket: two calls of half the steps, link bytes and latency, each
reading and writing (1 + 1/N) s of local memory. eps is the step's own cost per bucket (events, launches), kappa
the share of the overlapped update that is not hidden (update and NCCL kernels contend for the SMs and memory).

Fitted on one rank count only (2 GPUs): L, beta, L_p on the --comm-only NCCL sweep (4 MiB and up); eta and tau on
the update phase of the replicated and the sharded step (same buckets, 1 : N of the bytes); eps and kappa on the
step at the same bucket size (overlap off and on). Every other step record of the same device and commit (other
bucket sizes, models, rank counts) and the allreduce curve at other rank counts are held out. Beyond one node the
latency grows with NCCL's constants (src/graph/tuning.cc) and the bandwidth is the lesser of the node's and the
network's."""
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


def coll(p, s, n, fit_ranks, half=False):
    """Seconds of one NCCL call on n ranks of one node: an allreduce, or (half) a reduce-scatter or all-gather."""
    steps = (n - 1) if half else 2 * (n - 1)
    base = p["L_us"] / 2 if half else p["L_us"]
    fit_steps = (fit_ranks - 1) if half else 2 * (fit_ranks - 1)
    L = (base + (steps - fit_steps) * RING_STEP_US) * 1e-6
    beta = p["beta_GBps"] * 1e9
    x = (steps / n) * s / beta
    passes = MEM_PASSES / 2 * (1 + 1 / n) if half else MEM_PASSES
    mem = passes * s / (p["roof_GBps"] * 1e9)
    fill = 2 * np.sqrt(p["Lp_us"] * 1e-6 * s / (n * beta))
    return L + x + mem + fill


def step_parts(p, rec, fit_ranks):
    """(comm, update, comm+update) in seconds for a dp_step row."""
    n, K, S = int(rec["ranks"]), int(rec["buckets"]), float(rec["allreduce_bytes"])
    s = S / K
    upd_params = rec["params"] / n if rec["mode"] == "sharded" else rec["params"]
    upd = rec["bytes_per_param"] * upd_params / (p["eta"] * rec["roof_GBps"] * 1e9) + K * p["tau_us"] * 1e-6
    if rec["mode"] == "sharded":
        one = coll(p, s, n, fit_ranks, half=True)
        comm = K * (2 * one + p["eps_sharded_us"] * 1e-6)
        kappa = p["kappa_sharded"]
    else:
        one = coll(p, s, n, fit_ranks)
        comm = K * (one + p["eps_replicated_us"] * 1e-6)
        kappa = p["kappa_replicated"]
    if rec["overlap"]:
        cu = comm + upd / K + kappa * upd * (K - 1) / K
    else:
        cu = comm + upd
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


def choose_fit_set(df, fit_ranks):
    """The newest (device, commit, NCCL path) with the fit's ingredients at fit_ranks. The path (NCCL's staging or
    registered buffers) is part of the set: the two are different collectives, never fitted or judged together."""
    steps = nccl_steps(df)
    sweeps = df[(df["benchmark"] == "allreduce") & (df["comm"] == "nccl") & (df["ranks"] == fit_ranks)]
    candidates = []
    for (device, commit, path), g in steps[steps["ranks"] == fit_ranks].groupby(["device", "commit", "comm_path"]):
        sw = sweeps[(sweeps["device"] == device) & (sweeps["commit"] == commit) & (sweeps["comm_path"] == path)]
        if sw[sw["bytes"] >= MIN_FIT_BYTES]["bytes"].nunique() < 4:
            continue
        for (model, bucket), gm in g.groupby(["model", "bucket_mb"]):
            have = {(m, o) for m, o in zip(gm["mode"], gm["overlap"])}
            if {("replicated", False), ("replicated", True), ("sharded", False), ("sharded", True)} <= have:
                candidates.append((g["timestamp"].max(), device, commit, path, model, bucket))
    if not candidates:
        raise InputError(f"model: no device and commit has, at {fit_ranks} ranks, a --comm-only NCCL sweep (4 sizes "
                         f"of 4 MiB and up) and dp_step records of one model and bucket size with overlap on and off, "
                         f"replicated and sharded (inputs/sweeps/gpu-scaling.yaml makes them)")
    # Prefer DDP's default bucket of 25 MiB, then the newest run.
    candidates.sort(key=lambda c: (c[5] == 25.0, c[0]))
    _, device, commit, path, model, bucket = candidates[-1]
    return device, commit, path, model, bucket


def fit(df, fit_ranks):
    device, commit, path, model, bucket = choose_fit_set(df, fit_ranks)
    same = one_set(df, device, commit, path)
    sw = same[(same["benchmark"] == "allreduce") & (same["comm"] == "nccl") & (same["ranks"] == fit_ranks)]
    curve = sw.groupby("bytes")["oop_time_s"].median().reset_index()
    fitc = curve[curve["bytes"] >= MIN_FIT_BYTES]
    s, t = fitc["bytes"].to_numpy(float), fitc["oop_time_s"].to_numpy(float)
    c = 2 * (fit_ranks - 1) / fit_ranks
    steps = nccl_steps(same)
    roof = float(steps[steps["ranks"] == fit_ranks]["roof_GBps"].median())

    def extended(q):
        pq = {"L_us": q[0] * 1e6, "beta_GBps": q[1] / 1e9, "Lp_us": q[2] * 1e6, "roof_GBps": roof}
        return (coll(pq, s, fit_ranks, fit_ranks) - t) / t

    def alpha_beta(q):
        return (q[0] + c * s / q[1] - t) / t

    r = least_squares(extended, [1e-5, 3e11, 1e-6], x_scale=[1e-5, 1e11, 1e-6],
                      bounds=([0, 1e8, 0], [1e-2, 1e14, 1e-2]))
    ab = least_squares(alpha_beta, [1e-5, 3e11], x_scale=[1e-5, 1e11], bounds=([0, 1e8], [1e-2, 1e14]))
    p = {"L_us": r.x[0] * 1e6, "beta_GBps": r.x[1] / 1e9, "Lp_us": r.x[2] * 1e6, "roof_GBps": roof}
    at = steps[(steps["ranks"] == fit_ranks) & (steps["model"] == model) & (steps["bucket_mb"] == bucket)]

    def row(mode, overlap):
        return at[(at["mode"] == mode) & (at["overlap"] == overlap)].iloc[0]

    off_r, off_s, on_r, on_s = row("replicated", False), row("sharded", False), row("replicated", True), \
        row("sharded", True)
    # The update phase of the replicated and the sharded step (same buckets, 1 : N of the bytes) separate the
    # streaming rate from the per-bucket cost: update_s = B P_u / (eta R) + K tau.
    secs_r = off_r["bytes_per_param"] * off_r["params"] / (off_r["roof_GBps"] * 1e9)
    secs_s = off_s["bytes_per_param"] * off_s["params"] / fit_ranks / (off_s["roof_GBps"] * 1e9)
    inv_eta = (off_r["update_s"] - off_s["update_s"]) / (secs_r - secs_s)
    p["eta"] = 1 / inv_eta
    p["tau_us"] = (off_r["update_s"] - secs_r * inv_eta) / off_r["buckets"] * 1e6
    K, sb = off_r["buckets"], off_r["allreduce_bytes"] / off_r["buckets"]
    p["eps_replicated_us"] = (off_r["comm_s"] / K - coll(p, sb, fit_ranks, fit_ranks)) * 1e6
    K, sb = off_s["buckets"], off_s["allreduce_bytes"] / off_s["buckets"]
    p["eps_sharded_us"] = (off_s["comm_s"] / K - 2 * coll(p, sb, fit_ranks, fit_ranks, half=True)) * 1e6
    for mode, rec in (("replicated", on_r), ("sharded", on_s)):
        p[f"kappa_{mode}"] = 0.0
        comm, upd, _ = step_parts(p, rec, fit_ranks)
        K = rec["buckets"]
        p[f"kappa_{mode}"] = (rec["comm_update_s"] - comm - upd / K) / (upd * (K - 1) / K)
    fit_rows = [off_r, off_s, on_r, on_s]
    quality = {"sizes": int(len(fitc)), "extended_max_abs_err_pct": float(100 * np.abs(r.fun).max()),
               "alpha_beta_max_abs_err_pct": float(100 * np.abs(ab.fun).max()),
               "alpha_beta": {"L_us": ab.x[0] * 1e6, "beta_GBps": ab.x[1] / 1e9}}
    sel = {"device": device, "commit": commit, "comm_path": path, "model": model, "bucket_mb": float(bucket),
           "fit_ranks": fit_ranks}
    return p, sel, quality, fit_rows, steps, curve


def evaluate(p, steps, fit_rows, fit_ranks):
    fit_ids = {(r["model"], r["mode"], r["overlap"], r["bucket_mb"], r["ranks"]) for r in fit_rows}
    rows = []
    for _, rec in steps.iterrows():
        if pd.isna(rec.get("comm_update_s")) or pd.isna(rec.get("roof_GBps")):
            continue
        comm, upd, cu = step_parts(p, rec, fit_ranks)
        key = (rec["model"], rec["mode"], rec["overlap"], rec["bucket_mb"], rec["ranks"])
        role = "fit" if key in fit_ids else ("held out" if rec["ranks"] == fit_ranks else
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


def evaluate_curves(p, df, sel, fit_ranks):
    """The NCCL allreduce curve at every other rank count of the fit's device and commit (4 MiB and up), model
    against measurement: held out like the step records."""
    same = one_set(df, sel["device"], sel["commit"], sel["comm_path"])
    sw = same[(same["benchmark"] == "allreduce") & (same["comm"] == "nccl") & (same["ranks"] != fit_ranks)]
    rows = []
    for (n, size), g in sw.groupby(["ranks", "bytes"]):
        if size < MIN_FIT_BYTES:
            continue
        t = float(g["oop_time_s"].median())
        model = float(coll(p, float(size), int(n), fit_ranks))
        rows.append({"ranks": int(n), "bytes": int(size), "mib": size / 2 ** 20, "measured_us": t * 1e6,
                     "predicted_us": model * 1e6, "error_pct": 100 * (model / t - 1)})
    return pd.DataFrame(rows)


def multi_node_bucket(p, s, n, gpn, system, consts, eff, lat_scale, fit_ranks):
    """One bucket's allreduce on n ranks in nodes of gpn: NCCL's choice of ring or tree (the faster by the model);
    returns (time, algorithm, latency part, bandwidth part, pipeline part, local-memory part)."""
    nodes = max(1, n // gpn)
    ppn = min(n, gpn)
    beta_node = p["beta_GBps"] * 1e9
    beta_net = system["nics_per_node"] * system["nic_GBps"] * 1e9 * eff
    busbw = min(beta_node, beta_net) if nodes > 1 else beta_node
    steps, inter = 2 * (n - 1), (2 * (nodes - 1) if nodes > 1 else 0)
    ring_L = (p["L_us"] + (steps - inter - 2 * (fit_ranks - 1)) * consts["ring_intra_step"] +
              inter * consts["ring_net_step"] * consts["ring_plateau"] * lat_scale) * 1e-6
    x = steps / n * s / busbw
    pipe = 2 * math.sqrt(p["Lp_us"] * 1e-6 * s / (n * busbw))
    mem = MEM_PASSES * s / (p["roof_GBps"] * 1e9)
    ring = (ring_L + x + pipe + mem, "ring", ring_L, x, pipe, mem)
    tree_L = (consts["tree_base"] + 2 * ((ppn - 1) * consts["tree_intra_step"] +
                                         math.log2(max(nodes, 1)) * consts["tree_net_level"] * lat_scale)) * 1e-6
    tx = s / (0.5 * consts["tree_bandwidth_factor"] * busbw)
    tree = (tree_L + tx + mem, "tree", tree_L, tx, 0.0, mem)
    return min(ring, tree) if nodes > 1 else ring


def extrapolate(p, sel, fit_rec, systems_doc, err_band, fit_ranks):
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
            n = 64
            while n <= 4096:
                def total(eff, lat):
                    t, algo, L, x, pipe, mem = multi_node_bucket(p, s, n, gpn, system, consts, eff, lat,
                                                                 fit_ranks)
                    comm = K * (t + p["eps_replicated_us"] * 1e-6)
                    cu = comm + upd / K + p["kappa_replicated"] * upd * (K - 1) / K
                    terms = {"latency": K * L, "bandwidth": K * x, "pipeline fill": K * pipe,
                             "local memory": K * mem, "per-bucket overhead": K * p["eps_replicated_us"] * 1e-6,
                             "exposed update": upd / K + p["kappa_replicated"] * upd * (K - 1) / K}
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


def run_model(df, out, fit_ranks, systems_path, make_figures):
    if df.empty or "benchmark" not in df:
        raise InputError("model: no records")
    p, sel, quality, fit_rows, steps, curve = fit(df, fit_ranks)
    ev = evaluate(p, steps, fit_rows, fit_ranks)
    curves = evaluate_curves(p, df, sel, fit_ranks)
    held = ev[ev["role"] != "fit"]
    at_fit = held[held["ranks"] == fit_ranks]
    band = float(at_fit["error_pct"].abs().max() / 100) if not at_fit.empty else 0.1
    systems_path = systems_path or os.path.join(HERE, "model_systems.yaml")
    try:
        with open(systems_path) as fh:
            systems_doc = yaml.safe_load(fh)
        systems_doc["systems"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise InputError(f"{systems_path}: not a model systems file ({e})")
    fit_rec = [r for r in fit_rows if r["mode"] == "replicated" and r["overlap"]][0]
    ex = extrapolate(p, sel, fit_rec, systems_doc, band, fit_ranks)
    os.makedirs(out, exist_ok=True)
    names = figures(ev, ex, os.path.join(out, "figures")) if make_figures else []
    with open(os.path.join(out, "model.json"), "w") as fh:
        json.dump({"parameters": p, "fit": sel, "fit_quality": quality,
                   "evaluation": ev.to_dict(orient="records"),
                   "allreduce_held_out": curves.to_dict(orient="records"),
                   "extrapolation": ex.to_dict(orient="records")},
                  fh, indent=1, default=float)
    md = ["# Performance model of the data-parallel step", "",
          "Form and meaning of every parameter: docs/reports.md (and the docstring of "
          "scripts/report/nagbench_report/model.py). Fitted on "
          f"{fit_ranks}-GPU records only: {sel['device']} at commit {sel['commit']}, NCCL path {sel['comm_path']}, "
          f"model {sel['model']}, "
          f"{sel['bucket_mb']:g} MiB buckets (overlap off and on, replicated and sharded), and the --comm-only "
          f"NCCL sweep ({quality['sizes']} sizes of 4 MiB and up).", "", "## Parameters", "",
          "| parameter | value | meaning |", "|---|---|---|"]
    for name, meaning in PARAMS:
        md.append(f"| `{name}` | {p[name]:.4g} | {meaning} |")
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
    with open(os.path.join(out, "model.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    print(os.path.join(out, "model.md"))
    return 0
