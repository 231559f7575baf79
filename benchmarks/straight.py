#!/usr/bin/env python3
"""Few-step sampling (notebook 07), measured: couplings, reflow, and what they cost.

Run:  python3 tasks.py bench straight            (about 5 minutes on 2 cores)
      python3 tasks.py bench straight --smoke    (seconds; the test suite runs this)
      python3 tasks.py bench straight --table    (the table of the last full run, from its JSON)

Everything is trained in this one run, so times compare as ratios:

1. the default recipe (the time every ratio is divided by, and the flow reflow starts from);
2. minibatch OT (`fm.OT_RECIPE`: pairs matched within blocks of 128 of each batch);
3. reflow, plain: pairs (x_0, X_1) from the default model (midpoint, 8 steps), a copy of it
   trained on them with uniform t (`fm.REFLOW_RECIPE` with time_sampling="uniform");
4. reflow (`fm.REFLOW_RECIPE`: a quarter of the times at t = 0 and a quarter at t = 1/2);
5. a second round of 4, from the model of 4.

Each row: Euler with T = 1, 2, 4, 8 and 100 steps from the same 20,000 points of pi_0, scored
against the exact target (fraction on a black cell, sliced W2, histogram TV), the straightness
S of the flow (fm.straightness, 2000 points), and the time it took, base training included.
The exact field of the independent coupling is the first row (no training). The goal (issue #9):
at least 0.95 on a black cell at T = 1 and at T = 2, in at most 3x the default's time. It also
times one OT assignment of a batch of 512, whole and in blocks of 128, against a training step.
It prints markdown tables and writes benchmarks/results/straight.json.
"""

from __future__ import annotations

import time

import torch

import fmhelpers as fm

from benchmarks import _results

STEPS = (1, 2, 4, 8, 100)
GOAL_FRACTION, GOAL_RATIO = 0.95, 3.0


def scores(field, start, target, steps) -> dict:
    out = {}
    for T in steps:
        x = fm.euler(field, start, T)
        out[T] = {"in_support": fm.in_support_fraction(x),
                  "sliced_w2": fm.sliced_wasserstein(x, target, generator=torch.Generator().manual_seed(3)),
                  "hist_tv": fm.histogram_tv(x)}
    return out


def assignment_ms(repeats: int) -> dict:
    gen = torch.Generator().manual_seed(5)
    x_0, x_1 = fm.sample_gaussian(512, generator=gen), fm.sample_checkerboard(512, generator=gen)
    out = {}
    for label, block in (("whole batch of 512", None), ("blocks of 128", 128)):
        start = time.perf_counter()
        for _ in range(repeats):
            paired = fm.couple(x_0, x_1, "ot", block_size=block)
        out[label] = {"ms": 1000 * (time.perf_counter() - start) / repeats, "cost": fm.pairing_cost(x_0, paired)}
    out["independent"] = {"ms": 0.0, "cost": fm.pairing_cost(x_0, x_1)}
    return out


def main(argv: list[str] | None = None) -> dict:
    args, out = _results.parse(__doc__.splitlines()[0], "straight", argv)
    if args.table:
        return _results.show(out, table)
    smoke = args.smoke
    n_eval = 500 if smoke else 20_000
    steps = (1, 2, 8) if smoke else STEPS
    budget = {"n_iterations": 30} if smoke else {}
    n_pairs = 2000 if smoke else 100_000
    start = fm.sample_gaussian(n_eval, generator=torch.Generator().manual_seed(123))
    target = fm.sample_checkerboard(n_eval, generator=torch.Generator().manual_seed(124))
    probe = fm.sample_gaussian(300 if smoke else 2000, generator=torch.Generator().manual_seed(125))

    rows = []

    def add(name, field, seconds, note=""):
        rows.append({"method": name, "seconds": seconds, "note": note, "scores": scores(field, start, target, steps),
                     "straightness": fm.straightness(field, probe, n_steps=16 if smoke else 64)})
        print(f"[straight] {name}: {seconds:.1f} s", flush=True)

    add("exact field, independent coupling", fm.marginal_velocity, 0.0, "no training")
    base = fm.train(fm.VelocityMLP(), progress=False, **budget)
    add("default recipe", base.model, base.seconds)
    ot = fm.train(fm.VelocityMLP(), fm.OT_RECIPE, progress=False, **budget)
    add("minibatch OT (blocks of 128)", ot.model, ot.seconds)
    plain = fm.reflow(base.model, n_pairs=n_pairs, time_sampling="uniform", progress=False, **budget)
    add("reflow, uniform t", plain.model, base.seconds + plain.extra["pair_seconds"] + plain.seconds,
        f"pairs {plain.extra['pair_seconds']:.1f} s + training {plain.seconds:.1f} s")
    one = fm.reflow(base.model, n_pairs=n_pairs, progress=False, **budget)
    add("reflow (fm.REFLOW_RECIPE)", one.model, base.seconds + one.extra["pair_seconds"] + one.seconds,
        f"pairs {one.extra['pair_seconds']:.1f} s + training {one.seconds:.1f} s")
    two = fm.reflow(one.model, n_pairs=n_pairs, seed=1, progress=False, **budget)
    add("reflow, second round", two.model, base.seconds + one.extra["pair_seconds"] + one.seconds + two.extra["pair_seconds"] + two.seconds,
        f"+ pairs {two.extra['pair_seconds']:.1f} s + training {two.seconds:.1f} s")

    reference = base.seconds
    for row in rows:
        row["ratio"] = row["seconds"] / reference if row["seconds"] else None
    met = [r for r in rows if r["ratio"] is not None and r["ratio"] <= GOAL_RATIO
           and r["scores"][1]["in_support"] >= GOAL_FRACTION and r["scores"][2]["in_support"] >= GOAL_FRACTION]
    result = {"rows": rows, "assignment": assignment_ms(3 if smoke else 20),
              "train_step_ms": 1000 * base.seconds / base.recipe.n_iterations, "steps": list(steps),
              "goal_met_by": [r["method"] for r in met], "smoke": smoke}
    return _results.finish(out, result, table)


def table(result: dict) -> str:
    steps = result["steps"]
    lines = ["| method | time s | x default | straightness S | " + " | ".join(f"T = {T}" for T in steps) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(steps)]
    for r in result["rows"]:
        scores = {int(T): s for T, s in r["scores"].items()}  # JSON's keys are strings
        cells = " | ".join(f"{scores[T]['in_support']:.3f} / {scores[T]['sliced_w2']:.3f}" for T in steps)
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(f"| {r['method']} | {r['seconds']:.1f} | {ratio} | {r['straightness']:.2g} | {cells} |")
    lines += ["", "Each T cell: fraction on a black cell / sliced W2 (Euler, 20,000 points). Histogram TV is in the JSON.",
              "", "| OT assignment of a batch of 512 | ms | mean pairing cost |", "|---|---:|---:|"]
    for label, a in result["assignment"].items():
        lines.append(f"| {label} | {a['ms']:.1f} | {a['cost']:.3f} |")
    lines.append(f"\n- one training step of the default recipe: {result['train_step_ms']:.1f} ms")
    for r in result["rows"]:
        if r["note"]:
            lines.append(f"- {r['method']}: {r['note']}")
    verdict = (f"**met** by {', '.join(result['goal_met_by'])}" if result["goal_met_by"] else "**not met**")
    lines.append(f"- goal (>= {GOAL_FRACTION} on a black cell at T = 1 and T = 2, in at most {GOAL_RATIO:g}x the "
                 f"default's time): {verdict}")
    lines.append(f"- machine: {result['machine']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
