"""Checkpoints: written atomically, read with `torch.load(weights_only=True)`, checked on the way in.

A checkpoint holds a network of the model table (`fm.MODELS`: its kind, config and weights),
optionally its losses and weight snapshots, and a metadata dict of plain values. The recipe it was
trained with is always under one key, meta["recipe"] (`save_checkpoint(..., recipe=...)`), and comes
back as `Checkpoint.recipe`; `load_or_train` trains again only when the stored recipe differs from
the one asked for.

Older checkpoints still load: a config without a kind is a `VelocityMLP` (or, marked
"mean_flow", a `MeanFlowMLP`), a recipe dict without a kind is a flow `Recipe`, and the mean flows'
recipes, once stored under meta["meanflow_recipe"], are read from there; fields added to the
recipes since are filled with the value those runs had (`Recipe.ADDED_LATER`).
"""

from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ._checks import check_count, check_flag, resolve_device
from .digits import train_judge
from .discrete import train_discrete
from .meanflow import fit_one_step, train_meanflow
from .interpolants import PREDICTIONS
from .models import MODELS, build_model, model_kind
from .recipes import (
    DEFAULT_RECIPE,
    DISCRETE_RECIPE,
    GUIDANCE_RECIPE,
    JUDGE_RECIPE,
    MEANFLOW_RECIPE,
    RECIPE_KINDS,
    Optimiser,
    Recipe,
    as_recipe,
    recipe_from_dict,
)
from .training import TrainResult, as_velocity, train

CHECKPOINT_FORMAT = "fmhelpers-checkpoint-v1"
_KEYS = ("format", "config", "state_dict", "losses", "snapshots", "meta")


@dataclass
class Checkpoint:
    """What `load_checkpoint` returns."""

    model: nn.Module
    losses: list[float]
    snapshots: dict[int, dict[str, torch.Tensor]]
    meta: dict[str, Any]

    @property
    def recipe(self) -> Optimiser | None:
        """The recipe the model was trained with (a `Recipe`, `MeanFlowRecipe` or `Optimiser`), or
        None when the checkpoint records none this version can rebuild (a schedule of your own)."""
        stored, kind = self.meta.get("recipe"), "flow"
        if stored is None and "meanflow_recipe" in self.meta:  # written before recipes had one key
            stored, kind = self.meta["meanflow_recipe"], "mean_flow"
        try:
            return recipe_from_dict(stored, default_kind=kind)
        except (TypeError, ValueError):
            return None

    @property
    def velocity(self) -> Callable[..., torch.Tensor]:
        """The network as a velocity field v(x, t) for solvers and metrics, whatever it predicts
        (`fm.as_velocity(self.model, self.recipe)`; the model itself when it predicts the velocity)."""
        recipe = self.recipe
        if not isinstance(recipe, Recipe):  # a flow with a schedule of your own: a velocity network needs none
            stored = self.meta.get("recipe") or {}
            if isinstance(stored, dict):
                kind = RECIPE_KINDS.get(stored.get("kind", Recipe.kind))
                prediction = PREDICTIONS.get(stored.get("prediction", Recipe.ADDED_LATER["prediction"]))
                if kind is Recipe and prediction is not None and prediction.is_velocity:
                    return self.model
            raise ValueError("this checkpoint's network is not a velocity field this fmhelpers can rebuild "
                             "(a mean flow, a classifier, or a recipe with a schedule of your own): use "
                             "fm.as_velocity(checkpoint.model, recipe) with the recipe it was trained with")
        return as_velocity(self.model, recipe)

    def model_at(self, iteration: int) -> nn.Module:
        """A copy of the model with the weights snapshotted at `iteration`."""
        if iteration not in self.snapshots:
            raise ValueError(f"iteration must be one of {sorted(self.snapshots)}, got {iteration!r}")
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


def _check_snapshots(snapshots: Any, model: nn.Module) -> dict[int, dict[str, torch.Tensor]]:
    if snapshots is None:
        return {}
    if not isinstance(snapshots, dict):
        raise TypeError(f"snapshots must be a dict {{iteration: state_dict}}, got {type(snapshots).__name__}")
    keys = set(model.state_dict())
    out = {}
    for iteration, state in snapshots.items():
        iteration = check_count("snapshots' iteration keys", iteration)
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise TypeError(f"snapshots[{iteration}] must be a state dict {{name: tensor}}, got {type(state).__name__}")
        if set(state) != keys:
            raise ValueError(f"snapshots[{iteration}] does not hold this model's weights "
                             f"(missing {sorted(keys - set(state))}, unknown {sorted(set(state) - keys)})")
        out[iteration] = {k: v.detach().cpu() for k, v in state.items()}
    return out


def _remove_stale_temporaries(path: Path) -> None:
    """Delete `<name>.*.tmp` files a killed save left beside `path` (one save per path at a time)."""
    for stale in path.parent.glob(f"{path.name}.*.tmp"):
        try:
            stale.unlink()
        except FileNotFoundError:
            pass


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    *,
    recipe: Optimiser | None = None,
    losses: list[float] | None = None,
    snapshots: dict[int, dict[str, torch.Tensor]] | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write the model (and optionally its recipe, losses, snapshots and a metadata dict) atomically.

    The model is any network of `fm.MODELS`; the recipe goes to meta["recipe"] as plain values.
    The file is written beside `path` under a temporary name and renamed over it, so a crash
    never leaves a half-written checkpoint (and a temporary file that a killed save left behind
    is removed by the next save). Only tensors and plain Python values are stored, so
    `load_checkpoint` can read it with `weights_only=True`.
    """
    kind = model_kind(model)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    if meta is not None and not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    if recipe is not None and not isinstance(recipe, Optimiser):
        raise TypeError(f"recipe must be an fm.Recipe, fm.MeanFlowRecipe or fm.Optimiser, got {type(recipe).__name__}")
    meta = dict(meta or {})
    if recipe is not None:
        meta["recipe"] = recipe.to_dict()
    path = Path(path)
    try:
        losses_tensor = torch.tensor([] if losses is None else [float(v) for v in losses], dtype=torch.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"losses must be a sequence of numbers ({exc})") from exc
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": {**model.config, "kind": kind},
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "losses": losses_tensor,
        "snapshots": _check_snapshots(snapshots, model),
        "meta": _plain(meta, "meta"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
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

    Args:
        path: the file.
        device: where the model goes (None: the CPU).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not an fmhelpers checkpoint, or its parts do not fit together.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    device = resolve_device(device)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no checkpoint file at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        raise ValueError(f"path: {path.name} is not an fmhelpers checkpoint ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"path: {path.name} is not an fmhelpers checkpoint (format {CHECKPOINT_FORMAT} expected)")
    missing = [key for key in _KEYS if key not in payload]
    if missing:
        raise ValueError(f"path: {path.name} is missing {', '.join(missing)}: the file is damaged or incomplete")
    try:
        config = dict(payload["config"])
        model = build_model(config.pop("kind", "velocity"), config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"path: {path.name} holds a model config this fmhelpers cannot build ({exc})") from exc
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise ValueError(f"path: the weights in {path.name} do not match its config {payload['config']}: "
                         f"{str(exc).splitlines()[0]}") from exc
    try:
        snapshots = _check_snapshots({int(k): v for k, v in payload["snapshots"].items()}, model)
        losses = payload["losses"].tolist()
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"path: the snapshots or losses in {path.name} are damaged ({exc})") from exc
    return Checkpoint(model=model.to(device).eval(), losses=losses, snapshots=snapshots, meta=dict(payload["meta"]))


def _train_flow(network, recipe, data, pairs, snapshot_every, progress, device) -> TrainResult:
    return train(network, recipe, data=data, pairs=pairs, snapshot_every=snapshot_every, progress=progress,
                 device=device)


def _train_mean_flow(network, recipe, data, pairs, snapshot_every, progress, device) -> TrainResult:
    _refuse(data=data)
    return train_meanflow(network, recipe, pairs=pairs, progress=progress, device=device)


def _fit_one_step(network, recipe, data, pairs, snapshot_every, progress, device) -> TrainResult:
    _refuse(data=data)
    if pairs is None:
        raise ValueError("pairs must be given for a one-step fit (model='mean_flow' with an fm.Optimiser): "
                         "pairs=(x_0, x_1), e.g. fm.flow_pairs(fm.marginal_velocity, n)")
    return fit_one_step(network, pairs[0], pairs[1], recipe, progress=progress, device=device)


def _train_judge(network, recipe, data, pairs, snapshot_every, progress, device) -> TrainResult:
    _refuse(pairs=pairs)
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError("data must be (points, labels) for a classifier (model='classifier'), "
                         f"got {type(data).__name__}")
    return train_judge(data[0], data[1], recipe, model=network, progress=progress)


def _train_discrete(network, recipe, data, pairs, snapshot_every, progress, device) -> TrainResult:
    _refuse(data=data, pairs=pairs)
    return train_discrete(network, recipe, snapshot_every=snapshot_every, progress=progress, device=device)


def _refuse(**given: Any) -> None:
    for name, value in given.items():
        if value is not None:
            raise ValueError(f"{name} is not used by this kind of model and recipe; leave it out")


# (model kind, recipe kind) -> train(network, recipe, data, pairs, snapshot_every, progress, device):
# which trainer `load_or_train` runs for a network of `fm.MODELS` and a recipe of `fm.RECIPE_KINDS`
TRAINERS: dict[tuple[str, str], Callable[..., TrainResult]] = {
    ("velocity", "flow"): _train_flow,
    ("conditional", "flow"): _train_flow,
    ("mean_flow", "mean_flow"): _train_mean_flow,
    ("mean_flow", "optimiser"): _fit_one_step,
    ("classifier", "optimiser"): _train_judge,
    ("discrete", "discrete"): _train_discrete,
}
_DEFAULTS = {"velocity": DEFAULT_RECIPE, "conditional": GUIDANCE_RECIPE, "mean_flow": MEANFLOW_RECIPE,
             "classifier": JUDGE_RECIPE, "discrete": DISCRETE_RECIPE}


def load_or_train(
    path: str | os.PathLike,
    recipe: Optimiser | None = None,
    *,
    model: str = "velocity",
    config: dict[str, Any] | None = None,
    data: Any = None,
    pairs: tuple[torch.Tensor, torch.Tensor] | None = None,
    start: nn.Module | None = None,
    meta: dict[str, Any] | None = None,
    retrain: bool = False,
    snapshot_every: int | None = 1000,
    progress: bool = True,
    device: Any = None,
    **changes: Any,
) -> Checkpoint:
    """Load the checkpoint at `path`, or train a network of kind `model` with the recipe and save it there.

    The trainer is `TRAINERS[(model, recipe.kind)]`: a "velocity" or "conditional" network with an
    `fm.Recipe` (`fm.train`), a "mean_flow" network with an `fm.MeanFlowRecipe` (`fm.train_meanflow`)
    or with an `fm.Optimiser` and `pairs` (`fm.fit_one_step`), a "classifier" with an `fm.Optimiser`
    and data=(points, labels) (`fm.train_judge`), a "discrete" network with an `fm.DiscreteRecipe`
    (`fm.train_discrete`). A checkpoint whose recipe or network differs from
    the one asked for is not used: the model is trained again (and the reason printed).

    Args:
        path: the checkpoint file.
        recipe: the recipe (default: `fm.DEFAULT_RECIPE` for "velocity", `fm.GUIDANCE_RECIPE` for
            "conditional", `fm.MEANFLOW_RECIPE` for "mean_flow", `fm.JUDGE_RECIPE` for "classifier",
            `fm.DISCRETE_RECIPE` for "discrete"),
            with `changes` applied (any of its fields).
        model: a kind of `fm.MODELS`; `config` its arguments (default: the network's own defaults).
        data, pairs: what the trainer learns from (a data set; given pairs, e.g. `fm.flow_pairs`).
        start: a network to copy and train further instead of a new one (reflow's warm start).
        meta: plain values to store beside the training seconds, the torch version and the threads.
        retrain: train even when a matching checkpoint exists.
        snapshot_every: weight snapshots every this many iterations (flows; notebook 04 shows them).

    Returns:
        the Checkpoint; `.recipe` gives the recipe, `.meta` the seconds, versions and `meta`.
    """
    if not isinstance(model, str) or model not in MODELS:
        raise ValueError(f"model must be one of {tuple(MODELS)}, got {model!r}")
    default = _DEFAULTS[model]
    cls = type(recipe) if isinstance(recipe, Optimiser) else type(default)
    wanted = as_recipe(recipe, changes, default, cls)
    trainer = TRAINERS.get((model, wanted.kind))
    if trainer is None:
        raise ValueError(f"a {model!r} network does not train with an fm.{type(wanted).__name__}; the pairs known "
                         f"are {sorted(TRAINERS)}")
    check_flag("retrain", retrain)
    check_flag("progress", progress)
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict of the network's arguments, got {type(config).__name__}")
    if start is not None and model_kind(start) != model:
        raise ValueError(f"start must be a {model!r} network, got a {model_kind(start)!r} one")
    if meta is not None and not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict of plain values, got {type(meta).__name__}")
    if snapshot_every is not None:
        snapshot_every = check_count("snapshot_every", snapshot_every, minimum=1)
    device = resolve_device(device)
    network = copy.deepcopy(start) if start is not None else MODELS[model](**(config or {}))
    path = Path(path)
    if path.exists() and not retrain:
        ckpt = load_checkpoint(path, device=device)
        stored = ckpt.meta.get("recipe")
        try:
            same = type(wanted).upgrade(stored) == wanted.to_dict()
        except ValueError:
            same = False
        same_network = model_kind(ckpt.model) == model and ckpt.model.config == network.config
        if same and same_network:
            return ckpt
        reason = (f"was trained with {stored}; training again with {wanted.to_dict()}" if not same else
                  f"holds a {model_kind(ckpt.model)} network {ckpt.model.config}; training a {model} one "
                  f"{network.config}")
        print(f"{path.name} {reason}")
    result = trainer(network, wanted, data, pairs, snapshot_every, progress, device)
    stored_meta = {"seconds": result.seconds, "torch": torch.__version__, "threads": torch.get_num_threads(),
                   **(meta or {})}
    save_checkpoint(path, result.model, recipe=wanted, losses=result.losses, snapshots=result.snapshots,
                    meta=stored_meta)
    return load_checkpoint(path, device=device)
