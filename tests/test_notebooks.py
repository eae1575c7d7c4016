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
