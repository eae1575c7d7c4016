"""Time Cliff's δ from ranks (genconcept.cortex.bias) against the reference's O(N²) double loop.

Plain script, not a test: `python benchmarks/bias_speed.py [--quick]`. Prints a table and the speed-up ratios.
Budget (issue): 100,000 × 100,000 comparisons in under 1 s.

Inputs are token counts as in the bias experiment: integers in [0, 50] (many ties). The pure-Python double loop is
slow: it is timed in full up to N = 10,000 (1e8 pairs, ~10 s; `--quick` times it on a 1,000 × 1,000 subsample
instead) and at N = 100,000 on a subsample, extrapolated by (N / n_sub)² (its cost is exactly proportional to the
number of pairs). The vectorised NumPy O(N²) version (broadcast comparisons in row blocks) is timed in full up to
N = 10,000 and extrapolated ×100 to N = 100,000.
"""
import argparse, platform, time
import numpy as np
import torch
from genconcept.cortex.bias import cliffs_delta, half_cliffs_delta

def best_of(f, repeat=3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter(); out = f(); best = min(best, time.perf_counter() - t)
    return best, out

def python_loop(x, y):
    "The reference score, as the reference computes it."
    n, s = len(x) * len(y), 0.0
    for a in x:
        for b in y:
            if a > b: s += 1
            elif a == b: s += 0.5
    return (s - n / 2) / n

def numpy_quadratic(x, y, block=2000):
    "Vectorised O(N²): broadcast comparisons, row blocks to bound memory."
    gt = eq = 0
    for s in range(0, len(x), block):
        xb = x[s:s + block, None]
        gt += int((xb > y[None]).sum()); eq += int((xb == y[None]).sum())
    n = len(x) * len(y)
    return (gt + 0.5 * eq - n / 2) / n

if __name__ == "__main__":
    ap = argparse.ArgumentParser(); ap.add_argument("--quick", action="store_true", help="smaller loop subsample")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}, torch threads {torch.get_num_threads()}")
    rows = []
    for n in (1_000, 10_000, 100_000):
        x, y = rng.integers(0, 51, n), rng.integers(0, 51, n)
        t_rank, d_rank = best_of(lambda: half_cliffs_delta(x, y), 5)
        if n <= 10_000:
            t_np, d_np = best_of(lambda: numpy_quadratic(x, y), 1 if n == 10_000 else 3)
            assert d_np == d_rank, (d_np, d_rank)
        else: t_np = rows[-1][2] * (n / rows[-1][0]) ** 2
        n_sub = min(n, 1_000 if args.quick else 10_000)
        xs, ys = x[:n_sub], y[:n_sub]
        t_sub, d_sub = best_of(lambda: python_loop(xs.tolist(), ys.tolist()), 1)
        assert d_sub == half_cliffs_delta(xs, ys)
        t_loop = t_sub * (n / n_sub) ** 2
        rows.append((n, t_rank, t_np, t_loop, n_sub < n, n > 10_000))
    print(f"\n{'N':>8} {'ranks (s)':>11} {'numpy O(N²) (s)':>16} {'python loop (s)':>16} {'loop/ranks':>11} {'numpy/ranks':>12}")
    for n, tr, tn, tl, ex_loop, ex_np in rows:
        print(f"{n:>8} {tr:>11.5f} {tn:>15.3f}{'*' if ex_np else ' '} {tl:>15.2f}{'*' if ex_loop else ' '} {tl / tr:>11,.0f} {tn / tr:>12,.0f}")
    print("* extrapolated from a smaller measured size by (N / n)²")
    t100 = rows[-1][1]
    print(f"\nbudget: 100,000 x 100,000 comparisons < 1 s -> {t100:.4f} s:", "met" if t100 < 1 else "MISSED")
    r10 = [r for r in rows if r[0] == 10_000][0]
    how = "extrapolated" if r10[4] else "measured"
    print(f"speed-up at N = 10,000: {r10[3] / r10[1]:,.0f}x vs the python loop ({how}), {r10[2] / r10[1]:,.0f}x vs numpy O(N²)")
    xf, yf = rng.normal(size=100_000), rng.normal(0.1, size=100_000)
    tf, _ = best_of(lambda: cliffs_delta(xf, yf), 3)
    print(f"continuous data (no ties), 100,000 x 100,000: {tf:.4f} s")
