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

from typing import Callable

import torch

from ._checks import as_field, check_callable, check_choice, check_count, check_field_output, check_flag, check_number, check_points

from .interpolants import Interpolant, check_interpolant

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# Butcher tableaux (a, b, c): stage i is evaluated at t + c_i h on x + h * sum_j a_ij k_j.
TABLEAUX = {
    "euler": ([], [1.0], [0.0]),
    "midpoint": ([[0.5]], [0.0, 1.0], [0.0, 0.5]),
    "heun": ([[1.0]], [0.5, 0.5], [0.0, 1.0]),
    "rk4": ([[0.5], [0.0, 0.5], [0.0, 0.0, 1.0]], [1 / 6, 1 / 3, 1 / 3, 1 / 6], [0.0, 0.5, 0.5, 1.0]),
}


def _integrate(method: str, velocity: Velocity, x_0: torch.Tensor, n_steps: int, return_trajectory: bool) -> torch.Tensor:
    field = as_field(velocity)
    check_points("x_0", x_0, dim=None)
    check_flag("return_trajectory", return_trajectory)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    ones = torch.ones(len(x_0), 1, dtype=x_0.dtype, device=x_0.device)

    def checked(x: torch.Tensor, t: float, where: str) -> torch.Tensor:
        return check_field_output("velocity", field(x, ones * t), x, where).to(x_0.dtype)

    with torch.no_grad():
        return raw_integrate(method, checked, x_0, n_steps, 0.0, 1.0, return_trajectory)


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
                  t_start: float, t_end: float, return_trajectory: bool = False) -> torch.Tensor:
    """`integrate`'s core, no checks: for callers that checked their own input (the solvers, the
    likelihood's backward ODE, the average velocity)."""
    a, b, c = TABLEAUX[method]
    h = (t_end - t_start) / n_steps
    lo, hi = min(t_start, t_end), max(t_start, t_end)
    y = y_0
    path = [y_0.clone()] if return_trajectory else None
    for k in range(n_steps):
        t_k = t_start + (t_end - t_start) * k / n_steps
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


def euler(velocity: Velocity, x_0: torch.Tensor, n_steps: int, *, return_trajectory: bool = False) -> torch.Tensor:
    """Forward Euler: x_{k+1} = x_k + h v(x_k, t_k), h = 1 / n_steps, t_k = k / n_steps. Order 1.

    Args:
        velocity: callable v(x, t), x (n, 2), t (n, 1) -> (n, 2).
        x_0: starting points, shape (n, 2).
        n_steps: number of steps T >= 1.
        return_trajectory: also return every intermediate state.

    Returns:
        x_T of shape (n, 2), or the trajectory of shape (n_steps + 1, n, 2).
    """
    return _integrate("euler", velocity, x_0, n_steps, return_trajectory)


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


def ddim(velocity: Velocity, x_0: torch.Tensor, n_steps: int, *, interpolant: Interpolant | None = None,
         return_trajectory: bool = False) -> torch.Tensor:
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
        n_steps: number of steps T >= 1 (one field evaluation each, at t_0 .. t_{T-1}).
        interpolant: the path (default linear).
        return_trajectory: also return every intermediate state.

    Returns:
        x_T of shape (n, d), or the trajectory of shape (n_steps + 1, n, d).
    """
    interpolant = check_interpolant(interpolant)
    field = as_field(velocity)
    check_points("x_0", x_0, dim=None)
    check_flag("return_trajectory", return_trajectory)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    ones = torch.ones(len(x_0), 1, dtype=x_0.dtype, device=x_0.device)
    x = x_0
    path = [x_0.clone()] if return_trajectory else None
    with torch.no_grad():
        for k in range(n_steps):
            t, s = k / n_steps, (k + 1) / n_steps
            c_t, c_s = interpolant.raw_coefficients(ones * t), interpolant.raw_coefficients(ones * s)
            where = f" at step {k} of {n_steps} (t = {t:.4g}, ddim)"
            v = check_field_output("velocity", field(x, ones * t), x, where).to(x_0.dtype)
            x = c_s.interpolate(c_t.noise(x, v), c_t.data(x, v))
            if path is not None:
                path.append(x)
    return torch.stack(path) if path is not None else x


SOLVERS = {"euler": euler, "midpoint": midpoint, "heun": heun, "rk4": rk4}
