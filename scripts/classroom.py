#!/usr/bin/env python3
"""The course as an nbgrader course: `python3 tasks.py classroom` and `python3 tasks.py nbgrader` call this.

    python scripts/classroom.py build [NN ...] [--out DIR]        write the course folder (default classroom/)
    python scripts/classroom.py nbgrader [--course DIR] ARGS...   run `nbgrader ARGS` in that folder

`build` reads each notebook and its worked solutions (notebooks/solutions/solutions_NN.py) and writes,
without changing either, `source/<notebook>/<notebook>.ipynb` in the course folder: every exercise cell
(a code cell tagged `exercise` after a `**NN.k**` statement) becomes two nbgrader cells,

  - an autograded answer: the stub, with each `raise NotImplementedError` line replaced by the worked
    solution's body between `### BEGIN SOLUTION` and `### END SOLUTION`, which `nbgrader
    generate_assignment` turns back into a stub (`# YOUR CODE HERE` / `raise NotImplementedError()`);
  - an autograder test, locked, worth POINTS[NN.k] points (1 unless the solutions file has a dict
    POINTS): `assert fm.exercises.check_<x>(...) is True`, the check the stub called.

Markdown cells are read-only; the other code cells stay as they are, free to experiment with (the checks
build their own inputs). The folder also gets `checkpoints/` when the notebook loads a model, and
`nbgrader_config.py` (kept if it exists): the gradebook `gradebook.db` in the folder (SQLite, nbgrader's
default). `nbgrader` runs with Jupyter's and IPython's folders inside the course folder, and a kernel that
is this Python (the teacher's environment, where fmhelpers is installed), so nothing outside is written.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
DEFAULT_COURSE = ROOT / "classroom"
COURSE_ID = "flow-matching"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STATEMENT = re.compile(r"^\*\*(\d\d\.\d+)\*\*", re.MULTILINE)  # a paragraph that starts **NN.k**
CHECK_PREFIX = "fm.exercises.check_"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
GRADED = "_graded.exercises."
# The first lines of every test cell: a fresh copy of fmhelpers, loaded from its files under another name
# (its modules are new objects, so no rebinding made by an answer cell reaches them).
FRESH = [
    "import importlib.util, sys",
    "for _name in [n for n in sys.modules if n.split('.')[0] == 'fmhelpers_graded']:",
    "    del sys.modules[_name]",
    "_fm, _spec = sys.modules.pop('fmhelpers', None), importlib.util.find_spec('fmhelpers')",
    "if _fm is not None:",
    "    sys.modules['fmhelpers'] = _fm",
    "_spec = importlib.util.spec_from_file_location('fmhelpers_graded', _spec.origin,",
    "                                               submodule_search_locations=_spec.submodule_search_locations)",
    "sys.modules['fmhelpers_graded'] = _graded = importlib.util.module_from_spec(_spec)",
    "_spec.loader.exec_module(_graded)",
]
# A sentence that points to the worked solutions: taken out of every notebook students get.
POINTER = re.compile(r"solutions/|solutions_\d\d")

CONFIG = f'''"""nbgrader's settings for this course, written by `python3 tasks.py classroom` (which keeps this file
once it exists: edit it freely). Run nbgrader through `python3 tasks.py nbgrader ...`, which uses them."""
import os

c = get_config()  # noqa: F821 (nbgrader provides it)
HERE = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "{COURSE_ID}"
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")  # nbgrader's default, made explicit
c.Exchange.root = os.path.join(HERE, "exchange")  # only for release_assignment/collect; the default is /srv
c.Execute.timeout = 900  # seconds per cell (nbgrader's default, 30, is too short for a training cell on a laptop)
c.OverwriteCells.add_missing_cells = True  # a test cell a student deleted is put back and run
'''


# ---- the pure part: one exercise cell and its solutions -> an answer cell and a test cell -------------
@dataclass
class Solutions:
    """What the exercise cells need from a solutions file: its functions and methods, its imports."""

    text: str
    functions: dict[str, ast.FunctionDef]  # "is_black", "Quadratic.alpha"
    imports: dict[str, str]                # bound name -> the import statement that binds it
    others: set[str]                       # the other names the module defines (functions, classes, constants)
    points: dict[str, float]               # POINTS, if the module has it
    hidden: dict[str, str] = None          # check name -> its hidden test (CHECKS[check]["hidden"])

    @classmethod
    def parse(cls, text: str) -> "Solutions":
        module = ast.parse(text)
        functions, imports, others, points, hidden = {}, {}, set(), {}, {}
        for node in module.body:
            if isinstance(node, ast.Import):
                imports.update({a.asname or a.name.split(".")[0]: ast.unparse(ast.Import([a])) for a in node.names})
            elif isinstance(node, ast.ImportFrom):
                imports.update({a.asname or a.name: ast.unparse(ast.ImportFrom(node.module, [a], node.level))
                                for a in node.names})
            elif isinstance(node, ast.FunctionDef):
                functions[node.name] = node
                others.add(node.name)
            elif isinstance(node, ast.ClassDef):
                others.add(node.name)
                functions.update({f"{node.name}.{m.name}": m for m in node.body if isinstance(m, ast.FunctionDef)})
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                others.update(names)
                if "POINTS" in names:
                    points = ast.literal_eval(node.value)
                if "CHECKS" in names:
                    hidden = _hidden_tests(node.value)
        return cls(text, functions, imports, others, points, hidden)

    def body(self, qualname: str) -> tuple[list[str], list[str], set[str]]:
        """The body of a function or method without its docstring, dedented; the docstring as comment lines;
        and the names of the module that the body uses."""
        node = self.functions[qualname]
        lines = self.text.splitlines()
        docstring = ast.get_docstring(node)
        statements = node.body[1:] if docstring is not None else node.body
        if not statements or statements[0].lineno == node.lineno:
            raise ValueError(f"solution {qualname}: write its body on lines of its own, after the def line")
        start = node.body[0].end_lineno if docstring is not None else statements[0].lineno - 1
        body = textwrap.dedent("\n".join(lines[start:statements[-1].end_lineno])).strip("\n").splitlines()
        comments = ["# " + line if line else "#" for line in (docstring or "").splitlines()]
        local = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        return body, comments, (used - local) & (set(self.imports) | self.others)


def _hidden_tests(table: ast.expr) -> dict[str, str]:
    """{check: its "hidden" test} from the literal CHECKS = {check: {..., "hidden": "code"}} of a solutions file."""
    found = {}
    for key, entry in zip(getattr(table, "keys", []), getattr(table, "values", [])):
        for field, value in zip(getattr(entry, "keys", []), getattr(entry, "values", [])):
            if isinstance(field, ast.Constant) and field.value == "hidden":
                found[ast.literal_eval(key)] = ast.literal_eval(value)
    return found


def without_pointers(text: str) -> str:
    """Markdown without the sentences that point to the worked solutions (a paragraph left empty goes too)."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        if POINTER.search(paragraph):
            sentences = re.split(r"(?<=[.!?])\s+", paragraph.replace("\n", " "))
            paragraph = " ".join(sent for sent in sentences if not POINTER.search(sent))
        if paragraph.strip():
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def _stubs(tree: ast.Module) -> list[tuple[str, ast.FunctionDef, ast.Raise]]:
    """(qualname, def, raise) for every function or method whose body ends in `raise NotImplementedError`."""
    found = []

    def visit(body, prefix):
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef):
                last = node.body[-1]
                exc = getattr(last, "exc", None)
                exc = exc.func if isinstance(exc, ast.Call) else exc
                if isinstance(last, ast.Raise) and isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                    found.append((prefix + node.name, node, last))

    visit(tree.body, "")
    return found


def _names(node: ast.arguments) -> list[str]:
    return [a.arg for a in (*node.posonlyargs, *node.args, node.vararg, *node.kwonlyargs, node.kwarg) if a]


def bound_names(sources: list[str]) -> set[str]:
    """The names that code cells bind at their top level (imports, defs, classes, assignments)."""
    names = set()
    for source in sources:
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update(a.asname or a.name.split(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
                names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return names


def exercise_cells(number: str, source: str, solutions: Solutions, known: set[str] = frozenset(),
                   points: float = 1, hidden: str | None = None) -> tuple[str, str]:
    """The exercise cell `source` of exercise `number` -> (the answer cell's source, the test cell's source).

    Each stub's `raise NotImplementedError` line (its comment kept on a line of its own) becomes the worked
    solution's body between nbgrader's markers, with the imports it needs that `known` (the names the
    notebook binds before the cell) lacks; the check calls `fm.exercises.check_...(...);` leave the cell for
    the test cell, each as `assert ... is True` on the check of a freshly loaded copy of the package, followed
    by the exercise's `hidden` test (CHECKS in its solutions file), if it has one, which nbgrader keeps out of
    the student version and runs when it grades.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    stubs = _stubs(tree)
    checks = [node for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
              and ast.unparse(node.value.func).startswith(CHECK_PREFIX)]
    if not stubs:
        raise ValueError(f"{number}: no function or method in the exercise cell ends in `raise NotImplementedError`")
    if not checks:
        raise ValueError(f"{number}: the exercise cell does not call its check, `{CHECK_PREFIX}...(...)`")
    defined = known | bound_names([source])
    replaced = {}
    for qualname, stub, raise_ in stubs:
        if qualname not in solutions.functions:
            raise ValueError(f"{number}: the stub `{qualname}` has no worked solution of that name")
        solution = solutions.functions[qualname]
        if _names(stub.args) != _names(solution.args):
            raise ValueError(f"{number}: the stub {qualname}({', '.join(_names(stub.args))}) and the worked solution "
                             f"{qualname}({', '.join(_names(solution.args))}) take different arguments")
        body, comments, used = solutions.body(qualname)
        missing = sorted(name for name in used - defined if name not in solutions.imports)
        if missing:
            raise ValueError(f"{number}: the solution of `{qualname}` uses {', '.join(missing)}, which the notebook "
                             f"does not define before the exercise")
        imports = [solutions.imports[name] for name in sorted(used - defined) if name in solutions.imports]
        line = lines[raise_.lineno - 1]
        indent = line[:len(line) - len(line.lstrip())]
        comment = line[raise_.end_col_offset:].strip()
        block = ([comment] if comment.startswith("#") else []) + [BEGIN, *comments, *imports, *body, END]
        replaced[raise_.lineno - 1] = [indent + b if b else "" for b in block]
    dropped = {i for node in checks for i in range(node.lineno - 1, node.end_lineno)}
    answer = [new for i, old in enumerate(lines) if i not in dropped for new in replaced.get(i, [old])]
    label = f"{number} ({points:g} point{'' if points == 1 else 's'})"
    test = [f"# {label}: the check prints one line and returns True for a right answer. It comes from a fresh copy",
            "# of fmhelpers loaded here, so nothing an answer cell rebinds (fm.exercises.check_..., fm's functions) counts.",
            *FRESH]
    test += [f"assert {GRADED}{ast.get_source_segment(source, node.value)[len(CHECK_PREFIX) - len('check_'):]} "
             f"is True, \"{number}: not solved yet, or not right: the line above says why\"" for node in checks]
    if hidden:
        test += [BEGIN_HIDDEN, "import math, torch  # the answer recomputed here, without fmhelpers",
                 *hidden.splitlines(), END_HIDDEN]
    return "\n".join(answer).rstrip(), "\n".join(test)


def clear_solutions(source: str) -> str:
    """What `nbgrader generate_assignment` makes of an answer cell (its ClearSolutions, for the tests)."""
    out, inside = [], False
    for line in source.split("\n"):
        if "BEGIN SOLUTION" in line:
            inside, indent = True, line[:len(line) - len(line.lstrip())]
            out += [indent + "# YOUR CODE HERE", indent + "raise NotImplementedError()"]
        elif "END SOLUTION" in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


# ---- one notebook -> its nbgrader source notebook ---------------------------------------------------
def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def exercises(nb) -> list[tuple[str, int]]:
    """(number, index of its exercise cell) for each `**NN.k**` statement; a statement must be followed by
    a code cell tagged `exercise`."""
    found = []
    for i, cell in enumerate(nb.cells):
        numbers = STATEMENT.findall(cell.source) if cell.cell_type == "markdown" else []
        if len(numbers) > 1:
            raise ValueError(f"{' and '.join(numbers)} are stated in one cell: each needs a cell of its own")
        if numbers:
            after = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
            if after is None or after.cell_type != "code" or "exercise" not in after.metadata.get("tags", []):
                raise ValueError(f"{numbers[0]}: the cell after its statement is not a code cell tagged `exercise`")
            found.append((numbers[0], i + 1))
    return found


def convert(nb, solutions: Solutions):
    """A copy of notebook `nb` as an nbgrader source notebook (see the module's docstring)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # a deep copy: the repository's notebook stays as it is
    at = dict((index, number) for number, index in exercises(nb))
    if not at:
        raise ValueError("the notebook has no exercise (a `**NN.k**` statement followed by a cell tagged `exercise`)")
    cells = []
    for i, cell in enumerate(nb.cells):
        if i in at:
            number = at[i]
            key = number.replace(".", "_")
            points = solutions.points.get(number, 1)
            known = bound_names([c.source for c in nb.cells[:i] if c.cell_type == "code"])
            called = re.findall(r"fm\.exercises\.(check_\w+)", cell.source)
            hidden = "\n".join(solutions.hidden[c] for c in called if c in (solutions.hidden or {})) or None
            answer, test = exercise_cells(number, cell.source, solutions, known, points, hidden)
            cell.source, cell.outputs, cell.execution_count = answer, [], None
            cell.metadata.pop("execution", None)
            cell.metadata["nbgrader"] = _meta(f"answer_{key}", solution=True)
            check = nbformat.v4.new_code_cell(test, id=f"check-{key.replace('_', '-')}")
            check.metadata["nbgrader"] = _meta(f"check_{key}", grade=True, locked=True, points=points)
            cells += [cell, check]
        else:
            if cell.cell_type == "markdown":
                cell.source = without_pointers(cell.source)
                cell.metadata["nbgrader"] = _meta(f"text_{i:03d}", locked=True)
            cells.append(cell)
    nb.cells = cells
    return nb


def checkpoints_loaded(path: Path) -> list[str]:
    """The files of notebooks/checkpoints/ the notebook at `path` loads: its row of notebooks/registry.toml
    (a test checks the row against the notebook's code)."""
    import tomllib

    rows = tomllib.loads((NOTEBOOKS / "registry.toml").read_text())["notebook"]
    return sorted(next(row["checkpoints"] for row in rows if row["file"] == path.name))


def _loaded_names(source: str) -> set[str] | None:
    """The global names a cell reads (in its functions too, less their arguments and local names), or None
    when the cell does not parse (a magic)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    free = set()

    def stored(nodes) -> set[str]:
        return {n.id for b in nodes for n in ast.walk(b) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    def visit(node, local: frozenset) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            body = node.body if isinstance(node.body, list) else [node.body]
            for outer in [*getattr(node, "decorator_list", []), *node.args.defaults, *node.args.kw_defaults]:
                if outer is not None:
                    visit(outer, local)
            inner = local | set(_names(node.args)) | stored(body)
            for statement in body:
                visit(statement, frozenset(inner))
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            local = frozenset(local | stored([g.target for g in node.generators]))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
            free.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(tree, frozenset())
    return free


def skippable(nb) -> list[int]:
    """The code cells that nothing graded needs: walking back from the last cell, a cell is kept if it is an
    answer or a test cell, or binds a name that a kept cell after it reads (then what it reads is needed
    too); a cell that binds nothing needed (a plot, a table, a demonstration) is skipped when grading."""
    needed, skip = set(), []
    for i in reversed(range(len(nb.cells))):
        cell = nb.cells[i]
        if cell.cell_type != "code":
            continue
        graded = "nbgrader" in cell.metadata and (cell.metadata.nbgrader.get("solution") or
                                                  cell.metadata.nbgrader.get("grade"))
        loaded = _loaded_names(cell.source)
        if graded or loaded is None or bound_names([cell.source]) & needed:
            needed |= loaded or set()
        else:
            skip.append(i)
    return sorted(skip)


def cell_key(source: str) -> str:
    """How the grading kernel recognises a cell to skip: the hash of its source, stripped."""
    return hashlib.sha256(source.strip().encode()).hexdigest()


# Run by the grading kernel at its start (course_env writes it): a cell whose source is one of those listed
# in grading/skip.json runs as `pass`, unless FM_GRADE_EVERY_CELL is set. Students' own kernels never see it.
SKIPPER = """import hashlib, json, os, pathlib
_SKIP = set(json.loads(pathlib.Path({skip!r}).read_text()))
def _skip_ungraded(lines):
    key = hashlib.sha256("".join(lines).strip().encode()).hexdigest()
    return ["pass  # not needed for grading: skipped by the grading kernel\\n"] if key in _SKIP else lines
if not os.environ.get("FM_GRADE_EVERY_CELL"):
    get_ipython().input_transformers_cleanup.append(_skip_ungraded)
"""


def build(keys: list[str], out: Path, student: bool = True) -> list[str]:
    """Write the course folder `out` for the notebooks named by number (all for none), and (unless `student`
    is False) the students' copy of the course, `out/student/` and `out/student.zip`; the assignment names."""
    every = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in every if not keys or any(p.name.startswith(k) or p.stem == k for k in keys)]
    unknown = [k for k in keys if not any(p.name.startswith(k) or p.stem == k for p in every)]
    if unknown or not chosen:
        raise SystemExit(f"no notebook {', '.join(unknown)} in notebooks/; give numbers, e.g. 01 02")
    converted = {}
    for path in chosen:  # all of them first: a notebook that does not convert leaves the folder as it was
        solutions = Solutions.parse((SOLUTIONS / f"solutions_{path.name[:2]}.py").read_text())
        try:
            converted[path] = convert(nbformat.read(path, as_version=4), solutions)
        except ValueError as exc:
            raise SystemExit(f"{path.name}: {exc}") from None
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "nbgrader_config.py").exists():
        (out / "nbgrader_config.py").write_text(CONFIG)
    grading = out / "grading"
    grading.mkdir(exist_ok=True)
    skip = set(json.loads((grading / "skip.json").read_text())) if (grading / "skip.json").exists() else set()
    for path, nb in converted.items():
        folder = out / "source" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / path.name)
        for name in checkpoints_loaded(path):  # only the checkpoints this notebook loads
            (folder / "checkpoints").mkdir(exist_ok=True)
            shutil.copy2(NOTEBOOKS / "checkpoints" / name, folder / "checkpoints" / name)
        skipped = skippable(nb)
        skip |= {cell_key(nb.cells[i].source) for i in skipped}
        points = sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells if "nbgrader" in c.metadata)
        print(f"[classroom] {folder.relative_to(out)}/{path.name}: {len(exercises(nb))} exercises, {points:g} points, "
              f"{len(skipped)} of {sum(c.cell_type == 'code' for c in nb.cells)} code cells skipped when grading")
    (grading / "skip.json").write_text(json.dumps(sorted(skip), indent=0))
    (grading / "skipper.py").write_text(SKIPPER.replace("{skip!r}", repr(str((grading / "skip.json").resolve()))))
    if student:
        write_student_version(chosen, out / "student")
    return [p.stem for p in chosen]


# ---- the students' copy: the course without the worked solutions, nor any sentence that points to them ----
STUDENT_FILES = ["fmhelpers", "requirements/classroom.txt", "pyproject.toml", "tasks.py", "INSTALL.md",
                 "environment.yml"]
STUDENT_README = """# Flow matching, step by step: your copy of the course

Two commands set it up and open it (Python 3.11 to 3.14; on Windows write `py` for `python3`):

    cd {folder}
    python3 tasks.py lab

The first run builds the environment `.venv` here (about 1.7 GB, a few minutes; INSTALL.md says what to
do if it fails), then opens JupyterLab on `notebooks/`. Work through the notebooks in order; each ends
with exercises, and each exercise cell calls a check that tells you whether your answer holds and, if
not, what is wrong with it. A notebook handed out on its own (an assignment) goes into `notebooks/`
beside the others, where its `checkpoints/` are found: `python3 tasks.py lab PATH` opens it there.
"""


def write_student_version(notebooks: list[Path], folder: Path) -> Path:
    """`folder`: the package, the notebooks (without sentences pointing to the solutions), the checkpoints
    they load, the install files and a README with the two-command setup; and `folder`.zip beside it."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "notebooks" / "checkpoints").mkdir(parents=True)
    for name in STUDENT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif source.exists():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = without_pointers(cell.source)
        nbformat.write(nb, folder / "notebooks" / path.name)
        for name in checkpoints_loaded(path):
            shutil.copy2(NOTEBOOKS / "checkpoints" / name, folder / "notebooks" / "checkpoints" / name)
    for guide in folder.glob("*.md"):  # INSTALL.md without its teacher's sections
        sections = re.split(r"(?m)^(?=## )", guide.read_text())
        guide.write_text(without_pointers("".join(t for t in sections if "nbgrader" not in t and not POINTER.search(t))))
    (folder / "README.md").write_text(STUDENT_README.format(folder=folder.name))
    shutil.make_archive(str(folder), "zip", root_dir=folder.parent, base_dir=folder.name)
    print(f"[classroom] students' copy (no solutions): {folder} and {folder.name}.zip")
    return folder


# ---- a teacher's look at the submissions: answer cells that rebind the package --------------------------
def rebindings(source: str) -> list[str]:
    """The lines of an answer cell that assign to an attribute of fmhelpers or of any module it imports
    (fm.x = ..., setattr(fm, ...), fm.exercises.__dict__[...] = ..., torch.equal = ...), or reach the grading
    copy (_graded) or sys.modules."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    roots = {"fm", "fmhelpers", "torch", "np", "math", "sys", "importlib"}
    roots |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
              for a in n.names}
    lines = source.splitlines()
    found = []

    def root(node):
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):  # fm.a.b, fm.__dict__[k], vars(fm)[k]
            node = node.value if not isinstance(node, ast.Call) else (node.args[0] if node.args else node.func)
        return node.id if isinstance(node, ast.Name) else None

    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        hit = any(isinstance(t, (ast.Attribute, ast.Subscript)) and root(t) in roots for t in targets)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("setattr", "delattr"):
            hit = True  # whatever it sets: an answer has no need of it
        if isinstance(node, (ast.Attribute, ast.Name)) and (getattr(node, "attr", None) == "modules" or
                                                           getattr(node, "id", None) == "_graded"):
            hit = True
        if hit and hasattr(node, "lineno"):
            found.append(f"line {node.lineno}: {lines[node.lineno - 1].strip()}")
    return sorted(set(found))


def audit(paths: list[Path]) -> int:
    """Print, for each notebook under `paths`, the answer cells that rebind the package; 1 if any does."""
    notebooks = [q for p in paths for q in (sorted(p.rglob("*.ipynb")) if p.is_dir() else [p])]
    count = 0
    for path in notebooks:
        if ".ipynb_checkpoints" in path.parts:
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and not meta.get("grade"):
                for line in rebindings(cell.source):
                    count += 1
                    print(f"{path}: cell {meta.get('grade_id', cell.get('id', '?'))}, {line}")
    print(f"[classroom] {count} rebinding(s) of fmhelpers in {len(notebooks)} notebook(s)"
          + (": grade these by hand" if count else ""))
    return 1 if count else 0


# ---- running nbgrader inside the course folder -------------------------------------------------------
def course_env(course: Path, base: dict | None = None) -> dict:
    """The environment nbgrader runs in: Jupyter's, IPython's and matplotlib's folders inside the course
    folder, a kernel `python3` that is this Python (written there), and this environment's scripts first
    on the PATH, as if it were activated."""
    course = Path(course).resolve()
    here = course / ".jupyter"
    env = {k: v for k, v in (os.environ if base is None else base).items() if k != "MPLBACKEND"}  # inline figures
    # JUPYTER_PREFER_ENV_PATH=0: the kernel written here, not the environment's own `python3` (which jupyter_core
    # prefers in a virtual environment), so that grading runs on it (and its skipper)
    env.update(JUPYTER_PREFER_ENV_PATH="0", JUPYTER_CONFIG_DIR=str(here / "config"), JUPYTER_DATA_DIR=str(here / "data"),
               JUPYTER_RUNTIME_DIR=str(here / "runtime"), IPYTHONDIR=str(here / "ipython"),
               MPLCONFIGDIR=str(here / "matplotlib"),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))  # nbgrader runs `alembic`
    # nbgrader's own gradebook code makes SQLAlchemy warn "Object of type <SubmittedAssignment> not in session,
    # add operation ... will not proceed" on every autograde: harmless (nbgrader adds the objects itself), so hidden
    filters = [f for f in env.get("PYTHONWARNINGS", "").split(",") if f]
    env["PYTHONWARNINGS"] = ",".join(filters + ["ignore:Object of type:RuntimeWarning"])
    kernel = here / "data" / "kernels" / "python3"
    kernel.mkdir(parents=True, exist_ok=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 f"--IPKernelApp.exec_files={course / 'grading' / 'skipper.py'}"]
                if (course / "grading" / "skipper.py").exists() else
                [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (the teacher's environment)", "language": "python"}, indent=1))
    return env


def run_nbgrader(course: Path, args: list[str], base_env: dict | None = None) -> int:
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise SystemExit(f"{course} is not a course folder: write it first with `python3 tasks.py classroom`")
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          env=course_env(course, base_env)).returncode


def assignment_names(args: list[str], course: Path) -> list[str]:
    """`autograde 01` -> `autograde 01_problem_setup`: a bare number names the notebook's assignment, as the
    other commands take it (a number that matches no assignment in source/ is left as it is)."""
    known = sorted(p.name for p in (course / "source").glob("*")) if (course / "source").is_dir() else []
    out = []
    for arg in args:
        match = [k for k in known if re.fullmatch(r"\d\d", arg) and k.startswith(arg + "_")]
        out.append(match[0] if len(match) == 1 else arg)
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["nbgrader"]:
        rest = argv[1:]
        course = DEFAULT_COURSE
        if rest[:1] == ["--course"] and len(rest) > 1:
            course, rest = Path(rest[1]), rest[2:]
        return run_nbgrader(course, assignment_names(rest, Path(course)))
    if argv[:1] == ["audit"]:
        return audit([Path(a) for a in argv[1:]] or [DEFAULT_COURSE / "submitted"])
    parser = argparse.ArgumentParser(prog="python3 tasks.py classroom", description="Write the nbgrader course.")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("notebooks", nargs="*", help="notebook numbers (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_COURSE, help="the course folder (default: classroom/)")
    args = parser.parse_args(argv)
    names = build(args.notebooks, args.out.resolve())
    print(f"[classroom] course in {args.out}; next: python3 tasks.py nbgrader "
          f"{'--course ' + str(args.out) + ' ' if args.out.resolve() != DEFAULT_COURSE else ''}"
          f"generate_assignment {names[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
