"""Trainers and scorers survive a real kill (SIGKILL, no warning, possibly mid-write) and resume to the uninterrupted result.

Scenarios (each compared with an uninterrupted run of the same seed, on CPU, 1 torch thread, bit for bit):
1. `train_iem` killed after its first checkpoint, resumed from `checkpoint_dir/last`           -> identical weights, history
2. the same checkpoint plus a planted half-written temp folder `.last.tmp-*` (truncated weights,
   a state.json claiming a later epoch) — what a kill during a checkpoint save leaves            -> ignored, identical
3. a kill between the two renames of an atomic save (no `last/`, only `.last.old-*` and
   `.last.tmp-*`)                                                                                 -> restarts from scratch, identical
4. a `last/` whose files were truncated afterwards (disk full, bad copy)                         -> refused, never loaded
5. `score_dataset` (TIS streamed to memmaps) killed mid-run, resumed with the same batch size      -> identical scores
   ... and resumed with another batch size                                                        -> equal to 1e-5 rel
6. `score_dataset` killed before its store was initialised (npy files, no meta.json)             -> starts over, identical

Why bit-identical is expected (scenario 5 with another batch size excepted — see the test): `train_iem` stores the model, optimizer, scheduler and every RNG state (torch, numpy,
python, the loader's generator) at each epoch end and its sampler order is a pure function of (seed, epoch); TIS noise
is drawn per sample from (seed, index) with noise_range="sample". Float results depend on the thread count, so the
killed process and the in-process runs all use one torch thread.
"""
import json, os, shutil, signal, subprocess, sys, textwrap, time
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

TRAIN = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(1)
    from genconcept.cortex.iem import SyntheticTokenTask, make_iem, train_iem

    class Slow(SyntheticTokenTask):
        def __getitem__(self, i): time.sleep(float(sys.argv[2])); return super().__getitem__(i)

    torch.manual_seed(7)
    model = make_iem("vgg", 32, 4, stages=((8, 1), (8, 1)), head=(16,), dropout=0.3)
    train_iem(model, Slow(n=64, seed=1), Slow(n=16, seed=2), epochs=4, batch_size=16, step_size=2, cpu=True, seed=3,
              restore_best=False, progress=False, checkpoint_dir=sys.argv[1])
""")

TIS = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(1)
    from genconcept.cortex.iem import SyntheticTokenTask, make_iem
    from genconcept.cortex.tis import score_dataset

    class Slow(SyntheticTokenTask):
        def __getitem__(self, i): time.sleep(float(sys.argv[2])); return super().__getitem__(i)

    torch.manual_seed(11)
    iem = make_iem("vgg", 32, 4, stages=((8, 1), (8, 1)), head=(16,)).eval()
    score_dataset(iem, Slow(n=48, seed=5), sys.argv[1], batch_size=4, n_samples=3, seed=9, device="cpu", progress=False)
""")

def _start(script, out, delay):
    return subprocess.Popen([sys.executable, "-c", script, str(out), str(delay)], cwd=ROOT,
                            env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

def _kill_when(p, ready, what, timeout=300):
    "SIGKILL process `p` as soon as `ready()` is true; fail if it ends first."
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if ready(): break
        except (OSError, ValueError, KeyError): pass  # a file caught half-way: try again
        if p.poll() is not None: pytest.fail(f"{what} ended before it could be killed: {p.stdout.read().decode()[-2000:]}")
        time.sleep(0.01)
    else: pytest.fail(f"{what} never reached the kill point")
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL

class _one_thread:
    def __enter__(self): self.n = torch.get_num_threads(); torch.set_num_threads(1)
    def __exit__(self, *a): torch.set_num_threads(self.n)

# ---------------------------------------------------------------- train_iem
def _train(ckpt=None):
    from genconcept.cortex.iem import SyntheticTokenTask, make_iem, train_iem
    with _one_thread():
        torch.manual_seed(7)
        model = make_iem("vgg", 32, 4, stages=((8, 1), (8, 1)), head=(16,), dropout=0.3)
        return train_iem(model, SyntheticTokenTask(n=64, seed=1), SyntheticTokenTask(n=16, seed=2), epochs=4, batch_size=16,
                         step_size=2, cpu=True, seed=3, restore_best=False, progress=False, checkpoint_dir=ckpt)

def _same(a, b):
    assert len(a.history) == len(b.history) == 4
    assert a.history.drop(columns="seconds").equals(b.history.drop(columns="seconds")), (a.history, b.history)
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sorted(sa) == sorted(sb)
    for k in sa: assert torch.equal(sa[k], sb[k]), f"{k} differs after kill + resume"

@pytest.fixture(scope="module")
def killed_training(tmp_path_factory):
    "A checkpoint folder of a train_iem process SIGKILLed right after its first checkpoint, and the reference run."
    d = tmp_path_factory.mktemp("train")
    ckpt = d / "killed"
    p = _start(TRAIN, ckpt, 0.01)
    _kill_when(p, lambda: (ckpt / "last" / "state.json").is_file(), "training")
    epoch = json.loads((ckpt / "last" / "state.json").read_text())["epoch"]
    assert 0 <= epoch < 3, f"killed at epoch {epoch}: the run was not interrupted"
    return ckpt, _train(d / "reference")

def test_train_kill_resume(killed_training, tmp_path):
    ckpt, ref = killed_training
    c = tmp_path / "c"; shutil.copytree(ckpt, c)
    _same(_train(c), ref)
    assert not list(c.glob(".last.*")), sorted(p.name for p in c.iterdir())  # no temp folders left behind

def _plant_half_written(c):
    "What a kill in the middle of `atomic_folder` leaves: a temp folder with truncated files and a too-good state."
    tmp = c / ".last.tmp-half"; shutil.copytree(c / "last", tmp)
    st = json.loads((tmp / "state.json").read_text()); st["epoch"] = 3
    (tmp / "state.json").write_text(json.dumps(st)[:200])  # cut short
    w = tmp / "model.safetensors"; w.write_bytes(w.read_bytes()[:100])
    return tmp

def test_train_ignores_half_written_checkpoint(killed_training, tmp_path):
    ckpt, ref = killed_training
    c = tmp_path / "c"; shutil.copytree(ckpt, c)
    _plant_half_written(c)
    _same(_train(c), ref)

def test_train_kill_between_renames(killed_training, tmp_path):
    ckpt, ref = killed_training
    c = tmp_path / "c"; shutil.copytree(ckpt, c)
    _plant_half_written(c)
    os.replace(c / "last", c / ".last.old-12345")  # killed after `last` was moved aside, before the new one took its place
    res = _train(c)
    _same(res, ref)  # no usable `last/`: it started again from epoch 0 (deterministically), never from the debris

@pytest.mark.parametrize("name", ["model.safetensors", "state.json", "optimizer.pt", "rng.safetensors"])
def test_train_refuses_truncated_checkpoint(killed_training, tmp_path, name):
    ckpt, _ = killed_training
    c = tmp_path / "c"; shutil.copytree(ckpt, c)
    f = c / "last" / name; f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.raises(Exception):  # refused (never loaded); see the next test for the message it should give
        _train(c)

def test_train_truncated_checkpoint_message(killed_training, tmp_path):
    ckpt, _ = killed_training
    c = tmp_path / "c"; shutil.copytree(ckpt, c)
    f = c / "last" / "optimizer.pt"; f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.raises(ValueError, match="last"):
        _train(c)

# ---------------------------------------------------------------- score_dataset
def _score(out, batch_size=4):
    from genconcept.cortex.iem import SyntheticTokenTask, make_iem
    from genconcept.cortex.tis import score_dataset
    with _one_thread():
        torch.manual_seed(11)
        iem = make_iem("vgg", 32, 4, stages=((8, 1), (8, 1)), head=(16,)).eval()
        return score_dataset(iem, SyntheticTokenTask(n=48, seed=5), out, batch_size=batch_size, n_samples=3, seed=9, device="cpu", progress=False)

def _done(out):
    return int(np.load(out / "done.npy", mmap_mode="r").sum())

def test_tis_kill_resume(tmp_path):
    out = tmp_path / "killed"
    p = _start(TIS, out, 0.02)
    _kill_when(p, lambda: (out / "meta.json").is_file() and _done(out) >= 12, "scoring")
    n = _done(out)
    assert 12 <= n < 48, n
    partial = np.load(out / "scores.npy")
    other = tmp_path / "other-batching"; shutil.copytree(out, other)
    ref = _score(tmp_path / "reference")
    res = _score(out)  # resumes the missing rows, same batch size: same computations, bit for bit
    assert res.complete and ref.complete
    np.testing.assert_array_equal(np.asarray(res.scores), np.asarray(ref.scores))
    np.testing.assert_array_equal(np.asarray(res.labels), np.asarray(ref.labels))
    np.testing.assert_array_equal(np.asarray(res.ids), np.asarray(ref.ids))
    done = np.isfinite(partial).all((1, 2))  # rows written before the kill were kept as they were
    assert done.sum() == n
    np.testing.assert_array_equal(partial[done], np.asarray(ref.scores)[done])
    # resumed with another batch size: the same noise (per-sample seeds), but CPU convolution kernels pick other
    # blockings for other row counts, so scores agree to float rounding only (measured: 5e-10 abs, 2.4e-7 rel)
    res7 = _score(other, batch_size=7)
    np.testing.assert_allclose(np.asarray(res7.scores), np.asarray(ref.scores), rtol=1e-5, atol=1e-8)

def test_tis_killed_before_meta(tmp_path):
    out = tmp_path / "early"
    out.mkdir()
    np.lib.format.open_memmap(out / "scores.npy", mode="w+", dtype=np.float32, shape=(3, 2, 2))  # debris of another shape
    (out / "done.npy").write_bytes(b"\x93NUMPY")  # truncated
    res = _score(out)
    np.testing.assert_array_equal(np.asarray(res.scores), np.asarray(_score(tmp_path / "reference").scores))
