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
pair, or the minibatch estimate of v* (`fm.minibatch_target`), which has far less noise (or, as a
check of what the identity can reach, the exact v* of our pair). The pairs (x_0, x_1) may be drawn
apart or matched by minibatch optimal transport (`fm.couple`), which straightens the flow whose
average velocity is learnt; `fm.MEANFLOW_RECIPE` does that (benchmarks/NOTES.md, round 8).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

import torch
from torch import nn

from ._checks import (
    as_field,
    check_choice,
    check_count,
    check_flag,
    check_number,
    check_optimiser,
    check_points,
    check_positive,
    check_seed,
    module_device,
    resolve_device,
    time_column,
)
from .couplings import couple
from .distributions import sample_checkerboard, sample_gaussian
from .interpolants import LinearInterpolant
from .marginal import marginal_velocity
from .targets import _minibatch_target

MEANFLOW_TARGETS = ("conditional", "minibatch", "exact")
MEANFLOW_COUPLINGS = ("independent", "ot")
INTERVALS = ("uniform", "logit-normal")


class MeanFlowMLP(nn.Module):
    """u_theta(x, t, s): the write-up's MLP (4 x 128, GELU) with inputs (x, t, s - t).

    The interval s - t is given directly, as the paper does, so that s = t (the instantaneous
    velocity) is an input value, not a relation between two inputs.
    """

    def __init__(self, hidden: int = 128, n_layers: int = 4, seed: int | None = 0) -> None:
        super().__init__()
        self.config = {"hidden": check_count("hidden", hidden, minimum=1),
                       "n_layers": check_count("n_layers", n_layers, minimum=1)}
        if seed is not None:
            seed = check_seed("seed", seed)
        layers: list[nn.Module] = []
        width = 4
        with torch.random.fork_rng(devices=[], enabled=seed is not None):  # the caller's RNG is left alone
            if seed is not None:
                torch.manual_seed(seed)
            for _ in range(self.config["n_layers"]):
                layers += [nn.Linear(width, hidden), nn.GELU()]
                width = hidden
            layers.append(nn.Linear(width, 2))
            self.net = nn.Sequential(*layers)

    def _forward(self, x: torch.Tensor, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, t, s - t], dim=1))

    def forward(self, x: torch.Tensor, t: Any, s: Any) -> torch.Tensor:
        """x: (n, 2); t, s: floats or shape (n,) / (n, 1), with 0 <= t <= s <= 1."""
        check_points("x", x)
        weight = self.net[0].weight
        xw = x.to(weight.device, weight.dtype)
        t = time_column(t, xw, "t").to(weight.dtype)
        s = time_column(s, xw, "s").to(weight.dtype)
        if bool((s < t - 1e-6).any()):
            raise ValueError("s must be >= t (the average velocity runs forward in time, from t to s)")
        return self._forward(xw, t, s).to(x.device, x.dtype)


@dataclass(frozen=True)
class MeanFlowRecipe:
    """Every choice of a mean-flow training run.

    Attributes:
        n_iterations, batch_size, lr, adam_beta2, clip_grad_norm: as in `fm.Recipe` (cosine decay).
        target: v in the identity: "conditional" (x_1 - x_0), "minibatch" (the estimate of v*) or
            "exact" (`fm.marginal_velocity`, v* itself: a ceiling check for our pair, not a method,
            since a real data set has no formula for v*).
        coupling: how x_0 and x_1 are paired: "independent" (drawn apart) or "ot" (minibatch
            optimal transport, `fm.couple`, in blocks of `ot_block` rows; None: the whole batch).
            The minibatch and exact targets are fields of independent pairs, so "ot" needs
            target="conditional".
        intervals: how (t, s) is drawn: two times from "uniform" or "logit-normal" (the paper's,
            logit of a time ~ N(mean, 1), here mean `time_mean`), sorted so that t <= s.
        equal_fraction: the share of the batch with s = t (plain flow matching there).
        one_step_fraction: a further share with (t, s) = (0, 1), the interval one step spans.
        weight_power: adaptive loss weighting: each squared error is divided by
            (error + weight_eps)^weight_power, detached (0: plain squared error).
        seed: seeds the batches.
    """

    n_iterations: int = 4500
    batch_size: int = 512
    lr: float = 3e-2
    adam_beta2: float = 0.99
    clip_grad_norm: float | None = 1.0
    target: str = "conditional"
    coupling: str = "ot"
    ot_block: int | None = 128
    intervals: str = "logit-normal"
    time_mean: float = 0.0
    equal_fraction: float = 0.25
    one_step_fraction: float = 0.0
    weight_power: float = 0.5
    weight_eps: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_optimiser(self)
        set_(self, "batch_size", check_count("batch_size", self.batch_size, minimum=2))
        check_choice("target", self.target, MEANFLOW_TARGETS)
        check_choice("coupling", self.coupling, MEANFLOW_COUPLINGS)
        if self.coupling != "independent" and self.target != "conditional":
            raise ValueError(f"target={self.target!r} is a velocity field of independent pairs, so "
                             f"coupling={self.coupling!r} needs target='conditional' (or coupling='independent')")
        if self.ot_block is not None:
            set_(self, "ot_block", check_count("ot_block", self.ot_block, minimum=1))
        check_choice("intervals", self.intervals, INTERVALS)
        set_(self, "time_mean", check_number("time_mean", self.time_mean))
        share = check_number("equal_fraction", self.equal_fraction)
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"equal_fraction must lie in [0, 1], got {share}")
        set_(self, "equal_fraction", share)
        anchor = check_number("one_step_fraction", self.one_step_fraction)
        if not 0.0 <= anchor <= 1.0 - share:
            raise ValueError(f"one_step_fraction must lie in [0, 1 - equal_fraction], got {anchor}")
        set_(self, "one_step_fraction", anchor)
        power = check_number("weight_power", self.weight_power)
        if power < 0:
            raise ValueError(f"weight_power must be >= 0, got {power}")
        set_(self, "weight_power", power)
        set_(self, "weight_eps", check_positive("weight_eps", self.weight_eps))
        set_(self, "seed", check_seed("seed", self.seed))

    def replace(self, **changes: Any) -> "MeanFlowRecipe":
        names = [f.name for f in fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise TypeError(f"unknown mean-flow recipe field(s) {', '.join(unknown)}; it has {', '.join(names)}")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# The best of the levers measured in benchmarks/NOTES.md, round 8 (fourth session): pairs matched by
# minibatch OT in blocks of 128 with their own velocity x_1 - x_0 as v, a quarter of the batch with
# s = t, logit-normal times centred at 0, adaptive weighting with p = 1/2, 4500 steps at 3e-2.
MEANFLOW_RECIPE = MeanFlowRecipe()
# The best recipe with independent pairs (round 8, first session): the minibatch estimate of v* as
# v, half the batch with s = t, later times (logit-normal centred at 0.8), plain squared error,
# 3000 steps at 1e-2. About 0.88 on the board at one evaluation where MEANFLOW_RECIPE is near 0.95.
INDEPENDENT_MEANFLOW_RECIPE = MEANFLOW_RECIPE.replace(
    coupling="independent", ot_block=None, target="minibatch", time_mean=0.8, equal_fraction=0.5, weight_power=0.0,
    n_iterations=3000, lr=1e-2)


def sample_intervals(n: int, recipe: MeanFlowRecipe, generator: torch.Generator | None = None):
    """(t, s), each of shape (n, 1), with t <= s; a share `recipe.equal_fraction` has s = t, and
    a share `recipe.one_step_fraction` is (0, 1)."""
    n = check_count("n", n, minimum=1)
    if not isinstance(recipe, MeanFlowRecipe):
        raise TypeError(f"recipe must be an fm.MeanFlowRecipe, got {type(recipe).__name__}")
    if recipe.intervals == "uniform":
        a, b = torch.rand(n, 1, generator=generator), torch.rand(n, 1, generator=generator)
    else:
        a = torch.sigmoid(torch.randn(n, 1, generator=generator) + recipe.time_mean)
        b = torch.sigmoid(torch.randn(n, 1, generator=generator) + recipe.time_mean)
    t, s = torch.minimum(a, b), torch.maximum(a, b)
    which = torch.rand(n, 1, generator=generator)
    equal = which < recipe.equal_fraction
    one_step = (which >= recipe.equal_fraction) & (which < recipe.equal_fraction + recipe.one_step_fraction)
    t = torch.where(one_step, torch.zeros_like(t), t)
    s = torch.where(one_step, torch.ones_like(s), s)
    return t, torch.where(equal, t, s)


def meanflow_target(u: Any, x_t: torch.Tensor, t: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The right-hand side of the MeanFlow identity, v + (s - t) * (du/dx v + du/dt), detached.

    u(x, t, s) is any differentiable function of tensors (x (n, 2), t (n, 1), s (n, 1)); its total
    derivative along the tangent (v, 1, 0) is one `torch.func.jvp`. When u is the exact average
    velocity of the flow of v, the result equals u(x_t, t, s).
    """
    from ._checks import check_callable

    check_callable("u", u, "u(x, t, s)")
    check_points("x_t", x_t)
    check_points("v", v)
    if len(v) != len(x_t):
        raise ValueError(f"v must hold one velocity per point of x_t ({len(x_t)}), got {len(v)}")
    t, s = time_column(t, x_t, "t"), time_column(s, x_t, "s")
    return _value_and_target(u, x_t, t, s, v)[1]


def _value_and_target(u: Any, x_t: torch.Tensor, t: torch.Tensor, s: torch.Tensor, v: torch.Tensor):
    """u(x_t, t, s) (with its graph, for the loss) and the detached target, from one JVP: the
    JVP's primal output is the forward pass itself, so the loss needs no second one."""
    value, du_dt = torch.func.jvp(u, (x_t, t, s), (v, torch.ones_like(t), torch.zeros_like(s)))
    return value, (v + (s - t) * du_dt).detach()


def meanflow_loss(model: nn.Module, x_0: torch.Tensor, x_1: torch.Tensor, t: torch.Tensor, s: torch.Tensor,
                  recipe: MeanFlowRecipe = MEANFLOW_RECIPE) -> torch.Tensor:
    """The MeanFlow loss of one batch (linear path), a scalar with a gradient for `model`.

    target = v + (s - t) * (du/dx v + du/dt), with u = model and the derivative taken by one
    `torch.func.jvp` along the tangent (v, 1, 0), detached; loss = weighted mean of
    ||u(x_t, t, s) - target||^2. Row i of x_0 is paired with row i of x_1 as given (`train_meanflow`
    matches them first when the recipe's coupling is "ot").
    """
    if not isinstance(recipe, MeanFlowRecipe):
        raise TypeError(f"recipe must be an fm.MeanFlowRecipe, got {type(recipe).__name__}")
    if not callable(model):
        raise TypeError(f"model must be a mean-flow module u(x, t, s), got {type(model).__name__}")
    check_points("x_0", x_0)
    check_points("x_1", x_1)
    if len(x_0) != len(x_1):
        raise ValueError(f"x_0 and x_1 must hold the same number of points, got {len(x_0)} and {len(x_1)}")
    t, s = time_column(t, x_0, "t"), time_column(s, x_0, "s")
    x_t = (1 - t) * x_0 + t * x_1
    if recipe.target == "minibatch":
        v = _minibatch_target(x_0, x_1, t, LinearInterpolant())
    elif recipe.target == "exact":
        v = marginal_velocity(x_t, t)
    else:
        v = x_1 - x_0
    forward = getattr(model, "_forward", model)
    value, target = _value_and_target(forward, x_t, t, s, v)
    error = (value - target).pow(2).sum(dim=1)
    if recipe.weight_power > 0:
        error = error / (error.detach() + recipe.weight_eps).pow(recipe.weight_power)
    return error.mean()


@dataclass
class MeanFlowResult:
    """What `train_meanflow` returns."""

    model: nn.Module
    losses: list[float]
    recipe: MeanFlowRecipe
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def train_meanflow(model: nn.Module | None = None, recipe: MeanFlowRecipe | None = None, *, progress: bool = True,
                   device: Any = None, **changes: Any) -> MeanFlowResult:
    """Train a `MeanFlowMLP` (in place) with Adam and cosine decay on `meanflow_loss`.

    Each iteration draws x_0 ~ pi_0, x_1 ~ pi_1 and (t, s) (`sample_intervals`) from one generator
    seeded with the recipe's seed; with coupling "ot", x_1 is reordered to match x_0 first.
    """
    model = MeanFlowMLP() if model is None else model
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. fm.MeanFlowMLP()), got {type(model).__name__}")
    recipe, device = _setup(model, recipe, changes, progress, device)
    n = recipe.batch_size

    def batch_loss(generator):
        x_0 = sample_gaussian(n, generator=generator)
        x_1 = sample_checkerboard(n, generator=generator)
        if recipe.coupling == "ot":
            x_1 = couple(x_0, x_1, "ot", block_size=recipe.ot_block)
        t, s = sample_intervals(n, recipe, generator)
        return meanflow_loss(model, *(z.to(device) for z in (x_0, x_1, t, s)), recipe=recipe)

    return _optimise(model, recipe, device, batch_loss, progress, "mean flow")


def fit_one_step(model: nn.Module, x_0: torch.Tensor, x_1: torch.Tensor, recipe: MeanFlowRecipe | None = None, *,
                 progress: bool = True, device: Any = None, **changes: Any) -> MeanFlowResult:
    """Regress u_theta(x_0, 0, 1) directly on x_1 - x_0 for given pairs (a diagnostic, not a method).

    With the pairs of the exact flow (`fm.flow_pairs(fm.marginal_velocity, ...)`) this measures how
    well the network can represent the one map that one step uses, when it is told that map at
    every pair: the ceiling of the network, where `target="exact"` is the ceiling of the loss. A
    real data set has no such pairs. Each step draws `recipe.batch_size` pairs at random (seeded by
    `recipe.seed`); of the recipe only the optimiser fields are used (n_iterations, batch_size, lr,
    adam_beta2, clip_grad_norm, seed), with Adam and cosine decay as in `train_meanflow`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. fm.MeanFlowMLP()), got {type(model).__name__}")
    check_points("x_0", x_0)
    check_points("x_1", x_1)
    if len(x_0) != len(x_1):
        raise ValueError(f"x_0 and x_1 must hold the same number of points, got {len(x_0)} and {len(x_1)}")
    recipe, device = _setup(model, recipe, changes, progress, device)
    dtype = next(model.parameters()).dtype
    x_0, step = x_0.detach().to(device, dtype), (x_1 - x_0).detach().to(device)
    t = torch.zeros(recipe.batch_size, 1, dtype=dtype, device=device)
    s = torch.ones_like(t)
    forward = getattr(model, "_forward", model)  # the pairs were checked above, not again at every step

    def batch_loss(generator):
        rows = torch.randint(0, len(x_0), (recipe.batch_size,), generator=generator).to(device)
        return (forward(x_0[rows], t, s).to(step.dtype) - step[rows]).pow(2).sum(dim=1).mean()

    return _optimise(model, recipe, device, batch_loss, progress, "one-step fit")


def _setup(model: nn.Module, recipe: Any, changes: dict, progress: Any, device: Any):
    """The recipe (with `changes` applied) and the device of a training call, both checked."""
    recipe = MEANFLOW_RECIPE if recipe is None else recipe
    if not isinstance(recipe, MeanFlowRecipe):
        raise TypeError(f"recipe must be an fm.MeanFlowRecipe, got {type(recipe).__name__}")
    recipe = recipe.replace(**changes) if changes else recipe
    check_flag("progress", progress)
    return recipe, (module_device(model) if device is None else resolve_device(device))


def _optimise(model: nn.Module, recipe: MeanFlowRecipe, device, batch_loss, progress: bool, desc: str) -> MeanFlowResult:
    """Adam with cosine decay on batch_loss(generator), the generator seeded with the recipe's seed."""
    from tqdm.auto import tqdm

    from .training import _lr_factor, _step

    model.to(device).train()
    generator = torch.Generator().manual_seed(recipe.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, betas=(0.9, recipe.adam_beta2))
    total = recipe.n_iterations
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: _lr_factor("cosine", k, total))
    losses: list[float] = []
    start = time.perf_counter()
    for iteration in tqdm(range(total), desc=desc, disable=not progress, mininterval=0.5):
        loss = batch_loss(generator)
        losses.append(_step(model, optimizer, scheduler, loss, recipe.clip_grad_norm, iteration, recipe.lr))
    seconds = time.perf_counter() - start
    model.eval()
    return MeanFlowResult(model=model, losses=losses, recipe=recipe, seconds=seconds)


def meanflow_sample(model: nn.Module, x_0: torch.Tensor, n_steps: int = 1) -> torch.Tensor:
    """x_1 from x_0 in `n_steps` equal jumps: x_{k+1} = x_k + (1/N) u(x_k, k/N, (k+1)/N).

    One network evaluation per step; a model is evaluated on its own device.
    """
    check_points("x_0", x_0)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a trained mean-flow module, got {type(model).__name__}")
    device = module_device(model) or x_0.device
    x = x_0.to(device)
    with torch.no_grad():
        for k in range(n_steps):
            t = torch.full((len(x), 1), k / n_steps, dtype=x.dtype, device=device)
            s = torch.full((len(x), 1), (k + 1) / n_steps, dtype=x.dtype, device=device)
            x = x + (s - t) * model(x, t, s)
    return x.to(x_0.device)


def average_velocity(velocity: Any, x: torch.Tensor, t: float, s: float, *, n_steps: int = 64,
                     solver: str = "rk4") -> torch.Tensor:
    """The exact average velocity u(x, t, s) = (X_s - x) / (s - t) of `velocity`'s flow, by solving
    its ODE from t to s (`solver`, `n_steps` steps); at s = t it is velocity(x, t).

    With `fm.marginal_velocity` this is the exact u of our Gaussian -> checkerboard pair.
    """
    from .solvers import SOLVERS, _steps

    field_ = as_field(velocity)
    check_points("x", x)
    t, s = check_number("t", t), check_number("s", s)
    if not 0 <= t <= s <= 1:
        raise ValueError(f"t and s must satisfy 0 <= t <= s <= 1, got t = {t}, s = {s}")
    n_steps = check_count("n_steps", n_steps, minimum=1)
    check_choice("solver", solver, tuple(SOLVERS))
    if s == t:
        with torch.no_grad():
            return field_(x, torch.full((len(x), 1), t, dtype=x.dtype, device=x.device))
    ones = torch.ones(len(x), 1, dtype=x.dtype, device=x.device)

    def f(y, tau, where=""):
        return field_(y, ones * tau)

    with torch.no_grad():
        end = _steps(solver, f, x, n_steps, t, s)
    return (end - x) / (s - t)


__all__ = ["INDEPENDENT_MEANFLOW_RECIPE", "INTERVALS", "MEANFLOW_COUPLINGS", "MEANFLOW_RECIPE", "MEANFLOW_TARGETS", "MeanFlowMLP", "MeanFlowRecipe", "MeanFlowResult",
           "average_velocity", "fit_one_step", "meanflow_loss", "meanflow_sample", "meanflow_target", "sample_intervals", "train_meanflow"]
