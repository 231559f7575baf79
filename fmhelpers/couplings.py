"""Couplings: which x_1 each x_0 is paired with, and how straight the resulting flow is.

The loss of notebook 04 pairs x_0 ~ pi_0 and x_1 ~ pi_1 drawn apart: the *independent*
coupling. Any other joint law of (x_0, x_1) with the same two marginals also gives a flow from
pi_0 to pi_1, and some give straighter ones:

- "ot", minibatch optimal transport: within each batch, the pairing that minimises the total
  squared distance sum_i ||x_0^i - x_1^sigma(i)||^2 over permutations sigma, solved exactly by
  `scipy.optimize.linear_sum_assignment` (the Hungarian method's modern variant);
- pairs made by a trained flow (reflow): x_0 ~ pi_0 and X_1 its endpoint under the flow's ODE
  (`flow_pairs`). Such pairs cannot cross, so a flow trained on them is straighter.

With coupled pairs, the regression target is the conditional velocity u_t = x_1 - x_0 of the
pair. The minibatch target of `fm.minibatch_target` assumes the independent coupling (its
weights are the posterior of x_1 given x_t under independence), so recipes refuse it with any
other coupling.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import as_field, check_choice, check_count, check_flag, check_generator, check_points, check_seed
from .distributions import sample_gaussian

from .recipe import COUPLINGS, DEFAULT_RECIPE, Recipe, as_recipe

# Minibatch OT: the default recipe with the pairs of each batch matched in blocks of 128 (an
# exact assignment of the whole batch of 512 costs about ten training steps here, blocks of 128
# about one; benchmarks/straight.py measures both, and the pairing costs they reach).
OT_RECIPE = DEFAULT_RECIPE.replace(coupling="ot", ot_block=128, target="conditional")
# One round of reflow, started from the model that made the pairs: the pair's own velocity
# x_1 - x_0 as target, a quarter of the times at t = 0 and a quarter at t = 1/2 (where Euler with
# 1 and 2 steps looks), 5000 steps at 1e-2 (benchmarks/NOTES.md, round 7).
REFLOW_RECIPE = DEFAULT_RECIPE.replace(coupling="pairs", target="conditional", time_sampling="two-step",
                                       n_iterations=5000)


def _check_pair(x_0: Any, x_1: Any) -> None:
    check_points("x_0", x_0)
    check_points("x_1", x_1)
    if len(x_0) != len(x_1):
        raise ValueError(f"x_0 and x_1 must hold the same number of points, got {len(x_0)} and {len(x_1)}")


def ot_permutation(x_0: torch.Tensor, x_1: torch.Tensor) -> torch.Tensor:
    """The pairing of minimal total squared distance: x_1[perm][i] goes with x_0[i].

    Exact (`scipy.optimize.linear_sum_assignment` on the n x n table of squared distances, in
    float64), O(n^3) in the worst case: about a millisecond for n = 128 and tens of
    milliseconds for n = 512 on a laptop CPU.

    Returns:
        a permutation of range(n), int64, on the device of x_1.
    """
    from scipy.optimize import linear_sum_assignment

    _check_pair(x_0, x_1)
    cost = torch.cdist(x_0.detach().double().cpu(), x_1.detach().double().cpu()).pow(2).numpy()
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=np.int64)
    perm[rows] = cols
    return torch.from_numpy(perm).to(x_1.device)


def couple(x_0: torch.Tensor, x_1: torch.Tensor, coupling: str = "independent", *,
           block_size: int | None = None) -> torch.Tensor:
    """x_1 reordered so that row i pairs with x_0[i] under `coupling`.

    Args:
        coupling: "independent" (x_1 as it is) or "ot" (minimal total squared distance).
        block_size: for "ot", solve the assignment within consecutive blocks of this many rows
            instead of the whole batch (cheaper: the exact solver's cost grows like n^3).
    """
    _check_pair(x_0, x_1)
    check_choice("coupling", coupling, ("independent", "ot"))
    if block_size is not None:
        block_size = check_count("block_size", block_size, minimum=1)
    if coupling == "independent":
        return x_1
    size = len(x_0) if block_size is None else block_size
    parts = []
    for start in range(0, len(x_0), size):
        a, b = x_0[start:start + size], x_1[start:start + size]
        parts.append(b[ot_permutation(a, b)])
    return torch.cat(parts)


def pairing_cost(x_0: torch.Tensor, x_1: torch.Tensor) -> float:
    """The mean squared distance (1/n) sum_i ||x_0^i - x_1^i||^2 of row-wise pairs."""
    _check_pair(x_0, x_1)
    return float((x_0.double() - x_1.double()).pow(2).sum(dim=1).mean())


def flow_pairs(
    velocity: Any,
    n: int,
    *,
    n_steps: int = 16,
    solver: str = "midpoint",
    batch_size: int = 20_000,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs (x_0, X_1) for reflow: x_0 ~ pi_0 and X_1 = x_0 carried to t = 1 by `velocity`'s ODE.

    The ODE is solved with `solver` ("euler", "midpoint", "heun" or "rk4") in `n_steps` steps,
    `batch_size` points at a time; a module is evaluated on its own device. Both tensors are on
    the CPU, float32.
    """
    from .solvers import SOLVERS

    field = as_field(velocity)
    n = check_count("n", n, minimum=1)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    check_choice("solver", solver, tuple(SOLVERS))
    batch_size = check_count("batch_size", batch_size, minimum=1)
    generator = check_generator("generator", generator)
    x_0 = sample_gaussian(n, generator=generator)
    ends = [SOLVERS[solver](field, x_0[i:i + batch_size], n_steps).detach().cpu().float()
            for i in range(0, n, batch_size)]
    return x_0, torch.cat(ends)


def reflow(
    model: Any,
    recipe: Recipe | None = None,
    *,
    n_pairs: int = 100_000,
    n_steps: int = 8,
    solver: str = "midpoint",
    warm_start: bool = True,
    seed: int = 0,
    progress: bool = True,
    **changes: Any,
):
    """One round of reflow: pairs (x_0, X_1) from `model`'s ODE, then a flow trained on them.

    Args:
        model: the trained flow whose pairs are used (a module).
        recipe: the training recipe (default `REFLOW_RECIPE`); its coupling must be "pairs".
        n_pairs, n_steps, solver: how many pairs, and how their X_1 is computed (`flow_pairs`).
            Midpoint with 8 steps put 0.971 of the default model's X_1 on a black cell, as many
            as Euler with 100 steps, in a tenth of the time.
        warm_start: train a copy of `model` (True) or a fresh `VelocityMLP` (False).
        seed: seeds the pairs' x_0.
        **changes: fields of the recipe to change.

    Returns:
        the `TrainResult` of the new flow; its `.pair_seconds` is the time spent making pairs.
    """
    from .models import VelocityMLP
    from .training import train

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a trained torch.nn.Module (the flow that makes the pairs), got {type(model).__name__}")
    recipe = as_recipe(REFLOW_RECIPE if recipe is None else recipe, changes)
    if recipe.coupling != "pairs":
        raise ValueError(f"recipe must have coupling='pairs' for reflow, got {recipe.coupling!r}")
    check_flag("warm_start", warm_start)
    seed = check_seed("seed", seed)
    start = time.perf_counter()
    pairs = flow_pairs(model, n_pairs, n_steps=n_steps, solver=solver, generator=torch.Generator().manual_seed(seed))
    pair_seconds = time.perf_counter() - start
    student = copy.deepcopy(model) if warm_start else VelocityMLP()
    result = train(student, recipe, pairs=pairs, progress=progress)
    result.pair_seconds = pair_seconds
    return result


def straightness(
    velocity: Any,
    x_0: torch.Tensor,
    *,
    n_steps: int = 64,
    solver: str = "rk4",
) -> float:
    """How far a flow is from straight, from the points x_0:

        S = (1/K) sum_k E ||v(X_{t_k}, t_k) - (X_1 - X_0)||^2,  t_k = k / K,

    along the ODE's trajectories (solved with `solver` in K = n_steps steps). S = 0 exactly when
    every trajectory is a straight line run at constant speed, and then one Euler step is exact.
    """
    from .solvers import SOLVERS

    check_points("x_0", x_0)
    field = as_field(velocity)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    check_choice("solver", solver, tuple(SOLVERS))
    with torch.no_grad():
        path = SOLVERS[solver](field, x_0, n_steps, return_trajectory=True)
        chord = path[-1] - path[0]
        total = 0.0
        for k in range(n_steps):
            t = torch.full((len(x_0), 1), k / n_steps, dtype=path.dtype, device=path.device)
            total += float((field(path[k], t) - chord).pow(2).sum(dim=1).mean())
    return total / n_steps


__all__ = ["COUPLINGS", "OT_RECIPE", "REFLOW_RECIPE", "couple", "flow_pairs", "ot_permutation", "pairing_cost", "reflow",
           "straightness"]
