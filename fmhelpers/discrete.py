"""Discrete flow matching on the gridded board, where every quantity has an exact answer.

The board's [-scale, scale]^2 is cut into V bins per axis (V a multiple of the board's grid_size, so
each bin lies inside one cell); a point becomes two tokens, its column bin and its row bin, each in
0..V-1. The masked source adds one more token, V, "mask". A state is a pair of tokens; with
S = V (uniform source) or V + 1 (mask source) tokens per coordinate there are S^2 states, few
enough (1,089 at V = 32) to enumerate every law, posterior and rate exactly.

    grid        pi_1 on the V x V grid (`grid_law`, `sample_grid`), the sources (`SOURCES`,
                `sample_source`), tokens <-> bin centres (`tokens_to_points`, `points_to_tokens`)
    path        the factorised mixture path: each coordinate of x_t is x_1's with probability
                kappa_t, the source's otherwise (`KAPPA_SCHEDULES`, `sample_path`, `path_law`)
    posterior   p(x_1 | x_t) by enumeration (`joint_posterior`, `posterior_marginals`), the rate of
                the chain that carries pi_t (`rate_from_posterior`, `exact_rate`), the joint's distance
                to the product of its marginals (`factorisation_gap`), the generator on
                all states (`all_states`, `generator_matrix`) and the Kolmogorov forward equation
                (`forward_equation_terms`)
    sampling    Euler jumps of the chain driven by any rate (`jump_sample`, `model_rate`), and the
                exact law of those samples (`jump_law`)
    scores      `black_share`, `grid_tv` (exact: pi_1 is known on the grid), `tv_noise_floor`,
                `law_tv` (of a law, e.g. `jump_law`'s: no sampling noise at all)
    learning    `discrete_loss` (cross-entropy on (x_t, x_1)) and `train_discrete`, on `fm.fit`
    likelihood  `grid_entropy` (H(pi_1), exact), `law_cross_entropy` (of a law, e.g. `jump_law`'s),
                `negative_elbo` (the mask source's bound, exact over the masking patterns)

Tokens are int64 tensors of shape (n, 2); times a float or a tensor (n,) / (n, 1) in [0, 1]. A
rate function is called as rate(x_t, t) with x_t (n, 2) int64 and t (n, 1) float64 and returns the
per-coordinate rates, shape (n, 2, S): row [k, i] is u_t(. | x_t^k) for coordinate i, over the S
tokens. Every named choice is a table (`SOURCES`, `KAPPA_SCHEDULES`) dispatched as TABLE[name].
Public functions check their input once; the `raw_*` cores are what a training step calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from ._checks import (
    check_callable,
    check_choice,
    check_count,
    check_flag,
    check_generator,
    check_model,
    check_number,
    check_points,
    check_time,
    check_tokens,
)
from .distributions import BOARD, Board, check_board
from .models import DiscreteMLP
from .recipes import DISCRETE_RECIPE, DiscreteRecipe, as_recipe
from .targets import raw_time
from .training import TrainResult, fit

RATE_TOL = 1e-6  # a rate's rows must sum to 0 and its off-diagonal entries be >= 0 within this (relative)


# ---- the tables ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """One source pi_0: `has_mask` (whether it uses the extra token V), `probs(V)` the law of one
    coordinate over its S tokens (float64 (S,)), `draw(n, V, generator)` n states (n, 2) int64."""

    has_mask: bool
    probs: Callable[[int], torch.Tensor]
    draw: Callable[[int, int, Any], torch.Tensor]


def _mask_probs(V: int) -> torch.Tensor:
    p = torch.zeros(V + 1, dtype=torch.float64)
    p[V] = 1.0
    return p


def _mask_draw(n: int, V: int, generator: Any) -> torch.Tensor:
    return torch.full((n, 2), V, dtype=torch.long)


def _uniform_probs(V: int) -> torch.Tensor:
    return torch.full((V,), 1.0 / V, dtype=torch.float64)


def _uniform_draw(n: int, V: int, generator: Any) -> torch.Tensor:
    return torch.randint(0, V, (n, 2), generator=generator)


# name -> Source: "mask" (every coordinate starts as the mask token V) or "uniform" (over 0..V-1)
SOURCES: dict[str, Source] = {"mask": Source(True, _mask_probs, _mask_draw),
                              "uniform": Source(False, _uniform_probs, _uniform_draw)}


@dataclass(frozen=True)
class KappaSchedule:
    """kappa_t, the probability that a coordinate of x_t is already x_1's, and its derivative in t."""

    kappa: Callable[[torch.Tensor], torch.Tensor]
    dkappa: Callable[[torch.Tensor], torch.Tensor]


# name -> KappaSchedule: "linear" kappa_t = t, "quadratic" kappa_t = t^2 (both 0 at t = 0, 1 at t = 1)
KAPPA_SCHEDULES: dict[str, KappaSchedule] = {
    "linear": KappaSchedule(lambda t: t, torch.ones_like),
    "quadratic": KappaSchedule(lambda t: t * t, lambda t: 2 * t),
}


def n_tokens(source: str, V: int) -> int:
    """S, the number of tokens a coordinate can take: V, plus the mask token for the mask source."""
    return V + int(SOURCES[source].has_mask)


# ---- checks --------------------------------------------------------------------------------------
def _check_grid(V: Any, board: Any) -> tuple[int, Board]:
    board = check_board(board)
    V = check_count("V", V, minimum=2)
    if V % board.grid_size:
        raise ValueError(f"V must be a multiple of the board's grid_size {board.grid_size} (so that each bin lies "
                         f"in one cell), got {V}")
    return V, board


def _check_source(source: Any, schedule: Any = "linear") -> None:
    check_choice("source", source, tuple(SOURCES))
    check_choice("schedule", schedule, tuple(KAPPA_SCHEDULES))


def _check_states(name: str, x: Any, source: str, V: int) -> torch.Tensor:
    """States of the path: tokens in 0..V-1, and V (mask) only where the source has it."""
    if SOURCES[source].has_mask:
        return check_tokens(name, x, V + 1, span=f"V = {V} values, and {V} for the mask token")
    x = check_tokens(name, x, V + 1, span=f"V = {V} values for source={source!r}")
    if x.numel() and int(x.max()) == V:
        raise ValueError(f"{name} holds the mask token {V}, which only the 'mask' source has (source={source!r})")
    return x


def _check_data(name: str, x: Any, V: int) -> torch.Tensor:
    """States of pi_1: tokens in 0..V-1, no mask."""
    x = check_tokens(name, x, V + 1, span=f"V = {V} values")
    if x.numel() and int(x.max()) == V:
        raise ValueError(f"{name} holds the mask token {V}: a sample of pi_1 has none (tokens 0..{V - 1})")
    return x


def _check_rate_time(t: Any, n: int, schedule: str) -> torch.Tensor:
    """Times for a rate: in [0, 1) (the rate has 1 - kappa_t in its denominator), as (n, 1) float64."""
    t = check_time("t", t, n, like=torch.zeros((), dtype=torch.float64))
    if bool((KAPPA_SCHEDULES[schedule].kappa(t) >= 1).any()):
        raise ValueError("t must be < 1 for a rate: it divides by 1 - kappa_t, which is 0 at t = 1")
    return t.reshape(-1, 1).expand(n, 1)


def check_rate(name: str, rate: Any, x_t: torch.Tensor, S: int, where: str = "") -> torch.Tensor:
    """A rate for states x_t (n, 2): a finite tensor (n, 2, S) whose rows sum to 0 and whose entries
    off the diagonal (y != x_t^i) are >= 0, within RATE_TOL of the row's size."""
    n = len(x_t)
    if not isinstance(rate, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape ({n}, 2, {S}), got {type(rate).__name__}{where}")
    if rate.shape != (n, 2, S):
        raise ValueError(f"{name} must have shape ({n}, 2, {S}) (a rate over the {S} tokens for each coordinate), "
                         f"got {tuple(rate.shape)}{where}")
    if not rate.is_floating_point() or not bool(torch.isfinite(rate).all()):
        raise ValueError(f"{name} must hold finite floating-point numbers{where}")
    scale = rate.abs().amax(dim=2).clamp(min=1.0)
    sums = rate.sum(dim=2)
    if bool((sums.abs() > RATE_TOL * scale).any()):
        raise ValueError(f"{name} must have rows that sum to 0 (what leaves a state arrives elsewhere); the largest "
                         f"row sum is {sums.abs().max().item():.3g}{where}")
    off = rate.scatter(2, x_t[:, :, None].to(rate.device), torch.zeros_like(rate[:, :, :1]))
    if bool((off < -RATE_TOL * scale[:, :, None]).any()):
        raise ValueError(f"{name} must be >= 0 off the diagonal (a rate of jumping to another token); the most "
                         f"negative entry is {off.min().item():.3g}{where}")
    return rate


# ---- 1. the grid and its exact law -----------------------------------------------------------------
def raw_grid_law(V: int, board: Board) -> torch.Tensor:
    """`grid_law`'s core, no checks."""
    per_cell = V // board.grid_size
    cell = torch.arange(V) // per_cell
    black = ((cell[:, None] + cell[None, :]) % 2 == 1).to(torch.float64)
    return black / black.sum()


def grid_law(V: int = 32, *, board: Board = BOARD) -> torch.Tensor:
    """pi_1 on the V x V grid: the probability of each state (i, j), column bin i and row bin j.

    Bin i spans [-scale + i w, -scale + (i + 1) w], w = 2 scale / V; with V a multiple of
    grid_size each bin lies in one cell, so a state on a black cell has probability
    1 / (n_black (V / grid_size)^2) and one on a white cell 0.

    Returns:
        float64 tensor (V, V), summing to 1: entry [i, j] is P(x_1 = (i, j)).
    """
    return raw_grid_law(*_check_grid(V, board))


def raw_sample_grid(n: int, law: torch.Tensor, generator: Any) -> torch.Tensor:
    """`sample_grid`'s core: n states drawn from the law (V, V), as (n, 2) int64."""
    V = law.shape[0]
    flat = torch.multinomial(law.reshape(-1), n, replacement=True, generator=generator) if n else torch.zeros(0, dtype=torch.long)
    return torch.stack([flat // V, flat % V], dim=1)


def sample_grid(n: int, V: int = 32, *, board: Board = BOARD, generator: torch.Generator | None = None) -> torch.Tensor:
    """n exact draws of pi_1 on the grid (`grid_law`): tokens (n, 2) int64 in 0..V-1."""
    n = check_count("n", n)
    V, board = _check_grid(V, board)
    return raw_sample_grid(n, raw_grid_law(V, board), check_generator("generator", generator))


def sample_source(n: int, source: str = "mask", V: int = 32, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """n exact draws of the source: all mask tokens (V) for "mask", uniform over 0..V-1 for
    "uniform"; tokens (n, 2) int64."""
    n = check_count("n", n)
    _check_source(source)
    V = check_count("V", V, minimum=2)
    return raw_sample_source(n, source, V, check_generator("generator", generator))


def tokens_to_points(tokens: torch.Tensor, V: int = 32, *, board: Board = BOARD) -> torch.Tensor:
    """The centre of each state's bin, float32 (n, 2): for plotting and for `fm.in_support_fraction`.
    A mask token has no point and is refused."""
    V, board = _check_grid(V, board)
    tokens = _check_data("tokens", tokens, V)
    width = 2 * board.scale / V
    return (-board.scale + (tokens.to(torch.float64) + 0.5) * width).to(torch.float32)


def points_to_tokens(x: torch.Tensor, V: int = 32, *, board: Board = BOARD) -> torch.Tensor:
    """The bin each point of [-scale, scale]^2 lies in, tokens (n, 2) int64 (the right and top edges
    belong to the last bin). Points off the board are refused."""
    V, board = _check_grid(V, board)
    check_points("x", x)
    x = x.detach().to("cpu", torch.float64)
    if bool((x.abs() > board.scale).any()):
        raise ValueError(f"x must lie on the board [-{board.scale:g}, {board.scale:g}]^2, got a point at "
                         f"{x.abs().max().item():.4g} from the centre")
    return torch.floor((x + board.scale) / (2 * board.scale) * V).long().clamp(0, V - 1)


# ---- 2. the factorised mixture path ----------------------------------------------------------------
def raw_sample_path(x_1: torch.Tensor, t: torch.Tensor, source: str, schedule: str, V: int, generator: Any) -> torch.Tensor:
    """`sample_path`'s core: x_1 (n, 2) int64, t (n, 1); no checks."""
    x_0 = SOURCES[source].draw(len(x_1), V, generator).to(x_1.device)
    keep = torch.rand(x_1.shape, generator=generator).to(x_1.device) < KAPPA_SCHEDULES[schedule].kappa(t)
    return torch.where(keep, x_1, x_0)


def sample_path(x_1: torch.Tensor, t: Any, *, source: str = "mask", schedule: str = "linear", V: int = 32,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """x_t given x_1: each coordinate independently keeps x_1's token with probability kappa_t and
    takes a fresh draw of the source's otherwise.

    Args:
        x_1: tokens (n, 2) in 0..V-1.
        t: a float or a tensor (n,) / (n, 1) in [0, 1].
        source, schedule: keys of `SOURCES` and `KAPPA_SCHEDULES`.

    Returns:
        x_t, tokens (n, 2) int64 (the mask token V appears only with the mask source).
    """
    _check_source(source, schedule)
    V = check_count("V", V, minimum=2)
    x_1 = _check_data("x_1", x_1, V)
    t = check_time("t", t, len(x_1), like=torch.zeros((), dtype=torch.float64)).reshape(-1, 1).expand(len(x_1), 1)
    return raw_sample_path(x_1, t, source, schedule, V, check_generator("generator", generator))


def _kernel(t: float, source: str, schedule: str, V: int) -> torch.Tensor:
    """K_t (S, V): K[s, v] = P(x_t^i = s | x_1^i = v) = kappa_t delta(s, v) + (1 - kappa_t) p_0(s)."""
    kappa = float(KAPPA_SCHEDULES[schedule].kappa(torch.tensor(t, dtype=torch.float64)))
    p0 = SOURCES[source].probs(V)
    eye = torch.eye(len(p0), V, dtype=torch.float64)
    return kappa * eye + (1 - kappa) * p0[:, None]


def raw_path_law(t: float, source: str, schedule: str, V: int, law: torch.Tensor) -> torch.Tensor:
    """`path_law`'s core: pi_t = K_t pi_1 K_t^T, (S, S)."""
    K = _kernel(t, source, schedule, V)
    return K @ law @ K.T


def path_law(t: Any, *, source: str = "mask", schedule: str = "linear", V: int = 32, board: Board = BOARD) -> torch.Tensor:
    """pi_t, the law of x_t, exactly: pi_t(a, b) = sum over x_1 of pi_1(x_1) K_t(a | x_1^1) K_t(b | x_1^2)
    with K_t(s | v) = kappa_t delta(s, v) + (1 - kappa_t) p_0(s), i.e. pi_t = K_t pi_1 K_t^T.

    Returns:
        float64 (S, S), S = V (+ 1 for the mask token, the last row and column); sums to 1.
    """
    _check_source(source, schedule)
    V, board = _check_grid(V, board)
    t = check_number("t", t)
    check_time("t", t)
    return raw_path_law(t, source, schedule, V, raw_grid_law(V, board))


# ---- 3. the exact posterior and the rate -----------------------------------------------------------
def _likelihoods(x_t: torch.Tensor, t: torch.Tensor, source: str, schedule: str, V: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A, B (n, V): K_t(x_t^1 | v) and K_t(x_t^2 | v) for every value v of x_1's coordinate."""
    kappa = KAPPA_SCHEDULES[schedule].kappa(t.to(torch.float64))  # (n, 1)
    p0 = SOURCES[source].probs(V).to(x_t.device)
    values = torch.arange(V, device=x_t.device)
    rows = [kappa * (x_t[:, i:i + 1] == values).to(torch.float64) + (1 - kappa) * p0[x_t[:, i]][:, None]
            for i in range(2)]
    return rows[0], rows[1]


def _fallback(x_t: torch.Tensor, law: torch.Tensor, V: int) -> torch.Tensor:
    """Marginals (n, 2, V) where x_t is impossible at t: its own token where unmasked, else pi_1's marginal."""
    marginals = torch.stack([law.sum(dim=1), law.sum(dim=0)])  # (2, V)
    own = torch.nn.functional.one_hot(x_t.clamp(max=V - 1), V).to(torch.float64)
    return torch.where((x_t < V)[:, :, None], own, marginals[None].to(x_t.device))


def raw_posterior_marginals(x_t: torch.Tensor, t: torch.Tensor, source: str, schedule: str, V: int,
                            law: torch.Tensor) -> torch.Tensor:
    """`posterior_marginals`' core, without forming the joint: with A, B the likelihoods of the two
    coordinates, p(x_1^1 = a | x_t) = A[a] (pi_1 B)[a] / Z and p(x_1^2 = b | x_t) = B[b] (A pi_1)[b] / Z."""
    A, B = _likelihoods(x_t, t, source, schedule, V)
    law = law.to(x_t.device)
    first, second = A * (B @ law.T), B * (A @ law)
    Z = first.sum(dim=1, keepdim=True)
    out = torch.stack([first, second], dim=1) / Z.clamp(min=1e-300)[:, :, None]
    return torch.where((Z > 0)[:, :, None], out, _fallback(x_t, law, V))


def raw_joint_posterior(x_t: torch.Tensor, t: torch.Tensor, source: str, schedule: str, V: int,
                        law: torch.Tensor) -> torch.Tensor:
    """`joint_posterior`'s core: Bayes' rule on the V^2 states, (n, V, V)."""
    A, B = _likelihoods(x_t, t, source, schedule, V)
    joint = A[:, :, None] * law.to(x_t.device)[None] * B[:, None, :]
    Z = joint.sum(dim=(1, 2), keepdim=True)
    fallback = _fallback(x_t, law, V)
    return torch.where(Z > 0, joint / Z.clamp(min=1e-300), fallback[:, 0, :, None] * fallback[:, 1, None, :])


def _path_arguments(x_t: Any, t: Any, source: Any, schedule: Any, V: Any, board: Any):
    _check_source(source, schedule)
    V, board = _check_grid(V, board)
    x_t = _check_states("x_t", x_t, source, V)
    t = check_time("t", t, len(x_t), like=torch.zeros((), dtype=torch.float64)).reshape(-1, 1).expand(len(x_t), 1)
    return x_t, t, V, raw_grid_law(V, board)


def joint_posterior(x_t: torch.Tensor, t: Any, *, source: str = "mask", schedule: str = "linear", V: int = 32,
                    board: Board = BOARD) -> torch.Tensor:
    """p(x_1 | x_t) over all V^2 states by Bayes' rule: proportional to
    pi_1(x_1) K_t(x_t^1 | x_1^1) K_t(x_t^2 | x_1^2) (`path_law` defines K_t).

    Where x_t is impossible at time t (pi_t(x_t) = 0, e.g. two unmasked tokens on a white cell
    with the mask source) the posterior is undefined; the answer there is the product of, per
    coordinate, its own token if unmasked and pi_1's marginal if masked.

    Returns:
        float64 (n, V, V): entry [k, a, b] is p(x_1 = (a, b) | x_t^k); each [k] sums to 1.
    """
    x_t, t, V, law = _path_arguments(x_t, t, source, schedule, V, board)
    return raw_joint_posterior(x_t, t, source, schedule, V, law)


def posterior_marginals(x_t: torch.Tensor, t: Any, *, source: str = "mask", schedule: str = "linear", V: int = 32,
                        board: Board = BOARD) -> torch.Tensor:
    """The per-coordinate marginals of `joint_posterior`, p(x_1^i = v | x_t): what a factorised
    network's cross-entropy is minimised by.

    Returns:
        float64 (n, 2, V): [k, i] is the law of coordinate i of x_1 given x_t^k.
    """
    x_t, t, V, law = _path_arguments(x_t, t, source, schedule, V, board)
    return raw_posterior_marginals(x_t, t, source, schedule, V, law)


def factorisation_gap(x_t: torch.Tensor, t: Any, *, source: str = "mask", schedule: str = "linear", V: int = 32,
                      board: Board = BOARD) -> torch.Tensor:
    """What a factorised network cannot learn: the total variation between the joint posterior
    p(x_1 | x_t) and the product of its two marginals, per state (0 where the coordinates of x_1
    are independent given x_t, e.g. once one of them is unmasked).

    Returns:
        float64 (n,), each in [0, 1].
    """
    x_t, t, V, law = _path_arguments(x_t, t, source, schedule, V, board)
    joint = raw_joint_posterior(x_t, t, source, schedule, V, law)
    product = joint.sum(dim=2)[:, :, None] * joint.sum(dim=1)[:, None, :]
    return 0.5 * (joint - product).abs().sum(dim=(1, 2))


def raw_rate(marginals: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, source: str, schedule: str) -> torch.Tensor:
    """`rate_from_posterior`'s core: kappa'_t / (1 - kappa_t) (p_{1|t}(y | x_t) - delta(y, x_t^i)), (n, 2, S)."""
    V = marginals.shape[-1]
    S = n_tokens(source, V)
    t = t.to(torch.float64)
    schedule_ = KAPPA_SCHEDULES[schedule]
    factor = (schedule_.dkappa(t) / (1 - schedule_.kappa(t)))[:, :, None]  # (n, 1, 1)
    padded = torch.nn.functional.pad(marginals.to(torch.float64), (0, S - V))
    return factor * (padded - torch.nn.functional.one_hot(x_t, S).to(torch.float64))


def rate_from_posterior(marginals: torch.Tensor, x_t: torch.Tensor, t: Any, *, source: str = "mask",
                        schedule: str = "linear") -> torch.Tensor:
    """The per-coordinate rate of the chain that carries pi_t, from the posterior marginals.

    Derivation. Given x_1, each coordinate's law is p_t(y | x_1^i) = kappa_t delta(y, x_1^i) +
    (1 - kappa_t) p_0(y), so d/dt p_t(y | x_1^i) = kappa'_t (delta(y, x_1^i) - p_0(y)). Eliminating
    p_0(y) = (p_t(y | x_1^i) - kappa_t delta(y, x_1^i)) / (1 - kappa_t) gives

        d/dt p_t(y | x_1^i) = kappa'_t / (1 - kappa_t) (delta(y, x_1^i) - p_t(y | x_1^i))
                            = sum_x p_t(x | x_1^i) u_t(y | x, x_1^i),

    with the conditional rate u_t(y | x, x_1^i) = kappa'_t / (1 - kappa_t) (delta(y, x_1^i) - delta(y, x)):
    a coordinate not yet at x_1's token jumps there at rate kappa'_t / (1 - kappa_t). The coordinates
    are independent given x_1, so the chain that moves one coordinate at a time with these rates
    carries p_t(. | x_1) on the states. Averaging the forward equation over pi_1(x_1) and writing
    pi_1(x_1) p_t(x | x_1) = pi_t(x) p(x_1 | x_t = x) shows that the rate E[u_t(y | x, x_1^i) | x_t = x]
    carries pi_t; the conditional rate is linear in delta(y, x_1^i), whose posterior mean is the
    marginal p_{1|t}(x_1^i = y | x_t), so

        u_t(y | x_t) = kappa'_t / (1 - kappa_t) (p_{1|t}(x_1^i = y | x_t) - delta(y, x_t^i)),

    the discrete analogue of the marginal velocity (`forward_equation_terms` checks it on all states).
    Each row sums to 0, and off the diagonal it is >= 0.

    Args:
        marginals: p(x_1^i = v | x_t), (n, 2, V), rows >= 0 summing to 1 (`posterior_marginals`,
            or a network's softmax); V is its last size.
        x_t: the states (n, 2); t: times in [0, 1) (the factor is infinite at t = 1).

    Returns:
        float64 (n, 2, S), S = V (+ 1 with the mask source: the mask column is 0 off the diagonal).
    """
    _check_source(source, schedule)
    if not isinstance(marginals, torch.Tensor) or marginals.dim() != 3 or marginals.shape[1] != 2:
        raise ValueError(f"marginals must be a tensor of shape (n, 2, V), got "
                         f"{tuple(marginals.shape) if isinstance(marginals, torch.Tensor) else type(marginals).__name__}")
    if not marginals.is_floating_point() or not bool(torch.isfinite(marginals).all()):
        raise ValueError("marginals must hold finite floating-point probabilities")
    V = marginals.shape[2]
    if bool((marginals < 0).any()) or bool(((marginals.sum(dim=2) - 1).abs() > 1e-6).any()):
        raise ValueError("marginals must be >= 0 and sum to 1 over the V values of each coordinate")
    x_t = _check_states("x_t", x_t, source, V)
    if len(x_t) != len(marginals):
        raise ValueError(f"x_t has {len(x_t)} rows but marginals has {len(marginals)}")
    return raw_rate(marginals, x_t, _check_rate_time(t, len(x_t), schedule), source, schedule)


def exact_rate(x_t: torch.Tensor, t: Any, *, source: str = "mask", schedule: str = "linear", V: int = 32,
               board: Board = BOARD) -> torch.Tensor:
    """The exact rate of the chain that carries pi_t: `rate_from_posterior` of `posterior_marginals`.

    Returns:
        float64 (n, 2, S).
    """
    x_t, _, V, law = _path_arguments(x_t, 0.0, source, schedule, V, board)
    t = _check_rate_time(t, len(x_t), schedule)
    return raw_rate(raw_posterior_marginals(x_t, t, source, schedule, V, law), x_t, t, source, schedule)


def raw_all_states(S: int) -> torch.Tensor:
    """Every state (a, b), a, b in 0..S-1, in the order a * S + b: (S^2, 2) int64."""
    tokens = torch.arange(S)
    return torch.stack([tokens.repeat_interleave(S), tokens.repeat(S)], dim=1)


def all_states(*, source: str = "mask", V: int = 32) -> torch.Tensor:
    """Every state of the path, (S^2, 2) int64, in the order of `path_law(...).reshape(-1)` (state
    (a, b) is row a * S + b)."""
    _check_source(source)
    return raw_all_states(n_tokens(source, check_count("V", V, minimum=2)))


def raw_generator_matrix(rates: torch.Tensor, S: int) -> torch.Tensor:
    """`generator_matrix`'s core, no checks."""
    states = raw_all_states(S).to(rates.device)
    n = len(states)
    rows = torch.arange(n, device=rates.device)[:, None].expand(n, S)
    tokens = torch.arange(S, device=rates.device)[None, :]
    first = tokens * S + states[:, 1:2]   # (a', b): the first coordinate jumps
    second = states[:, 0:1] * S + tokens  # (a, b'): the second coordinate jumps
    Q = torch.zeros(n, n, dtype=rates.dtype, device=rates.device)
    Q.index_put_((rows.reshape(-1), first.reshape(-1)), rates[:, 0].reshape(-1), accumulate=True)
    Q.index_put_((rows.reshape(-1), second.reshape(-1)), rates[:, 1].reshape(-1), accumulate=True)
    return Q


def generator_matrix(rates: torch.Tensor, *, source: str = "mask", V: int = 32) -> torch.Tensor:
    """The generator Q of the chain on all S^2 states, from per-coordinate rates at every state.

    Only one coordinate jumps at a time: Q[(a, b), (a', b)] = u^1(a' | a, b) for a' != a,
    Q[(a, b), (a, b')] = u^2(b' | a, b) for b' != b, and the diagonal is u^1(a | a, b) + u^2(b | a, b),
    so each row of Q sums to 0.

    Args:
        rates: (S^2, 2, S), the rates at every state in the order of `all_states` (rows summing to 0,
            >= 0 off the diagonal).

    Returns:
        Q, (S^2, S^2) in rates' dtype: d pi_t / dt = pi_t Q_t is the Kolmogorov forward equation.
    """
    _check_source(source)
    S = n_tokens(source, check_count("V", V, minimum=2))
    check_rate("rates", rates, raw_all_states(S), S)
    return raw_generator_matrix(rates, S)


RateFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _exact_rate_function(source: str, schedule: str, V: int, law: torch.Tensor) -> RateFunction:
    def rate(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return raw_rate(raw_posterior_marginals(x_t, t, source, schedule, V, law), x_t, t, source, schedule)

    return rate


def forward_equation_terms(t: Any, *, source: str = "mask", schedule: str = "linear", V: int = 32,
                           board: Board = BOARD, rate: RateFunction | None = None, h: float = 1e-2
                           ) -> tuple[torch.Tensor, torch.Tensor]:
    """The two sides of the Kolmogorov forward equation d pi_t / dt = pi_t Q_t on all S^2 states.

    d pi_t / dt is a five-point central difference of the exact `path_law` in t (step h): pi_t is a
    polynomial of degree <= 4 in t for both schedules (quadratic in kappa_t), which that stencil
    differentiates exactly whatever h, so the two sides agree to rounding when the rate is right
    (a larger h divides the rounding error of pi_t by less).

    Args:
        t: a time in [2h, 1 - 2h].
        rate: a rate function rate(x_t, t) -> (n, 2, S) (see the module's docstring); None: the
            exact rate. Its answer on all states is checked (rows sum to 0, >= 0 off the diagonal).
        h: the finite-difference step, in (0, 0.01].

    Returns:
        (dpi_dt, pi_Q), each float64 (S, S).
    """
    _check_source(source, schedule)
    V, board = _check_grid(V, board)
    t = check_number("t", t)
    h = check_number("h", h)
    if not 0 < h <= 0.01:
        raise ValueError(f"h must lie in (0, 0.01], got {h}")
    if not 2 * h <= t <= 1 - 2 * h:
        raise ValueError(f"t must lie in [2h, 1 - 2h] (central differences in time), got {t}")
    law = raw_grid_law(V, board)
    S = n_tokens(source, V)
    if rate is None:
        rate = _exact_rate_function(source, schedule, V, law)
    check_callable("rate", rate, "rate(x_t, t)")
    states = raw_all_states(S)
    rates = check_rate("rate", rate(states, torch.full((S * S, 1), t, dtype=torch.float64)), states, S,
                       " (the rate function's answer on all states)").to(torch.float64)
    pi = lambda s: raw_path_law(s, source, schedule, V, law)  # noqa: E731
    dpi_dt = (-pi(t + 2 * h) + 8 * pi(t + h) - 8 * pi(t - h) + pi(t - 2 * h)) / (12 * h)
    pi_Q = (pi(t).reshape(1, -1) @ raw_generator_matrix(rates, S)).reshape(S, S)
    return dpi_dt, pi_Q


# ---- 4. the jump sampler ---------------------------------------------------------------------------
def _step_probs(x: torch.Tensor, rate: torch.Tensor, h: float) -> torch.Tensor:
    """The law of each coordinate's next token, (n, 2, S): delta(., x^i) + h u(. | x), clamped at 0
    and renormalised (the clamp acts only when h times the rate of leaving exceeds 1)."""
    probs = (h * rate).scatter_add(2, x[:, :, None], torch.ones_like(rate[:, :, :1])).clamp(min=0)
    return probs / probs.sum(dim=2, keepdim=True)


def raw_jump_step(x: torch.Tensor, rate: torch.Tensor, h: float, generator: Any) -> torch.Tensor:
    """One Euler step of the chain, no checks: each coordinate draws its next token from
    `_step_probs`, by inverting the cumulative sum with one uniform per coordinate (exact, and
    several times faster than torch.multinomial on the CPU)."""
    cdf = _step_probs(x, rate, h).cumsum(dim=2)
    u = (1 - torch.rand(x.shape + (1,), generator=generator, dtype=cdf.dtype)).to(cdf.device) * cdf[:, :, -1:]
    return (cdf < u).sum(dim=2).clamp(max=rate.shape[2] - 1)


def jump_sample(rate: RateFunction, n: int, n_steps: int, *, source: str = "mask", V: int = 32,
                generator: torch.Generator | None = None, start: torch.Tensor | None = None) -> torch.Tensor:
    """Sample by Euler jumps of the chain: T = n_steps steps of h = 1 / T from t = 0.

    At step k (t_k = k h) every coordinate independently draws its next token from
    delta(y, x^i) + h u_{t_k}(y | x): it jumps to y with probability h u(y | x) and stays otherwise.
    With the exact rate and kappa_t = t, the factor h / (1 - t_k) = 1 / (T - k) never makes that
    negative, and the last step (k = T - 1) unmasks every coordinate.

    Args:
        rate: a rate function rate(x_t, t) -> (n, 2, S), e.g. the exact one (`exact_rate` with the
            keywords bound) or a network's (`model_rate`); its first answer is checked.
        n: the number of samples; n_steps: T >= 1.
        source: where the chain starts (`sample_source`), unless `start` gives the n states.
        generator: seeds the source and every jump.

    Returns:
        tokens (n, 2) int64 at t = 1 (with a schedule whose Euler steps leave some coordinates
        masked, e.g. "quadratic", a few mask tokens may remain: the scores count them as misses).
    """
    check_callable("rate", rate, "rate(x_t, t)")
    n = check_count("n", n)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    _check_source(source)
    V = check_count("V", V, minimum=2)
    generator = check_generator("generator", generator)
    S = n_tokens(source, V)
    if start is None:
        x = raw_sample_source(n, source, V, generator)
    else:
        x = _check_states("start", start, source, V).clone()
        if len(x) != n:
            raise ValueError(f"start must hold n = {n} states, got {len(x)}")
    h = 1.0 / n_steps
    for k in range(n_steps):
        t = torch.full((len(x), 1), k * h, dtype=torch.float64)
        u = rate(x, t)
        if k == 0:
            check_rate("rate", u, x, S, " (the rate function's answer at t = 0)")
        x = raw_jump_step(x, u.to(torch.float64), h, generator)
    return x


def raw_sample_source(n: int, source: str, V: int, generator: Any) -> torch.Tensor:
    """`sample_source`'s core, no checks."""
    return SOURCES[source].draw(n, V, generator)


def jump_law(rate: RateFunction, n_steps: int, *, source: str = "mask", V: int = 32) -> torch.Tensor:
    """The exact law of `jump_sample`'s output, by propagating a law over all S^2 states instead of
    drawing samples: no sampling noise, so its TV to pi_1 is the sampler's error itself.

    One step moves the law p to p K with K(x, (a', b')) = P_1(a' | x) P_2(b' | x), the two coordinates'
    next-token laws delta(., x^i) + h u(. | x) at state x (both may jump in one step; the chain's
    generator moves one at a time, which is where Euler's error of order h comes from).

    Args:
        rate: a rate function, as for `jump_sample`; called on all S^2 states at each step.
        n_steps: T >= 1.

    Returns:
        float64 (S, S), the law at t = 1 (the last row and column are the mask token's, with that source).
    """
    check_callable("rate", rate, "rate(x_t, t)")
    n_steps = check_count("n_steps", n_steps, minimum=1)
    _check_source(source)
    V = check_count("V", V, minimum=2)
    S = n_tokens(source, V)
    states = raw_all_states(S)
    p0 = SOURCES[source].probs(V)
    law = p0[:, None] * p0[None, :]
    h = 1.0 / n_steps
    for k in range(n_steps):
        u = rate(states, torch.full((S * S, 1), k * h, dtype=torch.float64))
        if k == 0:
            check_rate("rate", u, states, S, " (the rate function's answer at t = 0)")
        probs = _step_probs(states, u.to(torch.float64), h)
        # law @ K without forming K (S^2 x S^2): sum_x law(x) P_1(a' | x) P_2(b' | x)
        law = (law.reshape(-1, 1) * probs[:, 0, :]).T @ probs[:, 1, :]
    return law.reshape(S, S)


def _check_law(law: Any, V: int) -> None:
    """A law over the states: a float tensor (V, V), or (V + 1, V + 1) with the mask token last, >= 0, summing to 1."""
    if not isinstance(law, torch.Tensor) or law.shape not in ((V, V), (V + 1, V + 1)):
        raise ValueError(f"law must be a tensor of shape ({V}, {V}) or ({V + 1}, {V + 1}), got "
                         f"{tuple(law.shape) if isinstance(law, torch.Tensor) else type(law).__name__}")
    if not law.is_floating_point() or bool((law < 0).any()) or abs(law.sum().item() - 1) > 1e-6:
        raise ValueError("law must hold probabilities: >= 0, summing to 1")


def law_tv(law: torch.Tensor, V: int = 32, *, board: Board = BOARD) -> float:
    """Total variation between a law over the states, (V, V) or (V + 1, V + 1) with the mask token
    last (e.g. `jump_law`), and pi_1 on the grid: 1/2 sum of |law - pi_1|."""
    V, board = _check_grid(V, board)
    _check_law(law, V)
    target = torch.zeros_like(law, dtype=torch.float64)
    target[:V, :V] = raw_grid_law(V, board)
    return 0.5 * (law.to(torch.float64) - target).abs().sum().item()


def model_rate(model: nn.Module, *, source: str = "mask", schedule: str = "linear") -> RateFunction:
    """The rate function of a factorised network: `rate_from_posterior` of its softmax, unchecked
    (the sampler checks the first answer). The network runs without gradients, on its own device."""
    check_model("model", model, "fm.DiscreteMLP()")
    if not isinstance(model, DiscreteMLP):
        raise TypeError(f"model must be an fm.DiscreteMLP (per-coordinate logits), got {type(model).__name__}")
    _check_source(source, schedule)
    weight = next(model.parameters())

    def rate(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            logits = model.raw(x_t.to(weight.device), t.to(weight.device, weight.dtype))
        return raw_rate(torch.softmax(logits.to(torch.float64), dim=2).to(x_t.device), x_t, t, source, schedule)

    return rate


# ---- scores ----------------------------------------------------------------------------------------
def black_share(tokens: torch.Tensor, V: int = 32, *, board: Board = BOARD) -> float:
    """The share of states on a black cell (a mask token left over counts as a miss)."""
    V, board = _check_grid(V, board)
    tokens = check_tokens("tokens", tokens, V + 1, span=f"V = {V} values, and {V} for the mask token")
    if len(tokens) == 0:
        raise ValueError("tokens must hold at least one state")
    law = torch.nn.functional.pad(raw_grid_law(V, board), (0, 1, 0, 1))
    tokens = tokens.cpu()
    return (law[tokens[:, 0], tokens[:, 1]] > 0).to(torch.float64).mean().item()


def raw_grid_tv(tokens: torch.Tensor, law: torch.Tensor) -> float:
    """`grid_tv`'s core: tokens in 0..V (V, mask, has pi_1 probability 0)."""
    V = law.shape[0]
    counts = torch.bincount(tokens[:, 0] * (V + 1) + tokens[:, 1], minlength=(V + 1) ** 2).to(torch.float64)
    target = torch.nn.functional.pad(law, (0, 1, 0, 1)).reshape(-1)
    return 0.5 * (counts / len(tokens) - target).abs().sum().item()


def grid_tv(tokens: torch.Tensor, V: int = 32, *, board: Board = BOARD) -> float:
    """Total variation between the states' histogram and pi_1 on the grid, exactly (0 is perfect,
    1 the worst): 1/2 sum over states of |share of the samples - pi_1|; mask tokens count as misses."""
    V, board = _check_grid(V, board)
    tokens = check_tokens("tokens", tokens, V + 1, span=f"V = {V} values, and {V} for the mask token")
    if len(tokens) == 0:
        raise ValueError("tokens must hold at least one state")
    return raw_grid_tv(tokens.cpu(), raw_grid_law(V, board))


def tv_noise_floor(n: int, V: int = 32, *, board: Board = BOARD, n_draws: int = 4, two_sample: bool = False,
                   generator: torch.Generator | None = None) -> float:
    """What `grid_tv` gives for n exact draws of pi_1 (the floor a perfect sampler sits on at this
    size), averaged over n_draws; two_sample=True gives instead the TV between the histograms of two
    independent exact samples of n each (about sqrt(2) times larger)."""
    n = check_count("n", n, minimum=1)
    V, board = _check_grid(V, board)
    n_draws = check_count("n_draws", n_draws, minimum=1)
    check_flag("two_sample", two_sample)
    generator = check_generator("generator", generator)
    law = raw_grid_law(V, board)
    total = 0.0
    for _ in range(n_draws):
        x = raw_sample_grid(n, law, generator)
        if two_sample:
            y = raw_sample_grid(n, law, generator)
            hist = lambda z: torch.bincount(z[:, 0] * V + z[:, 1], minlength=V * V).to(torch.float64) / n  # noqa: E731
            total += 0.5 * (hist(x) - hist(y)).abs().sum().item()
        else:
            total += raw_grid_tv(x, law)
    return total / n_draws


# ---- 5. learning -----------------------------------------------------------------------------------
def raw_discrete_loss(logits: torch.Tensor, x_1: torch.Tensor) -> torch.Tensor:
    """`discrete_loss`'s core: cross-entropy summed over the two coordinates, mean over the batch."""
    n, _, V = logits.shape
    return torch.nn.functional.cross_entropy(logits.reshape(-1, V), x_1.reshape(-1), reduction="sum") / n


def discrete_loss(model: nn.Module, x_t: torch.Tensor, x_1: torch.Tensor, t: Any) -> torch.Tensor:
    """Cross-entropy of x_1 under the network's per-coordinate prediction at (x_t, t):
    mean over the batch of - sum_i log p_theta(x_1^i | x_t, t). For each coordinate its minimiser
    is the posterior marginal p(x_1^i | x_t) (the discrete analogue of regressing on the
    conditional velocity).

    Args:
        model: an `fm.DiscreteMLP`; x_t: tokens (n, 2) in 0..V (V is the mask); x_1: tokens (n, 2)
            in 0..V-1; t: float or (n,) / (n, 1).

    Returns:
        a scalar tensor with a gradient.
    """
    check_model("model", model, "fm.DiscreteMLP()")
    if not isinstance(model, DiscreteMLP):
        raise TypeError(f"model must be an fm.DiscreteMLP (per-coordinate logits), got {type(model).__name__}")
    V = model.V
    x_1 = _check_data("x_1", x_1, V)
    logits = model(x_t, t)
    if len(x_t) != len(x_1):
        raise ValueError(f"x_t has {len(x_t)} rows but x_1 has {len(x_1)}")
    return raw_discrete_loss(logits, x_1.to(logits.device))


def train_discrete(model: nn.Module, recipe: DiscreteRecipe | None = None, *, progress: bool = True,
                   snapshot_every: int | None = None, device: Any = None, **changes: Any) -> TrainResult:
    """Train a factorised network on the cross-entropy loss, with `fm.fit`, as `recipe` says.

    Each iteration draws x_1 ~ pi_1 on the grid exactly, t (`fm.sample_time` with the recipe's
    time_sampling) and x_t ~ p_t(. | x_1) on the recipe's path (source and schedule), all from one
    generator seeded with the recipe's seed.

    Args:
        model: an `fm.DiscreteMLP` whose V is the recipe's.
        recipe: an `fm.DiscreteRecipe` (default `fm.DISCRETE_RECIPE`), with `changes` applied.
        progress, snapshot_every, device: as `fm.fit`.

    Returns:
        TrainResult (see `fm.fit`).
    """
    check_model("model", model, "fm.DiscreteMLP()")
    if not isinstance(model, DiscreteMLP):
        raise TypeError(f"model must be an fm.DiscreteMLP (per-coordinate logits), got {type(model).__name__}")
    recipe = as_recipe(recipe, changes, DISCRETE_RECIPE, DiscreteRecipe)
    if model.V != recipe.V:
        raise ValueError(f"model has V = {model.V} but the recipe's V is {recipe.V}")
    law = raw_grid_law(recipe.V, recipe.board)

    def batch_loss(generator: torch.Generator, device: torch.device) -> torch.Tensor:
        x_1 = raw_sample_grid(recipe.batch_size, law, generator)
        t = raw_time(recipe.batch_size, recipe.time_sampling, generator)
        x_t = raw_sample_path(x_1, t, recipe.source, recipe.schedule, recipe.V, generator)
        logits = model.raw(x_t.to(device), t.to(device, next(model.parameters()).dtype))
        return raw_discrete_loss(logits, x_1.to(device))

    return fit(model, batch_loss, recipe, progress=progress, snapshot_every=snapshot_every, device=device,
               desc="discrete")


# ---- 6. likelihood ---------------------------------------------------------------------------------
def grid_entropy(V: int = 32, *, board: Board = BOARD) -> float:
    """H(pi_1) = - sum_x pi_1(x) log pi_1(x) in nats, exactly, by summing over the V^2 states (pi_1
    is uniform on the black bins, so this is the log of their number)."""
    law = raw_grid_law(*_check_grid(V, board))
    black = law[law > 0]
    return -(black * black.log()).sum().item()


def law_cross_entropy(law: torch.Tensor, V: int = 32, *, board: Board = BOARD) -> float:
    """- sum_x pi_1(x) log law(x) in nats: the exact mean negative log-likelihood of pi_1's data
    under a law over the states, e.g. `jump_law`'s (the sampler's own law at T steps). It equals
    H(pi_1) + KL(pi_1 || law), so it is at least `grid_entropy`; inf where the law puts nothing on a
    black bin.

    Args:
        law: float (V, V) or (V + 1, V + 1) with the mask token last, >= 0, summing to 1.
    """
    V, board = _check_grid(V, board)
    _check_law(law, V)
    target = raw_grid_law(V, board)
    black = target > 0
    return -(target[black] * law[:V, :V].to(torch.float64)[black].log()).sum().item()


def _nodes(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss-Legendre nodes and weights on [0, 1], float64."""
    import numpy as np

    x, w = np.polynomial.legendre.leggauss(n)
    return torch.tensor((x + 1) / 2), torch.tensor(w / 2)


def negative_elbo(model: nn.Module | None = None, *, schedule: str = "linear", V: int = 32, board: Board = BOARD,
                  n_nodes: int = 32) -> float:
    """The mask source's bound on the negative log-likelihood, in nats, averaged over pi_1:

        - log p(x_1) <= int_0^1 kappa'_t / (1 - kappa_t) E_{x_t ~ p_t(. | x_1)} [ sum over the masked
                        coordinates i of x_t of - log p_theta(x_1^i | x_t, t) ] dt,

    for the continuous-time chain whose rate is `rate_from_posterior` of p_theta (the evidence lower
    bound of masked diffusion, with its sign turned). Each coordinate of x_t is masked with
    probability 1 - kappa_t, independently, so the expectation is a sum over four masking
    patterns, done exactly; the integrand kappa'_t ((1 - kappa_t)(l_1 + l_2 at both masked) +
    kappa_t (l_1 at (mask, x_1^2) + l_2 at (x_1^1, mask))) is smooth, and the time integral is
    Gauss-Legendre with n_nodes nodes. With the exact posterior (model=None) it equals
    `grid_entropy` whatever the schedule: the bound is tight.

    Args:
        model: an `fm.DiscreteMLP` trained with the mask source, or None for the exact posterior.
        schedule: a key of `KAPPA_SCHEDULES`.
        n_nodes: Gauss-Legendre nodes in t, >= 1.

    Returns:
        the bound in nats (compare `grid_entropy`, and `law_cross_entropy` of a `jump_law`).
    """
    check_choice("schedule", schedule, tuple(KAPPA_SCHEDULES))
    V, board = _check_grid(V, board)
    n_nodes = check_count("n_nodes", n_nodes, minimum=1)
    if model is not None:
        check_model("model", model, "fm.DiscreteMLP()")
        if not isinstance(model, DiscreteMLP):
            raise TypeError(f"model must be an fm.DiscreteMLP (per-coordinate logits) or None, got {type(model).__name__}")
        if model.V != V:
            raise ValueError(f"model has V = {model.V} but V is {V}")
    law = raw_grid_law(V, board)
    x_1 = raw_all_states(V)[law.reshape(-1) > 0]
    weight = law.reshape(-1)[law.reshape(-1) > 0]
    m = len(x_1)
    mask = torch.full((m,), V)
    patterns = torch.cat([torch.stack([mask, mask], 1), torch.stack([mask, x_1[:, 1]], 1),
                          torch.stack([x_1[:, 0], mask], 1)])  # both masked; the first; the second
    targets = torch.cat([x_1, x_1, x_1])
    nodes, weights = _nodes(n_nodes)
    schedule_ = KAPPA_SCHEDULES[schedule]
    total = 0.0
    for t, w in zip(nodes, weights):
        times = torch.full((3 * m, 1), float(t), dtype=torch.float64)
        if model is None:
            probs = raw_posterior_marginals(patterns, times, "mask", schedule, V, law)
        else:
            parameter = next(model.parameters())
            with torch.no_grad():
                logits = model.raw(patterns.to(parameter.device), times.to(parameter.device, parameter.dtype))
            probs = torch.softmax(logits.to(torch.float64), dim=2).cpu()
        loss = -probs.gather(2, targets[:, :, None]).squeeze(2).clamp(min=1e-300).log()  # (3m, 2)
        both, first, second = loss[:m].sum(1), loss[m:2 * m, 0], loss[2 * m:, 1]
        kappa, dkappa = schedule_.kappa(t), schedule_.dkappa(t)
        total += float(w) * float(dkappa) * (weight * ((1 - kappa) * both + kappa * (first + second))).sum().item()
    return total
