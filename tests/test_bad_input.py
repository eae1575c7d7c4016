"""Bad input, everywhere a user hands us data: each case must raise a clear error naming the problem.

Table-driven: each row is (id, callable, expected exception type, text the message must contain).
Components add their rows here as they land; the CLI rows check one-line errors and exit status 2.
"""
import json, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch

from genconcept.core import ConceptSet, Concept, load_artifact, save_artifact, check_binary, get_device, seed_everything, shipped_model_path
from genconcept.world import render_world, WorldSpec, Bias, ConceptShapes, ClassView, image_grid
from genconcept.cortex import iem as IEMS, tis as TIS, data as DATA, bias as BIAS
from genconcept.concepts import labelers as LABELERS
from genconcept.cbae import model as CBAEM

CS = ConceptSet([("shape", ("square", "round")), ("colour", ("blue", "red"))])

def _corrupt_folder(tmp_path, kind):
    d = tmp_path / kind
    save_artifact(d, {"a": 1}, {"model": {"w": torch.ones(2)}})
    if kind == "truncated": (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:20])
    if kind == "badjson": (d / "config.json").write_text("{not json")
    if kind == "missing": (d / "model.safetensors").unlink()
    if kind == "escape": (d / "config.json").write_text(json.dumps({"_files": ["../../etc/passwd"]}))
    if kind == "noconfig": (d / "config.json").unlink()
    return d

CASES = [
    ("concept-empty-name", lambda t: Concept("", ("a", "b")), ValueError, "non-empty"),
    ("concept-same-phrases", lambda t: Concept("x", ("a", "a")), ValueError, "two different phrases"),
    ("conceptset-duplicate", lambda t: ConceptSet([("a", ("x", "y")), ("a", ("p", "q"))]), ValueError, "Duplicate"),
    ("conceptset-empty", lambda t: ConceptSet([]), ValueError, "at least one"),
    ("conceptset-unknown-name", lambda t: CS.index("smile"), ValueError, "Unknown concept 'smile'"),
    ("conceptset-index-range", lambda t: CS.index(5), ValueError, "out of range"),
    ("conceptset-unknown-phrase", lambda t: CS.value("colour", "green"), ValueError, "'blue' (0) and 'red' (1)"),
    ("conceptset-value-2", lambda t: CS.value("colour", 2), ValueError, "expected 0 or 1"),
    ("describe-length", lambda t: CS.describe([1]), ValueError, "1 values for 2 concepts"),
    ("binary-float", lambda t: check_binary(0.5), ValueError, "expected 0 or 1"),
    ("seed-negative", lambda t: seed_everything(-1), ValueError, "non-negative"),
    ("device-cuda-missing", lambda t: get_device("cuda") if not torch.cuda.is_available() else (_ for _ in ()).throw(ValueError("CUDA is not available")), ValueError, "CUDA is not available"),
    ("artifact-missing-folder", lambda t: load_artifact(t / "none"), FileNotFoundError, "No artefact folder"),
    ("artifact-no-config", lambda t: load_artifact(_corrupt_folder(t, "noconfig")), FileNotFoundError, "no config.json"),
    ("artifact-bad-json", lambda t: load_artifact(_corrupt_folder(t, "badjson")), ValueError, "not valid JSON"),
    ("artifact-truncated", lambda t: load_artifact(_corrupt_folder(t, "truncated")), ValueError, "corrupt"),
    ("artifact-missing-file", lambda t: load_artifact(_corrupt_folder(t, "missing")), FileNotFoundError, "file is missing"),
    ("artifact-path-escape", lambda t: load_artifact(_corrupt_folder(t, "escape")), ValueError, "outside its folder"),
    ("shipped-unknown", lambda t: shipped_model_path("no_such_model", folder=t), FileNotFoundError, "No shipped model"),
    ("render-wrong-columns", lambda t: render_world(torch.zeros(3, 7)), ValueError, "shape (N, 8)"),
    ("render-1d", lambda t: render_world(torch.zeros(8)), ValueError, "shape (N, 8)"),
    ("render-nonbinary", lambda t: render_world(torch.full((1, 8), 3)), ValueError, "only 0 and 1"),
    ("render-float-fraction", lambda t: render_world(torch.full((1, 8), 0.5)), ValueError, "non-integer"),
    ("render-size-odd", lambda t: render_world(torch.zeros(1, 8), size=30), ValueError, "multiple of 4"),
    ("render-size-tiny", lambda t: render_world(torch.zeros(1, 8), size=8), ValueError, "between 16 and 512"),
    ("render-jitter-shape", lambda t: render_world(torch.zeros(2, 8), jitter=torch.zeros(2, 3)), ValueError, "jitter must have shape"),
    ("spec-prob-high", lambda t: WorldSpec(probs={"colour": 1.5}), ValueError, "probability in [0, 1]"),
    ("spec-prob-nan", lambda t: WorldSpec(probs={"colour": float("nan")}), ValueError, "probability in [0, 1]"),
    ("spec-unknown-concept", lambda t: WorldSpec(probs={"smile": 0.5}), ValueError, "Unknown concept 'smile'"),
    ("bias-self", lambda t: WorldSpec(biases=[Bias("colour", 1, ("colour", 0), 0.9)]), ValueError, "conditioned on itself"),
    ("bias-bad-value", lambda t: WorldSpec(biases=[Bias("colour", "green", ("shape", 1), 0.9)]), ValueError, "'blue' (0) and 'red' (1)"),
    ("bias-bad-p", lambda t: WorldSpec(biases=[Bias("colour", 1, ("shape", 1), 2.0)]), ValueError, "probability"),
    ("spec-sample-negative", lambda t: WorldSpec().sample(-1), ValueError, "non-negative"),
    ("dataset-n-zero", lambda t: ConceptShapes(n=0), ValueError, "positive int"),
    ("dataset-size", lambda t: ConceptShapes(n=2, size=31), ValueError, "multiple of 4"),
    ("dataset-index", lambda t: ConceptShapes(n=2)[5], IndexError, "out of range"),
    ("classview-empty", lambda t: ClassView(()), ValueError, "at least one concept"),
    ("classview-repeat", lambda t: ClassView(("shape", "shape")), ValueError, "repeated concept"),
    ("classview-unknown-class", lambda t: ClassView().label("round green"), ValueError, "Unknown class"),
    ("classview-label-range", lambda t: ClassView().values(9), ValueError, "label must be an int in [0, 4)"),
    ("classview-conditions-range", lambda t: ClassView().conditions([7]), ValueError, "labels must lie in [0, 4)"),
    ("grid-channels", lambda t: image_grid(torch.zeros(2, 1, 8, 8)), ValueError, "(N, 3, H, W)"),
]


# ---- CORTEX, labelers, CB-AE, adapters: helpers that build a small valid object, then break one thing ----

def _iem():
    from genconcept.cortex.iem import make_iem
    torch.manual_seed(0); return make_iem("vgg", 32, 4, stages=((8, 1), (8, 1)), head=(16,)).eval()

def _x(B=2, D=32, H=8, W=8, nan=False):
    x = torch.randn(B, D, H, W)
    if nan: x[0, 0, 0, 0] = float("nan")
    return x

def _tis(**kw):
    from genconcept.cortex.tis import token_importance
    args = dict(model=_iem(), x=_x(), target=torch.tensor([0, 1]), n_samples=2)
    args.update(kw)
    return token_importance(**args)

def _token_ds(t, kind=None):
    "A tiny generated token dataset (4 classes × 2 train samples), then broken as `kind` says; returns its folder."
    from genconcept.cortex.data import ToyTokenGenerator, generate_token_dataset
    from genconcept.world import ClassView
    d = t / "tokens"
    generate_token_dataset(ToyTokenGenerator(), ClassView(("shape", "colour")), d, {"train": 2}, batch_size=8, progress=False)
    ids = d / "train" / "ids.npy"
    if kind == "truncated": ids.write_bytes(ids.read_bytes()[:-10])
    if kind == "missing-ids": ids.unlink()
    if kind == "no-dataset-json": (d / "dataset.json").unlink()
    if kind == "no-codebook": (d / "codebook.safetensors").unlink()
    if kind == "ids-range":
        a = np.load(ids); a[0, 0, 0] = 999; np.save(ids, a)
    if kind == "other-shape": np.save(ids, np.zeros((8, 3, 3), dtype=np.int16))
    return d

def _token_dataset(t, kind=None, **kw):
    from genconcept.cortex.data import TokenDataset
    return TokenDataset(_token_ds(t, kind), kw.pop("split", "train"), **kw)

def _ref_csv(t, kind):
    "Reference layout (`train_embeddings.csv` + train/*.npy) exported from a tiny dataset, then broken."
    import pandas as pd
    from genconcept.cortex.data import export_reference_csv, read_reference_csv
    csv = export_reference_csv(_token_ds(t), "train", t / "ref", progress=False)
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    if kind == "columns": df = df.rename(columns={"indices": "tokens"})
    if kind == "label": df.loc[1, "label"] = "cat"
    if kind == "indices": df.loc[0, "indices"] = "1 2 3"
    if kind == "indices-count": df.loc[0, "indices"] = "[1, 2, 3]"
    if kind == "escape": df.loc[0, "embedding"] = "../../outside.npy"
    if kind == "missing-npy": (csv.parent / "train" / df.embedding[0]).unlink()
    if kind == "pickled-npy": np.save(csv.parent / "train" / df.embedding[0], np.array([{"a": 1}], dtype=object), allow_pickle=True)
    if kind == "garbage": csv.write_bytes(b"\x00\x01not,a\ncsv\x00\"\n\"")
    if kind == "empty": df = df.iloc[:0]
    if kind != "garbage": csv.write_text(df.to_csv(index=False))
    if kind == "badname": csv = csv.rename(csv.parent / "train.csv")
    return read_reference_csv(csv)

def _scores_other_settings(t):
    from genconcept.cortex.iem import SyntheticTokenTask
    from genconcept.cortex.tis import score_dataset
    ds, m = SyntheticTokenTask(n=4, seed=1), _iem()
    score_dataset(m, ds, t / "s", n_samples=1, progress=False)
    return score_dataset(m, ds, t / "s", n_samples=2, progress=False)

def _score_bad_device(t):
    from genconcept.cortex.iem import SyntheticTokenTask
    try: TIS.score_dataset(_iem(), SyntheticTokenTask(n=4, seed=1), t / "s", n_samples=1, progress=False, device="nonsense")
    finally: assert not (t / "s").exists(), "score_dataset wrote its store before checking the device"

def _bias(ids=None, tl=(1, 2), tlp=(3, 4), **kw):
    from genconcept.cortex.bias import detect_bias
    ids = np.random.default_rng(0).integers(0, 8, (10, 4, 4)) if ids is None else ids
    return detect_bias(ids, tl, tlp, n_boot=10, **kw)

def _labeler():
    from genconcept.concepts.labelers import FunctionLabeler
    return FunctionLabeler(lambda x: torch.zeros(len(x), 2, 2), CS)

def _images(B=2, C=3, S=16, nan=False, scale=1.0, dtype=torch.float32):
    x = (torch.rand(B, C, S, S) * scale).to(dtype)
    if nan: x[0, 0, 0, 0] = float("nan")
    return x

def _cbae():
    from genconcept.cbae.model import CBAE
    from genconcept.world import WORLD_CONCEPTS
    torch.manual_seed(0); return CBAE(latent_shape=(16,), concepts=WORLD_CONCEPTS, n_unknown=2, width=16, enc_layers=1, dec_layers=1)

def _saved_classifier(t):
    d = t / "clf"; save_artifact(d, {"cls": "NoSuchNet", "concepts": CS.to_json()}, {"model": {"w": torch.ones(1)}})
    return d

def _not_an_iem(t):
    d = t / "notiem"; d.mkdir(); (d / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel"})); return d

def _stylegan_pickle(t):
    import pickle
    p = t / "G.pkl"; p.write_bytes(pickle.dumps({"G_ema": [1, 2, 3]})); return p

def _adapter(name):
    import genconcept.generators.adapters as A
    return getattr(A, name)

CASES += [
    # IEM
    ("iem-wrong-channels", lambda t: _iem()(_x(D=16)), ValueError, "has 16 channels but this VGGIEM expects in_channels=32"),
    ("iem-nan", lambda t: _iem()(_x(nan=True)), ValueError, "NaN or Inf"),
    ("iem-wrong-grid", lambda t: _iem()(_x(H=4, W=4)), ValueError, "built for grid=(8, 8)"),
    ("iem-single-sample", lambda t: _iem()(_x()[0]), ValueError, "add a batch axis"),
    ("iem-token-ids", lambda t: _iem()(torch.zeros(2, 32, 8, 8, dtype=torch.long)), ValueError, "token ids?"),
    ("iem-unknown-family", lambda t: IEMS.make_iem("resnet", 32, 4), ValueError, "Unknown IEM family 'resnet'"),
    ("iem-bad-override", lambda t: IEMS.make_iem("vgg", 32, 4, depth=3), ValueError, "['depth'] are not arguments of VGGIEM"),
    ("iem-grid-not-divisible", lambda t: IEMS.make_iem("vgg", 32, 4, grid=(6, 6)), ValueError, "not divisible by 2**len(stages)=4"),
    ("iem-load-missing", lambda t: IEMS.load_iem(t / "none"), FileNotFoundError, "No IEM at"),
    ("iem-load-not-iem", lambda t: IEMS.load_iem(_not_an_iem(t)), ValueError, "describes a 'UNet2DModel', not an IEM"),
    ("iem-train-empty", lambda t: IEMS.train_iem(_iem(), [], [], epochs=1), ValueError, "train_ds is empty"),
    ("iem-train-channels", lambda t: IEMS.train_iem(
        _iem(), IEMS.SyntheticTokenTask(n=4, dim=16), [], epochs=1), ValueError, "D=16 channels but the model expects in_channels=32"),
    ("synthetic-codebook-small", lambda t: IEMS.SyntheticTokenTask(codebook_size=8, n_classes=4, ids_per_class=2), ValueError, "must exceed n_classes*ids_per_class=8"),
    # token_importance / TIS
    ("tis-target-range", lambda t: _tis(target=torch.tensor([0, 4])), ValueError, "n_classes=4 (valid: 0..3)"),
    ("tis-target-negative", lambda t: _tis(target=-1), ValueError, "n_classes=4 (valid: 0..3)"),
    ("tis-nan", lambda t: _tis(x=_x(nan=True)), ValueError, "NaN or Inf"),
    ("tis-channels", lambda t: _tis(x=_x(D=8)), ValueError, "x has 8 channels but the model expects in_channels=32"),
    ("tis-empty-batch", lambda t: _tis(x=_x(B=0), target=torch.zeros(0, dtype=torch.long)), ValueError, "empty batch (B=0)"),
    ("tis-target-shape", lambda t: _tis(target=torch.tensor([0, 1, 2])), ValueError, "one class index or one per sample, shape (2,)"),
    ("tis-target-fraction", lambda t: _tis(target=torch.tensor([0.5, 1.0])), ValueError, "integer class indices"),
    ("tis-n-samples", lambda t: _tis(n_samples=0), ValueError, "n_samples must be an int >= 1"),
    ("tis-noise-level", lambda t: _tis(noise_level=float("nan")), ValueError, "noise_level must be a finite number >= 0"),
    ("tis-noise-range", lambda t: _tis(noise_range="global"), ValueError, "noise_range must be 'batch' (reference) or 'sample'"),
    ("tis-reduce", lambda t: _tis(reduce="l1"), ValueError, "reduce must be 'max', 'mean'"),
    ("tis-baseline-shape", lambda t: _tis(baseline=torch.zeros(3)), ValueError, "baseline must be"),
    ("tis-sample-seeds", lambda t: _tis(sample_seeds=[1]), ValueError, "one seed per sample (2), got 1"),
    ("tis-top-positions", lambda t: TIS.top_positions(torch.zeros(2, 4, 4), 17), ValueError, "between 1 and the 16 grid positions"),
    ("tis-load-missing", lambda t: TIS.load_scores(t / "none"), FileNotFoundError, "No TIS scores at"),
    ("tis-resume-other-settings", lambda t: _scores_other_settings(t), ValueError, "other settings {'n_samples': (1, 2)}"),
    ("tis-dataset-empty", lambda t: TIS.score_dataset(_iem(), [], t / "s"), ValueError, "dataset is empty"),
    # TokenDataset
    ("tokens-codebook-mismatch", lambda t: _token_dataset(t, codebook=torch.zeros(16, 8)), ValueError, "codebook has shape (16, 8) but"),
    ("tokens-missing-folder", lambda t: DATA.TokenDataset(t / "none", "train"), FileNotFoundError, "No dataset folder at"),
    ("tokens-no-dataset-json", lambda t: _token_dataset(t, "no-dataset-json"), FileNotFoundError, "has no dataset.json"),
    ("tokens-missing-ids", lambda t: _token_dataset(t, "missing-ids"), FileNotFoundError, "ids.npy is missing"),
    ("tokens-truncated", lambda t: _token_dataset(t, "truncated"), ValueError, "is truncated"),
    ("tokens-other-shape", lambda t: _token_dataset(t, "other-shape"), ValueError, "the folder mixes files of different runs"),
    ("tokens-ids-range", lambda t: _token_dataset(t, "ids-range"), ValueError, "outside the codebook's [0, 32)"),
    ("tokens-no-codebook", lambda t: _token_dataset(t, "no-codebook"), FileNotFoundError, "codebook.safetensors is missing"),
    ("tokens-unknown-split", lambda t: _token_dataset(t, split="val"), ValueError, "has no split 'val'; it has: ['train']"),
    ("tokens-index", lambda t: _token_dataset(t)[8], IndexError, "index 8 out of range"),
    # reference CSV
    ("refcsv-missing", lambda t: DATA.read_reference_csv(t / "none_embeddings.csv"), FileNotFoundError, "No reference CSV"),
    ("refcsv-columns", lambda t: _ref_csv(t, "columns"), ValueError, "must have the columns embedding,label,indices"),
    ("refcsv-label", lambda t: _ref_csv(t, "label"), ValueError, "row 2: label 'cat' is not an integer"),
    ("refcsv-indices", lambda t: _ref_csv(t, "indices"), ValueError, "row 1: indices '1 2 3' is not a quoted list of ints"),
    ("refcsv-indices-count", lambda t: _ref_csv(t, "indices-count"), ValueError, "row 1: 3 indices for a 4×4 token grid"),
    ("refcsv-escape", lambda t: _ref_csv(t, "escape"), ValueError, "points outside its folder"),
    ("refcsv-missing-npy", lambda t: _ref_csv(t, "missing-npy"), FileNotFoundError, "row 1: embedding file"),
    ("refcsv-pickled-npy", lambda t: _ref_csv(t, "pickled-npy"), ValueError, "not a readable .npy array"),
    ("refcsv-empty", lambda t: _ref_csv(t, "empty"), ValueError, "has no rows"),
    ("refcsv-name", lambda t: _ref_csv(t, "badname"), ValueError, "is not named <split>_embeddings.csv"),
    # bias
    ("bias-empty-neutral", lambda t: _bias(ids=np.zeros((0, 4, 4), dtype=np.int64)), ValueError, "neutral_ids is empty"),
    ("bias-set-sizes", lambda t: _bias(tlp=(3, 4, 5)), ValueError, "tokens_L has 2 distinct ids but tokens_Lprime has 3"),
    ("bias-overlap", lambda t: _bias(tlp=(2, 3)), ValueError, "share 1 id(s) [2]"),
    ("bias-empty-set", lambda t: _bias(tl=()), ValueError, "tokens_L is empty"),
    ("bias-codebook-range", lambda t: _bias(codebook_size=4), ValueError, "outside the codebook's [0, 4)"),
    ("bias-float-ids", lambda t: _bias(ids=np.zeros((3, 4, 4))), ValueError, "must hold integer token ids"),
    ("bias-overlap-mode", lambda t: _bias(overlap="merge"), ValueError, "overlap must be 'error', 'drop' or 'keep'"),
    ("cliffs-empty", lambda t: BIAS.cliffs_delta([], [1, 2]), ValueError, "x is empty"),
    ("cliffs-nan", lambda t: BIAS.cliffs_delta([1.0, float("nan")], [1, 2]), ValueError, "x holds NaN"),
    ("cliffs-2d", lambda t: BIAS.cliffs_delta([1, 2], np.zeros((2, 2))), ValueError, "y must be 1-D"),
    ("bias-test-ci", lambda t: BIAS.bias_test([1, 2], [2, 3], ci=95), ValueError, "ci must lie in (0, 1)"),
    # labelers
    ("labeler-channels", lambda t: _labeler()(_images(C=1)), ValueError, "must have 3 (RGB) channels in dim 1, got 1"),
    ("labeler-nan", lambda t: _labeler()(_images(nan=True)), ValueError, "contains NaN or Inf"),
    ("labeler-range", lambda t: _labeler()(_images(scale=255.0)), ValueError, "must hold values in [0, 1]"),
    ("labeler-uint8", lambda t: _labeler().predict(_images(scale=255.0, dtype=torch.uint8)), ValueError, "for uint8 images use images.float() / 255"),
    ("labeler-3d", lambda t: _labeler()(_images()[0]), ValueError, "add a batch dimension"),
    ("labeler-bad-output", lambda t: LABELERS.FunctionLabeler(lambda x: torch.zeros(len(x), 3), CS)(_images()), ValueError, "must return logits of shape (2, 2, 2)"),
    ("labeler-unknown-class", lambda t: LABELERS.load_concept_classifier(_saved_classifier(t)), ValueError, "'NoSuchNet', which is not a known concept classifier"),
    # CB-AE
    ("cbae-unknown-concept", lambda t: _cbae().intervene(torch.randn(2, 16), {"smile": 1}), ValueError, "Unknown concept 'smile'"),
    ("cbae-bad-value", lambda t: _cbae().intervene(torch.randn(2, 16), {"colour": "green"}), ValueError, "'blue' (0) and 'red' (1)"),
    ("cbae-value-2", lambda t: _cbae().intervene(torch.randn(2, 16), {"colour": 2}), ValueError, "expected 0 or 1"),
    ("cbae-wrong-h", lambda t: _cbae().intervene(torch.randn(2, 12), {"colour": 1}), ValueError, "h has shape (2, 12), but this CB-AE expects (B, *(16,))"),
    ("cbae-empty-edits", lambda t: _cbae().intervene(torch.randn(2, 16), {}), ValueError, "edits is empty"),
    ("cbae-bad-c", lambda t: _cbae().decode(torch.randn(2, 5)), ValueError, "expected (B, 18) = 2·8 concepts + 2 unknown"),
    ("cbae-n-unknown", lambda t: CBAEM.CBAE(latent_shape=(16,), n_unknown=-1), ValueError, "n_unknown must be a non-negative int"),
    # generator adapters
    ("adapter-vq-missing-folder", lambda t: _adapter("DiffusersVQGenerator").from_pretrained(t / "none"), FileNotFoundError, "genconcept never downloads"),
    ("adapter-folder-no-config", lambda t: (t / "empty").mkdir() or _adapter("DiffusersVQGenerator").from_pretrained(t / "empty"), FileNotFoundError, "expected config.json and diffusion_pytorch_model.safetensors"),
    ("adapter-ddpm-missing-folder", lambda t: _adapter("DiffusersDDPMGenerator").from_pretrained(t / "none"), FileNotFoundError, "expected unet/ (config.json + diffusion_pytorch_model.safetensors)"),
    ("adapter-bad-json", lambda t: (t / "c.json").write_text("{oops") and _adapter("read_json")(t / "c.json"), ValueError, "is not valid JSON"),
    ("stylegan-untrusted", lambda t: _adapter("load_stylegan_pickle")(_stylegan_pickle(t)), ValueError, "refusing to unpickle"),
    ("stylegan-missing", lambda t: _adapter("load_stylegan_pickle")(t / "G.pkl", trust=True), FileNotFoundError, "no StyleGAN pickle at"),
    ("stylegan-state-missing", lambda t: _adapter("load_stylegan_state_dict")(torch.nn.Linear(1, 1), t / "w.safetensors"), FileNotFoundError, "no weights file at"),
    ("generator-protocol", lambda t: _adapter("check_generator")(object()), ValueError, "fits no generator protocol"),
    # more shapes of the same mistakes
    ("refcsv-garbage", lambda t: _ref_csv(t, "garbage"), ValueError, "is not a readable CSV"),
    ("tokens-bad-json", lambda t: (_token_ds(t) / "dataset.json").write_text("{x") and _token_dataset_at(t), ValueError, "dataset.json is not valid JSON"),
    ("tokens-string-index", lambda t: _token_dataset(t)["0"], TypeError, "index must be an int, got str"),
    ("tis-model-output", lambda t: _tis(model=torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 64, 4), torch.nn.Unflatten(1, (2, 2)))), ValueError, "the model must return logits (B, n_classes)"),
    ("tis-dataset-items", lambda t: TIS.score_dataset(_iem(), [{"embedding": torch.zeros(32, 8, 8)}], t / "s"), ValueError, "dicts with 'embedding' (D, H, W) and 'label'"),
    ("tis-score-bad-device", lambda t: _score_bad_device(t), ValueError, "device='nonsense' is not a device torch knows"),
    ("iem-train-tuples", lambda t: IEMS.train_iem(_iem(), [(torch.zeros(32, 8, 8), 0)], [], epochs=1), ValueError, "items must be dicts with 'embedding' (D, H, W) and 'label' (int), got tuple"),
    ("bias-1d-neutral", lambda t: _bias(ids=np.arange(5)), ValueError, "neutral_ids must have shape (N, h, w), got (5,)"),
    ("cliffs-strings", lambda t: BIAS.cliffs_delta(["a", "b"], [1, 2]), ValueError, "x must be numeric"),
    ("cbae-int-h", lambda t: _cbae().encode(torch.zeros(2, 16, dtype=torch.long)), ValueError, "h must be a float tensor"),
]

def _token_dataset_at(t):
    from genconcept.cortex.data import TokenDataset
    return TokenDataset(t / "tokens", "train")

@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, tmp_path):
    _, f, exc, text = case
    with pytest.raises(exc) as info: f(tmp_path)
    assert text in str(info.value), f"message {info.value!r} does not name the problem ({text!r})"

CLI_CASES = [
    ("world-bad-fix", ["world", "--fix", "colour=green"], "'blue' (0) and 'red' (1)"),
    ("world-fix-syntax", ["world", "--fix", "colour"], "NAME=VALUE"),
    ("world-bad-size", ["world", "--size", "30"], "multiple of 4"),
    ("world-zero-n", ["world", "--n", "0"], "positive int"),
    ("world-unknown-concept", ["world", "--fix", "smile=1"], "Unknown concept 'smile'"),
]

@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input(case, tmp_path):
    _, args, text = case
    if "--out" not in args: args = args + ["--out", str(tmp_path / "x.png")]
    r = subprocess.run([sys.executable, "-c", "from genconcept.cli import console_main; console_main()", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and text in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr

# ---- CLI step commands (genconcept token-data / train-iem / tis / tis-analysis / bias) with bad paths and values ----
# Run in-process through `genconcept.cli.main` (exit status and the one-line stderr are what `console_main` prints);
# one row also runs as a real console process below.

def _neutral_npy(t):
    p = t / "neutral.npy"; np.save(p, np.random.default_rng(0).integers(0, 8, (6, 4, 4))); return str(p)

CLI_STEP_CASES = [
    ("token-data-bad-vq", lambda t: ["token-data", str(t / "out"), "--vq", str(t / "novq")], "vq_tokenizer has no config.json"),
    ("train-iem-missing-data", lambda t: ["train-iem", str(t / "none"), str(t / "iem")], "No dataset folder at"),
    ("train-iem-missing-split", lambda t: ["train-iem", str(_token_ds(t)), str(t / "iem")], "has no split 'val'"),
    ("tis-missing-data", lambda t: ["tis", str(t / "none"), str(t / "iem"), str(t / "scores")], "No dataset folder at"),
    ("tis-missing-iem", lambda t: ["tis", str(_token_ds(t)), str(t / "iem"), str(t / "scores")], "No IEM at"),
    ("tis-unknown-split", lambda t: ["tis", str(_token_ds(t)), str(t / "iem"), str(t / "scores"), "--split", "test"], "has no split 'test'"),
    ("tis-analysis-missing-scores", lambda t: ["tis-analysis", str(_token_ds(t)), str(t / "scores"), str(t / "r.csv")], "No TIS scores at"),
    ("bias-missing-neutral", lambda t: ["bias", str(t / "none.npy"), "1,2", "3,4"], "No token ids at"),
    ("bias-bad-token-spec", lambda t: ["bias", _neutral_npy(t), "1;2", "3,4"], "give comma-separated ids like 3,17,42"),
    ("bias-unequal-sets", lambda t: ["bias", _neutral_npy(t), "1,2", "3,4,5"], "tokens_L has 2 distinct ids but tokens_Lprime has 3"),
    ("bias-codebook-range", lambda t: ["bias", _neutral_npy(t), "1,2", "3,4", "--codebook-size", "4"], "outside the codebook's [0, 4)"),
    ("bias-pickled-neutral", lambda t: ["bias", _pickled_npy(t), "1,2", "3,4"], "allow_pickle=False"),
]

def _pickled_npy(t):
    p = t / "neutral.npy"; np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True); return str(p)

@pytest.mark.parametrize("case", CLI_STEP_CASES, ids=[c[0] for c in CLI_STEP_CASES])
def test_cli_step_bad_input(case, tmp_path, capsys):
    from genconcept.cli import main
    _, args, text = case
    argv = args(tmp_path)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and text in err, err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"genconcept {argv[0]}: error: "), err

def test_cli_step_bad_input_console(tmp_path):
    "The same, through a real `genconcept` process: exit status 2 and one line on stderr."
    r = subprocess.run([sys.executable, "-c", "from genconcept.cli import console_main; console_main()", "bias", str(tmp_path / "none.npy"), "1,2", "3,4"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "No token ids at" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr

# ---- `genconcept codebook` (codebook-level optimisation) with bad values: checked before any VQ or judge is loaded ----

def _toy_iem(t, n_classes=4):
    "An untrained IEM folder fitting `_token_ds` (ToyTokenGenerator: D=8, 4×4 grid) but with `n_classes` classes."
    from genconcept.cortex.iem import make_iem, save_iem
    save_iem(make_iem("vgg", 8, n_classes, grid=(4, 4), stages=((8, 1),), head=(8,)), t / "iem"); return str(t / "iem")

CLI_CODEBOOK_CASES = [
    ("codebook-unknown-target", lambda t: ["codebook", str(_token_ds(t)), _toy_iem(t), str(t / "out"), "--split", "train", "--target", "triangle"],
     "unknown target class 'triangle'"),
    ("codebook-zero-n", lambda t: ["codebook", str(t / "none"), str(t / "iem"), str(t / "out"), "--target", "0", "--n", "0"], "--n must be a positive int"),
    ("codebook-iem-classes", lambda t: ["codebook", str(_token_ds(t)), _toy_iem(t, 3), str(t / "out"), "--split", "train", "--target", "0"],
     "has 3 classes but"),
]

@pytest.mark.parametrize("case", CLI_CODEBOOK_CASES, ids=[c[0] for c in CLI_CODEBOOK_CASES])
def test_cli_codebook_bad_input(case, tmp_path, capsys):
    test_cli_step_bad_input(case, tmp_path, capsys)

# ---- latent-wing CLI steps (genconcept train-cbae / train-cc / eval-intervention) with bad paths and values ----
# Each is refused before any training starts; in-process through `genconcept.cli.main`, as the CLI step cases above.

def _busy_out(t):
    p = t / "busy"; p.mkdir(); (p / "notes.txt").write_text("mine"); return str(p)

def _any_pkl(t):
    p = t / "g.pkl"; p.write_bytes(b"not unpickled"); return str(p)

CLI_LATENT_CASES = [
    ("train-cbae-missing-generator", lambda t: ["train-cbae", "--out", str(t / "o"), "--generator", str(t / "none")], "No generator at"),
    ("train-cbae-untrusted-pickle", lambda t: ["train-cbae", "--out", str(t / "o"), "--generator", _any_pkl(t)], "refusing to unpickle"),
    ("train-cbae-unknown-concept", lambda t: ["train-cbae", "--out", str(t / "o"), "--concepts", "smile"], "Unknown concept(s) ['smile']"),
    ("train-cbae-zero-steps", lambda t: ["train-cbae", "--out", str(t / "o"), "--steps", "0"], "--steps must be a positive int"),
    ("train-cbae-busy-out", lambda t: ["train-cbae", "--out", _busy_out(t)], "already holds other files (notes.txt)"),
    ("train-cbae-bad-kind", lambda t: ["train-cbae", "--out", str(t / "o"), "--kind", "vae"], "--kind must be auto, gan or ddpm"),
    ("train-cc-missing-labeler", lambda t: ["train-cc", "--out", str(t / "o"), "--labeler", str(t / "none")], "No pseudo-labeler at"),
    ("train-cc-missing-judge", lambda t: ["train-cc", "--out", str(t / "o"), "--judge", str(t / "none")], "No judge at"),
    ("train-cc-batch-1", lambda t: ["train-cc", "--out", str(t / "o"), "--batch-size", "1"], "--batch-size must be an int ≥ 2"),
    ("eval-unknown-method", lambda t: ["eval-intervention", "--method", "magic"], "Unknown method(s) ['magic']: choose from swap, cbae-optim, cc-optim, linear"),
    ("eval-zero-n", lambda t: ["eval-intervention", "--cbae", str(t / "cb"), "--n", "0"], "--n must be an int ≥ 2"),
    ("eval-missing-cbae", lambda t: ["eval-intervention", "--cbae", str(t / "none")], "No CB-AE at"),
    ("eval-cc-optim-without-cc", lambda t: ["eval-intervention", "--cbae", str(t / "cb"), "--method", "cc-optim"], "--method cc-optim needs --cc FOLDER"),
    ("eval-nothing", lambda t: ["eval-intervention"], "Nothing to evaluate"),
]

@pytest.mark.parametrize("case", CLI_LATENT_CASES, ids=[c[0] for c in CLI_LATENT_CASES])
def test_cli_latent_bad_input(case, tmp_path, capsys):
    test_cli_step_bad_input(case, tmp_path, capsys)
    assert not (tmp_path / "o").exists()  # nothing written

# ---- --device values torch cannot parse, or devices this machine lacks: one line naming the value, exit status 2 ----

CLI_DEVICE_CASES = [
    ("demo-device-nonsense", "nonsense", "device='nonsense' is not a device torch knows: use cpu, cuda, cuda:N or mps"),
    ("demo-device-bad-index", "cuda:x", "device='cuda:x' is not a device torch knows"),
    ("demo-device-missing-gpu", "cuda:99", "device='cuda:99' was requested but"),  # no CUDA here, or fewer than 100 GPUs
]

@pytest.mark.parametrize("case", CLI_DEVICE_CASES, ids=[c[0] for c in CLI_DEVICE_CASES])
def test_cli_bad_device(case, tmp_path):
    _, device, text = case
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "-c", "from genconcept.cli import console_main; console_main()",
                        "demo", "--quick", "--device", device, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and text in r.stderr, r.stderr[-2000:]
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("genconcept demo: error: "), r.stderr[-2000:]

# ---- no exception swallowed: only the expected one is caught, anything else propagates ----

def test_split_arrays_maskless_split(tmp_path):
    "A split without masks has no concepts: `split_arrays` leaves the key out (its KeyError is the one expected)."
    from genconcept.cortex.tokens import split_arrays
    a = split_arrays(_token_dataset(tmp_path))
    assert "concepts" not in a and "masks" not in a and {"ids", "labels", "images", "codebook"} <= set(a)

def test_split_arrays_other_errors_propagate():
    from genconcept.cortex.tokens import split_arrays
    class Broken:
        ids, labels = np.zeros((2, 4, 4), dtype=np.int64), np.zeros(2, dtype=np.int64)
        @property
        def images(self): raise RuntimeError("disk gone")
    with pytest.raises(RuntimeError, match="disk gone"): split_arrays(Broken())

def test_corrupt_codebook_file_is_rewritten(tmp_path):
    "An unreadable codebook.safetensors left in an out_dir is replaced (its SafetensorError is the one expected)."
    from safetensors.torch import load_file
    from genconcept.cortex.data import _save_codebook
    (tmp_path / "codebook.safetensors").write_bytes(b"truncated")
    cb = torch.randn(8, 4); _save_codebook(tmp_path, cb)
    assert torch.equal(load_file(str(tmp_path / "codebook.safetensors"))["codebook"], cb)
