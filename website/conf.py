"""Sphinx configuration of the course's website (scripts/site.py stages the sources and builds with it)."""

project = "Learning flow matching"
author = "the course's authors"
copyright = "the course's authors, MIT licence"

extensions = ["myst_nb"]
exclude_patterns = ["ipynb/**"]  # the notebooks as committed, only offered as downloads

# Notebooks: the stored outputs as they are, never executed.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True  # `$$ ... $$` display math may open on the line after a sentence, as in Jupyter
myst_heading_anchors = 3
# A slider's output holds the live widget and its HTML rendering (fmhelpers.widgets.SliderView.to_html):
# on a page without a kernel, show the HTML (every picture and a range input) and leave the widget out,
# so that neither the widget manager nor require.js is loaded.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js = {}

# Math: MathJax 3 from the site itself (scripts/site.py copies it into _static/mathjax/).
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "Learning flow matching"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": False,  # each notebook page links to its .ipynb instead
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
}
html_context = {"default_mode": "light"}  # the theme's light/dark switch starts from a mode it knows
