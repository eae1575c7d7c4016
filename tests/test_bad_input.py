"""Bad input, everywhere a user hands us data: each case must raise a clear error naming the problem.

Table-driven: each row is (id, callable, expected exception type, text the message must contain).
Components add their rows here as they land; the CLI rows check one-line errors and exit status 2.
"""
import json, subprocess, sys
from pathlib import Path
import pytest, torch

from genconcept.core import ConceptSet, Concept, load_artifact, save_artifact, check_binary, get_device, seed_everything, shipped_model_path
from genconcept.world import render_world, WorldSpec, Bias, ConceptShapes, ClassView, image_grid

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
