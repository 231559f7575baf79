"""The course's notebooks as notebooks/registry.toml lists them: one row each (its sliders, the
checkpoints it loads, its benchmark, its class), read by the tests that need to know a notebook."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS: list[dict] = tomllib.loads((ROOT / "notebooks" / "registry.toml").read_text())["notebook"]
NAMES = [row["file"] for row in ROWS]
BY_NAME = {row["file"]: row for row in ROWS}


def checkpoint_script():
    """scripts/make_checkpoint.py as a module (its table CHECKPOINTS: which file each row makes)."""
    import importlib.util
    import sys

    if "make_checkpoint" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_checkpoint", ROOT / "scripts" / "make_checkpoint.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_checkpoint"] = module  # a dataclass looks its module up there
        spec.loader.exec_module(module)
    return sys.modules["make_checkpoint"]


def number(name: str) -> str:
    """The notebook's number, "01" for 01_problem_setup.ipynb."""
    return name.split("_", 1)[0]
