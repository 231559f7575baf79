"""End to end: the slider machinery in a real JupyterLab in headless chromium.

Every slider of the course is the same `fm.widgets.SliderView`: a SelectionSlider whose moves reach
the kernel, which sends back a PNG and a readout. What a browser can break (the widget manager, the
comm round trip, the image shown in the page, the keyboard on the slider) is the same for all of
them, so the browser drives one course notebook (02, whose slider is the quickest to run) and one
broken on purpose; what differs between notebooks, the picture drawn at each position, is checked
for every slider notebook under nbval by `view.draw_all()` (tests/test_notebooks.py checks that each
of them calls it). `python3 tasks.py notebook NN` drives notebook NN instead (FM_BROWSER_NOTEBOOK).

The notebook is run up to its last cell that uses a slider (what comes after cannot change the
slider, and nbval runs the whole notebook anyway), without the code cells tagged `slider-skip`
(figures and checks that no slider needs), then every slider is moved with the keyboard.
Skipped (with a message saying how to enable it) when /usr/bin/chromium is missing, except in CI
(CI=true), where a missing browser fails the test.
"""

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from browser import CHROMIUM, check_sliders, lab_server, launch_browser, open_lab

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "tests" / "artifacts"
SLIDER_CALLS = ("time_slider(", "steps_slider(", "SliderView(")

pytestmark = pytest.mark.browser


def _code_cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


SLIDER_NOTEBOOKS = [p.name for p in sorted(NOTEBOOKS.glob("*.ipynb"))
                    if any(call in src for src in _code_cells(p) for call in SLIDER_CALLS)]


def _uses_a_slider(source: str) -> bool:
    return any(call in source for call in SLIDER_CALLS) or "view." in source


SKIP_TAG = "slider-skip"


def cut_after_last_slider(path: Path) -> int:
    """Rewrite the notebook at `path` (a copy) to end with its last code cell that makes or moves a
    slider, without the code cells tagged `slider-skip`; return how many code cells are left."""
    nb = nbformat.read(path, as_version=4)
    last = max(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and _uses_a_slider(c.source))
    nb.cells = [c for c in nb.cells[:last + 1]  # draw_all() is nbval's check of every picture, not the browser's
                if c.cell_type != "code" or (SKIP_TAG not in c.metadata.get("tags", []) and ".draw_all()" not in c.source)]
    nbformat.write(nb, path)
    return sum(c.cell_type == "code" for c in nb.cells)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser test"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must not skip it)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with lab_server(NOTEBOOKS, tmp_path_factory.mktemp("lab")) as (base, token, root):
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            try:
                yield open_lab(browser, base, token), root
            finally:
                browser.close()


def test_the_slider_notebooks_are_found(tmp_path):
    assert {"02_interpolants.ipynb", "05_euler_sampling.ipynb", "06_intermediate_distributions.ipynb"} <= set(SLIDER_NOTEBOOKS)
    shutil.copy(NOTEBOOKS / "05_euler_sampling.ipynb", tmp_path / "05.ipynb")
    kept = cut_after_last_slider(tmp_path / "05.ipynb")
    cells = _code_cells(tmp_path / "05.ipynb")
    assert 0 < kept == len(cells) < len(_code_cells(NOTEBOOKS / "05_euler_sampling.ipynb"))
    assert "steps_slider(" in "".join(cells) and "view.slider.value" in cells[-1]
    assert not any(c.startswith("fig, axes = plt.subplots(1, 6") for c in cells)  # tagged slider-skip
    for name in SLIDER_NOTEBOOKS:  # a skipped cell never makes or moves a slider
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert not any(_uses_a_slider(c.source) for c in nb.cells if SKIP_TAG in c.metadata.get("tags", []))


DRIVEN = [os.environ.get("FM_BROWSER_NOTEBOOK") or "02_interpolants.ipynb"]


@pytest.mark.parametrize("name", DRIVEN)
def test_sliders_work_in_jupyterlab(lab, name):
    page, root = lab
    problems = check_sliders(page, name, cut_after_last_slider(root / name), ARTIFACTS / f"{Path(name).stem}.png")
    assert problems == []


def test_a_broken_slider_is_caught(lab):
    """A slider whose callback raises must make the check fail."""
    page, root = lab
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import fmhelpers as fm, torch\n"
        "from fmhelpers.widgets import time_slider\n"
        "frames = {t: fm.sample_gaussian(100) for t in (0.0, 0.5, 1.0)}\n"
        "def draw(ax, x, t):\n"
        "    if t > 0:\n"
        "        raise RuntimeError('broken on purpose')\n"
        "    fm.plot_samples(x, ax)\n"
        "time_slider(frames, draw)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "zz_broken.ipynb")
    problems = check_sliders(page, "zz_broken.ipynb", 1, ARTIFACTS / "zz_broken.png", timeout_s=60, change_timeout_s=1.5)
    assert any("did not change" in p for p in problems), problems
