"""Sliders over precomputed results (fmhelpers.widgets)."""

import numpy as np
import pytest

import fmhelpers as fm
from badinput import table_test
from fmhelpers.widgets import SliderView, steps_slider, time_slider


def _frames():
    return {t: fm.sample_gaussian(200) * (1 - t) for t in (0.0, 0.25, 0.5, 1.0)}


def test_moving_the_time_slider_changes_picture_and_readout():
    view = time_slider(_frames(), lambda ax, x, t: fm.plot_samples(x, ax))
    first_png, first_text = bytes(view.image.value), view.label.value
    assert first_png.startswith(b"\x89PNG") and first_text == "t = 0.00"
    view.slider.value = 2
    assert view.value == 0.5 and view.label.value == "t = 0.50"
    assert bytes(view.image.value) != first_png
    view.slider.value = 0
    assert bytes(view.image.value) == first_png  # the same value gives the same picture


def test_steps_slider_with_readout_and_two_panels():
    results = {n: fm.sample_gaussian(100) / n for n in (1, 2, 8)}
    seen = []

    def draw(axes, x, n):
        seen.append(n)
        fm.plot_samples(x, axes[0])
        fm.plot_samples(-x, axes[1])

    view = steps_slider(results, draw, readout=lambda n: f"<b>T = {n}</b>", ncols=2, value=2)
    assert view.value == 2 and view.label.value == "<b>T = 2</b>"
    view.slider.value = 2  # index of T = 8
    assert view.label.value == "<b>T = 8</b>" and seen == [2, 8]
    view.slider.value = 1
    assert seen == [2, 8]  # cached: no second drawing
    evaluations = steps_slider(results, draw, description="N", ncols=2)
    assert evaluations.slider.description == "N" and evaluations.label.value == "N = 1"


def test_draw_all_draws_every_position_and_names_a_broken_one():
    view = time_slider(_frames(), lambda ax, x, t: fm.plot_samples(x, ax))
    assert view.draw_all() == 4 and len(view._cache) == 4

    def broken(ax, x, t):
        if t == 0.5:
            raise ValueError("on purpose")
        fm.plot_samples(x, ax)

    with pytest.raises(RuntimeError, match="0.5 failed: ValueError: on purpose"):
        time_slider(_frames(), broken).draw_all()


BAD = {
    "SliderView": (lambda: SliderView([1, 2], lambda ax, v: None, ncols=0), ValueError, "ncols"),
    "SliderView values empty": (lambda: SliderView([], lambda ax, v: None), ValueError, "values"),
    "SliderView values string": (lambda: SliderView("abc", lambda ax, v: None), TypeError, "values"),
    "SliderView draw": (lambda: SliderView([1, 2], "draw"), TypeError, "draw"),
    "SliderView value": (lambda: SliderView([1, 2], lambda ax, v: None, value=3), ValueError, "value"),
    "SliderView description": (lambda: SliderView([1], lambda ax, v: None, description=5), TypeError,
                               "description"),  # failed inside ipywidgets
    "SliderView readout": (lambda: SliderView([1], lambda ax, v: None, readout="T"), TypeError, "readout"),
    "SliderView readout returns": (lambda: SliderView([1], lambda ax, v: None, readout=lambda v: v), TypeError,
                                   "readout"),
    "SliderView index too large": (lambda: SliderView([1, 2], lambda ax, v: None).show_index(2), ValueError, "index"),
    "SliderView index negative": (lambda: SliderView([1, 2], lambda ax, v: None).render(-1), ValueError, "index"),
    "time_slider": (lambda: time_slider({1.5: None}, lambda ax, x, t: None), ValueError, "frames"),
    "time_slider empty": (lambda: time_slider({}, lambda ax, x, t: None), ValueError, "frames"),
    "time_slider list": (lambda: time_slider([0.5], lambda ax, x, t: None), TypeError, "frames"),
    "time_slider draw": (lambda: time_slider({0.5: None}, "draw"), TypeError, "draw"),
    "steps_slider": (lambda: steps_slider({0: None}, lambda ax, x, n: None), ValueError, "results"),
    "steps_slider empty": (lambda: steps_slider({}, lambda ax, x, n: None), ValueError, "results"),
    "steps_slider draw": (lambda: steps_slider({1: None}, None), TypeError, "draw"),
}
test_bad_input = table_test(BAD)


def test_default_picture_is_large_enough_to_read():
    """At least 400 pixels a panel, shown at its own size (the first version drew 288)."""
    import struct

    view = time_slider(_frames(), lambda ax, x, t: fm.plot_samples(x, ax))
    width, height = struct.unpack(">II", bytes(view.image.value)[16:24])  # the PNG header
    assert width >= 400 and height >= 400
    assert view.image.layout.width == f"{width}px"


def _pixels(png: bytes):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def test_html_rendering_holds_every_picture_and_readout():
    """to_html: the starting picture shown, every picture and readout in the page, and the script that swaps them."""
    import base64
    import json
    import re

    view = time_slider(_frames(), lambda ax, x, t: fm.plot_samples(x, ax), readout=lambda t: f"<b>t = {t:.2f}</b>",
                       value=0.5)
    page = view.to_html()
    data = json.loads(re.search(r'<script type="application/json" class="fm-slider-frames">(.*?)</script>', page).group(1))
    assert data["labels"] == ["0", "0.25", "0.5", "1"] and data["start"] == 2
    assert data["readouts"] == ["<b>t = 0.00</b>", "<b>t = 0.25</b>", "<b>t = 0.50</b>", "<b>t = 1.00</b>"]
    pictures = [_pixels(base64.b64decode(p)) for p in data["pictures"]]
    for i, picture in enumerate(pictures):  # each the slider's own picture, in 256 colours
        original = _pixels(view.render(i)[0])
        assert picture.shape == original.shape and np.abs(picture - original).max() <= 16
    assert all(np.abs(pictures[i] - pictures[i + 1]).max() > 16 for i in range(3))
    shown = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', page)
    assert shown == [data["pictures"][2]]  # without the script: the starting picture alone
    assert page.count("<script>") == 1 and 'input.type = "range"' in page
    assert view.value == 0.5  # rendering moved nothing


def test_displaying_a_view_offers_the_widget_and_its_html():
    from unittest import mock

    view = steps_slider({1: fm.sample_gaussian(50), 2: fm.sample_gaussian(50)}, lambda ax, x, n: fm.plot_samples(x, ax))
    with mock.patch("IPython.display.display") as display:
        view._ipython_display_()
    (bundle,), options = display.call_args
    assert options == {"raw": True}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.widget.model_id
    assert bundle["text/html"] == view.to_html() and bundle["text/plain"].startswith("VBox(")


def test_html_rendering_keeps_a_script_closing_tag_in_a_readout_inside_its_script():
    view = SliderView([1, 2], lambda ax, v: ax.plot([0, v]), readout=lambda v: f"</script>{v}")
    page = view.to_html()
    assert page.count("</script>") == 2 + 1  # the JSON's and the code's, and the starting readout shown as HTML


def test_a_picture_that_fails_is_raised_under_the_live_widget():
    from unittest import mock

    def draw(ax, x, t):
        if t > 0:
            raise ValueError("broken on purpose")

    view = time_slider({0.0: 1, 0.5: 2}, draw)
    with mock.patch("IPython.display.display") as display, pytest.raises(RuntimeError, match="at 0.5 failed"):
        view._ipython_display_()
    (bundle,), _ = display.call_args
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" not in bundle
