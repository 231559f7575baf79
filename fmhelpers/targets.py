"""What v_theta regresses on: training times, the regression targets and the flow matching loss.

The loss for one batch, with t, x_0 ~ pi_0 and x_1 ~ pi_1 drawn independently:

    L(theta) = mean_i || u_t(x_0^i, x_1^i) - v_theta(x_t^i, t^i) ||^2

`minibatch_target` replaces u_t by an average of the conditional velocities over the batch's
x_1, weighted by how likely each x_1 is to have produced x_t: a Monte Carlo estimate of the
marginal velocity v*(x_t, t) (the quantity the loss above secretly regresses on) with less noise.

Each public function checks its input once; the training loop calls the private `_loss` with
inputs it made itself, so nothing is re-checked inside a training step.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ._checks import as_field, check_choice, check_count, check_field_output, check_generator, check_positive
from .interpolants import Interpolant, check_interpolant

TIME_SAMPLINGS = ("uniform", "late", "later", "mixed", "two-step")
TARGETS = ("conditional", "minibatch")


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
    check_choice("time_sampling", time_sampling, TIME_SAMPLINGS)
    generator = check_generator("generator", generator)
    return _sample_time(n, time_sampling, generator)


def _sample_time(n: int, time_sampling: str, generator: torch.Generator | None) -> torch.Tensor:
    u = torch.rand(n, 1, generator=generator)
    if time_sampling == "two-step":
        which = torch.rand(n, 1, generator=generator)
        return torch.where(which < 0.25, torch.zeros_like(u), torch.where(which < 0.5, torch.full_like(u, 0.5), u))
    if time_sampling == "mixed":
        uniform = torch.rand(n, 1, generator=generator) < 0.1
        return torch.where(uniform, torch.rand(n, 1, generator=generator), u.pow(1 / 3))
    power = {"uniform": 1.0, "late": 0.5, "later": 1 / 3}[time_sampling]
    return u if power == 1.0 else u.pow(power)


def minibatch_target(
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    alpha_min: float = 1e-3,
) -> torch.Tensor:
    """Estimate of the marginal velocity v*(x_t^i, t^i) from the batch's own target samples.

    x_t = alpha_t x_0 + beta_t x_1 with x_0 ~ N(0, I), so x_t given x_1 is N(beta_t x_1, alpha_t^2 I).
    Using the batch's x_1^1..x_1^n as samples of pi_1, the posterior of x_1 given x_t^i puts weight
    w_ij proportional to exp(-||x_t^i - beta x_1^j||^2 / (2 alpha^2)) on x_1^j, and the velocity of
    the path through x_t^i that ends at x_1^j is (d_alpha / alpha)(x_t^i - beta x_1^j) + d_beta x_1^j.
    Their weighted average is returned, written as the conditional velocity u_t^i of the pair plus
    a correction c_t * sum_j w_ij (x_1^j - x_1^i), c_t = d_beta - d_alpha beta / alpha, so that it
    stays accurate as t -> 1, where the weights of the other samples vanish. Where alpha_t is below
    `alpha_min` (t within about 1e-3 of 1 on the linear path) the target is u_t itself: t = 1
    exactly would divide by zero.

    Args:
        x_0, x_1: (n, 2) batch of source and target samples (x_1 doubles as the reference set);
            float32 and float64 mix (the result has the wider dtype).
        t: times in [0, 1]: a float, or shape (n,) or (n, 1).
        alpha_min: a positive floor for alpha_t (see above).

    Returns:
        (n, 2) targets; at t = 0 they are mean(x_1) - x_0 for the linear path.
    """
    interpolant = check_interpolant(interpolant)
    alpha_min = check_positive("alpha_min", alpha_min)
    x_0, x_1, t = interpolant.check_pair(x_0, x_1, t)
    return _minibatch_target(x_0, x_1, t, interpolant, alpha_min)


@torch.no_grad()
def _minibatch_target(x_0, x_1, t, interpolant: Interpolant, alpha_min: float = 1e-3, x_t=None, u_t=None):
    """`minibatch_target` for checked input, t of shape (n, 1); x_t and u_t may be handed in."""
    if x_t is None or u_t is None:
        x_t, u_t = interpolant._point_and_velocity(x_0, x_1, t)
    raw_alpha = interpolant.alpha(t)
    alpha = raw_alpha.clamp_min(alpha_min)
    beta, d_alpha, d_beta = interpolant.beta(t), interpolant.d_alpha(t), interpolant.d_beta(t)
    # log-weights up to a per-row constant: (beta x_t . x_1^j - beta^2 ||x_1^j||^2 / 2) / alpha^2
    rows = torch.cat([beta * x_t, -0.5 * beta * beta], dim=1) / alpha.pow(2)
    cols = torch.cat([x_1, x_1.pow(2).sum(dim=1, keepdim=True)], dim=1)
    weights = torch.softmax(rows @ cols.T, dim=1)
    weights.fill_diagonal_(0.0)  # the pair's own x_1 enters through u_t below
    shift = weights @ x_1 - weights.sum(dim=1, keepdim=True) * x_1
    c_t = torch.where(raw_alpha < alpha_min, 0.0, d_beta - d_alpha * beta / alpha)
    return u_t + c_t * shift


def cfm_loss(
    model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    target: str = "conditional",
) -> torch.Tensor:
    """Flow matching loss: mean over the batch of ||target - v_theta(x_t, t)||^2 (a scalar).

    target="conditional" regresses on the conditional velocity u_t (the write-up's loss);
    target="minibatch" on `minibatch_target`, the batch's estimate of the marginal velocity.
    `model` is any field v(x, t); a torch module is evaluated on its own device, and float64
    points work with a float32 model (the loss then comes back in float64).
    """
    check_choice("target", target, TARGETS)
    interpolant = check_interpolant(interpolant)
    x_0, x_1, t = interpolant.check_pair(x_0, x_1, t)
    field = as_field(model, "model")

    def checked(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return check_field_output("model", field(x, s), x)

    return _loss(checked, x_0, x_1, t, interpolant, target)


def _loss(model, x_0, x_1, t, interpolant: Interpolant, target: str) -> torch.Tensor:
    """`cfm_loss` for checked input (t of shape (n, 1)): what a training step computes."""
    x_t, u_t = interpolant._point_and_velocity(x_0, x_1, t)
    goal = u_t if target == "conditional" else _minibatch_target(x_0, x_1, t, interpolant, x_t=x_t, u_t=u_t)
    return (model(x_t, t) - goal).pow(2).sum(dim=1).mean()
