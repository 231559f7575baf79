"""The notebooks' shape (what a reader and a teacher rely on), and a check that nbval really compares."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from registry import BY_NAME, NAMES, ROOT, ROWS, checkpoint_script, number

SLIDER_CALLS = ("time_slider(", "steps_slider(", "SliderView(")


def _code(name: str) -> str:
    return "".join(c.source for c in nbformat.read(ROOT / "notebooks" / name, as_version=4).cells
                   if c.cell_type == "code")


def test_the_notebooks_and_nothing_else():
    """notebooks/registry.toml lists every notebook, in order, and nothing else."""
    assert sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) == NAMES == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_the_registry_row_is_what_the_notebook_does(name):
    """Its sliders are the sliders the notebook makes; its checkpoints the files it loads (and each is made
    by the checkpoint script); its benchmark and its solutions file exist."""
    row, code = BY_NAME[name], _code(name)
    assert sum(code.count(call) for call in SLIDER_CALLS) == len(row["sliders"])
    stored = {p.name for p in (ROOT / "notebooks" / "checkpoints").glob("*.pt")}
    assert {f for f in re.findall(r"[a-z_]+\.pt", code) if f in stored} == set(row["checkpoints"])
    made = {r.file for rows in checkpoint_script().CHECKPOINTS.values() for r in rows}
    assert set(row["checkpoints"]) <= made & stored
    assert not row["benchmark"] or (ROOT / "benchmarks" / f"{row['benchmark']}.py").is_file()
    assert (ROOT / "notebooks" / "solutions" / f"solutions_{number(name)}.py").is_file()


@pytest.mark.parametrize("row", checkpoint_script().ROWS, ids=lambda row: row.file)
def test_every_stored_checkpoint_is_what_its_registry_row_makes(row, monkeypatch):
    """The committed file holds the row's network (kind and arguments) and recipe, so that
    `fm.load_or_train` with the row loads it instead of training (any trainer called fails here)."""
    import fmhelpers as fm
    from fmhelpers import checkpoints

    def trained(*args):
        raise AssertionError(f"{row.file} was trained again: the stored network or recipe is not the row's")

    monkeypatch.setattr(checkpoints, "TRAINERS", {key: trained for key in checkpoints.TRAINERS})
    ckpt = fm.load_or_train(ROOT / "notebooks" / "checkpoints" / row.file, row.recipe, model=row.model,
                            config=dict(row.config), progress=False)
    assert ckpt.recipe == row.recipe and fm.models.model_kind(ckpt.model) == row.model


def test_readme_and_teaching_agree_with_the_registry():
    """The README's table links every notebook; each class of TEACHING.md, "## Class k: ... (first-last)",
    teaches notebooks whose registry row says class k, and every class of the registry has its heading."""
    readme = (ROOT / "README.md").read_text()
    teaching = (ROOT / "notebooks" / "TEACHING.md").read_text()
    for name in NAMES:
        assert f"(notebooks/{name})" in readme, name
    headings = re.findall(r"^## Class (\d+): .*\((\d\d)(?:-(\d\d))?\)$", teaching, flags=re.M)
    assert {int(k) for k, _, _ in headings} == {row["class"] for row in ROWS}
    for k, first, last in headings:
        taught = [row for row in ROWS if first <= number(row["file"]) <= (last or first)]
        assert taught and all(row["class"] == int(k) for row in taught), f"class {k} ({first}-{last})"


@pytest.mark.parametrize("name", NAMES)
def test_anatomy(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for heading in ("**Learning goals.**", "## Setup", "## Summary", "## Exercises", "## Further reading"):
        assert heading in markdown, heading
    assert markdown.index("## Summary") < markdown.index("## Exercises") < markdown.index("## Further reading")
    numbered = [int(n) for n in re.findall(r"^## (\d+)\. ", markdown, flags=re.M)]
    assert numbered == list(range(1, len(numbered) + 1)), f"sections numbered {numbered}"
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
    if not BY_NAME[name]["sliders"]:
        return
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert len(images) >= len(BY_NAME[name]["sliders"]), "a slider notebook was saved without its widget state"
    for model in images:
        values = [b for b in model.get("buffers", []) if b["path"] == ["value"]]
        assert values and base64.b64decode(values[0]["data"]).startswith(b"\x89PNG")


@pytest.mark.parametrize("name", NAMES)
def test_every_slider_draws_every_position_under_nbval(name):
    """The browser test drives one notebook; each of the others proves its slider pictures under
    nbval, by a call of `view.draw_all()` (which raises on a picture that fails) for every slider."""
    assert _code(name).count(".draw_all()") >= len(BY_NAME[name]["sliders"])


def _png_width(data: bytes) -> int:
    assert data.startswith(b"\x89PNG"), "not a PNG"
    return int.from_bytes(data[16:20], "big")


@pytest.mark.parametrize("name", NAMES)
def test_figures_fit_a_laptop_screen(name):
    """Inline figures at most 12 inches wide (1250 px at the inline 100 dpi, margins included), and
    slider pictures at most 1000 px, so that neither overflows a notebook column on a laptop."""
    import base64

    nb = json.loads((ROOT / "notebooks" / name).read_text())
    for i, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                assert _png_width(base64.b64decode(png)) <= 1250, f"cell {i}: a figure wider than 12 inches"
    state = nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for model in state.values():
        for buffer in model.get("buffers", []):
            if buffer["path"] == ["value"] and model["model_name"] == "ImageModel":
                assert _png_width(base64.b64decode(buffer["data"])) <= 1000, "a slider picture wider than 1000 px"


def _math_spans(markdown: str) -> list[str]:
    """The inline $...$ spans of a markdown cell, display math and code left out."""
    text = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    return re.findall(r"\$([^$]*)\$", text), text.count("$")


@pytest.mark.parametrize("name", NAMES)
def test_markdown_math_renders(name):
    """Every inline $ has its partner, and no span between two $ is prose (a lost or extra $ makes
    the renderer typeset a sentence as maths: "$ cell ... sliced $")."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        spans, count = _math_spans(cell.source)
        assert count % 2 == 0, f"cell {i}: an odd number of $ outside display maths"
        for span in spans:
            words = re.findall(r"(?<![A-Za-z\\])[A-Za-z]{4,}(?![A-Za-z])", span)
            assert not (len(words) >= 3 and "\\" not in span), f"cell {i}: prose between two $: ${span[:50]}$"


def test_the_math_check_can_fail():
    spans, count = _math_spans("Each $ cell: fraction on a black cell / sliced $ (Euler)")
    assert count == 2 and len(re.findall(r"[A-Za-z]{4,}", spans[0])) >= 3
    assert _math_spans("odd $x$ and $")[1] % 2 == 1
