#!/usr/bin/env python3
"""Likelihood numbers of notebook 09, measured: the exact-field validation of log p_t and KL(pi_1 || p_theta).

Run:  python3 tasks.py bench likelihood            (about 15 minutes on 2 cores, most of it the samplers)
      python3 tasks.py bench likelihood --smoke    (seconds; the test suite runs this)

1. Exact-field validation: log p_t(x) by the backward ODE (`fm.log_likelihood` with the exact field
   v*) against the closed form `fm.marginal_density(x, t, log=True)`, mean absolute error over
   1000 points of pi_t at t = 0.5 and 0.9, for each solver and step count; the goal is 0.01 nats,
   and the table says the fewest steps that reach it.
2. KL(pi_1 || p_theta) = log(1/8) - E log p_theta(x), x ~ pi_1, in nats with its Monte Carlo
   standard error, for each committed model (RK4, 16 and 32 steps from t = 1).
3. Notebook 09's samplers (`fm.sample_sde`): the ODE, constant noise g = 0.5 and the diffusion's
   g(t) (`fm.diffusion_noise`), each with and without noise on the last step, and the diffusion
   sampler's two ingredients one at a time (the ODE with only the SDE's last drift step; the
   diffusion's noise with a plain Euler last step), beside the ODE by midpoint with the same number
   of field evaluations, at T = 20 and 50,
   with the learned field and with the exact one, over 4 seeds of 10,000 samples: fraction on the
   board, sliced W2 and histogram TV to an exact sample, and the share of on-board samples within
   0.1 of their cell's edge (0.36 for a uniform cell: lower means mass piled inward), beside the
   noise floor of a second exact sample.
It prints markdown tables and writes benchmarks/results/likelihood.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch

import fmhelpers as fm

ROOT = Path(__file__).resolve().parents[1]
GOAL_NATS = 0.01
MODELS = {"default recipe": "velocity_mlp.pt", "write-up recipe": "writeup_recipe.pt"}


def validation(n: int, steps: list[int], solvers: list[str]) -> list[dict]:
    path, gen, rows = fm.LinearInterpolant(), torch.Generator().manual_seed(0), []
    for t in (0.5, 0.9):
        x = path.interpolate(fm.sample_gaussian(n, generator=gen).double(), fm.sample_checkerboard(n, generator=gen).double(), t)
        exact = fm.marginal_density(x, t, log=True)
        for solver in solvers:
            for n_steps in steps:
                start = time.perf_counter()
                error = (fm.log_likelihood(fm.marginal_velocity, x, t, n_steps=n_steps, solver=solver) - exact).abs().mean()
                rows.append({"t": t, "solver": solver, "n_steps": n_steps, "mae": error.item(),
                             "seconds": time.perf_counter() - start})
    return rows


def kl_rows(n: int, steps: list[int]) -> list[dict]:
    x = fm.sample_checkerboard(n, generator=torch.Generator().manual_seed(1))
    rows = []
    for name, file in MODELS.items():
        model = fm.load_checkpoint(ROOT / "notebooks" / "checkpoints" / file).model
        for n_steps in steps:
            start = time.perf_counter()
            gap = math.log(fm.BOARD.density_value) - fm.log_likelihood(model, x, 1.0, n_steps=n_steps)
            rows.append({"model": name, "n_steps": n_steps, "kl": gap.mean().item(),
                         "se": gap.std().item() / math.sqrt(n), "seconds": time.perf_counter() - start})
    return rows


SAMPLERS = {"ODE (g = 0)": {"noise": 0.0},
            "g = 0.5": {"noise": 0.5},
            "g = 0.5, last step noise-free": {"noise": 0.5, "denoise_last": True},
            "diffusion's g(t)": {"noise": "diffusion"},
            "diffusion's g(t), last step noise-free": {"noise": "diffusion", "denoise_last": True},
            # one ingredient of the row above at a time: its last drift step alone, its noise alone
            "ODE, the SDE's drift on the last step": {"noise": "diffusion on the last step", "denoise_last": True},
            "diffusion's g(t), Euler's last step": {"noise": "diffusion before the last step"},
            "ODE, midpoint (same evaluations)": {"solver": "midpoint"}}


def _noise(option: float | str, n_steps: int) -> float | fm.likelihood.NoiseSchedule:
    """A sampler's noise: a number, or the diffusion's g(t) on all steps, only the last, or all but the last."""
    if not isinstance(option, str):
        return option
    g, last = fm.diffusion_noise(), 1 - 1.5 / n_steps  # the last step starts at 1 - 1 / n_steps
    return {"diffusion": g,
            "diffusion on the last step": lambda t: g(t) if t > last else 0.0,
            "diffusion before the last step": lambda t: g(t) if t < last else 0.0}[option]


def _sample(velocity, start: torch.Tensor, n_steps: int, options: dict, generator: torch.Generator) -> torch.Tensor:
    if "solver" in options:  # an ODE solver with as many field evaluations as n_steps Euler steps
        return fm.midpoint(velocity, start, n_steps // 2)
    return fm.sample_sde(velocity, start, n_steps, generator=generator,
                         **{**options, "noise": _noise(options["noise"], n_steps)})


def _sample_scores(x: torch.Tensor, target: torch.Tensor, seed: int) -> dict:
    on = x[fm.distance_to_board(x) == 0]
    edge = (((on % 1) - 0.5).abs() > 0.4).any(dim=1).double().mean().item()
    return {"board": fm.in_support_fraction(x), "sliced_w2": fm.sliced_wasserstein(x, target, generator=torch.Generator().manual_seed(seed)),
            "tv": fm.histogram_tv(x), "edge": edge}


def sde_rows(n: int, steps: list[int], seeds: int, fields: list[str]) -> dict:
    """Mean and spread over `seeds` of each sampler's scores, for each field and step count."""
    model = fm.load_checkpoint(ROOT / "notebooks" / "checkpoints" / MODELS["default recipe"]).model
    velocities = {"learned": model, "exact": fm.marginal_velocity}
    floor = [_sample_scores(fm.sample_checkerboard(n, generator=torch.Generator().manual_seed(900 + k)),
                            fm.sample_checkerboard(n, generator=torch.Generator().manual_seed(800 + k)), 700 + k)
             for k in range(seeds)]
    rows = []
    for field in fields:
        for T in steps:
            for name, options in SAMPLERS.items():
                runs = []
                for k in range(seeds):
                    start = fm.sample_gaussian(n, generator=torch.Generator().manual_seed(100 + k))
                    if field == "exact":
                        start = start.double()
                    x = _sample(velocities[field], start, T, options, torch.Generator().manual_seed(200 + k))
                    target = fm.sample_checkerboard(n, generator=torch.Generator().manual_seed(800 + k))
                    runs.append(_sample_scores(x.float().cpu(), target, 700 + k))
                rows.append({"field": field, "T": T, "sampler": name,
                             **{key: [r[key] for r in runs] for key in runs[0]}})
    return {"floor": {key: [r[key] for r in floor] for key in floor[0]}, "rows": rows}


def _mean_spread(values: list[float], digits: int = 3) -> str:
    v = torch.tensor(values, dtype=torch.float64)
    return f"{v.mean():.{digits}f} ({v.min():.{digits}f}-{v.max():.{digits}f})"


def table(result: dict) -> str:
    lines = [f"Exact-field validation of log p_t ({result['n_points']} points of pi_t; mean |error| in nats):", "",
             "| t | solver | " + " | ".join(f"{s} steps" for s in result["steps"]) + f" | fewest steps for {GOAL_NATS} |",
             "|---|---|" + "---:|" * (len(result["steps"]) + 1)]
    for t in (0.5, 0.9):
        for solver in result["solvers"]:
            rows = [r for r in result["validation"] if r["t"] == t and r["solver"] == solver]
            enough = [r["n_steps"] for r in rows if r["mae"] <= GOAL_NATS]
            lines.append(f"| {t} | {solver} | " + " | ".join(f"{r['mae']:.1e}" for r in rows)
                         + f" | {min(enough) if enough else 'more than ' + str(max(result['steps']))} |")
    lines += ["", f"KL(pi_1 || p_theta) in nats ({result['n_kl']} samples of pi_1, RK4 from t = 1):", "",
              "| model | steps | KL | standard error | seconds |", "|---|---:|---:|---:|---:|"]
    for r in result["kl"]:
        lines.append(f"| {r['model']} | {r['n_steps']} | {r['kl']:.4f} | {r['se']:.4f} | {r['seconds']:.1f} |")
    met = all(any(r["mae"] <= GOAL_NATS for r in result["validation"] if r["t"] == t and r["solver"] == "rk4")
              for t in (0.5, 0.9))
    lines += ["", f"- goal (exact-field mean error at most {GOAL_NATS} nats at t = 0.5 and 0.9 with RK4): "
              f"**{'met' if met else 'not met'}**"]
    if "sde" in result:
        sde = result["sde"]
        lines += ["", f"Samplers of notebook 09 ({result['n_sde']} samples, mean over {len(sde['floor']['board'])} seeds "
                  "(lowest-highest); edge: share of on-board samples within 0.1 of their cell's edge, 0.36 if uniform):", "",
                  "| field | T | sampler | on the board | sliced W2 | histogram TV | edge |", "|---|---:|---|---:|---:|---:|---:|",
                  "| - | - | noise floor (a second exact sample) | " + " | ".join(_mean_spread(sde["floor"][k]) for k in
                                                                        ("board", "sliced_w2", "tv", "edge")) + " |"]
        for r in sde["rows"]:
            lines.append(f"| {r['field']} | {r['T']} | {r['sampler']} | "
                         + " | ".join(_mean_spread(r[k]) for k in ("board", "sliced_w2", "tv", "edge")) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny settings, to check that the script runs")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "likelihood.json")
    args = parser.parse_args(argv)
    n, n_kl = (50, 50) if args.smoke else (1000, 5000)
    steps = [2, 4] if args.smoke else [4, 8, 16, 32]
    solvers = ["euler", "rk4"] if args.smoke else ["euler", "midpoint", "heun", "rk4"]
    result = {"n_points": n, "n_kl": n_kl, "steps": steps, "solvers": solvers, "smoke": args.smoke,
              "validation": validation(n, steps, solvers), "kl": kl_rows(n_kl, [4] if args.smoke else [16, 32])}
    result["n_sde"] = 200 if args.smoke else 10_000
    result["sde"] = sde_rows(result["n_sde"], [2] if args.smoke else [20, 50], 2 if args.smoke else 4,
                             ["learned"] if args.smoke else ["learned", "exact"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(table(result))
    return result


if __name__ == "__main__":
    main()
