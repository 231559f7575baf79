#!/usr/bin/env python3
"""Autograde time per notebook: how long `nbgrader autograde` takes for one submission (the worked
solutions) of each notebook, with the grading kernel skipping the cells nothing graded needs, and
(with --every-cell) running every cell as before, for comparison. Needs nbgrader (the teacher's
environment):

Run:  python3 tasks.py bench autograde                  every notebook, skipping (a few minutes on 2 cores)
      python3 tasks.py bench autograde 01 04 --every-cell   those notebooks, both ways
      python3 tasks.py bench autograde 01 --copies 5        five submissions graded by one autograde

Prints a markdown table: seconds per submission (nbgrader's start, the kernel and the cells), the score
(the worked solutions must get full marks with the cells skipped), and the time for a class of 30.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "classroom.py"


def _nbgrader(course: Path, *args: str, every_cell: bool = False) -> float:
    env = {k: v for k, v in os.environ.items() if k != "FM_GRADE_EVERY_CELL"}
    if every_cell:
        env["FM_GRADE_EVERY_CELL"] = "1"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(SCRIPT), "nbgrader", "--course", str(course), *args], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return time.perf_counter() - start


def grade(number: str, every_cell: bool, copies: int = 1) -> list[tuple[str, str, float, float, float]]:
    """[(assignment, mode, seconds per submission, score, max)] for the worked solutions of notebook `number`,
    `copies` submissions graded by one `nbgrader autograde` (which starts once for all of them)."""
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        subprocess.run([sys.executable, str(SCRIPT), "build", number, "--out", str(course)], check=True,
                       capture_output=True)
        (name,) = [p.name for p in (course / "source").iterdir()]
        _nbgrader(course, "generate_assignment", name)
        source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        released = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        answers = {c.metadata.nbgrader["grade_id"]: "\n".join(l for l in c.source.splitlines() if "SOLUTION" not in l)
                   for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in released.cells:
            cell.source = answers.get(cell.metadata.get("nbgrader", {}).get("grade_id"), cell.source)
        modes = [("skipping", False)] + ([("every cell", True)] if every_cell else [])
        rows = []
        for mode, every in modes:
            students = [f"{mode.replace(' ', '_')}_{k}" for k in range(copies)]
            for student in students:
                folder = course / "submitted" / student / name
                folder.mkdir(parents=True)
                nbformat.write(released, folder / f"{name}.ipynb")
            pattern = f"{mode.replace(' ', '_')}_*"
            seconds = _nbgrader(course, "autograde", name, "--student", pattern, every_cell=every) / copies
            with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
                score = min(gradebook.find_submission(name, s).score for s in students)
                most = gradebook.find_assignment(name).max_score
            rows.append((name, mode, seconds, score, most))
        return rows


def main(argv: list[str]) -> int:
    every_cell = "--every-cell" in argv
    copies = int(argv[argv.index("--copies") + 1]) if "--copies" in argv else 1
    argv = [a for i, a in enumerate(argv) if a != "--copies" and (i == 0 or argv[i - 1] != "--copies")]
    numbers = [a for a in argv if not a.startswith("--")] or \
        [p.name[:2] for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    print(f"| notebook | cells run | seconds per submission ({copies} graded by one autograde) | a class of 30 | score |")
    print("|---|---|---:|---:|---|")
    ok = True
    for number in numbers:
        for name, mode, seconds, score, most in grade(number, every_cell, copies):
            ok = ok and score == most
            print(f"| {name} | {mode} | {seconds:.1f} | {30 * seconds / 60:.1f} min | {score:g} of {most:g} |", flush=True)
    print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end "
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
