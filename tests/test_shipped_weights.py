"""The shipped world models, re-measured with fresh seeds at the figures and bars genconcept/weights/manifest.json claims.

`genconcept train-world` records, per shipped model, the figures measured when it was shipped (sampling seed 0;
fixed evaluation renders). These tests measure the same figures again with the library's own loaders and metric
functions (`concept_accuracy`, `evaluate_world_vq`, `generator_quality`) on fresh renders and fresh sampling seeds,
and hold each to the manifest:

- judge, pseudo-labeler: per-concept accuracy on 5,000 fresh renders (as many as the manifest's test set); mean and
  worst concept at the manifest's figure minus 2 standard errors of the difference of two proportions (pooled).
- VQ tokenizer: judge calls kept after encode -> decode on 1,000 fresh renders (as the manifest), mean and worst
  concept, with the same 2-SE tolerance.
- token prior: shape x colour class match with the recorded default guidance on 1,000 samples (250 per class, as
  the manifest) at the prior's documented 0.90 bar (the manifest records 0.933), no tolerance.
- GAN: 4 draws of 1,000 samples vs 1,000 fresh real renders (the manifest: one draw, seed 0, vs the fixed evaluation
  renders): judge confidence and value shares pooled over 4,000 samples at `generator_quality`'s bars (0.95, 0.20;
  the worst concept, shape, sits close to its bar: 0.9546 on 10,000 fresh samples, SE 0.0016 at 4,000);
  the judge-space Fréchet distance, averaged over the draws, at the manifest's figure + 2 sigma of the difference
  (one 1,000-vs-1,000 FD of this GAN spreads with sigma 0.27 over independent draws).
- DDPM: 50 DDIM steps per image are slow on a CPU, so 100 samples (about a minute on 2 cores) vs 1,000 fresh real
  renders, where the manifest used 1,000 vs 1,000 on a GPU. The FD at 100 samples is biased upward: the bar is the
  manifest's FD + that bias (2.79, real-vs-real) + 2 sigma of the difference (see DDPM_FD_* below). Confidence and
  the rarest value share at `generator_quality`'s bars (0.95, 0.20); the share misses its bar (xfail, see its reason).

A figure that a fresh measurement does not meet stays at the claimed bar and is marked xfail(strict=True) with the
measured value in its reason. The constants of the FD tolerances were measured with `python tests/test_shipped_weights.py`
(see `calibrate` at the end); rerun it when a shipped generator or the judge changes.
"""
import math

import pytest
import torch

from genconcept.core import load_manifest, make_generator

MAN = load_manifest()
SEED = 24_005_000  # fresh seeds (issue #24 item 5); the manifest's were 0, 1, 10_000 and 2_000_003

@pytest.fixture(autouse=True, scope="module")
def _two_threads():
    n = torch.get_num_threads(); torch.set_num_threads(2)
    yield
    torch.set_num_threads(n)

@pytest.fixture(scope="module")
def judge():
    from genconcept.concepts.labelers import load_judge
    return load_judge(device="cpu").eval()

def claimed(model: str, figure: str) -> float: return float(MAN[model]["metrics"][figure])

def below_by_2se(p_claimed: float, n_claimed: int, p: float, n: int) -> tuple[float, float]:
    "Bar for a fresh proportion `p` (n) against a claimed one (n_claimed): claimed − 2 SE of the difference (pooled); (bar, SE)."
    pool = (p_claimed * n_claimed + p * n) / (n_claimed + n)
    se = math.sqrt(pool * (1 - pool) * (1 / n_claimed + 1 / n))
    return p_claimed - 2 * se, se

def check_at_least(model, figure, value, bar, how):
    print(f"{model}: {figure} = {value:.4f} >= bar {bar:.4f}? ({how})")  # shown by pytest -rA
    assert value >= bar, f"{model}: {figure} = {value:.4f}, below the bar {bar:.4f} ({how})"

def check_at_most(model, figure, value, bar, how):
    print(f"{model}: {figure} = {value:.3f} <= bar {bar:.3f}? ({how})")
    assert value <= bar, f"{model}: {figure} = {value:.3f}, above the bar {bar:.3f} ({how})"

# ---------------------------------------------------------------- judge and pseudo-labeler
N_LABELER = 5_000

@pytest.mark.parametrize("model", ["judge", "pseudo_labeler"])
def test_labeler_accuracy(model):
    from genconcept.concepts.labelers import concept_accuracy, load_world_labeler
    from genconcept.world import ConceptShapes
    n_claimed = MAN[model]["config"]["n_test"]
    acc = concept_accuracy(load_world_labeler(model, device="cpu"), ConceptShapes(N_LABELER, seed=SEED + 1, classes=None)).accuracy
    for figure, value in (("mean_acc", float(acc.mean())), ("min_acc", float(acc.min()))):
        c = claimed(model, figure); bar, se = below_by_2se(c, n_claimed, value, N_LABELER)
        check_at_least(model, f"{figure} on {N_LABELER} fresh renders (seed {SEED + 1})", value, bar,
                       f"manifest's {c:.4f} on {n_claimed} − 2 SE {se:.4f}; weakest concept now: {acc.idxmin()}")

# ---------------------------------------------------------------- VQ tokenizer and token prior
@pytest.fixture(scope="module")
def world_vq():
    from genconcept.generators.vq import load_world_vq
    return load_world_vq(device="cpu")

N_RECON = 1_000

def test_vq_tokenizer_reconstruction(world_vq, judge):
    from genconcept.generators.vq import evaluate_world_vq
    m = evaluate_world_vq(world_vq, judge, n_recon=N_RECON, n_per_class=1, n_full=1, n_neutral=1, seed=SEED + 2)
    for figure in ("recon_agreement_mean", "recon_agreement_min"):
        c = claimed("vq_tokenizer", figure); bar, se = below_by_2se(c, 1_000, m[figure], N_RECON)  # the manifest: 1,000 renders
        check_at_least("vq_tokenizer", f"{figure} (judge calls kept after encode -> decode, {N_RECON} fresh renders, seed {SEED + 2})",
                       m[figure], bar, f"manifest's {c:.4f} on 1000 − 2 SE {se:.4f}")

PRIOR_BAR, PER_CLASS = 0.90, 250

def test_token_prior_class_match(world_vq, judge):
    from genconcept.generators.vq import evaluate_world_vq
    assert world_vq.sampling == MAN["token_prior"]["config"]["sampling"]  # measured with the recorded default guidance
    m = evaluate_world_vq(world_vq, judge, n_recon=8, n_per_class=PER_CLASS, n_full=1, n_neutral=1, seed=SEED + 3)
    worst = min((k for k in m if k.startswith("class_cond_match_")), key=m.get)
    check_at_least("token_prior", f"class_cond_match (judge sees the conditioned shape and colour, {4 * PER_CLASS} samples, seed {SEED + 3})",
                   m["class_cond_match"], PRIOR_BAR, f"the prior's bar; manifest records {claimed('token_prior', 'class_cond_match'):.3f} "
                   f"on 1000; weakest class now: {worst[17:]} {m[worst]:.3f}")

# ---------------------------------------------------------------- GAN and DDPM
CONF_BAR, SHARE_BAR = 0.95, 0.20  # generator_quality's bars: the manifest's `passes`
GAN_DRAWS, GAN_N = 4, 1_000
GAN_FD_SIGMA = 0.27  # sd of one 1,000-vs-1,000 judge-space FD of the shipped GAN over independent draws (0.22 over 12, 0.35 over 6 others: pooled)

def pooled(qs: list[dict]) -> dict:
    "Confidence, value shares and FD of equal-size draws of `generator_quality`, pooled: per-concept means, then the worst concept."
    names = [k[5:] for k in qs[0] if k.startswith("conf_")]
    conf = {n: sum(q[f"conf_{n}"] for q in qs) / len(qs) for n in names}
    s1 = {n: sum(q[f"share1_{n}"] for q in qs) / len(qs) for n in names}
    share = {n: min(v, 1 - v) for n, v in s1.items()}
    return dict(min_conf=min(conf.values()), min_conf_concept=min(conf, key=conf.get), min_share=min(share.values()),
                min_share_concept=min(share, key=share.get), fd=sum(q["fd"] for q in qs) / len(qs), n=sum(q["n"] for q in qs))

def test_gan_quality(judge):
    from genconcept.generators.latent import load_world_gan, generator_quality, real_world_images
    man = MAN["gan"]["metrics"]; assert man["n"] == GAN_N  # GAN_FD_SIGMA is for 1,000 vs 1,000
    G = load_world_gan(device="cpu")
    qs = [generator_quality(G.sample(GAN_N, make_generator(SEED + 100 + k)), judge, real_world_images(GAN_N, seed=SEED + 200 + k))
          for k in range(GAN_DRAWS)]
    q = pooled(qs); draws = f"{GAN_DRAWS} draws of {GAN_N} samples (seeds {SEED + 100}+k) vs {GAN_N} real renders (seeds {SEED + 200}+k)"
    check_at_least("gan", f"min_conf (worst concept: {q['min_conf_concept']}), {q['n']} samples", q["min_conf"], CONF_BAR,
                   f"generator_quality's bar; manifest {man['min_conf']:.4f}")
    check_at_least("gan", f"min_share (rarest value share, {q['min_share_concept']}), {q['n']} samples", q["min_share"], SHARE_BAR,
                   f"generator_quality's bar; manifest {man['min_share']:.4f}")
    tol = 2 * GAN_FD_SIGMA * math.sqrt(1 + 1 / GAN_DRAWS)
    check_at_most("gan", f"judge-space FD to real renders, mean of {draws} = {[round(x['fd'], 3) for x in qs]}", q["fd"], man["fd"] + tol,
                  f"manifest's {man['fd']:.3f} (1000 vs 1000) + 2 sigma of the difference {tol:.3f}")

DDPM_N = 100  # DDPM samples: 50 DDIM steps each, about a minute for 100 on 2 idle cores
DDPM_FD_BIAS = 2.79  # FD(100 vs 1000) − FD(1000 vs 1000) between real renders (means of 40 draws: 3.42 − 0.63)
DDPM_FD_SIGMA = (2.2, 0.7)  # sd of the DDPM's FD at 100 vs 1000 (400 fresh samples, subsets) and at 1000 vs 1000 (scaled by 1/sqrt(n))

@pytest.fixture(scope="module")
def ddpm_quality(judge):
    "`generator_quality` of DDPM_N fresh DDPM samples against 1,000 fresh real renders (shared by the two DDPM tests)."
    from genconcept.generators.latent import load_world_ddpm, generator_quality, real_world_images
    x = load_world_ddpm(device="cpu").sample(DDPM_N, make_generator(SEED + 300))
    q = generator_quality(x, judge, real_world_images(1_000, seed=SEED + 400))
    return q, pooled([q]), f"{DDPM_N} samples (seed {SEED + 300}) vs 1000 real renders (seed {SEED + 400})"

def test_ddpm_quality(ddpm_quality):
    q, p, what = ddpm_quality
    man = MAN["ddpm"]["metrics"]; assert man["n"] == 1_000  # the FD tolerance is for the manifest's 1,000 vs 1,000
    check_at_least("ddpm", f"min_conf (worst concept: {p['min_conf_concept']}), {what}", q["min_conf"], CONF_BAR,
                   f"generator_quality's bar; manifest {man['min_conf']:.4f} on 1000")
    tol = DDPM_FD_BIAS + 2 * math.hypot(*DDPM_FD_SIGMA)
    check_at_most("ddpm", f"judge-space FD to real renders, {what}", q["fd"], man["fd"] + tol,
                  f"manifest's {man['fd']:.3f} (1000 vs 1000, GPU) + small-n bias {DDPM_FD_BIAS} + 2 sigma of the difference "
                  f"{2 * math.hypot(*DDPM_FD_SIGMA):.2f}")

@pytest.mark.xfail(strict=True, reason=(
    "the shipped DDPM draws the dark background in fewer than 20 % of samples on a CPU: rarest value share 0.180 on these "
    "100 samples, 0.197 on the manifest's own 1,000 (seed 0, the same real renders; fd 12.37, min_conf 0.976, passes False) and "
    "0.192 on 400 others (seed 99). The manifest's 0.240 (passes: true) was measured by ship_ddpm on the H100 with bf16 autocast "
    "from the fp32 EMA weights, before they were stored in fp16"))
def test_ddpm_value_shares(ddpm_quality):
    q, p, what = ddpm_quality
    check_at_least("ddpm", f"min_share (rarest value share, {p['min_share_concept']}), {what}", q["min_share"], SHARE_BAR,
                   f"generator_quality's bar, the manifest's passes: true; manifest min_share {MAN['ddpm']['metrics']['min_share']:.3f} on 1000")

# ---------------------------------------------------------------- calibration of the FD tolerances (not a test)
def calibrate(real_bank: int = 30, gan_draws: int = 12, ddpm_pool: int = 400, reps: int = 40, seed: int = 1):
    "Measure and print GAN_FD_SIGMA, DDPM_FD_BIAS and DDPM_FD_SIGMA (about half an hour on 2 CPU cores: the DDPM pool)."
    import numpy as np
    from genconcept.concepts.labelers import load_judge, frechet_distance
    from genconcept.generators.latent import load_world_gan, load_world_ddpm, real_world_images
    torch.set_num_threads(2); j, g = load_judge(device="cpu").eval(), torch.Generator().manual_seed(seed)
    feats = lambda x: torch.cat([j.features(x[i:i + 500]).float() for i in range(0, len(x), 500)])
    with torch.no_grad():
        FR = torch.cat([feats(real_world_images(1000, seed=900 + k)) for k in range(real_bank)])  # a bank of real features
        G = load_world_gan(device="cpu"); FG = [feats(G.sample(1000, make_generator(800 + k))) for k in range(gan_draws)]
        FD = feats(load_world_ddpm(device="cpu").sample(ddpm_pool, make_generator(99)))
    draw = lambda F, n: F[torch.randperm(len(F), generator=g)[:n]]
    def floor(n):  # real vs real: the FD estimator's bias at n vs 1000
        return float(np.mean([frechet_distance(f[:n], f[n:]) for f in (draw(FR, n + 1000) for _ in range(reps))]))
    gan = [frechet_distance(f, FR[k * 1000:(k + 1) * 1000]) for k, f in enumerate(FG)]
    sub = [frechet_distance(draw(FD, DDPM_N), draw(FR, 1000)) for _ in range(reps)]
    sd = float(np.std(sub, ddof=1)) / math.sqrt(1 - DDPM_N / ddpm_pool)  # subsets of one pool: finite-population correction
    print(f"GAN_FD_SIGMA = {np.std(gan, ddof=1):.2f}  (GAN FD 1000 vs 1000 over {gan_draws} draws: mean {np.mean(gan):.3f})")
    print(f"DDPM_FD_BIAS = {floor(DDPM_N) - floor(1000):.2f}")
    print(f"DDPM_FD_SIGMA = ({sd:.1f}, {sd * math.sqrt(DDPM_N / 1000):.1f})  (DDPM FD {DDPM_N} vs 1000: mean {np.mean(sub):.2f})")

if __name__ == "__main__": calibrate()
