#!/usr/bin/env python3
"""Homework compute times: how long each exercise's check takes with the worked solution, and the
runs a student is asked to make beside the checks (the trainings of 04.1 and 04.2).

Run:  python3 tasks.py bench exercises            (about 2 minutes on 2 cores)
      python3 tasks.py bench exercises --smoke    (short runs; the test suite adds --only check_is_black)
      python3 tasks.py bench exercises --only check_ot_pairing check_trig_score   (those checks only)

The worked solutions are the ones the tests use: the table `CHECKS` of each
notebooks/solutions/solutions_NN.py (each check with its worked solution's arguments).
Working time (reading, deriving, writing) is not measured here: notebooks/TEACHING.md estimates it.
Prints a markdown table.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import time
from pathlib import Path

import torch

import fmhelpers as fm

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_times(only: list[str] | None = None) -> list[tuple[str, str, float, bool]]:
    """(exercise, check, seconds, passed) for every check (or those named in `only`), called with its
    worked solution (the CHECKS table of its solutions file)."""
    rows = []
    for path in sorted((ROOT / "notebooks" / "solutions").glob("solutions_*.py")):
        solutions = _load(path, path.stem)
        for check, entry in solutions.CHECKS.items():
            if only and check not in only:
                continue
            exercise = (getattr(fm.exercises, check).__doc__ or "").split(":")[0].strip()
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                passed = getattr(fm.exercises, check)(*entry["solution"])
            rows.append((exercise, check, time.perf_counter() - start, passed is True))
    return sorted(rows)


def hand_loop(n_iterations: int, target: str, seed: int = 0) -> float:
    """04.1's changed loop: section 3's loop (batches of 1024, Adam at 1e-2), regressing on x_1
    (target="x_1") or on u_t."""
    torch.manual_seed(seed)
    model = fm.VelocityMLP()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(n_iterations):
        x_0, x_1 = fm.sample_gaussian(1024, generator=gen), fm.sample_checkerboard(1024, generator=gen)
        t = torch.rand(1024, 1, generator=gen)
        goal = x_1 if target == "x_1" else x_1 - x_0
        loss = (model((1 - t) * x_0 + t * x_1, t) - goal).pow(2).sum(dim=1).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    """Print the two tables; exit 1 if a worked solution fails its check."""
    smoke = "--smoke" in argv
    only = argv[argv.index("--only") + 1:] if "--only" in argv else None
    rows = check_times(only)
    print("| exercise | check | seconds with the worked solution | passes |")
    print("|---|---|---:|---|")
    for exercise, check, seconds, passed in rows:
        print(f"| {exercise} | `{check}` | {seconds:.1f} | {'yes' if passed else '**no**'} |")
    runs = 20 if smoke else 300
    trainings = 20 if smoke else 1500
    print()
    print("| run a student is asked to make | seconds |")
    print("|---|---:|")
    print(f"| 04.1: section 3's loop regressing on x_1, {runs} iterations | {hand_loop(runs, 'x_1'):.1f} |")
    for sampling in ("uniform", "late"):
        result = fm.train(fm.VelocityMLP(), n_iterations=trainings, time_sampling=sampling, progress=False)
        print(f"| 04.2: fm.train, {trainings} iterations, time_sampling={sampling!r} | {result.seconds:.1f} |")
    print(f"\nmachine: {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    return 0 if all(passed for *_, passed in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
