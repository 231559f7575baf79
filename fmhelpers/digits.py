"""Real data in 64 dimensions: scikit-learn's 8x8 handwritten digits (notebook 11), and the judge that
scores generated digits (guided sampling from a conditional flow is `fm.guided_field`, which works
for any `fm.ConditionalMLP`).

- `load_digits(split)`: the 1,797 digits as points in [-1, 1]^64 (pixel p in 0..16 becomes p / 8 - 1,
  ink near +1, paper at -1), with their labels 0-9, split once into a training set (70 % of each
  class) and a held-out set (the other 30 %), by a fixed seed. The images ship inside the
  scikit-learn package: nothing is downloaded.
- `matching_rows`: rows of a labelled set with the class counts of another (equal sizes, equal mix).
- `train_judge`: a `ClassifierMLP` fitted on the training split by `fm.fit` with cross-entropy
  (`fm.JUDGE_RECIPE`); its accuracy on generated digits (`judge_accuracy`) and its hidden features
  (`judge.features`, compared with `fm.frechet_distance`) score a generator.

`DIGITS_MODEL`, `JUDGE_MODEL` and `UNCONDITIONAL_MODEL` are the networks' configurations the
checkpoints were made with (`python3 tasks.py checkpoint digits`).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_choice, check_generator, check_indices, check_model, check_points
from .models import ClassifierMLP
from .recipes import JUDGE_RECIPE, Optimiser, as_recipe
from .training import TrainResult, fit

DIGIT_SHAPE = (8, 8)
N_CLASSES = 10
HELD_OUT_FRACTION = 0.3
SPLIT_SEED = 0
SPLITS = ("train", "held_out", "all")
# the networks of the committed checkpoints (notebooks/checkpoints/digits.pt and digits_judge.pt)
DIGITS_MODEL = {"n_classes": 10, "dim": 64, "hidden": 512, "n_layers": 3, "embed_dim": 32, "activation": "silu"}
JUDGE_MODEL = {"dim": 64, "n_classes": 10, "hidden": 128, "n_layers": 2, "activation": "relu"}
# the unconditional networks that compare couplings (digits_independent.pt and digits_ot.pt)
UNCONDITIONAL_MODEL = {"dim": 64, "hidden": 256, "n_layers": 3, "activation": "silu"}


@functools.lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pixels 0..16 as float64 (1797, 64), labels (1797,), held-out mask (1797,)), read once."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as exc:  # pragma: no cover - the classroom set pins scikit-learn
        raise ImportError("the 8x8 digits of notebook 11 ship inside scikit-learn, which is not installed: "
                          "pip install scikit-learn (requirements/classroom.txt pins the version)") from exc
    bunch = sklearn_digits()
    pixels, labels = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SPLIT_SEED)).numpy()
    held_out = np.zeros(len(labels), dtype=bool)
    for k in range(N_CLASSES):  # stratified: the first 30 % of each class, in a seeded random order
        rows = order[labels[order] == k]
        held_out[rows[:round(HELD_OUT_FRACTION * len(rows))]] = True
    return pixels, labels, held_out


def _classes(name: str, c: Any, n: int, n_classes: int) -> torch.Tensor:
    """Classes of n points as int64 (n,) in 0 .. n_classes - 1: an int (every point) or an int tensor (n,).
    A judge has no "no label" class, so None and n_classes are refused."""
    if isinstance(c, np.integer):
        c = int(c)
    if c is None:
        raise TypeError(f"{name} must be a class (an int in 0..{n_classes - 1}) or an int tensor of shape (n,), got None")
    return check_indices(name, c, n, n_classes, kind="class", span=f"the {n_classes} digit classes")


def load_digits(split: str = "train", *, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The 8x8 digits as points in [-1, 1]^64 and their labels.

    Args:
        split: "train" (70 % of each class, 1,258 digits), "held_out" (the other 30 %, 539 digits),
            or "all" (1,797); the split is fixed (seed `SPLIT_SEED`), the rows keep the data set's order.
        dtype: a floating torch dtype for the points.

    Returns:
        (points (n, 64) with pixel value p in 0..16 mapped to p / 8 - 1, labels int64 (n,)).
    """
    check_choice("split", split, SPLITS)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype such as torch.float32, got {dtype!r}")
    pixels, labels, held_out = _raw()
    keep = {"train": ~held_out, "held_out": held_out, "all": np.ones_like(held_out)}[split]
    points = torch.from_numpy(pixels[keep] / 8.0 - 1.0).to(dtype)
    return points, torch.from_numpy(labels[keep].copy())


def matching_rows(labels: torch.Tensor, like: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rows of a labelled set with as many of each class as `like` holds, drawn at random without
    replacement: e.g. training digits to compare with the held-out ones at equal size and class mix.

    Args:
        labels: int64 (m,) the labels of the set to draw from.
        like: int64 (n,) the labels whose class counts are matched (each class at most as often as in `labels`).
        generator: seeds the draw.

    Returns:
        int64 (n,) row indices into the set, grouped by class (0 first).
    """
    generator = check_generator("generator", generator)
    for name, value in (("labels", labels), ("like", like)):
        if not isinstance(value, torch.Tensor) or value.dim() != 1 or value.is_floating_point() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be an int tensor of shape (n,), got "
                            f"{getattr(value, 'dtype', type(value).__name__)} of shape {tuple(getattr(value, 'shape', ()))}")
    rows = []
    for k in like.unique().tolist():
        pool = (labels == k).nonzero().squeeze(1)
        wanted = int((like == k).sum())
        if wanted > len(pool):
            raise ValueError(f"like holds {wanted} of class {k} but labels only {len(pool)}")
        rows.append(pool[torch.randperm(len(pool), generator=generator)[:wanted]])
    return torch.cat(rows) if rows else torch.zeros(0, dtype=torch.long)


def train_judge(
    points: torch.Tensor,
    labels: torch.Tensor,
    recipe: Optimiser | None = None,
    *,
    model: nn.Module | None = None,
    progress: bool = True,
    **changes: Any,
) -> TrainResult:
    """Fit a classifier of digits with `fm.fit` on the cross-entropy of batches drawn from (points, labels).

    Args:
        points: (m, d) training points, e.g. `load_digits("train")[0]`.
        labels: int64 (m,) their classes, 0 .. n_classes - 1.
        recipe: an `fm.Optimiser` (default `fm.JUDGE_RECIPE`); `changes` override its fields.
        model: the classifier to train in place (default `fm.ClassifierMLP(**JUDGE_MODEL)`, seed 0).
        progress: show a progress bar.

    Returns:
        TrainResult (see `fm.fit`): .model, .losses, .recipe, .seconds.
    """
    recipe = as_recipe(recipe, changes, JUDGE_RECIPE, Optimiser)
    model = ClassifierMLP(**JUDGE_MODEL) if model is None else model
    check_model("model", model, "fm.ClassifierMLP()")
    if not isinstance(model, ClassifierMLP):
        raise TypeError(f"model must be an fm.ClassifierMLP, got {type(model).__name__}")
    check_points("points", points, dim=model.dim, min_rows=1)
    labels = _classes("labels", labels, len(points), model.config["n_classes"])
    x, y = points.detach().float(), labels

    def batch_loss(generator: torch.Generator, device: torch.device) -> torch.Tensor:
        rows = torch.randint(len(x), (recipe.batch_size,), generator=generator)
        return F.cross_entropy(model.raw(x[rows].to(device)), y[rows].to(device))

    return fit(model, batch_loss, recipe, progress=progress, desc="judge")


def judge_accuracy(judge: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of points x (n, d) that `judge` (an `fm.ClassifierMLP`) classifies as `labels` (n,)."""
    if not isinstance(judge, ClassifierMLP):
        raise TypeError(f"judge must be an fm.ClassifierMLP (e.g. the digits judge checkpoint), got {type(judge).__name__}")
    check_points("x", x, dim=judge.dim, min_rows=1)
    labels = _classes("labels", labels, len(x), judge.config["n_classes"])
    with torch.no_grad():
        predicted = judge(x).argmax(dim=1).cpu()
    return (predicted == labels.cpu()).double().mean().item()
