#!/usr/bin/env python3
"""Time-to-quality of the training recipes, and the speed numbers a class cares about.

Run:  python3 tasks.py bench                   (full run: about 6 minutes on 2 cores)
      python3 tasks.py bench --update-readme   (and copy the table into benchmarks/README.md)
      python3 tasks.py bench --smoke           (seconds; the test suite runs this)
      python3 tasks.py bench --report-only     (print the table of the last run, measuring nothing)

In one run it measures: the write-up's recipe re-implemented here (the baseline), the project's
default recipe `fm.train(fm.VelocityMLP(), seed=0)`, the exact marginal field (what a perfect model
would give with the same sampler) and two independent target samples (the noise floor of the
metrics). Quality is measured with Euler T = 100 on fixed-seed samples against the exact target.
It prints a markdown table and writes the numbers as JSON (benchmarks/results/latest.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import fmhelpers as fm
from fmhelpers.widgets import steps_slider

from benchmarks import _results

ROOT = Path(__file__).resolve().parents[1]

WRITEUP = dict(n_iterations=5001, batch_size=4096, lr=3e-3)
SMOKE = dict(n_iterations=6, batch_size=64, lr=3e-3)
GOAL_IN_SUPPORT, GOAL_TIME_RATIO = 0.97, 1 / 3  # issue #4


# ---- the write-up's recipe, re-implemented in our own code -------------------------------------
def numpy_checkerboard(rng: np.random.Generator, n: int, grid_size: int = 4, scale: float = 2.0) -> np.ndarray:
    """The write-up's approach: draw cell indices, redraw the white ones until none is left."""
    side = 2 * scale / grid_size
    cells = rng.integers(0, grid_size, size=(n, 2))
    white = (cells.sum(1) % 2) == 0
    while white.any():
        cells[white] = rng.integers(0, grid_size, size=(int(white.sum()), 2))
        white = (cells.sum(1) % 2) == 0
    return (-scale + (cells + rng.random((n, 2))) * side).astype(np.float32)


def train_writeup(n_iterations: int, batch_size: int, lr: float, eval_at: list[int], seed: int = 0):
    """Adam at a constant rate, uniform t, mean-squared error; weights kept at `eval_at`."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = fm.VelocityMLP(seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    kept, start = {}, time.perf_counter()
    for it in range(1, n_iterations + 1):
        x_1 = torch.from_numpy(numpy_checkerboard(rng, batch_size))
        x_0 = torch.from_numpy(rng.standard_normal((batch_size, 2)).astype(np.float32))
        t = torch.rand(batch_size, 1)
        x_t = t * x_1 + (1 - t) * x_0
        loss = torch.nn.functional.mse_loss(model(x_t, t), x_1 - x_0)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if it in eval_at:
            kept[it] = (time.perf_counter() - start, {k: v.clone() for k, v in model.state_dict().items()})
    return model, time.perf_counter() - start, kept


# ---- measurements --------------------------------------------------------------------------------
EULER_STEPS = 100  # the quality measure; a smoke run uses 10 (it checks that the script runs, not the numbers)


def quality(velocity, n: int, n_steps: int | None = None, seed: int = 123) -> dict:
    """Euler with n_steps (default EULER_STEPS) from fixed-seed pi_0 samples, scored against the exact target."""
    n_steps = EULER_STEPS if n_steps is None else n_steps
    g = torch.Generator().manual_seed(seed)
    x = fm.euler(velocity, fm.sample_gaussian(n, generator=g), n_steps)
    target = fm.sample_checkerboard(n, generator=torch.Generator().manual_seed(seed + 1))
    return score(x, target)


def score(x: torch.Tensor, target: torch.Tensor) -> dict:
    return {
        "in_support": fm.in_support_fraction(x),
        "sliced_w2": fm.sliced_wasserstein(x, target, generator=torch.Generator().manual_seed(7)),
        "hist_tv": fm.histogram_tv(x),
    }


def curve(model: torch.nn.Module, kept: dict, n: int) -> list[dict]:
    """Quality of each kept set of weights, with the training seconds it had cost."""
    rows = []
    for it, (seconds, state) in sorted(kept.items()):
        model.load_state_dict(state)
        model.eval()
        rows.append({"iteration": it, "seconds": seconds, **quality(model, n)})
    return rows


def sampling_throughput(model: torch.nn.Module, n: int, n_steps: int | None = None) -> float:
    n_steps = EULER_STEPS if n_steps is None else n_steps
    x_0 = fm.sample_gaussian(n, generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    fm.euler(model, x_0, n_steps)
    return n / (time.perf_counter() - start)


def slider_latency(model: torch.nn.Module, n: int, moves: int) -> dict:
    """Median and worst time of a move of a T slider like 05_euler_sampling's (fresh pictures)."""
    x_0 = fm.sample_gaussian(n, generator=torch.Generator().manual_seed(0))
    results = {T: fm.euler(model, x_0, T) for T in range(1, moves + 2)}
    view = steps_slider(results, lambda ax, x, T: fm.plot_samples(x, ax, board=True),
                        readout=lambda T: f"T = {T}: {fm.in_support_fraction(results[T]):.3f}")
    times = []
    for index in range(1, moves + 1):
        start = time.perf_counter()
        view.slider.value = index
        times.append((time.perf_counter() - start) * 1000)
    cached = []
    for index in range(moves):
        start = time.perf_counter()
        view.slider.value = index
        cached.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(times), "max_ms": max(times), "cached_median_ms": statistics.median(cached)}


def notebook_seconds() -> dict:
    """Wall time of each notebook run top to bottom on a fresh kernel (as nbval runs them)."""
    return {path.name: _results.notebook_seconds(path.name) for path in sorted((ROOT / "notebooks").glob("*.ipynb"))}


# ---- report --------------------------------------------------------------------------------------
def table(result: dict) -> str:
    lines = ["| field | training s | ms / iteration | in-support | sliced W2 | histogram TV |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, row in result["rows"].items():
        train_s = f"{row['seconds']:.1f}" if "seconds" in row else "-"
        ms = f"{row['ms_per_iteration']:.1f}" if "ms_per_iteration" in row else "-"
        lines.append(f"| {name} | {train_s} | {ms} | {row['in_support']:.4f} | {row['sliced_w2']:.4f} | {row['hist_tv']:.4f} |")
    lines += ["", "Time to quality (Euler T = 100; training seconds when those weights were kept):", "",
              "| recipe | iteration | training s | in-support | sliced W2 | histogram TV |", "|---|---:|---:|---:|---:|---:|"]
    for name, rows in result["curves"].items():
        for r in rows:
            lines.append(f"| {name} | {r['iteration']} | {r['seconds']:.1f} | {r['in_support']:.4f} | {r['sliced_w2']:.4f} | {r['hist_tv']:.4f} |")
    s = result["speed"]
    default = result["rows"]["default recipe"]
    met = default["in_support"] >= GOAL_IN_SUPPORT and result["time_ratio"] <= GOAL_TIME_RATIO
    lines += ["", f"- time ratio default / baseline: **{result['time_ratio']:.3f}**",
              f"- goal (in-support >= {GOAL_IN_SUPPORT} in at most 1/3 of the baseline's time): "
              f"**{'met' if met else 'not met'}** ({default['in_support']:.4f} at {result['time_ratio']:.3f})",
              f"- Euler T = 100 sampling with the default model: {s['samples_per_second']:,.0f} samples/s",
              f"- T-slider move (new picture): median {s['slider']['median_ms']:.1f} ms, worst {s['slider']['max_ms']:.1f} ms;"
              f" revisited picture: median {s['slider']['cached_median_ms']:.2f} ms"]
    if result.get("notebooks"):
        total = sum(result["notebooks"].values())
        lines.append("- notebooks, executed top to bottom: " + ", ".join(
            f"{k.split('_')[0]} {v:.0f} s" for k, v in result["notebooks"].items()) + f"; total {total:.0f} s")
    lines.append(f"- machine: {result['machine']}")
    return "\n".join(lines)


def update_readme(text: str) -> None:
    readme = ROOT / "benchmarks" / "README.md"
    body = readme.read_text()
    start, end = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
    if start not in body or end not in body:
        raise SystemExit("benchmarks/README.md has no benchmark markers")
    head, rest = body.split(start)
    _, tail = rest.split(end)
    readme.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def report(result: dict, to_readme: bool) -> None:
    """Print the table of `result`, and copy it into benchmarks/README.md if asked."""
    text = table(result)
    print(text)
    if to_readme:
        update_readme(text)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny settings, to check that the script runs")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    parser.add_argument("--no-notebooks", action="store_true", help="skip timing the notebooks")
    parser.add_argument("--update-readme", action="store_true", help="copy the table into benchmarks/README.md")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: print the table of the run saved in --out (and --update-readme)")
    args = parser.parse_args(argv)
    if args.report_only:
        out = json.loads(args.out.read_text())
        report(out, args.update_readme)
        return out

    global EULER_STEPS
    EULER_STEPS = 10 if args.smoke else 100
    n_eval = 500 if args.smoke else 20_000
    base_cfg = SMOKE if args.smoke else WRITEUP
    eval_at = [base_cfg["n_iterations"]] if args.smoke else [500, 1000, 2000, 3000, 5001]
    default = fm.DEFAULT_RECIPE.replace(n_iterations=4, batch_size=64) if args.smoke else fm.DEFAULT_RECIPE

    print(f"[bench] baseline: the write-up's recipe {base_cfg}", flush=True)
    base_model, base_s, base_kept = train_writeup(eval_at=eval_at, **base_cfg)
    print(f"[bench] baseline trained in {base_s:.1f} s; default recipe {default}", flush=True)
    every = max(1, default.n_iterations // 4)
    result = fm.train(fm.VelocityMLP(), default, progress=False, snapshot_every=every)
    n_its = len(result.losses)
    kept = {it: (result.snapshot_seconds[it], st) for it, st in result.snapshots.items() if it > 0}

    g_target = torch.Generator().manual_seed(124)
    rows = {
        "write-up recipe (baseline)": {"seconds": base_s, "ms_per_iteration": 1000 * base_s / base_cfg["n_iterations"],
                                       **quality(base_model, n_eval)},
        "default recipe": {"seconds": result.seconds, "ms_per_iteration": 1000 * result.seconds / n_its,
                           **quality(result.model, n_eval)},
        "exact marginal field (limit)": quality(fm.marginal_velocity, n_eval),
        "second target sample (noise floor)": score(fm.sample_checkerboard(n_eval, generator=torch.Generator().manual_seed(9)),
                                                     fm.sample_checkerboard(n_eval, generator=g_target)),
    }
    out = {
        "recipe": {"baseline": base_cfg, "default": default.to_dict()},
        "rows": rows,
        "curves": {"baseline": curve(fm.VelocityMLP(), base_kept, n_eval), "default": curve(fm.VelocityMLP(), kept, n_eval)},
        "time_ratio": result.seconds / base_s,
        "speed": {"samples_per_second": sampling_throughput(result.model, n_eval),
                  "slider": slider_latency(result.model, 2000 if not args.smoke else 200, 30 if not args.smoke else 3)},
        "notebooks": None if (args.smoke or args.no_notebooks) else notebook_seconds(),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
        "smoke": args.smoke,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    report(out, args.update_readme)
    return out


if __name__ == "__main__":
    main()
