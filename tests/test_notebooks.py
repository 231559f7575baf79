"""The notebooks' shape (what a reader and a teacher rely on), and a check that nbval really compares."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMES = [
    "01_problem_setup.ipynb",
    "02_interpolants.ipynb",
    "03_conditional_vs_marginal_velocity.ipynb",
    "04_training.ipynb",
    "05_euler_sampling.ipynb",
    "06_intermediate_distributions.ipynb",
    "07_straight_paths.ipynb",
    "08_one_step.ipynb",
    "09_likelihood_and_score.ipynb",
    "10_guidance.ipynb",
]
SLIDER_CALLS = ("time_slider(", "steps_slider(", "SliderView(")


def test_the_notebooks_and_nothing_else():
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
def test_markdown_has_no_control_characters(name):
    """A LaTeX command written in a non-raw Python string loses its backslash: "\\times" becomes a tab
    and "imes". Tabs and other control characters in markdown are always such an accident."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            bad = re.search(r"[\x00-\x09\x0b-\x1f\x7f]", cell.source)
            assert bad is None, f"cell {i}: control character {bad.group()!r} near {cell.source[max(0, bad.start() - 20):bad.start() + 10]!r}"


@pytest.mark.parametrize("name", NAMES)
def test_committed_executed_in_order_and_clean(name):
    text = (ROOT / "notebooks" / name).read_text()
    nb = json.loads(text)
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))
    assert not re.search(r"/(root|home|tmp|work|Users)/[A-Za-z0-9_.-]+", text)
    assert "Traceback (most recent call last)" not in text and "Error displaying widget" not in text


def test_nbval_compares_stored_outputs(tmp_path):
    """On a tiny notebook (not a course notebook, to keep it fast), run as the test command runs
    nbval: a stored output that matches passes, a sanitised memory address passes, and a stored
    output that was changed fails."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [("print(2 + 2)", "4\n"), ("print(object())", "<object object at 0x7f00deadbeef>\n"),
             ("print('sum', sum(range(5)))", "sum 11\n")]  # the last stored output is wrong: 0+1+2+3+4 = 10
    for i, (source, text) in enumerate(cells, start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=i)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "tiny.ipynb",
                          "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg")],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 failed, 2 passed" in run.stdout and "Cell 2: Cell outputs differ" in run.stdout, run.stdout[-2000:]
    assert "deprecated" not in run.stdout.lower()


@pytest.mark.parametrize("name", NAMES)
def test_saved_slider_shows_a_picture(name):
    """A reader on GitHub or nbviewer sees the widget state saved with the notebook: every slider's
    image must hold a real PNG there, not an empty value."""
    import base64

    nb = json.loads((ROOT / "notebooks" / name).read_text())
    has_slider = any("_slider(" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    if not has_slider:
        return
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert images, "a slider notebook was saved without its widget state"
    for model in images:
        values = [b for b in model.get("buffers", []) if b["path"] == ["value"]]
        assert values and base64.b64decode(values[0]["data"]).startswith(b"\x89PNG")


@pytest.mark.parametrize("name", NAMES)
def test_every_slider_draws_every_position_under_nbval(name):
    """The browser test drives one notebook; each of the others proves its slider pictures under
    nbval, by a call of `view.draw_all()` (which raises on a picture that fails) for every slider."""
    code = "".join(c.source for c in nbformat.read(ROOT / "notebooks" / name, as_version=4).cells
                   if c.cell_type == "code")
    made = sum(code.count(call) for call in SLIDER_CALLS)
    assert code.count(".draw_all()") >= made
