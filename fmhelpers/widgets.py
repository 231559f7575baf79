"""Sliders that move through results computed beforehand.

A `SliderView` holds a list of values (times t, step counts T, ...), a pure `draw(ax, value)`
function and an optional `readout(value)` text. Moving the slider redraws one small figure into
a PNG shown by an `ipywidgets.Image`; each picture is kept once drawn, so going back is instant.
Everything works without a browser: set `view.slider.value` and read `view.image.value`.
"""

from __future__ import annotations

import io
from typing import Any, Callable, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from ._checks import check_count


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
        dpi: int = 80,
        value: Any = None,
    ) -> None:
        values = list(values)
        if not values:
            raise ValueError("values must hold at least one slider position")
        if not callable(draw):
            raise TypeError(f"draw must be callable as draw(ax, value), got {type(draw).__name__}")
        if value is not None and value not in values:
            raise ValueError(f"value must be one of the slider's values, got {value!r}")
        ncols = check_count("ncols", ncols, minimum=1)
        self.values = values
        self._draw = draw
        self._readout = readout or (lambda v: f"{description} = {v}")
        figsize = figsize or (3.6 * ncols, 3.6)
        self._figure = Figure(figsize=figsize, dpi=dpi)
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

    def render(self, index: int) -> tuple[bytes, str]:
        """PNG bytes and readout text for values[index] (drawn once, then cached)."""
        if index not in self._cache:
            for ax in self._axes:
                ax.clear()
            value = self.values[index]
            self._draw(self._axes if len(self._axes) > 1 else self._axes[0], value)
            buffer = io.BytesIO()
            self._figure.savefig(buffer, format="png")
            self._cache[index] = (buffer.getvalue(), self._readout(value))
        return self._cache[index]

    def show_index(self, index: int) -> None:
        """Show values[index] in the image and the readout."""
        png, text = self.render(index)
        self.image.value = png
        self.label.value = text

    def _on_change(self, change: dict) -> None:
        self.show_index(change["new"])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def time_slider(
    frames: dict[float, Any], draw: Callable[[Any, Any], Any], *, readout: Callable[[float], str] | None = None, **kwargs: Any
) -> SliderView:
    """A slider for t over precomputed frames {t: result}; draw(ax, frames[t], t) shows one.

    Extra keyword arguments go to `SliderView` (ncols, figsize, value, ...).
    """
    times = sorted(frames)
    for t in times:
        if not 0 <= t <= 1:
            raise ValueError(f"frames must be keyed by times in [0, 1], got {t}")
    return SliderView(times, lambda ax, t: draw(ax, frames[t], t), readout=readout or (lambda t: f"t = {t:.2f}"),
                      description="t", **kwargs)


def steps_slider(
    results: dict[int, Any], draw: Callable[[Any, Any], Any], *, readout: Callable[[int], str] | None = None, **kwargs: Any
) -> SliderView:
    """A slider for the number of solver steps T over precomputed results {T: result}.

    draw(ax, results[T], T) shows one; extra keyword arguments go to `SliderView`.
    """
    steps = sorted(results)
    for n in steps:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"results must be keyed by step counts T >= 1, got {n!r}")
    return SliderView(steps, lambda ax, n: draw(ax, results[n], n), readout=readout or (lambda n: f"T = {n}"),
                      description="T", **kwargs)
