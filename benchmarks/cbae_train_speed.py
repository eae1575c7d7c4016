"""CB-AE training speed: `genconcept.cbae.train.train_cbae` vs a plain loop that follows the reference.

Both run the same work per step on the same sizes (latent 128, batch 32, 8 concepts, 40 unknown dims, width 512):
fresh latents from the GAN, step A (latent MSE + image MSE + thresholded pseudo-label CE) with one Adam, step B
(swap one concept, cycle CE + pseudo-labeler CE through the frozen GAN and labeler) with a second Adam.

Generator: the shipped world GAN when `genconcept/weights/gan` is registered, else a randomly initialised
`WorldGAN` (same architecture, 32×32), else a DCGAN-sized stand-in. Pseudo-labeler: the shipped one, else a random
`ResNetConceptClassifier`, else a small CNN. Speed does not depend on the weights' values.

    python benchmarks/cbae_train_speed.py [--steps 60] [--threads 1]
"""
from __future__ import annotations
import argparse, time, sys
import torch
from torch import nn
import torch.nn.functional as F


def load_parts(device):
    gen = lab = None; src = {}
    try:
        from genconcept.generators.latent import load_world_gan, WorldGAN
        try: gen, src["gen"] = load_world_gan(device=device), "shipped world GAN"
        except Exception:
            try: from genconcept.generators.latent import GAN_RECIPE; cfg = dict(GAN_RECIPE.get("g_config", {}))
            except Exception: cfg = {}
            gen, src["gen"] = WorldGAN(**cfg).to(device).eval().requires_grad_(False), f"WorldGAN{cfg or ''} (random init, the shipped recipe's size)"
    except Exception: pass
    try:
        from genconcept.concepts.labelers import load_pseudo_labeler, ResNetConceptClassifier
        try: lab, src["lab"] = load_pseudo_labeler(device=device), "shipped pseudo-labeler"
        except Exception: lab, src["lab"] = ResNetConceptClassifier().to(device).eval().requires_grad_(False), "ResNetConceptClassifier (random init)"
    except Exception: pass
    if gen is None: gen, src["gen"] = _StandInGAN().to(device).eval().requires_grad_(False), "DCGAN-sized stand-in"
    if lab is None: lab, src["lab"] = _StandInLabeler().to(device).eval().requires_grad_(False), "small CNN stand-in"
    return gen, lab, src


class _StandInGAN(nn.Module):
    "z (128) -> mapping MLP -> h (128) -> 4x4x256 -> 3 upsampling conv stages -> 32x32 RGB in [0, 1]."
    latent_shape = (128,)
    def __init__(self):
        super().__init__()
        self.mapping = nn.Sequential(*[m for _ in range(4) for m in (nn.Linear(128, 128), nn.LeakyReLU(0.2))])
        self.fc = nn.Linear(128, 256 * 16)
        ch = [256, 128, 64, 32]
        self.ups = nn.Sequential(*[m for a, b in zip(ch[:-1], ch[1:]) for m in (nn.Upsample(scale_factor=2), nn.Conv2d(a, b, 3, padding=1), nn.LeakyReLU(0.2))])
        self.out = nn.Conv2d(32, 3, 3, padding=1)
    def sample_latent(self, n, generator=None):
        return self.mapping(torch.randn(n, 128, generator=generator, device=generator.device if generator is not None else "cpu").to(self.fc.weight.device))
    def decode(self, h): return torch.sigmoid(self.out(self.ups(self.fc(h).view(-1, 256, 4, 4))))


class _StandInLabeler(nn.Module):
    def __init__(self, n=8):
        super().__init__(); self.n = n
        self.net = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(), nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 2 * n))
    def forward(self, x): return self.net(x).view(len(x), self.n, 2)


def reference_loop(gen, lab, steps, device, n_concepts=8, n_unknown=40, batch=32, seed=0):
    "A plain loop written the way the reference trainer is: per-concept CE with ignore_index, two Adams, fresh z."
    torch.manual_seed(seed)
    d = gen.latent_shape[0]; K = 2 * n_concepts + n_unknown
    def mlp(i, o, n):
        layers, w = [], i
        for _ in range(n): layers += [nn.Linear(w, 512), nn.LeakyReLU(0.1), nn.BatchNorm1d(512)]; w = 512
        return nn.Sequential(*layers, nn.Linear(w, o))
    E, D = mlp(d, K, 3).to(device), mlp(K, d, 3).to(device)
    params = list(E.parameters()) + list(D.parameters())
    opt_a, opt_b = torch.optim.Adam(params, 2e-4, betas=(0.5, 0.99)), torch.optim.Adam(params, 2e-4, betas=(0.5, 0.99))
    g = torch.Generator(device).manual_seed(seed)
    def ce(logits, y):
        loss = 0
        for k in range(n_concepts):
            loss = loss + F.cross_entropy(logits[:, 2 * k:2 * k + 2], y[:, k], ignore_index=-100)
        return loss
    for it in range(steps):
        with torch.no_grad():
            h = gen.sample_latent(batch, generator=g); x = gen.decode(h)
            p = lab(x).softmax(-1); conf, y = p.max(-1); y[conf < 0.9] = -100  # in place, as the reference
        c = E(h); hh = D(c); xh = gen.decode(hh)
        loss_a = F.mse_loss(hh, h) + F.mse_loss(xh, x) + ce(c, y)
        opt_a.zero_grad(); loss_a.backward(); opt_a.step()
        k, v = torch.randint(n_concepts, (1,)).item(), torch.randint(2, (1,)).item()
        with torch.no_grad():
            c2 = E(h).clone(); pair = c2[:, 2 * k:2 * k + 2]
            flip = pair.argmax(1) != v
            c2[flip, 2 * k:2 * k + 2] = pair[flip].flip(1)
        y2 = y.clone(); y2[:, k] = v
        h2 = D(c2); x2 = gen.decode(h2)
        loss_b = ce(E(h2), y2) + ce(lab(x2).flatten(1), y2)
        opt_b.zero_grad(); loss_b.backward(); opt_b.step()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60); ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from genconcept.core import get_device
    from genconcept.world import WORLD_CONCEPTS
    from genconcept.cbae.model import CBAE
    from genconcept.cbae.train import train_cbae
    dev = get_device()
    gen, lab, src = load_parts(dev)
    print(f"device={dev} threads={a.threads} generator: {src['gen']}; labeler: {src['lab']}")
    def ours(steps):
        cb = CBAE(latent_shape=tuple(gen.latent_shape), concepts=WORLD_CONCEPTS, n_unknown=40, width=512)
        train_cbae(cb, gen, lab, steps=steps, batch_size=32, eval_every=None, progress=False, device=dev)
    def ref(steps): reference_loop(gen, lab, steps, dev)
    runs = {"reference loop": ref, "train_cbae": ours}
    for fn in runs.values(): fn(3)  # warm-up
    times = {k: [] for k in runs}
    for _ in range(a.repeats):  # interleaved, so a change in the machine's load hits both alike
        for name, fn in runs.items():
            if dev.type == "cuda": torch.cuda.synchronize()
            t = time.perf_counter(); fn(a.steps)
            if dev.type == "cuda": torch.cuda.synchronize()
            times[name].append(time.perf_counter() - t)
    res = {}
    for name, ts in times.items():
        res[name] = a.steps / min(ts)
        print(f"{name:15s} {res[name]:7.2f} steps/s  (best of {a.repeats} x {a.steps} steps; all: {', '.join(f'{a.steps / t:.2f}' for t in ts)})")
    print(f"ratio train_cbae / reference = {res['train_cbae'] / res['reference loop']:.2f}")
    print(f"50k reference steps would take {50_000 / res['train_cbae'] / 60:.0f} min with train_cbae here")


if __name__ == "__main__":
    sys.exit(main())
