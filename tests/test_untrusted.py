"""Loading never runs code from a file by default, and names from config files never leave their folder.

Every malicious file here is a pickle whose `__reduce__` would create a marker file when unpickled; each test
asserts a clear error AND that the marker was never created (so nothing was unpickled, even partially).
"""
import builtins, json, os, pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from genconcept.core import load_artifact, save_artifact, safe_join

class Evil:
    "Unpickling this calls open(marker, 'w'): the marker file appears iff the pickle was executed."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (builtins.open, (self.marker, "w"))

@pytest.fixture
def marker(tmp_path):
    m = tmp_path / "PWNED"
    yield m
    assert not m.exists(), "a malicious pickle was executed"

def _pickle_file(path, marker):
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"w": Evil(marker)})); return path

def _torch_file(path, marker):
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"w": Evil(marker)}, path); return path

def _evil_npy(path, marker):
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.array([Evil(marker)], dtype=object), allow_pickle=True); return path

def test_marker_mechanism_works(tmp_path):
    "The payload really runs when something unpickles it — so the absence of the marker below means something."
    m = tmp_path / "PWNED"
    pickle.loads(pickle.dumps(Evil(m)))
    assert m.exists()

# ---------------------------------------------------------------- artefact folders (config.json + safetensors)
def test_load_artifact_pickle_in_place_of_safetensors(tmp_path, marker):
    d = tmp_path / "a"; save_artifact(d, {"x": 1}, {"model": {"w": torch.ones(2)}})
    _pickle_file(d / "model.safetensors", marker)
    with pytest.raises(ValueError, match="not a readable safetensors file"): load_artifact(d)

def test_load_artifact_files_are_always_safetensors(tmp_path, marker):
    "`_files` names get `.safetensors` appended: a config cannot point the loader at a pickle."
    d = tmp_path / "a"; save_artifact(d, {"x": 1}, {"model": {"w": torch.ones(2)}})
    _torch_file(d / "evil.pt", marker)
    (d / "config.json").write_text(json.dumps({"_files": ["evil.pt"]}))
    with pytest.raises(FileNotFoundError, match="evil.pt.safetensors"): load_artifact(d)

def test_concept_classifier_from_pretrained(tmp_path, marker):
    from genconcept.concepts.labelers import ResNetConceptClassifier, load_concept_classifier
    from genconcept.world import WORLD_CONCEPTS
    d = tmp_path / "clf"
    ResNetConceptClassifier(WORLD_CONCEPTS).save_pretrained(d)
    _pickle_file(d / "model.safetensors", marker)
    with pytest.raises(ValueError, match="not a readable safetensors"): load_concept_classifier(d)

def test_cbae_checkpoint(tmp_path, marker):
    from genconcept.cbae.model import CBAE
    from genconcept.cbae.train import load_checkpoint
    cb = CBAE(latent_shape=(8,), concepts=2, n_unknown=1, width=8, enc_layers=1, dec_layers=1)
    d = tmp_path / "ck"; save_artifact(d, {"kind": "cbae_checkpoint"}, {"model": cb.state_dict()})
    _torch_file(d / "model.safetensors", marker)
    with pytest.raises(ValueError, match="not a readable safetensors"): load_checkpoint(d, cb)

# ---------------------------------------------------------------- diffusers-style models (ModelMixin.from_pretrained)
def _iem_folder_with_bin(tmp_path, marker, torch_format):
    "A valid IEM config.json, but the weights are a malicious diffusion_pytorch_model.bin (no safetensors)."
    from genconcept.cortex.iem import make_iem, save_iem
    d = tmp_path / "iem"; save_iem(make_iem("vgg", 8, 2, stages=((4, 1),), head=(4,)), d)
    for f in d.glob("*.safetensors"): f.unlink()
    (_torch_file if torch_format else _pickle_file)(d / "diffusion_pytorch_model.bin", marker)
    return d

@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("torch_format", [True, False], ids=["torch.save", "raw-pickle"])
def test_load_iem_refuses_pickled_weights(tmp_path, marker, torch_format):
    from genconcept.cortex.iem import load_iem
    d = _iem_folder_with_bin(tmp_path, marker, torch_format)
    # diffusers falls back to the .bin but reads it with torch.load(weights_only=True), which refuses the payload;
    # its message ("Unable to load weights from checkpoint file ...") does not say why — see the report/README note
    with pytest.raises(OSError, match="Unable to load weights"): load_iem(d)

def test_cbae_from_pretrained_refuses_pickled_weights(tmp_path, marker):
    from genconcept.cbae.model import CBAE
    d = tmp_path / "cbae"
    CBAE(latent_shape=(8,), concepts=2, n_unknown=1, width=8, enc_layers=1, dec_layers=1).save_pretrained(d)
    for f in d.glob("*.safetensors"): f.unlink()
    _torch_file(d / "diffusion_pytorch_model.bin", marker)
    with pytest.raises(OSError, match="Unable to load weights"): CBAE.from_pretrained(d)

def test_load_diffusers_model_refuses_pickled_weights(tmp_path, marker):
    from diffusers import VQModel
    from genconcept.generators.adapters import load_diffusers_model
    d = tmp_path / "vq"
    VQModel(block_out_channels=(8,), layers_per_block=1, latent_channels=4, num_vq_embeddings=8, norm_num_groups=4,
            sample_size=8).save_pretrained(d)
    for f in d.glob("*.safetensors"): f.unlink()
    _torch_file(d / "diffusion_pytorch_model.bin", marker)
    with pytest.raises(ValueError, match="could not be loaded as VQModel"): load_diffusers_model(VQModel, d)

# ---------------------------------------------------------------- torch.load paths (always weights_only=True)
def test_stylegan_state_dict_pt_refused(tmp_path, marker):
    from genconcept.generators.adapters import load_stylegan_state_dict
    p = _torch_file(tmp_path / "G.pt", marker)
    with pytest.raises(ValueError, match="could not be read as a generator state dict"): load_stylegan_state_dict(torch.nn.Linear(1, 1), p)

def test_train_iem_checkpoint_optimizer_refused(tmp_path, marker):
    "A resumed train_iem reads optimizer.pt / scheduler.pt with torch.load(weights_only=True)."
    from genconcept.cortex.iem import SyntheticTokenTask, make_iem, train_iem
    mk = lambda: make_iem("vgg", 32, 4, stages=((4, 1), (4, 1)), head=(8,))
    kw = dict(epochs=2, batch_size=16, cpu=True, progress=False, checkpoint_dir=tmp_path / "ck")
    tr, va = SyntheticTokenTask(n=16, seed=1), SyntheticTokenTask(n=8, seed=2)
    train_iem(mk(), tr, va, stop_after=1, **kw)
    _torch_file(tmp_path / "ck" / "last" / "optimizer.pt", marker)
    with pytest.raises(Exception) as e: train_iem(mk(), tr, va, **kw)
    assert "weights_only" in str(e.value) or "Unsupported" in str(e.value), repr(e.value)

# ---------------------------------------------------------------- the one place that unpickles: only when trusted
def test_stylegan_pickle_needs_trust(tmp_path, marker):
    from genconcept.generators.adapters import load_stylegan_pickle
    p = _pickle_file(tmp_path / "G.pkl", marker)
    with pytest.raises(ValueError, match="refusing to unpickle"): load_stylegan_pickle(p)
    with pytest.raises(ValueError, match="refusing to unpickle"): load_stylegan_pickle(p, trust=0)  # any falsy value refuses

def test_stylegan_pickle_trusted_really_unpickles(tmp_path):
    "trust=True does what it says (so the refusal above is the only guard): the payload runs."
    from genconcept.generators.adapters import load_stylegan_pickle
    m = tmp_path / "PWNED"
    p = tmp_path / "G.pkl"; p.write_bytes(pickle.dumps({"G_ema": Evil(m)}))
    with pytest.raises(Exception): load_stylegan_pickle(p, trust=True)  # a file object is no generator
    assert m.exists()

# ---------------------------------------------------------------- .npy files (allow_pickle=False everywhere)
def _token_ds(t):
    from genconcept.cortex.data import ToyTokenGenerator, generate_token_dataset
    from genconcept.world import ClassView
    return generate_token_dataset(ToyTokenGenerator(), ClassView(("shape", "colour")), t / "tokens", {"train": 2}, batch_size=8, progress=False)

def test_reference_csv_pickled_npy(tmp_path, marker):
    from genconcept.cortex.data import export_reference_csv, read_reference_csv
    csv = export_reference_csv(_token_ds(tmp_path), "train", tmp_path / "ref", progress=False)
    _evil_npy(tmp_path / "ref" / "train" / "train_000000.npy", marker)
    with pytest.raises(ValueError, match="allow_pickle=False"): read_reference_csv(csv)

def test_token_dataset_pickled_ids(tmp_path, marker):
    from genconcept.cortex.data import TokenDataset
    d = _token_ds(tmp_path)
    _evil_npy(d / "train" / "ids.npy", marker)
    with pytest.raises(ValueError, match="ids.npy"): TokenDataset(d, "train")

def test_tis_scores_pickled(tmp_path, marker):
    from genconcept.cortex.iem import SyntheticTokenTask, make_iem
    from genconcept.cortex.tis import score_dataset, load_scores
    out = tmp_path / "s"
    score_dataset(make_iem("vgg", 32, 4, stages=((4, 1), (4, 1)), head=(8,)), SyntheticTokenTask(n=4), out, n_samples=1, progress=False)
    _evil_npy(out / "scores.npy", marker)
    with pytest.raises(ValueError): load_scores(out)

def test_cli_bias_pickled_neutral(tmp_path, marker, capsys):
    from genconcept.cli import main
    p = _evil_npy(tmp_path / "neutral.npy", marker)
    assert main(["bias", str(p), "1,2", "3,4"]) == 2
    assert "allow_pickle=False" in capsys.readouterr().err

# ---------------------------------------------------------------- paths from config files stay in their folder
@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "/etc/passwd", "a/../../x", "sub/../../x"])
def test_safe_join_refuses_escapes(tmp_path, name):
    with pytest.raises(ValueError, match="points outside its folder"): safe_join(tmp_path / "f", name)

@pytest.mark.parametrize("name", ["x", "sub/x", "sub/../x", "./x"])
def test_safe_join_allows_inside(tmp_path, name):
    p = safe_join(tmp_path / "f", name)
    assert (tmp_path / "f").resolve() in p.parents

def test_safe_join_refuses_symlink_out(tmp_path):
    (tmp_path / "f").mkdir(); (tmp_path / "secret.safetensors").write_bytes(b"x")
    (tmp_path / "f" / "link.safetensors").symlink_to(tmp_path / "secret.safetensors")
    with pytest.raises(ValueError, match="points outside its folder"): safe_join(tmp_path / "f", "link.safetensors")

@pytest.mark.parametrize("name", ["../outside", "/tmp/outside", "../../outside"])
def test_load_artifact_files_cannot_escape(tmp_path, name):
    d = tmp_path / "deep" / "a"; save_artifact(d, {"x": 1}, {"model": {"w": torch.ones(2)}})
    save_artifact(tmp_path / "deep" / "o", {}, {"outside": {"w": torch.ones(1)}})  # a real file there to be read
    os.replace(tmp_path / "deep" / "o" / "outside.safetensors", tmp_path / "deep" / "outside.safetensors")
    (d / "config.json").write_text(json.dumps({"_files": [name]}))
    with pytest.raises(ValueError, match="outside its folder"): load_artifact(d)

def test_save_artifact_names_cannot_escape(tmp_path):
    with pytest.raises(ValueError, match="outside its folder"): save_artifact(tmp_path / "a", {}, {"../evil": {"w": torch.ones(1)}})
    assert not (tmp_path / "evil.safetensors").exists()

@pytest.mark.parametrize("name", ["../../outside.npy", "/etc/hostname"])
def test_reference_csv_paths_cannot_escape(tmp_path, name):
    import pandas as pd
    from genconcept.cortex.data import export_reference_csv, read_reference_csv
    csv = export_reference_csv(_token_ds(tmp_path), "train", tmp_path / "ref", progress=False)
    np.save(tmp_path / "outside.npy", np.zeros((8, 4, 4), dtype=np.float32))
    df = pd.read_csv(csv, dtype=str, keep_default_na=False); df.loc[0, "embedding"] = name; csv.write_text(df.to_csv(index=False))
    with pytest.raises(ValueError, match="points outside its folder"): read_reference_csv(csv)
