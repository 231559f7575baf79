"""The training loop, `fit`, and the flow trainer built on it, `train`.

`fit(model, batch_loss, optimiser)` is the one loop of the package: Adam (fused where torch has
it), the learning-rate schedule, gradient clipping, a seeded generator, a progress bar, weight
snapshots, and a clear error when the loss stops being finite. Every trainer is `fit` plus the
loss of one batch: `train` (flow matching, notebook 04), `fm.reflow` (07), `fm.train_meanflow` and
`fm.fit_one_step` (08), and a conditional model through `train` with a recipe that has
`label_dropout` (10, 11). What a run computes is decided by its recipe (fmhelpers.recipes).
`as_velocity(model, recipe)` is the trained network as a velocity field, whatever it predicts.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from ._checks import (
    check_callable,
    check_count,
    check_field_output,
    check_flag,
    check_model,
    check_number,
    module_device,
    resolve_device,
    time_column,
)
from .couplings import COUPLINGS, Batch, data_source, raw_batch
from .interpolants import PREDICTIONS
from .recipes import DEFAULT_RECIPE, LR_SCHEDULES, Optimiser, Recipe, as_recipe
from .targets import TARGETS, point_and_goal, raw_time

BatchLoss = Callable[[torch.Generator, torch.device], torch.Tensor]


@dataclass
class TrainResult:
    """What a trainer returns: the trained model, one loss per iteration, optional weight snapshots.

    `extra` holds what one trainer adds (reflow: the seconds spent making its pairs).
    """

    model: nn.Module
    losses: list[float]
    recipe: Optimiser
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    seconds: float = 0.0
    snapshot_seconds: dict[int, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def lr_factor(schedule: str, step: int, total: int) -> float:
    """The learning rate's multiplier at `step` of `total`: `LR_SCHEDULES[schedule](step, total)`
    (1 for "constant"; a cosine from 1 to 0 for "cosine")."""
    return LR_SCHEDULES[schedule](step, total)


def check_loss(loss: Any) -> torch.Tensor:
    """What a `batch_loss` returned, checked on the first step: a floating-point scalar tensor with a
    gradient, else an error that says what it got."""
    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"batch_loss must return a scalar torch.Tensor with a gradient, got {type(loss).__name__}")
    if loss.dim() != 0:
        raise ValueError(f"batch_loss must return a scalar (the batch's mean loss), got shape {tuple(loss.shape)}")
    if not loss.dtype.is_floating_point:
        raise TypeError(f"batch_loss must return a floating-point scalar, got {loss.dtype}")
    if not loss.requires_grad:
        raise ValueError("batch_loss returned a tensor without a gradient: compute it from the model's output "
                         "(not under torch.no_grad(), not detached)")
    return loss


def _fused_adam_ok(device: torch.device) -> bool:
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return device.type in ("cpu", "cuda") and (major, minor) >= (2, 4)


def fit(
    model: nn.Module,
    batch_loss: BatchLoss,
    recipe: Optimiser,
    *,
    progress: bool = True,
    desc: str = "training",
    snapshot_every: int | None = None,
    device: Any = None,
) -> TrainResult:
    """Train `model` in place: `recipe.n_iterations` Adam steps on `batch_loss(generator, device)`.

    Args:
        model: the network (its parameters are what Adam moves).
        batch_loss: draws one batch with the generator it is given (seeded with `recipe.seed`, so a
            seeded run on the CPU gives the same numbers every time) and returns its loss, a scalar
            tensor with a gradient; tensors it makes go to `device`.
        recipe: an `fm.Optimiser` or any recipe (its optimisation fields are used).
        progress: show a tqdm progress bar with the running loss.
        desc: the progress bar's label.
        snapshot_every: keep a copy of the weights at iteration 0, every this many iterations and at
            the end.
        device: where to train (None: where the model already is).

    Returns:
        TrainResult with .model, .losses (length n_iterations), .recipe, .snapshots {iteration:
        state_dict}, .seconds (training wall time) and .snapshot_seconds.

    Raises:
        FloatingPointError: the loss stopped being finite (the iteration is named).
    """
    check_model("model", model, "fm.VelocityMLP()")
    check_callable("batch_loss", batch_loss, "batch_loss(generator, device)")
    if not isinstance(recipe, Optimiser):
        raise TypeError(f"recipe must be an fm.Optimiser or a recipe, got {type(recipe).__name__}")
    check_flag("progress", progress)
    if snapshot_every is not None:
        snapshot_every = check_count("snapshot_every", snapshot_every, minimum=1)
    device = module_device(model) if device is None else resolve_device(device)
    model.to(device).train()
    generator = torch.Generator().manual_seed(recipe.seed)
    # fused Adam: one kernel for all parameters, ~0.4 ms less per step on the CPU (benchmarks/README.md)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, betas=(0.9, recipe.adam_beta2),
                                 fused=_fused_adam_ok(device))
    total = recipe.n_iterations
    factor = LR_SCHEDULES[recipe.lr_schedule]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: factor(k, total))
    snapshots: dict[int, dict[str, torch.Tensor]] = {}
    snapshot_seconds: dict[int, float] = {}

    def keep(iteration: int) -> None:
        snapshot_seconds[iteration] = time.perf_counter() - start
        snapshots[iteration] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    from tqdm.auto import tqdm

    losses: list[float] = []
    start = time.perf_counter()
    bar = tqdm(range(total), desc=desc, disable=not progress, mininterval=0.5)
    for iteration in bar:
        if snapshot_every is not None and iteration % snapshot_every == 0:
            keep(iteration)
        loss = batch_loss(generator, device)
        if iteration == 0:
            check_loss(loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if recipe.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), recipe.clip_grad_norm)
        optimizer.step()
        scheduler.step()
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss became {value} at iteration {iteration}: training diverged; "
                                     f"try a smaller lr (got {recipe.lr})")
        losses.append(value)
        if progress and iteration % 25 == 0:
            bar.set_postfix(loss=f"{sum(losses[-25:]) / len(losses[-25:]):.4f}", refresh=False)
    seconds = time.perf_counter() - start
    if snapshot_every is not None:
        keep(total)
    model.eval()
    return TrainResult(model=model, losses=losses, recipe=recipe, snapshots=snapshots, seconds=seconds,
                       snapshot_seconds=snapshot_seconds)


def _labels_for(model: nn.Module, recipe: Recipe, batch: Batch, generator: torch.Generator):
    """(labels the network sees, the x_1's own labels, which rows had theirs dropped), or Nones."""
    if recipe.label_dropout is None:
        return None, None, None
    dropped = torch.rand(len(batch.labels), generator=generator) < recipe.label_dropout
    seen = torch.where(dropped, torch.full_like(batch.labels, model.n_classes), batch.labels)
    return seen, batch.labels, dropped


def train(
    model: nn.Module,
    recipe: Recipe | None = None,
    *,
    progress: bool = True,
    snapshot_every: int | None = None,
    device: Any = None,
    pairs: tuple[torch.Tensor, torch.Tensor] | None = None,
    data: Any = None,
    **changes: Any,
) -> TrainResult:
    """Train `model` in place with Adam on the flow matching loss, as `recipe` says (with `fit`).

    Each iteration draws a fresh batch: x_0 ~ pi_0, x_1 ~ pi_1 (the recipe's board, or rows of
    `data`) and t (see `fm.sample_time`), all from one generator seeded with the recipe's seed, so
    a seeded run on the CPU gives the same numbers every time.

    Args:
        model: a velocity field module, e.g. `fm.VelocityMLP()`; with a recipe that sets
            `label_dropout`, a conditional one (`fm.ConditionalMLP`), trained on the labels of x_1.
        recipe: an `fm.Recipe` (default `fm.DEFAULT_RECIPE`).
        progress: show a tqdm progress bar with the running loss.
        snapshot_every: keep a copy of the weights at iteration 0 and every this many iterations
            (and at the end), for "samples at different training iterations".
        device: where to train (None: where the model already is).
        pairs: (x_0, x_1), two tensors (m, d) whose rows are paired, for a recipe with
            coupling="pairs" (e.g. `fm.flow_pairs(model, m)` for reflow): each batch is
            batch_size rows drawn from them with replacement. Needed by that coupling, refused
            by the others.
        data: a data set to learn instead of the board: points (m, d), or (points, labels) for a
            conditional model; each batch draws rows with replacement.
        **changes: any field of `fm.Recipe` (n_iterations=, lr=, seed=, target=, ...), applied to
            `recipe`: `fm.train(model, lr=3e-3)` is `fm.train(model, fm.DEFAULT_RECIPE.replace(lr=3e-3))`.

    Returns:
        TrainResult (see `fit`).

    Raises:
        FloatingPointError: the loss stopped being finite (the iteration is named).
    """
    check_model("model", model, "fm.VelocityMLP()")
    recipe = as_recipe(recipe, changes, DEFAULT_RECIPE, Recipe)
    if (pairs is None) == COUPLINGS[recipe.coupling].needs_pairs:
        raise ValueError(f"pairs must be given exactly when the recipe's coupling takes given pairs "
                         f"(coupling={recipe.coupling!r}, pairs {'given' if pairs is not None else 'missing'})")
    source = data_source(board=recipe.board, data=data, pairs=pairs)
    _check_fit(model, recipe, source)
    interpolant = recipe.make_interpolant()
    conditional = recipe.label_dropout is not None
    forward = getattr(model, "raw", model)
    scale_output = PREDICTIONS[recipe.prediction].scale_output  # the score's loss compares alpha_t s_theta
    weight = next(model.parameters())
    first = [True]  # what the network returns is checked on the first batch only

    def batch_loss(generator: torch.Generator, device: torch.device) -> torch.Tensor:
        batch = raw_batch(recipe.batch_size, source, generator, recipe.coupling, recipe.ot_block, conditional)
        t = raw_time(recipe.batch_size, recipe.time_sampling, generator)
        seen, labels, dropped = _labels_for(model, recipe, batch, generator)
        x_0, x_1, t = (z.to(device, weight.dtype) for z in (batch.x_0, batch.x_1, t))
        c = interpolant.raw_coefficients(t)
        x_t, goal = point_and_goal(x_0, x_1, c, recipe.target, t=t, interpolant=interpolant, board=recipe.board,
                                   labels=None if labels is None else labels.to(device),
                                   unlabelled=None if dropped is None else dropped.to(device),
                                   prediction=recipe.prediction)
        predicted = forward(x_t, t) if seen is None else forward(x_t, t, seen.to(device))
        if first[0]:
            first[0] = False
            check_field_output("model", predicted, x_t, " on the first training batch", finite=False)
        return (scale_output(c, predicted) - goal).pow(2).sum(dim=1).mean()

    return fit(model, batch_loss, recipe, progress=progress, snapshot_every=snapshot_every, device=device)


def _check_fit(model: nn.Module, recipe: Recipe, source) -> None:
    """What the model, the recipe and the data must agree on, said before the first step."""
    dim = getattr(model, "dim", None)
    if dim is not None and dim != source.dim:
        raise ValueError(f"model works in {dim} dimensions but the training points have {source.dim}")
    if TARGETS[recipe.target].board_only and source.board is None:
        raise ValueError(f"target={recipe.target!r} is a closed form of the board: it cannot train on data or pairs")
    n_classes = getattr(model, "n_classes", None)
    if recipe.label_dropout is None and n_classes is not None:
        raise ValueError(f"model is conditional ({n_classes} classes): give the recipe label_dropout "
                         f"(e.g. fm.GUIDANCE_RECIPE) so that it trains on labels")
    if recipe.label_dropout is not None:
        if n_classes is None:
            raise ValueError("recipe.label_dropout is set but the model takes no label: use fm.ConditionalMLP")
        if not source.has_labels:
            raise ValueError("recipe.label_dropout is set but the data has no labels: pass data=(points, labels)")
        k = source.board.n_classes if source.board is not None else int(source.labels.max()) + 1
        if k > n_classes:
            raise ValueError(f"the data has labels up to {k - 1} but the model has {n_classes} classes")


def as_velocity(model: nn.Module, recipe: Recipe, *, t_eps: float = 1e-2) -> Callable[..., torch.Tensor]:
    """The velocity field v(x, t) of a network trained with `recipe`, whatever it predicts.

    A network that predicts the velocity (recipe.prediction == "velocity") is returned as it is.
    Any other is wrapped: v(x, t) = `PREDICTIONS[recipe.prediction].to_velocity(c, x, y)` with y the
    network's answer and c the recipe's path, both at a time clamped where the conversion divides by
    a coefficient that vanishes: the noise and the score divide by beta_t (v = (beta'/beta) x - (D/beta) e),
    so they are evaluated at max(t, t_eps); the data divides by alpha_t (v = (alpha'/alpha) x + (D/alpha) m),
    so it is evaluated at min(t, 1 - t_eps). On [0, t_eps) (or (1 - t_eps, 1]) the field is the one at
    the clamp, held still. Near the clamp an error e in the network's answer becomes about D e / beta_t
    (or D e / alpha_t) in the velocity, so a sampler's first (or last) steps are where such a field is
    least accurate: the clamp trades a bias on [0, t_eps) for a bounded gain 1 / beta(t_eps). The
    default 1e-2 keeps that gain at 100 on the linear path; with 1e-3, a small network's noise field
    sent few-step Euler samples off the board while 1e-2 did not (tests/test_training.py runs both).

    Args:
        model: the trained network (`fm.VelocityMLP`, or `fm.ConditionalMLP`: the field then takes the
            label too, v(x, t, c)).
        recipe: the `fm.Recipe` it was trained with (`Checkpoint.recipe`; `Checkpoint.velocity` does this).
        t_eps: the clamp, in (0, 0.5).

    Returns:
        a callable v(x, t[, c]) -> (n, d) in x's dtype, for `fm.euler` and every other solver or metric;
        its input is checked by the network's own forward.
    """
    check_model("model", model, "fm.VelocityMLP()")
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be the fm.Recipe the model was trained with (e.g. checkpoint.recipe), "
                        f"got {type(recipe).__name__}")
    t_eps = check_number("t_eps", t_eps)
    if not 0 < t_eps < 0.5:
        raise ValueError(f"t_eps must lie in (0, 0.5), got {t_eps}")
    entry = PREDICTIONS[recipe.prediction]
    if entry.is_velocity:
        return model
    interpolant = recipe.make_interpolant()

    def velocity(x: torch.Tensor, t: Any, *label: Any) -> torch.Tensor:
        s = entry.usable_time(time_column(t, x), t_eps)  # x itself is checked by the network
        answer = model(x, s, *label)
        return entry.to_velocity(interpolant.raw_coefficients(s.to(answer.dtype)), x.to(answer.dtype), answer)

    velocity.__doc__ = f"v(x, t) of a network that predicts the {recipe.prediction} on the {interpolant.name} path"
    return velocity
