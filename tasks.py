#!/usr/bin/env python3
"""One entry point for the course, standard library only, so it runs on a fresh Python 3.11 to 3.14.

    python3 tasks.py lab              build .venv if missing, open JupyterLab on notebooks/
    python3 tasks.py lab PATH         the same, opening a handed-out notebook PATH in its folder, with the
                                      checkpoints it loads copied beside it (checkpoints/)
    python3 tasks.py test             build .venv if missing, run every test (package, notebooks, browser),
                                      spread over up to 4 workers of one thread each (pytest-xdist), except
                                      those marked slow (trainings, benchmark smoke runs)
    python3 tasks.py test --slow      ... only the tests marked slow (CI runs them after the test command)
    python3 tasks.py notebook 04      build .venv if missing, test one notebook alone (nbval, and its sliders)
    python3 tasks.py execute 04 05    re-run notebooks top to bottom on a fresh kernel and save them with their
                                      outputs and slider pictures (what nbval then compares); no number: all
    python3 tasks.py bench            build .venv if missing, run the training/speed benchmark
    python3 tasks.py bench likelihood build .venv if missing, measure notebook 09's likelihood numbers
    python3 tasks.py bench guidance   build .venv if missing, measure notebook 10's guidance numbers
    python3 tasks.py bench digits     build .venv if missing, measure notebook 11's digits (time, judge, memorisation)
    python3 tasks.py bench diffusion  build .venv if missing, measure notebook 12's prediction targets (noise, data, score, velocity)
    python3 tasks.py bench discrete   build .venv if missing, measure notebook 13's discrete flows (exactness, jumps, time)
    python3 tasks.py bench exercises  build .venv if missing, time every exercise's check with its worked solution
    python3 tasks.py bench autograde  build .venv-teacher if missing, time nbgrader's autograde of each notebook
    python3 tasks.py checkpoint       build .venv if missing, retrain the default model the notebooks load
    python3 tasks.py checkpoint NAME  ... a group of checkpoints (straight, meanflow, guidance, digits, ...) or one
                                      file by its stem (the [[checkpoint]] rows of notebooks/registry.toml)

For teachers (nbgrader, in .venv-teacher: the classroom set plus requirements/teacher.txt):
    python3 tasks.py classroom        build .venv-teacher if missing, write the nbgrader course classroom/
                                      from the notebooks and their worked solutions (`classroom 01 02`: some;
                                      `--out DIR`: elsewhere)
    python3 tasks.py nbgrader ARGS    run `nbgrader ARGS` in classroom/ (`--course DIR`: elsewhere), with the
                                      teacher's kernel and Jupyter's folders inside the course folder
    python3 tasks.py classroom --test build .venv-teacher if missing, run the nbgrader test (tests/test_classroom.py)
    python3 tasks.py audit [PATH]     list the answer cells of the submissions (classroom/submitted/, or PATH)
                                      that assign to fmhelpers' attributes (or setattr, sys.modules): grade by hand

The course as a website (Sphinx with MyST-NB, in .venv-site: requirements/site.txt; nothing is executed):
    python3 tasks.py site             build .venv-site if missing, build the site from the notebooks' stored
                                      outputs into build/site/ (`--out DIR`: elsewhere; `--solutions`: with the
                                      worked solutions); open build/site/index.html
    python3 tasks.py site --test      build .venv and .venv-site if missing, run the site's browser test
                                      (tests/test_site.py)

An environment is rebuilt when its requirements file(s) or pyproject.toml change.
"""

import sys

# A Python older than 3.6 cannot read the rest of this file; it stops here, quoting this line:
_TOO_OLD = f"this course needs Python 3.11 to 3.14: see INSTALL.md, 'Which Python'"
if sys.version_info[:2] < (3, 11):  # 3.6 to 3.10 read the file but cannot run it: the same message, before anything
    sys.exit(f"This is Python {sys.version_info[0]}.{sys.version_info[1]}, but {_TOO_OLD}.")

import hashlib
import json
import os
import shutil
import platform
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements" / "classroom.txt"
STAMP = VENV / ".classroom-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# The teacher's environment: the classroom set plus nbgrader (requirements/teacher.txt starts with
# `-r classroom.txt`), kept apart so that the students' .venv never gets nbgrader.
TEACHER_VENV = ROOT / ".venv-teacher"
TEACHER_REQUIREMENTS = ROOT / "requirements" / "teacher.txt"
TEACHER_PYTHON = TEACHER_VENV / BIN.relative_to(VENV) / PYTHON.name
# The website's environment: Sphinx, MyST-NB, the book theme and MathJax (requirements/site.txt), without the
# classroom set: the site is built from the stored outputs, so nothing of the course runs in it.
SITE_VENV = ROOT / ".venv-site"
SITE_REQUIREMENTS = ROOT / "requirements" / "site.txt"
SITE_PYTHON = SITE_VENV / BIN.relative_to(VENV) / PYTHON.name
# The Python versions the classroom pins install on: checked with `pip install --dry-run
# --only-binary=:all: --python-version X -r requirements/classroom.txt`: 3.10 has no numpy 2.4.6
# nor matplotlib 3.11.2; 3.15 has no torch 2.13.0.
SUPPORTED = ((3, 11), (3, 14))
SANITIZE = ["--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]


def check_python(version: tuple[int, int] = sys.version_info[:2]) -> str | None:
    """None when `version` can install the classroom set, else the message that says what to do."""
    low, high = SUPPORTED
    if low <= tuple(version) <= high:
        return None
    return (f"This is Python {version[0]}.{version[1]}, but the course's pinned packages install on Python "
            f"{low[0]}.{low[1]} to {high[0]}.{high[1]} only.\n"
            f"Install one of those (python.org, your package manager, pyenv or conda: "
            f"`conda create -n fm python=3.12`) and run this command with it, e.g. `python3.12 tasks.py test`.")


def _fingerprint(requirements: Path = REQUIREMENTS) -> str:
    """The hash of what an environment is built from: the classroom pins, `requirements` (the teacher's
    file includes the classroom's) and pyproject.toml."""
    digest = hashlib.sha256()
    for path in dict.fromkeys((REQUIREMENTS, requirements, ROOT / "pyproject.toml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_env(folder: Path = VENV, requirements: Path = REQUIREMENTS) -> None:
    """Create the environment `folder` (.venv: the classroom set) with `requirements` and fmhelpers
    (editable) unless it is up to date."""
    problem = check_python()
    if problem:
        sys.exit(problem)
    python = folder / BIN.relative_to(VENV) / PYTHON.name
    stamp = folder / STAMP.name
    if stamp.exists() and stamp.read_text() == _fingerprint(requirements) and python.exists():
        return
    if not python.exists():
        print(f"[tasks] creating {folder.name} with {sys.executable}", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(folder)
        except (subprocess.CalledProcessError, OSError) as exc:  # e.g. Debian's python3 without python3-venv
            print(f"[tasks] creating {folder.name} failed: {exc}", flush=True)
            sys.exit(install_failed(folder, "On Debian and Ubuntu, `sudo apt install python3-venv` gives Python "
                                            "the venv module with pip."))
    warning = platform_problem()
    if warning:
        print(f"[tasks] WARNING: {warning}", flush=True)
    print(f"[tasks] installing {requirements.relative_to(ROOT).as_posix()} and fmhelpers into {folder.name}", flush=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    for step in (["-r", str(requirements)], ["--no-deps", "-e", str(ROOT)]):
        if subprocess.run(pip + step).returncode:
            sys.exit(install_failed(folder, f"As warned, {warning}" if warning else None))
    stamp.write_text(_fingerprint(requirements))


def _platform_name() -> str:
    system, machine = platform.system(), platform.machine()
    if system == "Darwin":
        return f"macOS {platform.mac_ver()[0] or '?'} on {machine}"
    return f"{system} {platform.release()} on {machine}"


def platform_problem(system: str | None = None, machine: str | None = None, mac: str | None = None) -> str | None:
    """Why the pinned torch cannot install here, for the platforms known not to work (checked with pip's dry
    run for each platform tag, INSTALL.md): Intel Macs (no torch wheel after 2.2.2) and Apple Silicon Macs
    older than macOS 14 (the wheels need 14.0); None elsewhere."""
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    mac = mac if mac is not None else platform.mac_ver()[0]
    if system != "Darwin":
        return None
    if machine in ("x86_64", "i386"):
        return ("this is an Intel Mac: PyTorch publishes no wheel of the pinned torch for it (its last is 2.2.2), "
                "so pip will fail. INSTALL.md, 'Intel Macs and older macOS', gives the routes that work.")
    major = int(mac.split(".")[0]) if mac and mac.split(".")[0].isdigit() else None
    if major is not None and major < 14:
        return (f"this is macOS {mac}: the pinned torch needs macOS 14 or later on Apple Silicon, so pip will fail. "
                "INSTALL.md, 'Intel Macs and older macOS', gives the routes that work.")
    return None


def install_failed(folder: Path, note: str | None = None) -> str:
    """The one paragraph printed when building an environment fails: the platform, the Python, `note` (what is
    known about this platform), and where to look."""
    return (f"[tasks] Installing into {folder.name} failed (pip's own message is above). Platform: {_platform_name()}; "
            f"Python {platform.python_version()} ({sys.executable}). "
            + (f"{note} " if note else "")
            + f"INSTALL.md (in {ROOT}) lists the platforms the pinned packages install on and what to do on the "
            f"others; a half-built {folder.name} is rebuilt on the next run.")


def ensure_teacher_env() -> None:
    """.venv-teacher: the classroom set, nbgrader (requirements/teacher.txt) and fmhelpers."""
    ensure_env(TEACHER_VENV, TEACHER_REQUIREMENTS)


def ensure_site_env() -> None:
    """.venv-site: what the website's build needs (requirements/site.txt), and fmhelpers."""
    ensure_env(SITE_VENV, SITE_REQUIREMENTS)


def run(*args: str, env: dict | None = None, python: Path = PYTHON) -> int:
    return subprocess.run([str(python), *args], cwd=ROOT, env=env).returncode


def lab() -> int:
    """JupyterLab on notebooks/, listening on the loopback address only, with a token; `lab PATH` opens the
    notebook PATH (a handed-out assignment) in its own folder, with the checkpoints it loads copied there."""
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers run as root
    if len(sys.argv) > 2:
        notebook = Path(sys.argv[2]).expanduser().resolve()
        if notebook.suffix != ".ipynb" or not notebook.is_file():
            sys.exit(f"usage: python3 tasks.py lab [NOTEBOOK.ipynb]; {sys.argv[2]} is not a notebook file")
        for name in checkpoints_for(notebook):
            target = notebook.parent / "checkpoints" / name
            if not target.exists():
                target.parent.mkdir(exist_ok=True)
                shutil.copy2(ROOT / "notebooks" / "checkpoints" / name, target)
                print(f"[tasks] copied checkpoints/{name} beside {notebook.name}", flush=True)
        return run("-m", "jupyterlab", "--ip=127.0.0.1", f"--notebook-dir={notebook.parent}", notebook.name, *as_root)
    return run("-m", "jupyterlab", "--ip=127.0.0.1", f"--notebook-dir={ROOT / 'notebooks'}", *as_root)


def checkpoints_for(notebook: Path) -> list[str]:
    """The files of notebooks/checkpoints/ whose names the notebook's code cells mention."""
    code = "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                     if c["cell_type"] == "code")
    folder = ROOT / "notebooks" / "checkpoints"
    return sorted(p.name for p in folder.glob("*") if p.is_file() and p.name in code) if folder.is_dir() else []


def _note_browser() -> None:
    chromium = shutil.which("chromium") or (Path("/usr/bin/chromium") if Path("/usr/bin/chromium").exists() else None)
    if not chromium:
        print("[tasks] NOTE: chromium was not found, so the browser test of the sliders is SKIPPED.\n"
              "[tasks]       Enable it with `sudo apt-get install chromium` (Debian/Ubuntu) and run again.", flush=True)


def _pytest(*args: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # notebooks draw inline
    return run("-m", "pytest", "-p", "no:cacheprovider", *args, env=env)


# The test command spreads the suite over pytest-xdist workers, a whole file (a notebook, a test module) to a
# worker at a time, and runs every worker and notebook kernel on one thread: on two cores that is about 1.6x
# faster than one pytest whose torch uses both (one-thread torch work is short next to Python's and numpy's).
MAX_WORKERS = 4  # each worker is a Python with torch (its largest process peaked at 1.7 GB here) plus a kernel


def _cores() -> int:
    """The cores this process may use (a container's share, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _parallel(args: list[str]) -> list[str]:
    """pytest-xdist's options for the cores here, or none where the caller chose (-n, --dist, -p) or debugs (--pdb)."""
    if _cores() < 2 or any(a.startswith(("-n", "--numprocesses", "--dist", "-p", "--pdb")) for a in args):
        return []
    return ["-n", str(min(_cores(), MAX_WORKERS)), "--dist", "loadfile"]


def _one_thread() -> None:
    """Torch (and the BLAS under numpy) on one thread in this process and what it starts, unless the user chose."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")


def test() -> int:
    """pytest on tests/ and, through nbval (strict), on every notebook, spread over the cores; the tests marked
    slow (trainings and benchmark smoke runs) are left out. `test --slow` runs those alone (.ci/run runs both)."""
    args = sys.argv[2:]
    _one_thread()
    if "--slow" in args:
        args.remove("--slow")
        return _pytest("tests", "-m", "slow", *_parallel(args), *args)
    _note_browser()
    chosen = any(a.startswith("-m") for a in args)  # the caller picks the markers
    select = [] if chosen else ["-m", "not slow"]
    if not chosen:
        print("[tasks] the tests marked slow (trainings, benchmark smoke runs) are left out here: "
              "`python3 tasks.py test --slow` runs them (CI does).", flush=True)
    return _pytest("tests", "notebooks", "--nbval", *SANITIZE, *select, *_parallel(args), *args)


def notebook() -> int:
    """One notebook alone: `python3 tasks.py notebook 04` runs it through nbval and, if it has a slider,
    the browser test of that slider and the notebook's anatomy checks."""
    if len(sys.argv) < 3:
        sys.exit("usage: python3 tasks.py notebook NUMBER-OR-NAME [pytest arguments], e.g. python3 tasks.py notebook 04")
    key = sys.argv[2]
    found = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb") if p.name.startswith(key) or p.stem == key)
    if len(found) != 1:
        sys.exit(f"notebook {key!r} matches {found or 'no notebook'} in notebooks/; give its number, e.g. 04")
    name = found[0]
    _note_browser()
    if _has_slider(ROOT / "notebooks" / name):
        os.environ["FM_BROWSER_NOTEBOOK"] = name  # the browser test drives this notebook's sliders
    return _pytest(f"notebooks/{name}", "tests/test_notebooks.py", "tests/test_browser.py", "--nbval", *SANITIZE,
                   "-k", f"{name} or {name.removesuffix('.ipynb')} or Cell", *sys.argv[3:])


def _notebooks(keys: list[str]) -> list[Path]:
    """The notebooks named by number or name (all of them for no key), or exit saying which is unknown."""
    every = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not keys:
        return every
    found = []
    for key in keys:
        match = [p for p in every if p.name.startswith(key) or p.stem == key]
        if len(match) != 1:
            sys.exit(f"notebook {key!r} matches {[p.name for p in match] or 'no notebook'} in notebooks/; give its number")
        found += match
    return found


def execute() -> int:
    """Run notebooks in place with their outputs and widget state stored (what a commit holds), torch on one
    thread as in the test command, so the stored outputs come from the arithmetic the tests repeat."""
    _one_thread()
    for path in _notebooks(sys.argv[2:]):
        print(f"[tasks] executing {path.name}", flush=True)
        code = run("-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                   "--ExecutePreprocessor.store_widget_state=True", "--ExecutePreprocessor.timeout=600",
                   "--ExecutePreprocessor.kernel_name=python3", str(path),
                   env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"})
        if code:
            return code
    return 0


def registry() -> list[dict]:
    """notebooks/registry.toml: one row per notebook (its sliders, checkpoints, benchmark, class)."""
    import tomllib  # Python 3.11+, imported here so that an older Python still gets check_python's message

    return tomllib.loads((ROOT / "notebooks" / "registry.toml").read_text())["notebook"]


def _has_slider(path: Path) -> bool:
    return any(row["sliders"] for row in registry() if row["file"] == path.name)


def notebook_benches() -> tuple[str, ...]:
    """The benchmarks `bench NAME` runs besides the training benchmark: each notebook's (registry.toml), and the
    exercises' compute times."""
    return (*dict.fromkeys(row["benchmark"] for row in registry() if row["benchmark"] not in ("", "benchmark")),
            "exercises")


def bench() -> int:
    """`bench`: training recipes and speed; `bench likelihood`: notebook 09's numbers; `bench straight`: notebook 07's;
    `bench meanflow`: notebook 08's; `bench guidance`: notebook 10's; `bench digits`: notebook 11's; `bench diffusion`:
    notebook 12's; `bench discrete`: notebook 13's; `bench exercises`: homework compute times."""
    name = sys.argv[2] if len(sys.argv) > 2 else None
    if name == "autograde":  # nbgrader: the teacher's environment
        ensure_teacher_env()
        _one_thread()
        return run("-m", "benchmarks.autograde", *sys.argv[3:], python=TEACHER_PYTHON)
    if name in notebook_benches():
        return run("-m", f"benchmarks.{name}", *sys.argv[3:])
    return run("-m", "benchmarks.benchmark", *sys.argv[2:])


def checkpoint() -> int:
    return run("scripts/make_checkpoint.py", *sys.argv[2:])


def classroom() -> int:
    """Write the nbgrader course (scripts/classroom.py), or with --test run the nbgrader test, in .venv-teacher."""
    ensure_teacher_env()
    args = sys.argv[2:]
    if "--test" in args:
        args.remove("--test")
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # notebooks draw inline
        env["FM_CLASSROOM_TEST"] = "1"  # here a missing nbgrader fails the test instead of skipping it
        return run("-m", "pytest", "-p", "no:cacheprovider", "tests/test_classroom.py", *args, env=env,
                   python=TEACHER_PYTHON)
    return run("scripts/classroom.py", "build", *args, python=TEACHER_PYTHON)


def audit() -> int:
    """The answer cells of the submissions that rebind fmhelpers (scripts/classroom.py audit)."""
    ensure_teacher_env()
    return run("scripts/classroom.py", "audit", *sys.argv[2:], python=TEACHER_PYTHON)


def nbgrader() -> int:
    """`nbgrader ARGS` run in the course folder, with the teacher's kernel (scripts/classroom.py)."""
    ensure_teacher_env()
    return run("scripts/classroom.py", "nbgrader", *sys.argv[2:], python=TEACHER_PYTHON)


def site() -> int:
    """Build the website (scripts/site.py) in .venv-site, or with --test run its browser test in .venv (pytest and
    Playwright are there), which builds the site with .venv-site's Python."""
    ensure_site_env()
    args = sys.argv[2:]
    if "--test" in args:
        args.remove("--test")
        ensure_env()
        env = dict(os.environ, FM_SITE_TEST="1", FM_SITE_PYTHON=str(SITE_PYTHON))  # here the test must not skip
        return run("-m", "pytest", "-p", "no:cacheprovider", "tests/test_site.py", *args, env=env)
    return run("scripts/site.py", *args, python=SITE_PYTHON)


COMMANDS = {"lab": lab, "test": test, "notebook": notebook, "execute": execute, "bench": bench,
            "checkpoint": checkpoint, "classroom": classroom, "nbgrader": nbgrader, "audit": audit, "site": site}
TEACHER_COMMANDS = {"classroom", "nbgrader", "audit"}  # these build .venv-teacher only, never the students' .venv
OWN_ENV_COMMANDS = TEACHER_COMMANDS | {"site"}  # these build the environment they need themselves

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    if sys.argv[1] not in OWN_ENV_COMMANDS:
        ensure_env()
    sys.exit(COMMANDS[sys.argv[1]]())
