"""The exact marginal velocity v*(x, t) and density of pi_t for the Gaussian -> checkerboard pair.

Given X_1 = y, X_t = alpha_t X_0 + beta_t y is Gaussian N(beta_t y, alpha_t^2 I). Since pi_1 is
uniform on squares, the posterior of X_1 given X_t = x is a mixture, over the black cells, of
per-axis Gaussians N(x / beta_t, (alpha_t / beta_t)^2) truncated to the cell. Everything below is
a sum of normal-CDF differences, computed in log space and in float64.

With m(x, t) = E[X_1 | X_t = x] and X_0 = (X_t - beta_t X_1) / alpha_t:

    v*(x, t) = E[d_alpha_t X_0 + d_beta_t X_1 | X_t = x]
             = (d_alpha_t / alpha_t) x + (d_beta_t - d_alpha_t beta_t / alpha_t) m(x, t),
    grad log p_t(x) = (beta_t m(x, t) - x) / alpha_t^2,

the conversions the path owns (`Interpolant.coefficients(t).velocity`, `.score`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch

from ._checks import check_flag, check_indices, check_number, check_points, check_time
from .distributions import BOARD, Board, check_board
from .interpolants import Coefficients, Interpolant, LinearInterpolant, check_interpolant

LINEAR = LinearInterpolant()
T_EPS = 1e-3
FAR = 1e3  # standardised distance from a cell beyond which its truncated mean uses the tail expansion


def _log1mexp(z: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(z)) for z <= 0, accurate at both ends."""
    return torch.where(z > -math.log(2), torch.log(-torch.expm1(z)), torch.log1p(-torch.exp(z)))


def log_normal_mass(lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """log(Phi(hi) - Phi(lo)) for hi > lo, without cancellation in either tail."""
    upper = lo > 0  # both in the upper tail: use the mirror image Phi(-lo) - Phi(-hi)
    a = torch.where(upper, -hi, lo)
    b = torch.where(upper, -lo, hi)
    log_b = torch.special.log_ndtr(b)
    return log_b + _log1mexp(torch.special.log_ndtr(a) - log_b)


def _log_phi(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * z * z - 0.5 * math.log(2 * math.pi)


class _CellTerms(NamedTuple):
    alpha_t: torch.Tensor
    beta_t: torch.Tensor
    at_start: torch.Tensor  # (n, 1): rows at t = 0
    safe_beta: torch.Tensor
    mu: torch.Tensor  # (n, 1, 2)
    s: torch.Tensor  # (n, 1, 1)
    lo: torch.Tensor  # (n, K, 2) standardised cell edges
    hi: torch.Tensor
    log_mass: torch.Tensor  # (n, K, 2) log Gaussian mass of each cell's side, where the cell is near
    log_w: torch.Tensor  # (n, K) log weight of each cell, up to the row's constant `common`
    common: torch.Tensor  # (n,)


def _log_tail(z: torch.Tensor) -> torch.Tensor:
    """log(Phi(-z)) + z^2 / 2 for z > 0 (the Gaussian tail without its exp(-z^2 / 2)), any size of z."""
    return torch.log(0.5 * torch.special.erfcx(z / math.sqrt(2)))


def _cell_log_weights(x: torch.Tensor, t: torch.Tensor, interpolant: Interpolant, board: Board) -> _CellTerms:
    """The per-cell terms of the posterior of X_1 given X_t = x (float64 x (n, 2), t (n, 1)).

    Given X_t = x, each axis of X_1 is N(mu, s^2) = N(x / beta_t, (alpha_t / beta_t)^2) restricted to
    the black cells; the log weight of a cell is the sum over the two axes of the log Gaussian mass of
    its side. Rows at t = 0 (beta_t <= 1e-9, where the cell integrals underflow and X_t carries no
    information on X_1: the error of that shortcut is of order beta_t) are marked.

    Far from a cell (standardised distance beyond FAR), the mass exp(-(edge - mu)^2 / (2 s^2)) ...
    is written as exp(-mu^2 / (2 s^2)) exp(edge mu / s^2 - edge^2 / (2 s^2)) ..., the first factor
    shared by every cell of the row, so that the weights stay exact when |x| is so large that
    edge - mu rounds to -mu (|x| ~ 1e30 made them NaN). Rows with no far cell are computed as they
    always were.
    """
    alpha_t, beta_t = interpolant.alpha(t), interpolant.beta(t)
    corners = board.black_cells().to(x.device)[None]  # (1, K, 2)
    at_start = beta_t <= 1e-9
    safe_beta = torch.where(at_start, torch.ones_like(beta_t), beta_t)
    mu = (x / safe_beta)[:, None, :]
    s = (alpha_t / safe_beta)[:, None, :]
    lo = (corners - mu) / s
    hi = (corners + board.side - mu) / s
    below, above = hi < -FAR, lo > FAR  # mu far beyond the cell's upper edge, or far below its lower one
    far = below | above
    log_mass = log_normal_mass(torch.where(far, -1.0, lo), torch.where(far, 1.0, hi))
    width = board.side / s
    # far below the cell: log(Phi(hi) - Phi(lo)) + mu^2 / (2 s^2), with hi, lo < -FAR
    b = torch.where(below, hi, -2 * FAR)
    a = torch.where(below, lo, b - width)
    edge = corners + board.side
    ratio = torch.exp(0.5 * width * (a + b)) * torch.special.erfcx(-a / math.sqrt(2)) / torch.special.erfcx(-b / math.sqrt(2))
    rel_below = edge * mu / s**2 - edge**2 / (2 * s**2) + _log_tail(-b) + torch.log1p(-ratio)
    # far above it: log(Phi(-lo) - Phi(-hi)) + mu^2 / (2 s^2), with hi, lo > FAR
    a = torch.where(above, lo, 2 * FAR)
    b = torch.where(above, hi, a + width)
    ratio = torch.exp(-0.5 * width * (a + b)) * torch.special.erfcx(b / math.sqrt(2)) / torch.special.erfcx(a / math.sqrt(2))
    rel_above = corners * mu / s**2 - corners**2 / (2 * s**2) + _log_tail(a) + torch.log1p(-ratio)
    shifted = far.any(dim=1, keepdim=True)  # (n, 1, 2): this row's axis is written without mu^2 / (2 s^2)
    half_square = torch.where(shifted, 0.5 * (mu / s) ** 2, 0.0)
    rel = torch.where(below, rel_below, torch.where(above, rel_above, log_mass + half_square))
    return _CellTerms(alpha_t, beta_t, at_start, safe_beta, mu, s, lo, hi, log_mass, rel.sum(dim=2),
                      -half_square.sum(dim=(1, 2)))


def _truncated_means(lo, hi, log_mass, mu, s, corners, side):
    """E[X_1 | X_1 in cell] under the per-axis Gaussian N(mu, s^2) restricted to each cell, (n, K, 2).

    Near a cell, mu + s (phi(lo) - phi(hi)) / mass. Far from it (standardised distance beyond
    FAR, where that difference of huge near-equal numbers loses every digit) the mass hugs the near
    edge, and the distance D past that edge, in units of s, follows exp(-lambda D) on (0, w): its
    mean 1/lambda - w exp(-lambda w) / (1 - exp(-lambda w)) is accurate to O(lambda^-3).
    """
    below, above = hi < -FAR, lo > FAR  # mu beyond the cell's upper edge, or below its lower edge
    far = below | above
    lo_n, hi_n = torch.where(far, -1.0, lo), torch.where(far, 1.0, hi)  # keep the unused branch finite
    near_mean = mu + s * (torch.exp(_log_phi(lo_n) - log_mass) - torch.exp(_log_phi(hi_n) - log_mass))
    lam = torch.where(below, -hi, torch.where(above, lo, FAR)).clamp_min(FAR)
    width = side / s
    lw = lam * width
    d = 1 / lam - width * torch.exp(-lw) / -torch.expm1(-lw)
    far_mean = torch.where(below, corners + side - s * d, corners + s * d)
    return torch.where(far, far_mean, near_mean)


def _posterior(x: torch.Tensor, t: torch.Tensor, interpolant: Interpolant, board: Board,
               cell: torch.Tensor | None = None):
    """log p_t(x), E[X_1 | X_t = x], float64, for x (n, 2) and t (n, 1) float64; with `cell` (int64
    (n,)), of the target restricted to that black cell (uniform on it) instead of the whole board."""
    x = x.to(torch.float64)
    c = _cell_log_weights(x, t, interpolant, board)
    alpha_t, at_start = c.alpha_t, c.at_start
    corners, side = board.black_cells().to(x.device), board.side
    n_cells = len(corners)
    cell_mean = _truncated_means(c.lo, c.hi, c.log_mass, c.mu, c.s, corners[None], side)
    if cell is None:
        log_density = torch.logsumexp(c.log_w, dim=1) - math.log(n_cells)
        weights = torch.softmax(c.log_w, dim=1)[:, :, None]
        mean_x1 = (weights * cell_mean).sum(dim=1)
        # t = 0: pi_0 itself, and the prior mean of X_1 (the mean of the black-cell centres).
        prior_mean = (corners + side / 2).mean(dim=0).expand_as(mean_x1)
    else:
        rows = torch.arange(len(x), device=x.device)
        log_density = c.log_w[rows, cell]
        mean_x1 = cell_mean[rows, cell]
        prior_mean = corners[cell] + side / 2
    log_density = log_density + c.common - 2 * torch.log(c.safe_beta[:, 0] * side)
    gauss = -0.5 * (x / alpha_t).pow(2).sum(1) - 2 * torch.log(alpha_t[:, 0]) - math.log(2 * math.pi)
    start = at_start[:, 0]
    log_density = torch.where(start, gauss, log_density)
    mean_x1 = torch.where(start[:, None], prior_mean, mean_x1)
    return log_density, mean_x1


def _check_cell(cell: Any, n: int, board: Board, device: Any) -> torch.Tensor | None:
    """None, or the black cell of each point as an int64 tensor (n,) in 0 .. n_black - 1."""
    if cell is None:
        return None
    return check_indices("cell", cell, n, board.n_black, kind="black cell", device=device,
                         span="the rows of board.black_cells()")


def _prepare(x: Any, t: Any, interpolant: Interpolant | None, t_eps: float, board: Board):
    check_points("x", x)
    check_board(board)
    t = check_time("t", t, len(x), like=x)
    interpolant = LINEAR if interpolant is None else check_interpolant(interpolant)
    t_eps = check_number("t_eps", t_eps)
    if not 0 < t_eps < 0.5:
        raise ValueError(f"t_eps must lie in (0, 0.5), got {t_eps}")
    t = t.to(torch.float64).reshape(-1, 1).expand(len(x), 1).clamp(max=1 - t_eps)
    return t, interpolant


def _checked_posterior(x: Any, t: Any, interpolant: Interpolant | None, t_eps: float, board: Board, cell: Any):
    """What the public functions start with: their inputs checked, then (t, interpolant, log p_t(x),
    E[X_1 | X_t = x]), the last two in float64 (of pi_1 restricted to `cell` where one is given)."""
    t, interpolant = _prepare(x, t, interpolant, t_eps, board)
    log_density, mean_x1 = _posterior(x, t, interpolant, board, _check_cell(cell, len(x), board, x.device))
    return t, interpolant, log_density, mean_x1


def marginal_posterior_mean(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
    cell: Any = None,
) -> torch.Tensor:
    """E[X_1 | X_t = x], the denoiser's answer, shape (n, 2) in the dtype of x."""
    return _checked_posterior(x, t, interpolant, t_eps, board, cell)[3].to(x.dtype)


def marginal_velocity(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
    cell: Any = None,
) -> torch.Tensor:
    """The exact marginal velocity v*(x, t) = E[d_alpha_t X_0 + d_beta_t X_1 | X_t = x].

    It is the minimiser of the conditional flow matching loss, so it can be handed to any solver
    as a velocity field: `fm.euler(fm.marginal_velocity, x_0, 100)`.

    Args:
        x: points, shape (n, 2).
        t: float, or shape (n,) or (n, 1), in [0, 1].
        interpolant: the schedule (default: `LinearInterpolant()`).
        board: the target checkerboard (default `fm.BOARD`).
        t_eps: the field is singular at t = 1 off the support of pi_1 (it pulls with speed
            ~ distance / (1 - t)), so times above 1 - t_eps are evaluated at 1 - t_eps.
        cell: None for the target pi_1; a black cell (its row in `board.black_cells()`: an int, or
            an int tensor (n,), one per point) for pi_1 restricted to that cell, uniform on it:
            the exact conditional field v*(x, t | c) of a class c (notebook 10). The same keyword
            works in `marginal_density`, `marginal_score` and `marginal_posterior_mean`.

    Returns:
        shape (n, 2), dtype of x.
    """
    t, interpolant, _, mean_x1 = _checked_posterior(x, t, interpolant, t_eps, board, cell)
    return interpolant.raw_coefficients(t).velocity(x.to(torch.float64), mean_x1).to(x.dtype)


def raw_marginal_velocity(x: torch.Tensor, t: torch.Tensor, interpolant: Interpolant, board: Board,
                          t_eps: float = T_EPS) -> torch.Tensor:
    """`marginal_velocity`'s core, no checks (the "exact" target of a training step calls it): x (n, 2)
    finite, t (n, 1) in [0, 1], an Interpolant instance and a Board; (n, 2) in x's dtype."""
    t = t.to(torch.float64).reshape(-1, 1).expand(len(x), 1).clamp(max=1 - t_eps)
    mean_x1 = _posterior(x, t, interpolant, board, None)[1]
    return interpolant.raw_coefficients(t).velocity(x.to(torch.float64), mean_x1).to(x.dtype)


def marginal_score(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
    cell: Any = None,
) -> torch.Tensor:
    """The exact score grad log p_t(x) = (beta_t m(x, t) - x) / alpha_t^2, shape (n, 2), dtype of x.

    Times above 1 - t_eps are evaluated at 1 - t_eps, for both m and the coefficients (as in
    `marginal_velocity`); at t = 0 it is -x, the score of pi_0.
    """
    t, interpolant, _, mean_x1 = _checked_posterior(x, t, interpolant, t_eps, board, cell)
    return interpolant.coefficients(t).score(x.to(torch.float64), mean_x1).to(x.dtype)


def marginal_density(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
    cell: Any = None,
    log: bool = False,
) -> torch.Tensor:
    """Density of pi_t, the law of X_t = alpha_t X_0 + beta_t X_1, at x.

    Args:
        x: points, shape (n, 2).
        t: float, or shape (n,) or (n, 1), in [0, 1]; times above 1 - t_eps use 1 - t_eps
            (at t = 1 itself the density is the discontinuous `checkerboard_density`).
        log: return log p_t(x) instead.

    Returns:
        shape (n,), dtype of x.
    """
    check_flag("log", log)
    log_density = _checked_posterior(x, t, interpolant, t_eps, board, cell)[2]
    return (log_density if log else log_density.exp()).to(x.dtype)


def marginal_cell_weights(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
) -> torch.Tensor:
    """P(X_1 in cell k | X_t = x) for every black cell k of the board, shape (n, n_black), float64.

    The posterior of X_1 given X_t = x is proportional to pi_1(x_1) N(x; beta_t x_1, alpha_t^2 I);
    its mass on cell k is the Gaussian mass of that cell (the weights v* averages over, cell by
    cell, in `board.black_cells()` order). Each row sums to 1; at t = 0 the weights are uniform.
    """
    t, interpolant = _prepare(x, t, interpolant, t_eps, board)
    terms = _cell_log_weights(x.to(torch.float64), t, interpolant, board)
    at_start, log_w = terms.at_start, terms.log_w
    weights = torch.softmax(log_w, dim=1)
    return torch.where(at_start, torch.full_like(weights, 1.0 / weights.shape[1]), weights)


def marginal_cell_fields(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The posterior weight of every black cell and the exact field of the target restricted to it,
    from one pass over the cells: v*(x, t) = sum_k weights[:, k] * fields[:, k].

    The same numbers as `marginal_cell_weights(x, t)` and `marginal_velocity(x, t, cell=k)` for
    every k, for the cost of one call (what the guided field of notebook 10 evaluates at every
    solver step: the unconditional field and one class's).

    Returns:
        (weights, fields): float64 of shape (n, n_black), rows summing to 1, and (n, n_black, 2) in
        the dtype of x.
    """
    t, interpolant = _prepare(x, t, interpolant, t_eps, board)
    x64 = x.to(torch.float64)
    terms = _cell_log_weights(x64, t, interpolant, board)
    corners = board.black_cells().to(x.device)
    means = _truncated_means(terms.lo, terms.hi, terms.log_mass, terms.mu, terms.s, corners[None], board.side)
    start = terms.at_start  # t = 0: the prior mean of each cell, its centre, and uniform weights
    means = torch.where(start[:, :, None], (corners + board.side / 2)[None], means)
    weights = torch.softmax(terms.log_w, dim=1)
    weights = torch.where(start, torch.full_like(weights, 1.0 / weights.shape[1]), weights)
    c = interpolant.coefficients(t)
    per_cell = Coefficients(c.alpha_t[:, None], c.beta_t[:, None], c.d_alpha_t[:, None], c.d_beta_t[:, None])
    return weights, per_cell.velocity(x64[:, None, :], means).to(x.dtype)


def continuity_terms(
    x: torch.Tensor,
    t: float,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    h: float = 1e-4,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The two terms of the continuity equation d/dt p_t + div(p_t v*) = 0 at points x, time t.

    Both are central finite differences in float64 of `marginal_density` and `marginal_velocity`
    (step h in t and in each coordinate), so their sum is the equation's residual, of order h^2
    plus rounding.

    Returns:
        (dp_dt, div_pv), each of shape (n,), float64.
    """
    check_points("x", x)
    t = check_number("t", t)
    h = check_number("h", h)
    if not 0 < h < 0.01:
        raise ValueError(f"h must lie in (0, 0.01), got {h}")
    if not h <= t <= 1 - T_EPS - h:
        raise ValueError(f"t must lie in [h, 1 - {T_EPS} - h] (central differences in time), got {t}")
    x64 = x.detach().to(torch.float64)
    kw = {"interpolant": interpolant, "board": board}

    def flux(y: torch.Tensor) -> torch.Tensor:
        return marginal_density(y, t, **kw)[:, None] * marginal_velocity(y, t, **kw)

    dp_dt = (marginal_density(x64, t + h, **kw) - marginal_density(x64, t - h, **kw)) / (2 * h)
    div_pv = torch.zeros(len(x64), dtype=torch.float64, device=x64.device)
    for i in range(2):
        e = torch.zeros(2, dtype=torch.float64, device=x64.device)
        e[i] = h
        div_pv = div_pv + (flux(x64 + e)[:, i] - flux(x64 - e)[:, i]) / (2 * h)
    return dp_dt, div_pv
