"""CB-AE time to target steerability: genconcept's default recipe vs the reference recipe, both under `train_cbae`.

Steps per second are compared in `cbae_train_speed.py` (the two loops are equally fast). What differs in practice is
how long a run needs before interventions *work*. This script trains two CB-AEs on the shipped world GAN with the
shipped pseudo-labeler, from the same seed, and every `--eval-every` steps measures the judge's average swap
steerability (spec formula, `genconcept.cbae.model.steerability`, `--n` samples per concept and value, same samples
every time). Only training time counts towards "time to target"; the evaluations are excluded.

- reference recipe: Adam lr 2e-4, betas (0.5, 0.99), one swapped (concept, value) per batch (the reference trainer);
- genconcept default: Adam lr 1e-3, betas (0.5, 0.99), one swapped (concept, value) per sample (`train_world_cbae`).

    python benchmarks/cbae_time_to_target.py [--target 0.5] [--minutes 10] [--eval-every 100] [--n 200] [--threads 1]
"""
from __future__ import annotations
import argparse, sys, tempfile, time
import torch

RECIPES = {"reference (lr 2e-4, swap per batch)": dict(lr=2e-4, swap_per="batch"),
           "genconcept (lr 1e-3, swap per sample)": dict(lr=1e-3, swap_per="sample")}


def run_recipe(name, kw, gan, M, J, args, dev):
    from genconcept.world import WORLD_CONCEPTS
    from genconcept.cbae.model import CBAE, steerability
    from genconcept.cbae.train import train_cbae
    torch.manual_seed(args.seed)
    cbae = CBAE(latent_shape=gan.latent_shape, concepts=WORLD_CONCEPTS, n_unknown=40, width=512)
    curve, train_s, steps, reached = [], 0.0, 0, None
    with tempfile.TemporaryDirectory() as ck:
        while train_s < 60 * args.minutes:
            steps += args.eval_every
            t = time.perf_counter()
            train_cbae(cbae, gan, M, steps=steps, batch_size=32, eval_every=None, seed=args.seed, checkpoint_dir=ck,
                       checkpoint_every=args.eval_every, progress=False, device=dev, **kw)
            train_s += time.perf_counter() - t
            s = steerability(cbae, gan, J, n=args.n, seed=10_000).attrs["steerability"]
            cbae.train()
            curve.append((steps, train_s, s))
            print(f"  {name}: step {steps:5d}  train {train_s:6.1f} s  steerability {s:.3f}", flush=True)
            if reached is None and s >= args.target:
                reached = (steps, train_s)
                if not args.full: break
    return curve, reached


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=0.5, help="average steerability to reach")
    ap.add_argument("--minutes", type=float, default=10, help="training-time budget per recipe")
    ap.add_argument("--eval-every", type=int, default=100, help="training steps between steerability checks")
    ap.add_argument("--n", type=int, default=200, help="samples per (concept, value) in each check")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--full", action="store_true", help="keep training after the target is reached (whole curve)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from genconcept.core import get_device
    from genconcept.generators.latent import load_world_gan
    from genconcept.concepts.labelers import load_pseudo_labeler, load_judge
    dev = get_device()
    gan, M, J = load_world_gan(device=dev), load_pseudo_labeler(device=dev), load_judge(device=dev)
    print(f"device={dev} threads={args.threads} target={args.target} budget={args.minutes} min/recipe "
          f"checks every {args.eval_every} steps on n={args.n} per (concept, value)")
    res = {}
    for name, kw in RECIPES.items(): res[name] = run_recipe(name, kw, gan, M, J, args, dev)
    levels = sorted({round(x, 2) for x in (0.1, 0.2, 0.3, 0.4, args.target)})
    def first(curve, lv): return next(((st, t) for st, t, s in curve if s >= lv), None)
    print("\n| recipe | " + " | ".join(f"time to {lv:.2f} (s)" for lv in levels) + " | best steerability (step) |")
    print("|---|" + "---:|" * len(levels) + "---:|")
    for name, (curve, _) in res.items():
        best = max(curve, key=lambda r: r[2])
        cells = [f"{r[1]:.0f} ({r[0]} steps)" if (r := first(curve, lv)) else f"> {curve[-1][1]:.0f}" for lv in levels]
        print(f"| {name} | " + " | ".join(cells) + f" | {best[2]:.3f} ({best[0]}) |")
    (ref_c, ref_r), (our_c, our_r) = res.values()
    for lv in levels:
        a, b = first(ref_c, lv), first(our_c, lv)
        if a and b: print(f"time to {lv:.2f}: reference / genconcept = {a[1] / b[1]:.1f}x")
        elif b: print(f"time to {lv:.2f}: reference / genconcept > {ref_c[-1][1] / b[1]:.1f}x (the reference did not reach it in its budget)")
        else: print(f"time to {lv:.2f}: genconcept's recipe did not reach it in its budget")

if __name__ == "__main__":
    sys.exit(main())
