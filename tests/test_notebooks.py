"""The notebooks' shape (what a reader and a teacher rely on), and a check that nbval really compares."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["01_problem_setup.ipynb", "02_interpolants.ipynb", "03_conditional_vs_marginal_velocity.ipynb",
         "04_training.ipynb", "05_euler_sampling.ipynb", "06_intermediate_distributions.ipynb"]


def test_the_six_notebooks_and_nothing_else():
    assert sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_anatomy(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for heading in ("**Learning goals.**", "## Setup", "## Summary", "## Exercises"):
        assert heading in markdown, heading
    assert markdown.index("## Summary") < markdown.index("## Exercises")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert max(len(c.source.splitlines()) for c in code) <= 20
    assert sum("fm.exercises.check_" in c.source for c in code) >= 2
    assert "NotImplementedError" in "".join(c.source for c in code) or "Your job" in "".join(c.source for c in code)


@pytest.mark.parametrize("name", NAMES)
def test_committed_executed_in_order_and_clean(name):
    text = (ROOT / "notebooks" / name).read_text()
    nb = json.loads(text)
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))
    assert not re.search(r"/(root|home|tmp|work|Users)/[A-Za-z0-9_.-]+", text)
    assert "Traceback (most recent call last)" not in text and "Error displaying widget" not in text


def test_nbval_fails_when_a_stored_output_is_changed(tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / NAMES[0], as_version=4)
    target = next(c for c in nb.cells if c.cell_type == "code" and "same points as fm.sample_checkerboard" in c.source)
    stream = next(o for o in target.outputs if o.output_type == "stream" and "same points" in o.text)
    assert "True" in stream.text
    stream.text = stream.text.replace("True", "False")
    nbformat.write(nb, tmp_path / "changed.ipynb")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                          str(tmp_path / "changed.ipynb")], cwd=ROOT / "notebooks", capture_output=True, text=True)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 failed" in run.stdout
