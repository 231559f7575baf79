#!/usr/bin/env python3
"""Discrete flow matching on the gridded board (notebook 13): exactness, samples, likelihood, time.

Run:  python3 tasks.py bench discrete            (about 5 minutes on a loaded 2-core machine)
      python3 tasks.py bench discrete --smoke    (seconds; the test suite runs this)
      python3 tasks.py bench discrete --table    (the tables of the last full run, from its JSON)

In one run, V = 32 (1,024 states, 1,089 with the mask token):
- exactness: `fm.posterior_marginals` and `fm.exact_rate` against an independent computation (Bayes'
  rule written out per state with the mixture kernel in float64 loops over x_1's coordinates, and
  the rate as the posterior mean of the conditional rate, summed over the joint posterior), on 300
  states of the path at five times, both sources and both schedules: the largest absolute
  difference. The Kolmogorov forward equation d pi_t / dt = pi_t Q_t on all states at five times
  (`fm.forward_equation_terms`): the largest residual relative to |d pi_t / dt|, and the smallest for a
  control, the rate without its factor kappa'_t / (1 - kappa_t), which must fail at every time.
- time: the default continuous recipe (`fm.train(fm.VelocityMLP())`), then `fm.DISCRETE_RECIPE` with
  the mask source and the same recipe with the uniform source, each from scratch.
- jumps: each learned model and the exact-marginal sampler at T = 1, 2, 4, ..., 128 Euler steps, by the
  exact law of the sampler's output (`fm.jump_law`: its TV to pi_1 and its mass on black cells, with
  no sampling noise); at T = 128 also samples: the share on black cells and the TV to pi_1 on the grid,
  mean of four draws of 20,000 (one draw for the exact uniform sampler), against the two-sample noise
  floor of TV at 20,000 (mean of four).
- likelihood: the exact cross-entropy of pi_1 under the sampler's law at T = 128
  (`fm.law_cross_entropy`), the mask model's bound (`fm.negative_elbo`), the entropy of pi_1.
- the factorisation gap (the joint posterior against the product of its marginals, mean TV over
  4,000 path samples) at t = 0.25, 0.5, 0.75, and notebook 13 run top to bottom on a fresh kernel.

Goals: exactness to 1e-10 (the control above 1e-2); at T = 128 the mask model puts at least 0.985 on
black cells, with TV within 1.5x the two-sample noise floor, trained in at most 1.5x the default
continuous recipe's time; the notebook in at most 30 s. Writes benchmarks/results/discrete.json.
"""

from __future__ import annotations

from pathlib import Path

import torch

import fmhelpers as fm
from fmhelpers.discrete import KAPPA_SCHEDULES, n_tokens, raw_grid_law

from benchmarks import _results

ROOT = Path(__file__).resolve().parents[1]
V = 32
STEPS = (1, 2, 4, 8, 16, 32, 64, 128)
TIMES = (0.1, 0.3, 0.5, 0.7, 0.9)
GOAL_EXACT, GOAL_CONTROL, GOAL_BLACK, GOAL_TV_RATIO, GOAL_TIME_RATIO, GOAL_NOTEBOOK = 1e-10, 1e-2, 0.985, 1.5, 1.5, 30.0
N_SAMPLES, N_DRAWS = 20_000, 4


# ---- exactness -----------------------------------------------------------------------------------
def independent_posterior(x_t: torch.Tensor, t: float, source: str, schedule: str) -> torch.Tensor:
    """p(x_1 | x_t) (n, V, V) by Bayes' rule written out: pi_1(a, b) K(x_t^1 | a) K(x_t^2 | b) / Z with
    K(s | v) = kappa 1[s = v] + (1 - kappa) p_0(s), p_0 the source's law of one coordinate (here, not the
    package's tables): 1[s = mask] for the mask source, 1 / V for the uniform one."""
    kappa = t if schedule == "linear" else t * t
    law = raw_grid_law(V, fm.BOARD)
    values = torch.arange(V)
    out = torch.empty(len(x_t), V, V, dtype=torch.float64)
    for k, (s1, s2) in enumerate(x_t.tolist()):
        rows = []
        for s in (s1, s2):
            p0 = (1.0 if s == V else 0.0) if source == "mask" else 1.0 / V
            rows.append(kappa * (values == s).to(torch.float64) + (1 - kappa) * p0)
        joint = rows[0][:, None] * law * rows[1][None, :]
        out[k] = joint / joint.sum()
    return out


def independent_rate(joint: torch.Tensor, x_t: torch.Tensor, t: float, source: str, schedule: str) -> torch.Tensor:
    """The rate as the posterior mean of the conditional rate kappa' / (1 - kappa) (1[y = x_1^i] - 1[y = x^i]),
    summed over the joint posterior's states x_1 (not through the package's marginals)."""
    kappa, dkappa = (t, 1.0) if schedule == "linear" else (t * t, 2 * t)
    S = n_tokens(source, V)
    out = torch.zeros(len(x_t), 2, S, dtype=torch.float64)
    for i in range(2):
        towards = torch.zeros(len(x_t), S, dtype=torch.float64)
        towards[:, :V] = joint.sum(dim=2 - i)  # sum over the other coordinate of x_1
        stay = torch.nn.functional.one_hot(x_t[:, i], S).to(torch.float64)
        out[:, i] = dkappa / (1 - kappa) * (towards - stay)
    return out


def exactness(n_states: int) -> dict:
    """Largest differences to the independent computation, and the forward equation's residuals."""
    generator = torch.Generator().manual_seed(0)
    out = {}
    for source in fm.SOURCES:
        for schedule in KAPPA_SCHEDULES:
            posterior = rate = residual = 0.0
            control = float("inf")
            for t in TIMES:
                x_1 = fm.sample_grid(n_states, V, generator=generator)
                x_t = fm.sample_path(x_1, t, source=source, schedule=schedule, V=V, generator=generator)
                joint = independent_posterior(x_t, t, source, schedule)
                marginals = fm.posterior_marginals(x_t, t, source=source, schedule=schedule, V=V)
                posterior = max(posterior, (marginals - torch.stack([joint.sum(2), joint.sum(1)], 1)).abs().max().item(),
                                (fm.joint_posterior(x_t, t, source=source, schedule=schedule, V=V) - joint).abs().max().item())
                rate = max(rate, (fm.exact_rate(x_t, t, source=source, schedule=schedule, V=V)
                                  - independent_rate(joint, x_t, t, source, schedule)).abs().max().item())
                dpi, piQ = fm.forward_equation_terms(t, source=source, schedule=schedule, V=V)
                residual = max(residual, ((dpi - piQ).abs().max() / dpi.abs().max()).item())
                table = KAPPA_SCHEDULES[schedule]

                def wrong(x, s, source=source, schedule=schedule, table=table):  # without kappa'_t / (1 - kappa_t)
                    factor = table.dkappa(s) / (1 - table.kappa(s))
                    return fm.exact_rate(x, s, source=source, schedule=schedule, V=V) / factor[:, :, None]

                dpi, piQ = fm.forward_equation_terms(t, source=source, schedule=schedule, V=V, rate=wrong)
                control = min(control, ((dpi - piQ).abs().max() / dpi.abs().max()).item())
            out[f"{source}/{schedule}"] = {"posterior": posterior, "rate": rate, "residual": residual, "control": control}
            print(f"[discrete] exactness {source}/{schedule}: posterior {posterior:.1e}, rate {rate:.1e}, "
                  f"residual {residual:.1e}, control {control:.2f}", flush=True)
    return out


# ---- samples -------------------------------------------------------------------------------------
def scores(rate, source: str, steps: tuple[int, ...], n: int, draws: int) -> dict:
    """Per T: the exact law's TV, mass on black cells and cross-entropy; at the largest T (only: 128 steps of
    20,000 samples cost minutes on a loaded machine, and the law already gives every mean), also the share on
    black cells and the TV of `draws` draws of n samples (mean over the draws)."""
    black = raw_grid_law(V, fm.BOARD) > 0
    out = {}
    for T in steps:
        law = fm.jump_law(rate, T, source=source, V=V)
        out[T] = {"law_tv": fm.law_tv(law, V), "law_black": law[:V, :V][black].sum().item(),
                  "cross_entropy": fm.law_cross_entropy(law, V)}
    T, generator = max(steps), torch.Generator().manual_seed(max(steps))
    samples = [fm.jump_sample(rate, n, T, source=source, V=V, generator=generator) for _ in range(draws)]
    out[T].update(black=sum(fm.black_share(x, V) for x in samples) / draws,
                  tv=sum(fm.grid_tv(x, V) for x in samples) / draws)
    return out


def exact_rate_function(source: str):
    return lambda x, t: fm.exact_rate(x, t, source=source, V=V)


def factorisation_gaps(n: int) -> dict:
    generator = torch.Generator().manual_seed(1)
    out = {}
    for source in fm.SOURCES:
        x_1 = fm.sample_grid(n, V, generator=generator)
        out[source] = {t: fm.factorisation_gap(fm.sample_path(x_1, t, source=source, V=V, generator=generator), t,
                                               source=source, V=V).mean().item() for t in (0.25, 0.5, 0.75)}
    return out


def main(argv: list[str] | None = None) -> dict:
    args, out = _results.parse(__doc__.splitlines()[0], "discrete", argv)
    if args.table:
        return _results.show(out, table)
    smoke = args.smoke
    budget = {"n_iterations": 30} if smoke else {}
    steps, n, draws = ((1, 4), 500, 2) if smoke else (STEPS, N_SAMPLES, N_DRAWS)
    result = {"exactness": exactness(20 if smoke else 300), "smoke": smoke}
    base = fm.train(fm.VelocityMLP(), progress=False, **budget)
    print(f"[discrete] default continuous recipe: {base.seconds:.1f} s", flush=True)
    models, seconds = {}, {}
    for source in fm.SOURCES:
        trained = fm.train_discrete(fm.DiscreteMLP(V=V), fm.DISCRETE_RECIPE, source=source, progress=False, **budget)
        models[source], seconds[source] = trained.model, trained.seconds
        print(f"[discrete] fm.DISCRETE_RECIPE, source {source}: {trained.seconds:.1f} s", flush=True)
    result.update(default_seconds=base.seconds, seconds=seconds, ratio={s: seconds[s] / base.seconds for s in seconds},
                  recipe=fm.DISCRETE_RECIPE.to_dict())
    result["floor"] = fm.tv_noise_floor(n, V, n_draws=draws, two_sample=True, generator=torch.Generator().manual_seed(7))
    result["floor_one_sample"] = fm.tv_noise_floor(n, V, n_draws=draws, generator=torch.Generator().manual_seed(7))
    result["learned"], result["exact"] = {}, {}
    for source in fm.SOURCES:
        result["learned"][source] = scores(fm.model_rate(models[source], source=source), source, steps, n, draws)
        result["exact"][source] = scores(exact_rate_function(source), source, steps, n, draws if source == "mask" else 1)
        print(f"[discrete] samples scored, source {source}", flush=True)
    result["entropy"] = fm.grid_entropy(V)
    result["elbo"] = {"learned": fm.negative_elbo(models["mask"], V=V), "exact": fm.negative_elbo(V=V)}
    result["gap"] = factorisation_gaps(500 if smoke else 4000)
    result["n"], result["draws"] = n, draws
    result["notebook_seconds"] = None if smoke else _results.notebook_seconds("13_discrete_flow_matching.ipynb")
    return _results.finish(out, result, table, then=lambda r: {"goals": goals(r)})


def _last(result: dict, kind: str = "learned", source: str = "mask") -> dict:
    rows = result[kind][source]
    return rows[max(rows, key=int)]


def goals(result: dict) -> dict:
    exact = result["exactness"].values()
    last = _last(result)
    notebook = result.get("notebook_seconds")
    return {"exactness": all(max(r["posterior"], r["rate"], r["residual"]) <= GOAL_EXACT for r in exact),
            "control": all(r["control"] >= GOAL_CONTROL for r in exact),
            "black": last["black"] >= GOAL_BLACK, "tv": last["tv"] <= GOAL_TV_RATIO * result["floor"],
            "time": result["ratio"]["mask"] <= GOAL_TIME_RATIO,
            "notebook": None if notebook is None else notebook <= GOAL_NOTEBOOK}


def table(result: dict) -> str:
    def verdict(name: str) -> str:
        met = result["goals"][name]
        return "-" if met is None else ("**met**" if met else "**not met**")

    last, floor = _last(result), result["floor"]
    exact = result["exactness"]
    worst = max(max(r["posterior"], r["rate"]) for r in exact.values())
    notebook = result.get("notebook_seconds")
    lines = ["| measure | this run | goal | |", "|---|---:|---|---|",
             f"| posterior and rate against the independent computation (largest difference) | {worst:.1e} | "
             f"at most {GOAL_EXACT:g} | {verdict('exactness')} |",
             f"| forward equation: residual relative to d pi/dt (largest) | "
             f"{max(r['residual'] for r in exact.values()):.1e} | at most {GOAL_EXACT:g} | |",
             f"| the control without kappa'/(1 - kappa) (smallest) | {min(r['control'] for r in exact.values()):.2f} | "
             f"at least {GOAL_CONTROL:g} | {verdict('control')} |",
             f"| mask model, T = 128: share on black cells | {last['black']:.4f} | at least {GOAL_BLACK} | "
             f"{verdict('black')} |",
             f"| mask model, T = 128: TV to pi_1 (two-sample floor {floor:.4f}) | {last['tv']:.4f} "
             f"({last['tv'] / floor:.2f}x) | at most {GOAL_TV_RATIO:g}x the floor | {verdict('tv')} |",
             f"| mask model, T = 128: TV of the sampler's exact law | {last['law_tv']:.4f} | - | |",
             f"| training time, mask (s; the default continuous recipe {result['default_seconds']:.1f} s) | "
             f"{result['seconds']['mask']:.1f} ({result['ratio']['mask']:.2f}x) | at most {GOAL_TIME_RATIO:g}x | "
             f"{verdict('time')} |",
             f"| training time, uniform (s) | {result['seconds']['uniform']:.1f} ({result['ratio']['uniform']:.2f}x) | - | |",
             f"| notebook 13, top to bottom on a fresh kernel (s) | {'-' if notebook is None else f'{notebook:.1f}'} | "
             f"at most {GOAL_NOTEBOOK:g} s | {verdict('notebook')} |",
             "", "| source/schedule | posterior | rate | forward residual | control |", "|---|---:|---:|---:|---:|"]
    for name, row in exact.items():
        lines.append(f"| {name} | {row['posterior']:.1e} | {row['rate']:.1e} | {row['residual']:.1e} | {row['control']:.2f} |")
    lines += ["", "| T | source | learned: law on black / law TV | exact marginals: law on black / law TV |",
              "|---:|---|---:|---:|"]
    for source in result["learned"]:
        for T, row in result["learned"][source].items():
            ceiling = result["exact"][source][T]
            lines.append(f"| {T} | {source} | {row['law_black']:.4f} / {row['law_tv']:.4f} | "
                         f"{ceiling['law_black']:.4f} / {ceiling['law_tv']:.4f} |")
    lines += ["", f"| samples at T = {max(result['learned']['mask'], key=int)} | share on black cells | TV to pi_1 |",
              "|---|---:|---:|"]
    for kind in ("learned", "exact"):
        for source in result[kind]:
            row = _last(result, kind, source)
            lines.append(f"| {kind}, {source} | {row['black']:.4f} | {row['tv']:.4f} |")
    gap = result["gap"]
    lines += ["", "| likelihood (nats) | value |", "|---|---:|",
              f"| entropy of pi_1 on the grid | {result['entropy']:.4f} |",
              f"| mask: bound (negative ELBO), learned / exact posterior | {result['elbo']['learned']:.4f} / "
              f"{result['elbo']['exact']:.4f} |"]
    for source in result["learned"]:
        lines.append(f"| {source}: cross-entropy of the sampler's law at T = {max(result['learned'][source], key=int)}, "
                     f"learned / exact marginals | {_last(result, 'learned', source)['cross_entropy']:.4f} / "
                     f"{_last(result, 'exact', source)['cross_entropy']:.4f} |")
    lines += ["", "| factorisation gap (mean TV, joint posterior vs product of marginals) | t = 0.25 | t = 0.5 | t = 0.75 |",
              "|---|---:|---:|---:|"]
    for source, row in gap.items():
        lines.append(f"| {source} | " + " | ".join(f"{v:.3f}" for v in row.values()) + " |")
    lines += ["", f"Samples: mean of {result['draws']} draws of {result['n']}; the floor is the TV between two exact "
                  f"samples of {result['n']} (mean of {result['draws']}; one exact sample against pi_1 gives "
                  f"{result['floor_one_sample']:.4f}). 'law TV' is the TV of `fm.jump_law`, the sampler's exact output law.",
              f"- recipe: {result['recipe']}", f"- machine: {result['machine']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
