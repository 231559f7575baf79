"""The exact marginal velocity v*(x, t) and density of pi_t for the Gaussian -> checkerboard pair.

Given X_1 = y, X_t = alpha_t X_0 + beta_t y is Gaussian N(beta_t y, alpha_t^2 I). Since pi_1 is
uniform on squares, the posterior of X_1 given X_t = x is a mixture, over the black cells, of
per-axis Gaussians N(x / beta_t, (alpha_t / beta_t)^2) truncated to the cell. Everything below is
a sum of normal-CDF differences, computed in log space and in float64.

With m(x, t) = E[X_1 | X_t = x] and X_0 = (X_t - beta_t X_1) / alpha_t:

    v*(x, t) = E[d_alpha_t X_0 + d_beta_t X_1 | X_t = x]
             = (d_alpha_t / alpha_t) x + (d_beta_t - d_alpha_t beta_t / alpha_t) m(x, t).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._checks import check_flag, check_number, check_points, check_time
from .distributions import BOARD, Board, check_board
from .interpolants import Interpolant, LinearInterpolant, check_interpolant

LINEAR = LinearInterpolant()
T_EPS = 1e-3


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


def _cell_log_weights(x: torch.Tensor, t: torch.Tensor, interpolant: Interpolant, board: Board):
    """The per-cell terms of the posterior of X_1 given X_t = x (float64 x (n, 2), t (n, 1)).

    Returns alpha_t, beta_t, the rows at t = 0 (beta_t <= 1e-9, where the cell integrals below
    underflow and X_t carries no information on X_1: the error of that shortcut is of order
    beta_t), the per-axis Gaussian N(x / beta_t, (alpha_t / beta_t)^2) as mu (n, 1, 2) and
    s (n, 1, 1), the standardised cell edges lo, hi (n, K, 2), their log masses and the log weight
    of each cell, log_w (n, K).
    """
    alpha_t, beta_t = interpolant.alpha(t), interpolant.beta(t)
    corners = board.black_cells().to(x.device)
    at_start = beta_t <= 1e-9
    safe_beta = torch.where(at_start, torch.ones_like(beta_t), beta_t)
    mu = (x / safe_beta)[:, None, :]
    s = (alpha_t / safe_beta)[:, None, :]
    lo = (corners[None] - mu) / s
    hi = (corners[None] + board.side - mu) / s
    log_mass = log_normal_mass(lo, hi)
    return alpha_t, beta_t, at_start, safe_beta, mu, s, lo, hi, log_mass, log_mass.sum(dim=2)


def _posterior(x: torch.Tensor, t: torch.Tensor, interpolant: Interpolant, board: Board):
    """log p_t(x), E[X_1 | X_t = x] and the coefficients, all float64. x: (n, 2), t: (n, 1) float64."""
    x = x.to(torch.float64)
    alpha_t, beta_t, at_start, safe_beta, mu, s, lo, hi, log_mass, log_w = _cell_log_weights(x, t, interpolant, board)
    corners, side = board.black_cells().to(x.device), board.side
    n_cells = len(corners)
    log_density = (
        torch.logsumexp(log_w, dim=1) - math.log(n_cells) - 2 * torch.log(safe_beta[:, 0] * side)
    )
    cell_mean = mu + s * (torch.exp(_log_phi(lo) - log_mass) - torch.exp(_log_phi(hi) - log_mass))
    weights = torch.softmax(log_w, dim=1)[:, :, None]
    mean_x1 = (weights * cell_mean).sum(dim=1)
    # t = 0: pi_0 itself, and the prior mean of X_1 (the mean of the black-cell centres).
    prior_mean = (corners + side / 2).mean(dim=0)
    gauss = -0.5 * (x / alpha_t).pow(2).sum(1) - 2 * torch.log(alpha_t[:, 0]) - math.log(2 * math.pi)
    start = at_start[:, 0]
    log_density = torch.where(start, gauss, log_density)
    mean_x1 = torch.where(start[:, None], prior_mean.expand_as(mean_x1), mean_x1)
    return log_density, mean_x1, alpha_t, beta_t


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


def marginal_posterior_mean(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
) -> torch.Tensor:
    """E[X_1 | X_t = x], the denoiser's answer, shape (n, 2) in the dtype of x."""
    t, interpolant = _prepare(x, t, interpolant, t_eps, board)
    return _posterior(x, t, interpolant, board)[1].to(x.dtype)


def marginal_velocity(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
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

    Returns:
        shape (n, 2), dtype of x.
    """
    t, interpolant = _prepare(x, t, interpolant, t_eps, board)
    _, mean_x1, alpha_t, beta_t = _posterior(x, t, interpolant, board)
    d_alpha_t, d_beta_t = interpolant.d_alpha(t), interpolant.d_beta(t)
    x64 = x.to(torch.float64)
    v = (d_alpha_t / alpha_t) * x64 + (d_beta_t - d_alpha_t * beta_t / alpha_t) * mean_x1
    return v.to(x.dtype)


def marginal_density(
    x: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    t_eps: float = T_EPS,
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
    t, interpolant = _prepare(x, t, interpolant, t_eps, board)
    log_density = _posterior(x, t, interpolant, board)[0]
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
    at_start, log_w = terms[2], terms[-1]
    weights = torch.softmax(log_w, dim=1)
    return torch.where(at_start, torch.full_like(weights, 1.0 / weights.shape[1]), weights)


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
