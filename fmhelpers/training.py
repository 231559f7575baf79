"""The training loop: Adam on the flow matching loss, one fresh batch per iteration.

What the loop computes is decided by a `Recipe` (fmhelpers.recipe); the loss and the regression
targets live in fmhelpers.targets, checkpoints in fmhelpers.checkpoints.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ._checks import check_count, check_points, module_device, resolve_device
from .distributions import sample_checkerboard, sample_gaussian
from .recipe import Recipe, as_recipe
from .targets import _loss, _sample_time


@dataclass
class TrainResult:
    """What `train` returns: the trained model, one loss per iteration, optional weight snapshots."""

    model: nn.Module
    losses: list[float]
    recipe: Recipe
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    seconds: float = 0.0
    snapshot_seconds: dict[int, float] = field(default_factory=dict)
    pair_seconds: float = 0.0  # time spent making the pairs, for reflow (`fm.reflow`)


def _fused_adam_ok(device: torch.device) -> bool:
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return device.type in ("cpu", "cuda") and (major, minor) >= (2, 4)


def _lr_factor(schedule: str, step: int, total: int) -> float:
    if schedule == "constant":
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * step / total))  # cosine decay to 0


def _step(model: nn.Module, optimizer, scheduler, loss: torch.Tensor, clip_grad_norm: float | None,
          iteration: int, lr: float) -> float:
    """One Adam step on `loss` (gradient norm clipped when asked); the loss as a float, which must be finite."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip_grad_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
    optimizer.step()
    scheduler.step()
    value = loss.item()
    if not math.isfinite(value):
        raise FloatingPointError(f"the loss became {value} at iteration {iteration}: training diverged; "
                                 f"try a smaller lr (got {lr})")
    return value


def train(
    model: nn.Module,
    recipe: Recipe | None = None,
    *,
    progress: bool = True,
    snapshot_every: int | None = None,
    device: Any = None,
    pairs: tuple[torch.Tensor, torch.Tensor] | None = None,
    **changes: Any,
) -> TrainResult:
    """Train `model` in place with Adam on the flow matching loss, as `recipe` says.

    Each iteration draws a fresh batch: x_0 ~ pi_0, x_1 ~ pi_1 and t (see `fm.sample_time`), all
    from one generator seeded with the recipe's seed, so a seeded run on the CPU gives the same
    numbers every time.

    Args:
        model: a velocity field module, e.g. `VelocityMLP()`.
        recipe: an `fm.Recipe` (default `fm.DEFAULT_RECIPE`).
        progress: show a tqdm progress bar with the running loss.
        snapshot_every: keep a copy of the weights at iteration 0 and every this many iterations
            (and at the end), for "samples at different training iterations".
        device: where to train (None: where the model already is).
        pairs: (x_0, x_1), two tensors of shape (m, 2) whose rows are paired, for a recipe with
            coupling="pairs" (e.g. `fm.flow_pairs(model, m)` for reflow): each batch is
            batch_size rows drawn from them with replacement. Needed by that coupling, refused
            by the others.
        **changes: any field of `fm.Recipe` (n_iterations=, lr=, seed=, target=, ...), applied to
            `recipe`: `fm.train(model, lr=3e-3)` is `fm.train(model, fm.DEFAULT_RECIPE.replace(lr=3e-3))`.

    Returns:
        TrainResult with .model, .losses (length n_iterations), .recipe, .snapshots
        {iteration: state_dict}, .seconds (training wall time) and .snapshot_seconds.

    Raises:
        FloatingPointError: the loss stopped being finite (the iteration is named).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if module_device(model) is None:
        raise ValueError("model must have parameters to train")
    recipe = as_recipe(recipe, changes)
    if snapshot_every is not None:
        snapshot_every = check_count("snapshot_every", snapshot_every, minimum=1)
    device = module_device(model) if device is None else resolve_device(device)
    model.to(device).train()
    interpolant = recipe.make_interpolant()
    n, board = recipe.batch_size, recipe.board
    if (pairs is None) != (recipe.coupling != "pairs"):
        raise ValueError("pairs must be given exactly when the recipe's coupling is 'pairs' "
                         f"(coupling={recipe.coupling!r}, pairs {'given' if pairs is not None else 'missing'})")
    if pairs is not None:
        if not isinstance(pairs, (tuple, list)) or len(pairs) != 2:
            raise TypeError(f"pairs must be a tuple (x_0, x_1) of two tensors, got {type(pairs).__name__}")
        check_points("pairs[0]", pairs[0])
        check_points("pairs[1]", pairs[1])
        if len(pairs[0]) != len(pairs[1]):
            raise ValueError(f"pairs must hold as many x_0 as x_1, got {len(pairs[0])} and {len(pairs[1])}")
        pair_x0, pair_x1 = (p.detach().to(device, torch.float32) for p in pairs)

    generator = torch.Generator().manual_seed(recipe.seed)
    # fused Adam: one kernel for all parameters, ~0.4 ms less per step on the CPU (benchmarks/NOTES.md)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, betas=(0.9, recipe.adam_beta2),
                                 fused=_fused_adam_ok(device))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: _lr_factor(recipe.lr_schedule, step, recipe.n_iterations))
    snapshots: dict[int, dict[str, torch.Tensor]] = {}
    snapshot_seconds: dict[int, float] = {}

    def keep(iteration: int) -> None:
        snapshot_seconds[iteration] = time.perf_counter() - start
        snapshots[iteration] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    from tqdm.auto import tqdm

    losses: list[float] = []
    start = time.perf_counter()
    bar = tqdm(range(recipe.n_iterations), desc="training", disable=not progress, mininterval=0.5)
    for iteration in bar:
        if snapshot_every is not None and iteration % snapshot_every == 0:
            keep(iteration)
        if pairs is not None:
            rows = torch.randint(len(pair_x0), (n,), generator=generator).to(device)
            x_0, x_1 = pair_x0[rows], pair_x1[rows]
        else:
            x_0 = sample_gaussian(n, generator=generator)
            x_1 = sample_checkerboard(n, board=board, generator=generator)
            if recipe.coupling == "ot":
                from .couplings import couple

                x_1 = couple(x_0, x_1, "ot", block_size=recipe.ot_block)
            x_0, x_1 = x_0.to(device), x_1.to(device)
        t = _sample_time(n, recipe.time_sampling, generator).to(device)
        loss = _loss(model, x_0, x_1, t, interpolant, recipe.target)
        losses.append(_step(model, optimizer, scheduler, loss, recipe.clip_grad_norm, iteration, recipe.lr))
        if progress and iteration % 25 == 0:
            bar.set_postfix(loss=f"{sum(losses[-25:]) / len(losses[-25:]):.4f}", refresh=False)
    seconds = time.perf_counter() - start
    if snapshot_every is not None:
        keep(recipe.n_iterations)
    model.eval()
    return TrainResult(model=model, losses=losses, recipe=recipe, snapshots=snapshots, seconds=seconds,
                       snapshot_seconds=snapshot_seconds)
