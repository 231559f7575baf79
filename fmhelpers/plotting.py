"""Pure plotting functions: each draws on `ax` (a new figure when None) and returns the axes.

One colour per concept in every notebook, all in `STYLE`: source pi_0 purple, target pi_1 and
generated samples red, samples of pi_t in between brown (or `time_color(t)`, from the source's
colour at t = 0 to the target's at t = 1), conditional velocities u_t orange, the exact marginal
field v* green, the learned field v_theta blue; classes (labels) take the colours of
`STYLE["classes"]`, a palette that shares none of those, and so do the lines of a comparison that
is none of those concepts (`STYLE["series"]`: solvers, recipes). Densities are drawn dark where
they are high (the black cells look black), with a colour bar. Equal aspect and fixed limits
everywhere. Images (the 8x8 digits of notebook 11, `plot_digits`) are drawn the same way: ink
(+1) black on white paper (-1).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from ._checks import (
    as_field,
    check_callable,
    check_count,
    check_field_output,
    check_finite,
    check_flag,
    check_number,
    check_points,
    check_positive,
)
from .distributions import BOARD, Board, check_board

STYLE = {
    "source": "#6a3d9a",       # pi_0 and the starting points x_0
    "target": "#d62728",       # pi_1 and generated samples
    "conditional": "#ff7f0e",  # conditional velocities u_t
    "exact": "#2ca02c",        # the exact marginal field v* and what it produces
    "learned": "#1f77b4",      # the learned field v_theta and what it produces
    "intermediate": "#8c564b", # samples of pi_t for 0 < t < 1
    "classes": "Dark2",        # a colour per label (notebooks 10 and 11): a palette without the colours above
    "series": ["#000000", "#7f7f7f", "#bcbd22", "#17becf", "#e377c2"],  # lines that are none of the concepts
    "density_cmap": "Greys",   # densities: high is dark
    "point_size": 2.0,
    "alpha": 0.5,
    "lim": 3.0,
}


def time_color(t: float) -> tuple[float, float, float]:
    """The colour of samples of pi_t: the source's at t = 0, the target's at t = 1, mixed in between."""
    from matplotlib.colors import to_rgb

    t = check_number("t", t)
    if not 0 <= t <= 1:
        raise ValueError(f"t must lie in [0, 1], got {t}")
    a, b = np.array(to_rgb(STYLE["source"])), np.array(to_rgb(STYLE["target"]))
    return tuple(float(v) for v in (1 - t) * a + t * b)


def _axes(ax: Any, figsize: tuple[float, float] = (4, 4)) -> plt.Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    elif not isinstance(ax, Axes):
        hint = (f" (an array of {ax.size} axes: pass one of them, e.g. axes[0])" if isinstance(ax, np.ndarray)
                else "")
        raise TypeError(f"ax must be a single matplotlib Axes or None, got {type(ax).__name__}{hint}")
    return ax


def _lim(lim: Any) -> float:
    return STYLE["lim"] if lim is None else check_positive("lim", lim)


def _title(title: Any) -> str | None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    return title


def _board(board: Any) -> Board | None:
    """plot_samples' board=: False/None (no board), True (the course's board) or a Board."""
    if board is None or board is False:
        return None
    if board is True:
        return BOARD
    return check_board(board)


def _square(ax: plt.Axes, lim: float) -> None:
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal", "box")


def draw_board(ax: plt.Axes, *, board: Board = BOARD) -> plt.Axes:
    """Shade the black cells of the target checkerboard lightly, as a background."""
    ax = _axes(ax)
    board = check_board(board)
    for cx, cy in board.black_cells().tolist():
        ax.add_patch(plt.Rectangle((cx, cy), board.side, board.side, color="0.9", zorder=0, lw=0))
    return ax


def plot_samples(
    x: torch.Tensor,
    ax: plt.Axes | None = None,
    *,
    title: str | None = None,
    color: str | None = None,
    lim: float | None = None,
    board: bool | Board = False,
    max_points: int = 5000,
) -> plt.Axes:
    """Scatter plot of points x, shape (n, 2) (at most `max_points` of them).

    board: True shades the course's board (`fm.BOARD`) behind the points; pass the `fm.Board`
    the samples came from to shade that one instead.
    """
    check_points("x", x)
    max_points = check_count("max_points", max_points)
    board, lim, title = _board(board), _lim(lim), _title(title)
    ax = _axes(ax)
    if board is not None:
        draw_board(ax, board=board)
    pts = x[:max_points].detach().cpu().numpy()
    ax.scatter(pts[:, 0], pts[:, 1], s=STYLE["point_size"], alpha=STYLE["alpha"],
               color=color or STYLE["target"], linewidths=0, rasterized=True)
    _square(ax, lim)
    if title:
        ax.set_title(title)
    return ax


def velocity_grid(
    velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], t: float, *, n_grid: int = 17, lim: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Evaluate velocity(x, t) on an n_grid x n_grid grid: returns points and vectors, each (n_grid^2, 2).

    A torch module is evaluated on its own device; the result is on the CPU. A field that returns
    the wrong shape or a non-finite value is reported, not drawn.
    """
    field = as_field(velocity)
    n_grid = check_count("n_grid", n_grid, minimum=1)
    lim = _lim(lim)
    t = check_number("t", t)
    if not 0 <= t <= 1:
        raise ValueError(f"t must lie in [0, 1], got {t}")
    g = torch.linspace(-lim, lim, n_grid)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    with torch.no_grad():
        v = check_field_output("velocity", field(pts, torch.full((len(pts), 1), t)), pts, f" at t = {t:g}")
    return pts, v.detach().cpu()


def plot_quiver(
    points: torch.Tensor,
    vectors: torch.Tensor,
    ax: plt.Axes | None = None,
    *,
    color: str | None = None,
    lim: float | None = None,
    length: float | None = None,
    speed: float | None = None,
    key: bool = True,
    title: str | None = None,
    **quiver_kwargs,
) -> plt.Axes:
    """Arrows `vectors` (n, 2) drawn at `points` (n, 2), on a scale that stays readable.

    An arrow of speed `speed` is `length` long (default 1.8 grid cells); slower arrows are shorter
    in proportion, faster ones are capped at `length` and drawn pale, so a few huge velocities
    (v* near t = 1 at the board's corners) do not shrink the rest to dots. Default `speed`: the
    upper quartile of the arrows' speeds. Pass the same `speed` to two calls to compare two sets
    of arrows on one scale. key: say under the axes which speed the longest arrow stands for.
    """
    check_points("points", points)
    check_points("vectors", vectors)
    if len(points) != len(vectors):
        raise ValueError(f"points and vectors must have the same length, got {len(points)} and {len(vectors)}")
    if length is not None:
        length = check_positive("length", length)
    if speed is not None:
        speed = check_positive("speed", speed)
    check_flag("key", key)
    lim, title = _lim(lim), _title(title)
    ax = _axes(ax)
    p, v = points.detach().cpu().double().numpy(), vectors.detach().cpu().double().numpy()
    norm = np.hypot(v[:, 0], v[:, 1])
    if speed is None:
        speed = max(float(np.quantile(norm, 0.75)), 1e-9) if len(v) else 1.0
    length = length or 2 * lim / 17 * 1.8
    capped = norm > speed * (1 + 1e-6)
    v = np.where(capped[:, None], v * (speed / np.maximum(norm, 1e-300))[:, None], v)
    color = color or STYLE["learned"]
    scale = speed / length
    quiver_kwargs.setdefault("width", 0.005)
    ax.quiver(p[~capped, 0], p[~capped, 1], v[~capped, 0], v[~capped, 1], color=color, angles="xy",
                       scale_units="xy", scale=scale, **quiver_kwargs)
    if capped.any():
        pale = {**quiver_kwargs, "alpha": 0.35 * quiver_kwargs.get("alpha", 1.0)}
        ax.quiver(p[capped, 0], p[capped, 1], v[capped, 0], v[capped, 1], color=color, angles="xy",
                  scale_units="xy", scale=scale, **pale)
    if key:
        ax.set_xlabel(f"full arrow: |v| = {speed:.3g}" + (" (pale: faster)" if capped.any() else ""),
                      fontsize=8, color=color)
    _square(ax, lim)
    if title:
        ax.set_title(title)
    return ax


def plot_velocity_field(
    velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    t: float,
    ax: plt.Axes | None = None,
    *,
    n_grid: int = 17,
    lim: float | None = None,
    color: str | None = None,
    speed: float | None = None,
    key: bool = True,
    title: str | None = None,
) -> plt.Axes:
    """Quiver plot of velocity(x, t) on an n_grid x n_grid grid of points (a module on its own device).

    speed, key: as in `plot_quiver` (arrows faster than `speed` are capped and drawn pale).
    """
    ax = _axes(ax)
    lim = _lim(lim)
    pts, v = velocity_grid(velocity, t, n_grid=n_grid, lim=lim)
    return plot_quiver(pts, v, ax, color=color, lim=lim, length=2 * lim / n_grid * 1.8, speed=speed, key=key,
                       title=title or f"velocity at t = {float(t):.2f}")


def plot_trajectories(
    trajectory: torch.Tensor,
    ax: plt.Axes | None = None,
    *,
    n_show: int = 50,
    lim: float | None = None,
    title: str | None = None,
    board: bool | Board = True,
    legend: bool = True,
) -> plt.Axes:
    """Paths of single samples: trajectory of shape (n_steps + 1, n, 2); start purple, end red, and each
    step of a path in `time_color` of its time (states taken as equally spaced in t from 0 to 1).

    board: shade the course's board behind the paths (False: none; or the `fm.Board` to shade).
    legend: say which dot is the start and which the end.
    """
    if not isinstance(trajectory, torch.Tensor):
        raise TypeError(f"trajectory must be a torch.Tensor of shape (n_steps + 1, n, 2) "
                        f"(what fm.euler(..., return_trajectory=True) returns), got {type(trajectory).__name__}")
    if trajectory.dim() != 3 or trajectory.shape[2] != 2 or trajectory.shape[0] < 1 or trajectory.shape[1] < 1:
        raise ValueError(f"trajectory must have shape (n_steps + 1, n, 2) with at least one state and one path, "
                         f"got {tuple(trajectory.shape)}")
    check_finite("trajectory", trajectory)
    n_show = check_count("n_show", n_show)
    check_flag("legend", legend)
    board, lim, title = _board(board), _lim(lim), _title(title)
    ax = _axes(ax)
    if board is not None:
        draw_board(ax, board=board)
    path = trajectory[:, :n_show].detach().cpu().numpy()
    n_steps = len(path) - 1
    if n_steps:
        from matplotlib.collections import LineCollection

        steps = np.stack([path[:-1], path[1:]], axis=2)                      # (n_steps, n, 2 ends, 2)
        colours = [time_color((k + 0.5) / n_steps) for k in range(n_steps)]
        ax.add_collection(LineCollection(steps.reshape(-1, 2, 2), colors=np.repeat(colours, path.shape[1], axis=0),
                                         linewidths=0.7, alpha=0.8))
    ax.scatter(path[0, :, 0], path[0, :, 1], s=8, color=STYLE["source"], zorder=3, label="start")
    ax.scatter(path[-1, :, 0], path[-1, :, 1], s=8, color=STYLE["target"], zorder=3, label="end")
    if legend:
        ax.legend(loc="upper right", fontsize=7, markerscale=1.2, framealpha=0.8, handletextpad=0.2)
    _square(ax, lim)
    if title:
        ax.set_title(title)
    return ax


def plot_time_grid(
    frames: Mapping[float, torch.Tensor],
    axes: Sequence[plt.Axes] | None = None,
    *,
    color: str | None = None,
    lim: float | None = None,
    row_label: str | None = None,
) -> Sequence[plt.Axes]:
    """Small multiples: one scatter plot per time, frames = {t: points of shape (n, 2)}, each in
    `time_color(t)` (the source's colour at t = 0, the target's at t = 1) unless `color` is given."""
    if not isinstance(frames, Mapping) or not frames:
        raise ValueError(f"frames must be a non-empty dict {{t: points}}, got {type(frames).__name__} "
                         f"of length {len(frames) if hasattr(frames, '__len__') else '?'}")
    if axes is None:
        _, axes = plt.subplots(1, len(frames), figsize=(2.2 * len(frames), 2.4))
    axes = list(np.atleast_1d(axes))
    if len(axes) != len(frames):
        raise ValueError(f"axes must hold {len(frames)} axes, one per frame, got {len(axes)}")
    for ax, (t, x) in zip(axes, frames.items()):
        plot_samples(x, ax, title=f"t = {t:g}", color=color or time_color(t), lim=lim)
        ax.set_xticks([])
        ax.set_yticks([])
    if row_label:
        axes[0].set_ylabel(row_label)
    return axes


def plot_density(
    density: Callable[[torch.Tensor], torch.Tensor],
    ax: plt.Axes | None = None,
    *,
    n_grid: int = 120,
    lim: float | None = None,
    title: str | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
) -> plt.Axes:
    """Heat map of density(x) for x on an n_grid x n_grid grid; density maps (m, 2) -> (m,).

    High density is dark (the board's black cells look black), from 0 to `vmax` (default: the
    largest value); pass the same vmax to compare two pictures. colorbar: add a colour bar.
    A density that returns the wrong shape, a negative value or a non-finite one is reported.
    """
    check_callable("density", density, "density(x)")
    n_grid = check_count("n_grid", n_grid, minimum=1)
    if vmax is not None:
        vmax = check_positive("vmax", vmax)
    check_flag("colorbar", colorbar)
    lim, title = _lim(lim), _title(title)
    ax = _axes(ax)
    g = torch.linspace(-lim, lim, n_grid, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    with torch.no_grad():
        values = density(points)
    if not isinstance(values, torch.Tensor) or values.shape != (len(points),):
        raise ValueError(f"density must return a tensor of shape ({len(points)},) (one value per point), "
                         f"got {tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__}")
    check_finite("the density's values", values)
    if bool((values < 0).any()):
        raise ValueError("density returned negative values (a density is >= 0; pass the density, not its log)")
    values = values.reshape(n_grid, n_grid).cpu().numpy()
    _heat(ax, values, lim, vmax, colorbar)
    if title:
        ax.set_title(title)
    return ax


def _heat(ax: plt.Axes, values: np.ndarray, lim: float, vmax: float | None, colorbar: bool) -> None:
    image = ax.imshow(values, origin="lower", extent=(-lim, lim, -lim, lim), cmap=STYLE["density_cmap"],
                      vmin=0, vmax=vmax if vmax is not None else max(float(values.max()), 1e-12),
                      interpolation="nearest")
    _square(ax, lim)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)


def plot_histogram(
    x: torch.Tensor,
    ax: plt.Axes | None = None,
    *,
    bins: int = 60,
    lim: float | None = None,
    title: str | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
) -> plt.Axes:
    """Samples x (n, 2) drawn as a density: a 2-D histogram on [-lim, lim]^2, normalised so that it
    integrates to the fraction of samples inside the square, with `plot_density`'s colours.

    Pass the same vmax as to `plot_density` to compare samples with an exact density.
    """
    check_points("x", x, min_rows=1)
    bins = check_count("bins", bins, minimum=1)
    if vmax is not None:
        vmax = check_positive("vmax", vmax)
    check_flag("colorbar", colorbar)
    lim, title = _lim(lim), _title(title)
    ax = _axes(ax)
    pts = x.detach().cpu().double().numpy()
    counts, _, _ = np.histogram2d(pts[:, 0], pts[:, 1], bins=bins, range=[[-lim, lim], [-lim, lim]])
    cell_area = (2 * lim / bins) ** 2
    _heat(ax, (counts / (len(pts) * cell_area)).T, lim, vmax, colorbar)
    if title:
        ax.set_title(title)
    return ax


def plot_loss(
    losses: Sequence[float],
    ax: plt.Axes | None = None,
    *,
    floor: float | None = None,
    window: int = 50,
) -> plt.Axes:
    """Training loss per iteration (light) with a moving average (dark) and the loss floor (dashed)."""
    window = check_count("window", window, minimum=1)
    try:
        y = np.asarray(losses, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"losses must be a sequence of numbers ({exc})") from exc
    if y.ndim != 1 or len(y) == 0:
        raise ValueError("losses must be a non-empty sequence of numbers")
    if floor is not None:
        floor = check_number("floor", floor)
    ax = _axes(ax, figsize=(6, 3.5))
    ax.plot(y, color=STYLE["learned"], alpha=0.25, lw=0.8, label="loss per iteration")
    if len(y) >= window:
        smooth = np.convolve(y, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window - 1, len(y)), smooth, color=STYLE["learned"], label=f"moving average ({window})")
    if floor is not None:
        ax.axhline(floor, color=STYLE["target"], ls="--", label=f"loss floor {floor:.3f}")
    ax.set_xlabel("iteration")
    ax.set_ylabel("CFM loss")
    ax.legend(loc="upper right")
    return ax


def plot_scores(
    settings: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    ax: plt.Axes | None = None,
    *,
    colors: Mapping[str, str] | None = None,
    floor: float | None = None,
    floor_label: str = "noise floor",
    resolution: float | None = None,
    log_x: bool = True,
    log_y: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    legend: bool = True,
) -> plt.Axes:
    """One score against a setting (solver steps T, a guidance weight w), a line per method.

    curves: {method: one score per setting, NaN where the method was not run at that setting};
    colors: {method: colour} (default `STYLE["series"]`).
    floor: a dashed grey line, the score of an exact sample of the same size (the noise floor).
    resolution: with log_y, the smallest non-zero value the sample can give (1/n for a share of n
    samples): a dotted line, and a score below it (a zero) is drawn on it as an open triangle
    pointing down, instead of as an invented small number.
    """
    try:
        xs = np.asarray(settings, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"settings must be a sequence of numbers ({exc})") from exc
    if xs.ndim != 1 or len(xs) == 0 or not np.isfinite(xs).all():
        raise ValueError(f"settings must be a non-empty sequence of finite numbers, got {settings!r}")
    if log_x and (xs <= 0).any():
        raise ValueError(f"settings must be > 0 on a log x axis (log_x=True), got {xs.tolist()}")
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(f"curves must be a non-empty dict {{method: scores}}, got {type(curves).__name__}")
    for flag, value in (("log_x", log_x), ("log_y", log_y), ("legend", legend)):
        check_flag(flag, value)
    floor = None if floor is None else check_number("floor", floor)
    resolution = None if resolution is None else check_positive("resolution", resolution)
    title = _title(title)
    colors = dict(colors or {})
    ax = _axes(ax, figsize=(4.5, 3.5))
    for i, (name, scores) in enumerate(curves.items()):
        try:
            ys = np.asarray(scores, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"curves[{name!r}] must be a sequence of numbers ({exc})") from exc
        if ys.shape != xs.shape:
            raise ValueError(f"curves[{name!r}] must hold one score per setting ({len(xs)}), got shape {ys.shape}")
        if np.isinf(ys).any() or np.isnan(ys).all():
            raise ValueError(f"curves[{name!r}] must hold finite scores (NaN where a setting was not run), got {ys.tolist()}")
        color = colors.get(name, STYLE["series"][i % len(STYLE["series"])])
        run = ~np.isnan(ys)
        below = run & (ys < resolution) if (log_y and resolution is not None) else np.zeros(len(ys), bool)
        ax.plot(xs[run & ~below], ys[run & ~below], "o-", color=color, lw=1.5, ms=4, label=name)
        if below.any():  # no line to them: below the resolution there is no value to join
            ax.plot(xs[below], np.full(int(below.sum()), resolution), "v", color=color, ms=8, mfc="white", zorder=4)
    if floor is not None:
        ax.axhline(floor, color="0.4", ls="--", lw=1, label=f"{floor_label} ({floor:.3g})")
    if log_y and resolution is not None:
        ax.axhline(resolution, color="0.6", ls=":", lw=1, label=f"1/{1 / resolution:.0f}: one sample (\u25bd: none)")
    if log_x:
        ax.set_xscale("log")
        if len(xs) <= 10:  # few settings: label each; many: the log axis's own ticks
            ax.set_xticks(xs, [f"{v:g}" for v in xs])
            ax.minorticks_off()
    if log_y:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # labels 0.01, 0.02, 0.05, ...: no colliding minor labels
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(fontsize=7, framealpha=0.85)
    return ax


def plot_digits(
    x: torch.Tensor,
    ax: plt.Axes | None = None,
    *,
    n_cols: int = 10,
    shape: tuple[int, int] = (8, 8),
    title: str | None = None,
    row_labels: Sequence[Any] | None = None,
    row_title: str | None = None,
) -> plt.Axes:
    """Images x (n, h * w), values in [-1, 1] (ink +1 black, paper -1 white), as one mosaic of
    rows of `n_cols` images, left to right, then top to bottom, a one-pixel gap between them.

    Values outside [-1, 1] are drawn as the nearest end. row_labels (one per row) are written on
    the left, under the axis label row_title (e.g. the class of each row).
    """
    check_points("x", x, dim=None, min_rows=1)
    n_cols = check_count("n_cols", n_cols, minimum=1)
    if (not isinstance(shape, tuple) or len(shape) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)):
        raise TypeError(f"shape must be a tuple (height, width) of two positive ints, got {shape!r}")
    h, w = shape
    if x.shape[1] != h * w:
        raise ValueError(f"x must have shape (n, {h * w}), one column per pixel of a {h}x{w} image, got {tuple(x.shape)}")
    title = _title(title)
    n_rows = -(-len(x) // n_cols)
    if row_labels is not None and (isinstance(row_labels, str) or not hasattr(row_labels, "__len__")
                                   or len(row_labels) != n_rows):
        raise ValueError(f"row_labels must hold one label per row of images ({n_rows} rows), got {row_labels!r}")
    if row_title is not None and not isinstance(row_title, str):
        raise TypeError(f"row_title must be a str or None, got {type(row_title).__name__}")
    ax = _axes(ax, figsize=(0.45 * n_cols, 0.45 * n_rows + 0.3))
    canvas = np.full((n_rows * (h + 1) - 1, n_cols * (w + 1) - 1), np.nan)
    images = x.detach().cpu().double().clamp(-1, 1).numpy().reshape(-1, h, w)
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        canvas[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = image
    cmap = plt.get_cmap(STYLE["density_cmap"]).with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(canvas), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    if row_labels is not None:
        ax.set_yticks([r * (h + 1) + (h - 1) / 2 for r in range(n_rows)], [str(v) for v in row_labels])
        ax.tick_params(axis="y", length=0)
    else:
        ax.set_yticks([])
    if row_title:
        ax.set_ylabel(row_title)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def plot_grid_law(
    law: torch.Tensor,
    ax: plt.Axes | None = None,
    *,
    board: Board = BOARD,
    title: str | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
) -> plt.Axes:
    """A law over the states of the gridded board (fmhelpers.discrete) as a heat map of each
    state's probability, dark where high: column bin along x, row bin along y, over the board.

    law: float (V, V), or (V + 1, V + 1) with the mask token last: the mask's row and column are
    then drawn as strips (`MASK_STRIP` of the board's side wide, past a gap) beyond the board's
    right edge (x masked) and top edge (y masked), with the fully masked state in the corner, and
    the ticks there read "m". vmax: the top of the colour scale (default: the largest probability
    of a state without a mask token; the mask's strips, far more probable per state early on, are
    then drawn at the top of the scale); pass the same one to compare pictures.
    """
    board = check_board(board)
    if not isinstance(law, torch.Tensor) or law.dim() != 2 or law.shape[0] != law.shape[1] or law.shape[0] < 2:
        raise ValueError(f"law must be a square tensor (V, V) or (V + 1, V + 1), got "
                         f"{tuple(law.shape) if isinstance(law, torch.Tensor) else type(law).__name__}")
    check_finite("law", law)
    if bool((law < 0).any()):
        raise ValueError("law must hold probabilities (>= 0)")
    if vmax is not None:
        vmax = check_positive("vmax", vmax)
    check_flag("colorbar", colorbar)
    title = _title(title)
    S = law.shape[0]
    V = S if S % board.grid_size == 0 else S - 1
    if V % board.grid_size:
        raise ValueError(f"law must be (V, V) or (V + 1, V + 1) with V a multiple of the board's grid_size "
                         f"{board.grid_size}, got {tuple(law.shape)}")
    ax = _axes(ax)
    side = 2 * board.scale
    edges = np.linspace(-board.scale, board.scale, V + 1)
    top = board.scale
    if S > V:  # the mask's strip, past a gap
        gap, strip = MASK_STRIP[0] * side, MASK_STRIP[1] * side
        edges = np.concatenate([edges, [board.scale + gap, board.scale + gap + strip]])
        top = board.scale + gap + strip
    values = law.detach().cpu().double().numpy()
    if S > V:  # a column of the gap, drawn blank
        values = np.insert(np.insert(values, V, np.nan, axis=0), V, np.nan, axis=1)
    top_value = vmax if vmax is not None else max(float(np.nanmax(values[:V, :V])), 1e-12)
    mesh = ax.pcolormesh(edges, edges, values.T, cmap=STYLE["density_cmap"], vmin=0, vmax=top_value,
                         rasterized=True)  # values.T: rows of the picture are y
    ax.set_xlim(-board.scale, top)
    ax.set_ylim(-board.scale, top)
    ax.set_aspect("equal", "box")
    if S > V:
        ticks = [t for t in ax.get_xticks() if -board.scale <= t <= board.scale] + [top - strip / 2]
        labels = [f"{t:g}" for t in ticks[:-1]] + ["m"]
        ax.set_xticks(ticks, labels)
        ax.set_yticks(ticks, labels)
        ax.add_patch(plt.Rectangle((-board.scale, -board.scale), side, side, fill=False, lw=0.8, color="0.5"))
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, fraction=0.046, pad=0.03)
    if title:
        ax.set_title(title)
    return ax


MASK_STRIP = (0.03, 0.08)  # plot_grid_law: the gap before the mask's strip and its width, as shares of the board's side
