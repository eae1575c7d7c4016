"""README.md is kept in step with nbs/index.ipynb (nbdev-readme needs Quarto, which CI lacks)."""
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _code_blocks(md: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```(?:bash|sh)\n(.*?)```", md, flags=re.S)]

def test_readme_setup_commands_match_index():
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text())
    index_md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    readme = (ROOT / "README.md").read_text()
    assert _code_blocks(readme)[:2] == _code_blocks(index_md)[:2]
    assert "genconcept demo" in _code_blocks(readme)[0]
    assert "pytest" in _code_blocks(readme)[1]

def test_ci_runs_the_readme_test_command():
    readme_test = _code_blocks((ROOT / "README.md").read_text())[1].splitlines()[-1].strip()
    assert readme_test in (ROOT / ".ci" / "run").read_text()

def test_ci_runs_the_readme_main_command_and_checks_its_bars():
    readme_main = _code_blocks((ROOT / "README.md").read_text())[0].splitlines()[-1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_main in ci
    out = re.search(r"--out (\S+)", readme_main).group(1)
    assert f"genconcept demo-bars {out}" in ci  # a missed quick-demo bar fails CI

def test_readme_python_examples_match_index():
    "The 'Use it from Python' examples run as code cells of nbs/index.ipynb; the README shows the same code."
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text())
    cells = ["".join(c["source"]).strip() for c in nb["cells"] if c["cell_type"] == "code"]
    examples = [c for c in cells if not c.startswith("#|")]
    readme = [b.strip() for b in re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)]
    assert examples and readme == examples
