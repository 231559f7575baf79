#!/usr/bin/env python3
"""One-step sampling with a mean flow (notebook 08), measured against the default flow.

Run:  python3 tasks.py bench meanflow            (about 6 minutes on 2 cores)
      python3 tasks.py bench meanflow --smoke    (seconds; the test suite runs this)
      python3 tasks.py bench meanflow --table    (the table of the last full run, from its JSON)

In one run: the default recipe (the time every ratio is divided by) and `fm.MEANFLOW_RECIPE` (pairs
matched by minibatch OT), both trained from scratch; the best recipe with independent pairs
(`fm.INDEPENDENT_MEANFLOW_RECIPE`, the minibatch estimate of v*) and a ceiling check of it: the
same recipe with the exact v* of our pair in the identity (target="exact"), i.e. what that loss
reaches with a perfect v; and a ceiling of the network rather than the loss: the same
`fm.MeanFlowMLP` regressed directly on 100,000 pairs of the exact flow at (t, s) = (0, 1)
(`fm.fit_one_step` with the independent recipe's budget, one evaluation only).
Scores at 1, 2 and 4 network evaluations from the same 20,000 points of pi_0: the mean flow with `fm.meanflow_sample`, the default model with Euler, and notebook 07's
reflow checkpoint with Euler (its cost is in `bench straight`). Goal (issue #11): one evaluation
puts at least 0.95 of the samples on a black cell with sliced W2 at most 0.04, in at most 3x the
default's training time. Writes benchmarks/results/meanflow.json.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

import fmhelpers as fm

from benchmarks import _results

ROOT = Path(__file__).resolve().parents[1]
GOAL_FRACTION, GOAL_W2, GOAL_RATIO = 0.95, 0.04, 3.0


def _scores(x, target) -> dict:
    return {"in_support": fm.in_support_fraction(x),
            "sliced_w2": fm.sliced_wasserstein(x, target, generator=torch.Generator().manual_seed(3)),
            "hist_tv": fm.histogram_tv(x)}


def main(argv: list[str] | None = None) -> dict:
    args, out = _results.parse(__doc__.splitlines()[0], "meanflow", argv)
    if args.table:
        return _results.show(out, table)
    budget = {"n_iterations": 30} if args.smoke else {}
    n_eval = 500 if args.smoke else 20_000
    start = fm.sample_gaussian(n_eval, generator=torch.Generator().manual_seed(123))
    target = fm.sample_checkerboard(n_eval, generator=torch.Generator().manual_seed(124))
    base = fm.train(fm.VelocityMLP(), progress=False, **budget)
    print(f"[meanflow] default recipe: {base.seconds:.1f} s", flush=True)
    mean = fm.train_meanflow(fm.MeanFlowMLP(), progress=False, **budget)
    print(f"[meanflow] mean flow: {mean.seconds:.1f} s", flush=True)
    independent = fm.train_meanflow(fm.MeanFlowMLP(), fm.INDEPENDENT_MEANFLOW_RECIPE, progress=False, **budget)
    print(f"[meanflow] mean flow, independent pairs: {independent.seconds:.1f} s", flush=True)
    ceiling = fm.train_meanflow(fm.MeanFlowMLP(), fm.INDEPENDENT_MEANFLOW_RECIPE, progress=False, target="exact",
                                **budget)
    print(f"[meanflow] mean flow with the exact v*: {ceiling.seconds:.1f} s", flush=True)
    pairs_start = time.perf_counter()
    x_0, x_1 = fm.flow_pairs(fm.marginal_velocity, 2_000 if args.smoke else 100_000, n_steps=64, solver="midpoint",
                             generator=torch.Generator().manual_seed(5))
    pair_seconds = time.perf_counter() - pairs_start
    direct = fm.fit_one_step(fm.MeanFlowMLP(), x_0, x_1, fm.INDEPENDENT_MEANFLOW_RECIPE, progress=False, **budget)
    print(f"[meanflow] exact one-step pairs: {pair_seconds:.1f} s; the same network fitted on them: "
          f"{direct.seconds:.1f} s", flush=True)
    reflow = fm.load_checkpoint(ROOT / "notebooks" / "checkpoints" / "reflow.pt").model

    def row(seconds, sampler, steps=(1, 2, 4)):
        return {"seconds": seconds, "scores": {n: _scores(sampler(start, n), target) for n in steps}}

    rows = {
        "mean flow (fm.MEANFLOW_RECIPE)": row(mean.seconds, lambda x, n: fm.meanflow_sample(mean.model, x, n)),
        "mean flow, independent pairs (fm.INDEPENDENT_MEANFLOW_RECIPE)": row(
            independent.seconds, lambda x, n: fm.meanflow_sample(independent.model, x, n)),
        "ceiling check: the independent recipe with the exact v* as v": row(ceiling.seconds,
                                                             lambda x, n: fm.meanflow_sample(ceiling.model, x, n)),
        "diagnostic: the same network fitted directly on exact one-step pairs (fm.fit_one_step)": row(
            direct.seconds, lambda x, n: fm.meanflow_sample(direct.model, x, n), steps=(1,)),
        "default model, Euler": row(base.seconds, lambda x, n: fm.euler(base.model, x, n)),
        "reflow (notebook 07 checkpoint), Euler": row(None, lambda x, n: fm.euler(reflow, x, n)),
    }
    ratio = mean.seconds / base.seconds
    one = rows["mean flow (fm.MEANFLOW_RECIPE)"]["scores"][1]
    met = one["in_support"] >= GOAL_FRACTION and one["sliced_w2"] <= GOAL_W2 and ratio <= GOAL_RATIO
    result = {"rows": rows, "ratio": ratio, "pair_seconds": pair_seconds, "goal_met": met, "recipe": mean.recipe.to_dict(), "smoke": args.smoke}
    return _results.finish(out, result, table)


def table(result: dict) -> str:
    lines = ["| model | training s | 1 evaluation | 2 evaluations | 4 evaluations |", "|---|---:|---:|---:|---:|"]
    for name, row in result["rows"].items():
        seconds = "-" if row["seconds"] is None else f"{row['seconds']:.1f}"
        cells = " | ".join(f"{row['scores'][n]['in_support']:.3f} / {row['scores'][n]['sliced_w2']:.3f}"
                           if n in row["scores"] else "-" for n in ("1", "2", "4"))
        lines.append(f"| {name} | {seconds} | {cells} |")
    lines += ["", "Each cell: fraction on a black cell / sliced W2 (20,000 points).",
              "- the diagnostic row is told the exact map at 100,000 points (pairs of the exact flow, midpoint with 64 "
              f"steps, {result.get('pair_seconds', float('nan')):.1f} s); it is trained for (t, s) = (0, 1) only, "
              "so only one evaluation is scored",
              f"- time ratio mean flow / default: {result['ratio']:.2f}",
              f"- goal (one evaluation: >= {GOAL_FRACTION} on a black cell and sliced W2 <= {GOAL_W2}, in at most "
              f"{GOAL_RATIO:g}x the default's time): {'**met**' if result['goal_met'] else '**not met**'}",
              f"- machine: {result['machine']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
