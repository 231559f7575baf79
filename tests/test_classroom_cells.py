"""scripts/classroom.py without nbgrader: one exercise cell and its worked solution become nbgrader's answer
cell (the solution between its markers) and test cell (the check, with points); the student version that
nbgrader makes of it is the stub students see today; and every notebook in the exercise format converts,
each answer cell passing its own check. tests/test_classroom.py runs nbgrader itself (teacher's env)."""

import ast
import contextlib
import hashlib
import importlib.util
import io
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
_SPEC = importlib.util.spec_from_file_location("classroom", ROOT / "scripts" / "classroom.py")
classroom = sys.modules["classroom"] = importlib.util.module_from_spec(_SPEC)  # a dataclass needs its module there
_SPEC.loader.exec_module(classroom)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SETUP = {"math", "plt", "torch", "fm"}  # what notebook 01's Setup binds


def solutions(number: str):
    return classroom.Solutions.parse((SOLUTIONS / f"solutions_{number}.py").read_text())


def todays_stub(source: str) -> str:
    """An exercise cell as students see it today, without its check call, a raise's comment on a line above it."""
    lines = []
    for line in source.splitlines():
        match = re.match(r"(\s*)raise NotImplementedError(?:\(\))?\s*(#.*)?$", line)
        if line.startswith(classroom.CHECK_PREFIX):
            continue
        if match:
            lines += [match[1] + match[2]] if match[2] else []
            line = match[1] + "raise NotImplementedError"
        lines.append(line)
    return "\n".join(lines).strip()


def as_released(answer: str) -> str:
    """What nbgrader's student version shows, in today's spelling: its `# YOUR CODE HERE` line dropped."""
    cleared = classroom.clear_solutions(answer).replace("raise NotImplementedError()", "raise NotImplementedError")
    return "\n".join(line for line in cleared.splitlines() if line.strip() != "# YOUR CODE HERE").strip()


def run_cells(*sources: str, names: dict | None = None) -> tuple[dict, str]:
    namespace = dict(names or {})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for source in sources:
            exec(compile(source, "<cell>", "exec"), namespace)
    return namespace, out.getvalue()


def setup_names() -> dict:
    return run_cells("import math\nimport matplotlib.pyplot as plt\nimport torch\nimport fmhelpers as fm")[0]


# ---- one cell ---------------------------------------------------------------------------------------
IS_BLACK = '''def is_black(x):
    # Your job: the column and the row of each point's cell, black when column + row is odd.
    raise NotImplementedError

fm.exercises.check_is_black(is_black);'''


def test_a_function_stub_gets_its_solution_between_the_markers_and_its_check_in_a_test_cell():
    answer, test = classroom.exercise_cells("01.1", IS_BLACK, solutions("01"), SETUP)
    lines = answer.splitlines()
    assert lines[:2] == IS_BLACK.splitlines()[:2] and lines[2] == "    ### BEGIN SOLUTION"
    assert lines[-1] == "    ### END SOLUTION" and "torch.floor(x + 2)" in answer
    assert "    # 01.1: cell (column, row)" in answer  # the solution's docstring, as a comment for the grader
    assert "check_is_black" not in answer
    assert "assert _graded.exercises.check_is_black(is_black) is True, " in test
    assert "(1 point)" in test
    names, printed = run_cells(answer, test, names=setup_names())
    assert printed == "01.1: correct!\n"


def test_the_student_version_is_todays_stub():
    for number, source in [("01.1", IS_BLACK), ("01.2", "def gaussian_on_board():\n    raise NotImplementedError  "
                                                         "# Your job: return the exact probability\n\n"
                                                         "fm.exercises.check_gaussian_on_board(gaussian_on_board);")]:
        answer, _ = classroom.exercise_cells(number, source, solutions("01"), SETUP)
        assert as_released(answer) == todays_stub(source)
        assert "math.erf" not in classroom.clear_solutions(answer)


def test_the_unsolved_student_version_fails_its_test_cell():
    answer, test = classroom.exercise_cells("01.1", IS_BLACK, solutions("01"), SETUP)
    with pytest.raises(AssertionError, match="01.1: not solved yet"):
        run_cells(classroom.clear_solutions(answer), test, names=setup_names())


def test_a_class_stub_gets_each_method_body():
    source = '''class Quadratic(fm.Interpolant):
    def alpha(self, t):
        raise NotImplementedError  # Your job

    def beta(self, t):
        raise NotImplementedError  # Your job

    def d_alpha(self, t):
        raise NotImplementedError  # Your job

    def d_beta(self, t):
        raise NotImplementedError  # Your job

fm.exercises.check_schedule(Quadratic);'''
    answer, test = classroom.exercise_cells("02.1", source, solutions("02"), SETUP)
    assert answer.count("### BEGIN SOLUTION") == 4 and "        return -2 * (1 - t)" in answer
    assert as_released(answer) == todays_stub(source)
    assert run_cells(answer, test, names=setup_names())[1] == "02.1: correct!\n"


def test_two_stubs_and_an_argument_the_notebook_computed():
    source = '''def euler_factor(T):
    raise NotImplementedError  # Your job

def leading_coefficient():
    raise NotImplementedError  # Your job

fm.exercises.check_euler_decay(euler_factor, leading_coefficient);'''
    answer, test = classroom.exercise_cells("05.1", source, solutions("05"), SETUP)
    assert answer.count("### BEGIN SOLUTION") == 2 and "import math" not in answer  # the Setup imported it
    assert run_cells(answer, test, names=setup_names())[1] == "05.1: correct!\n"

    source = "def smallest_steps(fractions):\n    raise NotImplementedError\n\n" \
             "fm.exercises.check_smallest_steps(smallest_steps, fractions);"
    answer, test = classroom.exercise_cells("05.2", source, solutions("05"), SETUP | {"fractions"}, points=2)
    assert "assert _graded.exercises.check_smallest_steps(smallest_steps, fractions) is True" in test and "(2 points)" in test
    fractions = {1: 0.2, 4: 0.9, 16: 0.991, 64: 0.999}
    assert run_cells(answer, test, names={**setup_names(), "fractions": fractions})[1] == "05.2: correct!\n"


def test_an_import_the_notebook_lacks_goes_inside_the_solution():
    source = "def my_pairing(x_0, x_1):\n    raise NotImplementedError  # Your job\n\n" \
             "fm.exercises.check_ot_pairing(my_pairing);"
    answer, test = classroom.exercise_cells("07.1", source, solutions("07"), SETUP)
    assert "    import itertools\n" in answer and "import torch" not in answer
    assert as_released(answer) == todays_stub(source)
    assert run_cells(answer, test, names=setup_names())[1] == "07.1: correct!\n"


@pytest.mark.parametrize("source, solution, message", [
    ("def nothing():\n    raise NotImplementedError\n\nfm.exercises.check_is_black(nothing);", None,
     "no worked solution of that name"),
    ("def is_black(points):\n    raise NotImplementedError\n\nfm.exercises.check_is_black(is_black);", None,
     "take different arguments"),
    ("def is_black(x):\n    raise NotImplementedError\n", None, "does not call its check"),
    ("def is_black(x):\n    return x\n\nfm.exercises.check_is_black(is_black);", None, "ends in `raise NotImplementedError`"),
    ("def is_black(x):\n    raise NotImplementedError\n\nfm.exercises.check_is_black(is_black);",
     "import torch\nBOUND = 2\n\ndef is_black(x):\n    return (x.abs() <= BOUND).all(1)\n", "uses BOUND"),
    ("def is_black(x):\n    raise NotImplementedError\n\nfm.exercises.check_is_black(is_black);",
     "def is_black(x): return x\n", "lines of its own"),
])
def test_a_cell_that_does_not_fit_its_solution_is_refused_with_a_reason(source, solution, message):
    parsed = classroom.Solutions.parse(solution) if solution else solutions("01")
    with pytest.raises(ValueError, match=re.escape(message)):
        classroom.exercise_cells("01.1", source, parsed, SETUP)


def test_the_points_can_be_set_in_the_solutions_file():
    parsed = classroom.Solutions.parse((SOLUTIONS / "solutions_01.py").read_text() + '\nPOINTS = {"01.2": 3}\n')
    nb = classroom.convert(nbformat.read(NOTEBOOKS[0], as_version=4), parsed)
    points = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"] for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert points == {"check_01_1": 1, "check_01_2": 3}


# ---- whole notebooks --------------------------------------------------------------------------------
def test_a_statement_without_its_exercise_cell_is_refused():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Exercises\n\n**03.1** Write it."),
                                         nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError")])
    with pytest.raises(ValueError, match="03.1: the cell after its statement is not a code cell tagged `exercise`"):
        classroom.exercises(nb)
    nb.cells[0].source = "**03.1** Write it.\n\n**03.2** And this."
    with pytest.raises(ValueError, match="03.1 and 03.2 are stated in one cell"):
        classroom.exercises(nb)


def _converted(path: Path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    original = nbformat.read(path, as_version=4)
    nb = classroom.convert(original, solutions(path.name[:2]))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the repository's notebook is not changed
    return original, nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_in_the_exercise_format_converts_and_its_answers_pass(path):
    original = nbformat.read(path, as_version=4)
    if not any("exercise" in c.metadata.get("tags", []) for c in original.cells):
        pytest.skip(f"{path.name} is not in the exercise format yet (no cell tagged `exercise`)")
    original, nb = _converted(path)
    nbformat.validate(nb)
    exercises = classroom.exercises(original)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(answers) == len(tests) == len(exercises) > 0
    ids = [c.metadata.nbgrader["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-zA-Z0-9_\-]+", i) for i in ids)
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "markdown":
            assert meta["locked"] and not meta["grade"] and not meta["solution"]  # read-only
        elif meta is None:  # every other code cell is as it was, free to experiment with
            assert cell in original.cells
        else:
            assert cell.outputs == [] and cell.execution_count is None
            assert meta["locked"] == meta["grade"] and meta["grade"] != meta["solution"]
    setup = "\n".join(ast.unparse(n) for c in original.cells[:exercises[0][1]] if c.cell_type == "code"
                      for n in ast.parse("\n".join(l for l in c.source.splitlines() if not l.startswith("%"))).body
                      if isinstance(n, (ast.Import, ast.ImportFrom)))
    names = run_cells(setup)[0]
    for (number, index), answer, test in zip(exercises, answers, tests):
        assert as_released(answer.source) == todays_stub(original.cells[index].source), number
        (line,) = [line for line in test.source.splitlines() if line.startswith("assert _graded.")]
        call = ast.parse(line).body[0].test.left
        if {n.id for n in ast.walk(call) if isinstance(n, ast.Name)} - set(names) - \
                classroom.bound_names([answer.source, test.source]):
            continue  # the check takes a value the notebook computes: tests/test_classroom.py runs whole notebooks
        assert run_cells(answer.source, test.source, names=names)[1] == f"{number}: correct!\n", number


def test_building_a_course_writes_the_config_and_keeps_the_teachers(tmp_path):
    names = classroom.build(["01"], tmp_path)
    assert names == ["01_problem_setup"]
    config = (tmp_path / "nbgrader_config.py").read_text()
    assert 'os.path.join(HERE, "gradebook.db")' in config and "c.Execute.timeout" in config
    nb = nbformat.read(tmp_path / "source" / names[0] / f"{names[0]}.ipynb", as_version=4)
    assert sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in nb.cells) == 2
    (tmp_path / "nbgrader_config.py").write_text(config + "c.CourseDirectory.course_id = 'mine'\n")
    classroom.build(["01"], tmp_path)
    assert "'mine'" in (tmp_path / "nbgrader_config.py").read_text()
    with pytest.raises(SystemExit, match="no notebook 99"):
        classroom.build(["99"], tmp_path)
    if not all(any("exercise" in c.metadata.get("tags", []) for c in nbformat.read(p, as_version=4).cells)
               for p in NOTEBOOKS):  # while some notebook is not in the exercise format: it writes nothing
        with pytest.raises(SystemExit, match="the cell after its statement is not a code cell tagged"):
            classroom.build([], tmp_path / "all")
        assert not (tmp_path / "all").exists()


def test_nbgrader_runs_with_its_folders_inside_the_course(tmp_path):
    env = classroom.course_env(tmp_path, {"HOME": "/home/someone", "PATH": "/usr/bin", "MPLBACKEND": "Agg"})
    inside = [env[k] for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR")]
    assert all(Path(v).is_relative_to(tmp_path.resolve()) for v in inside)
    assert "MPLBACKEND" not in env and env["PATH"].endswith(":/usr/bin")
    kernel = json.loads((tmp_path / ".jupyter" / "data" / "kernels" / "python3" / "kernel.json").read_text())
    assert kernel["argv"][:3] == [sys.executable, "-m", "ipykernel_launcher"]  # this Python, where fmhelpers is


# ---- grading that a rebinding cannot buy, the students' copy, the cells skipped when grading -----------
def test_the_test_cell_grades_with_a_fresh_copy_that_rebinding_does_not_reach(capsys, monkeypatch):
    answer, test = classroom.exercise_cells("01.1", IS_BLACK, solutions("01"), SETUP,
                                            hidden=solutions("01").hidden["check_is_black"])
    names = setup_names()
    for module, name in [(names["fm"].exercises, "check_is_black"), (names["fm"], "in_checkerboard")]:
        monkeypatch.setattr(module, name, getattr(module, name))  # put back after the cheat below
    cheat = ("fm.exercises.check_is_black = lambda f: True\nfm.in_checkerboard = lambda x: None\n"
             "def is_black(x):\n    return x[:, 0] > 0")
    with pytest.raises(AssertionError, match="01.1"):
        run_cells(cheat, test, names=names)
    assert "### BEGIN HIDDEN TESTS" in test and "torch.floor" in test.split("### BEGIN HIDDEN TESTS")[1]
    with pytest.raises(AssertionError):  # the hidden test alone refuses it too, without fmhelpers
        run_cells(cheat, "import math, torch\n" + solutions("01").hidden["check_is_black"], names=names)
    assert run_cells(answer, test, names=setup_names())[1] == "01.1: correct!\n"


def test_a_sentence_pointing_to_the_solutions_is_taken_out():
    text = ("## Exercises\n\nEach exercise has a check. Worked solutions are in\n`solutions/solutions_01.py`; try "
            "first.\n\nSolutions: `solutions/solutions_02.py`.\n\n**01.1** Write it.")
    assert classroom.without_pointers(text) == "## Exercises\n\nEach exercise has a check.\n\n**01.1** Write it."


def test_the_audit_finds_assignments_to_the_package_and_nothing_else():
    cheat = ("import fmhelpers as f\nf.exercises.check_is_black = print\nsetattr(fm, 'x', 1)\n"
             "vars(fm)['y'] = 2\nimport torch\ntorch.equal = lambda a, b: True\nsys.modules['fmhelpers_graded'] = 3")
    found = classroom.rebindings(cheat)
    assert [line.split(":")[0] for line in found] == ["line 2", "line 3", "line 4", "line 6", "line 7"]
    assert classroom.rebindings("def is_black(x):\n    y = x.clone()\n    y[:, 0] = 1\n    return fm.in_checkerboard(y)") == []


def test_cells_nothing_graded_needs_are_skipped_and_the_rest_kept():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in [
        "import torch\nimport fmhelpers as fm",        # 0: needed (fm)
        "fractions = {1: 0.5}\nT = 3",                  # 1: needed (fractions)
        "fig = plt.figure()\nplt.plot([T])",            # 2: a plot: skipped
        "%matplotlib inline",                           # 3: a magic: kept
        "def smallest(fractions):\n    x = 1\n    return min(fractions)\n",  # 4: the answer
        "assert fm.exercises.check_smallest_steps(smallest, fractions) is True"]])  # 5: the test
    nb.cells[4].metadata["nbgrader"] = {"solution": True}
    nb.cells[5].metadata["nbgrader"] = {"grade": True}
    assert classroom.skippable(nb) == [2]
    script = classroom.SKIPPER.replace("{skip!r}", "'unused'")
    assert "input_transformers_cleanup" in script and "FM_GRADE_EVERY_CELL" in script
    key = classroom.cell_key("fig = plt.figure()\nplt.plot([T])\n")
    assert key == classroom.cell_key(nb.cells[2].source)


def test_an_assignment_gets_only_the_checkpoints_it_loads_and_autograde_takes_its_number(tmp_path):
    assert classroom.checkpoints_loaded(ROOT / "notebooks" / "05_euler_sampling.ipynb") == ["velocity_mlp.pt"]
    assert classroom.checkpoints_loaded(ROOT / "notebooks" / "01_problem_setup.ipynb") == []
    (tmp_path / "source" / "01_problem_setup").mkdir(parents=True)
    assert classroom.assignment_names(["autograde", "01", "--force"], tmp_path) == \
        ["autograde", "01_problem_setup", "--force"]


def test_the_grading_kernel_is_the_courses_own_with_its_skipper(tmp_path, monkeypatch):
    """In a virtual environment jupyter_core prefers the environment's own `python3` kernel to the one in
    JUPYTER_DATA_DIR: course_env turns that off, or grading would run without the skipper."""
    from jupyter_client.kernelspec import KernelSpecManager

    (tmp_path / "grading").mkdir()
    (tmp_path / "grading" / "skipper.py").write_text("")
    env = classroom.course_env(tmp_path, {"PATH": "/usr/bin"})
    for name in ("JUPYTER_PREFER_ENV_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        monkeypatch.setenv(name, env[name])
    argv = KernelSpecManager().get_kernel_spec("python3").argv
    assert argv[-1] == f"--IPKernelApp.exec_files={tmp_path.resolve() / 'grading' / 'skipper.py'}"
