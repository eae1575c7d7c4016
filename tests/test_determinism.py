"""Same seed, same bytes (CPU): world images, token datasets, TIS scores, an IEM training, and an evaluation table.

Each check builds the object twice from scratch with the same seed and compares bit for bit (torch.equal /
file bytes / DataFrame.equals), and once with another seed to show the comparison is not vacuous. Everything runs
with one torch thread: CPU float reductions can depend on the thread count, and a user's reruns use the same
count, so this is the guarantee that matters (see the report for what holds on a GPU).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

def _files(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(Path(d).rglob("*")) if p.is_file()}

# ---------------------------------------------------------------- the world
def test_world_images():
    from genconcept.world import ConceptShapes, WorldSpec, Bias, render_world
    spec = WorldSpec(probs={"colour": 0.3}, biases=[Bias("texture", 1, ("shape", 1), 0.9)])
    a, b, c = (ConceptShapes(n=24, seed=s, spec=spec) for s in (5, 5, 6))
    assert torch.equal(a.concepts, b.concepts) and torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert not torch.equal(a.images, c.images)
    # rendering itself is a pure function of (concepts, jitter)
    x1, m1 = render_world(a.concepts[:8]); x2, m2 = render_world(a.concepts[:8])
    assert torch.equal(x1, x2) and torch.equal(m1, m2)

# ---------------------------------------------------------------- token datasets
def test_token_dataset(tmp_path):
    from genconcept.cortex.data import ToyTokenGenerator, generate_token_dataset, TokenDataset
    from genconcept.world import ClassView
    view = ClassView(("shape", "colour"))
    make = lambda out, seed: generate_token_dataset(ToyTokenGenerator(seed=0), view, tmp_path / out, {"train": 6, "test": 2},
                                                    batch_size=5, seed=seed, progress=False)
    a, b, c = make("a", 1), make("b", 1), make("c", 2)
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb) and all(fa[k] == fb[k] for k in fa), [k for k in fa if fa[k] != fb.get(k)]
    assert not np.array_equal(TokenDataset(a, "train").ids, TokenDataset(c, "train").ids)

# ---------------------------------------------------------------- TIS
def _iem():
    from genconcept.cortex.iem import make_iem
    torch.manual_seed(0); return make_iem("vgg", 32, 4, stages=((8, 1), (8, 1)), head=(16,)).eval()

@pytest.mark.parametrize("noise_range", ["batch", "sample"])
def test_tis_scores(noise_range):
    from genconcept.cortex.iem import SyntheticTokenTask
    from genconcept.cortex.tis import token_importance
    ds = SyntheticTokenTask(n=6, seed=3)
    x, y = torch.stack([ds[i]["embedding"] for i in range(6)]), ds.labels[:6]
    run = lambda seed: token_importance(_iem(), x, y, n_samples=5, noise_range=noise_range, generator=torch.Generator().manual_seed(seed))
    a, b, c = run(1), run(1), run(2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)

def test_tis_dataset_scores(tmp_path):
    from genconcept.cortex.iem import SyntheticTokenTask
    from genconcept.cortex.tis import score_dataset
    run = lambda out, seed: np.asarray(score_dataset(_iem(), SyntheticTokenTask(n=10, seed=3), tmp_path / out, batch_size=4,
                                                     n_samples=3, seed=seed, progress=False).scores)
    a, b, c = run("a", 1), run("b", 1), run("c", 2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)

# ---------------------------------------------------------------- training
def test_iem_training():
    from genconcept.cortex.iem import SyntheticTokenTask, make_iem, train_iem
    def run(seed):
        torch.manual_seed(7)  # same initial weights; the training seed drives shuffling and dropout
        m = make_iem("vgg", 32, 4, stages=((8, 1), (8, 1)), head=(16,), dropout=0.3)
        return train_iem(m, SyntheticTokenTask(n=48, seed=1), SyntheticTokenTask(n=16, seed=2), epochs=2, batch_size=16, cpu=True,
                         seed=seed, restore_best=False, progress=False)
    a, b, c = run(3), run(3), run(4)
    assert a.history.drop(columns="seconds").equals(b.history.drop(columns="seconds"))
    sa, sb, sc = (r.model.state_dict() for r in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)

# ---------------------------------------------------------------- an evaluation table (CB-AE + linear directions on the toys)
def _eval_table(seed):
    from genconcept.cbae.toys import ToyGAN, ChannelMeanJudge, TOY_CONCEPTS
    from genconcept.cbae.model import CBAE
    from genconcept.cbae.train import train_cbae
    from genconcept.evaluate import SwapSteering, LinearSteering, fit_linear_directions, compare_methods
    gan, labeler = ToyGAN(seed=0), ChannelMeanJudge(sharpness=15.0)
    torch.manual_seed(seed)
    cb = CBAE(gan.latent_shape, TOY_CONCEPTS, n_unknown=2, width=32)
    train_cbae(cb, gan, labeler, steps=15, batch_size=32, eval_every=None, lr=1e-3, seed=seed, device="cpu", progress=False)
    dirs = fit_linear_directions(gan, labeler, TOY_CONCEPTS, n=256, seed=seed)
    return compare_methods({"CB-AE swap": SwapSteering(cb), "linear direction": LinearSteering(dirs)}, gan, ChannelMeanJudge(),
                           n=32, quality=False, seed=seed, return_details=True, progress=False)

def test_evaluation_table():
    (ta, da), (tb, db), (tc, _) = _eval_table(0), _eval_table(0), _eval_table(1)
    drop = lambda df: df.drop(columns=[c for c in df.columns if "time" in c or "second" in c])
    assert len(ta) == 2 and ta.notna().any().any()
    pd.testing.assert_frame_equal(drop(ta), drop(tb), check_exact=True)
    pd.testing.assert_frame_equal(drop(da), drop(db), check_exact=True)
    assert not drop(ta).equals(drop(tc))
