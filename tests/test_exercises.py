"""Every worked solution passes its check; unsolved and wrong answers do not."""

import importlib.util
import math
from pathlib import Path

import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, table_test
from fmhelpers import exercises as ex

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_solutions_pass_their_checks(capsys):
    s1, s2, s3 = _load("solutions_01"), _load("solutions_02"), _load("solutions_03")
    s4, s5, s6 = _load("solutions_04"), _load("solutions_05"), _load("solutions_06")
    assert ex.check_is_black(s1.is_black) is True
    assert ex.check_gaussian_on_board(s1.gaussian_on_board()) is True
    assert ex.check_schedule(s2.Quadratic) is True
    assert ex.check_variance(s2.var_x_t) is True
    assert ex.check_field_at_zero(s3.v_zero) is True
    assert ex.check_floor_at(s3.floor_at) is True
    assert ex.check_loss(s4.my_loss) is True
    assert ex.check_late_times(s4.sample_late) is True
    assert ex.check_euler(s5.my_euler) is True
    fractions = {1: 0.2, 4: 0.9, 16: 0.991, 64: 0.999}
    assert ex.check_smallest_steps(s5.smallest_steps(fractions), fractions) is True
    assert ex.check_mass_in_square(s6.mass_in_square) is True
    assert ex.check_radius(s6.radius_at) is True
    s9 = _load("solutions_09")
    assert ex.check_divergence_fd(s9.my_divergence) is True
    assert ex.check_linear_score(s9.score_at) is True
    s7 = _load("solutions_07")
    assert ex.check_ot_pairing(s7.my_pairing) is True
    assert ex.check_straightness(s7.my_straightness) is True
    s8 = _load("solutions_08")
    assert ex.check_decay_average(s8.u_decay) is True
    assert ex.check_meanflow_sampler(s8.my_sample) is True
    s10 = _load("solutions_10")
    assert ex.check_guided_at_start(s10.guided_at_start) is True
    assert ex.check_class_field(s10.class_field) is True
    assert capsys.readouterr().out.count("correct!") == 20


def test_unsolved_and_wrong_answers(capsys):
    def unsolved(*args):
        raise NotImplementedError

    assert ex.check_is_black(unsolved) is None
    assert "not solved yet" in capsys.readouterr().out
    assert ex.check_is_black(lambda x: torch.zeros(len(x), dtype=torch.bool)) is False
    assert ex.check_euler(lambda v, x, n: x) is False
    assert ex.check_variance(lambda t: 1.0) is False
    assert ex.check_smallest_steps(4, {1: 0.2, 4: 0.9, 16: 0.991}) is False
    # 05.2 on the notebook's own numbers: 16 steps reach 0.9900, not 0.995; 32 steps do
    notebook = {8: 0.9543, 16: 0.9900, 32: 0.9987, 64: 1.0}
    assert ex.check_smallest_steps(16, notebook) is False and ex.check_smallest_steps(32, notebook) is True
    assert ex.check_radius(lambda t: 2.0) is False
    # 01.2: a guess 0.01 off; 03.2: a floor that ignores t, and one on the swapped path (t <-> 1 - t)
    s1, s3 = _load("solutions_01"), _load("solutions_03")
    assert ex.check_gaussian_on_board(s1.gaussian_on_board() + 0.01) is False
    assert ex.check_gaussian_on_board(0.5) is False
    assert ex.check_floor_at(lambda t: s3.floor_at(0.5, n=50_000)) is False
    assert ex.check_floor_at(lambda t: s3.floor_at(1 - t, n=50_000)) is False
    # 06.1: the old exercise's answer (the mass of the whole plane, 1) and a coarse, shifted grid
    s6 = _load("solutions_06")
    assert ex.check_mass_in_square(lambda t: 1.0) is False
    assert ex.check_mass_in_square(lambda t: s6.mass_in_square(t, n=40) + 0.002) is False
    # 09: a finite difference that forgets one coordinate; a score that swaps t and 1 - t
    s9 = _load("solutions_09")
    assert ex.check_divergence_fd(lambda v, x, t: 2 * s9.my_divergence(lambda y, s: v(y, s) * torch.tensor([1.0, 0.0], dtype=y.dtype), x, t)) is False
    assert ex.check_linear_score(lambda x, t: ((1 - t) * fm.marginal_velocity(x, t) - x) / t) is False
    assert ex.check_linear_score(lambda x, t: -x) is False

    class Broken(fm.LinearInterpolant):
        def alpha(self, t):
            return 1 - t / 2

    assert ex.check_schedule(Broken) is False
    assert "not yet" in capsys.readouterr().out


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


def _euler_late_times(velocity, x, n_steps):
    """Forward Euler that evaluates the field at t_{k+1} instead of t_k."""
    for k in range(n_steps):
        x = x + velocity(x, torch.full((len(x), 1), (k + 1) / n_steps)) / n_steps
    return x


def _forward_difference(velocity, x, t, h=0.1):
    """A one-sided difference with a large step: first order, off by about h."""
    t = torch.full((len(x), 1), float(t), dtype=x.dtype)
    return sum((velocity(x + h * e, t)[:, i] - velocity(x, t)[:, i]) / h
               for i, e in enumerate(torch.eye(2, dtype=x.dtype)))


def _sample_with(model, x, n, same_time=False, unit_step=False):
    """Mean-flow sampling gone wrong: u(x, t, t) (Euler with the instantaneous velocity), or a step of 1."""
    with torch.no_grad():
        for k in range(n):
            t = torch.full((len(x), 1), k / n)
            s = t if same_time else torch.full((len(x), 1), (k + 1) / n)
            x = x + (1.0 if unit_step else 1 / n) * model(x, t, s)
    return x


def _in_board(x):
    return ((x >= -2) & (x <= 2)).all(dim=1)


# at least two plausible wrong answers per check, each of which must be told "not yet"
WRONG = {
    "check_is_black": [lambda x: (torch.floor(x + 2).long().sum(1) % 2 == 1),        # forgot the square
                       lambda x: _in_board(x) & (torch.floor(x + 2).long().sum(1) % 2 == 0)],  # white cells
    "check_gaussian_on_board": [0.4661 + 0.01, 0.5],
    "check_schedule": [_linear_quadratic_beta(), "broken alpha"],
    "check_variance": [lambda t: (1 - t) ** 2 + t**2 * 4, lambda t: (1 - t) + t * 4 / 3],
    "check_field_at_zero": [lambda x: x, lambda x: torch.zeros_like(x)],
    "check_floor_at": ["ignores t", "swapped path"],
    "check_loss": [lambda m, a, b, t: (m((1 - t) * a + t * b, t) - (b - a)).pow(2).mean(),      # mean over coordinates
                   lambda m, a, b, t: (m((1 - t) * a + t * b, t) - (a - b)).pow(2).sum(1).mean()],  # target reversed
    "check_late_times": [lambda n, g: torch.rand(n, 1, generator=g), lambda n, g: torch.rand(n, 1, generator=g) ** 2],
    "check_euler": [lambda v, x, n: x, _euler_late_times],
    "check_smallest_steps": [(16, {8: 0.9543, 16: 0.9900, 32: 0.9987}), (8, {8: 0.9543, 16: 0.9900, 32: 0.9987})],
    "check_mass_in_square": [lambda t: 1.0, "coarse grid"],
    "check_radius": [lambda t: 2.0, lambda t: 2 * (1 - t) + t * 8 / 3],
    "check_divergence_fd": [_forward_difference, "one coordinate"],
    "check_linear_score": ["swapped t", lambda x, t: -x],
    "check_ot_pairing": [lambda a, b: torch.arange(6),                                            # identity
                         lambda a, b: b[:, 0].argsort()[a[:, 0].argsort().argsort()]],            # sorted by x
    "check_straightness": [lambda v, x, n: 0.0, "only t = 0"],
    "check_decay_average": [lambda x, t, s: -x, lambda x, t, s: x * (math.exp(-(s - t)) - 1)],
    "check_meanflow_sampler": ["instantaneous", "whole steps"],
    "check_guided_at_start": [lambda x, c, w: fm.black_cells()[c] + 0.5 - x,              # ignores w
                              lambda x, c, w: w * (fm.black_cells()[c] + 0.5 - x)],       # scales the class field
    "check_class_field": [lambda x, t, c: x / t,                                           # the Gaussian, no cell
                          lambda x, t, c: (fm.black_cells()[c] + 0.5 - x) / (1 - t)],     # the cell's centre
}


def _materialise(name, answer):
    s3, s6, s9 = _load("solutions_03"), _load("solutions_06"), _load("solutions_09")

    class BrokenAlpha(fm.LinearInterpolant):
        def alpha(self, t):
            return 1 - t / 2

    named = {
        "broken alpha": BrokenAlpha,
        "ignores t": lambda t: s3.floor_at(0.5, n=50_000),
        "swapped path": lambda t: s3.floor_at(1 - t, n=50_000),
        "coarse grid": lambda t: s6.mass_in_square(t, n=40) + 0.002,
        "one coordinate": lambda v, x, t: 2 * s9.my_divergence(
            lambda y, s: v(y, s) * torch.tensor([1.0, 0.0], dtype=y.dtype), x, t),
        "swapped t": lambda x, t: ((1 - t) * fm.marginal_velocity(x, t) - x) / t,
        "instantaneous": lambda m, x, n: _sample_with(m, x, n, same_time=True),
        "whole steps": lambda m, x, n: _sample_with(m, x, n, unit_step=True),
        "only t = 0": lambda v, x, n: float((v(x, torch.zeros(len(x), 1)) - (fm.euler(v, x, n) - x)).pow(2).sum(1).mean()),
    }
    return named.get(answer, answer) if isinstance(answer, str) else answer


def test_every_check_has_two_wrong_answers():
    checks = {n for n, f in vars(ex).items() if n.startswith("check_") and getattr(f, "__module__", "") == ex.__name__}
    assert checks == set(WRONG)
    assert all(len(answers) >= 2 for answers in WRONG.values())


@pytest.mark.parametrize("name, index", [(n, i) for n, answers in WRONG.items() for i in range(len(answers))])
def test_a_wrong_answer_is_told_not_yet(name, index, capsys):
    answer = _materialise(name, WRONG[name][index])
    check = getattr(ex, name)
    result = check(*answer) if isinstance(answer, tuple) else check(answer)
    assert result is False and "not yet" in capsys.readouterr().out


def test_a_correct_sampler_written_in_place_is_accepted(capsys):
    """x += ... moved the check's own starting points, so a correct answer was told "not yet"."""

    def euler_in_place(velocity, x_0, n_steps):
        x = x_0
        for k in range(n_steps):
            x += velocity(x, torch.full((len(x), 1), k / n_steps)) / n_steps
        return x

    def meanflow_in_place(model, x_0, n_steps):
        x = x_0
        for k in range(n_steps):
            x += model(x, k / n_steps, (k + 1) / n_steps) / n_steps
        return x

    assert ex.check_euler(euler_in_place) is True
    assert ex.check_meanflow_sampler(meanflow_in_place) is True

    def guided_in_place(x, c, w):
        x.mul_(-1)
        x += w * (fm.black_cells()[c] + 0.5)
        return x

    assert ex.check_guided_at_start(guided_in_place) is True


def test_answers_of_an_awkward_kind_are_judged_not_crashed(capsys):
    assert ex.check_late_times(lambda n, g: torch.randint(0, 2, (n, 1), generator=g)) is False  # integers: crashed
    assert "real numbers" in capsys.readouterr().out

    class PythonFloat(fm.Interpolant):  # alpha(t) returns the Python float 1.0: crashed the boundary check
        def alpha(self, t):
            return 1.0

        def beta(self, t):
            return 1 - (1 - t) ** 2

        def d_alpha(self, t):
            return -2 * (1 - t)

        def d_beta(self, t):
            return 2 * (1 - t)

    assert ex.check_schedule(PythonFloat) is False
    assert "alpha(1) must be 0.0" in capsys.readouterr().out


def test_exercise_checks_accept_float64_numpy_and_python_numbers(capsys):
    import numpy as np

    exact = math.erf(math.sqrt(2)) ** 2 / 2
    assert ex.check_gaussian_on_board(np.float64(exact)) is True
    assert ex.check_gaussian_on_board(torch.tensor(exact, dtype=torch.float64)) is True
    assert ex.check_field_at_zero(lambda x: fm.marginal_velocity(x.double(), 0.0)) is True
    assert ex.check_euler(lambda v, x, n: fm.euler(v, x.double(), n)) is True
    assert ex.check_loss(lambda m, a, b, t: fm.cfm_loss(m, a.double(), b.double(), t.double())) is True
    assert ex.check_variance(lambda t: np.float32((1 - t) ** 2 + t**2 * 4 / 3)) is True
    s10 = _load("solutions_10")
    assert ex.check_guided_at_start(lambda x, c, w: s10.guided_at_start(x, c, w).float().numpy()) is True
    assert ex.check_class_field(lambda x, t, c: s10.class_field(x, t, c).float()) is True
    assert capsys.readouterr().out.count("correct!") == 8
    with pytest.raises(TypeError, match="fraction.*single number"):
        ex.check_gaussian_on_board("0.3")


BAD = {  # an answer of the wrong kind is named, not a crash deep inside
    "check_is_black": (lambda: ex.check_is_black(torch.zeros(3)), TypeError, "is_black"),
    "check_gaussian_on_board": (lambda: ex.check_gaussian_on_board(None), TypeError, "fraction"),
    "check_schedule": (lambda: ex.check_schedule(fm.LinearInterpolant()), TypeError, "cls"),
    "check_variance": (lambda: ex.check_variance(1.0), TypeError, "var_x_t"),
    "check_field_at_zero": (lambda: ex.check_field_at_zero(GOOD), TypeError, "v_zero"),
    "check_floor_at": (lambda: ex.check_floor_at(3.4), TypeError, "floor_at"),
    "check_loss": (lambda: ex.check_loss("mse"), TypeError, "my_loss"),
    "check_late_times": (lambda: ex.check_late_times(None), TypeError, "sample"),
    "check_euler": (lambda: ex.check_euler(fm.euler(fm.marginal_velocity, GOOD, 2)), TypeError, "my_euler"),
    "check_smallest_steps": (lambda: ex.check_smallest_steps(4, [0.2, 0.9]), TypeError, "fractions"),
    "check_mass_in_square": (lambda: ex.check_mass_in_square(1.0), TypeError, "mass_in_square"),
    "check_radius": (lambda: ex.check_radius(2.0), TypeError, "radius_at"),
    "check_divergence_fd": (lambda: ex.check_divergence_fd(None), TypeError, "my_divergence"),
    "check_linear_score": (lambda: ex.check_linear_score(0.5), TypeError, "score_at"),
    "check_ot_pairing": (lambda: ex.check_ot_pairing("hungarian"), TypeError, "my_pairing"),
    "check_straightness": (lambda: ex.check_straightness(0.0), TypeError, "my_straightness"),
    "check_decay_average": (lambda: ex.check_decay_average("exp"), TypeError, "u_decay"),
    "check_meanflow_sampler": (lambda: ex.check_meanflow_sampler(None), TypeError, "my_sample"),
    "check_guided_at_start": (lambda: ex.check_guided_at_start(2.0), TypeError, "guided_at_start"),
    "check_class_field": (lambda: ex.check_class_field("v*"), TypeError, "class_field"),
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
