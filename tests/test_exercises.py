"""The exercises: every worked solution passes its check, unsolved answers are told so, each known wrong
answer gets its own hint, an answer of the wrong form is told what is wrong with it, no check states an
answer, and no exercise's answer appears in its notebook before it.

The tables are in the solutions files: `CHECKS` in notebooks/solutions/solutions_NN.py gives each check
its worked solution and its known wrong answers, each with the key of the hint it must get."""

import importlib.util
import inspect
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import fmhelpers as fm
from badinput import table_test
from fmhelpers import exercises as ex

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULES = {path.stem[-2:]: _load(path.stem) for path in sorted(SOLUTIONS.glob("solutions_*.py"))}
CHECKS = {check: (number, entry) for number, module in MODULES.items() for check, entry in module.CHECKS.items()}
WRONG = [(check, key) for check, (_, entry) in sorted(CHECKS.items()) for key in entry["wrong"]]


def _exercise(check):
    """"01.2" for check_gaussian_on_board: the number its docstring starts with."""
    return getattr(ex, check).__doc__.split(":")[0].strip()


def _checks():
    return {n for n, f in vars(ex).items() if n.startswith("check_") and getattr(f, "__module__", "") == ex.__name__}


@pytest.fixture(autouse=True)
def _first_try():
    """Every test starts with no failed tries on record (the strongest hints come after a few)."""
    ex._attempts.clear()
    yield
    ex._attempts.clear()


def test_every_check_has_a_solution_and_two_wrong_answers_each_with_a_hint_of_its_own():
    assert set(CHECKS) == _checks()
    for check, (number, entry) in CHECKS.items():
        hints = ex.HINTS[_exercise(check)]
        assert len(entry["wrong"]) >= 2 and set(entry["wrong"]) <= set(hints) - {"general"}, check
        assert _exercise(check).startswith(number), check


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_worked_solution_passes_its_check(check, capsys):
    result = getattr(ex, check)(*CHECKS[check][1]["solution"])
    assert result is True and type(result) is bool
    assert "correct!" in capsys.readouterr().out


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_an_unsolved_exercise_says_so(check, capsys):
    def unsolved(*args):
        raise NotImplementedError

    args = [unsolved if callable(a) else a for a in CHECKS[check][1]["solution"]]
    if check == "check_schedule":
        class Unsolved(fm.Interpolant):  # every method raises NotImplementedError, as in the stub
            pass
        args = [Unsolved]
    assert getattr(ex, check)(*args) is None
    assert "not solved yet" in capsys.readouterr().out


@pytest.mark.parametrize("check, key", WRONG)
def test_each_wrong_answer_gets_its_own_hint(check, key, capsys):
    number = _exercise(check)
    assert getattr(ex, check)(*CHECKS[check][1]["wrong"][key]) is False
    out = capsys.readouterr().out
    assert f"{number}: not yet: {ex.HINTS[number][key]}" in out, out
    assert "further hint" not in out  # the first try never gets the strongest hint


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_strongest_hint_comes_after_a_few_tries_and_never_in_class(check, capsys):
    number = _exercise(check)
    key, wrong = next(iter(CHECKS[check][1]["wrong"].items()))
    outs = []
    for _ in range(ex.GIVE_AWAY_AFTER):
        getattr(ex, check)(*wrong)
        outs.append(capsys.readouterr().out)
    assert all("further hint" not in out for out in outs[:-1])
    if number in ex.STRONG and number not in ex.IN_CLASS:
        assert ex.STRONG[number] in outs[-1]
    else:
        assert "further hint" not in outs[-1]


# ---- no answers for free: no check's docstring, hint or message states a worked answer's value ------
def _spellings(value: float) -> set[str]:
    """How a number would appear in a sentence: 0.4555 and 0.456 for 0.45550; nothing for a round number."""
    value = abs(float(value))
    if value == round(value) or value < 1e-3:
        return set()
    return {f"{value:.4f}", f"{value:.3f}", f"{value:.4f}".rstrip("0")}


def _answer_values(check) -> set[str]:
    """The spellings of what each worked solution that takes no argument returns, and of the values of
    06.1's at the times its notebook asks about."""
    values = set()
    for f in CHECKS[check][1]["solution"]:
        if callable(f) and not isinstance(f, type) and not inspect.signature(f).parameters:
            got = f()
            for v in (got if isinstance(got, tuple) else (got,)):
                values |= set() if isinstance(v, str) else _spellings(v)  # a name (12.2's) is among the offered choices
    if check == "check_mass_in_square":
        values |= {s for t in (0.1, 0.3, 0.5) for s in _spellings(CHECKS[check][1]["solution"][0](t))}
    if check == "check_euler_decay":
        values |= _spellings(CHECKS[check][1]["solution"][1]())
    return values


def _everything_a_check_says(check, capsys) -> str:
    """Its docstring, its hints and strongest hint, and what it prints for its solution and each wrong answer."""
    number = _exercise(check)
    said = [getattr(ex, check).__doc__, *ex.HINTS[number].values(), ex.STRONG.get(number, "")]
    ex._attempts[number] = ex.GIVE_AWAY_AFTER  # every wrong answer below also shows the strongest hint
    for args in [CHECKS[check][1]["solution"], *CHECKS[check][1]["wrong"].values()]:
        getattr(ex, check)(*args)
    return "\n".join(said) + capsys.readouterr().out


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_no_check_states_an_answer(check, capsys):
    values = _answer_values(check)
    said = _everything_a_check_says(check, capsys)
    assert [v for v in values if v in said] == []


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_no_docstring_or_first_hint_holds_the_exercises_key_expression(check):
    """The key expression of each exercise (KEYS in its solutions file, central to the answer) is not in the
    check's docstring nor in a hint given before the strongest one."""
    number = _exercise(check)
    key = MODULES[number[:2]].KEYS[number]
    for text in [getattr(ex, check).__doc__, *ex.HINTS[number].values()]:
        assert not _contains(text, key), (number, key, text)


def test_the_answer_scan_can_fail(capsys, monkeypatch):
    """A hint that states 02.2's answer is caught; a round number is not scanned for."""
    monkeypatch.setitem(ex.HINTS["02.2"], "middle", "not the middle: t* = 0.4286")
    said = _everything_a_check_says("check_smallest_variance", capsys)
    assert [v for v in sorted(_answer_values("check_smallest_variance")) if v in said] == ["0.4286"]
    assert _spellings(2.0) == set() and "0.946" in _spellings(0.94601)


def test_the_check_sees_the_notebooks_own_numbers(capsys):
    """05.2 on the notebook's numbers: 16 steps reach 0.9900, not 0.995; 32 steps do."""
    assert ex.check_smallest_steps(lambda f: 32, MODULES["05"].NOTEBOOK_FRACTIONS) is True


@pytest.mark.slow
def test_a_monte_carlo_answer_passes_where_the_exercise_allows_one(capsys):
    """03.2 allows an estimate: the floor at t = 0.001 and t = 0.999 from 100,000 pairs passes."""
    g = torch.Generator().manual_seed(0)
    x_0, x_1 = fm.sample_gaussian(100_000, generator=g).double(), fm.sample_checkerboard(100_000, generator=g).double()
    path = fm.LinearInterpolant()

    def floor(t):
        x_t = path.interpolate(x_0, x_1, t)
        return float((x_1 - x_0 - fm.marginal_velocity(x_t, t)).pow(2).sum(1).mean())

    estimate = (floor(0.001), floor(0.999))
    assert ex.check_floor_limits(lambda: estimate) is True


def test_a_correct_answer_written_in_place_is_accepted(capsys):
    """x += ... moved the check's own points, so a correct answer was told "not yet"."""

    def meanflow_in_place(model, x_0, n_steps):
        x = x_0
        for k in range(n_steps):
            x += model(x, k / n_steps, (k + 1) / n_steps) / n_steps
        return x

    def cell_field_in_place(x, t, c):
        v = MODULES["03"].v_cell(x, t, c)
        x.mul_(0.0)  # a careless answer that overwrites its input after use
        return v

    assert ex.check_meanflow_sampler(meanflow_in_place) is True
    assert ex.check_cell_field(cell_field_in_place) is True

    def guided_in_place(x, c, w):
        x.mul_(-1)
        x += w * (fm.black_cells()[c] + 0.5)
        return x

    assert ex.check_guided_at_start(guided_in_place) is True


def test_an_answer_of_the_wrong_form_is_told_what_is_wrong(capsys):
    s01, s04 = MODULES["01"], MODULES["04"]
    assert ex.check_late_times(lambda n, g: torch.randint(0, 2, (n, 1), generator=g)) is False  # integers
    assert "torch.int64 values; the exercise expects real numbers" in capsys.readouterr().out
    assert ex.check_late_times(lambda n, g: s04.sample_late(n, g).reshape(-1)) is False  # (n,) for (n, 1)
    assert "shape (200000,); the exercise expects (200000, 1) (it has the right number of values" in capsys.readouterr().out
    assert ex.check_late_times(lambda n, g: s04.sample_late(n, g).numpy()) is True  # NumPy is a tensor's equal
    assert ex.check_late_times(lambda n, g: s04.sample_late(n, g).tolist()) is False
    assert "a tensor (or a NumPy array) of shape (200000, 1); got list" in capsys.readouterr().out
    assert ex.check_is_black(lambda x: s01.is_black(x).long()) is True  # 0/1 integers are a mask too
    assert ex.check_is_black(lambda x: s01.is_black(x)[:, None]) is False
    assert "shape (2000, 1); the exercise expects (2000,)" in capsys.readouterr().out

    class PythonFloat(MODULES["02"].Quadratic):  # alpha(t) is the Python float 1.0: refused by the constructor
        def alpha(self, t):
            return 1.0

    assert ex.check_schedule(PythonFloat) is False
    assert "alpha(1) must be 0.0" in capsys.readouterr().out
    assert ex.check_smallest_variance(lambda: 3 / 7) is False  # one number where two are asked
    assert "should be 2 numbers" in capsys.readouterr().out
    assert ex.check_gaussian_on_board(lambda: "0.3") is False
    assert "should be one real number; got str" in capsys.readouterr().out
    assert ex.check_guided_at_start(lambda x, c, w: [[0.0, 0.0]] * len(x)) is False
    assert "got list" in capsys.readouterr().out


def test_the_fixed_defects_of_the_checks(capsys):
    """A correct np.int64 answer gives True (not np.True_); None or strings from a pairing are judged, not a crash."""
    result = ex.check_smallest_steps(lambda f: np.int64(16), {1: 0.2, 4: 0.9, 16: 0.996})
    assert result is True and type(result) is bool
    assert ex.check_ot_pairing(lambda a, b: None) is False
    assert ex.check_ot_pairing(lambda a, b: ["a", "b", "c", "d", "e", "f"]) is False
    assert ex.check_ot_pairing(lambda a, b: [0, 1, 2, 3, 4, 4]) is False
    assert capsys.readouterr().out.count("should be a permutation of range(6)") == 3


def test_exercise_checks_accept_float64_float32_numpy_and_python_numbers(capsys):
    exact = MODULES["01"].gaussian_on_board()
    assert ex.check_gaussian_on_board(lambda: np.float64(exact)) is True
    assert ex.check_gaussian_on_board(lambda: torch.tensor(exact, dtype=torch.float64)) is True
    assert ex.check_gaussian_on_board(lambda: np.array([exact])) is True
    assert ex.check_x1_minimiser(lambda x, t: fm.marginal_posterior_mean(x.float(), t)) is True
    assert ex.check_x1_minimiser(lambda x, t: fm.marginal_posterior_mean(x, t).numpy()) is True
    assert ex.check_smallest_variance(lambda: np.array(MODULES["02"].smallest_variance(), dtype=np.float32)) is True
    assert ex.check_floor_limits(lambda: [torch.tensor(8 / 3), np.float64(2.0)]) is True
    assert capsys.readouterr().out.count("correct!") == 7


# ---- no spoilers: each exercise's key expression does not appear in its notebook before it -------
def _exercises_of(notebook: Path) -> dict[str, int]:
    """{"04.1": index of the markdown cell that states it} for every exercise of the notebook."""
    cells = json.loads(notebook.read_text())["cells"]
    found = {}
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        statements = re.findall(r"^\*\*(\d\d\.\d)\*\*", "".join(cell["source"]), flags=re.M)
        assert len(statements) <= 1, f"{notebook.name}, cell {i}: one exercise statement a cell, got {statements}"
        found.update({number: i for number in statements})
    return found


def _tokens(text: str) -> list[str]:
    """Words and single symbols: "(1 - t)**2" and "(1-t) ** 2" read the same, "and tr" is not "ndtr"."""
    return re.findall(r"\w+|[^\w\s]", text)


def _contains(text: str, key: str) -> bool:
    hay, needle = _tokens(text), _tokens(key)
    return any(hay[i:i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


NUMBERED = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", NUMBERED, ids=lambda p: p.stem)
def test_no_exercise_is_answered_before_it_is_asked(notebook):
    number = notebook.name[:2]
    solutions = _load(f"solutions_{number}")
    exercises = _exercises_of(notebook)
    assert set(solutions.KEYS) == set(exercises), "KEYS must name every exercise of the notebook"
    cells = json.loads(notebook.read_text())["cells"]
    for exercise, index in exercises.items():
        key = solutions.KEYS[exercise]
        before = [i for i, cell in enumerate(cells[:index]) if _contains("".join(cell["source"]), key)]
        assert before == [], f"{exercise}: its key expression {key!r} is already in cell(s) {before}"
        assert _contains((SOLUTIONS / f"solutions_{number}.py").read_text(), key), f"{exercise}: the key is not in the solution"


@pytest.mark.parametrize("notebook", NUMBERED, ids=lambda p: p.stem)
def test_each_exercise_is_a_stub_cell_with_its_check(notebook):
    """The cell after each exercise's statement is tagged `exercise`, raises NotImplementedError until
    solved, and calls its check: the shape `python3 tasks.py classroom` turns into nbgrader cells."""
    cells = json.loads(notebook.read_text())["cells"]
    for exercise, index in _exercises_of(notebook).items():
        code = cells[index + 1]
        source = "".join(code["source"])
        assert code["cell_type"] == "code" and "exercise" in code["metadata"].get("tags", []), exercise
        assert "raise NotImplementedError" in source and "fm.exercises.check_" in source, exercise


def test_the_key_test_can_fail(tmp_path):
    """A notebook that states the answer before the exercise is caught."""
    cells = [{"cell_type": "markdown", "source": "the answer is 8/3", "metadata": {}},
             {"cell_type": "markdown", "source": "**03.2** What is it?", "metadata": {}}]
    (tmp_path / "03_x.ipynb").write_text(json.dumps({"cells": cells}))
    index = _exercises_of(tmp_path / "03_x.ipynb")["03.2"]
    assert _contains(cells[0]["source"], "8 / 3") and index == 1
    assert not _contains("expand the mass, then the d", "ndtr") and _contains("torch.special.ndtr(hi)", "ndtr")


def test_the_digits_solutions_pass_and_accept_other_kinds_of_answers(capsys):
    import numpy as np

    s11 = MODULES["11"]
    assert ex.check_log_odds(s11.log_odds) is True
    assert ex.check_log_odds(lambda t, d: np.float32(s11.log_odds(t, d))) is True  # float32 within 1e-6
    assert ex.check_log_odds(lambda t, d: torch.tensor(s11.log_odds(t, d))) is True
    assert ex.check_hutchinson(s11.my_hutchinson) is True

    def gaussian_probes_float32(velocity, x, t, n_probes, generator):  # Gaussian probes are fine too
        x = x.detach().requires_grad_(True)
        v = velocity(x, torch.full((len(x), 1), float(t), dtype=x.dtype))
        total = 0
        for _ in range(n_probes):
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            (grad,) = torch.autograd.grad((v * eps).sum(), x, retain_graph=True)
            total = total + (grad * eps).sum(dim=1)
        return (total / n_probes).float().detach()

    def in_place(velocity, x, t, n_probes, generator):  # moves the points it was given
        out = s11.my_hutchinson(velocity, x, t, n_probes, generator)
        x += 1.0
        return out.numpy()

    assert ex.check_hutchinson(gaussian_probes_float32) is True
    assert ex.check_hutchinson(in_place) is True
    s10 = MODULES["10"]
    assert ex.check_guided_at_start(lambda x, c, w: s10.guided_at_start(x, c, w).float().numpy()) is True
    assert ex.check_trig_gain(lambda t: np.float32(s10.gain(t))) is True
    assert ex.check_trig_gain(lambda t: torch.tensor(s10.gain(t), dtype=torch.float64)) is True
    assert capsys.readouterr().out.count("correct!") == 9


def _wrong_arity(n_args: int):
    """A callable that takes one argument more than the check calls it with."""
    f = lambda *args: None  # noqa: E731
    f.__signature__ = inspect.Signature([inspect.Parameter(f"a{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                         for i in range(n_args + 1)])
    return f


def _bad_rows() -> dict:
    """Generated from CHECKS: each argument of each check replaced by a string (refused, naming the
    argument), and each callable argument by one that takes the wrong number of arguments (refused,
    naming the argument and the signature it is called with)."""
    rows = {}
    for check, (_, entry) in CHECKS.items():
        f = getattr(ex, check)
        names = list(inspect.signature(f).parameters)
        good = list(entry["solution"])
        for i, name in enumerate(names):
            args = good[:i] + ["answer"] + good[i + 1:]
            rows[f"{check} {name} a string"] = (lambda f=f, args=args: f(*args), TypeError, name)
            if callable(good[i]) and not isinstance(good[i], type):
                n_args = len(inspect.signature(good[i]).parameters)
                args = good[:i] + [_wrong_arity(n_args)] + good[i + 1:]
                rows[f"{check} {name} of {n_args + 1} arguments"] = (lambda f=f, args=args: f(*args), TypeError,
                                                                        rf"{name} must take {n_args} arguments?, called as")
    rows["check_schedule cls an instance"] = (lambda: ex.check_schedule(fm.LinearInterpolant()), TypeError, "cls")
    rows["check_smallest_steps fractions a list"] = (lambda: ex.check_smallest_steps(lambda f: 4, [0.2, 0.9]),
                                                     TypeError, "fractions")
    return rows


BAD = _bad_rows()  # an argument of the wrong kind is named, not a crash deep inside
test_bad_input = table_test(BAD)


def test_the_keys_of_an_exercise_are_not_given_away_before_it():
    """Each solutions file with KEYS names, for each exercise, a string central to its answer: it is in
    the worked solution and in no cell of the notebook up to the exercise's own text."""
    import nbformat

    for path in sorted(SOLUTIONS.glob("solutions_*.py")):
        module = _load(path.stem)
        keys = getattr(module, "KEYS", None)
        if keys is None:
            continue
        number = path.stem.split("_")[1]
        (notebook,) = (SOLUTIONS.parent).glob(f"{number}_*.ipynb")
        cells = nbformat.read(notebook, as_version=4).cells
        source = path.read_text()
        for exercise, key in keys.items():
            assert key in source, (exercise, key)
            text = next(i for i, c in enumerate(cells) if f"**{exercise}**" in c.source)  # the exercise's own text
            assert not any(key in c.source for c in cells[:text + 1]), (exercise, key)
        assert set(getattr(module, "ANSWERS", {})) <= set(keys)
