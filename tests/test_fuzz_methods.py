"""Fuzzing TIS and bias detection with Hypothesis: random shapes, sizes, noise levels and arrays — the functions either
return well-formed, mathematically right results or raise the documented `ValueError`; nothing else.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings, strategies as st

from genconcept.cortex.bias import bias_test, bootstrap_delta, cliffs_delta, detect_bias, half_cliffs_delta
from genconcept.cortex.iem import VGGIEM
from genconcept.cortex.tis import token_importance

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

def _model(D, H, W, C, seed):
    torch.manual_seed(seed)
    return VGGIEM(in_channels=D, n_classes=C, grid=(H, W), stages=((4, 1),), head=(8,), dropout=0.0).eval()

# ---------------------------------------------------------------- token_importance
FAULTS = ["none"] * 9 + ["empty batch", "n_samples", "noise", "noise_range", "reduce", "max_batch", "target"]

@FUZZ
@given(B=st.integers(1, 4), D=st.integers(1, 6), h=st.integers(1, 3), w=st.integers(1, 3), C=st.integers(2, 5),
       scale=st.sampled_from([0.0, 1e-3, 1.0, 50.0]), n_samples=st.integers(1, 5), noise=st.sampled_from([0.0, 0.1, 0.5, 2.0]),
       noise_range=st.sampled_from(["batch", "sample"]), reduce=st.sampled_from(["max", "mean", "ave", "sum"]), max_batch=st.integers(1, 9),
       seeds=st.booleans(), seed=st.integers(0, 2**16), fault=st.sampled_from(FAULTS))
def test_token_importance_fuzz(B, D, h, w, C, scale, n_samples, noise, noise_range, reduce, max_batch, seeds, seed, fault):
    "Random valid settings, or valid settings with one documented fault injected."
    H, W = 2 * h, 2 * w
    model = _model(D, H, W, C, seed)
    g = torch.Generator().manual_seed(seed)
    if fault == "empty batch": B = 0
    x = torch.randn(B, D, H, W, generator=g) * scale
    y = torch.randint(0, C, (B,), generator=g)
    if fault == "target": y[0] = C if seed % 2 else -1
    kw = dict(n_samples=n_samples, noise_level=noise, noise_range=noise_range, reduce=reduce, max_batch=max_batch,
              sample_seeds=[seed + i for i in range(B)] if seeds else None, generator=torch.Generator().manual_seed(seed))
    bad = {"n_samples": dict(n_samples=(0, -1, 2.5, True)[seed % 4]), "noise": dict(noise_level=(-0.1, math.inf, math.nan)[seed % 3]),
           "noise_range": dict(noise_range="global"), "reduce": dict(reduce="l1"), "max_batch": dict(max_batch=(0, -3)[seed % 2])}
    kw.update(bad.get(fault, {}))
    try:
        s, G = token_importance(model, x, y, return_grad=True, **kw)
    except ValueError as e:
        assert fault != "none", f"valid input refused: {e}"
        event("refused (documented ValueError)"); return
    assert fault == "none", f"invalid input accepted ({fault})"
    event("scored")
    assert s.shape == (B, H, W) and G.shape == (B, D, H, W) and s.dtype == torch.float32
    assert torch.isfinite(s).all() and torch.isfinite(G).all()
    torch.testing.assert_close(s, G.amax(1) if reduce == "max" else G.sum(1) if reduce == "sum" else G.mean(1), rtol=0, atol=0)
    if noise == 0:  # no noise: every draw is the same plain gradient, whatever n_samples and max_batch
        s1 = token_importance(model, x, y, n_samples=1, noise_level=0.0, reduce=reduce, max_batch=128)
        torch.testing.assert_close(s, s1, rtol=1e-5, atol=1e-7)
    if seeds and noise_range == "sample" and B > 1 and (D * H * W) % 16 == 0:  # batch-independent: sample 1 alone gets the same score
        # (only when D·H·W is a multiple of 16 — see test_sample_seeds_batch_independent_any_size)
        alone = token_importance(model, x[1:2], y[1:2], **{**kw, "sample_seeds": kw["sample_seeds"][1:2]})
        torch.testing.assert_close(s[1:2], alone, rtol=1e-4, atol=1e-6)

@FUZZ
@given(D=st.integers(1, 5), h=st.integers(1, 3), fault=st.sampled_from(["none", "none", "channels", "nan", "inf", "ints", "rank 3", "rank 5", "grid", "not a tensor"]))
def test_token_importance_bad_embeddings(D, h, fault):
    H = 2 * h
    model = _model(D, H, H, 3, 0)
    x = torch.randn(2, D + (fault == "channels"), H, H + 2 * (fault == "grid"))
    if fault == "nan": x[1, 0, 0, 0] = float("nan")
    if fault == "inf": x[0, -1, -1, -1] = -float("inf")
    if fault == "ints": x = x.long()
    if fault == "rank 3": x = x[0]
    if fault == "rank 5": x = x[None]
    if fault == "not a tensor": x = x.numpy()
    try:
        s = token_importance(model, x, 0, n_samples=2)
    except ValueError as e:
        assert fault != "none", e
        event("refused (documented ValueError)"); return
    assert fault == "none", f"accepted {fault}"
    event("scored")
    assert s.shape == (2, H, H) and torch.isfinite(s).all()

def test_token_importance_float64_embedding():
    model = _model(3, 2, 2, 3, 0)
    s = token_importance(model, torch.randn(2, 3, 2, 2, dtype=torch.float64), 0, n_samples=2)
    assert s.shape == (2, 2, 2)

def test_sample_seeds_batch_independent_any_size():
    model = _model(1, 2, 4, 2, 0)
    x, y = torch.randn(2, 1, 2, 4, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1])
    kw = dict(n_samples=2, noise_level=0.5, noise_range="sample", max_batch=2)
    both = token_importance(model, x, y, sample_seeds=[1, 2], **kw)
    alone = token_importance(model, x[1:], y[1:], sample_seeds=[2], **kw)
    torch.testing.assert_close(both[1:], alone, rtol=1e-4, atol=1e-6)

# ---------------------------------------------------------------- Cliff's delta
def _delta_bruteforce(x, y):
    x, y = np.asarray(x, dtype=float)[:, None], np.asarray(y, dtype=float)[None, :]
    return float(((x > y).sum() - (x < y).sum()) / (x.size * y.size))

samples = st.one_of(
    st.lists(st.integers(0, 6), min_size=0, max_size=40),  # counts with many ties
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=40),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=10),
)

@FUZZ
@given(x=samples, y=samples)
def test_cliffs_delta_fuzz(x, y):
    valid = len(x) > 0 and len(y) > 0 and all(math.isfinite(v) for v in list(x) + list(y))
    try:
        d = cliffs_delta(x, y)
    except ValueError as e:
        assert not valid, e
        event("refused (documented ValueError)"); return
    event("computed")
    assert valid
    assert -1 <= d <= 1
    assert d == _delta_bruteforce(x, y)  # exact: both are ratios of the same integers
    assert cliffs_delta(y, x) == -d and half_cliffs_delta(x, y) == d / 2

@FUZZ
@given(x=st.lists(st.integers(0, 5), min_size=1, max_size=30), y=st.lists(st.integers(0, 5), min_size=1, max_size=30),
       n_boot=st.integers(-1, 40), ci=st.sampled_from([0.5, 0.9, 0.95, 0.99, 0.0, 1.0, 95.0]), alt=st.sampled_from(["two-sided", "two-sided", "greater", "less", "both"]))
def test_bias_test_fuzz(x, y, n_boot, ci, alt):
    valid = n_boot >= 0 and 0 < ci < 1 and alt != "both"
    try:
        r = bias_test(x, y, n_boot=n_boot, ci=ci, alternative=alt)
    except ValueError as e:
        assert not valid, e
        event("refused (documented ValueError)"); return
    event("computed")
    assert valid
    assert r["delta"] == _delta_bruteforce(x, y) and 0 <= r["p_value"] <= 1 and r["n_x"] == len(x)
    if n_boot:
        assert -1 <= r["delta_ci_low"] <= r["delta_ci_high"] <= 1
        b = bootstrap_delta(x, y, n_boot=n_boot)
        assert b.shape == (n_boot,) and np.all(np.abs(b) <= 1)

# ---------------------------------------------------------------- detect_bias
BIAS_FAULTS = ["none"] * 8 + ["empty neutral", "empty set", "unequal sets", "overlap", "negative id", "outside codebook", "overlap mode", "float ids"]

@FUZZ
@given(N=st.integers(1, 15), h=st.integers(1, 4), w=st.integers(1, 4), K=st.integers(5, 16), k=st.integers(1, 2),
       overlap=st.sampled_from(["error", "drop", "keep"]), give_k=st.booleans(), seed=st.integers(0, 1000), fault=st.sampled_from(BIAS_FAULTS))
def test_detect_bias_fuzz(N, h, w, K, k, overlap, give_k, seed, fault):
    "Random neutral ids and two equal-size disjoint token sets, or the same with one documented fault."
    rng = np.random.default_rng(seed)
    if fault == "empty neutral": N = 0
    ids = rng.integers(0, K, (N, h, w))
    perm = rng.permutation(K)
    tl, tlp = perm[:k].tolist(), perm[k:2 * k].tolist()
    if fault == "empty set": tl = []
    if fault == "unequal sets": tlp = perm[k:2 * k + 1].tolist()
    if fault == "overlap": tlp = [tl[0]] + tlp[1:]; overlap = "error"
    if fault == "negative id": tl = [-1] + tl[1:]
    if fault == "outside codebook": tlp = tlp[:-1] + [K]; give_k = True
    if fault == "overlap mode": overlap = "merge"
    if fault == "float ids": ids = ids.astype(float)
    try:
        r = detect_bias(ids, tl, tlp, codebook_size=K if give_k else None, overlap=overlap, n_boot=20, seed=seed)
    except ValueError as e:
        assert fault != "none", e
        event("refused (documented ValueError)"); return
    assert fault == "none", f"invalid input accepted ({fault})"
    event("computed")
    cx, cy = (np.isin(ids.reshape(N, -1), t).sum(1) for t in (tl, tlp))
    assert r["delta"] == _delta_bruteforce(cx, cy) and r["K"] == k and r["n_shared"] == 0
    assert -0.5 <= r["half_delta"] <= 0.5 and 0 <= r["p_value"] <= 1
    assert r["leans_toward"] == ("L" if r["delta"] > 0 else "L'" if r["delta"] < 0 else None)

@FUZZ
@given(N=st.integers(1, 10), K=st.integers(2, 8), tl=st.lists(st.integers(0, 7), min_size=1, max_size=4),
       tlp=st.lists(st.integers(0, 7), min_size=1, max_size=4), overlap=st.sampled_from(["drop", "keep"]), seed=st.integers(0, 100))
def test_detect_bias_overlapping_sets(N, K, tl, tlp, overlap, seed):
    "Arbitrary (possibly overlapping, unequal) token sets under overlap='drop'/'keep': a result or a documented ValueError."
    ids = np.random.default_rng(seed).integers(0, K, (N, 3, 3))
    shared = set(tl) & set(tlp)
    kl, klp = (set(tl) - shared, set(tlp) - shared) if overlap == "drop" else (set(tl), set(tlp))
    valid = bool(kl) and bool(klp) and len(kl) == len(klp)
    try:
        r = detect_bias(ids, tl, tlp, overlap=overlap, n_boot=10)
    except ValueError as e:
        assert not valid, e
        event("refused (documented ValueError)"); return
    assert valid
    event("computed")
    cx, cy = (np.isin(ids.reshape(N, -1), sorted(t)).sum(1) for t in (kl, klp))
    assert r["delta"] == _delta_bruteforce(cx, cy) and r["n_shared"] == len(shared)
