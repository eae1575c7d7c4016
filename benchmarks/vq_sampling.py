"""Time sampling from the shipped world token prior with and without the key-value cache.

Plain script, not a test: `python benchmarks/vq_sampling.py [--n 2000] [--n-uncached N] [--threads T] [--batch 1000] [--device cuda]`.
Target: 2,000 samples (8x8 tokens, neutral prompt) in under 60 s with the cache on a 2-core CPU; also timed:
class-conditional samples with the shipped default guidance (twice the work per step).
Without the cache every step re-runs the whole prefix, so the cost grows with the square of the sequence length;
`--n-uncached` times fewer samples there and scales the time linearly to `--n` (sampling is batched, so the
per-sample cost is constant once batches are large) when the full run would take too long.
"""
import argparse, platform, time
import torch
from genconcept.core import make_generator
from genconcept.world import UNSPECIFIED
from genconcept.generators.vq import load_world_vq

def timed(f, device="cpu"):
    "Seconds `f()` takes (device work included: CUDA is synchronised around it) and its result."
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    sync(); t = time.perf_counter(); out = f(); sync(); return time.perf_counter() - t, out

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--n-uncached", type=int, default=None, help="samples timed without the cache (default: --n)")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    gen = load_world_vq(device=a.device)
    print(f"device: {a.device}; machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; {gen}")
    n_u = a.n_uncached or a.n
    cond = lambda n: torch.full((n, 8), UNSPECIFIED, device=a.device)
    t_c, ids_c = timed(lambda: gen.sample_ids(cond(a.n), generator=make_generator(0, a.device), batch_size=a.batch, use_cache=True), a.device)
    t_u, ids_u = timed(lambda: gen.sample_ids(cond(n_u), generator=make_generator(0, a.device), batch_size=a.batch, use_cache=False), a.device)
    t_u_full = t_u * a.n / n_u
    same = torch.equal(ids_c, ids_u) if n_u == a.n else "n/a (different batches draw different random numbers; the notebook checks equality)"
    print(f"{'mode':>10} {'samples':>8} {'seconds':>9} {'s per 2000':>11}")
    print(f"{'kv-cache':>10} {a.n:>8} {t_c:>9.2f} {t_c * 2000 / a.n:>11.2f}")
    print(f"{'no cache':>10} {n_u:>8} {t_u:>9.2f} {t_u * 2000 / n_u:>11.2f}" + ("" if n_u == a.n else "  (scaled)"))
    print(f"speed-up of the cache: {t_u_full / t_c:.1f}x; same ids with and without cache: {same}")
    print(f"target: {a.n} samples with cache < 60 s ->", "met" if t_c * 2000 / a.n < 60 else "MISSED")
    # class-conditional samples (shape x colour, 4 classes) with the prior's default sampling (classifier-free guidance:
    # two passes per step), as the CORTEX token datasets are drawn
    from genconcept.world import ClassView
    view = ClassView(("shape", "colour"))
    t_g, _ = timed(lambda: gen.sample_ids(view.conditions(torch.arange(a.n) % 4).to(a.device), generator=make_generator(0, a.device), batch_size=a.batch), a.device)
    print(f"class-conditional with {gen.sampling or 'no guidance'}: {a.n} samples in {t_g:.2f} s ({t_g * 2000 / a.n:.2f} s per 2000) ->",
          "met" if t_g * 2000 / a.n < 60 else "MISSED")
