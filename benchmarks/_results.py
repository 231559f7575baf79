"""What the notebook benchmarks (straight, meanflow, guidance, digits, diffusion, discrete) share: the --smoke /
--table / --out command line, the machine's line, writing the result JSON atomically, and timing a notebook."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

import torch

RESULTS = Path(__file__).resolve().parent / "results"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_seconds(name: str) -> float:
    """Wall time of the notebook `name` (in notebooks/) run top to bottom on a fresh kernel, as nbval runs it;
    nothing is saved."""
    import nbformat
    from nbclient import NotebookClient

    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def parse(description: str, name: str, argv: list[str] | None) -> tuple[argparse.Namespace, Path]:
    """The parsed arguments and the JSON path: --out, else results/<name>.json (<name>_smoke.json)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny budgets: checks that the script runs")
    parser.add_argument("--table", action="store_true", help="print the table of the last full run, run nothing")
    parser.add_argument("--out", type=Path, default=None, help="where to write the JSON")
    args = parser.parse_args(argv)
    return args, args.out or RESULTS / (f"{name}_smoke.json" if args.smoke else f"{name}.json")


def write(out: Path, result: dict) -> None:
    """Write `result` as JSON to `out` through a temporary file, so a crash never leaves half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(out)


def machine() -> str:
    """The line each result carries: torch's threads and version."""
    return f"{torch.get_num_threads()} torch threads, torch {torch.__version__}"


def finish(out: Path, result: dict, table: Callable[[dict], str],
           then: Callable[[dict], dict] | None = None) -> dict:
    """Stamp `result` with the machine, give it the keys a saved run has (JSON's: strings), add what `then`
    computes from it, print its table and write it to `out`; returns it."""
    result = json.loads(json.dumps({**result, "machine": machine()}))
    if then is not None:
        result.update(then(result))
    print(table(result))
    write(out, result)
    return result


def show(out: Path, table: Callable[[dict], str]) -> dict:
    """--table: print the table of the run saved at `out`, run nothing; returns it."""
    saved = json.loads(out.read_text())
    print(table(saved))
    return saved
