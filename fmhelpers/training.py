"""Learning v_theta with the conditional flow matching loss, and saving/loading checkpoints.

The loss for one batch, with t, x_0 ~ pi_0 and x_1 ~ pi_1 drawn independently:

    L(theta) = mean_i || u_t(x_0^i, x_1^i) - v_theta(x_t^i, t^i) ||^2

`minibatch_target` replaces u_t by an average of the conditional velocities over the batch's
x_1, weighted by how likely each x_1 is to have produced x_t: a Monte Carlo estimate of the
marginal velocity v*(x_t, t) (the quantity the loss above secretly regresses on) with less noise.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ._checks import check_count, check_positive, resolve_device
from .distributions import sample_checkerboard, sample_gaussian
from .interpolants import Interpolant, LinearInterpolant
from .models import VelocityMLP

CHECKPOINT_FORMAT = "fmhelpers-checkpoint-v1"
TIME_SAMPLINGS = ("uniform", "late", "later", "mixed")
TARGETS = ("conditional", "minibatch")

# The project's recommended recipe: measured against the write-up's by benchmarks/benchmark.py,
# one lever at a time by benchmarks/levers.py (see benchmarks/NOTES.md).
DEFAULT_RECIPE = {
    "n_iterations": 6000,
    "batch_size": 512,
    "lr": 1e-2,
    "lr_schedule": "cosine",
    "time_sampling": "mixed",
    "target": "minibatch",
    "adam_beta2": 0.99,
    "clip_grad_norm": 1.0,
}


def _check_time_sampling(time_sampling: Any) -> None:
    if time_sampling not in TIME_SAMPLINGS:
        raise ValueError(f"time_sampling must be one of {TIME_SAMPLINGS}, got {time_sampling!r}")


def sample_time(n: int, time_sampling: str = "uniform", *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training times, shape (n, 1).

    "uniform": t ~ U(0, 1), the write-up's choice. "late": density 2t on [0, 1] (t = sqrt(u)),
    which spends more of the batch near t = 1, where the marginal field is sharpest.
    "later": density 3t^2 (t = u^(1/3)), further still. "mixed": "later" for nine times in ten
    and uniform for the tenth (density 0.9 * 3t^2 + 0.1), so that early times are never starved:
    with "later" alone, P(t < 0.1) is 0.001, and a field barely trained there can send the
    Gaussian's far tail off to infinity (benchmarks/NOTES.md, round 6).
    """
    n = check_count("n", n)
    _check_time_sampling(time_sampling)
    u = torch.rand(n, 1, generator=generator)
    if time_sampling == "mixed":
        uniform = torch.rand(n, 1, generator=generator) < 0.1
        return torch.where(uniform, torch.rand(n, 1, generator=generator), u.pow(1 / 3))
    power = {"uniform": 1.0, "late": 0.5, "later": 1 / 3}[time_sampling]
    return u if power == 1.0 else u.pow(power)


def _check_target(target: Any) -> None:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")


@torch.no_grad()
def minibatch_target(
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    t: torch.Tensor,
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
        x_0, x_1: (n, 2) batch of source and target samples (x_1 doubles as the reference set).
        t: times in [0, 1]: a float, or shape (n,) or (n, 1).
        alpha_min: a positive floor for alpha_t (see above).

    Returns:
        (n, 2) targets; at t = 0 they are mean(x_1) - x_0 for the linear path.
    """
    interpolant = LinearInterpolant() if interpolant is None else interpolant
    alpha_min = check_positive("alpha_min", alpha_min)
    x_0, x_1, t = Interpolant._check(x_0, x_1, t)
    t = t.reshape(-1, 1).expand(len(x_0), 1)
    raw_alpha = interpolant.alpha(t)
    alpha = raw_alpha.clamp_min(alpha_min)
    beta, d_alpha, d_beta = interpolant.beta(t), interpolant.d_alpha(t), interpolant.d_beta(t)
    x_t = interpolant.interpolate(x_0, x_1, t)
    # log-weights up to a per-row constant: (beta x_t . x_1^j - beta^2 ||x_1^j||^2 / 2) / alpha^2
    rows = torch.cat([beta * x_t, -0.5 * beta * beta], dim=1) / alpha.pow(2)
    cols = torch.cat([x_1, x_1.pow(2).sum(dim=1, keepdim=True)], dim=1)
    weights = torch.softmax(rows @ cols.T, dim=1)
    weights.fill_diagonal_(0.0)  # the pair's own x_1 enters through u_t below
    shift = weights @ x_1 - weights.sum(dim=1, keepdim=True) * x_1
    c_t = torch.where(raw_alpha < alpha_min, 0.0, d_beta - d_alpha * beta / alpha)
    return interpolant.conditional_velocity(x_0, x_1, t) + c_t * shift


def cfm_loss(
    model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    t: torch.Tensor,
    *,
    interpolant: Interpolant | None = None,
    target: str = "conditional",
) -> torch.Tensor:
    """Flow matching loss: mean over the batch of ||target - v_theta(x_t, t)||^2 (a scalar).

    target="conditional" regresses on the conditional velocity u_t (the write-up's loss);
    target="minibatch" on `minibatch_target`, the batch's estimate of the marginal velocity.
    """
    _check_target(target)
    interpolant = LinearInterpolant() if interpolant is None else interpolant
    x_t = interpolant.interpolate(x_0, x_1, t)
    if target == "conditional":
        goal = interpolant.conditional_velocity(x_0, x_1, t)
    else:
        goal = minibatch_target(x_0, x_1, t, interpolant=interpolant)
    return (model(x_t, t) - goal).pow(2).sum(dim=1).mean()


@dataclass
class TrainResult:
    """What `train` returns: the trained model, one loss per iteration, optional weight snapshots."""

    model: nn.Module
    losses: list[float]
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    seconds: float = 0.0
    snapshot_seconds: dict[int, float] = field(default_factory=dict)
    recipe: dict[str, Any] = field(default_factory=dict)


def _fused_adam_ok(device: torch.device) -> bool:
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return device.type in ("cpu", "cuda") and (major, minor) >= (2, 4)


def _lr_factor(schedule: str, step: int, total: int) -> float:
    if schedule == "constant":
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * step / total))  # cosine decay to 0


def train(
    model: nn.Module,
    *,
    interpolant: Interpolant | None = None,
    n_iterations: int = DEFAULT_RECIPE["n_iterations"],
    batch_size: int = DEFAULT_RECIPE["batch_size"],
    lr: float = DEFAULT_RECIPE["lr"],
    lr_schedule: str = DEFAULT_RECIPE["lr_schedule"],
    time_sampling: str = DEFAULT_RECIPE["time_sampling"],
    target: str = DEFAULT_RECIPE["target"],
    adam_beta2: float = DEFAULT_RECIPE["adam_beta2"],
    clip_grad_norm: float | None = DEFAULT_RECIPE["clip_grad_norm"],
    seed: int = 0,
    progress: bool = True,
    snapshot_every: int | None = None,
    grid_size: int = 4,
    scale: float = 2.0,
    device: Any = None,
) -> TrainResult:
    """Train `model` in place with Adam on the conditional flow matching loss.

    Each iteration draws a fresh batch: x_0 ~ pi_0, x_1 ~ pi_1 and t (see `sample_time`), all from
    one generator seeded with `seed`, so a seeded run on the CPU gives the same numbers every time.

    Args:
        model: a velocity field module, e.g. `VelocityMLP()`; it is moved to `device`.
        interpolant: the path (default `LinearInterpolant()`).
        n_iterations, batch_size, lr: the optimisation budget.
        lr_schedule: "constant" or "cosine" (decays the learning rate to 0 at the end).
        time_sampling: "uniform", "late", "later" or "mixed" (see `sample_time`).
        target: "conditional" (the write-up's loss) or "minibatch" (see `minibatch_target`).
        adam_beta2: Adam's second-moment rate (beta1 is 0.9; torch's default beta2 is 0.999).
        clip_grad_norm: rescale each gradient to at most this norm (None: no clipping).
        seed: seeds the batches.
        progress: show a tqdm progress bar with the running loss.
        snapshot_every: keep a copy of the weights at iteration 0 and every this many iterations
            (and at the end), for "samples at different training iterations".
        device: where to train (default: the model's device).

    Returns:
        TrainResult with .model, .losses (length n_iterations), .snapshots {iteration: state_dict},
        .seconds (training wall time), .snapshot_seconds {iteration: seconds so far} and .recipe.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    n_iterations = check_count("n_iterations", n_iterations, minimum=1)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    lr = check_positive("lr", lr)
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
    _check_time_sampling(time_sampling)
    _check_target(target)
    if isinstance(adam_beta2, bool) or not isinstance(adam_beta2, (int, float)):
        raise TypeError(f"adam_beta2 must be a number, got {type(adam_beta2).__name__}")
    if not 0.0 <= adam_beta2 < 1.0:
        raise ValueError(f"adam_beta2 must be in [0, 1), got {adam_beta2}")
    if clip_grad_norm is not None:
        clip_grad_norm = check_positive("clip_grad_norm", clip_grad_norm)
    if snapshot_every is not None:
        snapshot_every = check_count("snapshot_every", snapshot_every, minimum=1)
    interpolant = LinearInterpolant() if interpolant is None else interpolant
    if not isinstance(interpolant, Interpolant):
        raise TypeError(f"interpolant must be an fmhelpers Interpolant, got {type(interpolant).__name__}")
    if device is None:
        device = next(model.parameters()).device
    device = resolve_device(device)
    model.to(device).train()

    recipe = dict(n_iterations=n_iterations, batch_size=batch_size, lr=lr, lr_schedule=lr_schedule,
                  time_sampling=time_sampling, target=target, adam_beta2=adam_beta2,
                  clip_grad_norm=clip_grad_norm, seed=seed, interpolant=type(interpolant).__name__)
    generator = torch.Generator().manual_seed(seed)
    # fused Adam: one kernel for all parameters, ~0.4 ms less per step on the CPU (benchmarks/NOTES.md)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, adam_beta2), fused=_fused_adam_ok(device))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(lr_schedule, step, n_iterations))
    snapshots: dict[int, dict[str, torch.Tensor]] = {}
    snapshot_seconds: dict[int, float] = {}

    def keep(iteration: int) -> None:
        snapshot_seconds[iteration] = time.perf_counter() - start
        snapshots[iteration] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    from tqdm.auto import tqdm

    losses: list[float] = []
    start = time.perf_counter()
    bar = tqdm(range(n_iterations), desc="training", disable=not progress, mininterval=0.5)
    for iteration in bar:
        if snapshot_every is not None and iteration % snapshot_every == 0:
            keep(iteration)
        x_0 = sample_gaussian(batch_size, generator=generator)
        x_1 = sample_checkerboard(batch_size, grid_size=grid_size, scale=scale, generator=generator)
        t = sample_time(batch_size, time_sampling, generator=generator)
        loss = cfm_loss(model, x_0.to(device), x_1.to(device), t.to(device), interpolant=interpolant, target=target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"the loss became {losses[-1]} at iteration {iteration}: training diverged; "
                                     f"try a smaller lr (got {lr})")
        if progress and iteration % 25 == 0:
            bar.set_postfix(loss=f"{sum(losses[-25:]) / len(losses[-25:]):.4f}", refresh=False)
    seconds = time.perf_counter() - start
    if snapshot_every is not None:
        keep(n_iterations)
    model.eval()
    return TrainResult(model=model, losses=losses, snapshots=snapshots, seconds=seconds,
                       snapshot_seconds=snapshot_seconds, recipe=recipe)


@dataclass
class Checkpoint:
    """What `load_checkpoint` returns."""

    model: VelocityMLP
    losses: list[float]
    snapshots: dict[int, dict[str, torch.Tensor]]
    meta: dict[str, Any]

    def model_at(self, iteration: int) -> VelocityMLP:
        """A copy of the model with the weights snapshotted at `iteration`."""
        if iteration not in self.snapshots:
            raise ValueError(f"iteration must be one of {sorted(self.snapshots)}, got {iteration}")
        model = copy.deepcopy(self.model)
        model.load_state_dict(self.snapshots[iteration])
        return model.eval()


def _plain(value: Any, name: str) -> Any:
    """`value` made of plain Python values and tensors only, so weights_only loading accepts it."""
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{name}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, name) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, torch.Tensor):
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)  # also turns str subclasses such as torch's version string into str
    raise TypeError(f"{name} must hold only numbers, strings, lists, dicts and tensors, got {type(value).__name__}")


def save_checkpoint(
    path: str | os.PathLike,
    model: VelocityMLP,
    *,
    losses: list[float] | None = None,
    snapshots: dict[int, dict[str, torch.Tensor]] | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write the model (and optionally its losses, snapshots and a metadata dict) atomically.

    The file is written beside `path` under a temporary name and renamed over it, so a crash
    never leaves a half-written checkpoint. Only tensors and plain Python values are stored, so
    `load_checkpoint` can read it with `weights_only=True`.
    """
    if not isinstance(model, VelocityMLP):
        raise TypeError(f"model must be a VelocityMLP, got {type(model).__name__}")
    path = Path(path)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": dict(model.config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "losses": torch.tensor(losses if losses is not None else [], dtype=torch.float64),
        "snapshots": {int(k): v for k, v in (snapshots or {}).items()},
        "meta": _plain(dict(meta or {}), "meta"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, *, device: Any = None) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint` (with `torch.load(weights_only=True)`).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not an fmhelpers checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no checkpoint file at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        raise ValueError(f"path: {path.name} is not an fmhelpers checkpoint ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"path: {path.name} is not an fmhelpers checkpoint (format {CHECKPOINT_FORMAT} expected)")
    model = VelocityMLP(**payload["config"], seed=None)
    model.load_state_dict(payload["state_dict"])
    model.to(resolve_device(device)).eval()
    return Checkpoint(
        model=model,
        losses=payload["losses"].tolist(),
        snapshots={int(k): v for k, v in payload["snapshots"].items()},
        meta=payload["meta"],
    )


def load_or_train(
    path: str | os.PathLike,
    *,
    retrain: bool = False,
    snapshot_every: int | None = 1000,
    progress: bool = True,
    device: Any = None,
    **recipe: Any,
) -> Checkpoint:
    """Load the checkpoint at `path`, or train `VelocityMLP()` with the recipe and save it there.

    The recipe is `DEFAULT_RECIPE` updated with `recipe` (any keyword of `train`). A checkpoint
    trained with another recipe is not used: the model is trained again (and the reason printed).
    Weights are snapshotted every `snapshot_every` iterations, as notebook 04 shows them.

    Returns:
        the Checkpoint, whose .meta holds the recipe, the training seconds and the torch version.
    """
    wanted = dict(DEFAULT_RECIPE, **recipe, seed=recipe.get("seed", 0))
    path = Path(path)
    if path.exists() and not retrain:
        ckpt = load_checkpoint(path, device=device)
        stored = {k: ckpt.meta.get("recipe", {}).get(k) for k in wanted}
        if stored == wanted:
            return ckpt
        print(f"{path.name} was trained with {stored}; training again with {wanted}")
    result = train(VelocityMLP(), snapshot_every=snapshot_every, progress=progress, device=device, **wanted)
    meta = {"recipe": result.recipe, "seconds": result.seconds, "torch": torch.__version__}
    save_checkpoint(path, result.model, losses=result.losses, snapshots=result.snapshots, meta=meta)
    return load_checkpoint(path, device=device)
