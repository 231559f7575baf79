#!/usr/bin/env python3
"""One lever at a time: train a recipe, report its wall time and its quality (Euler T = 100).

    .venv/bin/python -m benchmarks.levers            all the variants below, one after the other
    .venv/bin/python -m benchmarks.levers "default" "default, uniform t"     just these

The numbers it printed are kept, with what they taught, in benchmarks/NOTES.md.
"""

from __future__ import annotations

import sys
import time

import torch
from benchmarks.benchmark import quality

import fmhelpers as fm

# Each variant is a set of changes to a base recipe (BASE unless it names another under "recipe"),
# plus optionally "model" (VelocityMLP keywords) and "threads" (torch threads while training).
BASE = fm.Recipe(n_iterations=1500, batch_size=1024, lr=3e-3, lr_schedule="cosine", time_sampling="late",
                 target="conditional", adam_beta2=0.999, clip_grad_norm=None, seed=0)
# the recipe of round 5 in NOTES.md (the default for a while): what fm.train did before round 6
ROUND5 = dict(recipe=fm.Recipe(n_iterations=7000, batch_size=512, lr=1e-2, lr_schedule="cosine",
                               time_sampling="later", target="minibatch", adam_beta2=0.999, clip_grad_norm=None))
DEFAULT = dict(recipe=fm.DEFAULT_RECIPE)
VARIANTS = {
    "base": {},
    "uniform t": dict(time_sampling="uniform"),
    "constant lr": dict(lr_schedule="constant"),
    "lr 1e-2": dict(lr=1e-2),
    "lr 1e-3": dict(lr=1e-3),
    "batch 512, 3000 it": dict(batch_size=512, n_iterations=3000),
    "batch 2048, 750 it": dict(batch_size=2048, n_iterations=750),
    "3000 it": dict(n_iterations=3000),
    "time features 4": dict(model=dict(n_time_features=4)),
    "width 256, 3 layers": dict(model=dict(hidden=256, n_layers=3)),
    "width 64, 4 layers": dict(model=dict(hidden=64, n_layers=4)),
    "1 thread": dict(threads=1),
    # second round, around the best of the first
    "lr 1e-2, 3000 it": dict(lr=1e-2, n_iterations=3000),
    "lr 1e-2, 6000 it": dict(lr=1e-2, n_iterations=6000),
    "lr 2e-2, 3000 it": dict(lr=2e-2, n_iterations=3000),
    "lr 1e-2, 3000 it, uniform t": dict(lr=1e-2, n_iterations=3000, time_sampling="uniform"),
    "lr 1e-2, 3000 it, time features 4": dict(lr=1e-2, n_iterations=3000, model=dict(n_time_features=4)),
    "lr 1e-2, 2000 it, batch 2048": dict(lr=1e-2, n_iterations=2000, batch_size=2048),
    "lr 1e-2, 6000 it, batch 512": dict(lr=1e-2, n_iterations=6000, batch_size=512),
    "lr 1e-2, 3000 it, later t": dict(lr=1e-2, n_iterations=3000, time_sampling="later"),
    "lr 1e-2, 3000 it, width 256": dict(lr=1e-2, n_iterations=3000, model=dict(hidden=256, n_layers=4)),
    "lr 5e-3, 3000 it": dict(lr=5e-3, n_iterations=3000),
    # round 5: the minibatch target, one change at a time
    "round 5": dict(ROUND5),
    "round 5, conditional target": dict(ROUND5, target="conditional"),
    "round 5, density 2t": dict(ROUND5, time_sampling="late"),
    "round 5, uniform t": dict(ROUND5, time_sampling="uniform"),
    "round 5, batch 1024, 5000 it": dict(ROUND5, batch_size=1024, n_iterations=5000),
    "round 5, seed 1": dict(ROUND5, seed=1),
    "round 5, seed 2": dict(ROUND5, seed=2),
    # round 6: the default recipe (fm.DEFAULT_RECIPE), one change at a time
    "default": dict(DEFAULT),
    "default, seed 1": dict(DEFAULT, seed=1),
    "default, seed 2": dict(DEFAULT, seed=2),
    "default, beta2 0.999": dict(DEFAULT, adam_beta2=0.999),
    "default, no clipping": dict(DEFAULT, clip_grad_norm=None),
    "default, density 3t^2 only": dict(DEFAULT, time_sampling="later"),
    "default, conditional target": dict(DEFAULT, target="conditional"),
}


def run(name: str, change: dict) -> None:
    recipe = change.get("recipe", BASE).replace(
        **{k: v for k, v in change.items() if k not in ("recipe", "model", "threads")})
    threads = torch.get_num_threads()
    if "threads" in change:
        torch.set_num_threads(change["threads"])
    model = fm.VelocityMLP(**change.get("model", {}), seed=recipe.seed)
    start = time.perf_counter()
    fm.train(model, recipe, progress=False)
    seconds = time.perf_counter() - start
    torch.set_num_threads(threads)
    q = quality(model, 20_000)
    print(f"| {name} | {seconds:.1f} | {q['in_support']:.4f} | {q['sliced_w2']:.4f} | {q['hist_tv']:.4f} |", flush=True)


if __name__ == "__main__":
    names = sys.argv[1:] or list(VARIANTS)
    print("| variant | training s | in-support | sliced W2 | histogram TV |\n|---|---:|---:|---:|---:|", flush=True)
    for name in names:
        run(name, VARIANTS[name])
