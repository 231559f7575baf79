#!/usr/bin/env python3
"""Retrain the models the notebooks load, and save them in notebooks/checkpoints/.

    python3 tasks.py checkpoint              the default recipe -> velocity_mlp.pt
    python3 tasks.py checkpoint NAME ...     the checkpoints of one group (below), or one file by its stem

Each checkpoint is one row of CHECKPOINTS: its file, the network's kind and arguments, the named recipe
of fmhelpers.recipes, and what it learns from; `fm.load_or_train` trains it (the trainer follows from
the network's kind and the recipe's) and stores the recipe under meta["recipe"]. The groups are the
notebooks' (notebooks/registry.json lists which notebook loads which file).
"""

from __future__ import annotations

import functools
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

import fmhelpers as fm

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks" / "checkpoints"


def _reflow_pairs() -> dict[str, Any]:
    """One round of reflow starts from the committed default model: 100,000 of its pairs (midpoint, 8 steps),
    and a copy of it as the network to train further."""
    base = fm.load_checkpoint(FOLDER / "velocity_mlp.pt").model
    start = time.perf_counter()
    pairs = fm.flow_pairs(base, 100_000, n_steps=8, solver="midpoint", generator=torch.Generator().manual_seed(0))
    return {"pairs": pairs, "start": base,
            "meta": {"pair_seconds": time.perf_counter() - start,
                     "pairs": "100,000 pairs from velocity_mlp.pt (fm.flow_pairs: midpoint, 8 steps, seed 0); warm start"}}


def _exact_pairs() -> dict[str, Any]:
    """The one-step diagnostic of notebook 08: 100,000 pairs of the exact flow, by midpoint in 64 steps
    (midpoint never evaluates the exact field at t = 1)."""
    start = time.perf_counter()
    pairs = fm.flow_pairs(fm.marginal_velocity, 100_000, n_steps=64, solver="midpoint",
                          generator=torch.Generator().manual_seed(5))
    return {"pairs": pairs, "meta": {"pair_seconds": time.perf_counter() - start,
                                     "pairs": "100,000 pairs of the exact flow (fm.flow_pairs(fm.marginal_velocity): "
                                              "midpoint, 64 steps, seed 5)"}}


def _digits(labels: bool) -> Callable[[], dict[str, Any]]:
    def inputs() -> dict[str, Any]:
        x, y = fm.load_digits("train")
        return {"data": (x, y) if labels else x,
                "meta": {"data": "the training split of fm.load_digits (1,258 digits)"
                                 + ("" if labels else ", without labels")}}
    return inputs


INPUTS: dict[str, Callable[[], dict[str, Any]]] = {
    "": dict,  # the board: nothing beyond the recipe
    "reflow_pairs": _reflow_pairs,
    "exact_pairs": _exact_pairs,
    "digits": _digits(labels=True),
    "digits_unlabelled": _digits(labels=False),
}


@dataclass(frozen=True)
class Row:
    """One checkpoint of notebooks/registry.toml: `fm.load_or_train(FOLDER / file, recipe, model=model,
    config=config, **INPUTS[inputs]())`."""

    file: str
    group: str
    model: str
    recipe: fm.Optimiser
    config: dict[str, Any] = field(default_factory=dict)
    inputs: str = ""
    snapshot_every: int | None = None


def _row(entry: dict[str, Any]) -> Row:
    config = functools.reduce(getattr, entry["config"].split("."), fm) if entry["config"] else {}
    if entry["inputs"] not in INPUTS:
        raise ValueError(f"{entry['file']}: inputs must be one of {tuple(INPUTS)}, got {entry['inputs']!r}")
    return Row(entry["file"], entry["group"], entry["model"], fm.RECIPES[entry["recipe"]], dict(config),
               entry["inputs"], entry["snapshot_every"] or None)


ROWS = [_row(entry) for entry in tomllib.loads((ROOT / "notebooks" / "registry.toml").read_text())["checkpoint"]]
CHECKPOINTS: dict[str, list[Row]] = {}
for _r in ROWS:
    CHECKPOINTS.setdefault(_r.group, []).append(_r)


def make(row: Row) -> fm.Checkpoint:
    ckpt = fm.load_or_train(FOLDER / row.file, row.recipe, model=row.model, config=dict(row.config), retrain=True,
                            snapshot_every=row.snapshot_every, **INPUTS[row.inputs]())
    extra = f", pairs {ckpt.meta['pair_seconds']:.1f} s" if "pair_seconds" in ckpt.meta else ""
    print(f"saved {row.file}: trained in {ckpt.meta['seconds']:.1f} s{extra}")
    return ckpt


def rows(names: list[str]) -> list[Row]:
    """The rows of the groups or files named (by group or by file stem), in order."""
    by_stem = {row.file.removesuffix(".pt"): row for group in CHECKPOINTS.values() for row in group}
    chosen = []
    for name in names:
        if name in CHECKPOINTS:
            chosen += CHECKPOINTS[name]
        elif name in by_stem:
            chosen.append(by_stem[name])
        else:
            sys.exit(f"unknown checkpoint {name!r}; choose a group ({', '.join(CHECKPOINTS)}) or a file "
                     f"({', '.join(by_stem)})")
    return chosen


if __name__ == "__main__":
    for row in rows(sys.argv[1:] or ["default"]):
        make(row)
