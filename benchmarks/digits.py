#!/usr/bin/env python3
"""Flow matching on the 8x8 digits (notebook 11): training time, the judge's verdict, memorisation.

Run:  python3 tasks.py bench digits            (about 4 minutes on 2 cores)
      python3 tasks.py bench digits --smoke    (seconds; the test suite runs this)
      python3 tasks.py bench digits --table    (the table of the last full run, from its JSON)

In one run: the default 2-D recipe (the time the digits' time is divided by) and `fm.DIGITS_RECIPE`
on `fm.ConditionalMLP(**fm.digits.DIGITS_MODEL)`, both trained from scratch. The digits model is then
sampled with Euler (50 steps) at guidance w = 1 from four sampling seeds, one sample per held-out
digit (539, with the held-out digits' labels), and judged by the committed judge
(notebooks/checkpoints/digits_judge.pt): the share classified as their label, and the Frechet
distance of the judge's features to those of the held-out digits, next to the same distance for
539 real training digits with the same labels (a different subset per seed), so both compare 539
with 539. Memorisation: the distance from each sample to its nearest training digit, for the
network, for the exact field of the training set (`fm.empirical_velocity`, per class, Euler 50
steps from the same starting points) and for the held-out digits themselves. Then guidance
w = 0, 1, 2, 3 at the first seed, and notebook 11 run top to bottom on a fresh kernel.

Goals: trained in at most 90 s; checkpoint at most 5 MB; at w = 1 at least 0.97 classified as their
label and a Frechet distance at most twice the real one; the notebook in at most 30 s.
Writes benchmarks/results/digits.json.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

import fmhelpers as fm

from benchmarks import _results

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "notebooks" / "checkpoints"
GOAL_SECONDS, GOAL_MB, GOAL_ACCURACY, GOAL_FRECHET_RATIO, GOAL_NOTEBOOK = 90.0, 5.0, 0.97, 2.0, 30.0
SEEDS = (0, 1, 2, 3)
N_STEPS = 50


def exact_samples(start: torch.Tensor, labels: torch.Tensor, x_train: torch.Tensor, y_train: torch.Tensor) -> torch.Tensor:
    """Euler on the exact field of each class's training digits (float64), from the same starting points."""
    out = torch.empty(len(start), start.shape[1], dtype=torch.float64)
    for k in labels.unique().tolist():
        data = x_train[y_train == k].double()
        rows = labels == k
        out[rows] = fm.euler(lambda x, t: fm.empirical_velocity(x, t, data), start[rows].double(), N_STEPS)
    return out


def evaluate(model, judge, data, seed: int, w: float = 1.0, n: int | None = None, memorisation: bool = True) -> dict:
    x_train, y_train, x_held, y_held = data
    if n is not None:
        x_held, y_held = x_held[:n], y_held[:n]
    start = fm.sample_gaussian(len(y_held), dim=x_train.shape[1], generator=torch.Generator().manual_seed(100 + seed))
    real = x_train[fm.matching_rows(y_train, y_held, generator=torch.Generator().manual_seed(seed))]
    with torch.no_grad():
        samples = fm.euler(fm.guided_field(model, y_held, w), start, N_STEPS)
        held_features = judge.features(x_held)
        out = {"accuracy": fm.judge_accuracy(judge, samples, y_held),
               "frechet": fm.frechet_distance(judge.features(samples), held_features),
               "frechet_real": fm.frechet_distance(judge.features(real), held_features)}
    if memorisation:
        exact = exact_samples(start, y_held, x_train, y_train)
        out.update(nearest_network=fm.nearest_distance(samples, x_train).median().item(),
                   nearest_exact=fm.nearest_distance(exact, x_train).median().item(),
                   nearest_exact_max=fm.nearest_distance(exact, x_train).max().item(),
                   nearest_held_out=fm.nearest_distance(x_held, x_train).median().item())
    return out



def main(argv: list[str] | None = None) -> dict:
    args, out = _results.parse(__doc__.splitlines()[0], "digits", argv)
    if args.table:
        return _results.show(out, table)
    budget = {"n_iterations": 30} if args.smoke else {}
    n_eval = 60 if args.smoke else None
    seeds = SEEDS[:2] if args.smoke else SEEDS
    x_train, y_train = fm.load_digits("train")
    x_held, y_held = fm.load_digits("held_out")
    data = (x_train, y_train, x_held, y_held)
    cpu = time.process_time()
    base = fm.train(fm.VelocityMLP(), progress=False, **budget)
    base_cpu, cpu = time.process_time() - cpu, time.process_time()
    print(f"[digits] default 2-D recipe: {base.seconds:.1f} s", flush=True)
    flow = fm.train(fm.ConditionalMLP(**fm.digits.DIGITS_MODEL), fm.DIGITS_RECIPE, data=(x_train, y_train),
                    progress=False, **budget)
    flow_cpu = time.process_time() - cpu
    print(f"[digits] digits recipe: {flow.seconds:.1f} s ({flow_cpu:.1f} s of CPU time)", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        path = fm.save_checkpoint(Path(folder) / "digits.pt", flow.model, recipe=flow.recipe, losses=flow.losses)
        megabytes = path.stat().st_size / 2**20
    judge = fm.load_checkpoint(CHECKPOINTS / "digits_judge.pt").model
    per_seed = {seed: evaluate(flow.model, judge, data, seed, n=n_eval) for seed in seeds}
    print(f"[digits] {len(seeds)} sampling seeds scored", flush=True)
    guidance = {w: evaluate(flow.model, judge, data, seeds[0], w=w, n=n_eval, memorisation=False)
                for w in (0.0, 1.0, 2.0, 3.0)}
    result = {"seconds": flow.seconds, "default_seconds": base.seconds, "ratio": flow.seconds / base.seconds,
              "cpu_seconds": flow_cpu, "default_cpu_seconds": base_cpu,
              "megabytes": megabytes, "judge_held_out_accuracy": fm.judge_accuracy(judge, x_held, y_held),
              "seeds": per_seed, "guidance": guidance, "n_eval": len(y_held) if n_eval is None else n_eval,
              "notebook_seconds": None if args.smoke else _results.notebook_seconds("11_digits.ipynb"), "smoke": args.smoke,
              "recipe": flow.recipe.to_dict()}
    return _results.finish(out, result, table, then=lambda r: {"goals": goals(r)})


def _spread(result: dict, key: str) -> tuple[float, float, float]:
    values = [row[key] for row in result["seeds"].values()]
    return statistics.mean(values), min(values), max(values)


def goals(result: dict) -> dict:
    accuracy, frechet = _spread(result, "accuracy"), _spread(result, "frechet")
    ratios = [row["frechet"] / row["frechet_real"] for row in result["seeds"].values()]
    notebook = result.get("notebook_seconds")
    return {"training": result["seconds"] <= GOAL_SECONDS, "checkpoint": result["megabytes"] <= GOAL_MB,
            "accuracy": accuracy[1] >= GOAL_ACCURACY, "frechet": max(ratios) <= GOAL_FRECHET_RATIO,
            "notebook": None if notebook is None else notebook <= GOAL_NOTEBOOK}


def table(result: dict) -> str:
    def cell(key: str, digits: int = 3) -> str:
        mean, low, high = _spread(result, key)
        return f"{mean:.{digits}f} ({low:.{digits}f} to {high:.{digits}f})"

    def verdict(name: str) -> str:
        met = result["goals"][name]
        return "-" if met is None else ("**met**" if met else "**not met**")

    n, seeds = result["n_eval"], len(result["seeds"])
    ratios = [row["frechet"] / row["frechet_real"] for row in result["seeds"].values()]
    notebook = result.get("notebook_seconds")
    lines = ["| measure | this run | goal | |", "|---|---:|---|---|",
             f"| training, `fm.DIGITS_RECIPE` (s) | {result['seconds']:.1f} | at most {GOAL_SECONDS:g} s | {verdict('training')} |",
             f"| time ratio to the default 2-D recipe ({result['default_seconds']:.1f} s in this run) | "
             f"{result['ratio']:.2f} | - | |",
             f"| CPU time of the training, all threads (s; the default 2-D recipe's {result['default_cpu_seconds']:.1f}) | "
             f"{result['cpu_seconds']:.1f} | - | |",
             f"| checkpoint (MB) | {result['megabytes']:.2f} | at most {GOAL_MB:g} | {verdict('checkpoint')} |",
             f"| judged as their label, w = 1 | {cell('accuracy')} | at least {GOAL_ACCURACY} | {verdict('accuracy')} |",
             f"| Frechet distance to held-out digits, generated | {cell('frechet', 2)} | at most {GOAL_FRECHET_RATIO:g}x "
             f"real (ratios {min(ratios):.2f} to {max(ratios):.2f}) | {verdict('frechet')} |",
             f"| Frechet distance to held-out digits, real training digits | {cell('frechet_real', 2)} | - | |"]
    first = next(iter(result["seeds"].values()))
    if "nearest_network" in first:
        lines += [f"| median distance to the nearest training digit: exact field of the training set | "
                  f"{cell('nearest_exact', 4)} (largest {max(r['nearest_exact_max'] for r in result['seeds'].values()):.1e}) | - | |",
                  f"| the same, network samples | {cell('nearest_network', 2)} | - | |",
                  f"| the same, held-out digits | {cell('nearest_held_out', 2)} | - | |"]
    lines.append(f"| notebook 11, top to bottom on a fresh kernel (s) | "
                 f"{'-' if notebook is None else f'{notebook:.1f}'} | at most {GOAL_NOTEBOOK:g} s | {verdict('notebook')} |")
    lines += ["", "| guidance w | judged as their label | Frechet distance to held-out | real training digits |",
              "|---:|---:|---:|---:|"]
    for w, row in result["guidance"].items():
        lines.append(f"| {float(w):g} | {row['accuracy']:.3f} | {row['frechet']:.2f} | {row['frechet_real']:.2f} |")
    lines += ["", f"Mean over {seeds} sampling seeds (lowest to highest); {n} samples per seed, one per held-out digit "
                  f"with its label, Euler with {N_STEPS} steps; the Frechet distances compare {n} with {n} "
                  "(the judge's hidden features). The guidance rows use the first seed.",
              f"- the judge classifies {result['judge_held_out_accuracy']:.3f} of the held-out digits correctly",
              f"- machine: {result['machine']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
