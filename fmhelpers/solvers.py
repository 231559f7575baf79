"""Fixed-step ODE solvers for dX_t/dt = v(X_t, t) from t = 0 to t = 1 on the grid t_k = k / n_steps.

All share one signature, `solver(velocity, x_0, n_steps, *, return_trajectory=False)`, where
`velocity(x, t)` takes x of shape (n, d) (d = 2 on the board) and t of shape (n, 1) and returns
(n, d). `integrate` is the stepper behind them, for any state and direction in time (the
likelihood's backward ODE, the exact average velocity of a mean flow). They run
under `torch.no_grad()`, so no autograd graph is kept, and they keep the dtype and device of x_0
(a torch module is evaluated on its own device and dtype). What the field returns is checked at
every evaluation: a tensor of shape (n, 2), finite; otherwise the error names the step and t.

Which times they evaluate the field at: Euler uses t_k; midpoint t_k + h/2; Heun t_k and t_{k+1};
RK4 t_k, t_k + h/2 and t_{k+1}. Heun and RK4 therefore evaluate at t = 1 on their last step.
A learned field is finite there. The exact marginal field is singular at t = 1 off the support of
pi_1; `fm.marginal_velocity` evaluates times above 1 - t_eps at 1 - t_eps (t_eps = 1e-3 by
default), so a point a distance d off the support is pulled back at a speed of about d / t_eps.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ._checks import (as_field, check_callable, check_choice, check_count, check_field_output, check_flag, check_generator,
                      check_number, check_points, check_positive)

from .interpolants import Interpolant, check_interpolant

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# Butcher tableaux (a, b, c): stage i is evaluated at t + c_i h on x + h * sum_j a_ij k_j.
TABLEAUX = {
    "euler": ([], [1.0], [0.0]),
    "midpoint": ([[0.5]], [0.0, 1.0], [0.0, 0.5]),
    "heun": ([[1.0]], [0.5, 0.5], [0.0, 1.0]),
    "rk4": ([[0.5], [0.0, 0.5], [0.0, 0.0, 1.0]], [1 / 6, 1 / 3, 1 / 3, 1 / 6], [0.0, 0.5, 0.5, 1.0]),
}


def time_grid(n_steps: int, *, rho: float = 1.0, t_start: float = 0.0, t_end: float = 1.0) -> list[float]:
    """n_steps + 1 increasing times from t_start to t_end, closer together near t_end when rho > 1:

        t_k = t_start + (t_end - t_start) (1 - (1 - k / n_steps)^rho),

    so rho = 1 is the equal grid, and rho = 2 or 3 spends more steps near the data (t = 1), where a
    field that converts a noise or score prediction changes fastest. Stopping at t_end = 1 - eps and
    starting at t_start = eps are how the papers keep away from the ends where a conversion divides
    by alpha_t or beta_t. Pass the grid as `times=` to `euler`, `ddim` or `ddpm`.

    Args:
        n_steps: number of steps T >= 1.
        rho: spacing exponent, > 0 (1: equal steps).
        t_start, t_end: the ends, 0 <= t_start < t_end <= 1.

    Returns:
        a list of n_steps + 1 floats, t_0 = t_start, t_T = t_end.
    """
    n_steps = check_count("n_steps", n_steps, minimum=1)
    rho = check_positive("rho", rho)
    t_start, t_end = check_number("t_start", t_start), check_number("t_end", t_end)
    if not 0.0 <= t_start < t_end <= 1.0:
        raise ValueError(f"t_start and t_end must satisfy 0 <= t_start < t_end <= 1, got {t_start} and {t_end}")
    return raw_time_grid(n_steps, rho, t_start, t_end)


def raw_time_grid(n_steps: int, rho: float, t_start: float, t_end: float) -> list[float]:
    """`time_grid`'s core, no checks."""
    inner = [t_start + (t_end - t_start) * (1.0 - (1.0 - k / n_steps) ** rho) for k in range(1, n_steps)]
    return [t_start, *inner, t_end]


def check_times(times: Any, n_steps: int | None = None) -> tuple[list[float], int]:
    """A grid of times given to a sampler: at least two floats, strictly increasing, inside [0, 1]
    (a list, tuple or 1-d tensor, e.g. `time_grid(...)`); returns (the list, its number of steps).
    With `n_steps` given too, the grid must have n_steps + 1 times."""
    if isinstance(times, torch.Tensor):
        if times.dim() != 1:
            raise ValueError(f"times must be one-dimensional, got shape {tuple(times.shape)}")
        times = times.tolist()
    if not isinstance(times, (list, tuple)) or len(times) < 2:
        raise TypeError(f"times must be a list of at least two floats (e.g. fm.time_grid(10)), got {type(times).__name__}"
                        + (f" of length {len(times)}" if isinstance(times, (list, tuple)) else ""))
    grid = [check_number("times", value) for value in times]
    if any(b <= a for a, b in zip(grid, grid[1:])) or grid[0] < 0.0 or grid[-1] > 1.0:
        raise ValueError(f"times must increase strictly inside [0, 1], got {grid[:3]} ... {grid[-2:]}")
    if n_steps is not None and n_steps != len(grid) - 1:
        raise ValueError(f"times has {len(grid)} entries but n_steps = {n_steps} (it needs n_steps + 1)")
    return grid, len(grid) - 1


def _steps_and_grid(n_steps: Any, times: Any) -> tuple[int, list[float] | None]:
    """A sampler's n_steps and optional times, checked: (number of steps, grid or None)."""
    if times is None:
        return check_count("n_steps", n_steps, minimum=1), None
    grid, steps = check_times(times, None if n_steps is None else check_count("n_steps", n_steps, minimum=1))
    return steps, grid


def _integrate(method: str, velocity: Velocity, x_0: torch.Tensor, n_steps: int, return_trajectory: bool,
               times: Any = None) -> torch.Tensor:
    field = as_field(velocity)
    check_points("x_0", x_0, dim=None)
    check_flag("return_trajectory", return_trajectory)
    n_steps, grid = _steps_and_grid(n_steps, times)
    ones = torch.ones(len(x_0), 1, dtype=x_0.dtype, device=x_0.device)

    def checked(x: torch.Tensor, t: float, where: str) -> torch.Tensor:
        return check_field_output("velocity", field(x, ones * t), x, where).to(x_0.dtype)

    with torch.no_grad():
        start, end = (0.0, 1.0) if grid is None else (grid[0], grid[-1])
        return raw_integrate(method, checked, x_0, n_steps, start, end, return_trajectory, grid)


def integrate(method: str, f: Callable[[torch.Tensor, float, str], torch.Tensor], y_0: torch.Tensor, n_steps: int,
              t_start: float, t_end: float, return_trajectory: bool = False) -> torch.Tensor:
    """The explicit Runge-Kutta method `method` ("euler", "midpoint", "heun" or "rk4") for
    dy/dt = f(y, t, where) from t_start to t_end (either direction) in n_steps equal steps.

    The building block of the solvers, for a state y of any shape: f gets y, the time as a float and
    `where`, the text an error raised inside f should end with (step and time). It checks its
    arguments, not what f returns, and runs in the caller's grad mode; `raw_integrate` is its core.
    """
    check_choice("method", method, tuple(TABLEAUX))
    check_callable("f", f, "f(y, t, where)")
    if not isinstance(y_0, torch.Tensor):
        raise TypeError(f"y_0 must be a torch.Tensor (the starting state), got {type(y_0).__name__}")
    n_steps = check_count("n_steps", n_steps, minimum=1)
    t_start, t_end = check_number("t_start", t_start), check_number("t_end", t_end)
    check_flag("return_trajectory", return_trajectory)
    return raw_integrate(method, f, y_0, n_steps, t_start, t_end, return_trajectory)


def raw_integrate(method: str, f: Callable[[torch.Tensor, float, str], torch.Tensor], y_0: torch.Tensor, n_steps: int,
                  t_start: float, t_end: float, return_trajectory: bool = False,
                  times: list[float] | None = None) -> torch.Tensor:
    """`integrate`'s core, no checks: for callers that checked their own input (the solvers, the
    likelihood's backward ODE, the average velocity). `times` (a checked grid of n_steps + 1 floats
    from t_start to t_end, see `time_grid`) replaces the equal steps."""
    a, b, c = TABLEAUX[method]
    equal = times is None  # equal steps: one h for all, as every sampler of the package steps
    grid = [t_start + (t_end - t_start) * k / n_steps for k in range(n_steps + 1)] if equal else times
    y = y_0
    path = [y_0.clone()] if return_trajectory else None
    for k in range(n_steps):
        t_k, h = grid[k], (t_end - t_start) / n_steps if equal else grid[k + 1] - grid[k]
        lo, hi = min(grid[k], grid[k + 1]), max(grid[k], grid[k + 1])
        stages: list[torch.Tensor] = []
        for i, c_i in enumerate(c):
            y_i = y
            for a_ij, k_j in zip(a[i - 1] if i else [], stages):
                if a_ij:
                    y_i = y_i + (h * a_ij) * k_j
            t_i = min(max(t_k + c_i * h, lo), hi)  # rounding must not step outside [lo, hi]
            stages.append(f(y_i, t_i, f" at step {k} of {n_steps} (t = {t_i:.4g}, {method})"))
        y = y + h * sum(b_i * k_i for b_i, k_i in zip(b, stages) if b_i)
        if path is not None:
            path.append(y)
    return torch.stack(path) if path is not None else y


def euler(velocity: Velocity, x_0: torch.Tensor, n_steps: int | None, *, return_trajectory: bool = False,
          times: Any = None) -> torch.Tensor:
    """Forward Euler: x_{k+1} = x_k + h v(x_k, t_k), h = 1 / n_steps, t_k = k / n_steps. Order 1.

    Args:
        velocity: callable v(x, t), x (n, 2), t (n, 1) -> (n, 2).
        x_0: starting points, shape (n, 2).
        n_steps: number of steps T >= 1 (None when `times` is given).
        return_trajectory: also return every intermediate state.
        times: another grid t_0 < ... < t_T in [0, 1] (`time_grid`), h_k = t_{k+1} - t_k.

    Returns:
        x_T of shape (n, 2), or the trajectory of shape (n_steps + 1, n, 2).
    """
    return _integrate("euler", velocity, x_0, n_steps, return_trajectory, times)


def midpoint(velocity: Velocity, x_0: torch.Tensor, n_steps: int, *, return_trajectory: bool = False) -> torch.Tensor:
    """Explicit midpoint: x_{k+1} = x_k + h v(x_k + h/2 v(x_k, t_k), t_k + h/2). Order 2.

    Two field evaluations per step; arguments and shapes as in `euler`.
    """
    return _integrate("midpoint", velocity, x_0, n_steps, return_trajectory)


def heun(velocity: Velocity, x_0: torch.Tensor, n_steps: int, *, return_trajectory: bool = False) -> torch.Tensor:
    """Heun (trapezoid with an Euler predictor). Order 2; evaluates at t = 1 on the last step.

    Two field evaluations per step; arguments and shapes as in `euler`.
    """
    return _integrate("heun", velocity, x_0, n_steps, return_trajectory)


def rk4(velocity: Velocity, x_0: torch.Tensor, n_steps: int, *, return_trajectory: bool = False) -> torch.Tensor:
    """Classical fourth-order Runge-Kutta. Order 4; evaluates at t = 1 on the last step.

    Four field evaluations per step; arguments and shapes as in `euler`.
    """
    return _integrate("rk4", velocity, x_0, n_steps, return_trajectory)


def ddim(velocity: Velocity, x_0: torch.Tensor, n_steps: int | None, *, interpolant: Interpolant | None = None,
         return_trajectory: bool = False, times: Any = None) -> torch.Tensor:
    """DDIM (Song, Meng and Ermon 2021, eta = 0) in our notation, on the grid t_k = k / n_steps.

    DDIM's step from t to s estimates the noise e = E[X_0 | x] and the data m = E[X_1 | x] at (x, t)
    and puts them back on the path at s: x_s = alpha_s e + beta_s m (the papers' x_{t-1} =
    sqrt(abar_{t-1}) x0_pred + sqrt(1 - abar_{t-1}) eps_pred, with their data weight our beta and
    their noise weight our alpha). Here e and m come from the velocity v(x, t) (`Coefficients.noise`,
    `Coefficients.data`: e = (beta' x - beta v) / D, m = (alpha v - alpha' x) / D, no division by
    alpha or beta). Since x_t = alpha_t e + beta_t m,

        x_s - x_t = (alpha_s - alpha_t) e + (beta_s - beta_t) m,

    which on the linear path is (s - t)(m - e) = (s - t) v(x_t, t): one Euler step. On other paths it
    is Euler after a change of time and scale (notebook 03), exact for a field whose e and m are
    constant along the path (a target that is one point). Where D = alpha beta' - beta alpha' is 0
    (a path that stands still at t = 0, such as alpha = 1 - t^2) the velocity holds no e and m: the
    step gives NaN there.

    Args:
        velocity: callable v(x, t), x (n, d), t (n, 1) -> (n, d) (`fm.as_velocity` for a network that
            predicts something else).
        x_0: starting points, shape (n, d).
        n_steps: number of steps T >= 1 (one field evaluation each, at t_0 .. t_{T-1}); None with `times`.
        interpolant: the path (default linear).
        return_trajectory: also return every intermediate state.
        times: another grid t_0 < ... < t_T in [0, 1] (`time_grid`).

    Returns:
        x_T of shape (n, d), or the trajectory of shape (n_steps + 1, n, d).
    """
    return _ddim(velocity, x_0, n_steps, interpolant, return_trajectory, times, 0.0, None)


def ddpm(velocity: Velocity, x_0: torch.Tensor, n_steps: int | None, *, interpolant: Interpolant | None = None,
         generator: torch.Generator | None = None, return_trajectory: bool = False, times: Any = None) -> torch.Tensor:
    """DDPM's ancestral sampler (Ho, Jain and Abbeel 2020) in our notation: DDIM with eta = 1.

    Going forwards in our time, the noising process is Markov: from s to the noisier t < s,
    x_t = r x_s + sqrt(alpha_t^2 - r^2 alpha_s^2) z with r = beta_t / beta_s, which keeps every x_t =
    alpha_t x_0 + beta_t x_1. Given x_t and the data x_1, x_s is then Gaussian (Bayes, two Gaussians):

        x_s | x_t, x_1  ~  N(beta_s x_1 + r (alpha_s / alpha_t)^2 (x_t - beta_t x_1),  sigma^2 I),
        sigma^2 = alpha_s^2 (1 - (r alpha_s / alpha_t)^2).

    DDPM's step puts the network's m = E[X_1 | x_t] in place of x_1 and draws from it; written with
    e = (x_t - beta_t m) / alpha_t it is x_s = beta_s m + sqrt(alpha_s^2 - sigma^2) e + sigma z, and
    with sigma = 0 it would be DDIM's step. From t = 0 it is beta_s m + alpha_s z (fresh noise), and
    the last step to s = 1 lands on m without noise. m and e come from the velocity, as in `ddim`.
    On the trig path (alpha^2 + beta^2 = 1) this is, term by term, Ho et al.'s posterior mean and
    variance with their abar = beta^2 (tests/test_solvers.py checks it against their formula).

    Args:
        velocity, x_0, n_steps, interpolant, return_trajectory, times: as in `ddim`.
        generator: seeds the Gaussian draws z (drawn on the CPU, so seeded runs repeat on any device).

    Returns:
        x_T of shape (n, d), or the trajectory of shape (n_steps + 1, n, d).
    """
    return _ddim(velocity, x_0, n_steps, interpolant, return_trajectory, times, 1.0, check_generator("generator", generator))


def _ddim(velocity: Velocity, x_0: torch.Tensor, n_steps: Any, interpolant: Any, return_trajectory: Any, times: Any,
          eta: float, generator: torch.Generator | None) -> torch.Tensor:
    """`ddim` (eta = 0) and `ddpm` (eta = 1): checks, then the steps."""
    interpolant = check_interpolant(interpolant)
    field = as_field(velocity)
    check_points("x_0", x_0, dim=None)
    check_flag("return_trajectory", return_trajectory)
    n_steps, grid = _steps_and_grid(n_steps, times)
    grid = grid if grid is not None else [k / n_steps for k in range(n_steps + 1)]
    name = "ddpm" if eta else "ddim"
    ones = torch.ones(len(x_0), 1, dtype=x_0.dtype, device=x_0.device)
    x = x_0
    path = [x_0.clone()] if return_trajectory else None
    with torch.no_grad():
        for k in range(n_steps):
            t, s = grid[k], grid[k + 1]
            where = f" at step {k} of {n_steps} (t = {t:.4g}, {name})"
            v = check_field_output("velocity", field(x, ones * t), x, where).to(x_0.dtype)
            x = raw_ddim_step(interpolant, x, v, t, s, eta, generator)
            if path is not None:
                path.append(x)
    return torch.stack(path) if path is not None else x


def raw_ddim_step(interpolant: Interpolant, x: torch.Tensor, v: torch.Tensor, t: float, s: float, eta: float,
                  generator: torch.Generator | None) -> torch.Tensor:
    """One step from t to s > t of DDIM (eta = 0) or DDPM (eta = 1), no checks: x, v (n, d) at t."""
    ones = torch.ones(len(x), 1, dtype=x.dtype, device=x.device)
    c_t, c_s = interpolant.raw_coefficients(ones * t), interpolant.raw_coefficients(ones * s)
    e, m = c_t.noise(x, v), c_t.data(x, v)
    if not eta:
        return c_s.interpolate(e, m)
    r = c_t.beta_t / c_s.beta_t
    var = (c_s.alpha_t.pow(2) * (1 - (r * c_s.alpha_t / c_t.alpha_t).pow(2))).clamp_min(0) * eta**2
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device="cpu").to(x.device)
    return c_s.beta_t * m + (c_s.alpha_t.pow(2) - var).clamp_min(0).sqrt() * e + var.sqrt() * z


SOLVERS = {"euler": euler, "midpoint": midpoint, "heun": heun, "rk4": rk4}
