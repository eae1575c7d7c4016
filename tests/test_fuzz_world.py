"""Fuzzing the world renderer and concept sampling with Hypothesis: no crash other than the documented errors."""
import math
import torch
from hypothesis import given, settings, strategies as st, HealthCheck

from genconcept.core import make_generator
from genconcept.world import render_world, WorldSpec, Bias, ConceptShapes, ClassView, WORLD_CONCEPTS

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

@FUZZ
@given(n=st.integers(0, 6), size=st.sampled_from([16, 20, 32, 48, 64]), seed=st.integers(0, 2**31 - 1),
       noise=st.floats(0, 0.2))
def test_render_any_concepts(n, size, seed, noise):
    c = torch.randint(0, 2, (n, 8), generator=make_generator(seed))
    x, m = render_world(c, size, make_generator(seed), noise=noise)
    assert x.shape == (n, 3, size, size) and m.shape == (n, 8, size, size)
    assert torch.isfinite(x).all() and ((x >= 0) & (x <= 1)).all()
    if n: assert (m[:, 0] | m[:, 5]).all()  # every pixel is object or background

@FUZZ
@given(size=st.integers(-10, 600))
def test_render_size_is_validated(size):
    c = torch.zeros(1, 8, dtype=torch.long)
    ok = 16 <= size <= 512 and size % 4 == 0
    try:
        render_world(c, size); assert ok
    except ValueError as e:
        assert not ok and "size" in str(e)

probs = st.floats(allow_nan=True, allow_infinity=True, width=32)

@FUZZ
@given(p=probs, q=probs, seed=st.integers(0, 1000))
def test_worldspec_probabilities(p, q, seed):
    valid = all(0 <= v <= 1 for v in (p, q) if not math.isnan(v)) and not any(math.isnan(v) for v in (p, q))
    try:
        spec = WorldSpec(probs={"colour": p}, biases=[Bias("shape", 1, ("size", "large"), q)])
        c = spec.sample(50, make_generator(seed))
        assert valid and c.shape == (50, 8) and set(c.unique().tolist()) <= {0, 1}
        if p == 1.0: assert (c[:, 1] == 1).all()
    except ValueError as e:
        assert not valid and "probability" in str(e)

@FUZZ
@given(by=st.lists(st.sampled_from(WORLD_CONCEPTS.names), min_size=1, max_size=4, unique=True), seed=st.integers(0, 100))
def test_classview_roundtrip(by, seed):
    view = ClassView(by)
    c = WorldSpec().sample(40, make_generator(seed))
    labels = view.labels_of(c)
    cond = view.conditions(labels)
    for j, k in enumerate(view.idx): assert (cond[:, k] == c[:, k]).all()
    assert all(view.label(view.name(l)) == l for l in range(view.n_classes))
