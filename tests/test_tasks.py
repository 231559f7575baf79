"""tasks.py, the course's one entry point: it refuses a Python the pins do not install on, up front."""

import ast
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
    assert tasks.TEACHER_COMMANDS == {"classroom", "nbgrader", "audit"} <= set(tasks.COMMANDS)


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


def test_a_python_too_old_to_run_tasks_py_reads_it_up_to_the_friendly_message():
    """Python 3.6 to 3.10 parse the file and stop at the version check before anything else runs; an older
    one stops with a SyntaxError on the line that says what is needed (Python 2.7 and 3.5 quote it)."""
    source = (ROOT / "tasks.py").read_text()
    ast.parse(source, feature_version=(3, 6))
    assert "__future__" not in source
    first_f_string = next(line for line in source.splitlines() if 'f"' in line)
    assert first_f_string.startswith("_TOO_OLD = ") and "Python 3.11 to 3.14" in first_f_string and "INSTALL.md" in first_f_string
    assert source.index("_TOO_OLD") < source.index("def ")


@pytest.mark.parametrize("system, machine, mac, trouble", [
    ("Darwin", "x86_64", "13.6", "Intel Mac"), ("Darwin", "arm64", "13.6", "macOS 14 or later"),
    ("Darwin", "arm64", "14.5", None), ("Linux", "x86_64", "", None), ("Windows", "AMD64", "", None)])
def test_the_platforms_known_not_to_install_are_named_before_pip_runs(system, machine, mac, trouble):
    warning = tasks.platform_problem(system, machine, mac)
    assert (warning is None) if trouble is None else (trouble in warning and "INSTALL.md" in warning)


def test_a_failed_install_ends_in_one_paragraph_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tasks.subprocess, "run", lambda *a, **k: tasks.subprocess.CompletedProcess(a, 1))
    monkeypatch.setattr(tasks.venv, "EnvBuilder", lambda **k: type("B", (), {"create": lambda self, f: None})())
    (tmp_path / "bin").mkdir()
    with pytest.raises(SystemExit) as info:
        tasks.ensure_env(tmp_path / ".venv-x")
    message = str(info.value)
    assert "failed" in message and "INSTALL.md" in message and tasks.platform.python_version() in message
    assert "\n" not in message and "Traceback" not in message


def test_lab_path_copies_only_the_checkpoints_a_handed_out_notebook_loads(tmp_path):
    notebook = tmp_path / "05_euler_sampling.ipynb"
    notebook.write_text((ROOT / "notebooks" / "05_euler_sampling.ipynb").read_text())
    assert tasks.checkpoints_for(notebook) == ["velocity_mlp.pt"]


def test_a_failed_venv_ends_in_the_same_paragraph(tmp_path, monkeypatch):
    def refuse(**kwargs):
        raise tasks.subprocess.CalledProcessError(1, ["python", "-m", "ensurepip"])

    monkeypatch.setattr(tasks.venv, "EnvBuilder", refuse)
    with pytest.raises(SystemExit) as info:
        tasks.ensure_env(tmp_path / ".venv-y")
    assert "INSTALL.md" in str(info.value) and "python3-venv" in str(info.value)


def test_the_test_command_leaves_the_slow_tests_to_test_slow_which_ci_runs(monkeypatch):
    """`tasks.py test` deselects the tests marked slow unless the caller picks markers; `test --slow` runs only
    those, over tests/; .ci/run calls both, so no slow test goes unrun."""
    calls = []
    monkeypatch.setattr(tasks, "_pytest", lambda *args: calls.append(args) or 0)
    monkeypatch.setattr(tasks, "_note_browser", lambda: None)
    for argv in (["test"], ["test", "--slow"], ["test", "-m", "browser"]):
        monkeypatch.setattr(tasks.sys, "argv", ["tasks.py", *argv])
        assert tasks.test() == 0
    default, slow, chosen = calls
    assert "notebooks" in default and default[default.index("-m") + 1] == "not slow"
    assert "notebooks" not in slow and slow[slow.index("-m") + 1] == "slow" and "--slow" not in slow
    assert chosen.count("-m") == 1 and chosen[chosen.index("-m") + 1] == "browser"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 tasks.py test ||" in ci and "python3 tasks.py test --slow ||" in ci


def test_no_file_holds_a_merge_conflict_marker():
    """A merge resolved in a hurry can leave its markers in prose, where no import or notebook run notices."""
    skip = {".venv", ".venv-teacher", ".venv-site", ".git", "build", "classroom", "node_modules"}
    found = []
    for path in ROOT.rglob("*"):
        if path.suffix in {".py", ".md", ".toml", ".txt", ".yml", ".cfg", ".ipynb"} and not skip & set(path.relative_to(ROOT).parts):
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(ROOT)}:{i}" for i, line in enumerate(text.splitlines(), 1)
                      if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "======="]
    assert not found, found
