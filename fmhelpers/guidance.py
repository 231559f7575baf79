"""Conditional generation and guidance (notebook 10): the exact field of one class, the guided
field, and the same for a trained conditional network.

The class (label) c of a target sample is its black cell, its row in `board.black_cells()`,
0..7 on the course's board (`fm.black_cell_index` gives it for any point, -1 off the board). The
target of class c, pi_1(. | c), is uniform on that cell. Its exact field v*(x, t | c) and density
p_t(x | c) are the board's closed forms with the posterior of X_1 restricted to the cell
(`fm.marginal_velocity(x, t, cell=c)`, which `class_velocity` names), and the class posterior
p_t(c | x) = P(X_1 in cell c | X_t = x) is `fm.marginal_cell_weights`.

By Bayes, p_t(c | x) = p_t(x | c) p(c) / p_t(x), so grad log p_t(c | x) = grad log p_t(x | c) -
grad log p_t(x): the score of the class posterior is the difference of two scores. A velocity is
affine in its score with coefficients that do not depend on the target (fmhelpers.interpolants),
hence

    v*(x, t | c) = v*(x, t) + g_t grad_x log p_t(c | x),

with a gain g_t that depends on the schedule only ((1 - t) / t on the linear path; exercise 10.2
derives it for the trig path),

and the classifier-free combination v_w = v*(x, t) + w (v*(x, t | c) - v*(x, t)) is classifier
guidance, v* + w g_t grad log p_t(c | x), with weight w. w = 0 is the unconditional field, w = 1
the conditional one, w > 1 what samplers use ("guidance scale").

A conditional network (`fm.ConditionalMLP`, trained by `fm.train` with a recipe that sets
`label_dropout`, e.g. `fm.GUIDANCE_RECIPE`) gives both fields from one set of weights: label c
for v(x, t | c), the extra "no label" class for v(x, t). `guided_field` combines them.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ._checks import (check_count, check_generator, check_indices, check_number, check_points, check_positive,
                      resolve_device, time_column)
from .distributions import BOARD, Board, check_board
from .interpolants import Interpolant
from .marginal import T_EPS, marginal_cell_fields, marginal_density, marginal_score, marginal_velocity
from .models import ConditionalMLP


def check_class(name: str, c: Any, n: int, n_classes: int, *, device: Any = None) -> torch.Tensor:
    """A class for n points as an int64 tensor (n,) in 0..n_classes - 1: one Python int for all
    points, or an integer tensor of shape (n,), one class per point. None ("no label") is refused:
    the functions that take it want a class."""
    if c is None:
        raise TypeError(f"{name} must be a class, 0..{n_classes - 1} (an int or an integer tensor of shape (n,)); "
                        f"for the field without a label use the unconditional one")
    return check_indices(name, c, n, n_classes, kind="class", span=f"{n_classes} classes", device=device)


def _classes(x: Any, c: Any, board: Board) -> torch.Tensor:
    check_points("x", x)
    return check_class("c", c, len(x), check_board(board).n_black, device=x.device)


def class_velocity(x: torch.Tensor, t: Any, c: Any, *, interpolant: Interpolant | None = None,
                   board: Board = BOARD, t_eps: float = T_EPS) -> torch.Tensor:
    """The exact field of class c, v*(x, t | c): the marginal velocity of the target pi_1(. | c),
    uniform on black cell c.

    Args:
        x: points, shape (n, 2).
        t: float, or shape (n,) or (n, 1), in [0, 1] (times above 1 - t_eps use 1 - t_eps).
        c: the class, a black cell's row in `board.black_cells()`: an int, or an int tensor (n,).
        interpolant, board, t_eps: as `fm.marginal_velocity`.

    Returns:
        shape (n, 2), dtype of x.
    """
    c = _classes(x, c, board)
    return marginal_velocity(x, t, interpolant=interpolant, board=board, t_eps=t_eps, cell=c)


def class_density(x: torch.Tensor, t: Any, c: Any, *, interpolant: Interpolant | None = None,
                  board: Board = BOARD, t_eps: float = T_EPS, log: bool = False) -> torch.Tensor:
    """The exact density p_t(x | c) of X_t when X_1 ~ pi_1(. | c) (or its log), shape (n,).

    The board's density is their average over the classes, p_t(x) = mean_c p_t(x | c) (each class
    has prior 1 / n_black).
    """
    c = _classes(x, c, board)
    return marginal_density(x, t, interpolant=interpolant, board=board, t_eps=t_eps, cell=c, log=log)


def class_score(x: torch.Tensor, t: Any, c: Any, *, interpolant: Interpolant | None = None,
                board: Board = BOARD, t_eps: float = T_EPS) -> torch.Tensor:
    """grad_x log p_t(c | x), the score of the exact class posterior (what classifier guidance
    follows), as grad log p_t(x | c) - grad log p_t(x); shape (n, 2), dtype of x. 0 at t = 0."""
    c = _classes(x, c, board)
    kw = {"interpolant": interpolant, "board": board, "t_eps": t_eps}
    return marginal_score(x, t, cell=c, **kw) - marginal_score(x, t, **kw)


def check_interval(name: str, interval: Any) -> tuple[float, float]:
    """A pair (start, stop) with 0 <= start < stop <= 1, else an error naming `name`."""
    if not isinstance(interval, (tuple, list)) or len(interval) != 2:
        raise TypeError(f"{name} must be a pair (start, stop) of times, got {interval!r}")
    start, stop = check_number(f"{name}[0]", interval[0]), check_number(f"{name}[1]", interval[1])
    if not 0 <= start < stop <= 1:
        raise ValueError(f"{name} must satisfy 0 <= start < stop <= 1, got {interval!r}")
    return start, stop


def _interval_weight(w: float, interval: tuple[float, float], t: torch.Tensor) -> torch.Tensor | float:
    """w where start <= t < stop (t = 1 counts as inside when stop = 1), 1 elsewhere; t of shape (n, 1)."""
    start, stop = interval
    if (start, stop) == (0.0, 1.0):
        return w
    inside = (t >= start) & ((t < stop) | (stop == 1.0))
    return torch.where(inside, torch.as_tensor(w, dtype=t.dtype, device=t.device), torch.ones_like(t))


def guided_velocity(x: torch.Tensor, t: Any, c: Any, w: Any, *, interpolant: Interpolant | None = None,
                    board: Board = BOARD, t_eps: float = T_EPS,
                    interval: tuple[float, float] = (0.0, 1.0)) -> torch.Tensor:
    """The exact guided field v_w(x, t | c) = v*(x, t) + w (v*(x, t | c) - v*(x, t)).

    interval: guide only for start <= t < stop, and follow the class field (w = 1) at other times
    (guidance limited to an interval, Kynkaanniemi et al. 2024); the default guides at every time.

    Both fields come from one pass over the cells (`fm.marginal_cell_fields`), v* as the
    posterior-weighted average of the cells' fields.

    w = 0 gives the unconditional field, w = 1 the field of class c; any finite w is accepted.
    Hand it to a solver with the class and weight fixed:
    `fm.euler(lambda x, t: fm.guided_velocity(x, t, 3, 2.0), x_0, 100)`.

    Returns:
        shape (n, 2), dtype of x.
    """
    c = _classes(x, c, board)
    w = check_number("w", w)
    interval = check_interval("interval", interval)
    weights, fields = marginal_cell_fields(x, t, interpolant=interpolant, board=board, t_eps=t_eps)
    unconditional = (weights.to(fields.dtype)[:, :, None] * fields).sum(dim=1)
    conditional = fields[torch.arange(len(x), device=x.device), c]
    w = _interval_weight(w, interval, time_column(t, x).to(fields.dtype))
    return unconditional + w * (conditional - unconditional)


def gaussian_guided_velocity(x: torch.Tensor, t: Any, c: Any, w: Any, *, means: torch.Tensor,
                             std: Any) -> torch.Tensor:
    """The exact guided field v*(x, t) + w (v*(x, t | c) - v*(x, t)) when the classes overlap:
    pi_1 an equal-weight mixture of Gaussian classes N(means[k], std^2 I), the linear path from
    pi_0 = N(0, I). w = 0 gives the unconditional field, w = 1 the field of class c.

    Given class k, X_t = (1 - t) X_0 + t X_1 is Gaussian with mean t m_k and variance
    s_t^2 = (1 - t)^2 + t^2 std^2, and v*(x, t | k) = m_k + (t std^2 - (1 - t)) (x - t m_k) / s_t^2;
    v* averages these with the class posterior, a softmax of -|x - t m_k|^2 / (2 s_t^2).

    Args:
        x: points, shape (n, d), floating.
        t: float, or shape (n,) or (n, 1), in [0, 1].
        c: the class, an int in 0..K - 1 or an int tensor (n,).
        w: the guidance weight, a finite number.
        means: the classes' means, shape (K, d).
        std: their common standard deviation, > 0.

    Returns:
        shape (n, d), dtype of x.
    """
    check_points("x", x, dim=None)
    check_points("means", means, dim=x.shape[1], min_rows=1)
    std = check_positive("std", std)
    w = check_number("w", w)
    c = check_class("c", c, len(x), len(means), device=x.device)
    t = time_column(t, x).to(torch.float64)
    y, m = x.to(torch.float64), means.to(device=x.device, dtype=torch.float64)
    var_t = (1 - t) ** 2 + t ** 2 * std ** 2                                           # (n, 1)
    offset = y[:, None, :] - t[:, :, None] * m[None]                                   # x - t m_k, (n, K, d)
    fields = m[None] + ((t * std ** 2 - (1 - t)) / var_t)[:, :, None] * offset         # v*(x, t | k)
    posterior = torch.softmax(-offset.pow(2).sum(dim=2) / (2 * var_t), dim=1)          # p_t(k | x)
    unconditional = (posterior[:, :, None] * fields).sum(dim=1)
    conditional = fields[torch.arange(len(x), device=x.device), c]
    return (unconditional + w * (conditional - unconditional)).to(x.dtype)


def guided_field(model: Any, c: Any, w: Any, *,
                 interval: tuple[float, float] = (0.0, 1.0)) -> Callable[[torch.Tensor, Any], torch.Tensor]:
    """The guided field of a conditional network, v(x, t) = v_theta(x, t) + w (v_theta(x, t | c) -
    v_theta(x, t)), as a function v(x, t) for `fm.euler` and the other solvers.

    Args:
        model: an `fm.ConditionalMLP` trained with label dropout (its "no label" class gives the
            unconditional field).
        c: the class: an int in 0..n_classes - 1, or an int tensor (n,) for a solver started from n
            points, one class each.
        w: the guidance weight, a finite number (0: unconditional, 1: conditional).
        interval: guide only for start <= t < stop, the conditional field (w = 1) elsewhere, as
            `guided_velocity`'s interval.

    Both fields come from one forward pass over the batch doubled (one pass for w = 0 or 1).
    """
    if not isinstance(model, ConditionalMLP):
        raise TypeError(f"model must be an fm.ConditionalMLP (a network with a 'no label' class), "
                        f"got {type(model).__name__}")
    n_classes = model.n_classes
    if isinstance(c, torch.Tensor) and c.dim() != 1:
        raise ValueError(f"c must be an int or an integer tensor of shape (n,), one class per point, got shape "
                         f"{tuple(c.shape)}")
    c = check_class("c", c, len(c) if isinstance(c, torch.Tensor) else 1, n_classes)
    w = check_number("w", w)
    interval = check_interval("interval", interval)

    def field(x: torch.Tensor, t: Any) -> torch.Tensor:
        check_points("x", x, dim=model.dim)
        labels = c.expand(len(x)) if len(c) == 1 else c
        if len(labels) != len(x):
            raise ValueError(f"c holds {len(c)} classes but the field was called on {len(x)} points")
        labels = labels.to(x.device)
        if w == 0 and interval == (0.0, 1.0):
            return model(x, t, None)
        if w == 1:
            return model(x, t, labels)
        t = time_column(t, x)
        none = torch.full_like(labels, n_classes)  # the "no label" class
        both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, none]))
        conditional, unconditional = both[: len(x)], both[len(x):]
        return unconditional + _interval_weight(w, interval, t.to(x.dtype)) * (conditional - unconditional)

    return field


def sample_class(n: int, c: Any, *, board: Board = BOARD, generator: torch.Generator | None = None,
                 device: Any = None) -> torch.Tensor:
    """n points of pi_1(. | c), uniform on black cell c (an int, or an int tensor (n,), one class per
    point): float32, shape (n, 2)."""
    n = check_count("n", n)
    board = check_board(board)
    c = check_class("c", c, n, board.n_black)
    generator = check_generator("generator", generator)
    device = resolve_device(device)
    gen_device = generator.device if generator is not None else torch.device("cpu")
    corners = board.black_cells().to(torch.float32)
    offset = torch.rand(n, 2, generator=generator, device=gen_device).cpu() * board.side
    return (corners[c] + offset).to(device)
