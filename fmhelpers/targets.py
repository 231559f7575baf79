"""What v_theta regresses on: training times, the regression targets and the flow matching loss.

The loss for one batch, with t, x_0 ~ pi_0 and x_1 ~ pi_1 drawn independently:

    L(theta) = mean_i || goal_i - v_theta(x_t^i, t^i) ||^2

with one of three goals (`TARGETS`):

- "conditional": the conditional velocity u_t of the pair (the write-up's loss);
- "minibatch": `minibatch_target`, an average of the conditional velocities over the batch's x_1,
  weighted by how likely each x_1 is to have produced x_t: a Monte Carlo estimate of the marginal
  velocity v*(x_t, t) (the quantity the loss above secretly regresses on) with less noise;
- "exact": v*(x_t, t) itself (`fm.marginal_velocity`), known in closed form for our board only:
  a ceiling check, not a method.

What the network predicts is a second choice, `fm.PREDICTIONS` (fmhelpers.interpolants): the
velocity as above, or the noise, the data or the score. The conditional goal is then the pair's own
x_0, x_1 or -x_0 (the score's loss compares alpha_t s_theta with it), and the minibatch and exact
goals, estimates of v*, are converted into that view.

`minibatch_weights` returns the minibatch target's weights themselves, and `empirical_velocity` is
the same posterior average with a whole data set as the reference set: the exact v* of a data set,
the field the loss is minimised by when pi_1 is that data set (notebook 11).

Every named choice is a table of functions, dispatched only as `TABLE[name](...)`: `TIME_SAMPLINGS`
(name -> draw(n, generator)), `INTERVALS` (the mean flow's (t, s): name -> draw(n, time_mean,
generator)) and `TARGETS` (name -> `Target`, its goal and what it needs). A recipe validates against
the tables' keys, so an entry that is not wired in cannot train as something else.

`cfm_loss`, `minibatch_target` and `sample_time` check their input; `point_and_goal` and `raw_time`
are their unchecked cores, which the trainers call on batches they drew themselves (nothing is
checked twice in a step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from ._checks import (
    as_field,
    check_choice,
    check_count,
    check_field_output,
    check_generator,
    check_points,
    check_positive,
    time_column,
)
from .distributions import BOARD, Board, check_board
from .interpolants import PREDICTIONS, Coefficients, Interpolant, check_interpolant
from .marginal import raw_marginal_velocity

ALPHA_MIN = 1e-3


def _uniform_times(n: int, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, 1, generator=generator)


def _late_times(n: int, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, 1, generator=generator).pow(0.5)


def _later_times(n: int, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, 1, generator=generator).pow(1 / 3)


def _mixed_times(n: int, generator: torch.Generator | None) -> torch.Tensor:
    later = torch.rand(n, 1, generator=generator)
    uniform = torch.rand(n, 1, generator=generator) < 0.1
    return torch.where(uniform, torch.rand(n, 1, generator=generator), later.pow(1 / 3))


def _two_step_times(n: int, generator: torch.Generator | None) -> torch.Tensor:
    u = torch.rand(n, 1, generator=generator)
    which = torch.rand(n, 1, generator=generator)
    return torch.where(which < 0.25, torch.zeros_like(u), torch.where(which < 0.5, torch.full_like(u, 0.5), u))


# name -> draw(n, generator) -> times (n, 1), float32 (see `sample_time`)
TIME_SAMPLINGS: dict[str, Callable[[int, torch.Generator | None], torch.Tensor]] = {
    "uniform": _uniform_times,
    "late": _late_times,
    "later": _later_times,
    "mixed": _mixed_times,
    "two-step": _two_step_times,
}


def _uniform_pair(n: int, time_mean: float, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(n, 1, generator=generator), torch.rand(n, 1, generator=generator)


def _logit_normal_pair(n: int, time_mean: float,
                       generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.sigmoid(torch.randn(n, 1, generator=generator) + time_mean),
            torch.sigmoid(torch.randn(n, 1, generator=generator) + time_mean))


# The mean flow's intervals: name -> draw(n, time_mean, generator) -> two unsorted times (n, 1) each;
# "logit-normal": the logit of each time ~ N(time_mean, 1) (time_mean = 0: median 1/2).
INTERVALS: dict[str, Callable[[int, float, torch.Generator | None], tuple[torch.Tensor, torch.Tensor]]] = {
    "uniform": _uniform_pair,
    "logit-normal": _logit_normal_pair,
}


def sample_time(n: int, time_sampling: str = "uniform", *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training times, shape (n, 1), float32.

    "uniform": t ~ U(0, 1), the write-up's choice. "late": density 2t on [0, 1] (t = sqrt(u)),
    which spends more of the batch near t = 1, where the marginal field is sharpest.
    "later": density 3t^2 (t = u^(1/3)), further still. "mixed": "later" for nine times in ten
    and uniform for the tenth (density 0.9 * 3t^2 + 0.1), so that early times are never starved:
    with "later" alone, P(t < 0.1) is 0.001, and a field barely trained there can send the
    Gaussian's far tail off to infinity (benchmarks/NOTES.md, round 6). "two-step": t = 0 for a
    quarter of the times, t = 1/2 for another quarter, uniform for the rest: the times at which
    Euler with T = 1 and T = 2 steps evaluates the field, for a flow meant to be sampled in one or
    two steps (notebook 07).
    """
    n = check_count("n", n)
    check_choice("time_sampling", time_sampling, tuple(TIME_SAMPLINGS))
    return raw_time(n, time_sampling, check_generator("generator", generator))


def raw_time(n: int, time_sampling: str, generator: torch.Generator | None) -> torch.Tensor:
    """`sample_time`'s core, no checks: `TIME_SAMPLINGS[time_sampling](n, generator)`."""
    return TIME_SAMPLINGS[time_sampling](n, generator)


def minibatch_target(
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    alpha_min: float = ALPHA_MIN,
) -> torch.Tensor:
    """Estimate of the marginal velocity v*(x_t^i, t^i) from the batch's own target samples.

    x_t = alpha_t x_0 + beta_t x_1 with x_0 ~ N(0, I), so x_t given x_1 is N(beta_t x_1, alpha_t^2 I).
    Using the batch's x_1^1..x_1^n as samples of pi_1, the posterior of x_1 given x_t^i puts weight
    w_ij proportional to exp(-||x_t^i - beta x_1^j||^2 / (2 alpha^2)) on x_1^j, and the velocity of
    the path through x_t^i that ends at x_1^j is (d_alpha / alpha)(x_t^i - beta x_1^j) + d_beta x_1^j.
    Their weighted average is returned, written as the conditional velocity u_t^i of the pair plus
    a correction gain_t * sum_j w_ij (x_1^j - x_1^i), gain_t = d_beta - d_alpha beta / alpha, so that
    it stays accurate as t -> 1, where the weights of the other samples vanish. Where alpha_t is below
    `alpha_min` (t within about 1e-3 of 1 on the linear path) the target is u_t itself: t = 1
    exactly would divide by zero.

    Args:
        x_0, x_1: (n, d) batch of source and target samples (x_1 doubles as the reference set);
            float32 and float64 mix (the result has the wider dtype).
        t: times in [0, 1]: a float, or shape (n,) or (n, 1).
        alpha_min: a positive floor for alpha_t (see above).

    Returns:
        (n, d) targets; at t = 0 they are mean(x_1) - x_0 for the linear path.
    """
    interpolant = check_interpolant(interpolant)
    alpha_min = check_positive("alpha_min", alpha_min)
    x_0, x_1, t = interpolant.check_pair(x_0, x_1, t)
    return point_and_goal(x_0, x_1, interpolant.raw_coefficients(t), "minibatch", alpha_min=alpha_min)[1]


def _posterior_logits(x_t: torch.Tensor, refs: torch.Tensor, c: Coefficients, alpha_min: float) -> torch.Tensor:
    """log P(X_1 = refs[j] | X_t = x_t[i]) up to a per-row constant, shape (n, m), for a reference set
    of equally likely x_1: -||x_t - beta x_1^j||^2 / (2 alpha^2) without the term that is the same for
    every j, (beta x_t . x_1^j - beta^2 ||x_1^j||^2 / 2) / alpha^2, with alpha at least alpha_min."""
    alpha = c.alpha_t.clamp_min(alpha_min)
    beta = c.beta_t
    rows = torch.cat([beta * x_t, -0.5 * beta * beta], dim=1) / alpha.pow(2)
    cols = torch.cat([refs, refs.pow(2).sum(dim=1, keepdim=True)], dim=1)
    return rows @ cols.T


def minibatch_weights(
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    alpha_min: float = ALPHA_MIN,
) -> torch.Tensor:
    """The weights of `minibatch_target`: w_ij = P(X_1 = x_1^j | X_t = x_t^i) with the batch's x_1 as
    equally likely references, x_t^i = alpha_t x_0^i + beta_t x_1^i.

    Row i is a probability vector over the batch; its diagonal entry w_ii is the weight on the pair's
    own endpoint, and 1 / sum_j w_ij^2 is how many references the row effectively averages
    (`fm.effective_sample_size`).

    Args:
        x_0, x_1: (n, d) batch of source and target samples, n >= 1.
        t: a float, or shape (n,) or (n, 1), in [0, 1].
        alpha_min: a positive floor for alpha_t (as in `minibatch_target`).

    Returns:
        (n, n) weights in the wider dtype of the inputs; each row sums to 1.
    """
    interpolant = check_interpolant(interpolant)
    alpha_min = check_positive("alpha_min", alpha_min)
    x_0, x_1, t = interpolant.check_pair(x_0, x_1, t)
    if len(x_0) == 0:
        raise ValueError("x_0 must hold at least one point (each row's weights are over the batch)")
    c = interpolant.coefficients(t)
    with torch.no_grad():
        return torch.softmax(_posterior_logits(c.interpolate(x_0, x_1), x_1, c, alpha_min), dim=1)


def empirical_velocity(
    x: torch.Tensor,
    t: Any,
    data: torch.Tensor,
    *,
    interpolant: Interpolant | None = None,
    alpha_min: float = ALPHA_MIN,
) -> torch.Tensor:
    """The exact marginal velocity v*(x, t) when pi_1 is the data set itself (each row equally likely).

    The posterior of X_1 given X_t = x is a softmax over the rows y_j of `data` with logits
    -||x - beta_t y_j||^2 / (2 alpha_t^2) (the minibatch target's weights, with every row of `data`
    as a reference), its mean m(x, t) = sum_j w_j y_j, and v* = (alpha'/alpha) x + gain m (the path's
    conversion, `Coefficients.velocity`): on the linear path, (m - x) / (1 - t). It is what the flow
    matching loss is minimised by when its x_1 are drawn from `data`; its flow ends on the rows of
    `data`. Where alpha_t < alpha_min (t within about 1e-3 of 1 on the linear path) alpha_min is used,
    so a solver that evaluates at t = 1 gets a finite, steep pull onto the nearest row.

    Args:
        x: points, shape (n, d); float64 recommended late in time, where the weights are sharp.
        t: a float, or shape (n,) or (n, 1), in [0, 1].
        data: the data set, shape (m, d), m >= 1 (cast to x's dtype).
        interpolant: the path (default linear).
        alpha_min: a positive floor for alpha_t.

    Returns:
        (n, d) velocities in x's dtype.
    """
    interpolant = check_interpolant(interpolant)
    alpha_min = check_positive("alpha_min", alpha_min)
    check_points("x", x, dim=None)
    check_points("data", data, dim=x.shape[1], min_rows=1)
    t = time_column(t, x)
    raw = interpolant.coefficients(t)
    c = Coefficients(raw.alpha_t.clamp_min(alpha_min), raw.beta_t, raw.d_alpha_t, raw.d_beta_t)
    data = data.to(x.device, t.dtype)
    weights = torch.softmax(_posterior_logits(x.to(t.dtype), data, c, alpha_min), dim=1)
    return c.velocity(x.to(t.dtype), weights @ data).to(x.dtype)


@torch.no_grad()
def _minibatch_goal(x_1: torch.Tensor, x_t: torch.Tensor, u_t: torch.Tensor, c: Coefficients, alpha_min: float,
                    labels: torch.Tensor | None, unlabelled: torch.Tensor | None) -> torch.Tensor:
    raw_alpha = c.alpha_t
    alpha = raw_alpha.clamp_min(alpha_min)
    beta = c.beta_t
    logits = _posterior_logits(x_t, x_1, c, alpha_min)
    if labels is not None:  # a labelled row averages over the batch's x_1 of its own class only
        other = labels[:, None] != labels[None, :]
        if unlabelled is not None:
            other &= ~unlabelled[:, None]
        logits = logits.masked_fill(other, float("-inf"))
    weights = torch.softmax(logits, dim=1)
    weights.fill_diagonal_(0.0)  # the pair's own x_1 enters through u_t below
    shift = weights @ x_1 - weights.sum(dim=1, keepdim=True) * x_1
    gain = torch.where(raw_alpha < alpha_min, 0.0, c.d_beta_t - c.d_alpha_t * beta / alpha)
    return u_t + gain * shift


def _conditional_goal(x_0, x_1, x_t, u_t, c, t, interpolant, board, alpha_min, labels, unlabelled, prediction):
    return prediction.pair_goal(x_0, x_1, u_t, c)


def _minibatch(x_0, x_1, x_t, u_t, c, t, interpolant, board, alpha_min, labels, unlabelled, prediction):
    return prediction.goal_from_velocity(c, x_t, _minibatch_goal(x_1, x_t, u_t, c, alpha_min, labels, unlabelled))


# v* is evaluated at min(t, 1 - t_eps) (`raw_marginal_velocity`) and converted with t's own coefficients, so
# within 1e-3 of t = 1 a non-velocity goal is that view of a slightly earlier field: a ceiling check only
def _exact_goal(x_0, x_1, x_t, u_t, c, t, interpolant, board, alpha_min, labels, unlabelled, prediction):
    return prediction.goal_from_velocity(c, x_t, raw_marginal_velocity(x_t, t, interpolant, board).to(x_t.dtype))


@dataclass(frozen=True)
class Target:
    """One regression target: `goal(x_0, x_1, x_t, u_t, c, t, interpolant, board, alpha_min, labels,
    unlabelled, prediction)` -> (n, d), and what the recipe must know of it. `prediction` is an entry
    of `PREDICTIONS` (fmhelpers.interpolants): the conditional target asks it for the pair's own
    goal (u_t, x_0, x_1 or -x_0), the others convert their velocity estimate into its view.

    Attributes:
        goal: the unchecked function (its arguments as in `point_and_goal`).
        needs_independent: it is a velocity field of independent pairs (its weights are the posterior
            of x_1 given x_t when x_0 and x_1 are drawn apart), so another coupling is refused.
        board_only: a closed form of the 2-D board, not of a data set.
        reference_batch: the batch is its own reference set (a batch of at least 2 rows; the loss
            floor depends on the batch size).
        takes_labels: it can average within the x_1 of one label (a conditional model).
    """

    goal: Callable[..., torch.Tensor]
    needs_independent: bool = False
    board_only: bool = False
    reference_batch: bool = False
    takes_labels: bool = True


# name -> Target: "conditional" (the pair's u_t, the write-up's loss), "minibatch" (the batch's
# estimate of v*, `minibatch_target`) and "exact" (v* itself, the board's closed form: a ceiling check)
TARGETS: dict[str, Target] = {
    "conditional": Target(_conditional_goal),
    "minibatch": Target(_minibatch, needs_independent=True, reference_batch=True),
    "exact": Target(_exact_goal, needs_independent=True, board_only=True, takes_labels=False),
}


def point_and_goal(
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    c: Coefficients,
    target: str,
    *,
    t: torch.Tensor | None = None,
    interpolant: Interpolant | None = None,
    board: Board = BOARD,
    alpha_min: float = ALPHA_MIN,
    labels: torch.Tensor | None = None,
    unlabelled: torch.Tensor | None = None,
    prediction: str = "velocity",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x_t, goal) of one batch whose input is already checked: the point the network sees and what
    it regresses on, `TARGETS[target].goal` ("exact" needs t and the interpolant), in the view
    `PREDICTIONS[prediction]` (compare it with `PREDICTIONS[prediction].scale_output(c, answer)`). With the x_1's
    `labels` (int64 (n,)), a minibatch goal averages each row over the x_1 of its own label (the
    posterior given x_t and the label), except the rows marked True in `unlabelled` (bool (n,), the
    label dropped), which average over the whole batch."""
    x_t, u_t = c.interpolate(x_0, x_1), c.conditional_velocity(x_0, x_1)
    goal = TARGETS[target].goal(x_0, x_1, x_t, u_t, c, t, interpolant, board, alpha_min, labels, unlabelled,
                                PREDICTIONS[prediction])
    return x_t, goal


def cfm_loss(
    model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    target: str = "conditional",
    board: Board = BOARD,
    prediction: str = "velocity",
) -> torch.Tensor:
    """Flow matching loss: mean over the batch of ||goal - v_theta(x_t, t)||^2 (a scalar).

    target="conditional" regresses on the conditional velocity u_t (the write-up's loss);
    target="minibatch" on `minibatch_target`, the batch's estimate of the marginal velocity;
    target="exact" on v* itself (2-D points of `board` only). `model` is any field v(x, t); a torch
    module is evaluated on its own device, and float64 points work with a float32 model (the loss
    then comes back in float64). What the model returns is checked (shape, finite).

    prediction (a key of `fm.PREDICTIONS`) is what `model` predicts: "velocity" (above), "noise"
    (the goal is x_0 for the conditional target), "data" (x_1) or "score" (the loss is
    ||alpha_t s_theta + x_0||^2); the minibatch and exact targets are converted into that view
    (see `fm.Recipe`).
    """
    check_choice("target", target, tuple(TARGETS))
    check_choice("prediction", prediction, tuple(PREDICTIONS))
    interpolant = check_interpolant(interpolant)
    board = check_board(board)
    x_0, x_1, t = interpolant.check_pair(x_0, x_1, t)
    if len(x_0) == 0:
        raise ValueError("x_0 must hold at least one point (the loss is a mean over the batch)")
    if TARGETS[target].board_only and x_0.shape[1] != 2:
        raise ValueError(f"target={target!r} is a closed form of the 2-D board; x_0 has {x_0.shape[1]} columns")
    field = as_field(model, "model")
    c = interpolant.raw_coefficients(t)
    x_t, goal = point_and_goal(x_0, x_1, c, target, t=t, interpolant=interpolant, board=board, prediction=prediction)
    answer = PREDICTIONS[prediction].scale_output(c, check_field_output("model", field(x_t, t), x_t))
    return (answer - goal).pow(2).sum(dim=1).mean()
