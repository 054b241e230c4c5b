"""Independent Python side of the training tests: nagbench's counter-based random numbers (core/random.hpp), the
quadratic workload's spectrum and initial error (workload/quadratic/quadratic.hpp), the exact per-coordinate
recurrences of GD, heavy ball and Nesterov 1983, and the logreg data split and standardisation
(workload/data/dataset.cpp), written again here so that a slip on either side shows."""
import math

import numpy as np

M64 = (1 << 64) - 1


def mix64(x):
    """splitmix64's finalizer; x a Python int or a numpy uint64 array (numpy wraps modulo 2^64)."""
    if isinstance(x, np.ndarray):
        with np.errstate(over="ignore"):
            x = x + np.uint64(0x9E3779B97F4A7C15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            return x ^ (x >> np.uint64(31))
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def random_stream(seed, kind, rank=0, step=0):
    return mix64(mix64(mix64(seed) ^ ((kind << 56) & M64)) ^ ((rank << 32) & M64) ^ step)


def random_values(stream, n):
    """random_value(stream, i) for i = 0..n-1: multiples of 2^-23 in [-1, 1)."""
    with np.errstate(over="ignore"):
        h = mix64(np.uint64(stream) + np.arange(n, dtype=np.uint64))
    k = (h >> np.uint64(40)).astype(np.int64) - (1 << 23)
    return k.astype(np.float64) / 8388608.0


def quadratic_spectrum(seed, size, kappa, mu=1.0, init_scale=1.0):
    """(a_i, e0_i): the averaged curvatures and the initial error of the quadratic workload."""
    u = 0.5 * (random_values(random_stream(seed, 11), size) + 1.0)
    u[0] = 0.0
    if size > 1:
        u[-1] = 1.0
    a = mu * np.exp(u * math.log(kappa))
    e0 = init_scale * random_values(random_stream(seed, 13), size)
    return a, e0


def relative_gap_curve(a, e0, method, lr, beta=0.0, schedule=False, iterations=1000, stop_below=None):
    """(f(x_k) - f*) / (f(x_0) - f*), k = 0.., from each coordinate's own linear recurrence (float64).
    Stops early once the gap is below `stop_below` (the curve then ends at the first such k)."""
    f0 = 0.5 * np.sum(a * e0 * e0)
    e, z = e0.copy(), e0.copy()
    out, t = [1.0], 1.0
    for _ in range(iterations):
        if method == "gd":
            e = e - lr * a * e
            x = e
        elif method == "heavy_ball":
            e, z = e - lr * a * e + beta * (e - z), e
            x = e
        elif method == "nesterov1983":  # e = y (look-ahead), z = x
            b = beta
            if schedule:
                t_next = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
                b, t = (t - 1) / t_next, t_next
            x_next = e - lr * a * e
            e, z = x_next + b * (x_next - z), x_next
            x = x_next
        else:
            raise ValueError(method)
        out.append(0.5 * float(np.sum(a * x * x)) / f0)
        if stop_below is not None and out[-1] <= stop_below:
            break
    return out


def first_below(curve, target):
    for k, v in enumerate(curve):
        if v <= target:
            return k
    return None


def load_breast_cancer(path):
    rows = [line.strip().split(",") for line in open(path)][1:]
    x = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([int(float(r[-1])) for r in rows])
    return x, y


def split_and_standardize(x, labels, test_fraction, seed):
    """data::split (seeded Fisher-Yates on counter-based numbers) and data::standardize (the training part's
    mean and population deviation)."""
    n = len(labels)
    order = list(range(n))
    stream = mix64(seed ^ 0x5EEDDA7A5E7)
    for i in range(n - 1, 0, -1):
        j = mix64((stream + i) & M64) % (i + 1)
        order[i], order[j] = order[j], order[i]
    n_test = int(math.floor(test_fraction * n + 0.5))
    test, train = order[:n_test], order[n_test:]
    xtr, xte = x[train].copy(), x[test].copy()
    mean, sd = xtr.mean(axis=0), xtr.std(axis=0)
    sd[sd == 0] = 1.0
    return (xtr - mean) / sd, labels[train], (xte - mean) / sd, labels[test]


def logreg_optimum(x, labels, lam):
    """SciPy's L-BFGS optimum of 1/n sum softplus(-y (x.w + b)) + lam/2 |w|^2 (y in {-1, +1}), gtol 1e-10."""
    from scipy.optimize import minimize

    y = np.where(labels == 1, 1.0, -1.0)
    n, f = x.shape

    def fun(v):
        w, b = v[:f], v[f]
        t = -y * (x @ w + b)
        loss = np.mean(np.logaddexp(0.0, t)) + 0.5 * lam * (w @ w)
        r = -y / (1.0 + np.exp(-t)) / n  # d softplus(t)/dz = sigmoid(t) * (-y)
        return loss, np.concatenate([x.T @ r + lam * w, [r.sum()]])

    res = minimize(fun, np.zeros(f + 1), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 20000})
    return float(res.fun), res
