"""Mean flows: learn the average velocity over an interval, and sample in one step.

In our time direction (x_0 noise at t = 0, x_1 data at t = 1), the average velocity of the flow
of v from time t to a later time s is

    u(x, t, s) = 1 / (s - t) * integral_t^s v(X_tau, tau) d tau,   X_t = x,

so x_s = x_t + (s - t) u(x_t, t, s) exactly, and one step from t = 0 to s = 1 is the whole ODE.
At s = t, u is v itself. Multiply by (s - t) and differentiate in t along the trajectory (s held
fixed): -u + (s - t) d/dt u = -v, the MeanFlow identity (Geng et al., 2025, "Mean Flows for
One-step Generative Modeling", written there with time running the other way):

    u(x_t, t, s) = v(x_t, t) + (s - t) * d/dt u(x_t, t, s),
    d/dt u = (du/dx) v + du/dt   (a total derivative, one Jacobian-vector product).

Training regresses u_theta on the right-hand side, with u_theta's own derivative in it, computed
by `torch.func.jvp` and detached (a "stop-gradient" target); v is the conditional velocity of the
pair, or the minibatch estimate of v* (`fm.minibatch_target`), or, as a check of what the identity
can reach, the exact v* of our pair. The pairs (x_0, x_1) may be drawn apart or matched by
minibatch optimal transport (`fm.couple`), which straightens the flow whose average velocity is
learnt; `fm.MEANFLOW_RECIPE` does that. Training is `fm.fit` with the loss of `meanflow_loss`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from ._checks import (
    as_field,
    check_callable,
    check_choice,
    check_count,
    check_field_output,
    check_generator,
    check_model,
    check_number,
    check_points,
    time_column,
)
from .couplings import COUPLINGS, data_source, raw_batch
from .models import MeanFlowMLP
from .recipes import MEANFLOW_RECIPE, ONE_STEP_FIT_RECIPE, MeanFlowRecipe, Optimiser, as_recipe
from .solvers import SOLVERS, raw_integrate
from .targets import INTERVALS, point_and_goal
from .training import TrainResult, fit


def sample_intervals(n: int, recipe: MeanFlowRecipe, generator: torch.Generator | None = None):
    """(t, s), each of shape (n, 1), float32, with t <= s; a share `recipe.equal_fraction` has s = t,
    and a share `recipe.one_step_fraction` is (0, 1). The two times come from
    `INTERVALS[recipe.intervals]` (fmhelpers.targets)."""
    n = check_count("n", n, minimum=1)
    if not isinstance(recipe, MeanFlowRecipe):
        raise TypeError(f"recipe must be an fm.MeanFlowRecipe, got {type(recipe).__name__}")
    return raw_intervals(n, recipe, check_generator("generator", generator))


def raw_intervals(n: int, recipe: MeanFlowRecipe, generator: torch.Generator | None):
    """`sample_intervals`' core, no checks (a training step calls it)."""
    a, b = INTERVALS[recipe.intervals](n, recipe.time_mean, generator)
    t, s = torch.minimum(a, b), torch.maximum(a, b)
    which = torch.rand(n, 1, generator=generator)
    equal = which < recipe.equal_fraction
    one_step = (which >= recipe.equal_fraction) & (which < recipe.equal_fraction + recipe.one_step_fraction)
    t = torch.where(one_step, torch.zeros_like(t), t)
    s = torch.where(one_step, torch.ones_like(s), s)
    return t, torch.where(equal, t, s)


def _as_function(u: Any) -> Callable:
    """A mean-flow module as its unchecked `raw`, on its device and dtype (answer back in the input's);
    any other callable as it is."""
    if not (isinstance(u, nn.Module) and hasattr(u, "raw")):
        return u
    weight = next(u.parameters())

    def on_its_device(x: torch.Tensor, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return u.raw(x.to(weight), t.to(weight), s.to(weight)).to(x.device, x.dtype)

    return on_its_device


def _value_and_target(u: Callable, x_t: torch.Tensor, t: torch.Tensor, s: torch.Tensor, v: torch.Tensor,
                      checked: bool = True, finite: bool = True):
    """u(x_t, t, s) (with its graph, for the loss) and the detached target, from one JVP: the
    JVP's primal output is the forward pass itself, so the loss needs no second one."""
    value, du_dt = torch.func.jvp(u, (x_t, t, s), (v, torch.ones_like(t), torch.zeros_like(s)))
    if checked:
        check_field_output("u", value, x_t, finite=finite)
        check_field_output("u's derivative along the path", du_dt, x_t, finite=finite)
    return value, (v + (s - t) * du_dt).detach()


def _times(x: torch.Tensor, t: Any, s: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """t and s as (n, 1) tensors of their own (a float or a 0-d time becomes a real column: the JVP
    cannot take an expanded view), with t <= s."""
    t, s = time_column(t, x, "t").clone(), time_column(s, x, "s").clone()
    if bool((s < t).any()):
        raise ValueError("s must be >= t everywhere (the average velocity runs forward in time, from t to s)")
    return t, s


def meanflow_target(u: Any, x_t: torch.Tensor, t: Any, s: Any, v: torch.Tensor) -> torch.Tensor:
    """The right-hand side of the MeanFlow identity, v + (s - t) * (du/dx v + du/dt), detached.

    u(x, t, s) is any differentiable function of tensors (x (n, 2), t (n, 1), s (n, 1)), or a
    mean-flow module (evaluated through its unchecked `raw`, e.g. `u_theta.raw`); its total
    derivative along the tangent (v, 1, 0) is one `torch.func.jvp`. When u is the exact average
    velocity of the flow of v, the result equals u(x_t, t, s). t and s: floats or (n,) / (n, 1).
    """
    check_callable("u", u, "u(x, t, s)")
    check_points("x_t", x_t)
    check_points("v", v)
    if len(v) != len(x_t):
        raise ValueError(f"v must hold one velocity per point of x_t ({len(x_t)}), got {len(v)}")
    dtype = torch.promote_types(x_t.dtype, v.dtype)
    x_t, v = x_t.to(dtype), v.to(dtype)
    t, s = _times(x_t, t, s)
    return _value_and_target(_as_function(u), x_t, t.to(dtype), s.to(dtype), v)[1]


def _batch_loss(forward: Callable, x_0: torch.Tensor, x_1: torch.Tensor, t: torch.Tensor, s: torch.Tensor,
                recipe: MeanFlowRecipe, interpolant, checked: bool, finite: bool = True) -> torch.Tensor:
    """The MeanFlow loss of one batch whose tensors are already in the network's dtype and place."""
    coefficients = interpolant.raw_coefficients(t)
    x_t, v = point_and_goal(x_0, x_1, coefficients, recipe.target, t=t, interpolant=interpolant, board=recipe.board)
    value, target = _value_and_target(forward, x_t, t, s, v, checked, finite)
    error = (value - target).pow(2).sum(dim=1)
    if recipe.weight_power > 0:
        error = error / (error.detach() + recipe.weight_eps).pow(recipe.weight_power)
    return error.mean()


def meanflow_loss(model: nn.Module, x_0: torch.Tensor, x_1: torch.Tensor, t: Any, s: Any,
                  recipe: MeanFlowRecipe = MEANFLOW_RECIPE) -> torch.Tensor:
    """The MeanFlow loss of one batch, a scalar with a gradient for `model`.

    target = v + (s - t) * (du/dx v + du/dt), with u = model and the derivative taken by one
    `torch.func.jvp` along the tangent (v, 1, 0), detached; loss = weighted mean of
    ||u(x_t, t, s) - target||^2, with x_t and v from the recipe's path and target. Row i of x_0 is
    paired with row i of x_1 as given (`train_meanflow` matches them first when the recipe's
    coupling is "ot"). The batch is cast to the model's dtype; what it returns is checked.
    """
    if not isinstance(recipe, MeanFlowRecipe):
        raise TypeError(f"recipe must be an fm.MeanFlowRecipe, got {type(recipe).__name__}")
    check_model("model", model, "fm.MeanFlowMLP()")
    if not hasattr(model, "raw"):
        raise TypeError(f"model must be a mean-flow network with an unchecked raw(x, t, s), e.g. fm.MeanFlowMLP(), "
                        f"got {type(model).__name__}")
    interpolant = recipe.make_interpolant()
    x_0, x_1, _ = interpolant.check_pair(x_0, x_1, 0.0)
    if len(x_0) == 0:
        raise ValueError("x_0 must hold at least one point (the loss is a mean over the batch)")
    t, s = _times(x_0, t, s)
    weight = next(model.parameters())
    x_0, x_1, t, s = (z.to(weight) for z in (x_0, x_1, t, s))
    return _batch_loss(model.raw, x_0, x_1, t, s, recipe, interpolant, checked=True)


def _trainable(model: Any) -> None:
    check_model("model", model, "fm.MeanFlowMLP()")
    if not hasattr(model, "raw"):
        raise TypeError(f"model must be a mean-flow network with raw(x, t, s), e.g. fm.MeanFlowMLP(), "
                        f"got {type(model).__name__}")


def train_meanflow(model: nn.Module | None = None, recipe: MeanFlowRecipe | None = None, *, progress: bool = True,
                   device: Any = None, pairs: tuple[torch.Tensor, torch.Tensor] | None = None,
                   **changes: Any) -> TrainResult:
    """Train a `MeanFlowMLP` (in place) on `meanflow_loss` with `fm.fit` (Adam, the recipe's schedule).

    Each iteration draws x_0 ~ pi_0, x_1 ~ pi_1 (or rows of `pairs`, for coupling "pairs") and
    (t, s) (`sample_intervals`) from one generator seeded with the recipe's seed; with coupling
    "ot", x_1 is reordered to match x_0 first.
    """
    model = MeanFlowMLP() if model is None else model
    _trainable(model)
    recipe = as_recipe(recipe, changes, MEANFLOW_RECIPE, MeanFlowRecipe)
    if (pairs is None) == COUPLINGS[recipe.coupling].needs_pairs:
        raise ValueError(f"pairs must be given exactly when the recipe's coupling takes given pairs "
                         f"(coupling={recipe.coupling!r}, pairs {'given' if pairs is not None else 'missing'})")
    source = data_source(board=recipe.board, pairs=pairs)
    dim = getattr(model, "dim", 2)
    if source.dim != dim:
        raise ValueError(f"model works in {dim} dimensions but the training points have {source.dim}")
    interpolant = recipe.make_interpolant()
    first = [True]  # what the network returns is checked on the first batch only

    def batch_loss(generator: torch.Generator, device: torch.device) -> torch.Tensor:
        batch = raw_batch(recipe.batch_size, source, generator, recipe.coupling, recipe.ot_block, False)
        t, s = raw_intervals(recipe.batch_size, recipe, generator)
        weight = next(model.parameters())
        x_0, x_1, t, s = (z.to(weight) for z in (batch.x_0, batch.x_1, t, s))
        checked, first[0] = first[0], False
        return _batch_loss(model.raw, x_0, x_1, t, s, recipe, interpolant, checked=checked, finite=False)

    return fit(model, batch_loss, recipe, progress=progress, desc="mean flow", device=device)


def fit_one_step(model: nn.Module, x_0: torch.Tensor, x_1: torch.Tensor, recipe: Optimiser | None = None, *,
                 progress: bool = True, device: Any = None, **changes: Any) -> TrainResult:
    """Regress u_theta(x_0, 0, 1) directly on x_1 - x_0 for given pairs (a diagnostic, not a method).

    With the pairs of the exact flow (`fm.flow_pairs(fm.marginal_velocity, ...)`) this measures how
    well the network can represent the one map that one step uses, when it is told that map at
    every pair: the ceiling of the network, where `target="exact"` is the ceiling of the loss. A
    real data set has no such pairs. Each step draws `recipe.batch_size` pairs at random (seeded by
    `recipe.seed`); of the recipe (default `fm.ONE_STEP_FIT_RECIPE`) only the optimisation fields are
    used, with `fm.fit` as for every trainer.
    """
    _trainable(model)
    check_points("x_0", x_0, dim=None, min_rows=1)
    check_points("x_1", x_1, dim=None, min_rows=1)
    if x_0.shape != x_1.shape:
        raise ValueError(f"x_0 and x_1 must have the same shape (row i of one is paired with row i of the "
                         f"other), got {tuple(x_0.shape)} and {tuple(x_1.shape)}")
    source = data_source(pairs=(x_0, x_1))
    dim = getattr(model, "dim", 2)
    if source.dim != dim:
        raise ValueError(f"x_0 must have {dim} columns, as the model's points, got {source.dim}")
    recipe = as_recipe(recipe, changes, ONE_STEP_FIT_RECIPE, Optimiser)
    first = [True]  # what the network returns is checked on the first batch only

    def batch_loss(generator: torch.Generator, device: torch.device) -> torch.Tensor:
        batch = raw_batch(recipe.batch_size, source, generator, "pairs", None, False)
        weight = next(model.parameters())
        start, step = batch.x_0.to(weight), (batch.x_1 - batch.x_0).to(weight)
        t = torch.zeros(len(start), 1, dtype=weight.dtype, device=weight.device)
        jump = model.raw(start, t, torch.ones_like(t))
        if first[0]:
            first[0] = False
            check_field_output("model", jump, start, " on the first training batch", finite=False)
        return (jump - step).pow(2).sum(dim=1).mean()

    return fit(model, batch_loss, recipe, progress=progress, desc="one-step fit", device=device)


def meanflow_sample(model: nn.Module, x_0: torch.Tensor, n_steps: int = 1) -> torch.Tensor:
    """x_1 from x_0 in `n_steps` equal jumps: x_{k+1} = x_k + (1/N) u(x_k, k/N, (k+1)/N).

    One network evaluation per step; a model is evaluated on its own device, and what it returns is
    checked at every step (shape, finite).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a trained mean-flow module, got {type(model).__name__}")
    check_points("x_0", x_0)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    x = x_0
    with torch.no_grad():
        for k in range(n_steps):
            t, s = k / n_steps, (k + 1) / n_steps
            u = check_field_output("model", model(x, t, s), x, f" at step {k} of {n_steps} (t = {t:.4g}, s = {s:.4g})")
            x = x + (s - t) * u
    return x


def average_velocity(velocity: Any, x: torch.Tensor, t: float, s: float, *, n_steps: int = 64,
                     solver: str = "midpoint") -> torch.Tensor:
    """The exact average velocity u(x, t, s) = (X_s - x) / (s - t) of `velocity`'s flow, by solving
    its ODE from t to s (`solver`, `n_steps` steps); at s = t it is velocity(x, t).

    With `fm.marginal_velocity` this is the exact u of our Gaussian -> checkerboard pair. The default
    solver is midpoint: it never evaluates the field at s itself, where the exact field is singular
    off the board at s = 1 (RK4 does, and overshoots there; notebook 05).
    """
    field_ = as_field(velocity)
    check_points("x", x, dim=None)
    t, s = check_number("t", t), check_number("s", s)
    if not 0 <= t <= s <= 1:
        raise ValueError(f"t and s must satisfy 0 <= t <= s <= 1, got t = {t}, s = {s}")
    n_steps = check_count("n_steps", n_steps, minimum=1)
    check_choice("solver", solver, tuple(SOLVERS))
    ones = torch.ones(len(x), 1, dtype=x.dtype, device=x.device)

    def f(y: torch.Tensor, tau: float, where: str = "") -> torch.Tensor:
        return check_field_output("velocity", field_(y, ones * tau), y, where).to(y.dtype)

    with torch.no_grad():
        if s == t:
            return f(x, t, f" at t = {t:.4g}")
        end = raw_integrate(solver, f, x, n_steps, t, s)
    return (end - x) / (s - t)
