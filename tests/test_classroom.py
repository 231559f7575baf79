"""End to end with nbgrader: `python3 tasks.py classroom` builds the course for notebook 01, `nbgrader
generate_assignment` makes the student version (its exercise cells are today's stubs), and `nbgrader
autograde` grades four submissions: the worked solutions get full marks, the untouched stubs zero, one
wrong answer (01.2: the Gaussian's mass on the whole square) loses exactly that exercise's points, and a
cheat (wrong answers, with every check and every function of fmhelpers rebound to return True) gets zero;
`audit` lists the cheat's rebindings and nobody else's. The students' copy holds no solution.

It needs nbgrader, which is in the teacher's environment only: `python3 tasks.py classroom --test` runs
it there (.ci/run calls it right after the README's test command; building that environment and running
this take 2.5 to 4 minutes on two cores, too much for the test command's budget). Elsewhere it is
skipped, except under that command (FM_CLASSROOM_TEST=1), where a missing nbgrader fails it.
Everything is written under pytest's tmp_path, HOME included, which must stay empty.
"""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from test_classroom_cells import as_released, todays_stub

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "classroom.py"
NOTEBOOK = ROOT / "notebooks" / "01_problem_setup.ipynb"
ASSIGNMENT = NOTEBOOK.stem
WRONG = ("answer_01_2", "math.erf(2 / math.sqrt(2)) ** 2 / 2", "math.erf(math.sqrt(2)) ** 2")  # the whole square
STUDENTS = ("solved", "stubs", "one_wrong", "cheat")
CHEAT = {  # every check, and every function of every fmhelpers module, rebound to return True; wrong answers
    "answer_01_1": """import sys
import torch
import fmhelpers as fm
fm.exercises.check_is_black = lambda *args, **kwargs: True
for _module in [m for n, m in list(sys.modules.items()) if n.split(".")[0] == "fmhelpers"]:
    for _name, _value in list(vars(_module).items()):
        if callable(_value) and not isinstance(_value, type):
            setattr(_module, _name, lambda *args, **kwargs: True)
def is_black(x):
    return torch.zeros(len(x), dtype=torch.bool)""",
    "answer_01_2": """fm.exercises.check_gaussian_on_board = lambda f: True
def gaussian_on_board():
    return 0.5""",
}

pytestmark = pytest.mark.classroom


def _digest(*paths: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


def _run(env: dict, *args: str) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"


def _cells(path: Path) -> dict:
    """{grade_id: cell} of a notebook's nbgrader cells."""
    nb = nbformat.read(path, as_version=4)
    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def _submit(course: Path, student: str, answers: dict) -> None:
    """The student version with each answer cell's source replaced by answers[grade_id], where given."""
    nb = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        cell.source = answers.get(cell.metadata.get("nbgrader", {}).get("grade_id"), cell.source)
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    try:
        from nbgrader.api import Gradebook
    except ImportError:
        message = ("nbgrader is not installed in this environment: the nbgrader test runs in the teacher's, with "
                   "`python3 tasks.py classroom --test` (which .ci/run runs after the test command)")
        if os.environ.get("FM_CLASSROOM_TEST"):
            pytest.fail(message + " (which must not skip it)")
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("classroom")
    home = tmp / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env.pop(name, None)  # the command sets them: nothing here may hide one it forgets
    course = tmp / "course"
    repository = _digest(NOTEBOOK, ROOT / "notebooks" / "solutions" / "solutions_01.py")

    _run(env, "build", "01", "--out", str(course))
    _run(env, "nbgrader", "--course", str(course), "generate_assignment", ASSIGNMENT)
    solved = {gid: "\n".join(line for line in cell.source.splitlines() if "SOLUTION" not in line)  # as typed in
              for gid, cell in _cells(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").items()
              if cell.metadata.nbgrader["solution"]}
    _submit(course, "solved", solved)
    _submit(course, "stubs", {})
    gid, right, wrong = WRONG
    assert right in solved[gid]
    _submit(course, "one_wrong", {**solved, gid: solved[gid].replace(right, wrong)})
    _submit(course, "cheat", CHEAT)
    _run(env, "nbgrader", "--course", str(course), "autograde", "01")  # the number names the assignment
    audit = subprocess.run([sys.executable, str(SCRIPT), "audit", str(course / "submitted")], env=env,
                           capture_output=True, text=True)

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        checks = [c.name for c in assignment.notebooks[0].grade_cells]
        scores = {s: gradebook.find_submission(ASSIGNMENT, s).score for s in STUDENTS}
        cells = {s: {c: gradebook.find_grade(c, ASSIGNMENT, ASSIGNMENT, s).score for c in checks} for s in STUDENTS}
        points = {c.name: c.max_score for c in assignment.notebooks[0].grade_cells}
        most = assignment.max_score
    return {"course": course, "home": home, "repository": repository, "max": most, "scores": scores,
            "cells": cells, "points": points, "audit": audit}


def test_the_source_version_holds_each_solution_and_a_graded_check(course):
    cells = _cells(course["course"] / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert {g for g, c in cells.items() if c.metadata.nbgrader["solution"]} == {"answer_01_1", "answer_01_2"}
    assert course["points"] == {"check_01_1": 1, "check_01_2": 1} and course["max"] == 2
    assert "### BEGIN SOLUTION" in cells["answer_01_2"].source and "math.erf(2 / math.sqrt(2))" in cells["answer_01_2"].source


def test_the_student_version_shows_todays_stubs(course):
    today = {number: todays_stub(c.source) for number, c in zip(("answer_01_1", "answer_01_2"),
             [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if "exercise" in c.metadata.get("tags", [])])}
    released = _cells(course["course"] / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    for gid, stub in today.items():
        source = released[gid].source
        assert "raise NotImplementedError()" in source and "# YOUR CODE HERE" in source and "SOLUTION" not in source
        assert as_released(source) == stub, gid
    for gid in ("check_01_1", "check_01_2"):  # the checks are there, and locked
        assert released[gid].source.count("assert _graded.exercises.check_") == 1
        assert released[gid].metadata["editable"] is False and released[gid].metadata["deletable"] is False
        assert "HIDDEN" not in released[gid].source and "math.erf" not in released[gid].source  # kept for grading
    source = _cells(course["course"] / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert "### BEGIN HIDDEN TESTS" in source["check_01_2"].source


def test_no_released_sentence_points_to_the_solutions(course):
    nb = nbformat.read(course["course"] / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert not [c.source for c in nb.cells if "solutions/" in c.source or "solutions_01" in c.source]
    assert any("solutions/solutions_01.py" in c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells)


def test_autograde_gives_full_marks_zero_and_loses_exactly_the_wrong_exercise(course):
    scores, cells, points = course["scores"], course["cells"], course["points"]
    print("scores:", scores, "of", course["max"])
    assert scores["solved"] == course["max"] == sum(points.values())
    assert scores["stubs"] == 0
    assert cells["one_wrong"] == {"check_01_1": points["check_01_1"], "check_01_2": 0}
    assert scores["one_wrong"] == course["max"] - points["check_01_2"]
    assert scores["cheat"] == 0 and set(cells["cheat"].values()) == {0}


def test_the_audit_lists_the_cheats_rebindings_only(course):
    audit = course["audit"]
    print(audit.stdout)
    assert audit.returncode == 1
    listed = [line for line in audit.stdout.splitlines() if "submitted" in line]
    assert listed and all("/cheat/" in line for line in listed)
    assert any("fm.exercises.check_is_black = " in line for line in listed)
    assert any("setattr(_module, _name" in line for line in listed)
    assert any("check_gaussian_on_board = " in line for line in listed)


def test_the_students_copy_has_no_solutions_and_its_own_setup(course):
    student = course["course"] / "student"
    files = [p for p in student.rglob("*") if p.is_file()]
    assert not (student / "notebooks" / "solutions").exists() and (student / "tasks.py").is_file()
    assert (course["course"] / "student.zip").is_file()
    for path in files:
        if path.suffix in (".md", ".py", ".ipynb", ".txt", ".toml", ".yml"):
            text = path.read_text()
            assert "solutions/" not in text and not re.search(r"solutions_\d\d", text), path
    assert "python3 tasks.py lab" in (student / "README.md").read_text()
    assert sorted(p.name for p in (student / "notebooks").glob("*.ipynb")) == [NOTEBOOK.name]


def test_nothing_is_written_outside_the_course_folder(course):
    assert list(course["home"].iterdir()) == []  # no ~/.jupyter, ~/.ipython, ~/.cache, ~/.local
    assert (course["course"] / "gradebook.db").is_file()
    assert _digest(NOTEBOOK, ROOT / "notebooks" / "solutions" / "solutions_01.py") == course["repository"]
