#!/usr/bin/env python3
"""What the network predicts (notebook 12): velocity, noise, data or score, on the linear and trig paths.

Run:  python3 tasks.py bench diffusion            (eight trainings and about 14,000 network calls on 20,000
                                                   points, in one process)
      python3 tasks.py bench diffusion --path linear  and, at the same time,  --path trig, then --combine:
                                                  the same run in two processes, one per core, each with
                                                  the default recipe as its own time reference (17 minutes
                                                  on a shared 2-core machine; the table of benchmarks/NOTES.md)
      python3 tasks.py bench diffusion --quick    (1500 iterations per model, two draws of 5,000 points: a
                                                   rehearsal, not the table of the benchmarks page)
      python3 tasks.py bench diffusion --smoke    (about a minute; the test suite runs this)
      python3 tasks.py bench diffusion --table    (the table of the last full run, from its JSON)

In one run: the default recipe (`fm.DEFAULT_RECIPE`: it predicts the velocity on the linear path) and the
same recipe with one change, the prediction ("noise", "data", "score") and/or the path ("trig"): eight
trainings of `fm.VelocityMLP()`, the same seed and budget, each timed (the ratio to the default recipe's
time is the goal's measure). Each network becomes a velocity field by `fm.as_velocity` (t_eps = 1e-2)
and is sampled from four draws of 20,000 Gaussian points by four samplers at 1, 2, 10 and 100 network
evaluations: Euler, DDIM (`fm.ddim`), DDPM's ancestral step (`fm.ddpm`) and Euler-Maruyama on the
reverse SDE with the diffusion's noise (`fm.sample_sde`, `fm.diffusion_noise`); the measure is the share
of samples on the board's black cells (`fm.in_support_fraction`), mean and spread (lowest to highest)
over the four draws, and the total variation between 20 x 20 histograms of the samples and of the board
(`fm.histogram_tv`), which also sees samples piled up inside the cells. The exact field gets the same samplers, as the ceiling.

Two targeted measurements test why the noise and score networks lose at few steps: the clamp t_eps of
`fm.as_velocity` (where a conversion that divides by beta_t is last evaluated: 1e-3, 1e-2, 5e-2) and
the time grid (`fm.time_grid`, rho = 1, 2, 3: more steps near the data), with Euler at 10 steps (and
100 for t_eps = 1e-3) on the linear path, for the noise, data and score networks. Checks of the
identities, in float64 on the exact field: every conversion of `Interpolant.convert` against the exact views at t in {0.1, 0.5, 0.9} on both paths (worst relative
error), DDIM against Euler on the linear path, and DDIM against Euler in the variables
(sigma = alpha / beta, z = x / beta) on the trig path (worst absolute difference).

Goals: every conversion and both identities within 1e-10; the best noise-predicting network at least
0.97 on the board at 100 evaluations (any sampler, named) trained in at most 1.5x the default recipe's
time in the same run. Writes benchmarks/results/diffusion.json.
"""

from __future__ import annotations

import statistics

import torch

import fmhelpers as fm

from benchmarks import _results

PATHS = ("linear", "trig")
EVALUATIONS = (1, 2, 10, 100)
SAMPLERS = ("euler", "ddim", "ddpm", "sde")
SEEDS = (0, 1, 2, 3)
N_POINTS = 20_000
T_EPS = 1e-2
CLAMPS = (1e-3, 1e-2, 5e-2)
RHOS = (1.0, 2.0, 3.0)
TV_BINS = 20
GOAL_IDENTITY, GOAL_SHARE, GOAL_RATIO = 1e-10, 0.97, 1.5


def sample(sampler: str, field, x_0: torch.Tensor, n: int, path: fm.Interpolant, seed: int) -> torch.Tensor:
    """n network evaluations of `sampler` from x_0 (one per step for each of the four)."""
    generator = torch.Generator().manual_seed(1000 + seed)
    if sampler == "euler":
        return fm.euler(field, x_0, n)
    if sampler == "ddim":
        return fm.ddim(field, x_0, n, interpolant=path)
    if sampler == "ddpm":
        return fm.ddpm(field, x_0, n, interpolant=path, generator=generator)
    return fm.sample_sde(field, x_0, n, noise=fm.diffusion_noise(path), interpolant=path, generator=generator)


def starts(seeds, n_points: int) -> list[torch.Tensor]:
    return [fm.sample_gaussian(n_points, generator=torch.Generator().manual_seed(100 + seed)) for seed in seeds]


def share(sampler: str, field, x_0: torch.Tensor, n: int, path: fm.Interpolant, seed: int) -> list[float] | None:
    """[share on the board, histogram TV (20 x 20 bins)], or None where the sampler diverged (NaN or infinity)."""
    try:
        x = sample(sampler, field, x_0, n, path, seed)
    except ValueError as exc:
        if "NaN" not in str(exc) and "infinite" not in str(exc):
            raise
        return None
    return [fm.in_support_fraction(x), fm.histogram_tv(x, bins=TV_BINS)]


def shares(field, path: fm.Interpolant, points: list[torch.Tensor], samplers=SAMPLERS, evaluations=EVALUATIONS) -> dict:
    """{sampler: {n: [share per draw]}}; on the linear path DDIM is Euler (the identity) and is not run again."""
    if isinstance(path, fm.LinearInterpolant):
        samplers = [s for s in samplers if s != "ddim"]
    return {s: {n: [share(s, field, x, n, path, k) for k, x in enumerate(points)] for n in evaluations}
            for s in samplers}


def euler_variants(model, recipe, points: list[torch.Tensor]) -> dict:
    """Euler at 10 and 100 steps with another clamp t_eps (t_eps = 1e-2 is the main table's Euler row), and at
    10 steps on grids with more steps near the data (rho = 1 is the equal grid of the main table)."""
    def scores(field, x: torch.Tensor, n: int, times=None) -> list[float] | None:
        try:
            y = fm.euler(field, x, None if times else n, times=times)
        except ValueError as exc:  # a field that sends points off to infinity (NaN): recorded, not fatal
            if "NaN" not in str(exc) and "infinite" not in str(exc):
                raise
            return None
        return [fm.in_support_fraction(y), fm.histogram_tv(y, bins=TV_BINS)]

    clamps = {eps: {n: [scores(fm.as_velocity(model, recipe, t_eps=eps), x, n) for x in points]
                    for n in ((10, 100) if eps < T_EPS else (10,))} for eps in CLAMPS if eps != T_EPS}
    field = fm.as_velocity(model, recipe, t_eps=T_EPS)
    grids = {rho: {10: [scores(field, x, 10, fm.time_grid(10, rho=rho)) for x in points]}
             for rho in RHOS if rho != 1.0}
    return {"clamp": clamps, "grid": grids}


def _time(t: float, n: int = 1) -> torch.Tensor:
    """t as a float64 column (a Python float would be checked into float32)."""
    return torch.full((n, 1), t, dtype=torch.float64)


def exact_views(path: fm.Interpolant, x: torch.Tensor, t: float) -> dict[str, torch.Tensor]:
    """The four views at (x, t) from the exact posterior mean, each by its own formula."""
    c = path.coefficients(_time(t))
    t = _time(t, len(x))
    m = fm.marginal_posterior_mean(x, t, interpolant=path)
    return {"velocity": fm.marginal_velocity(x, t, interpolant=path), "noise": (x - c.beta_t * m) / c.alpha_t,
            "data": m, "score": fm.marginal_score(x, t, interpolant=path)}


def conversion_errors() -> dict[str, float]:
    """Worst relative error of `convert`, over every source -> target and t in {0.1, 0.5, 0.9}, per path."""
    x = 1.5 * torch.randn(2000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    out = {}
    for name in PATHS:
        path = fm.INTERPOLANTS[name]()
        worst = 0.0
        for t in (0.1, 0.5, 0.9):
            views = exact_views(path, x, t)
            for source in fm.PREDICTIONS:
                for target in fm.PREDICTIONS:
                    got = path.convert(x, views[source], _time(t, len(x)), source=source, target=target)
                    worst = max(worst, ((got - views[target]).norm(dim=1) / views[target].norm(dim=1)).max().item())
        out[name] = worst
    return out


def ddim_identities() -> dict[str, float]:
    """DDIM is Euler: in x and t on the linear path; in z = x / beta and sigma = alpha / beta on the trig path
    (z_s = z_t + (sigma_s - sigma_t) e, the noise view e being dz/dsigma), from t = 0.05 (beta > 0)."""
    x_0 = torch.randn(4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    out = {}
    for n in (1, 10, 100):
        a, b = fm.ddim(fm.marginal_velocity, x_0, n), fm.euler(fm.marginal_velocity, x_0, n)
        out[f"linear, {n} steps"] = (a - b).abs().max().item()
    path = fm.TrigInterpolant()
    coef = lambda t: path.coefficients(_time(t))  # noqa: E731
    for n in (1, 10, 100):
        grid = fm.time_grid(n, t_start=0.05)
        x = fm.ddim(lambda y, t: fm.marginal_velocity(y, t, interpolant=path), x_0, None, interpolant=path, times=grid)
        z, sigma = x_0 / coef(grid[0]).beta_t, coef(grid[0]).alpha_t / coef(grid[0]).beta_t
        for t, s in zip(grid, grid[1:]):
            c = coef(t)
            y = c.beta_t * z
            e = (y - c.beta_t * fm.marginal_posterior_mean(y, _time(t, len(y)), interpolant=path)) / c.alpha_t
            sigma_s = coef(s).alpha_t / coef(s).beta_t
            z, sigma = z + (sigma_s - sigma) * e, sigma_s
        out[f"trig, {n} steps (z, sigma)"] = (x - coef(grid[-1]).beta_t * z).abs().max().item()
    return out


def main(argv: list[str] | None = None) -> dict:
    import argparse

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--quick", action="store_true")
    pre.add_argument("--path", choices=PATHS, default=None)
    pre.add_argument("--combine", action="store_true")
    known, rest = pre.parse_known_args(argv)
    args, out = _results.parse(__doc__.splitlines()[0], "diffusion", rest)
    if known.quick and args.out is None:
        out = _results.RESULTS / "diffusion_quick.json"
    if args.table:
        return _results.show(out, table)
    if known.combine:
        return combine(out)
    paths = PATHS if known.path is None else (known.path,)
    if known.path is not None:
        out = out.with_name(f"{out.stem}_part_{known.path}.json")
    budget = {"n_iterations": 30} if args.smoke else {"n_iterations": 1500} if known.quick else {}
    seeds, n_points = (SEEDS[:2], 300) if args.smoke else (SEEDS[:2], 5000) if known.quick else (SEEDS, N_POINTS)
    points = starts(seeds, n_points)
    runs, models = {}, {}
    if "linear" not in paths:  # the default recipe is every run's time reference: trained here too, timed only
        reference = fm.train(fm.VelocityMLP(), fm.DEFAULT_RECIPE.replace(**budget), progress=False)
        print(f"[diffusion] default recipe (time reference): trained in {reference.seconds:.1f} s", flush=True)
    for path in paths:
        for prediction in fm.PREDICTIONS:
            recipe = fm.DEFAULT_RECIPE.replace(prediction=prediction, interpolant=path, **budget)
            trained = fm.train(fm.VelocityMLP(), recipe, progress=False)
            key = f"{prediction}/{path}"
            models[key] = (trained.model, recipe)
            runs[key] = {"seconds": trained.seconds, "final_loss": statistics.mean(trained.losses[-100:])}
            print(f"[diffusion] {key}: trained in {trained.seconds:.1f} s", flush=True)
    default_seconds = runs["velocity/linear"]["seconds"] if "linear" in paths else reference.seconds
    for key, (model, recipe) in models.items():
        runs[key]["ratio"] = runs[key]["seconds"] / default_seconds
        runs[key]["shares"] = shares(fm.as_velocity(model, recipe, t_eps=T_EPS), recipe.make_interpolant(), points)
        if recipe.interpolant == "linear" and recipe.prediction != "velocity":  # the clamp never touches a velocity
            runs[key].update(euler_variants(model, recipe, points))
        print(f"[diffusion] {key}: sampled", flush=True)
    exact = {path: shares(lambda x, t, p=path: fm.marginal_velocity(x, t, interpolant=fm.INTERPOLANTS[p]()),
                          fm.INTERPOLANTS[path](), [points[0].double()]) for path in paths}  # one draw: the ceiling
    print("[diffusion] exact field sampled", flush=True)
    result = {"runs": runs, "exact": exact, "default_seconds": {path: default_seconds for path in paths},
              "conversions": conversion_errors(), "ddim_identity": ddim_identities(), "n_points": n_points, "seeds": list(seeds), "t_eps": T_EPS, "tv_bins": TV_BINS,
              "smoke": args.smoke, "quick": known.quick, "recipe": fm.DEFAULT_RECIPE.replace(**budget).to_dict()}
    return _results.finish(out, result, table, then=lambda r: {"goals": goals(r)})


def combine(out) -> dict:
    """--combine: the two halves of a run split with --path linear and --path trig (two processes, one per
    core; each trained the default recipe as its own time reference), merged into one result at `out`."""
    import json

    parts = [json.loads(out.with_name(f"{out.stem}_part_{path}.json").read_text()) for path in PATHS]
    merged = {**parts[0], "runs": {}, "exact": {}, "default_seconds": {}}
    for part in parts:
        for key in ("runs", "exact", "default_seconds"):
            merged[key].update(part[key])
    merged["machine"] = " / ".join(dict.fromkeys(part["machine"] for part in parts)) + " (two processes, one per path)"
    merged.pop("goals", None)
    print(table({**merged, "goals": goals(merged)}))
    merged["goals"] = goals(merged)
    _results.write(out, merged)
    return merged


def _cell(values: list[list[float] | None]) -> str:
    """'share (lowest-highest) / TV' over the draws."""
    if any(v is None for v in values):
        return f"diverged ({sum(v is None for v in values)} of {len(values)} draws)"
    shares, tvs = [v[0] for v in values], [v[1] for v in values]
    spread = "" if len(values) == 1 else f" ({min(shares):.3f}-{max(shares):.3f})"
    return f"{statistics.mean(shares):.3f}{spread} / {statistics.mean(tvs):.2f}"


def best_noise(result: dict) -> tuple[str, str, float, float]:
    """(run, sampler, mean share at 100 evaluations, time ratio) of the best noise network within the time goal."""
    best = ("-", "-", 0.0, 0.0)
    for key, run in result["runs"].items():
        if not key.startswith("noise/") or run["ratio"] > GOAL_RATIO:
            continue
        for sampler, row in run["shares"].items():
            if any(v is None for v in row["100"]):
                continue
            mean = statistics.mean(v[0] for v in row["100"])
            if mean > best[2]:
                best = (key, sampler, mean, run["ratio"])
    return best


def goals(result: dict) -> dict:
    return {"conversions": max(result["conversions"].values()) <= GOAL_IDENTITY,
            "ddim": max(result["ddim_identity"].values()) <= GOAL_IDENTITY,
            "noise": best_noise(result)[2] >= GOAL_SHARE}


def table(result: dict) -> str:
    def verdict(name: str) -> str:
        return "**met**" if result["goals"][name] else "**not met**"

    key, sampler, share, ratio = best_noise(result)
    lines = ["| goal | this run | |", "|---|---|---|",
             f"| every conversion vs the exact views, t in {{0.1, 0.5, 0.9}}, worst relative error (goal <= 1e-10) | "
             + ", ".join(f"{p} {e:.1e}" for p, e in result["conversions"].items()) + f" | {verdict('conversions')} |",
             "| DDIM = Euler on the exact field, worst difference (goal <= 1e-10) | "
             + ", ".join(f"{k}: {e:.1e}" for k, e in result["ddim_identity"].items()) + f" | {verdict('ddim')} |",
             f"| best noise network at 100 evaluations, trained in <= {GOAL_RATIO}x the default's time (goal >= "
             f"{GOAL_SHARE}) | {share:.3f}: {key}, {sampler}, time ratio {ratio:.2f} | {verdict('noise')} |",
             "", "| prediction / path | training (s) | ratio | sampler | 1 | 2 | 10 | 100 |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    for key, run in result["runs"].items():
        for i, (sampler, row) in enumerate(run["shares"].items()):
            head = f"| {key} | {run['seconds']:.1f} | {run['ratio']:.2f} |" if i == 0 else "| | | |"
            lines.append(f"{head} {sampler} | " + " | ".join(_cell(row[str(n)]) for n in EVALUATIONS) + " |")
    for path, rows in result["exact"].items():
        for i, (sampler, row) in enumerate(rows.items()):
            head = f"| exact field / {path} | - | - |" if i == 0 else "| | | |"
            lines.append(f"{head} {sampler} | " + " | ".join(_cell(row[str(n)]) for n in EVALUATIONS) + " |")
    lines += ["", "| linear path, Euler | t_eps / rho | 10 steps | 100 steps |", "|---|---|---:|---:|"]
    for key, run in result["runs"].items():
        if "clamp" not in run:
            continue
        lines.append(f"| {key} | clamp t_eps = {result['t_eps']:g}, equal steps (the main table) | "
                     f"{_cell(run['shares']['euler']['10'])} | {_cell(run['shares']['euler']['100'])} |")
        for eps, row in run["clamp"].items():
            lines.append(f"| {key} | clamp t_eps = {float(eps):g} | {_cell(row['10'])} | "
                         f"{_cell(row['100']) if '100' in row else '-'} |")
        for rho, row in run["grid"].items():
            lines.append(f"| {key} | grid rho = {float(rho):g} (t_eps = {result['t_eps']:g}) | {_cell(row['10'])} | - |")
    n = result["n_points"]
    lines += ["", f"Each cell: the share of samples on the board's black cells, mean over {len(result['seeds'])} draws "
                  f"of {n:,} points (lowest-highest; the exact field: one draw), then the total variation between a "
                  f"{result.get('tv_bins', TV_BINS)} x {result.get('tv_bins', TV_BINS)} histogram of the samples and "
                  "the board's (`fm.histogram_tv`, mean over the draws; 0 is a perfect match). Evaluations = steps for all four samplers (one "
                  "network call each); on the linear path DDIM is Euler (the identity above), so it is not listed. "
                  "'diverged (k of 4 draws)': in k draws at least one of the points ran off to infinity (the field "
                  "returned NaN or an infinite value; a start far in the Gaussian's tail, notebook 12 section 3), so "
                  "no mean is given. "
                  f"Networks: `fm.DEFAULT_RECIPE` with prediction and path changed, `fm.as_velocity(t_eps={result['t_eps']:g})`; "
                  "the default recipe (velocity / linear), the time reference, trained in "
                  + ", ".join(f"{s:.1f} s ({p} run)" for p, s in result["default_seconds"].items()) + ".",
              f"- machine: {result['machine']}" + (" (quick run: 1500 iterations per model, 2 draws of 5,000)" if result.get("quick") else "")]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
