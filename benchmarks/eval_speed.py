"""Steering-evaluation speed: `genconcept.evaluate.evaluate_steering` over 8 concepts × 2 values × N samples on the GAN.

Budget (spec of `evaluate`): 8 × 2 × 500 on the GAN in under 1 minute on the 2-core development CPU.

What is timed, per method, is the whole evaluation: draw N latents, render and judge the reference images, run the
method's edit for all 16 (concept, value) targets as one long batch (chunks of `--batch` latents), render and judge
every intervened image (calls + features in one judge pass), and the Fréchet distances of generated, reference and
intervened images to N real renders. The optimisation methods' own cost (50 predictor forward/backward passes per
latent) is included in their rows, so those rows time the intervention, not just the evaluation.

Generator: the shipped world GAN when registered, else a randomly initialised `WorldGAN` of the shipped recipe's size
(speed does not depend on the weights). Judge: the shipped judge. CB-AE / CC / linear directions: untrained, of the
reference sizes (speed does not depend on the weights either).
Both wall time and process CPU time are printed: on a shared machine the wall time depends on the other jobs.

    python benchmarks/eval_speed.py [--n 500] [--threads 2] [--methods swap,linear,cc-projected,cc-sign] [--device cuda]
"""
from __future__ import annotations
import argparse, time
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--methods", default="swap,linear,cc-projected,cc-sign")
    ap.add_argument("--device", default="cpu", help="cpu or cuda: where the generator, judge and methods run")
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from genconcept.generators.latent import load_world_gan, WorldGAN, GAN_RECIPE, real_world_images
    from genconcept.concepts.labelers import load_judge
    from genconcept.world import WORLD_CONCEPTS
    from genconcept.cbae.model import CBAE
    from genconcept.cbae.control import ConceptController, OptimSteering, latent_scale
    from genconcept.evaluate import evaluate_steering, SwapSteering, LinearSteering, LinearDirections
    dev = torch.device(a.device)
    try: gen, src = load_world_gan(device=dev), "shipped world GAN"
    except Exception:
        torch.manual_seed(0); gen = WorldGAN(**GAN_RECIPE["g_config"]).eval().requires_grad_(False).to(dev)
        src = f"WorldGAN{GAN_RECIPE['g_config']} (random init, the shipped recipe's size)"
    judge = load_judge(device=dev)
    d = gen.latent_shape[0]
    torch.manual_seed(0)
    cbae, cc = CBAE(gen.latent_shape, WORLD_CONCEPTS).eval().to(dev), ConceptController(gen.latent_shape, WORLD_CONCEPTS).eval().to(dev)
    dirs = LinearDirections(torch.randn(8, d), torch.zeros(8), torch.ones(8), torch.zeros(d), torch.ones(d), gen.latent_shape, WORLD_CONCEPTS)
    sc = latent_scale(gen)
    methods = {"swap": ("CB-AE swap", lambda: SwapSteering(cbae)), "linear": ("linear direction", lambda: LinearSteering(dirs)),
               "cc-projected": ("CC + projected (50 steps)", lambda: OptimSteering(cc, "projected", scale=sc)),
               "cc-sign": ("CC + sign, reference (50 steps)", lambda: OptimSteering(cc, "sign", eps=0.1))}
    real = real_world_images(a.n).to(dev)  # rendering the real set is the world's cost, not the evaluation's: done once up front
    print(f"device: {dev}; generator: {src}; judge: shipped ({type(judge).__name__}); threads: {torch.get_num_threads()}; "
          f"8 concepts × 2 values × {a.n} samples = {16 * a.n} intervened images per method")
    print(f"{'method':34s} {'wall (s)':>9s} {'CPU (s)':>8s} {'images/s':>9s}  budget 60 s wall")
    for key in a.methods.split(","):
        name, make = methods[key]
        if dev.type == "cuda": torch.cuda.synchronize()
        t, c = time.perf_counter(), time.process_time()
        df = evaluate_steering(make(), gen, judge, n=a.n, batch_size=a.batch, real=real)
        if dev.type == "cuda": torch.cuda.synchronize()
        dt, dc = time.perf_counter() - t, time.process_time() - c
        print(f"{name:34s} {dt:9.1f} {dc:8.1f} {16 * a.n / dt:9.0f}  {'met' if dt < 60 else 'MISSED'}", flush=True)
    print("CPU = process CPU time summed over threads: on a machine shared with other jobs, wall ≈ CPU / (cores this process got).")


if __name__ == "__main__":
    main()
