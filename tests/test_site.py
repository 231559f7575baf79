"""End to end: the course's website, built as `python3 tasks.py site` builds it, opened page by page in chromium.

The site is built into pytest's tmp_path with the website's environment (.venv-site) and served by
Python's http.server on 127.0.0.1; every request the browser makes outside that server is refused.
Every page (each notebook, TEACHING, INSTALL, the landing page, search and index) must then

  - load with no console error, no failed request (a refused one included) and no HTTP error;
  - decode every image;
  - show no raw `$` outside code (MathJax, served from the site, typeset the math) and no TeX error;
  - link only to pages, files and anchors that exist in the site;

every notebook that makes a slider must show it as a range input (the HTML rendering that
fmhelpers.widgets.SliderView stores beside its widget), and on the first page of each kind of slider
(time_slider, steps_slider, a SliderView of its own) moving it with the keyboard must change the picture
and the readout.

It needs .venv-site and chromium, so it is not part of the test command (where it is skipped, saying so):
building .venv-site takes about 70 s and this test 1.5 to 2 minutes on two busy cores (the build 10 to 15 s
of it), past the test command's budget. `python3 tasks.py site --test` runs it (.ci/run does, right after the test command); there
(FM_SITE_TEST=1) a missing browser or environment fails it instead of skipping it.
FM_SITE_SCREENSHOTS=DIR also writes a full-page screenshot, 1280 px wide, of each slider page into DIR.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from browser import CHROMIUM, launch_browser
from registry import ROWS

ROOT = Path(__file__).resolve().parents[1]
SLIDER_KINDS = ("time_slider(", "steps_slider(", "SliderView(")

pytestmark = pytest.mark.site
if not os.environ.get("FM_SITE_TEST"):
    pytest.skip("the site's browser test runs with `python3 tasks.py site --test` (.ci/run runs it after the test "
                "command): it needs .venv-site, which the test command does not build", allow_module_level=True)

# Text nodes under the page's article that still hold a `$` once MathJax is done, outside code and outputs
# of plain text; and the TeX errors MathJax shows in place of a formula.
RAW_MATH = """() => {
  const skip = "pre, code, script, style, mjx-container, .highlight, .output.stream, .output.text_plain";
  const walker = document.createTreeWalker(document.querySelector("article") || document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.includes("$") && !node.parentElement.closest(skip)) { found.push(node.textContent.trim().slice(0, 80)); }
  }
  return {raw: found, errors: document.querySelectorAll("mjx-merror").length, typeset: document.querySelectorAll("mjx-container").length};
}"""
BROKEN_IMAGES = """async () => {
  const results = await Promise.all(Array.from(document.images).map(
    (img) => img.decode().then(() => (img.naturalWidth > 0 ? null : img.src.slice(0, 80)), () => img.src.slice(0, 80))));
  return [document.images.length, results.filter((r) => r !== null)];
}"""


def _kind(path: Path) -> str | None:
    """Which kind of slider a notebook makes first (one of SLIDER_KINDS), or None."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            calls = [(cell.source.find(k), k) for k in SLIDER_KINDS if k in cell.source]
            if calls:
                return min(calls)[1]
    return None


# the notebooks with a slider are the registry's (tests/test_notebooks.py checks the rows against the code)
SLIDER_PAGES = {Path(row["file"]).stem: _kind(ROOT / "notebooks" / row["file"]) for row in ROWS if row["sliders"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serve(folder: Path):
    """Python's static file server on 127.0.0.1 for `folder`; yields its base URL; always stops it."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory",
                             str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/index.html", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the static server did not answer within 30 s")
                time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(folder, base URL, browser) for the site built from the stored outputs."""
    python = os.environ.get("FM_SITE_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail(f"FM_SITE_PYTHON={python!r} is not the website environment's Python (.venv-site)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    out = tmp_path_factory.mktemp("site") / "site"
    started = time.perf_counter()
    done = subprocess.run([python, str(ROOT / "scripts" / "site.py"), "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, f"the site's build failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    print(f"site built in {time.perf_counter() - started:.1f} s")
    from playwright.sync_api import sync_playwright

    with _serve(out) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            yield out, base, browser
        finally:
            browser.close()


def _open(browser, base: str, url: str):
    """A new page at `url`, every request outside `base` refused; returns (context, page, problems)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base + "/")
                  else route.abort())
    page = context.new_page()
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url[:120]} ({req.failure})"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url[:120]}") if r.status >= 400 else None)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)")
    page.evaluate("() => window.MathJax ? window.MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    return context, page, problems


def _target(site_dir: Path, base: str, href: str) -> tuple[Path, str] | None:
    """(file, fragment) that a link inside the site points to, or None for a link elsewhere."""
    if not href.startswith(base + "/"):
        return None
    parsed = urllib.parse.urlsplit(href)
    path = site_dir / urllib.parse.unquote(parsed.path).lstrip("/")
    if path.is_dir():
        path = path / "index.html"
    return path, parsed.fragment


def _pages(site_dir: Path) -> list[str]:
    return sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html") if "_static" not in p.parts)


def test_the_site_has_every_notebook_and_the_teachers_pages(site):
    site_dir, _, _ = site
    pages = _pages(site_dir)
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"notebooks/{path.stem}.html" in pages
        assert list(site_dir.glob(f"_downloads/*/{path.name}")), f"{path.name} is not offered for download"
    assert {"index.html", "notebooks/TEACHING.html", "INSTALL.html"} <= set(pages)
    assert not any("solutions" in p for p in pages), "the worked solutions are published only with --solutions"
    index = (site_dir / "index.html").read_text()
    text = re.sub(r"<[^>]+>", "", index)
    assert "python3 tasks.py lab" in text and "python3 tasks.py test" in text  # the two commands
    assert index.count('href="notebooks/') >= 2 * len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))


def test_every_page_loads_from_the_site_alone_with_math_images_and_links(site):
    site_dir, base, browser = site
    failures, math_pages = [], 0
    for name in _pages(site_dir):
        context, page, problems = _open(browser, base, f"{base}/{name}")
        try:
            count, broken = page.evaluate(BROKEN_IMAGES)
            problems += [f"image does not decode: {src}" for src in broken]
            math = page.evaluate(RAW_MATH)
            problems += [f"raw math left: {text!r}" for text in math["raw"]]
            if math["errors"]:
                problems.append(f"{math['errors']} TeX errors shown")
            math_pages += math["typeset"] > 0
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                target = _target(site_dir, base, href)
                if target is None:
                    continue
                path, fragment = target
                if not path.is_file():
                    problems.append(f"link to a missing file: {href}")
                elif fragment and path.suffix == ".html" and f'id="{fragment}"' not in path.read_text():
                    problems.append(f"link to a missing anchor: {href}")
        finally:
            context.close()
        failures += [f"{name}: {p}" for p in dict.fromkeys(problems)]
    assert not failures, "\n".join(failures[:40])
    assert math_pages >= 11, f"MathJax typeset math on only {math_pages} pages"


@pytest.mark.parametrize("stem", list(SLIDER_PAGES))
def test_every_slider_notebook_shows_its_slider_as_a_range_input(site, stem):
    site_dir, base, browser = site
    context, page, problems = _open(browser, base, f"{base}/notebooks/{stem}.html")
    try:
        count = page.locator(".fm-slider input[type=range]").count()
        assert count >= 1, (f"{stem}: no slider on the page; its stored output has no HTML rendering: re-execute the "
                            f"notebook (python3 tasks.py execute {stem[:2]}) so that SliderView stores it")
        folder = os.environ.get("FM_SITE_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{stem}.png"), full_page=True)
    finally:
        context.close()
    assert not problems, problems


FIRST_OF_EACH_KIND = {kind: stem for stem, kind in reversed(list(SLIDER_PAGES.items()))}


@pytest.mark.parametrize("kind", SLIDER_KINDS)
def test_moving_a_slider_changes_the_picture(site, kind):
    """On the first page of each kind of slider, the keyboard moves the range input and the picture follows."""
    assert kind in FIRST_OF_EACH_KIND, f"no notebook makes a slider with {kind}"
    stem = FIRST_OF_EACH_KIND[kind]
    site_dir, base, browser = site
    context, page, problems = _open(browser, base, f"{base}/notebooks/{stem}.html")
    try:
        assert page.locator(".fm-slider input[type=range]").count(), f"{stem}: no slider on the page (see the test above)"
        box = page.locator(".fm-slider").first
        slider, picture, readout = box.locator("input[type=range]"), box.locator("img"), box.locator(".fm-slider-readout")
        seen = [(slider.input_value(), picture.get_attribute("src"), readout.inner_text())]
        start, last = int(slider.input_value()), int(slider.get_attribute("max"))
        moves = min(2, last)  # two positions away from the start (one on a slider of two)
        key = "ArrowRight" if start + moves <= last else "ArrowLeft"
        slider.focus()
        for _ in range(moves):
            page.keyboard.press(key)
            seen.append((slider.input_value(), picture.get_attribute("src"), readout.inner_text()))
        assert len({s[0] for s in seen}) == moves + 1, f"{stem}: the slider did not move: {[s[0] for s in seen]}"
        assert len({s[1] for s in seen}) == moves + 1, f"{stem}: the picture did not change as the slider moved"
        assert len({s[2] for s in seen}) == moves + 1, f"{stem}: the readout did not change: {[s[2] for s in seen]}"
        assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    finally:
        context.close()
    assert not problems, problems
