"""Sliders that move through results computed beforehand.

A `SliderView` holds a list of values (times t, step counts T, ...), a pure `draw(ax, value)`
function and an optional `readout(value)` text. Moving the slider redraws one figure (420 px a panel by default) into
a PNG shown by an `ipywidgets.Image`; each picture is kept once drawn, so going back is instant.
Everything works without a browser: set `view.slider.value` and read `view.image.value`.

Displayed in a notebook, a view also carries an HTML rendering of all its pictures (`to_html`): a range
input and a few lines of script swap them with no kernel, which is what the course's website and any
notebook viewer that runs scripts show; a viewer that strips scripts shows the starting picture.
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import Any, Callable, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from ._checks import check_callable, check_count


class SliderView:
    """A slider over `values`; each move shows draw(ax, value) and readout(value).

    Args:
        values: the positions of the slider, in order.
        draw: pure plot function drawing the result for one value on the given axes
            (a single Axes, or a list of them when ncols > 1).
        readout: text (HTML allowed) shown under the slider for a value.
        description: the slider's label.
        ncols: number of side-by-side axes handed to `draw`.
        figsize, dpi: size of the picture.
        value: the starting value (default: the first).
    """

    def __init__(
        self,
        values: Sequence[Any],
        draw: Callable[[Any, Any], Any],
        *,
        readout: Callable[[Any], str] | None = None,
        description: str = "value",
        ncols: int = 1,
        figsize: tuple[float, float] | None = None,
        dpi: int = 100,
        value: Any = None,
    ) -> None:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(f"values must be a sequence of slider positions, got {type(values).__name__}")
        values = list(values)
        if not values:
            raise ValueError("values must hold at least one slider position")
        check_callable("draw", draw, "draw(ax, value)")
        if readout is not None:
            check_callable("readout", readout, "readout(value) -> str")
        if value is not None and value not in values:
            raise ValueError(f"value must be one of the slider's values, got {value!r}")
        if not isinstance(description, str):
            raise TypeError(f"description must be a str (the slider's label), got {type(description).__name__}")
        ncols = check_count("ncols", ncols, minimum=1)
        dpi = check_count("dpi", dpi, minimum=1)
        self.values = values
        self._draw = draw
        self._readout = readout or (lambda v: f"{description} = {v}")
        figsize = figsize or (4.2 * ncols, 4.2)
        self._figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")  # no wasted margins
        axes = self._figure.subplots(1, ncols)
        self._axes = list(axes) if ncols > 1 else [axes]
        self._cache: dict[int, tuple[bytes, str]] = {}
        self.slider = widgets.SelectionSlider(
            options=[(self._label(v), i) for i, v in enumerate(values)],
            value=values.index(value) if value is not None else 0,
            description=description,
            continuous_update=True,
            layout=widgets.Layout(width="420px"),
        )
        self.label = widgets.HTML()
        # shown at its own pixel size, so the browser neither stretches nor blurs it
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{round(figsize[0] * dpi)}px"))
        self.widget = widgets.VBox([self.slider, self.label, self.image])
        self.slider.observe(self._on_change, names="value")
        self.show_index(self.slider.value)

    @staticmethod
    def _label(value: Any) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    @property
    def value(self) -> Any:
        """The value the slider is on now."""
        return self.values[self.slider.value]

    def _check_index(self, index: Any) -> int:
        index = check_count("index", index)
        if index >= len(self.values):
            raise ValueError(f"index must be in 0..{len(self.values) - 1} (the slider has {len(self.values)} "
                             f"positions), got {index}")
        return index

    def render(self, index: int) -> tuple[bytes, str]:
        """PNG bytes and readout text for values[index] (drawn once, then cached)."""
        index = self._check_index(index)
        if index not in self._cache:
            for ax in self._axes:
                ax.clear()
            value = self.values[index]
            self._draw(self._axes if len(self._axes) > 1 else self._axes[0], value)
            buffer = io.BytesIO()
            self._figure.savefig(buffer, format="png")
            text = self._readout(value)
            if not isinstance(text, str):
                raise TypeError(f"readout must return a str, got {type(text).__name__} for {value!r}")
            self._cache[index] = (buffer.getvalue(), text)
        return self._cache[index]

    def draw_all(self) -> int:
        """Draw the picture at every position now (each is kept, so every later move is instant), and
        return how many there are. A position whose drawing fails raises, naming its value."""
        for index, value in enumerate(self.values):
            try:
                png, _ = self.render(index)
            except Exception as exc:
                raise RuntimeError(f"the slider's picture at {self._label(value)} failed: {type(exc).__name__}: {exc}") from exc
            if not png.startswith(b"\x89PNG"):
                raise RuntimeError(f"the slider's picture at {self._label(value)} is not a PNG")
        return len(self.values)

    def show_index(self, index: int) -> None:
        """Show values[index] in the image and the readout."""
        index = self._check_index(index)
        png, text = self.render(index)
        self.image.value = png
        self.label.value = text

    def _on_change(self, change: dict) -> None:
        self.show_index(change["new"])

    def to_html(self) -> str:
        """The slider as one HTML fragment that needs no kernel: every picture (drawn now if not yet),
        its readout, and a range input that a few lines of script add and wire to swap them. Without
        the script (a viewer that strips scripts) it is the starting picture and its readout."""
        self.draw_all()
        start = self.slider.value
        frames = [self.render(i) for i in range(len(self.values))]
        width = self.image.layout.width
        data = {"labels": [self._label(v) for v in self.values], "readouts": [text for _, text in frames],
                "pictures": [base64.b64encode(_compact_png(png)).decode("ascii") for png, _ in frames], "start": start}
        # `</` inside a script would end it early; JSON may write it as `<\/`
        payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        description = html.escape(self.slider.description)
        return (f'<div class="fm-slider" data-fm-slider="{description}">'
                f'<div class="fm-slider-readout">{frames[start][1]}</div>'
                f'<img class="fm-slider-picture" alt="{description} = {html.escape(data["labels"][start])}" '
                f'style="width: {width}; max-width: 100%" src="data:image/png;base64,{data["pictures"][start]}">'
                f'<script type="application/json" class="fm-slider-frames">{payload}</script>'
                f"<script>{_SLIDER_SCRIPT}</script></div>")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        bundle = self.widget._repr_mimebundle_()  # the live widget, for a notebook with a kernel
        try:
            bundle["text/html"] = self.to_html()  # every picture, for a page or viewer without one
        finally:  # a picture that fails to draw is raised, naming its value, under the live widget
            display(bundle, raw=True)


def _compact_png(png: bytes) -> bytes:
    """An opaque picture as a 256-colour PNG: the course's slider pictures shrink about 2.5x (a notebook stores
    every one), each colour channel within a few levels of 255 of the original. Kept as it is where it has
    transparency or the palette would not be smaller."""
    from PIL import Image  # matplotlib's own dependency

    image = Image.open(io.BytesIO(png))
    if image.mode == "RGBA":
        if image.getextrema()[3][0] < 255:
            return png
        image = image.convert("RGB")
    if image.mode != "RGB":
        return png
    buffer = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue() if buffer.tell() < len(png) else png


# Runs where the fragment is (document.currentScript): puts a labelled range input above the readout
# and swaps the picture and the readout when it moves. The fragment marks itself done, so a page that
# shows it twice wires each copy once.
_SLIDER_SCRIPT = """(function () {
  var box = document.currentScript && document.currentScript.parentElement;
  if (!box || box.dataset.fmReady) { return; }
  box.dataset.fmReady = "1";
  var data = JSON.parse(box.querySelector(".fm-slider-frames").textContent);
  var picture = box.querySelector(".fm-slider-picture"), readout = box.querySelector(".fm-slider-readout");
  var row = document.createElement("label"), input = document.createElement("input"), shown = document.createElement("output");
  row.className = "fm-slider-control";
  row.style.cssText = "display: flex; align-items: center; gap: 0.6em; max-width: 420px";
  input.type = "range"; input.min = 0; input.max = data.pictures.length - 1; input.step = 1; input.value = data.start;
  input.style.flex = "1";
  row.appendChild(document.createTextNode(box.dataset.fmSlider));
  row.appendChild(input); row.appendChild(shown);
  box.insertBefore(row, box.firstChild);
  function show(i) {
    picture.src = "data:image/png;base64," + data.pictures[i];
    picture.alt = box.dataset.fmSlider + " = " + data.labels[i];
    readout.innerHTML = data.readouts[i];
    shown.textContent = data.labels[i];
  }
  input.addEventListener("input", function () { show(Number(input.value)); });
  show(data.start);
})();"""


def time_slider(
    frames: dict[float, Any], draw: Callable[[Any, Any], Any], *, readout: Callable[[float], str] | None = None, **kwargs: Any
) -> SliderView:
    """A slider for t over precomputed frames {t: result}; draw(ax, frames[t], t) shows one.

    Extra keyword arguments go to `SliderView` (ncols, figsize, value, ...).
    """
    _check_results("frames", frames, "{t: result}")
    check_callable("draw", draw, "draw(ax, result, t)")
    times = sorted(frames)
    for t in times:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= 1:
            raise ValueError(f"frames must be keyed by times in [0, 1], got {t}")
    return SliderView(times, lambda ax, t: draw(ax, frames[t], t), readout=readout or (lambda t: f"t = {t:.2f}"),
                      description="t", **kwargs)


def steps_slider(
    results: dict[int, Any], draw: Callable[[Any, Any], Any], *, readout: Callable[[int], str] | None = None, **kwargs: Any
) -> SliderView:
    """A slider for the number of solver steps T over precomputed results {T: result}.

    draw(ax, results[T], T) shows one; extra keyword arguments go to `SliderView` (`description`, the
    slider's label, is "T" unless given: "N" for network evaluations, say).
    """
    _check_results("results", results, "{T: result}")
    check_callable("draw", draw, "draw(ax, result, T)")
    steps = sorted(results)
    for n in steps:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"results must be keyed by step counts T >= 1, got {n!r}")
    description = kwargs.pop("description", "T")
    return SliderView(steps, lambda ax, n: draw(ax, results[n], n), readout=readout or (lambda n: f"{description} = {n}"),
                      description=description, **kwargs)


def _check_results(name: str, results: Any, form: str) -> None:
    if not isinstance(results, dict):
        raise TypeError(f"{name} must be a dict {form}, got {type(results).__name__}")
    if not results:
        raise ValueError(f"{name} must hold at least one entry {form}: the slider needs a position")
