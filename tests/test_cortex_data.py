"""Token-dataset generation survives a real kill (SIGKILL mid-run): the resumed run equals an uninterrupted one.

The notebook (nbs/05_token_data.ipynb) simulates the interruption in-process; this test kills a separate process
at an arbitrary moment — possibly in the middle of writing a chunk — which is the case atomic commits are for.
"""
import json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(1)
    from genconcept.cortex.data import ToyTokenGenerator, generate_token_dataset
    from genconcept.world import ClassView

    class Slow(ToyTokenGenerator):
        def sample_ids(self, c, generator=None):
            time.sleep(float(sys.argv[2])); return super().sample_ids(c, generator)

    generate_token_dataset(Slow(), ClassView(("shape", "colour")), sys.argv[1], {"train": 40, "test": 10},
                           batch_size=8, seed=3, progress=False)
""")

def _run(out, delay):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), str(delay)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

def _files(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(Path(d).rglob("*")) if p.is_file()}

def test_kill_and_resume(tmp_path):
    ref, killed = tmp_path / "ref", tmp_path / "killed"
    assert _run(ref, 0).wait(timeout=300) == 0
    p = _run(killed, 0.15)
    progress = killed / "train" / "progress.json"
    t0 = time.time()
    while time.time() - t0 < 240:  # wait until a few chunks are committed, then kill without warning
        if progress.is_file():
            try:
                if json.loads(progress.read_text())["done"] >= 48: break
            except (ValueError, KeyError): pass
        if p.poll() is not None: pytest.fail(f"generation ended before it could be killed: {p.stdout.read().decode()[-2000:]}")
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    done = json.loads(progress.read_text())["done"]
    assert 0 < done < 160 and done % 8 == 0
    assert not (killed / "dataset.json").exists()
    assert _run(killed, 0).wait(timeout=300) == 0
    a, b = _files(ref), _files(killed)
    assert sorted(a) == sorted(b)
    for k in a: assert a[k] == b[k], f"{k} differs after kill + resume"
    ids = np.load(killed / "train" / "ids.npy")
    assert ids.shape == (160, 4, 4)
