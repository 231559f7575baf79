"""tasks.py, the course's one entry point: it refuses a Python the pins do not install on, up front."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
tasks = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(tasks)


@pytest.mark.parametrize("version", [(3, 11), (3, 12), (3, 13), (3, 14)])
def test_supported_versions_pass(version):
    assert tasks.check_python(version) is None


@pytest.mark.parametrize("version", [(3, 9), (3, 10), (3, 15), (2, 7)])
def test_other_versions_are_refused_with_what_to_install(version):
    message = tasks.check_python(version)
    assert f"Python {version[0]}.{version[1]}" in message and "3.11 to 3.14" in message and "python3.12" in message


def test_the_docs_state_the_checked_range():
    assert "Python 3.11 to 3.14" in (ROOT / "README.md").read_text()
    install = (ROOT / "INSTALL.md").read_text()
    assert "Python 3.11, 3.12, 3.13 and 3.14" in install and "3.10" in install


def test_the_teachers_environment_is_the_classroom_set_plus_pinned_nbgrader():
    """nbgrader goes into .venv-teacher only; a change of teacher.txt rebuilds that one, not the students'."""
    teacher = [line.split("#")[0].strip() for line in tasks.TEACHER_REQUIREMENTS.read_text().splitlines()]
    assert "-r classroom.txt" in teacher and "nbgrader==0.9.6" in teacher
    assert all("==" in line for line in teacher if line and not line.startswith("-r"))
    assert "nbgrader" not in tasks.REQUIREMENTS.read_text()
    assert tasks.TEACHER_VENV != tasks.VENV and tasks.TEACHER_PYTHON.is_relative_to(tasks.TEACHER_VENV)
    assert tasks._fingerprint(tasks.TEACHER_REQUIREMENTS) != tasks._fingerprint()
    assert tasks.TEACHER_COMMANDS == {"classroom", "nbgrader"} <= set(tasks.COMMANDS)


def test_the_website_has_its_own_pinned_environment_without_the_classroom_set():
    """Sphinx and MyST-NB go into .venv-site only, and the site is built from stored outputs: no torch there."""
    site = [line.split("#")[0].strip() for line in tasks.SITE_REQUIREMENTS.read_text().splitlines()]
    site = [line for line in site if line]
    assert {"sphinx==9.0.4", "myst-nb==1.4.0", "sphinx-book-theme==1.4.0"} <= set(site)
    assert all("==" in line for line in site) and not any(line.startswith(("-r", "torch")) for line in site)
    assert "sphinx" not in tasks.REQUIREMENTS.read_text().lower()
    assert tasks.SITE_VENV not in (tasks.VENV, tasks.TEACHER_VENV) and tasks.SITE_PYTHON.is_relative_to(tasks.SITE_VENV)
    assert "site" in tasks.COMMANDS and tasks.OWN_ENV_COMMANDS == tasks.TEACHER_COMMANDS | {"site"}


def test_the_suite_is_spread_over_the_cores_unless_the_caller_chose(monkeypatch):
    """Whole files per worker (nbval runs a notebook's cells in order on one kernel), at most MAX_WORKERS."""
    monkeypatch.setattr(tasks, "_cores", lambda: 2)
    assert tasks._parallel([]) == ["-n", "2", "--dist", "loadfile"]
    monkeypatch.setattr(tasks, "_cores", lambda: 64)
    assert tasks._parallel(["-k", "marginal"]) == ["-n", str(tasks.MAX_WORKERS), "--dist", "loadfile"]
    for chosen in (["-n", "0"], ["-n0"], ["--numprocesses=3"], ["--dist", "load"], ["-p", "no:xdist"], ["--pdb"]):
        assert tasks._parallel(chosen) == [], chosen
    monkeypatch.setattr(tasks, "_cores", lambda: 1)
    assert tasks._parallel([]) == []
