#!/usr/bin/env python3
"""One entry point for the course, standard library only, so it runs on a fresh Python 3.11.

    python3 tasks.py lab          build .venv if missing, open JupyterLab on notebooks/
    python3 tasks.py test         build .venv if missing, run every test (package, notebooks, browser)
    python3 tasks.py bench        build .venv if missing, run the training/speed benchmark
    python3 tasks.py checkpoint   build .venv if missing, retrain the model the notebooks load

The environment is rebuilt when requirements/classroom.txt or pyproject.toml change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements" / "classroom.txt"
STAMP = VENV / ".classroom-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_env() -> None:
    """Create .venv with the classroom set and fmhelpers (editable) unless it is up to date."""
    if sys.version_info < (3, 10):
        sys.exit(f"Python 3.10 or newer is needed (3.11 recommended), this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == _fingerprint() and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"[tasks] creating {VENV.name} with {sys.executable}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("[tasks] installing the classroom set (requirements/classroom.txt) and fmhelpers", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["-r", str(REQUIREMENTS)], check=True)
    subprocess.run(pip + ["--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(_fingerprint())


def run(*args: str, env: dict | None = None) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT, env=env).returncode


def lab() -> int:
    """JupyterLab on notebooks/, listening on the loopback address only, with a token."""
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers run as root
    return run("-m", "jupyterlab", "--ip=127.0.0.1", f"--notebook-dir={ROOT / 'notebooks'}", *as_root)


def test() -> int:
    """pytest on tests/ and, through nbval (strict), on every notebook."""
    chromium = shutil.which("chromium") or (Path("/usr/bin/chromium") if Path("/usr/bin/chromium").exists() else None)
    if not chromium:
        print("[tasks] NOTE: chromium was not found, so the browser test of the sliders is SKIPPED.\n"
              "[tasks]       Enable it with `sudo apt-get install chromium` (Debian/Ubuntu) and run again.", flush=True)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # notebooks draw inline
    return run("-m", "pytest", "tests", "notebooks", "--nbval", "--sanitize-with", "tests/nbval_sanitize.cfg",
               "-p", "no:cacheprovider", *sys.argv[2:], env=env)


def bench() -> int:
    return run("benchmarks/benchmark.py", *sys.argv[2:])


def checkpoint() -> int:
    return run("scripts/make_checkpoint.py", *sys.argv[2:])


COMMANDS = {"lab": lab, "test": test, "bench": bench, "checkpoint": checkpoint}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    ensure_env()
    sys.exit(COMMANDS[sys.argv[1]]())
