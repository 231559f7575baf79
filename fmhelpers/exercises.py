"""Check functions for the notebooks' exercises: call one with your answer to see if it holds.

Each check first looks at the form of your answer (a number, a tensor of the right shape and dtype;
a NumPy array is accepted wherever a tensor is) and says what is wrong with it; then it compares it
with the package's exact tools. It recognises the common wrong answers and gives each its own hint;
a hint that would give most of the answer away comes only after a few tries (never for the
exercises done in class). It prints one line and returns True (solved), False (not yet right) or
None (the exercise still raises NotImplementedError).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import torch

import numpy as np

from ._checks import check_callable, check_number
from .distributions import in_checkerboard, sample_checkerboard, sample_gaussian
from .interpolants import Interpolant
from .marginal import marginal_velocity
from .solvers import euler

GIVE_AWAY_AFTER = 3                    # failed tries before an exercise's strongest hint is shown
IN_CLASS = frozenset({"02.2", "04.1", "10.1"})  # done in class (notebooks/TEACHING.md): never the strongest hint
_attempts: dict[str, int] = {}         # failed tries per exercise in this kernel

# What each check says about each wrong answer it recognises ("general": one it does not recognise).
# None of these states an answer: tests/test_exercises.py scans them for the worked answers' values.
HINTS: dict[str, dict[str, str]] = {
    "01.1": {"general": "compare with fm.in_checkerboard on a few points of your own",
             "parity": "you marked the white cells: check which parity of column + row is black on the plot",
             "outside": "your mask also marks points outside [-2, 2]^2: there is no board there"},
    "01.2": {"general": "write the probability as an exact formula of one standard normal coordinate",
             "square": "that is the Gaussian's mass on the whole square: which share of it lies on black cells?",
             "standardisation": "P(-a < Z < a) = erf(a / sqrt 2): check the argument of erf",
             "estimate": "close: that looks like an estimate, but the exercise asks for the exact value "
                         "(a Monte Carlo error is far above the 1e-4 allowed)"},
    "02.1": {"general": "compare each of your four methods with the schedule asked for at a few times",
             "boundary": "your class was refused by fm.Interpolant (the message above says which rule it breaks)",
             "alpha": "your alpha_t (or its derivative) is not the one asked for",
             "beta": "your beta_t (or its derivative) is not the one asked for"},
    "02.2": {"general": "write Var(x_t) along one axis as a function of t, then find its minimum",
             "middle": "the middle of the path is not where the variance is smallest: the two ends do not "
                       "have the same spread",
             "swapped": "you have the two numbers the right way round? (t*, Var*): the time first",
             "source": "that is the source at t = 0: the variance dips below it in between"},
    "03.1": {"general": "given X_t = x, each coordinate of X_1 is a Gaussian restricted to the cell's side: "
                        "take its mean m, then v = (m - x) / (1 - t)",
             "centre": "aiming at the cell's centre treats the posterior of X_1 as a point: it is spread over "
                       "the cell",
             "untruncated": "that is the posterior mean without the cell: X_1 cannot leave the cell, so truncate",
             "board": "that is the whole board's field; the target here is one cell"},
    "03.2": {"general": "u_t = x_1 - x_0; at each end one of x_0, x_1 is known from x_t: the floor is the "
                        "spread of the other",
             "swapped": "the two limits are the right numbers in the wrong order: which end is known as t -> 0?",
             "one_coordinate": "those are the values of one coordinate: the loss sums both",
             "zero": "the floor does not vanish at the ends: one end of the pair stays unknown"},
    "04.1": {"general": "the loop minimises E||target - v(x_t, t)||^2 over functions of (x_t, t): section 7's "
                        "argument says which function that is; write it with the package's exact tools",
             "velocity": "that is what the loop learns with u_t as its target; the target changed to x_1",
             "identity": "the network's input x is not what it learns: the target is x_1, not x_t",
             "constant": "it does depend on x: given X_t = x, some cells are more likely than others"},
    "04.2": {"general": "times with density 2t on [0, 1]: its CDF is F(t) = t^2",
             "uniform": "those times are uniform (mean 1/2); density 2t puts more of them near 1",
             "square": "squaring a uniform piles the times near 0, the opposite of what is asked"},
    "05.1": {"general": "each Euler step on v = -x multiplies x by one factor; expand T log of it to order 1/T",
             "steps": "your factor has one step too few: T steps, each one multiplication",
             "sign": "check the sign of the leading error: is Euler's result above or below e^{-1}?",
             "factor": "the error is c / T with c proportional to the exact result: keep the e^{-1}"},
    "05.2": {"general": "look for the first T, in increasing order, whose fraction is at least 0.995",
             "threshold": "the fraction at that T is below 0.995",
             "not_smallest": "that T reaches 0.995, but a smaller T does too"},
    "06.1": {"general": "integrate fm.marginal_density over [-2, 2]^2 on a grid: sum of density times cell area",
             "plane": "1 is the mass of the whole plane: part of pi_t lies outside the square",
             "coarse": "close, but not to 1e-3: use a finer grid (or the midpoint rule, at the cells' centres)"},
    "06.2": {"general": "expand E||(1 - t) X_0 + t X_1||^2; with coupled pairs the cross term E[X_0 . X_1] need not "
                        "vanish, and E||X_1 - X_0||^2 expands into the same three kinds of terms",
             "constant": "it changes with t: E||X_0||^2 and E||X_1||^2 differ",
             "independent": "right for independent pairs only: your answer does not change with the pairing cost",
             "sign": "check the sign of the cross term: shorter pairs (a smaller cost) make X_0 and X_1 point the same "
                     "way more often"},
    "07.1": {"general": "among all pairings keep the one with the smallest total squared distance",
             "identity": "that is the pairing the batch came with (the identity), not the cheapest one",
             "not_cheapest": "a valid pairing, but a cheaper one exists"},
    "07.2": {"general": "S = E int_0^1 ||v(X_t, t)||^2 dt - E||X_1 - X_0||^2, with X_t = X_0 e^{-t}",
             "kinetic": "that is the kinetic energy alone: subtract the squared chord",
             "chord": "that is the squared chord alone: S is the kinetic energy minus it",
             "one_coordinate": "that is one coordinate's share: E||X_0||^2 counts both"},
    "08.1": {"general": "solve dX/dtau = -X from t to s for vbar; then d/dt vbar(X_t, t, s) has two terms",
             "partial": "that is the partial derivative d vbar / d t alone: X_t moves with t as well "
                        "(the transport term (d vbar / d x) v)",
             "sign": "check the sign of your derivative: h = s - t shrinks as t grows",
             "instantaneous": "-x is the velocity at one time; vbar averages it over [t, s]",
             "total": "partial_dt is the total derivative again: hold x fixed and differentiate vbar(x, t, s) in t only",
             "general_partial": "partial_dt: differentiate your vbar_decay in t with x held fixed (h = s - t shrinks as "
                                "t grows)"},
    "08.2": {"general": "each step jumps from t_k = k/N to s = (k + 1)/N with the model's average velocity",
             "instantaneous": "you asked the model for u(x, t, t), the velocity at one time: ask for the average "
                              "over the whole step, up to s = (k + 1)/N",
             "step": "each jump is u times the length of its interval, 1/N, not u itself"},
    "09.1": {"general": "sum over the coordinates i of (v_i(x + h e_i) - v_i(x - h e_i)) / (2h)",
             "accuracy": "close, but not to 1e-4: a central difference (x + h and x - h) is far more accurate "
                         "than a one-sided one; is your h small enough?",
             "coordinates": "the divergence sums the derivative of each coordinate of v along its own axis: "
                            "both coordinates"},
    "09.2": {"general": "write m from v = (alpha'/alpha) x + (beta' - alpha' beta/alpha) m, then the score "
                        "(beta m - x) / alpha^2, and simplify",
             "linear": "that is the linear path's formula: alpha and beta are cos and sin here",
             "sign": "check the sign of the x term",
             "factor": "a constant factor is off: d/dt sin(pi t / 2) brings one out"},
    "10.1": {"general": "start from the exact fields at t = 0: what does X_t = X_0 tell about X_1 there?",
             "ignores_w": "your field does not change with w: guidance mixes two fields with weight w",
             "scales": "scaling the class field by w is not guidance: v_w = v + w (v_c - v)",
             "estimated": "close, but off by the same small vector at every point, the size of a Monte Carlo error: "
                          "the mean of pi_1 need not be estimated from samples; the board's symmetry gives it exactly"},
    "10.2": {"general": "write both scores through their fields with the trig path's formula (exercise 09.2), "
                        "subtract, and the x terms cancel",
             "linear": "that is the linear path's gain: the trig path's alpha and beta are cos and sin",
             "tan": "tan and cot are swapped: the gain must be large near t = 0 and vanish at t = 1",
             "factor": "a constant factor is off: d/dt of sin(pi t / 2) brings one out"},
    "11.1": {"general": "write x_t - t y_b = (1 - t) x_0 + t (y_a - y_b) and average over x_0",
             "squares": "t and (1 - t) enter squared: x_t - t y is (1 - t) x_0 plus t times a difference",
             "half": "a factor 1/2 is missing: the log-weights carry 1 / (2 (1 - t)^2)"},
    "11.2": {"general": "each probe gives eps^T (dv/dx) eps; average over n_probes probes",
             "no_derivative": "eps . v averages to zero: the estimator needs the Jacobian, eps^T (dv/dx) eps",
             "probes": "the probes need mean 0 and E[eps eps^T] = I (+-1 entries, or Gaussian)",
             "summed": "with n_probes = 16 the estimate should be the mean over the probes, not their sum",
             "nonlinear": "right on v = A x, but not on a nonlinear field: take the Jacobian at the points x"},
    "12.1": {"general": "Tweedie's formula gives the noise view from the score; then the first of section 1's "
                        "two equations gives the data view",
             "linear": "that is the linear path's conversion: alpha and beta are cos and sin here",
             "sign": "check the sign of the score term: the score is minus the noise view over alpha",
             "square": "alpha enters twice: once from the score to the noise view, once more in x = alpha e + beta m"},
    "12.2": {"general": "each conversion into the velocity is v = a x + b y at a given (x, t): the error moves v "
                        "by |b| times its size; compare |b| for the four views at t = 0.05 on the linear path",
             "name": "another view's |b| is larger near the noise end: which coefficient in the denominator "
                     "vanishes at t = 0?",
             "size": "the view is right, the size is not: write its |b| at t = 0.05 and multiply by the error 0.01",
             "form": "return a tuple (name, size): the name one of 'velocity', 'noise', 'data', 'score'"},
    "13.1": {"general": "redo section 3's derivation with kappa_t in place of t: differentiate the conditional "
                        "law, eliminate the source's share, then average over the posterior",
             "linear": "that is the rate of kappa_t = t: the schedule here is t^2, and both kappa_t and its "
                       "derivative change",
             "derivative": "the numerator is right, but 1 - kappa_t is not 1 - t for this schedule",
             "diagonal": "your rows do not sum to zero: what leaves the current token must be taken from its "
                         "diagonal entry"},
    "13.2": {"general": "write Bayes' rule for x_1 given x_t = (mask, b): which factors depend on the first "
                        "coordinate of x_1, and which on t?",
             "marginal": "that ignores b: the unmasked coordinate is x_1's own second token, and it tells "
                         "something about the first",
             "unnormalised": "the shape is right but it does not sum to 1 over the V values"},
}
# The strongest hint of each exercise: it gives most of the answer, so it comes after GIVE_AWAY_AFTER tries.
STRONG: dict[str, str] = {
    "01.2": "the Gaussian is unchanged by the reflection x -> -x of one axis, which swaps black and white cells",
    "02.1": "each d_ method must be the derivative of its schedule: differentiate (1 - t)^2 by the chain rule",
    "03.1": "the mean of a Gaussian truncated to [a, b] needs torch.special.ndtr (its CDF) and its density",
    "03.2": "each coordinate of X_1 is uniform on [-2, 2]: its variance is 4^2 / 12",
    "04.2": "invert the CDF: if u is uniform on [0, 1], which t has F(t) = u?",
    "05.1": "T log(1 - 1/T) = -1 - 1/(2T) + O(1/T^2)",
    "06.1": "cell centres -2 + h (k + 1/2), k = 0 .. n - 1, and the sum of density * h^2",
    "06.2": "2 E[X_0 . X_1] = E||X_0||^2 + E||X_1||^2 - cost",
    "07.1": "try every permutation (itertools.permutations) and keep the cheapest",
    "07.2": "E||X_0||^2 = 2, int_0^1 e^{-2t} dt = (1 - e^{-2}) / 2",
    "08.1": "from X_t = x the flow is X_tau = x e^{-(tau - t)}; vbar is the displacement to s over s - t, and "
            "along the trajectory both x = X_t and t change",
    "09.2": "on the trig path alpha'/alpha = -(pi/2) tan(pi t/2)",
    "10.2": "grad log p_t(c | x) = grad log p_t(x | c) - grad log p_t(x), and each score comes from its field",
    "11.1": "||x_t - t y_b||^2 - ||x_t - t y_a||^2 = 2 t (1 - t) x_0 . (y_a - y_b) + t^2 ||y_a - y_b||^2",
    "12.1": "e = -alpha s, and m = (x - alpha e) / beta",
    "12.2": "D / beta, D / alpha and alpha D / beta: evaluate each at t = 0.05 with D = 1",
    "13.1": "the conditional rate towards x_1's token is kappa'_t / (1 - kappa_t), and kappa'_t = 2 t here",
}


def _run(name: str, attempt: Callable[[], Any]) -> tuple[bool | None, Any]:
    try:
        return True, attempt()
    except NotImplementedError:
        print(f"{name}: not solved yet (replace the NotImplementedError with your code)")
        return None, None


def _verdict(number: str, ok: bool, key: str = "general", form: str | None = None) -> bool:
    """Print the verdict: 'correct!', or 'not yet:' with what is wrong with the answer's form (`form`),
    or the hint HINTS[number][key]; the exercise's strongest hint is added after GIVE_AWAY_AFTER tries."""
    ok = bool(ok)
    if ok:
        print(f"{number}: correct!")
        return True
    tries = _attempts[number] = _attempts.get(number, 0) + 1
    hint = form if form is not None else HINTS[number][key]
    if number in STRONG and number not in IN_CLASS and tries >= GIVE_AWAY_AFTER and form is None:
        hint += f" (after {tries} tries, a further hint: {STRONG[number]})"
    print(f"{number}: not yet: {hint}")
    return False


def _number(what: str, value: Any) -> float | str:
    """A student's number (Python, NumPy or a one-element tensor of any real dtype) as a float, or the
    sentence that says what is wrong with it."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "fiu":
        value = value.reshape(()).item()
    try:
        return check_number(what, value)
    except (TypeError, ValueError) as exc:
        shape = f" of shape {tuple(value.shape)}" if hasattr(value, "shape") else ""
        return f"{what} should be one real number; got {type(value).__name__}{shape} ({exc})"


def _numbers(what: str, value: Any, count: int) -> list[float] | str:
    """`count` numbers (a tuple, list, array or tensor of them), or the sentence that says what is wrong."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        value = value.reshape(-1).tolist() if value.ndim <= 1 else value
    if not isinstance(value, (tuple, list)) or len(value) != count:
        size = f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""
        return f"{what} should be {count} numbers (a tuple); got {type(value).__name__}{size}"
    got = [_number(f"{what}[{i}]", v) for i, v in enumerate(value)]
    return next((g for g in got if isinstance(g, str)), got)


def _tensor(what: str, value: Any, shape: tuple[int, ...], *, floating: bool = True) -> torch.Tensor | str:
    """The answer as a float64 CPU tensor, or the sentence that says what is wrong with its form: its type
    (a tensor or a NumPy array), its shape (`shape`), its dtype (real numbers unless `floating` is False)."""
    if isinstance(value, np.ndarray):
        if value.dtype == object or value.dtype.kind in "USV":
            return f"{what} is a NumPy array of {value.dtype} values; return numbers (a tensor or a float array)"
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor):
        return f"{what} should be a tensor (or a NumPy array) of shape {shape}; got {type(value).__name__}"
    if tuple(value.shape) != shape:
        extra = ""
        if value.numel() == math.prod(shape):
            extra = f" (it has the right number of values: reshape it to {shape})"
        return f"{what} has shape {tuple(value.shape)}; the exercise expects {shape}{extra}"
    if value.is_complex():
        return f"{what} holds complex numbers ({value.dtype}); the exercise expects real ones"
    if floating and not value.is_floating_point():
        return f"{what} holds {value.dtype} values; the exercise expects real numbers (a floating-point dtype)"
    return value.detach().cpu().to(torch.float64)


def _near(got: torch.Tensor, want: torch.Tensor, atol: float) -> bool:
    return bool(torch.allclose(got, want.detach().cpu().to(torch.float64), atol=atol, rtol=0))


def _points(n: int = 2000, seed: int = 0) -> torch.Tensor:
    return (torch.rand(n, 2, generator=torch.Generator().manual_seed(seed)) - 0.5) * 6


# ---- 01 problem setup ---------------------------------------------------------------------------
def check_is_black(is_black: Callable[[torch.Tensor], torch.Tensor]) -> bool | None:
    """01.1: is_black(x) -> a mask (n,) of the points x (n, 2) that lie on black cells (grid 4 on [-2, 2]^2),
    bool or 0/1 integers."""
    check_callable("is_black", is_black, "is_black(x)")
    x = _points()
    ran, got = _run("01.1", lambda: is_black(x.clone()))
    if ran is None:
        return None
    got = _tensor("is_black(x)", got, (len(x),), floating=False)
    if isinstance(got, str):
        return _verdict("01.1", False, form=got)
    if not bool(((got == 0) | (got == 1)).all()):
        return _verdict("01.1", False, form="is_black(x) should hold True/False (or 0/1) values, one per point")
    got, want = got.bool(), in_checkerboard(x)
    inside = ((x >= -2) & (x <= 2)).all(dim=1)
    if torch.equal(got, want):
        return _verdict("01.1", True)
    if torch.equal(got[inside], want[inside]):
        return _verdict("01.1", False, "outside")
    if torch.equal(got[inside], ~want[inside]):
        return _verdict("01.1", False, "parity")
    return _verdict("01.1", False)


def check_gaussian_on_board(gaussian_on_board: Callable[[], float]) -> bool | None:
    """01.2: gaussian_on_board() = P(X_0 on a black cell) for X_0 ~ N(0, I_2), exactly (a formula), to
    within 1e-4; an estimate by sampling is not accurate enough."""
    check_callable("gaussian_on_board", gaussian_on_board, "gaussian_on_board()")
    ran, got = _run("01.2", lambda: _number("gaussian_on_board()", gaussian_on_board()))
    if ran is None:
        return None
    if isinstance(got, str):
        return _verdict("01.2", False, form=got)
    square = math.erf(math.sqrt(2)) ** 2
    if abs(got - square / 2) < 1e-4:
        return _verdict("01.2", True)
    known = {"square": square, "standardisation": math.erf(2) ** 2 / 2}
    key = next((k for k, v in known.items() if abs(got - v) < 1e-3), None)
    if key is None and abs(got - square / 2) < 0.01:
        key = "estimate"
    return _verdict("01.2", False, key or "general")


# ---- 02 interpolants ----------------------------------------------------------------------------
def check_schedule(cls: type) -> bool | None:
    """02.1: cls = an Interpolant subclass with alpha_t = (1 - t)^2 and beta_t = 1 - (1 - t)^2."""
    # an Interpolant of this package, or of another copy of it (the graded copy of a classroom's test cell)
    if not (isinstance(cls, type) and any(base is Interpolant or (base.__name__ == "Interpolant" and
                                          base.__module__.endswith(".interpolants")) for base in cls.__mro__)):
        raise TypeError(f"cls must be your Interpolant subclass itself (the class, not an instance), got {cls!r}")
    try:
        ran, path = _run("02.1", cls)
    except ValueError as exc:  # the constructor refused the schedule
        print(f"02.1: {exc}")
        return _verdict("02.1", False, "boundary")
    if ran is None:
        return None
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    try:
        parts = {key: _tensor(f"{key}(t)", getattr(path, key)(t), tuple(t.shape)) for key in
                 ("alpha", "d_alpha", "beta", "d_beta")}
    except NotImplementedError:
        print("02.1: not solved yet (replace the NotImplementedError with your code)")
        return None
    bad = next((p for p in parts.values() if isinstance(p, str)), None)
    if bad is not None:
        return _verdict("02.1", False, form=bad)
    alpha_ok = _near(parts["alpha"], (1 - t) ** 2, 1e-6) and _near(parts["d_alpha"], -2 * (1 - t), 1e-6)
    beta_ok = _near(parts["beta"], 1 - (1 - t) ** 2, 1e-6) and _near(parts["d_beta"], 2 * (1 - t), 1e-6)
    return _verdict("02.1", alpha_ok and beta_ok, "alpha" if not alpha_ok else "beta")


def check_smallest_variance(smallest_variance: Callable[[], tuple[float, float]]) -> bool | None:
    """02.2: smallest_variance() = (t*, Var*): when the variance of one coordinate of x_t is smallest on
    the linear path, and its value there, to within 1e-6."""
    check_callable("smallest_variance", smallest_variance, "smallest_variance()")
    ran, got = _run("02.2", lambda: _numbers("smallest_variance()", smallest_variance(), 2))
    if ran is None:
        return None
    if isinstance(got, str):
        return _verdict("02.2", False, form=got)
    variance = lambda t: (1 - t) ** 2 + 4 / 3 * t**2
    t_star = 3 / 7  # where d/dt variance(t) = 0
    if abs(got[0] - t_star) < 1e-6 and abs(got[1] - variance(t_star)) < 1e-6:
        return _verdict("02.2", True)
    known = {"middle": (0.5, variance(0.5)), "swapped": (variance(t_star), t_star), "source": (0.0, 1.0)}
    key = next((k for k, v in known.items() if abs(got[0] - v[0]) < 1e-6 and abs(got[1] - v[1]) < 1e-6), "general")
    return _verdict("02.2", False, key)


# ---- 03 conditional vs marginal -----------------------------------------------------------------
def check_cell_field(v_cell: Callable[[torch.Tensor, float, int], torch.Tensor]) -> bool | None:
    """03.1: v_cell(x, t, c) = the exact marginal velocity (n, 2) of the linear path when pi_1 is uniform
    on the one black cell c (corner `fm.black_cells()[c]`, side 1), written without
    `fm.marginal_velocity`; compared with `fm.marginal_velocity(x, t, cell=c)` at two times and two
    cells, to 1e-5."""
    from .distributions import black_cells

    check_callable("v_cell", v_cell, "v_cell(x, t, c)")
    cases = [(0.3, 1), (0.7, 6)]
    points = [_cell_points(t, c) for t, c in cases]  # where X_t given the cell has its mass
    ran, got = _run("03.1", lambda: [v_cell(x.clone(), t, c) for x, (t, c) in zip(points, cases)])
    if ran is None:
        return None
    got = [_tensor("v_cell(x, t, c)", g, tuple(x.shape)) for g, x in zip(got, points)]
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("03.1", False, form=bad)
    if all(_near(g, marginal_velocity(x, t, cell=c), 1e-5) for g, x, (t, c) in zip(got, points, cases)):
        return _verdict("03.1", True)
    known = {"centre": lambda x, t, c: (black_cells()[c].double() + 0.5 - x) / (1 - t),
             "untruncated": lambda x, t, c: x / t,
             "board": lambda x, t, c: marginal_velocity(x, t)}
    key = next((k for k, f in known.items() if all(_near(g, f(x, t, c), 1e-3) for g, x, (t, c) in
                                                   zip(got, points, cases))), "general")
    return _verdict("03.1", False, key)


def _cell_points(t: float, c: int, n: int = 60) -> torch.Tensor:
    """n points of X_t = (1 - t) X_0 + t X_1 with X_1 uniform on black cell c (float64)."""
    from .distributions import black_cells

    g = torch.Generator().manual_seed(3 + c)
    x_1 = black_cells()[c] + torch.rand(n, 2, generator=g, dtype=torch.float64)
    return (1 - t) * torch.randn(n, 2, generator=g, dtype=torch.float64) + t * x_1


def check_floor_limits(floor_limits: Callable[[], tuple[float, float]]) -> bool | None:
    """03.2: floor_limits() = (the loss floor E||u_t - v*||^2 as t -> 0, then as t -> 1), to within 0.03
    (a careful Monte Carlo estimate near the ends also passes)."""
    check_callable("floor_limits", floor_limits, "floor_limits()")
    ran, got = _run("03.2", lambda: _numbers("floor_limits()", floor_limits(), 2))
    if ran is None:
        return None
    if isinstance(got, str):
        return _verdict("03.2", False, form=got)
    spread_0, spread_1 = 2.0, 2 * 4**2 / 12  # E||X - E X||^2 of the source and of the target
    close = lambda a, b: abs(got[0] - a) < 0.03 and abs(got[1] - b) < 0.03
    if close(spread_1, spread_0):
        return _verdict("03.2", True)
    known = {"swapped": (spread_0, spread_1), "one_coordinate": (spread_1 / 2, spread_0 / 2), "zero": (0.0, 0.0)}
    return _verdict("03.2", False, next((k for k, v in known.items() if close(*v)), "general"))


# ---- 04 training --------------------------------------------------------------------------------
def check_x1_minimiser(minimiser: Callable[[torch.Tensor, float], torch.Tensor]) -> bool | None:
    """04.1: minimiser(x, t) = what v_theta(x, t) learns (n, 2) when the loop regresses on x_1 instead of
    x_1 - x_0, written with the package's exact functions; compared at two times, to 1e-4."""
    from .marginal import marginal_posterior_mean

    check_callable("minimiser", minimiser, "minimiser(x, t)")
    x = _points(80, seed=4).double()
    times = (0.3, 0.8)
    ran, got = _run("04.1", lambda: [minimiser(x.clone(), t) for t in times])
    if ran is None:
        return None
    got = [_tensor("minimiser(x, t)", g, tuple(x.shape)) for g in got]
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("04.1", False, form=bad)
    if all(_near(g, marginal_posterior_mean(x, t), 1e-4) for g, t in zip(got, times)):
        return _verdict("04.1", True)
    known = {"velocity": lambda t: marginal_velocity(x, t), "identity": lambda t: x}
    key = next((k for k, f in known.items() if all(_near(g, f(t), 1e-4) for g, t in zip(got, times))), None)
    if key is None and all(bool((g - g[0]).abs().max() < 1e-6) for g in got):
        key = "constant"
    return _verdict("04.1", False, key or "general")


def check_late_times(sample: Callable[[int, torch.Generator], torch.Tensor]) -> bool | None:
    """04.2: sample(n, generator) -> times of shape (n, 1) with density 2t on [0, 1]."""
    check_callable("sample", sample, "sample(n, generator)")
    n = 200_000
    ran, got = _run("04.2", lambda: sample(n, torch.Generator().manual_seed(3)))
    if ran is None:
        return None
    got = _tensor(f"sample({n}, generator)", got, (n, 1))
    if isinstance(got, str):
        return _verdict("04.2", False, form=got)
    if not bool(((got >= 0) & (got <= 1)).all()):
        return _verdict("04.2", False, form="times must lie in [0, 1]; some of yours do not")
    mean, var = got.mean().item(), got.var().item()
    if abs(mean - 2 / 3) < 0.005 and abs(var - 1 / 18) < 0.003:
        return _verdict("04.2", True)
    key = "uniform" if abs(mean - 1 / 2) < 0.005 else "square" if abs(mean - 1 / 3) < 0.005 else "general"
    return _verdict("04.2", False, key)


# ---- 05 Euler sampling --------------------------------------------------------------------------
def check_euler_decay(euler_factor: Callable[[int], float], leading_coefficient: Callable[[], float]) -> bool | None:
    """05.1: Euler with T steps on v(x, t) = -x maps x_0 to euler_factor(T) * x_0 (exactly); the exact flow
    gives e^{-1} x_0; and the error behaves like c x_0 / T for large T, with c = leading_coefficient()
    (to within 1e-3)."""
    check_callable("euler_factor", euler_factor, "euler_factor(T)")
    check_callable("leading_coefficient", leading_coefficient, "leading_coefficient()")
    steps = (1, 2, 7, 50)
    ran, got = _run("05.1", lambda: ([_number("euler_factor(T)", euler_factor(T)) for T in steps],
                                     _number("leading_coefficient()", leading_coefficient())))
    if ran is None:
        return None
    factors, c = got
    bad = next((g for g in [*factors, c] if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("05.1", False, form=bad)
    x = torch.ones(1, 1, dtype=torch.float64)
    euler_ok = [abs(f - euler(lambda y, t: -y, x, n_steps=T).item()) < 1e-9 for f, T in zip(factors, steps)]
    # the coefficient, measured: c(T) = T ((1 - 1/T)^T - e^{-1}) = c + O(1/T), extrapolated (Richardson)
    c_of = lambda T: T * ((1 - 1 / T) ** T - math.exp(-1))
    measured = 2 * c_of(20_000) - c_of(10_000)
    c_ok = abs(c - measured) < 1e-3
    if all(euler_ok) and c_ok:
        return _verdict("05.1", True)
    if not all(euler_ok):
        fewer = all(abs(f - (1 - 1 / T) ** (T - 1)) < 1e-9 for f, T in zip(factors, steps))
        return _verdict("05.1", False, "steps" if fewer else "general")
    key = "sign" if abs(c + measured) < 1e-3 else "factor" if abs(c - measured * math.e) < 1e-3 else "general"
    return _verdict("05.1", False, key)


def check_smallest_steps(smallest_steps: Callable[[dict[int, float]], int], fractions: dict[int, float]) -> bool | None:
    """05.2: smallest_steps(fractions) = the smallest T (an int) in `fractions` ({T: in-support fraction})
    that reaches 0.995.

    (0.99 sat exactly on the notebook's value at T = 16, 2970 of 3000 samples: one sample would
    have flipped the answer; at 0.995 the nearest values are 15 and 26 samples away.)
    """
    check_callable("smallest_steps", smallest_steps, "smallest_steps(fractions)")
    if not isinstance(fractions, dict) or not fractions:
        raise TypeError(f"fractions must be the dict {{T: fraction}} computed in the notebook, got {type(fractions).__name__}")
    ran, got = _run("05.2", lambda: smallest_steps(dict(fractions)))
    if ran is None:
        return None
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        return _verdict("05.2", False, form=f"smallest_steps(fractions) should be one T, an int; got {type(got).__name__}")
    got = int(got)
    want = min((T for T, f in fractions.items() if f >= 0.995), default=None)
    if got == want:
        return _verdict("05.2", True)
    if got not in fractions:
        return _verdict("05.2", False, form=f"{got} is not one of the T in fractions")
    return _verdict("05.2", False, "threshold" if fractions[got] < 0.995 else "not_smallest")


# ---- 06 intermediate distributions --------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _mass_in_square(t: float, n: int = 200) -> float:
    """The midpoint rule on n x n cells; at n = 200 it is within 1e-5 of n = 400 (the check allows 1e-3)."""
    from .marginal import marginal_density

    h = 4.0 / n
    g = -2.0 + h * (torch.arange(n, dtype=torch.float64) + 0.5)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    return (marginal_density(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1), t).sum() * h * h).item()


def check_mass_in_square(mass_in_square: Callable[[float], float]) -> bool | None:
    """06.1: mass_in_square(t) = P(X_t in [-2, 2]^2) from the exact density, to 1e-3, at two times in (0, 1)."""
    check_callable("mass_in_square", mass_in_square, "mass_in_square(t)")
    times = (0.1, 0.5)
    ran, got = _run("06.1", lambda: [_number("mass_in_square(t)", mass_in_square(t)) for t in times])
    if ran is None:
        return None
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("06.1", False, form=bad)
    errors = [abs(g - _mass_in_square(t)) for g, t in zip(got, times)]
    if max(errors) < 1e-3:
        return _verdict("06.1", True)
    key = "plane" if all(abs(g - 1) < 1e-9 for g in got) else "coarse" if max(errors) < 0.02 else "general"
    return _verdict("06.1", False, key)


def check_radius(radius_at: Callable[[float, float], float]) -> bool | None:
    """06.2: radius_at(t, cost) = E||X_t||^2 on the linear path for any coupling of pi_0 and pi_1 whose pairs
    have E||X_1 - X_0||^2 = cost, to within 2 %, at four times and three costs."""
    check_callable("radius_at", radius_at, "radius_at(t, cost)")
    a, b = 2.0, 2 * 4**2 / 12  # E||X_0||^2, E||X_1||^2
    cases = [(t, c) for t in (0.0, 0.5, 0.8, 1.0) for c in (a + b, 1.0, 0.25)]
    ran, got = _run("06.2", lambda: [_number("radius_at(t, cost)", radius_at(t, c)) for t, c in cases])
    if ran is None:
        return None
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("06.2", False, form=bad)

    def near(values: list[float]) -> bool:
        return all(abs(g - w) <= 0.02 * abs(w) for g, w in zip(got, values))

    cross = [(a + b - c) / 2 for _, c in cases]  # E[X_0 . X_1] of a coupling with that cost
    if near([(1 - t) ** 2 * a + t**2 * b + 2 * t * (1 - t) * x for (t, _), x in zip(cases, cross)]):
        return _verdict("06.2", True)
    key = ("constant" if max(got) - min(got) < 1e-9 else
           "independent" if near([(1 - t) ** 2 * a + t**2 * b for t, _ in cases]) else
           "sign" if near([(1 - t) ** 2 * a + t**2 * b - 2 * t * (1 - t) * x for (t, _), x in zip(cases, cross)]) else
           "general")
    return _verdict("06.2", False, key)


# ---- 07 straight paths --------------------------------------------------------------------------
def check_ot_pairing(my_pairing: Callable[[torch.Tensor, torch.Tensor], Any]) -> bool | None:
    """07.1: my_pairing(x_0, x_1) -> perm, a permutation of range(6) (a tensor, array or list of ints) with
    x_1[perm][i] paired to x_0[i] and the smallest total squared distance, for batches of 6 points
    (brute force is fine); checked on five batches by total cost (ties are allowed)."""
    from .couplings import ot_permutation

    check_callable("my_pairing", my_pairing, "my_pairing(x_0, x_1)")
    g = torch.Generator().manual_seed(7)
    batches = [(sample_gaussian(6, generator=g), sample_checkerboard(6, generator=g)) for _ in range(5)]
    ran, got = _run("07.1", lambda: [my_pairing(a.clone(), b.clone()) for a, b in batches])
    if ran is None:
        return None
    costs, identity = [], True
    for (a, b), perm in zip(batches, got):
        form = "my_pairing(x_0, x_1) should be a permutation of range(6) (perm[i] is the row of x_1 paired with x_0[i])"
        try:
            perm = torch.as_tensor(np.asarray(perm.detach().cpu() if isinstance(perm, torch.Tensor) else perm))
        except (TypeError, ValueError, RuntimeError):
            return _verdict("07.1", False, form=f"{form}; got {type(perm).__name__}")
        if perm.dtype in (torch.bool,) or perm.is_floating_point() or perm.is_complex() or perm.shape != (6,):
            return _verdict("07.1", False, form=f"{form}; got {perm.dtype} values of shape {tuple(perm.shape)}")
        if sorted(perm.tolist()) != list(range(6)):
            return _verdict("07.1", False, form=f"{form}; got {perm.tolist()}")
        best = (a - b[ot_permutation(a, b)]).pow(2).sum()
        costs.append(bool((a - b[perm.long()]).pow(2).sum() <= best + 1e-5))
        identity = identity and perm.tolist() == list(range(6))
    if all(costs):
        return _verdict("07.1", True)
    return _verdict("07.1", False, "identity" if identity else "not_cheapest")


def check_decay_straightness(straightness_decay: Callable[[], float]) -> bool | None:
    """07.2: straightness_decay() = S for the flow of v(x, t) = -x from X_0 ~ N(0, I_2), exactly, as the
    kinetic energy minus the squared chord (to 1e-4)."""
    check_callable("straightness_decay", straightness_decay, "straightness_decay()")
    ran, got = _run("07.2", lambda: _number("straightness_decay()", straightness_decay()))
    if ran is None:
        return None
    if isinstance(got, str):
        return _verdict("07.2", False, form=got)
    second_moment = 2.0  # E||X_0||^2
    kinetic = second_moment * (1 - math.exp(-2)) / 2
    chord = second_moment * (1 - math.exp(-1)) ** 2
    if abs(got - (kinetic - chord)) < 1e-4:
        return _verdict("07.2", True)
    known = {"kinetic": kinetic, "chord": chord, "one_coordinate": (kinetic - chord) / 2}
    return _verdict("07.2", False, next((k for k, v in known.items() if abs(got - v) < 1e-4), "general"))


# ---- 08 one step ---------------------------------------------------------------------------------
def check_decay_identity(vbar_decay: Callable[..., torch.Tensor], dvbar_dt: Callable[..., torch.Tensor],
                         partial_dt: Callable[..., torch.Tensor]) -> bool | None:
    """08.1: for v(x, t) = -x, vbar_decay(x, t, s) = its average velocity (n, 2) from t to s (closed form),
    dvbar_dt(x, t, s) = the total derivative d/dt vbar(X_t, t, s) along the trajectory and partial_dt(x, t, s)
    = the partial derivative of vbar(x, t, s) in t with x held fixed (closed forms), for floats t < s. The
    first is compared with an RK4 solve, the second with the MeanFlow identity vbar = v + (s - t) d/dt vbar,
    to 1e-6, and the third with central differences in t of your vbar_decay, to 1e-4: the identity gives the
    total derivative, not the partial one."""
    from .meanflow import average_velocity

    check_callable("vbar_decay", vbar_decay, "vbar_decay(x, t, s)")
    check_callable("dvbar_dt", dvbar_dt, "dvbar_dt(x, t, s)")
    check_callable("partial_dt", partial_dt, "partial_dt(x, t, s)")
    x = _points(50).double()
    intervals = [(0.0, 1.0), (0.2, 0.5), (0.6, 0.65)]
    ran, got = _run("08.1", lambda: [(vbar_decay(x.clone(), t, s), dvbar_dt(x.clone(), t, s), partial_dt(x.clone(), t, s))
                                     for t, s in intervals])
    if ran is None:
        return None
    vbars = [_tensor("vbar_decay(x, t, s)", v, tuple(x.shape)) for v, _, _ in got]
    derivatives = [_tensor("dvbar_dt(x, t, s)", d, tuple(x.shape)) for _, d, _ in got]
    partials = [_tensor("partial_dt(x, t, s)", p, tuple(x.shape)) for _, _, p in got]
    bad = next((g for g in vbars + derivatives + partials if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("08.1", False, form=bad)
    exact = [average_velocity(lambda y, tau: -y, x, t, s, n_steps=64, solver="rk4") for t, s in intervals]
    vbar_ok = all(_near(v, e, 1e-6) for v, e in zip(vbars, exact))
    if not vbar_ok:
        return _verdict("08.1", False, "instantaneous" if all(_near(v, -x, 1e-9) for v in vbars) else "general")
    # the partial derivative (x held fixed) by central differences of the (now checked) vbar_decay
    h = 1e-5
    fixed_x = [(vbar_decay(x.clone(), t + h, s) - vbar_decay(x.clone(), t - h, s)) / (2 * h) for t, s in intervals]
    fixed_x = [_tensor("vbar_decay", p, tuple(x.shape)) for p in fixed_x]
    if any(isinstance(p, str) for p in fixed_x):
        return _verdict("08.1", False, form=next(p for p in fixed_x if isinstance(p, str)))
    # the identity's derivative
    wanted = [(e + x) / (s - t) for e, (t, s) in zip(exact, intervals)]
    if not all(_near(d, w, 1e-6 / (s - t)) for d, w, (t, s) in zip(derivatives, wanted, intervals)):
        if all(_near(-d, w, 1e-5 / (s - t)) for d, w, (t, s) in zip(derivatives, wanted, intervals)):
            return _verdict("08.1", False, "sign")
        if all(_near(d, p, 1e-4) for d, p in zip(derivatives, fixed_x)):
            return _verdict("08.1", False, "partial")
        return _verdict("08.1", False)
    if all(_near(p, f, 1e-4) for p, f in zip(partials, fixed_x)):
        return _verdict("08.1", True)
    if all(_near(p, w, 1e-5 / (s - t)) for p, w, (t, s) in zip(partials, wanted, intervals)):
        return _verdict("08.1", False, "total")
    return _verdict("08.1", False, "general_partial")


def check_meanflow_sampler(my_sample: Callable[..., torch.Tensor]) -> bool | None:
    """08.2: my_sample(model, x_0, n_steps) gives exactly `fm.meanflow_sample`'s result (n, 2), for 1 and 3 steps."""
    from .meanflow import meanflow_sample
    from .models import MeanFlowMLP

    check_callable("my_sample", my_sample, "my_sample(model, x_0, n_steps)")
    model = MeanFlowMLP(seed=3)
    x_0 = sample_gaussian(200, generator=torch.Generator().manual_seed(9))
    ran, got = _run("08.2", lambda: [my_sample(model, x_0.clone(), n) for n in (1, 3)])  # copies: x += ... is fine
    if ran is None:
        return None
    got = [_tensor("my_sample(model, x_0, n_steps)", g, tuple(x_0.shape)) for g in got]
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("08.2", False, form=bad)
    if all(_near(g, meanflow_sample(model, x_0, n), 1e-5) for g, n in zip(got, (1, 3))):
        return _verdict("08.2", True)

    def jumps(n: int, same_time: bool = False, unit: bool = False) -> torch.Tensor:
        x = x_0.clone()
        with torch.no_grad():
            for k in range(n):
                t = torch.full((len(x), 1), k / n)
                x = x + (1.0 if unit else 1 / n) * model(x, t, t if same_time else t + 1 / n)
        return x

    known = {"instantaneous": {"same_time": True}, "step": {"unit": True}}
    key = next((k for k, kw in known.items() if _near(got[1], jumps(3, **kw), 1e-5)), "general")
    return _verdict("08.2", False, key)


# ---- 09 likelihood and score --------------------------------------------------------------------
def check_divergence_fd(my_divergence: Callable[..., torch.Tensor]) -> bool | None:
    """09.1: my_divergence(velocity, x, t) -> (n,) by central finite differences, within 1e-4 of fm.divergence."""
    check_callable("my_divergence", my_divergence, "my_divergence(velocity, x, t)")
    from .likelihood import divergence

    def swirl(x: torch.Tensor, t: Any) -> torch.Tensor:  # a field whose divergence is not known in advance
        t = torch.as_tensor(t, dtype=x.dtype).reshape(-1, 1).expand(len(x), 1)  # a float t, or (n,), or (n, 1)
        return torch.stack([t[:, 0] * x[:, 0] ** 2 - x[:, 1], x[:, 0] + torch.sin(x[:, 1])], dim=1)

    x = _points(40, seed=9).double()
    ran, got = _run("09.1", lambda: my_divergence(swirl, x.clone(), 0.7))
    if ran is None:
        return None
    got = _tensor("my_divergence(velocity, x, t)", got, (len(x),))
    if isinstance(got, str):
        return _verdict("09.1", False, form=got)
    exact = divergence(swirl, x, 0.7)
    if _near(got, exact, 1e-4):
        return _verdict("09.1", True)
    one = [divergence(lambda y, s, i=i: swirl(y, s) * torch.eye(2, dtype=y.dtype)[i], x, 0.7) for i in range(2)]
    if any(_near(got, k * d, 1e-3) for d in one for k in (1, 2)):
        return _verdict("09.1", False, "coordinates")
    return _verdict("09.1", False, "accuracy" if bool((got - exact).abs().max() < 0.5) else "general")


def check_trig_score(score_at: Callable[[torch.Tensor, float], torch.Tensor]) -> bool | None:
    """09.2: score_at(x, t) = grad log p_t(x) (n, 2) on the TRIG path (alpha = cos(pi t / 2), beta =
    sin(pi t / 2)), written from `fm.marginal_velocity(x, t, interpolant=fm.TrigInterpolant())` alone;
    compared with `fm.marginal_score(..., interpolant=fm.TrigInterpolant())` at two times."""
    from .interpolants import TrigInterpolant
    from .marginal import marginal_score

    check_callable("score_at", score_at, "score_at(x, t)")
    trig = TrigInterpolant()
    x = _points(60, seed=10).double()
    times = (0.2, 0.7)
    ran, got = _run("09.2", lambda: [score_at(x.clone(), t) for t in times])
    if ran is None:
        return None
    got = [_tensor("score_at(x, t)", g, tuple(x.shape)) for g in got]
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("09.2", False, form=bad)
    want = [marginal_score(x, t, interpolant=trig) for t in times]
    if all(_near(g, w, 1e-6) for g, w in zip(got, want)):
        return _verdict("09.2", True)
    # wrong answers in terms of the field v and the exact score: score = k(t) v - x
    field = [marginal_velocity(x, t, interpolant=trig) for t in times]
    gain = [float(((w + x) * v).sum() / v.pow(2).sum()) for w, v in zip(want, field)]
    known = {"linear": [(t * v - x) / (1 - t) for v, t in zip(field, times)],
             "sign": [k * v + x for k, v in zip(gain, field)],
             "factor": [k * math.pi / 2 * v - x for k, v in zip(gain, field)]}
    key = next((k for k, f in known.items() if all(_near(g, w, 1e-5) for g, w in zip(got, f))), "general")
    return _verdict("09.2", False, key)


# ---- 10 guidance ---------------------------------------------------------------------------------
def check_guided_at_start(guided_at_start: Callable[..., torch.Tensor]) -> bool | None:
    """10.1: guided_at_start(x, c, w) = the exact guided field v_w(x, 0 | c) (n, 2) of the linear path, at
    t = 0, for an int class c and a float weight w; checked on three classes (a corner, an edge and a
    centre cell) and four weights against `fm.guided_velocity`."""
    from .guidance import class_velocity, guided_velocity

    check_callable("guided_at_start", guided_at_start, "guided_at_start(x, c, w)")
    x = _points(60, seed=11).double()
    cases = [(c, w) for c in (1, 2, 3) for w in (0.0, 1.0, 2.0, 4.0)]
    ran, got = _run("10.1", lambda: [guided_at_start(x.clone(), c, w) for c, w in cases])  # copies: in place is fine
    if ran is None:
        return None
    got = [_tensor("guided_at_start(x, c, w)", g, tuple(x.shape)) for g in got]
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("10.1", False, form=bad)
    if all(_near(g, guided_velocity(x, 0.0, c, w), 1e-6) for g, (c, w) in zip(got, cases)):
        return _verdict("10.1", True)
    by_class = {c: [g for g, (cc, _) in zip(got, cases) if cc == c] for c in (1, 2, 3)}
    if all(_near(g, gs[0], 1e-9) for gs in by_class.values() for g in gs):
        return _verdict("10.1", False, "ignores_w")
    if all(_near(g, w * class_velocity(x, 0.0, c), 1e-6) for g, (c, w) in zip(got, cases)):
        return _verdict("10.1", False, "scales")
    # off by one small vector at every point: a mean of pi_1 estimated from samples instead of known
    offsets = [g - guided_velocity(x, 0.0, c, w) for g, (c, w) in zip(got, cases)]
    if all(bool((o - o[:1]).abs().max() < 1e-6) and float(o[0].norm()) < 0.2 for o in offsets):
        return _verdict("10.1", False, "estimated")
    return _verdict("10.1", False)


def check_trig_gain(gain: Callable[[float], float]) -> bool | None:
    """10.2: gain(t) = g(t) with v*(x, t | c) = v*(x, t) + g(t) grad_x log p_t(c | x) on the TRIG path
    (alpha = cos(pi t / 2), beta = sin(pi t / 2)), for 0 < t < 1; on the linear path g(t) = (1 - t) / t.

    Checked at five times against the package's exact fields and class score on the trig path (the
    ratio of v*(x, t | c) - v*(x, t) to grad log p_t(c | x), at 40 points and two classes), to 1e-6
    relative.
    """
    from .guidance import class_score, class_velocity
    from .interpolants import TrigInterpolant

    check_callable("gain", gain, "gain(t)")
    times = [0.1, 0.3, 0.5, 0.7, 0.9]
    ran, got = _run("10.2", lambda: [_number("gain(t)", gain(t)) for t in times])
    if ran is None:
        return None
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("10.2", False, form=bad)
    trig = TrigInterpolant()
    x = (_points(40, seed=13) * 0.8).double()
    want = []
    for t in times:
        ratios = []
        for c in (2, 5):
            difference = class_velocity(x, t, c, interpolant=trig) - marginal_velocity(x, t, interpolant=trig)
            score = class_score(x, t, c, interpolant=trig)
            ratios.append(float((difference * score).sum() / score.pow(2).sum()))
        want.append(ratios)
    if all(abs(g - w) <= 1e-6 * abs(w) for g, ws in zip(got, want) for w in ws):
        return _verdict("10.2", True)
    close = lambda values: all(abs(g - v) <= 1e-4 * abs(v) for g, v in zip(got, values))
    measured = [ws[0] for ws in want]
    known = {"linear": [(1 - t) / t for t in times],
             "tan": [(math.pi / 2) ** 2 / m for m in measured],   # the same factor, tan for cot
             "factor": [m / (math.pi / 2) for m in measured]}
    return _verdict("10.2", False, next((k for k, v in known.items() if close(v)), "general"))


# ---- 11 digits -----------------------------------------------------------------------------------
def check_log_odds(log_odds: Callable[[float, float], float]) -> bool | None:
    """11.1: log_odds(t, distance) = the mean over x_0 ~ N(0, I) of log(w_a / w_b), the log-ratio of the
    posterior weights of two references y_a, y_b at that distance, at x_t = (1 - t) x_0 + t y_a.

    Checked against the average over 2,000 x_0 in 64 dimensions, in antithetic pairs (x_0 and -x_0,
    so the term linear in x_0 cancels exactly), at five (t, distance), to 1e-6 relative.
    """
    check_callable("log_odds", log_odds, "log_odds(t, distance)")
    cases = [(0.2, 2.0), (0.5, 2.0), (0.5, 6.0), (0.8, 1.0), (0.9, 3.0)]
    ran, got = _run("11.1", lambda: [_number("log_odds(t, distance)", log_odds(t, d)) for t, d in cases])
    if ran is None:
        return None
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("11.1", False, form=bad)
    g = torch.Generator().manual_seed(11)
    z = torch.randn(1000, 64, generator=g, dtype=torch.float64)
    x_0 = torch.cat([z, -z])
    want = []
    for t, d in cases:
        y_a = torch.randn(64, generator=g, dtype=torch.float64)
        step = torch.randn(64, generator=g, dtype=torch.float64)
        y_b = y_a + d * step / step.norm()
        x_t = (1 - t) * x_0 + t * y_a
        log_w = lambda y: -(x_t - t * y).pow(2).sum(dim=1) / (2 * (1 - t) ** 2)
        want.append((log_w(y_a) - log_w(y_b)).mean().item())
    if all(abs(a - b) <= 1e-6 * abs(b) for a, b in zip(got, want)):
        return _verdict("11.1", True)
    close = lambda values: all(abs(a - b) <= 1e-4 * abs(b) for a, b in zip(got, values))
    known = {"squares": [w * (1 - t) / t for w, (t, _) in zip(want, cases)], "half": [2 * w for w in want]}
    key = next((k for k, v in known.items() if close(v)), "general")
    worst = max(range(len(cases)), key=lambda i: abs(got[i] - want[i]) / abs(want[i]))
    if key == "general":
        print(f"11.1: at (t, distance) = {cases[worst]} you gave {got[worst]:.4f}, "
              f"{'above' if got[worst] > want[worst] else 'below'} the average")
    return _verdict("11.1", False, key)


def check_hutchinson(my_hutchinson: Callable[..., torch.Tensor]) -> bool | None:
    """11.2: my_hutchinson(velocity, x, t, n_probes, generator) -> (n,) estimates of div v at x, each the
    average of eps^T (dv/dx) eps over n_probes random probes with E[eps eps^T] = I (+-1 or Gaussian).

    Checked on v = A x in 12-D (div v = trace A): over 4000 points with one probe the mean is within
    4 standard errors of the trace and the variance is that of +-1 or of Gaussian probes (within 20 %);
    16 probes divide the variance by about 16; on a nonlinear field, 2000 probes at a few points come
    close to `fm.divergence`'s exact answer.
    """
    from .likelihood import divergence

    check_callable("my_hutchinson", my_hutchinson, "my_hutchinson(velocity, x, t, n_probes, generator)")
    g = torch.Generator().manual_seed(12)
    a = torch.randn(12, 12, generator=g, dtype=torch.float64) / 3 + torch.eye(12, dtype=torch.float64)
    x = torch.randn(4000, 12, generator=g, dtype=torch.float64)
    linear = lambda y, s: y @ a.T
    bent = lambda y, s: torch.tanh(y) @ a.T + s * y

    def run() -> list[torch.Tensor]:  # copies of the points: an answer that writes into x is fine
        return [my_hutchinson(linear, x.clone(), 0.5, k, torch.Generator().manual_seed(k)) for k in (1, 16)] + \
               [my_hutchinson(bent, x[:5].clone(), 0.5, 2000, torch.Generator().manual_seed(3))]

    ran, got = _run("11.2", run)
    if ran is None:
        return None
    got = [_tensor("my_hutchinson(...)", v, (n,)) for v, n in zip(got, (4000, 4000, 5))]
    bad = next((v for v in got if isinstance(v, str)), None)
    if bad is not None:
        return _verdict("11.2", False, form=bad)
    one, sixteen, many = got
    trace = a.trace().item()
    sym = (a + a.T) / 2
    off = 2 * (sym.pow(2).sum() - sym.diagonal().pow(2).sum()).item()   # +-1 probes
    full = 2 * sym.pow(2).sum().item()                                   # Gaussian probes
    unbiased = abs(one.mean().item() - trace) < 4 * math.sqrt(full / len(one))
    spread = any(abs(one.var().item() / v - 1) < 0.2 for v in (off, full))
    averaged = 0.6 < one.var().item() / (16 * sixteen.var().item()) < 1.6 and \
        abs(sixteen.mean().item() - trace) < 4 * math.sqrt(full / 16 / len(one))
    close = bool(((many - divergence(bent, x[:5], 0.5)).abs() < 4 * math.sqrt(full * 2 / 2000) + 0.05).all())
    if unbiased and spread and averaged and close:
        return _verdict("11.2", True)
    if not unbiased:
        key = "no_derivative" if abs(one.mean().item()) < 4 * math.sqrt(full / len(one)) else "probes"
    elif not spread:
        key = "probes"
    elif not averaged:
        key = "summed" if abs(sixteen.mean().item() / trace - 16) < 1 else "general"
    else:
        key = "nonlinear"
    return _verdict("11.2", False, key)


# ---- 12 diffusion targets ------------------------------------------------------------------------
def check_data_from_score(data_from_score: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> bool | None:
    """12.1: data_from_score(x, score, t) -> (n, 2): the data view E[X_1 | X_t = x] on the TRIG path (alpha =
    cos(pi t / 2), beta = sin(pi t / 2)) at points x whose score grad log p_t(x) is `score`, for 0 < t < 1.

    Checked at four times on 300 points: given the exact score, the answer must be the exact posterior mean
    to 1e-8.
    """
    from .interpolants import TrigInterpolant
    from .marginal import marginal_posterior_mean, marginal_score

    check_callable("data_from_score", data_from_score, "data_from_score(x, score, t)")
    trig, times = TrigInterpolant(), (0.1, 0.4, 0.7, 0.95)
    x = _points(300, seed=12).double()
    exact = [(marginal_score(x, t, interpolant=trig), marginal_posterior_mean(x, t, interpolant=trig)) for t in times]
    ran, got = _run("12.1", lambda: [data_from_score(x.clone(), s.clone(), t) for t, (s, _) in zip(times, exact)])
    if ran is None:
        return None
    got = [_tensor("data_from_score(x, score, t)", g, tuple(x.shape)) for g in got]
    bad = next((g for g in got if isinstance(g, str)), None)
    if bad is not None:
        return _verdict("12.1", False, form=bad)
    if all(_near(g, m, 1e-8) for g, (_, m) in zip(got, exact)):
        return _verdict("12.1", True)
    alike = lambda wants: all(_near(g, w, 1e-6) for g, w in zip(got, wants))  # noqa: E731
    ab = [(math.cos(math.pi * t / 2), math.sin(math.pi * t / 2)) for t in times]
    known = {"linear": [(x + (1 - t) ** 2 * s) / t for t, (s, _) in zip(times, exact)],
             "sign": [(x - a * a * s) / b for (a, b), (s, _) in zip(ab, exact)],
             "square": [(x + a * s) / b for (a, b), (s, _) in zip(ab, exact)]}
    return _verdict("12.1", False, next((k for k, w in known.items() if alike(w)), "general"))


def check_worst_near_noise(worst_near_noise: Callable[[], tuple[str, float]]) -> bool | None:
    """12.2: worst_near_noise() -> (name, size): of the four views a network can predict ("velocity", "noise",
    "data", "score"), the one whose error of size 0.01 at t = 0.05 on the linear path moves the velocity
    most, and by how much (the size of the velocity's change).

    Checked against `Interpolant.velocity_gain` of each view (the slope of each conversion), to 1e-6 relative.
    """
    from .interpolants import PREDICTIONS, LinearInterpolant

    check_callable("worst_near_noise", worst_near_noise, "worst_near_noise()")
    ran, got = _run("12.2", worst_near_noise)
    if ran is None:
        return None
    if not isinstance(got, (tuple, list)) or len(got) != 2 or got[0] not in PREDICTIONS:
        return _verdict("12.2", False, "form")
    size = _number("the size", got[1])
    if isinstance(size, str):
        return _verdict("12.2", False, form=size)
    t = torch.tensor(0.05, dtype=torch.float64)
    gains = {name: float(LinearInterpolant().velocity_gain(t, prediction=name)) for name in PREDICTIONS}
    name = max(gains, key=gains.get)
    if got[0] != name:
        return _verdict("12.2", False, "name")
    if abs(size - 0.01 * gains[name]) > 1e-6 * 0.01 * gains[name]:
        return _verdict("12.2", False, "size")
    return _verdict("12.2", True)


def check_quadratic_rate(my_rate: Callable[..., torch.Tensor]) -> bool | None:
    """13.1: my_rate(marginals, x_t, t) -> (n, 2, V + 1), the rate of the chain that carries pi_t for the
    mask source and kappa_t = t^2, from the posterior marginals (n, 2, V) at states x_t (n, 2) (token V
    is the mask) and a time t in [0, 1).

    Checked against `fm.rate_from_posterior` (schedule "quadratic") on 200 states with random marginals,
    at four times, to 1e-9.
    """
    from .discrete import rate_from_posterior

    check_callable("my_rate", my_rate, "my_rate(marginals, x_t, t)")
    V, n = 8, 200
    g = torch.Generator().manual_seed(13)
    x_t = torch.randint(0, V + 1, (n, 2), generator=g)
    marginals = torch.softmax(torch.randn(n, 2, V, generator=g, dtype=torch.float64) * 2, dim=2)
    times = (0.1, 0.4, 0.7, 0.95)
    ran, got = _run("13.1", lambda: [my_rate(marginals.clone(), x_t.clone(), t) for t in times])
    if ran is None:
        return None
    got = [_tensor("my_rate(marginals, x_t, t)", v, (n, 2, V + 1)) for v in got]
    bad = next((v for v in got if isinstance(v, str)), None)
    if bad is not None:
        return _verdict("13.1", False, form=bad)
    want = [rate_from_posterior(marginals, x_t, t, source="mask", schedule="quadratic") for t in times]
    if all((a - b).abs().max().item() <= 1e-9 * (1 + b.abs().max().item()) for a, b in zip(got, want)):
        return _verdict("13.1", True)

    def close(scale: Callable[[float], float]) -> bool:  # the right shape of rate with another factor
        return all((a - b * scale(t)).abs().max().item() <= 1e-6 * (1 + b.abs().max().item())
                   for a, b, t in zip(got, want, times))

    if all(a.sum(dim=2).abs().max().item() > 1e-6 for a in got):
        key = "diagonal"
    elif close(lambda t: (1 - t * t) / (2 * t * (1 - t))):
        key = "linear"
    elif close(lambda t: (1 - t * t) / (1 - t)):
        key = "derivative"
    else:
        key = "general"
    return _verdict("13.1", False, key)


def check_masked_posterior(masked_posterior: Callable[[int], torch.Tensor]) -> bool | None:
    """13.2: masked_posterior(b) -> (V,), the law of the first coordinate of x_1 given x_t = (mask, b) for
    the mask source on the course's board with V = 32, the same at every t in (0, 1).

    Checked against `fm.posterior_marginals` at t = 0.2, 0.5 and 0.9, for every b, to 1e-9.
    """
    from .discrete import posterior_marginals

    check_callable("masked_posterior", masked_posterior, "masked_posterior(b)")
    V = 32
    ran, got = _run("13.2", lambda: [masked_posterior(b) for b in range(V)])
    if ran is None:
        return None
    got = [_tensor("masked_posterior(b)", v, (V,)) for v in got]
    bad = next((v for v in got if isinstance(v, str)), None)
    if bad is not None:
        return _verdict("13.2", False, form=bad)
    answer = torch.stack(got)  # (V, V): row b
    states = torch.stack([torch.full((V,), V), torch.arange(V)], dim=1)
    want = [posterior_marginals(states, t, V=V)[:, 0] for t in (0.2, 0.5, 0.9)]
    if all((answer - w).abs().max().item() <= 1e-9 for w in want):
        return _verdict("13.2", True)
    sums = answer.sum(dim=1)
    if ((sums - 1).abs() > 1e-6).any() and (answer / sums[:, None] - want[0]).abs().max().item() <= 1e-9:
        key = "unnormalised"
    elif (answer - answer[0]).abs().max().item() <= 1e-9:
        key = "marginal"
    else:
        key = "general"
    return _verdict("13.2", False, key)
