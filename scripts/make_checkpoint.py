#!/usr/bin/env python3
"""Retrain the models the notebooks load, and save them.

    python3 tasks.py checkpoint            the default recipe   -> notebooks/checkpoints/velocity_mlp.pt
    python3 tasks.py checkpoint writeup    the write-up's recipe -> notebooks/checkpoints/writeup_recipe.pt
    python3 tasks.py checkpoint conditional  the default recipe with the write-up's target u_t
                                             -> notebooks/checkpoints/conditional_target.pt
    python3 tasks.py checkpoint straight     notebook 07's models: minibatch OT (fm.OT_RECIPE)
                                             -> ot_coupling.pt, and one round of reflow from the
                                             committed default model (fm.reflow) -> reflow.pt
    python3 tasks.py checkpoint meanflow     notebook 08's mean flow (fm.MEANFLOW_RECIPE) -> meanflow.pt, and
                                             the same network fitted on exact one-step pairs
                                             (fm.fit_one_step, a diagnostic) -> one_step_fit.pt

The write-up's recipe (Adam at a constant 3e-3, batches of 4096, uniform t, the conditional
target, 5001 steps) is trained with `fm.train`, so it is recorded as an `fm.Recipe` like the
default; notebook 09 compares the two as densities. The "conditional" model changes one thing in
the default recipe, the regression target (u_t = x_1 - x_0 instead of the minibatch estimate of
v*); notebook 04 shows it beside the default, same budget.
"""

import sys
import time
from pathlib import Path

import torch

import fmhelpers as fm

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks" / "checkpoints"
WRITEUP = fm.Recipe(n_iterations=5001, batch_size=4096, lr=3e-3, lr_schedule="constant", time_sampling="uniform",
                    target="conditional", adam_beta2=0.999, clip_grad_norm=None)
MODELS = {"default": (FOLDER / "velocity_mlp.pt", fm.DEFAULT_RECIPE, 1000),
          "writeup": (FOLDER / "writeup_recipe.pt", WRITEUP, None),
          "conditional": (FOLDER / "conditional_target.pt", fm.DEFAULT_RECIPE.replace(target="conditional"), None)}



def straight() -> None:
    """Notebook 07's models. Reflow starts from the committed default model, so run this after
    `checkpoint` (default) whenever that model changes."""
    ckpt = fm.load_or_train(FOLDER / "ot_coupling.pt", fm.OT_RECIPE, retrain=True, snapshot_every=None)
    print(f"saved ot_coupling.pt: trained in {ckpt.meta['seconds']:.1f} s")
    base = fm.load_checkpoint(FOLDER / "velocity_mlp.pt").model
    result = fm.reflow(base)
    meta = {"recipe": result.recipe.to_dict(), "seconds": result.seconds, "pair_seconds": result.pair_seconds,
            "pairs": "100,000 pairs from velocity_mlp.pt (fm.flow_pairs: midpoint, 8 steps, seed 0); warm start",
            "torch": torch.__version__}
    fm.save_checkpoint(FOLDER / "reflow.pt", result.model, losses=result.losses, meta=meta)
    print(f"saved reflow.pt: pairs {result.pair_seconds:.1f} s, training {result.seconds:.1f} s")


def meanflow() -> None:
    """Notebook 08's mean flow, trained from scratch with `fm.MEANFLOW_RECIPE`."""
    result = fm.train_meanflow(fm.MeanFlowMLP())
    meta = {"meanflow_recipe": result.recipe.to_dict(), "seconds": result.seconds, "torch": torch.__version__}
    fm.save_checkpoint(FOLDER / "meanflow.pt", result.model, losses=result.losses, meta=meta)
    print(f"saved meanflow.pt: trained in {result.seconds:.1f} s")
    # The diagnostic beside it: the same network told the exact one-step map at 100,000 points, with
    # the optimiser budget of the independent-pairs recipe (3000 steps at 1e-2).
    start = time.perf_counter()
    x_0, x_1 = fm.flow_pairs(fm.marginal_velocity, 100_000, n_steps=32, solver="rk4",
                             generator=torch.Generator().manual_seed(5))
    pair_seconds = time.perf_counter() - start
    fit = fm.fit_one_step(fm.MeanFlowMLP(), x_0, x_1, fm.INDEPENDENT_MEANFLOW_RECIPE)
    meta = {"meanflow_recipe": fit.recipe.to_dict(), "seconds": fit.seconds, "pair_seconds": pair_seconds,
            "pairs": "100,000 pairs of the exact flow (fm.flow_pairs(fm.marginal_velocity): rk4, 32 steps, seed 5)",
            "torch": torch.__version__}
    fm.save_checkpoint(FOLDER / "one_step_fit.pt", fit.model, losses=fit.losses, meta=meta)
    print(f"saved one_step_fit.pt: pairs {pair_seconds:.1f} s, fit {fit.seconds:.1f} s")


if __name__ == "__main__":
    names = sys.argv[1:] or ["default"]
    for name in names:
        if name in ("straight", "meanflow"):
            {"straight": straight, "meanflow": meanflow}[name]()
            continue
        if name not in MODELS:
            sys.exit(f"unknown model {name!r}; choose from {', '.join(MODELS)}, straight, meanflow")
        path, recipe, every = MODELS[name]
        ckpt = fm.load_or_train(path, recipe, retrain=True, snapshot_every=every)
        print(f"saved {path.relative_to(ROOT)}: {ckpt.recipe}, trained in {ckpt.meta['seconds']:.1f} s")
