"""How likely is a point: the flow as a density, and the score behind the field.

A flow dX/ds = v(X, s) that starts from pi_0 = N(0, I) carries its density along with it, and the
instantaneous change of variables says how:

    d/ds log p_s(X_s) = -div v(X_s, s),   so   log p_t(x) = log p_0(X_0) - integral_0^t div v(X_s, s) ds

where X_s is the trajectory that reaches x at time t. `log_likelihood` integrates x back to s = 0
together with the running integral of the divergence, with any of the package's solvers;
`divergence` computes div v exactly with autograd (one backward pass per coordinate: 2 in 2-D, d in
d dimensions) or, with estimator="hutchinson", estimates it without bias from random probes eps,
E[eps^T (dv/dx) eps] = div v when E[eps eps^T] = I: one backward pass per probe, whatever d is.

For a Gaussian source the marginal velocity and the score grad log p_t are two affine views of
the same posterior mean m(x, t) = E[X_1 | X_t = x]:

    v*(x, t) = (d_alpha / alpha) x + (d_beta - d_alpha beta / alpha) m,
    grad log p_t(x) = (beta m - x) / alpha^2,

so a learned velocity gives a learned score (`score_from_velocity`) and with it a stochastic
sampler with the same marginals, dX = [v + (g^2 / 2) grad log p_t] dt + g dW (`sample_sde`).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ._checks import (
    as_field,
    check_choice,
    check_count,
    check_field_output,
    check_flag,
    check_generator,
    check_number,
    check_points,
    time_column,
)
from .interpolants import Interpolant, check_interpolant
from .solvers import SOLVERS, raw_integrate

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]




def gaussian_log_density(x: torch.Tensor) -> torch.Tensor:
    """log N(x; 0, I) for points x (n, d) in any dimension, shape (n,): the log-density of pi_0.

    -||x||^2 / 2 - (d / 2) log(2 pi): in 2-D, -||x||^2 / 2 - log(2 pi).
    """
    check_points("x", x, dim=None)
    return _gaussian_log_density(x)


def _gaussian_log_density(x: torch.Tensor) -> torch.Tensor:
    return -0.5 * x.pow(2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)


def _velocity_and_divergence(field: Velocity, x: torch.Tensor, t: torch.Tensor, where: str = "",
                             probes: torch.Tensor | None = None):
    """v(x, t) and its divergence, both detached: (n, d) and (n,). Exact (one backward pass per
    coordinate) when probes is None, else Hutchinson's estimate averaged over probes (k, n, d)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        v = check_field_output("velocity", field(x, t), x, where)
        if not v.requires_grad:
            raise ValueError(f"velocity must be differentiable in x (torch operations on x): its answer "
                             f"carries no gradient{where}")
        div = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        if probes is None:
            for i in range(x.shape[1]):  # d v_i / d x_i: one backward pass per coordinate
                (grad,) = torch.autograd.grad(v[:, i].sum(), x, retain_graph=i + 1 < x.shape[1])
                div = div + grad[:, i]
        else:
            for k, eps in enumerate(probes):  # eps^T (dv/dx) eps: one backward pass per probe
                eps = eps.to(x.device, x.dtype)
                (grad,) = torch.autograd.grad((v * eps).sum(), x, retain_graph=k + 1 < len(probes))
                div = div + (grad * eps).sum(dim=1)
            div = div / len(probes)
    return v.detach(), div.detach()


def _no_probes(n_probes: int, generator: torch.Generator | None, shape: tuple[int, int]) -> None:
    return None


def _rademacher(n_probes: int, generator: torch.Generator | None, shape: tuple[int, int]) -> torch.Tensor:
    return torch.randint(0, 2, (n_probes, *shape), generator=generator).to(torch.get_default_dtype()) * 2 - 1


# name -> probes(n_probes, generator, shape): None for the exact divergence (one backward pass per
# coordinate), Rademacher vectors (n_probes, n, d) of +-1 for Hutchinson's estimate
ESTIMATORS: dict[str, Callable[[int, torch.Generator | None, tuple[int, int]], torch.Tensor | None]] = {
    "exact": _no_probes,
    "hutchinson": _rademacher,
}


def _probes(estimator: Any, n_probes: Any, generator: Any, shape: tuple[int, int]) -> torch.Tensor | None:
    """`ESTIMATORS[estimator]`'s probes, its arguments checked."""
    check_choice("estimator", estimator, tuple(ESTIMATORS))
    n_probes = check_count("n_probes", n_probes, minimum=1)
    generator = check_generator("generator", generator)
    return ESTIMATORS[estimator](n_probes, generator, shape)


def divergence(velocity: Velocity, x: torch.Tensor, t: Any, *, estimator: str = "exact", n_probes: int = 1,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """The divergence sum_i d v_i / d x_i of a velocity field at points x (n, d), in any dimension.

    estimator="exact": with autograd, one backward pass per coordinate (d passes: 2 on the board,
    64 for 8x8 images), no estimator. Since points do not interact, the sum of v_i over the batch
    has gradient d v_i / d x (per point).

    estimator="hutchinson": Hutchinson's estimator, the average over `n_probes` random vectors eps
    with entries +-1 (Rademacher) of eps^T (dv/dx) eps, one backward pass each (a vector-Jacobian
    product), whatever d is. Unbiased, since E[eps eps^T] = I; its variance per probe is
    2 sum_{i != j} ((J_ij + J_ji) / 2)^2 for the Jacobian J, and falls like 1 / n_probes.

    `velocity` must be built from torch operations on x (a network, `fm.marginal_velocity`, ...).

    Args:
        velocity: v(x, t) with x (n, d) and t (n, 1); a network is evaluated on its own device.
        x: points, shape (n, d) (the network's own dimension, for a network of the course).
        t: a float, or shape (n,) or (n, 1), in [0, 1].
        estimator: "exact" or "hutchinson".
        n_probes: probes per point for "hutchinson" (>= 1).
        generator: seeds the probes.

    Returns:
        shape (n,), dtype of x.
    """
    field = as_field(velocity)
    check_points("x", x, dim=getattr(velocity, "dim", None))
    t = time_column(t, x)
    probes = _probes(estimator, n_probes, generator, tuple(x.shape))
    return _velocity_and_divergence(field, x, t, probes=probes)[1]


def log_likelihood(
    velocity: Velocity,
    x: torch.Tensor,
    t: float = 1.0,
    *,
    n_steps: int = 32,
    solver: str = "rk4",
    return_start: bool = False,
    estimator: str = "exact",
    n_probes: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """log p_t(x) for the flow of `velocity` started from pi_0 = N(0, I), by the backward ODE.

    The state (X_s, L_s) is integrated from s = t down to s = 0 with dX/ds = v(X, s) and
    dL/ds = div v(X, s), L_t = 0, with `n_steps` steps of `solver`; then
    log p_t(x) = log N(X_0; 0, I) + L_0. The error falls at the solver's order as n_steps grows.

    With estimator="hutchinson" the divergence is Hutchinson's estimate (see `divergence`), with
    `n_probes` Rademacher probes per point drawn once and kept for the whole solve (as FFJORD does),
    so the ODE stays smooth in s and the estimate of log p_t(x) is unbiased up to the solver's error.

    The exact field of this course is singular at t = 1 off the support of pi_1 (see
    `fm.marginal_velocity`); a learned field is finite there, so t = 1 is fine for a model.

    Args:
        velocity: v(x, t), differentiable in x (see `divergence`); a module runs on its device.
        x: points, shape (n, d) (the network's own dimension, for a network of the course).
        t: the time at which the density is wanted, in (0, 1].
        n_steps: solver steps from t to 0 (>= 1).
        solver: "euler", "midpoint", "heun" or "rk4".
        return_start: also return the starting points X_0, shape (n, d).
        estimator: "exact" (d backward passes per evaluation) or "hutchinson" (n_probes passes).
        n_probes: probes per point for "hutchinson" (>= 1).
        generator: seeds the probes.

    Returns:
        log p_t(x), shape (n,) in x's dtype (and X_0 if asked).
    """
    field = as_field(velocity)
    check_points("x", x, dim=getattr(velocity, "dim", None))
    t = check_number("t", t)
    if not 0 < t <= 1:
        raise ValueError(f"t must lie in (0, 1] (at t = 0 the density is pi_0's own), got {t}")
    n_steps = check_count("n_steps", n_steps, minimum=1)
    check_choice("solver", solver, tuple(SOLVERS))
    check_flag("return_start", return_start)
    probes = _probes(estimator, n_probes, generator, tuple(x.shape))
    ones = torch.ones(len(x), 1, dtype=x.dtype, device=x.device)
    d = x.shape[1]

    def augmented(y: torch.Tensor, s: float, where: str) -> torch.Tensor:
        v, div = _velocity_and_divergence(field, y[:, :d], ones * s, where, probes=probes)
        return torch.cat([v.to(y.dtype), div.to(y.dtype)[:, None]], dim=1)

    y_t = torch.cat([x.detach(), torch.zeros(len(x), 1, dtype=x.dtype, device=x.device)], dim=1)
    with torch.no_grad():
        y_0 = raw_integrate(solver, augmented, y_t, n_steps, t, 0.0)
    log_p = _gaussian_log_density(y_0[:, :d]) + y_0[:, d]
    return (log_p, y_0[:, :d]) if return_start else log_p


def score_from_velocity(
    v: torch.Tensor, x: torch.Tensor, t: Any, *, interpolant: Interpolant | None = None
) -> torch.Tensor:
    """The score grad log p_t(x) that a velocity v = v(x, t) implies for a Gaussian source.

    With m = E[X_1 | X_t = x] read off v = (d_alpha/alpha) x + (d_beta - d_alpha beta/alpha) m,
    the score is (beta m - x) / alpha^2 (the path's conversions, `Interpolant.coefficients`); on the
    linear path that is (t v - x) / (1 - t). At t = 0 it is -x for any schedule. Undefined at t = 1
    (alpha = 0), where p_1 has no density to differentiate.

    Args:
        v: velocities at x, shape (n, 2) (from `fm.marginal_velocity` or a model).
        x: points, shape (n, 2).
        t: a float, or shape (n,) or (n, 1), in [0, 1).
        interpolant: the path (default linear).

    Returns:
        shape (n, 2).
    """
    check_points("v", v)
    check_points("x", x)
    if v.shape != x.shape:
        raise ValueError(f"v must have the shape of x, {tuple(x.shape)}, got {tuple(v.shape)}")
    interpolant = check_interpolant(interpolant)
    t = time_column(t, x)
    if bool((t >= 1).any()):
        raise ValueError("t must be < 1: at t = 1 the score is singular (alpha_1 = 0)")
    c = interpolant.coefficients(t)
    if bool(((c.gain == 0) & (c.beta_t != 0)).any()):
        raise ValueError("the schedule's beta' - alpha' beta / alpha is 0 at some t > 0: the velocity does not "
                         "determine the posterior mean (nor the score) there")
    return c.score_from_velocity(x, v)


NoiseSchedule = Callable[[float], float]


def diffusion_noise(interpolant: Interpolant | None = None) -> NoiseSchedule:
    """g(t) of the diffusion whose reverse-time SDE has the marginals of `interpolant`'s path:

        g(t)^2 = 2 alpha_t^2 (beta'_t / beta_t - alpha'_t / alpha_t)     (linear path: 2 (1 - t) / t).

    Read backwards in time, x_t = alpha_t x_0 + beta_t x_1 is the linear SDE dY = f Y dtau + g dW
    started at the data; matching its mean (f = -beta'/beta) and its variance alpha^2 gives g^2 above.
    It is infinite at t = 0 (where beta_0 = 0) and 0 at t = 1; `sample_sde` takes its first step,
    from t = 0, without noise.
    """
    interpolant = check_interpolant(interpolant)

    def g(t: float) -> float:
        """g at one time t (a float in [0, 1]): 0 at t = 0 (the first step takes no noise) and at t = 1."""
        t = check_number("t", t)
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"t must lie in [0, 1], got {t}")
        if t in (0.0, 1.0):
            return 0.0
        c = interpolant.raw_coefficients(torch.tensor(t, dtype=torch.float64))
        value = 2 * c.alpha_t**2 * (c.d_beta_t / c.beta_t - c.d_alpha_t / c.alpha_t)
        return math.sqrt(max(float(value), 0.0))

    return g


def sample_sde(
    velocity: Velocity,
    x_0: torch.Tensor,
    n_steps: int,
    *,
    noise: float | NoiseSchedule = 1.0,
    generator: torch.Generator | None = None,
    interpolant: Interpolant | None = None,
    denoise_last: bool = False,
    return_trajectory: bool = False,
) -> torch.Tensor:
    """Euler-Maruyama for dX = [v + (g(t)^2 / 2) score] dt + g(t) dW from t = 0 to 1.

    The score is the one `velocity` implies (`score_from_velocity`), so for the exact field every
    X_t has the law pi_t, as the ODE's, for any noise schedule g (`noise=0` is forward Euler). Step k
    uses g(t_k) at its start t_k = k / n_steps; the last step starts at t = 1 - 1/n_steps, where the
    score is still finite.

    Args:
        velocity: v(x, t); a module is evaluated on its own device.
        x_0: starting points (samples of pi_0), shape (n, 2).
        n_steps: number of steps (>= 1).
        noise: g >= 0, a number (constant in time) or a function g(t) -> number >= 0, e.g.
            `fm.diffusion_noise()`, or `lambda t: 1.0 if t < 0.95 else 0.0` (no noise at the end).
        generator: seeds the Brownian increments.
        interpolant: the path the field was trained on (default linear).
        denoise_last: take the last step without its noise term g sqrt(h) dW (its drift, score
            term included, is kept): noise added on the last step has no time left to be removed.
            With `fm.diffusion_noise()` on the linear path that last step, from t = 1 - h, lands on
            2m - x/t (m = E[X_1 | X_t = x]), where an Euler step of the ODE lands on m: twice the
            denoising correction, which pulls samples into the support and piles them there.
        return_trajectory: also return every intermediate state.

    Returns:
        x_1 of shape (n, 2), or the trajectory of shape (n_steps + 1, n, 2).
    """
    field = as_field(velocity)
    check_points("x_0", x_0)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    check_flag("denoise_last", denoise_last)
    if callable(noise):
        schedule = noise
    else:
        constant = check_number("noise", noise)
        if constant < 0:
            raise ValueError(f"noise must be >= 0, got {constant}")
        schedule = lambda t: constant  # noqa: E731
    generator = check_generator("generator", generator)
    interpolant = check_interpolant(interpolant)
    check_flag("return_trajectory", return_trajectory)
    h = 1.0 / n_steps
    x = x_0
    path = [x_0.clone()] if return_trajectory else None
    ones = torch.ones(len(x_0), 1, dtype=x_0.dtype, device=x_0.device)
    with torch.no_grad():
        for k in range(n_steps):
            t_k = k / n_steps
            where = f" at step {k} of {n_steps} (t = {t_k:.4g}, sde)"
            g = _noise_at(schedule, t_k, where)
            v = check_field_output("velocity", field(x, ones * t_k), x, where).to(x_0.dtype)
            drift = v + (0.5 * g * g) * interpolant.coefficients(ones * t_k).score_from_velocity(x, v) if g else v
            dw = torch.randn(x.shape, generator=generator, dtype=x.dtype, device="cpu").to(x.device)
            if denoise_last and k == n_steps - 1:
                dw = torch.zeros_like(dw)
            x = x + h * drift + (g * math.sqrt(h)) * dw
            if path is not None:
                path.append(x)
    return torch.stack(path) if path is not None else x


def _noise_at(schedule: NoiseSchedule, t: float, where: str) -> float:
    try:
        g = check_number("noise(t)", schedule(t))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc}{where}") from None
    if g < 0:
        raise ValueError(f"noise(t) must be >= 0, got {g}{where}")
    return g
