#!/usr/bin/env python3
"""Retrain the models the notebooks load, and save them in notebooks/checkpoints/.

    python3 tasks.py checkpoint              the default recipe           -> velocity_mlp.pt
    python3 tasks.py checkpoint writeup      the write-up's recipe        -> writeup_recipe.pt (notebook 09)
    python3 tasks.py checkpoint conditional  the default with the target u_t -> conditional_target.pt (04)
    python3 tasks.py checkpoint straight     notebook 07's models: minibatch OT (fm.OT_RECIPE) -> ot_coupling.pt,
                                             and one round of reflow from the committed velocity_mlp.pt -> reflow.pt
    python3 tasks.py checkpoint meanflow     notebook 08's mean flow (fm.MEANFLOW_RECIPE) -> meanflow.pt, and the
                                             same network fitted on exact one-step pairs (fm.fit_one_step, a
                                             diagnostic) -> one_step_fit.pt
    python3 tasks.py checkpoint guidance     notebook 10's conditional network (fm.ConditionalMLP, fm.GUIDANCE_RECIPE:
                                             labels = the black cell of x_1, 40 % of them dropped) -> guidance.pt
    python3 tasks.py checkpoint digits       notebook 11's judge of 8x8 digits (fm.JUDGE_RECIPE) -> digits_judge.pt,
                                             the class-conditional flow on them (fm.DIGITS_RECIPE) -> digits.pt, and
                                             two unconditional flows, with independent and with minibatch-OT pairs
                                             (fm.DIGITS_INDEPENDENT_RECIPE, fm.DIGITS_OT_RECIPE) -> digits_independent.pt,
                                             digits_ot.pt

Every recipe is a named one of fmhelpers.recipes; each checkpoint stores it under meta["recipe"].
"""

import sys
import time
from pathlib import Path

import torch

import fmhelpers as fm

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks" / "checkpoints"
FLOWS = {"default": ("velocity_mlp.pt", fm.DEFAULT_RECIPE, 1000),
         "writeup": ("writeup_recipe.pt", fm.WRITEUP_RECIPE, None),
         "conditional": ("conditional_target.pt", fm.CONDITIONAL_TARGET_RECIPE, None)}


def flow(name: str) -> None:
    file, recipe, every = FLOWS[name]
    ckpt = fm.load_or_train(FOLDER / file, recipe, retrain=True, snapshot_every=every)
    print(f"saved {file}: trained in {ckpt.meta['seconds']:.1f} s")


def straight() -> None:
    """Notebook 07's models. Reflow starts from the committed default model, so run this after
    `checkpoint` (default) whenever that model changes."""
    ckpt = fm.load_or_train(FOLDER / "ot_coupling.pt", fm.OT_RECIPE, retrain=True, snapshot_every=None)
    print(f"saved ot_coupling.pt: trained in {ckpt.meta['seconds']:.1f} s")
    base = fm.load_checkpoint(FOLDER / "velocity_mlp.pt").model
    result = fm.reflow(base)
    meta = {"seconds": result.seconds, "pair_seconds": result.extra["pair_seconds"], "torch": torch.__version__,
            "pairs": "100,000 pairs from velocity_mlp.pt (fm.flow_pairs: midpoint, 8 steps, seed 0); warm start"}
    fm.save_checkpoint(FOLDER / "reflow.pt", result.model, recipe=result.recipe, losses=result.losses, meta=meta)
    print(f"saved reflow.pt: pairs {result.extra['pair_seconds']:.1f} s, training {result.seconds:.1f} s")


def meanflow() -> None:
    """Notebook 08's mean flow, trained from scratch with `fm.MEANFLOW_RECIPE`, and the diagnostic
    beside it: the same network told the exact one-step map at 100,000 points."""
    result = fm.train_meanflow(fm.MeanFlowMLP())
    meta = {"seconds": result.seconds, "torch": torch.__version__}
    fm.save_checkpoint(FOLDER / "meanflow.pt", result.model, recipe=result.recipe, losses=result.losses, meta=meta)
    print(f"saved meanflow.pt: trained in {result.seconds:.1f} s")
    one_step_fit()


def one_step_fit() -> None:
    """The diagnostic of notebook 08: the mean-flow network fitted on 100,000 pairs of the exact flow,
    made by midpoint in 64 steps (midpoint never evaluates the exact field at t = 1)."""
    start = time.perf_counter()
    x_0, x_1 = fm.flow_pairs(fm.marginal_velocity, 100_000, n_steps=64, solver="midpoint",
                             generator=torch.Generator().manual_seed(5))
    pair_seconds = time.perf_counter() - start
    fit = fm.fit_one_step(fm.MeanFlowMLP(), x_0, x_1, fm.ONE_STEP_FIT_RECIPE)
    meta = {"seconds": fit.seconds, "pair_seconds": pair_seconds, "torch": torch.__version__,
            "pairs": "100,000 pairs of the exact flow (fm.flow_pairs(fm.marginal_velocity): midpoint, 64 steps, seed 5)"}
    fm.save_checkpoint(FOLDER / "one_step_fit.pt", fit.model, recipe=fit.recipe, losses=fit.losses, meta=meta)
    print(f"saved one_step_fit.pt: pairs {pair_seconds:.1f} s, fit {fit.seconds:.1f} s")


def guidance() -> None:
    """Notebook 10's conditional network: one set of weights for v(x, t | c) and, with the "no label"
    class, v(x, t)."""
    result = fm.train(fm.ConditionalMLP(), fm.GUIDANCE_RECIPE)
    meta = {"seconds": result.seconds, "torch": torch.__version__}
    fm.save_checkpoint(FOLDER / "guidance.pt", result.model, recipe=result.recipe, losses=result.losses, meta=meta)
    print(f"saved guidance.pt: trained in {result.seconds:.1f} s")




def digits() -> None:
    """Notebook 11's models, both trained on the training split of the digits (`fm.load_digits`): the
    judge (`fm.train_judge`) and the class-conditional flow, each from its named recipe."""
    x, y = fm.load_digits("train")
    x_held, y_held = fm.load_digits("held_out")
    judge = fm.train_judge(x, y)
    accuracy = fm.judge_accuracy(judge.model, x_held, y_held)
    threads = torch.get_num_threads()
    meta = {"seconds": judge.seconds, "torch": torch.__version__, "threads": threads, "held_out_accuracy": accuracy,
            "data": "the training split of fm.load_digits (1,258 digits)"}
    fm.save_checkpoint(FOLDER / "digits_judge.pt", judge.model, recipe=judge.recipe, losses=judge.losses, meta=meta)
    print(f"saved digits_judge.pt: trained in {judge.seconds:.1f} s, held-out accuracy {accuracy:.3f}")
    flow = fm.train(fm.ConditionalMLP(**fm.digits.DIGITS_MODEL), fm.DIGITS_RECIPE, data=(x, y))
    meta = {"seconds": flow.seconds, "torch": torch.__version__, "threads": threads,
            "data": "the training split of fm.load_digits"}
    fm.save_checkpoint(FOLDER / "digits.pt", flow.model, recipe=flow.recipe, losses=flow.losses, meta=meta)
    print(f"saved digits.pt: trained in {flow.seconds:.1f} s")
    for name, recipe in (("digits_independent.pt", fm.DIGITS_INDEPENDENT_RECIPE), ("digits_ot.pt", fm.DIGITS_OT_RECIPE)):
        plain = fm.train(fm.VelocityMLP(**fm.digits.UNCONDITIONAL_MODEL), recipe, data=x)
        meta = {"seconds": plain.seconds, "torch": torch.__version__, "threads": threads,
                "data": "the training split, without labels"}
        fm.save_checkpoint(FOLDER / name, plain.model, recipe=plain.recipe, losses=plain.losses, meta=meta)
        print(f"saved {name}: trained in {plain.seconds:.1f} s")


GROUPS = {"straight": straight, "meanflow": meanflow, "guidance": guidance, "digits": digits}

if __name__ == "__main__":
    for name in sys.argv[1:] or ["default"]:
        if name in GROUPS:
            GROUPS[name]()
        elif name in FLOWS:
            flow(name)
        else:
            sys.exit(f"unknown model {name!r}; choose from {', '.join([*FLOWS, *GROUPS])}")
