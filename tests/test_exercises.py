"""The exercises: every worked solution passes its check, unsolved and wrong answers do not, every
correct form of an answer is accepted, and no exercise's answer appears in its notebook before it."""

import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, table_test
from fmhelpers import exercises as ex

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"


def _coarse_mass(t, n):
    """06.1's midpoint rule on n x n cells (a coarse grid, for a wrong answer)."""
    g = -2.0 + (4.0 / n) * (torch.arange(n, dtype=torch.float64) + 0.5)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    return (fm.marginal_density(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1), t).sum() * (4.0 / n) ** 2).item()


def _load(name):
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOLVED = {  # check -> (solutions file, the solution's names in the order the check takes them, or values)
    "check_is_black": ("01", ["is_black"]),
    "check_gaussian_on_board": ("01", ["gaussian_on_board"]),
    "check_schedule": ("02", ["Quadratic"]),
    "check_smallest_variance": ("02", ["smallest_variance"]),
    "check_cell_field": ("03", ["v_cell"]),
    "check_floor_limits": ("03", ["floor_limits"]),
    "check_x1_minimiser": ("04", ["minimiser"]),
    "check_late_times": ("04", ["sample_late"]),
    "check_euler_decay": ("05", ["euler_factor", "leading_coefficient"]),
    "check_smallest_steps": ("05", ["smallest_steps", {1: 0.2, 4: 0.9, 16: 0.991, 64: 0.999}]),
    "check_mass_in_square": ("06", ["mass_in_square"]),
    "check_radius": ("06", ["radius_at"]),
    "check_ot_pairing": ("07", ["my_pairing"]),
    "check_decay_straightness": ("07", ["straightness_decay"]),
    "check_decay_identity": ("08", ["vbar_decay", "dvbar_dt"]),
    "check_meanflow_sampler": ("08", ["my_sample"]),
    "check_divergence_fd": ("09", ["my_divergence"]),
    "check_trig_score": ("09", ["score_at"]),
    "check_guided_at_start": ("10", ["guided_at_start"]),
    "check_trig_gain": ("10", ["gain"]),
    "check_log_odds": ("11", ["log_odds"]),
    "check_hutchinson": ("11", ["my_hutchinson"]),
}


def _solution_args(name):
    number, parts = SOLVED[name]
    module = _load(f"solutions_{number}")
    return [getattr(module, p) if isinstance(p, str) else p for p in parts]


def _checks():
    return {n for n, f in vars(ex).items() if n.startswith("check_") and getattr(f, "__module__", "") == ex.__name__}


@pytest.mark.parametrize("name", sorted(SOLVED))
def test_the_worked_solution_passes_its_check(name, capsys):
    assert getattr(ex, name)(*_solution_args(name)) is True
    assert "correct!" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(SOLVED))
def test_an_unsolved_exercise_says_so(name, capsys):
    def unsolved(*args):
        raise NotImplementedError

    args = [unsolved if callable(a) else a for a in _solution_args(name)]
    if name == "check_schedule":
        class Unsolved(fm.Interpolant):  # every method raises NotImplementedError, as in the stub
            pass
        args = [Unsolved]
    assert getattr(ex, name)(*args) is None
    assert "not solved yet" in capsys.readouterr().out


def _linear_quadratic_beta():
    class HalfRight(fm.Interpolant):  # beta is the exercise's, alpha stays linear: valid, but not the schedule asked
        def alpha(self, t):
            return 1 - t

        def beta(self, t):
            return 1 - (1 - t) ** 2

        def d_alpha(self, t):
            return -torch.ones_like(t)

        def d_beta(self, t):
            return 2 * (1 - t)

    return HalfRight


def _broken_alpha():
    class BrokenAlpha(fm.LinearInterpolant):
        def alpha(self, t):
            return 1 - t / 2

    return BrokenAlpha


def _forward_difference(velocity, x, t, h=0.1):
    """A one-sided difference with a large step: first order, off by about h."""
    t = torch.full((len(x), 1), float(t), dtype=x.dtype)
    return sum((velocity(x + h * e, t)[:, i] - velocity(x, t)[:, i]) / h
               for i, e in enumerate(torch.eye(2, dtype=x.dtype)))


def _one_coordinate(velocity, x, t):
    """Central differences that forget the second coordinate (and double the first to hide it)."""
    s9 = _load("solutions_09")
    return 2 * s9.my_divergence(lambda y, s: velocity(y, s) * torch.tensor([1.0, 0.0], dtype=y.dtype), x, t)


def _sample_with(model, x, n, same_time=False, unit_step=False):
    """Mean-flow sampling gone wrong: u(x, t, t) (Euler with the instantaneous velocity), or a step of 1."""
    with torch.no_grad():
        for k in range(n):
            t = torch.full((len(x), 1), k / n)
            s = t if same_time else torch.full((len(x), 1), (k + 1) / n)
            x = x + (1.0 if unit_step else 1 / n) * model(x, t, s)
    return x


def _hutchinson_wrong(velocity, x, t, n_probes, generator, *, derivative=True, probe=None):
    """Hutchinson gone wrong: eps . v without the derivative, or probes that are not centred (uniform in [0, 1))."""
    x = x.detach().requires_grad_(True)
    v = velocity(x, torch.full((len(x), 1), float(t), dtype=x.dtype))
    total = torch.zeros(len(x), dtype=x.dtype)
    for _ in range(n_probes):
        eps = (probe(x.shape, generator=generator, dtype=x.dtype) if probe is not None
               else (torch.randint(0, 2, x.shape, generator=generator) * 2 - 1).to(x.dtype))
        if derivative:
            (grad,) = torch.autograd.grad((v * eps).sum(), x, retain_graph=True)
            total = total + (grad * eps).sum(dim=1)
        else:
            total = total + (v * eps).sum(dim=1)
    return (total / n_probes).detach()


def _in_board(x):
    return ((x >= -2) & (x <= 2)).all(dim=1)


def _partial_only(x, t, s):
    """d vbar / d t with x held fixed: the transport term (d vbar / d x) v is missing."""
    h = s - t
    return x * (math.exp(-h) - 1) / h**2 + x * math.exp(-h) / h


def _trig_field(x, t):
    return fm.marginal_velocity(x, t, interpolant=fm.TrigInterpolant())


NOTEBOOK_FRACTIONS = {8: 0.9543, 16: 0.9900, 32: 0.9987, 64: 1.0}  # 05.2 on the notebook's own numbers

# at least two plausible wrong answers per check, each told "not yet"; a tuple holds all arguments
WRONG = {
    "check_is_black": [lambda x: (torch.floor(x + 2).long().sum(1) % 2 == 1),                 # forgot the square
                       lambda x: _in_board(x) & (torch.floor(x + 2).long().sum(1) % 2 == 0)],  # white cells
    "check_gaussian_on_board": [lambda: math.erf(math.sqrt(2)) ** 2,          # the whole square
                                lambda: math.erf(2) ** 2 / 2,                 # P(|Z| < 2) written erf(2)
                                lambda: 0.4555 + 0.0016],                     # a Monte Carlo estimate, 1e5 samples
    "check_schedule": [_linear_quadratic_beta(), _broken_alpha()],
    "check_smallest_variance": [lambda: (0.5, 7 / 12), lambda: (4 / 7, 3 / 7), lambda: (0.0, 1.0)],
    "check_cell_field": [lambda x, t, c: (fm.black_cells()[c].to(x.dtype) + 0.5 - x) / (1 - t),  # to the centre
                         lambda x, t, c: x / t,                                                  # no truncation
                         lambda x, t, c: fm.marginal_velocity(x, t)],                            # the whole board
    "check_floor_limits": [lambda: (2.0, 8 / 3), lambda: (4 / 3, 1.0), lambda: (0.0, 0.0)],
    "check_x1_minimiser": [lambda x, t: fm.marginal_velocity(x, t), lambda x, t: x, lambda x, t: torch.zeros_like(x)],
    "check_late_times": [lambda n, g: torch.rand(n, 1, generator=g), lambda n, g: torch.rand(n, 1, generator=g) ** 2],
    "check_euler_decay": [(lambda T: (1 - 1 / T) ** (T - 1), lambda: -math.exp(-1) / 2),
                          (lambda T: (1 - 1 / T) ** T, lambda: math.exp(-1) / 2),
                          (lambda T: (1 - 1 / T) ** T, lambda: -0.5)],
    "check_smallest_steps": [(lambda f: 16, NOTEBOOK_FRACTIONS),     # the old 0.99 threshold
                             (lambda f: max(f), NOTEBOOK_FRACTIONS)],  # the largest T
    "check_mass_in_square": [lambda t: 1.0, lambda t: _coarse_mass(t, 40) + 0.002],
    "check_radius": [lambda t: 2.0, lambda t: 2 * (1 - t) + t * 8 / 3],
    "check_ot_pairing": [lambda a, b: torch.arange(6),                                   # identity
                         lambda a, b: b[:, 0].argsort()[a[:, 0].argsort().argsort()]],   # sorted by x
    "check_decay_straightness": [lambda: 1 - math.exp(-2), lambda: 2 * (1 - math.exp(-1)) ** 2,
                                 lambda: ((1 - math.exp(-2)) - 2 * (1 - math.exp(-1)) ** 2) / 2],
    "check_decay_identity": [(lambda x, t, s: _load("solutions_08").vbar_decay(x, t, s), _partial_only),
                             (lambda x, t, s: _load("solutions_08").vbar_decay(x, t, s),
                              lambda x, t, s: -_load("solutions_08").dvbar_dt(x, t, s)),
                             (lambda x, t, s: -x, lambda x, t, s: torch.zeros_like(x))],
    "check_meanflow_sampler": [lambda m, x, n: _sample_with(m, x, n, same_time=True),
                               lambda m, x, n: _sample_with(m, x, n, unit_step=True)],
    "check_divergence_fd": [_forward_difference, _one_coordinate],
    "check_trig_score": [lambda x, t: (t * _trig_field(x, t) - x) / (1 - t),                      # the linear formula
                         lambda x, t: 2 / math.pi * math.tan(math.pi * t / 2) * _trig_field(x, t) + x,  # sign of x
                         lambda x, t: math.tan(math.pi * t / 2) * _trig_field(x, t) - x],          # no 2 / pi
    "check_guided_at_start": [lambda x, c, w: fm.black_cells()[c] + 0.5 - x,              # ignores w
                              lambda x, c, w: w * (fm.black_cells()[c] + 0.5 - x)],       # scales the class field
    "check_trig_gain": [lambda t: (1 - t) / t,                                             # the linear path's
                        lambda t: math.pi / 2 * math.tan(math.pi * t / 2),                 # tan for cot
                        lambda t: 1 / math.tan(math.pi * t / 2)],                          # no pi / 2
    "check_log_odds": [lambda t, d: t * d**2 / (2 * (1 - t)),         # forgot the squares of t and 1 - t
                       lambda t, d: t**2 * d**2 / (1 - t) ** 2],       # forgot the 1/2
    "check_hutchinson": [lambda v, x, t, n, g: _hutchinson_wrong(v, x, t, n, g, derivative=False),  # eps . v
                         lambda v, x, t, n, g: _hutchinson_wrong(v, x, t, n, g, probe=torch.rand),  # uniform probes
                         lambda v, x, t, n, g: n * _load("solutions_11").my_hutchinson(v, x, t, n, g)],  # summed
}


def test_every_check_has_a_solution_and_two_wrong_answers():
    assert set(WRONG) == _checks() == set(SOLVED)
    assert all(len(answers) >= 2 for answers in WRONG.values())


@pytest.mark.parametrize("name, index", [(n, i) for n, answers in WRONG.items() for i in range(len(answers))])
def test_a_wrong_answer_is_told_not_yet(name, index, capsys):
    answer = WRONG[name][index]
    check = getattr(ex, name)
    result = check(*answer) if isinstance(answer, tuple) else check(answer)
    assert result is False and "not yet" in capsys.readouterr().out


def test_the_check_sees_the_notebooks_own_numbers(capsys):
    """05.2 on the notebook's numbers: 16 steps reach 0.9900, not 0.995; 32 steps do."""
    assert ex.check_smallest_steps(lambda f: 32, NOTEBOOK_FRACTIONS) is True


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
        v = _load("solutions_03").v_cell(x, t, c)
        x.mul_(0.0)  # a careless answer that overwrites its input after use
        return v

    assert ex.check_meanflow_sampler(meanflow_in_place) is True
    assert ex.check_cell_field(cell_field_in_place) is True

    def guided_in_place(x, c, w):
        x.mul_(-1)
        x += w * (fm.black_cells()[c] + 0.5)
        return x

    assert ex.check_guided_at_start(guided_in_place) is True


def test_answers_of_an_awkward_kind_are_judged_not_crashed(capsys):
    assert ex.check_late_times(lambda n, g: torch.randint(0, 2, (n, 1), generator=g)) is False  # integers: crashed
    assert "real numbers" in capsys.readouterr().out

    class PythonFloat(_load("solutions_02").Quadratic):  # alpha(t) is the Python float 1.0: crashed the boundary check
        def alpha(self, t):
            return 1.0

    assert ex.check_schedule(PythonFloat) is False
    assert "alpha(1) must be 0.0" in capsys.readouterr().out
    assert ex.check_smallest_variance(lambda: 3 / 7) is False  # one number where two are asked


def test_exercise_checks_accept_float64_float32_numpy_and_python_numbers(capsys):
    exact = math.erf(math.sqrt(2)) ** 2 / 2
    assert ex.check_gaussian_on_board(lambda: np.float64(exact)) is True
    assert ex.check_gaussian_on_board(lambda: torch.tensor(exact, dtype=torch.float64)) is True
    assert ex.check_x1_minimiser(lambda x, t: fm.marginal_posterior_mean(x.float(), t)) is True
    assert ex.check_x1_minimiser(lambda x, t: fm.marginal_posterior_mean(x, t).numpy()) is True
    assert ex.check_smallest_variance(lambda: np.array([3 / 7, 4 / 7], dtype=np.float32)) is True
    assert ex.check_floor_limits(lambda: [torch.tensor(8 / 3), np.float64(2.0)]) is True
    assert capsys.readouterr().out.count("correct!") == 6
    with pytest.raises(TypeError, match="single number"):
        ex.check_gaussian_on_board(lambda: "0.3")


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

    s11 = _load("solutions_11")
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
    s10 = _load("solutions_10")
    assert ex.check_guided_at_start(lambda x, c, w: s10.guided_at_start(x, c, w).float().numpy()) is True
    assert ex.check_trig_gain(lambda t: np.float32(s10.gain(t))) is True
    assert ex.check_trig_gain(lambda t: torch.tensor(s10.gain(t), dtype=torch.float64)) is True
    assert capsys.readouterr().out.count("correct!") == 9


BAD = {  # an answer of the wrong kind is named, not a crash deep inside
    "check_is_black": (lambda: ex.check_is_black(torch.zeros(3)), TypeError, "is_black"),
    "check_gaussian_on_board": (lambda: ex.check_gaussian_on_board(0.4555), TypeError, "gaussian_on_board"),
    "check_schedule": (lambda: ex.check_schedule(fm.LinearInterpolant()), TypeError, "cls"),
    "check_smallest_variance": (lambda: ex.check_smallest_variance((3 / 7, 4 / 7)), TypeError, "smallest_variance"),
    "check_cell_field": (lambda: ex.check_cell_field(GOOD), TypeError, "v_cell"),
    "check_floor_limits": (lambda: ex.check_floor_limits(8 / 3), TypeError, "floor_limits"),
    "check_x1_minimiser": (lambda: ex.check_x1_minimiser("denoiser"), TypeError, "minimiser"),
    "check_late_times": (lambda: ex.check_late_times(None), TypeError, "sample"),
    "check_euler_decay": (lambda: ex.check_euler_decay(0.37, lambda: -0.18), TypeError, "euler_factor"),
    "check_smallest_steps": (lambda: ex.check_smallest_steps(lambda f: 4, [0.2, 0.9]), TypeError, "fractions"),
    "check_smallest_steps number": (lambda: ex.check_smallest_steps(4, {4: 0.9}), TypeError, "smallest_steps"),
    "check_mass_in_square": (lambda: ex.check_mass_in_square(1.0), TypeError, "mass_in_square"),
    "check_radius": (lambda: ex.check_radius(2.0), TypeError, "radius_at"),
    "check_divergence_fd": (lambda: ex.check_divergence_fd(None), TypeError, "my_divergence"),
    "check_trig_score": (lambda: ex.check_trig_score(0.5), TypeError, "score_at"),
    "check_ot_pairing": (lambda: ex.check_ot_pairing("hungarian"), TypeError, "my_pairing"),
    "check_decay_straightness": (lambda: ex.check_decay_straightness(0.0655), TypeError, "straightness_decay"),
    "check_decay_identity": (lambda: ex.check_decay_identity("exp", None), TypeError, "vbar_decay"),
    "check_meanflow_sampler": (lambda: ex.check_meanflow_sampler(None), TypeError, "my_sample"),
    "check_guided_at_start": (lambda: ex.check_guided_at_start(2.0), TypeError, "guided_at_start"),
    "check_trig_gain": (lambda: ex.check_trig_gain(0.5), TypeError, "gain"),
    "check_log_odds": (lambda: ex.check_log_odds(2.0), TypeError, "log_odds"),
    "check_hutchinson": (lambda: ex.check_hutchinson("trace"), TypeError, "my_hutchinson"),
}
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
