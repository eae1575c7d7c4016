"""Time genconcept's vectorised Token Importance Scores against the reference CORTEX loop.

Plain script, not a test: `python benchmarks/tis_speed.py [--reference-preset] [--threads 1] [--device cuda]`.

Three ways to compute SmoothGrad TIS for one batch (B = 25 samples, N = 20 noise draws, σ = 0.2·range):

- reference: a faithful re-implementation of the reference loop — for each draw, for each sample, a
  `torch.autograd.grad` of that sample's target logit w.r.t. the *whole* noisy batch with `create_graph=True`,
  accumulated in float64 (N·B backward passes of the whole batch);
- ours: `genconcept.cortex.tis.token_importance` (one backward of Σ_i f_{y_i} per draw, draws stacked into the batch
  up to `max_batch` = 128 rows);
- bare: 20 forward+backward passes over the batch w.r.t. the input, nothing else — the physical limit.

Prints a table, the speed-up over the reference (target ≥ 10×), the ratio to the bare limit (target ≤ 1.5×), and
the max |difference| between reference and ours at noise_level = 0 (same gradients, so it should be ~1e-7).
The paper-size preset (16×16 grid, D = 256, VGG with 512-wide convs) is timed only with `--reference-preset`. On a
CPU the reference loop alone would take about an hour, so there it runs 2 draws instead of 20, without a warm-up, and
extrapolates linearly (every method's cost is exactly proportional to the number of draws). On CUDA all 20 draws are
timed, each method after a warm-up call: a cold first call includes cuDNN's kernel selection for the new shapes,
which, multiplied by 10, made ours look 3.5x slower than the bare loop in a first GPU run.
"""
import argparse, platform, time
import torch
from genconcept.cortex.iem import make_iem, SyntheticTokenTask
from genconcept.cortex.tis import token_importance

def reference_tis(model, x, target, n_samples=20, noise_level=0.2, reduce="max"):
    "The reference algorithm, step by step (global torch RNG, torch.normal, create_graph=True, float64 sum)."
    model.eval()
    stdev = noise_level * (torch.max(x) - torch.min(x))
    total = torch.zeros_like(x, dtype=torch.float64)
    for _ in range(n_samples):
        noisy = (x + torch.normal(mean=0, std=float(stdev), size=x.shape, device=x.device)).detach()
        noisy.requires_grad = True
        outputs = model(noisy)
        grads = []
        for i, index in enumerate(target):
            grad_output = torch.zeros_like(outputs); grad_output[i, index] = 1.0
            g = torch.autograd.grad(outputs=outputs, inputs=noisy, grad_outputs=grad_output, create_graph=True)[0]
            grads.append(g[i].unsqueeze(0))
        total += torch.cat(grads, 0)
    g = (total / n_samples).detach()
    return (g.max(1).values if reduce == "max" else g.mean(1)).float()

def bare(model, x, target, n_samples=20, noise_level=0.2):
    "N plain forward+backward passes over the batch: the least any SmoothGrad can cost."
    model.eval(); stdev = noise_level * (x.max() - x.min()); acc = torch.zeros_like(x)
    for _ in range(n_samples):
        xr = (x + torch.randn_like(x) * stdev).requires_grad_(True)
        g, = torch.autograd.grad(model(xr).gather(1, target[:, None]).sum(), xr)
        acc += g
    return acc

def _sync(): torch.cuda.synchronize() if torch.cuda.is_available() else None

def best_of(f, repeat):
    best = float("inf")
    f() if repeat > 1 else None; _sync()  # a warm-up where there are repeats (CUDA kernels, allocator)
    for _ in range(repeat):
        t = time.perf_counter(); f(); _sync(); best = min(best, time.perf_counter() - t)
    return best

def run(name, model, x, y, n, repeat_fast=3, repeat_ref=1, scale=1.0):
    t_ours = best_of(lambda: token_importance(model, x, y, n_samples=n), repeat_fast) * scale
    t_bare = best_of(lambda: bare(model, x, y, n_samples=n), repeat_fast) * scale
    t_ref = best_of(lambda: reference_tis(model, x, y, n_samples=n), repeat_ref) * scale
    ref0 = reference_tis(model, x, y, n_samples=1, noise_level=0.0)
    ours0 = token_importance(model, x, y, n_samples=1, noise_level=0.0)
    diff = (ref0 - ours0).abs().max().item()
    return dict(model=name, reference_s=t_ref, ours_s=t_ours, bare_s=t_bare, speedup=t_ref / t_ours, vs_bare=t_ours / t_bare, max_abs_diff=diff)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-preset", action="store_true", help="also time the paper-size VGG (16x16x256), 2 draws, extrapolated to 20")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the dev machine is shared)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (all three methods run there)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads); torch.manual_seed(0)
    dev = torch.device(args.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.machine()
    print(f"torch {torch.__version__}, {name}, {args.threads} thread(s); B = 25, N = 20, noise 0.2·range (batch), reduce max")
    task = SyntheticTokenTask(n=25, dim=32, grid=(8, 8), seed=0)
    x = torch.stack([task[i]["embedding"] for i in range(25)]).to(dev); y = task.labels.clone().to(dev)
    rows = []
    for fam in ("vgg", "seresnet", "vit"):
        m = make_iem(fam, in_channels=32, n_classes=4, grid=(8, 8), preset="tiny").eval().to(dev)
        rows.append(run(f"{fam} tiny 8x8x32", m, x, y, 20))
    if args.reference_preset:
        m = make_iem("vgg", in_channels=256, n_classes=1000, grid=(16, 16), preset="reference").eval().to(dev)
        xr = torch.randn(25, 256, 16, 16, device=dev); yr = torch.randint(1000, (25,), device=dev)
        if dev.type == "cuda":  # fast enough to time all 20 draws, each method after a warm-up (cuDNN picks its kernels on the first call)
            rows.append(run("vgg reference 16x16x256", m, xr, yr, 20, repeat_fast=3, repeat_ref=2))
        else:  # on a CPU the reference loop alone would take about an hour: 2 draws, no warm-up, times 10
            rows.append(run("vgg reference 16x16x256 (2 draws x10)", m, xr, yr, 2, repeat_fast=1, scale=10.0))
    else:
        print("(paper-size preset skipped: pass --reference-preset to time it with 2 draws, extrapolated)")
    hdr = f"| {'model':38s} | reference (s) | ours (s) | bare limit (s) | speed-up | ours / bare | max abs diff (noise 0) |"
    print(hdr); print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")
    for r in rows:
        print(f"| {r['model']:38s} | {r['reference_s']:13.3f} | {r['ours_s']:8.3f} | {r['bare_s']:14.3f} | {r['speedup']:7.1f}x | {r['vs_bare']:10.2f}x | {r['max_abs_diff']:22.2e} |")
    ok_speed = all(r["speedup"] >= 10 for r in rows); ok_bare = all(r["vs_bare"] <= 1.5 for r in rows)
    print(f"speed-up >= 10x: {'met' if ok_speed else 'MISSED'}; ours <= 1.5x bare: {'met' if ok_bare else 'MISSED'}")

if __name__ == "__main__":
    main()
