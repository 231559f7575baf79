"""scripts/site.py's pure parts, without Sphinx: the landing page is made of the README's sections, each
notebook's page gets a download link, and an output that loads something from the web is caught.
(Building the site and opening it in a browser is tests/test_site.py, run by `python3 tasks.py site --test`.)"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("site_build", ROOT / "scripts" / "site.py")
site_build = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(site_build)


def test_the_landing_page_is_the_readmes_opening_commands_and_notebook_table():
    page = site_build.landing_page((ROOT / "README.md").read_text())
    assert page.startswith("# ") and "python3 tasks.py lab" in page and "python3 tasks.py test" in page
    for path in site_build.notebooks():
        assert f"(notebooks/{path.name})" in page  # the table's links, which Sphinx turns into the pages' links
    assert "## Symbols and their names in code" not in page and "## The package" not in page


def test_a_readme_without_a_landing_section_is_refused_by_name():
    with pytest.raises(SystemExit, match="The notebooks"):
        site_build.landing_page("# Title\n\nIntro.\n\n## Start here\n\ntext\n")


def test_each_notebook_page_links_to_its_notebook_as_committed():
    cell = site_build.download_cell(ROOT / "notebooks" / "02_interpolants.ipynb")
    assert cell["cell_type"] == "markdown" and "{download}`" in cell["source"]
    assert "<../ipynb/02_interpolants.ipynb>" in cell["source"]


def test_outputs_that_load_from_the_web_are_made_local_or_refused():
    animation = '<link rel="stylesheet"\nhref="https://cdn.example/font-awesome.min.css">\n<div class="anim">x</div>'
    assert site_build.local_html(animation, "06.ipynb") == '\n<div class="anim">x</div>'
    assert site_build.local_html(['<a href="https://arxiv.org/abs/1">', "a paper</a>"], "x") == \
        '<a href="https://arxiv.org/abs/1">a paper</a>'  # a link is not a load
    with pytest.raises(SystemExit, match="07.ipynb.*https://cdn.example/x.js"):
        site_build.local_html('<script src="https://cdn.example/x.js"></script>', "07.ipynb")
