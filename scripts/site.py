#!/usr/bin/env python3
"""The course as a static website: `python3 tasks.py site` calls this, in .venv-site (requirements/site.txt).

    python scripts/site.py [--out DIR] [--solutions]

Sphinx with MyST-NB and the book theme (the tool Jupyter Book 1 is made of) builds the site from the
notebooks' stored outputs: nothing is executed (`nb_execution_mode = "off"`), so the pages show exactly
what nbval checks. This script stages the sources in build/site-src/ and builds the HTML into --out
(default build/site/), one folder that a static web server, or the code host's pages, serves as it is:

  - index: the README's opening, its "Start here" commands and its table of notebooks (one source of
    truth: the README), and the navigation, in order: notebooks 01-11, TEACHING.md, INSTALL.md;
  - one page per notebook, its stored outputs and a link to download the notebook itself (unchanged);
  - the worked solutions (notebooks/solutions/) only with --solutions: a teacher's choice, since the
    exercises ask students to try first.

Nothing on a page comes from outside the folder: MathJax 3 is copied from the django-static-mathjax
wheel (a PyPI package that ships MathJax's own files) into _static/mathjax/, the theme's fonts and
scripts are in its own package, and the widget manager and require.js are not loaded at all: a slider
is the HTML rendering that fmhelpers.widgets.SliderView stores beside its widget (every picture, a range
input and a few lines of script), which the site shows instead of the widget.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "website"  # conf.py and the site's own static files
OUT = ROOT / "build" / "site"  # the sources are staged beside it, in site-src/ (and Sphinx's cache in site-doctrees/)
LANDING_SECTIONS = ("Start here", "The notebooks")  # the README's sections the landing page shows
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")  # what tex-chtml loads


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def landing_page(readme: str) -> str:
    """The README's title and opening paragraph, and its LANDING_SECTIONS, as the site's index."""
    parts = re.split(r"^## ", readme, flags=re.M)
    kept = [parts[0]] + ["## " + p for p in parts[1:] if p.splitlines()[0].strip() in LANDING_SECTIONS]
    missing = set(LANDING_SECTIONS) - {p.splitlines()[0].strip() for p in parts[1:]}
    if missing:
        raise SystemExit(f"README.md has no section {sorted(missing)}: the landing page is made of them")
    return "\n".join(kept).rstrip() + "\n"


def toctree(caption: str, entries: list[str]) -> str:
    return "```{toctree}\n:hidden:\n:maxdepth: 1\n:caption: " + caption + "\n\n" + "\n".join(entries) + "\n```\n"


def download_cell(path: Path) -> dict:
    """A markdown cell put after a notebook's first cell on its page: where to download it, and how to run it."""
    text = (f"{{download}}`Download this notebook ({path.name}) <../ipynb/{path.name}>` to run it with a kernel: "
            "in a clone of the repository, `python3 tasks.py lab` opens it (see {doc}`../INSTALL`).")
    return {"cell_type": "markdown", "id": "site-download", "metadata": {}, "source": text}


# A stylesheet that an output links from the web: matplotlib's animations (notebook 06) ask for Font Awesome 4
# for their buttons; the theme's own Font Awesome (served from the site) draws those icons.
EXTERNAL_STYLESHEET = re.compile(r'<link\s+rel="stylesheet"\s+href="https?://[^"]*"\s*/?>')


def local_html(text: str | list[str], name: str) -> str:
    """An output's HTML without the stylesheet links to the web that EXTERNAL_STYLESHEET names; any other
    address outside the site stops the build, naming the notebook."""
    text = EXTERNAL_STYLESHEET.sub("", "".join(text))
    found = re.search(r'<(?:script|img|link|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*"(?:https?:)?//[^"]*"', text)
    if found:
        raise SystemExit(f"{name}: an output loads {found.group(0)} from outside the site; the site must serve it")
    return text


def stage(source: Path, solutions: bool) -> None:
    """Write the Sphinx sources into `source` (emptied first); the committed files are only read."""
    shutil.rmtree(source, ignore_errors=True)
    (source / "notebooks").mkdir(parents=True)
    (source / "ipynb").mkdir()
    names = []
    for path in notebooks():
        shutil.copyfile(path, source / "ipynb" / path.name)  # the download: the notebook as committed
        nb = json.loads(path.read_text())
        nb["cells"].insert(1, download_cell(path))
        nb["metadata"].pop("widgets", None)  # the widgets' saved state: the site shows the sliders' HTML instead
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                if "text/html" in output.get("data", {}):
                    output["data"]["text/html"] = local_html(output["data"]["text/html"], path.name)
        (source / "notebooks" / path.name).write_text(json.dumps(nb))
        names.append(f"notebooks/{path.stem}")
    shutil.copyfile(ROOT / "notebooks" / "TEACHING.md", source / "notebooks" / "TEACHING.md")
    shutil.copyfile(ROOT / "INSTALL.md", source / "INSTALL.md")
    index = landing_page((ROOT / "README.md").read_text())
    index += "\n" + toctree("Notebooks", names) + "\n" + toctree("For teachers and installing",
                                                               ["notebooks/TEACHING", "INSTALL"])
    if solutions:
        folder = source / "notebooks" / "solutions"
        folder.mkdir()
        shutil.copyfile(ROOT / "notebooks" / "solutions" / "README.md", folder / "README.md")
        pages = ["notebooks/solutions/README"]
        for path in sorted((ROOT / "notebooks" / "solutions").glob("solutions_*.py")):
            shutil.copyfile(path, folder / path.name)
            (folder / f"{path.stem}.md").write_text(
                f"# Worked solutions {path.stem.removeprefix('solutions_')}\n\n"
                f"```{{literalinclude}} {path.name}\n:language: python\n```\n")
            pages.append(f"notebooks/solutions/{path.stem}")
        index += "\n" + toctree("Worked solutions", pages)
    (source / "index.md").write_text(index)


def copy_mathjax(out: Path) -> None:
    """MathJax 3's TeX-to-HTML build, its fonts and its TeX extensions, from the installed wheel into the site."""
    import mathjax  # django-static-mathjax: MathJax's own files under mathjax/static/mathjax/

    es5 = Path(mathjax.__path__[0]) / "static" / "mathjax" / "es5"
    target = out / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (es5 / part).is_dir():
            shutil.copytree(es5 / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(es5 / part, target / part)
    shutil.copyfile(es5.parent / "LICENSE", target / "LICENSE")


def build(out: Path, solutions: bool) -> int:
    started = time.perf_counter()
    source, doctrees = out.with_name(out.name + "-src"), out.with_name(out.name + "-doctrees")
    stage(source, solutions)
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(doctrees, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(CONF), "-d", str(doctrees),
               str(source), str(out)]
    code = subprocess.run(command, cwd=ROOT).returncode
    if code:
        return code
    copy_mathjax(out)
    (out / ".nojekyll").write_text("")  # the code host's pages would otherwise hide _static/
    pages = len(list(out.rglob("*.html")))
    print(f"[site] {pages} pages in {out} ({time.perf_counter() - started:.1f} s); open {out / 'index.html'}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the folder to build into (emptied first)")
    parser.add_argument("--solutions", action="store_true", help="also publish the worked solutions")
    args = parser.parse_args(argv)
    return build(args.out.resolve(), args.solutions)


if __name__ == "__main__":
    sys.exit(main())
