#!/usr/bin/env python3
"""Retrain the models the notebooks load, and save them.

    python3 tasks.py checkpoint            the default recipe   -> notebooks/checkpoints/velocity_mlp.pt
    python3 tasks.py checkpoint writeup    the write-up's recipe -> notebooks/checkpoints/writeup_recipe.pt

The write-up's recipe (Adam at a constant 3e-3, batches of 4096, uniform t, the conditional
target, 5001 steps) is trained with `fm.train`, so it is recorded as an `fm.Recipe` like the
default; notebook 09 compares the two as densities.
"""

import sys
from pathlib import Path

import fmhelpers as fm

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks" / "checkpoints"
WRITEUP = fm.Recipe(n_iterations=5001, batch_size=4096, lr=3e-3, lr_schedule="constant", time_sampling="uniform",
                    target="conditional", adam_beta2=0.999, clip_grad_norm=None)
MODELS = {"default": (FOLDER / "velocity_mlp.pt", fm.DEFAULT_RECIPE, 1000),
          "writeup": (FOLDER / "writeup_recipe.pt", WRITEUP, None)}

if __name__ == "__main__":
    names = sys.argv[1:] or ["default"]
    for name in names:
        if name not in MODELS:
            sys.exit(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
        path, recipe, every = MODELS[name]
        ckpt = fm.load_or_train(path, recipe, retrain=True, snapshot_every=every)
        print(f"saved {path.relative_to(ROOT)}: {ckpt.recipe}, trained in {ckpt.meta['seconds']:.1f} s")
