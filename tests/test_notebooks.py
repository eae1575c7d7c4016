"""Every notebook under nbs/ is a test: its cells run top to bottom with nbdev's own runner.

Cells flagged with one of the `tst_flags` of pyproject.toml (`notest slow gpu`) are skipped, exactly as
`nbdev-test` skips them; set GENCONCEPT_NB_FLAGS="slow" (space separated) to run such cells too.
nbdev-test prints only "Success."; running the notebooks through pytest gives one result per notebook.
"""
import os
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook  # renamed so pytest does not collect it as a test

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("_"))

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[str(p.relative_to(ROOT / "nbs")) for p in NOTEBOOKS])
def test_notebook(nb):
    cfg = get_config(ROOT)
    skip = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    force = os.environ.get("GENCONCEPT_NB_FLAGS", "").split()
    ok, secs = run_notebook(nb, skip_flags=skip, force_flags=force, basepath=str(ROOT), showerr=True)
    assert ok, f"{nb.name} failed (its traceback is printed above)"

def test_found_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"00_core.ipynb", "01_world.ipynb", "index.ipynb"} <= names

def test_no_imports_in_slow_cells():
    "nbdev-proc-nbs (the docs build) runs every cell that imports, even a `#| slow` one: a slow cell must not import."
    import json, re
    bad = []
    for nb in NOTEBOOKS:
        for c in json.loads(nb.read_text())["cells"]:
            s = "".join(c["source"])
            if c["cell_type"] == "code" and re.match(r"#\| *(slow|gpu)", s) and re.search(r"^\s*(import |from \S+ import )", s, re.M):
                bad.append(f"{nb.name}: {s.splitlines()[1][:60]!r}")
    assert not bad, f"move the imports out of these slow/gpu cells: {bad}"
