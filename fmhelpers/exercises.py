"""Check functions for the notebooks' exercises: call one with your answer to see if it holds.

Each check prints one line and returns True (solved), False (not yet right) or None (the
exercise still raises NotImplementedError). Worked solutions are in notebooks/solutions/.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import torch

import numpy as np

from ._checks import check_callable, check_count, check_number
from .distributions import in_checkerboard, sample_checkerboard, sample_gaussian
from .interpolants import Interpolant
from .marginal import marginal_velocity
from .solvers import euler
from .targets import cfm_loss


def _run(name: str, attempt: Callable[[], Any]) -> tuple[bool | None, Any]:
    try:
        return True, attempt()
    except NotImplementedError:
        print(f"{name}: not solved yet (replace the NotImplementedError with your code)")
        return None, None


def _verdict(name: str, ok: bool, hint: str) -> bool:
    print(f"{name}: {'correct!' if ok else 'not yet: ' + hint}")
    return ok


def _as_float(name: str, value: Any) -> float:
    """A student's number (Python, NumPy or a one-element tensor of any dtype) as a float."""
    try:
        return check_number(name, value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc} (the exercise asks for a single number)") from None


def _close(got: Any, want: torch.Tensor, atol: float) -> bool:
    """Whether an answer (a tensor of any float dtype, or a NumPy array) equals `want` to `atol`."""
    if isinstance(got, np.ndarray):
        got = torch.from_numpy(got)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        return False
    return torch.allclose(got.detach().cpu().to(torch.float64), want.detach().cpu().to(torch.float64), atol=atol)


def _points(n: int = 2000, seed: int = 0) -> torch.Tensor:
    return (torch.rand(n, 2, generator=torch.Generator().manual_seed(seed)) - 0.5) * 6


# ---- 01 problem setup ---------------------------------------------------------------------------
def check_is_black(is_black: Callable[[torch.Tensor], torch.Tensor]) -> bool | None:
    """01.1: is_black(x) -> bool mask of the points on black cells (grid 4 on [-2, 2]^2)."""
    check_callable("is_black", is_black, "is_black(x)")
    ran, got = _run("01.1", lambda: is_black(_points()))
    if ran is None:
        return None
    if isinstance(got, np.ndarray):
        got = torch.from_numpy(got)
    ok = isinstance(got, torch.Tensor) and got.shape == (2000,) and torch.equal(got.bool(), in_checkerboard(_points()))
    return _verdict("01.1", ok, "compare with fm.in_checkerboard on a few points; remember column + row odd")


def check_gaussian_on_board(gaussian_on_board: Callable[[], float]) -> bool | None:
    """01.2: gaussian_on_board() = P(X_0 on a black cell) exactly, as a formula, to within 1e-4.

    The exact value is erf(sqrt 2)^2 / 2 = 0.4555 (half of P(X_0 in [-2, 2]^2), by the reflection
    x -> -x of one axis, which swaps black and white cells and keeps the Gaussian). A Monte Carlo
    estimate is refused: its error with 1e5 samples is about 0.0016, far above 1e-4; so are the
    mass of the whole square (0.911) and erf(2)^2 / 2 (the wrong standardisation).
    """
    check_callable("gaussian_on_board", gaussian_on_board, "gaussian_on_board()")
    ran, got = _run("01.2", lambda: _as_float("gaussian_on_board()", gaussian_on_board()))
    if ran is None:
        return None
    exact = math.erf(math.sqrt(2)) ** 2 / 2
    return _verdict("01.2", abs(got - exact) < 1e-4,
                    "an exact formula: P(-2 < Z < 2) for one standard normal coordinate is erf(2 / sqrt 2); "
                    "the two coordinates are independent; and which share of the square is black?")


# ---- 02 interpolants ----------------------------------------------------------------------------
def check_schedule(cls: type) -> bool | None:
    """02.1: an Interpolant subclass with alpha_t = (1 - t)^2 and beta_t = 1 - (1 - t)^2."""
    if not (isinstance(cls, type) and issubclass(cls, Interpolant)):
        raise TypeError(f"cls must be your Interpolant subclass itself (the class, not an instance), got {cls!r}")
    try:
        ran, path = _run("02.1", cls)
    except ValueError as exc:  # the constructor refused the schedule
        return _verdict("02.1", False, str(exc))
    if ran is None:
        return None
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    ok = isinstance(path, Interpolant) and _close(path.alpha(t), (1 - t) ** 2, 1e-6) \
        and _close(path.d_beta(t), 2 * (1 - t), 1e-6)
    return _verdict("02.1", ok, "alpha_t = (1 - t)^2, beta_t = 1 - (1 - t)^2 and their derivatives")


def check_smallest_variance(smallest_variance: Callable[[], tuple[float, float]]) -> bool | None:
    """02.2: smallest_variance() = (t*, Var*): when the variance of a coordinate of x_t is smallest on
    the linear path, and its value, to within 1e-6 (exactly 3/7 and 4/7).

    Refused: (1/2, 7/12), the middle of the path; (4/7, 3/7), the two swapped; (0, 1), the source.
    """
    check_callable("smallest_variance", smallest_variance, "smallest_variance()")
    ran, got = _run("02.2", lambda: smallest_variance())
    if ran is None:
        return None
    try:
        t_star, var_star = (_as_float("smallest_variance()[i]", v) for v in got)
    except (TypeError, ValueError):
        return _verdict("02.2", False, "return two numbers: the time t* and the variance there")
    ok = abs(t_star - 3 / 7) < 1e-6 and abs(var_star - 4 / 7) < 1e-6
    return _verdict("02.2", ok, "Var(x_t) = (1 - t)^2 + (4/3) t^2 along one axis: set its derivative in t to zero")


# ---- 03 conditional vs marginal -----------------------------------------------------------------
def check_cell_field(v_cell: Callable[[torch.Tensor, float, int], torch.Tensor]) -> bool | None:
    """03.1: v_cell(x, t, c) = the exact marginal velocity of the linear path when pi_1 is uniform on
    the one black cell c (corner `fm.black_cells()[c]`, side 1), without `fm.marginal_velocity`;
    compared with `fm.marginal_velocity(x, t, cell=c)` at two times and two cells, to 1e-5.

    Refused: the field toward the cell's centre, (centre - x) / (1 - t) (the posterior is not a
    point mass); the untruncated posterior's, x / t; and the whole board's field.
    """
    check_callable("v_cell", v_cell, "v_cell(x, t, c)")
    cases = [(0.3, 1), (0.7, 6)]
    points = [_cell_points(t, c) for t, c in cases]  # where X_t given the cell has its mass
    ran, got = _run("03.1", lambda: [v_cell(x.clone(), t, c) for x, (t, c) in zip(points, cases)])
    if ran is None:
        return None
    ok = all(_close(g, marginal_velocity(x, t, cell=c), 1e-5) for g, x, (t, c) in zip(got, points, cases))
    return _verdict("03.1", ok, "given X_t = x, each coordinate of X_1 is N(x / t, ((1 - t) / t)^2) restricted to "
                                "the cell's side: its mean, then v = (m - x) / (1 - t)")


def _cell_points(t: float, c: int, n: int = 60) -> torch.Tensor:
    """n points of X_t = (1 - t) X_0 + t X_1 with X_1 uniform on black cell c (float64)."""
    from .distributions import black_cells

    g = torch.Generator().manual_seed(3 + c)
    x_1 = black_cells()[c] + torch.rand(n, 2, generator=g, dtype=torch.float64)
    return (1 - t) * torch.randn(n, 2, generator=g, dtype=torch.float64) + t * x_1


def check_floor_limits(floor_limits: Callable[[], tuple[float, float]]) -> bool | None:
    """03.2: floor_limits() = (the loss floor E||u_t - v*||^2 as t -> 0, and as t -> 1), to within
    0.03 (a careful Monte Carlo estimate near the ends also passes); exactly 8/3 and 2.

    Refused: (2, 8/3), the two swapped; (4/3, 1), one coordinate only; (0, 0).
    """
    check_callable("floor_limits", floor_limits, "floor_limits()")
    ran, got = _run("03.2", lambda: floor_limits())
    if ran is None:
        return None
    try:
        at_0, at_1 = (_as_float("floor_limits()[i]", v) for v in got)
    except (TypeError, ValueError):
        return _verdict("03.2", False, "return two numbers: the limit at t -> 0, then at t -> 1")
    ok = abs(at_0 - 8 / 3) < 0.03 and abs(at_1 - 2) < 0.03
    return _verdict("03.2", ok, "u_t = x_1 - x_0; at t -> 0, x_t = x_0 is known and x_1 is not (and at t -> 1?); "
                                "the floor is the spread left: E||X - E[X]||^2 of the unknown end, both coordinates")


# ---- 04 training --------------------------------------------------------------------------------
def check_x1_minimiser(minimiser: Callable[[torch.Tensor, float], torch.Tensor]) -> bool | None:
    """04.1: minimiser(x, t) = what v_theta(x, t) learns when the loop regresses on x_1 instead of
    x_1 - x_0, written with the package's exact functions; compared at two times, to 1e-4.

    It is E[X_1 | X_t = x] (`fm.marginal_posterior_mean`), the denoiser. Refused: v*(x, t) (the
    target did change), x itself, and the mean of pi_1 (it does depend on x).
    """
    check_callable("minimiser", minimiser, "minimiser(x, t)")
    x = _points(80, seed=4).double()
    times = (0.3, 0.8)
    ran, got = _run("04.1", lambda: [minimiser(x.clone(), t) for t in times])
    if ran is None:
        return None
    from .marginal import marginal_posterior_mean

    ok = all(_close(g, marginal_posterior_mean(x, t), 1e-4) for g, t in zip(got, times))
    return _verdict("04.1", ok, "the minimiser of E||target - v(x_t, t)||^2 over all functions of (x_t, t) is "
                                "E[target | x_t, t]; which fm function is E[X_1 | X_t = x]?")


def check_late_times(sample: Callable[[int, torch.Generator], torch.Tensor]) -> bool | None:
    """04.2: sample(n, generator) -> times of shape (n, 1) with density 2t on [0, 1]."""
    check_callable("sample", sample, "sample(n, generator)")
    ran, got = _run("04.2", lambda: sample(200_000, torch.Generator().manual_seed(3)))
    if ran is None:
        return None
    if isinstance(got, torch.Tensor) and not got.is_floating_point():
        return _verdict("04.2", False, f"times are real numbers in [0, 1]; your answer holds {got.dtype} values")
    ok = (isinstance(got, torch.Tensor) and got.shape == (200_000, 1) and bool((got >= 0).all() and (got <= 1).all())
          and abs(got.mean().item() - 2 / 3) < 0.005 and abs(got.var().item() - 1 / 18) < 0.003)
    return _verdict("04.2", ok, "invert the CDF t^2: if u is uniform, what is t?")


# ---- 05 Euler sampling --------------------------------------------------------------------------
def check_euler_decay(euler_factor: Callable[[int], float], leading_coefficient: Callable[[], float]) -> bool | None:
    """05.1: Euler with T steps on v(x, t) = -x maps x_0 to euler_factor(T) * x_0, exactly
    ((1 - 1/T)^T); the exact flow gives e^{-1} x_0; and the error behaves like c x_0 / T for large T
    with c = leading_coefficient() = -e^{-1} / 2 (to within 1e-3).

    Refused: (1 - 1/T)^(T - 1) (one step too few), c = +e^{-1} / 2 (the sign), c = -1/2 (without the
    e^{-1}).
    """
    check_callable("euler_factor", euler_factor, "euler_factor(T)")
    check_callable("leading_coefficient", leading_coefficient, "leading_coefficient()")
    steps = (1, 2, 7, 50)
    ran, got = _run("05.1", lambda: ([_as_float("euler_factor(T)", euler_factor(T)) for T in steps],
                                     _as_float("leading_coefficient()", leading_coefficient())))
    if ran is None:
        return None
    factors, c = got
    ok = all(abs(f - (1 - 1 / T) ** T) < 1e-9 for f, T in zip(factors, steps)) and abs(c + math.exp(-1) / 2) < 1e-3
    return _verdict("05.1", ok, "each step multiplies x by (1 - 1/T); for the error, expand T log(1 - 1/T) to order 1/T")


def check_smallest_steps(smallest_steps: Callable[[dict[int, float]], int], fractions: dict[int, float]) -> bool | None:
    """05.2: smallest_steps(fractions) = the smallest T in `fractions` ({T: in-support fraction})
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
    want = min((T for T, f in fractions.items() if f >= 0.995), default=None)
    return _verdict("05.2", isinstance(got, (int, np.integer)) and got == want,
                    "look for the first T whose fraction is at least 0.995")


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
    """06.1: mass_in_square(t) = P(X_t in [-2, 2]^2) from the exact density, to 1e-3, at t = 0.1 and 0.5.

    Not known in advance: it grows from erf(sqrt 2)^2 = 0.911 at t = 0 (pi_0's mass in the square)
    to 1 at t = 1, and is about 0.946 and 0.992 at the two times checked, so `return 1.0` (the
    mass of the whole plane, the old exercise's answer) fails.
    """
    check_callable("mass_in_square", mass_in_square, "mass_in_square(t)")
    times = (0.1, 0.5)
    ran, got = _run("06.1", lambda: [_as_float("mass_in_square(t)", mass_in_square(t)) for t in times])
    if ran is None:
        return None
    want = [_mass_in_square(t) for t in times]
    ok = all(abs(g - w) < 1e-3 for g, w in zip(got, want))
    return _verdict("06.1", ok, "midpoint rule on [-2, 2]^2: cell centres -2 + h (k + 1/2), sum of density * h^2")


def check_radius(radius_at: Callable[[float], float]) -> bool | None:
    """06.2: radius_at(t) = E||X_t||^2 for the linear path, to within 2 %."""
    check_callable("radius_at", radius_at, "radius_at(t)")
    times = (0.0, 0.5, 0.8, 1.0)
    ran, got = _run("06.2", lambda: [_as_float("radius_at(t)", radius_at(t)) for t in times])
    if ran is None:
        return None
    want = [2 * (1 - t) ** 2 + t**2 * 8 / 3 for t in times]
    ok = all(abs(g - w) < 0.02 * w for g, w in zip(got, want))
    return _verdict("06.2", ok, "E||X_t||^2 = alpha_t^2 E||X_0||^2 + beta_t^2 E||X_1||^2 (why no cross term?)")


# ---- 09 likelihood and score --------------------------------------------------------------------
def check_divergence_fd(my_divergence: Callable[..., torch.Tensor]) -> bool | None:
    """09.1: my_divergence(velocity, x, t) by central finite differences, within 1e-4 of fm.divergence."""
    check_callable("my_divergence", my_divergence, "my_divergence(velocity, x, t)")
    from .likelihood import divergence

    def swirl(x: torch.Tensor, t: Any) -> torch.Tensor:  # div = 2 t x_1 + cos(x_2): not known in advance
        t = torch.as_tensor(t, dtype=x.dtype).reshape(-1, 1).expand(len(x), 1)  # a float t, or (n,), or (n, 1)
        return torch.stack([t[:, 0] * x[:, 0] ** 2 - x[:, 1], x[:, 0] + torch.sin(x[:, 1])], dim=1)

    x = _points(40, seed=9).double()
    ran, got = _run("09.1", lambda: my_divergence(swirl, x, 0.7))
    if ran is None:
        return None
    ok = _close(got, divergence(swirl, x, 0.7), atol=1e-4)
    return _verdict("09.1", ok, "sum over i of (v_i(x + h e_i) - v_i(x - h e_i)) / (2h), one value per point")


def check_trig_score(score_at: Callable[[torch.Tensor, float], torch.Tensor]) -> bool | None:
    """09.2: score_at(x, t) = grad log p_t(x) on the TRIG path (alpha = cos(pi t / 2), beta =
    sin(pi t / 2)), written from `fm.marginal_velocity(x, t, interpolant=fm.TrigInterpolant())`
    alone; compared with `fm.marginal_score(..., interpolant=fm.TrigInterpolant())` at two times.

    It simplifies to (2 / pi) tan(pi t / 2) v* - x. Refused: the linear path's (t v - x) / (1 - t)
    applied to the trig field, the sign of x flipped, and the factor 2 / pi left out.
    """
    check_callable("score_at", score_at, "score_at(x, t)")
    from .interpolants import TrigInterpolant
    from .marginal import marginal_score

    x = _points(60, seed=10).double()
    results = []
    for t in (0.2, 0.7):
        ran, got = _run("09.2", lambda: score_at(x.clone(), t))
        if ran is None:
            return None
        results.append(_close(got, marginal_score(x, t, interpolant=TrigInterpolant()), atol=1e-6))
    return _verdict("09.2", all(results), "write m from v = (alpha'/alpha) x + (beta' - alpha' beta/alpha) m, "
                                          "then (beta m - x) / alpha^2, and simplify with cos and sin")


# ---- 07 straight paths --------------------------------------------------------------------------
def check_ot_pairing(my_pairing: Callable[[torch.Tensor, torch.Tensor], Any]) -> bool | None:
    """07.1: my_pairing(x_0, x_1) -> perm, a permutation with x_1[perm][i] paired to x_0[i] and the
    smallest total squared distance, for batches of 6 points (brute force is fine).

    Checked on five batches against `fm.ot_permutation`, by total cost (ties are allowed); the
    identity pairing and a pairing sorted by one coordinate are refused.
    """
    from .couplings import ot_permutation

    check_callable("my_pairing", my_pairing, "my_pairing(x_0, x_1)")
    g = torch.Generator().manual_seed(7)
    batches = [(sample_gaussian(6, generator=g), sample_checkerboard(6, generator=g)) for _ in range(5)]
    ran, got = _run("07.1", lambda: [my_pairing(a, b) for a, b in batches])
    if ran is None:
        return None
    ok = True
    for (a, b), perm in zip(batches, got):
        perm = torch.as_tensor(np.asarray(perm) if not isinstance(perm, torch.Tensor) else perm)
        if perm.shape != (6,) or sorted(perm.tolist()) != list(range(6)):
            return _verdict("07.1", False, "return a permutation of range(6): perm[i] is the row of x_1 paired with x_0[i]")
        best = (a - b[ot_permutation(a, b)]).pow(2).sum()
        ok = ok and bool((a - b[perm.long()]).pow(2).sum() <= best + 1e-5)
    return _verdict("07.1", ok, "try every permutation (itertools.permutations) and keep the cheapest")


def check_decay_straightness(straightness_decay: Callable[[], float]) -> bool | None:
    """07.2: straightness_decay() = S for the flow of v(x, t) = -x from X_0 ~ N(0, I_2), exactly,
    as kinetic energy minus squared chord: (1 - e^{-2}) - 2 (1 - e^{-1})^2 = 0.0655 (to 1e-4).

    Refused: the kinetic energy alone (0.865), the squared chord alone (0.799), and one coordinate's
    share (0.0328, forgetting that E||X_0||^2 = 2).
    """
    check_callable("straightness_decay", straightness_decay, "straightness_decay()")
    ran, got = _run("07.2", lambda: _as_float("straightness_decay()", straightness_decay()))
    if ran is None:
        return None
    exact = (1 - math.exp(-2)) - 2 * (1 - math.exp(-1)) ** 2
    return _verdict("07.2", abs(got - exact) < 1e-4, "X_t = X_0 e^{-t}: integrate E||v(X_t, t)||^2 over [0, 1], "
                                                      "and E||X_1 - X_0||^2; E||X_0||^2 = 2")


# ---- 08 one step ---------------------------------------------------------------------------------
def check_decay_identity(vbar_decay: Callable[..., torch.Tensor], dvbar_dt: Callable[..., torch.Tensor]) -> bool | None:
    """08.1: for v(x, t) = -x, vbar_decay(x, t, s) = its average velocity from t to s (closed form)
    and dvbar_dt(x, t, s) = the total derivative d/dt vbar(X_t, t, s) along the trajectory (closed
    form), for floats t < s; the first is compared with an RK4 solve, the second with the MeanFlow
    identity vbar = v + (s - t) d/dt vbar, both to 1e-6.

    Refused: the partial derivative d vbar / d t alone (the transport term (d vbar / d x) v is missing),
    its sign flipped, and the instantaneous velocity -x in place of the average.
    """
    from .meanflow import average_velocity

    check_callable("vbar_decay", vbar_decay, "vbar_decay(x, t, s)")
    check_callable("dvbar_dt", dvbar_dt, "dvbar_dt(x, t, s)")
    x = _points(50).double()
    intervals = [(0.0, 1.0), (0.2, 0.5), (0.6, 0.65)]
    ran, got = _run("08.1", lambda: [(vbar_decay(x.clone(), t, s), dvbar_dt(x.clone(), t, s)) for t, s in intervals])
    if ran is None:
        return None
    ok = True
    for (vbar, derivative), (t, s) in zip(got, intervals):
        exact = average_velocity(lambda y, tau: -y, x, t, s, n_steps=64, solver="rk4")
        derivative = torch.as_tensor(derivative) if isinstance(derivative, np.ndarray) else derivative
        ok = ok and _close(vbar, exact, 1e-6) and isinstance(derivative, torch.Tensor) \
            and _close(-x + (s - t) * derivative.to(x.dtype), exact, 1e-6)
    return _verdict("08.1", ok, "solve dX/dtau = -X from t to s for vbar; then d/dt vbar(X_t, t, s) = "
                                "(d vbar/d x) v + d vbar/d t, both terms")


def check_meanflow_sampler(my_sample: Callable[..., torch.Tensor]) -> bool | None:
    """08.2: my_sample(model, x_0, n_steps) gives exactly `fm.meanflow_sample`'s result (1 and 3 steps)."""
    from .meanflow import meanflow_sample
    from .models import MeanFlowMLP

    check_callable("my_sample", my_sample, "my_sample(model, x_0, n_steps)")
    model = MeanFlowMLP(seed=3)
    x_0 = sample_gaussian(200, generator=torch.Generator().manual_seed(9))
    ran, got = _run("08.2", lambda: [my_sample(model, x_0.clone(), n) for n in (1, 3)])  # copies: x += ... is fine
    if ran is None:
        return None
    ok = all(_close(g, meanflow_sample(model, x_0, n), 1e-5) for g, n in zip(got, (1, 3)))
    return _verdict("08.2", ok, "each step jumps from t_k = k/N to s = (k+1)/N with u(x, t_k, s) times 1/N")


# ---- 10 guidance ---------------------------------------------------------------------------------
def check_guided_at_start(guided_at_start: Callable[..., torch.Tensor]) -> bool | None:
    """10.1: guided_at_start(x, c, w) = the exact guided field v_w(x, 0 | c) of the linear path, at
    t = 0, for an int class c and a float weight w; checked on three classes (a corner, an edge and
    a centre cell) and four weights against `fm.guided_velocity`, so an answer that ignores w, or
    that scales the whole class field by w, is refused."""
    from .guidance import guided_velocity

    check_callable("guided_at_start", guided_at_start, "guided_at_start(x, c, w)")
    x = _points(60, seed=11).double()
    cases = [(c, w) for c in (1, 2, 3) for w in (0.0, 1.0, 2.0, 4.0)]
    ran, got = _run("10.1", lambda: [guided_at_start(x.clone(), c, w) for c, w in cases])  # copies: in place is fine
    if ran is None:
        return None
    ok = all(_close(g, guided_velocity(x, 0.0, c, w), 1e-6) for g, (c, w) in zip(got, cases))
    return _verdict("10.1", ok, "at t = 0, X_t = X_0 says nothing about X_1: each field aims at the mean of its "
                                "target (the centre of cell c, or the mean of the whole board)")


def check_trig_gain(gain: Callable[[float], float]) -> bool | None:
    """10.2: gain(t) = g(t) with v*(x, t | c) = v*(x, t) + g(t) grad_x log p_t(c | x) on the TRIG path
    (alpha = cos(pi t / 2), beta = sin(pi t / 2)), for 0 < t < 1; on the linear path g(t) = (1 - t) / t.

    Checked at five times against the package's exact fields and class score on the trig path (the
    ratio of v*(x, t | c) - v*(x, t) to grad log p_t(c | x), at 40 points and two classes), to 1e-6
    relative. Refused: the linear path's (1 - t) / t, tan in place of cot, and the gain without pi / 2.
    """
    from .guidance import class_score, class_velocity
    from .interpolants import TrigInterpolant
    from .marginal import marginal_velocity

    check_callable("gain", gain, "gain(t)")
    times = [0.1, 0.3, 0.5, 0.7, 0.9]
    ran, got = _run("10.2", lambda: [_as_float("gain(t)", gain(t)) for t in times])
    if ran is None:
        return None
    trig = TrigInterpolant()
    x = (_points(40, seed=13) * 0.8).double()
    ok = True
    for t, g in zip(times, got):
        for c in (2, 5):
            difference = class_velocity(x, t, c, interpolant=trig) - marginal_velocity(x, t, interpolant=trig)
            score = class_score(x, t, c, interpolant=trig)
            want = float((difference * score).sum() / score.pow(2).sum())
            ok = ok and abs(g - want) <= 1e-6 * abs(want)
    return _verdict("10.2", ok, "write both scores through their fields with notebook 09's trig-path formula "
                                "(exercise 09.2) and subtract; the x terms cancel")


# ---- 11 digits -----------------------------------------------------------------------------------
def check_log_odds(log_odds: Callable[[float, float], float]) -> bool | None:
    """11.1: log_odds(t, distance) = the mean over x_0 ~ N(0, I) of log(w_a / w_b), the log-ratio of the
    posterior weights of two references y_a, y_b at that distance, at x_t = (1 - t) x_0 + t y_a.

    Checked against the average over 2,000 x_0 in 64 dimensions, in antithetic pairs (x_0 and -x_0,
    so the term linear in x_0 cancels exactly), at five (t, distance), to 1e-6 relative; forgetting
    a square or the 1/2 is refused.
    """
    check_callable("log_odds", log_odds, "log_odds(t, distance)")
    cases = [(0.2, 2.0), (0.5, 2.0), (0.5, 6.0), (0.8, 1.0), (0.9, 3.0)]
    ran, got = _run("11.1", lambda: [_as_float("log_odds(t, distance)", log_odds(t, d)) for t, d in cases])
    if ran is None:
        return None
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
    ok = all(abs(a - b) <= 1e-6 * abs(b) for a, b in zip(got, want))
    worst = max(range(len(cases)), key=lambda i: abs(got[i] - want[i]) / abs(want[i]))
    return _verdict("11.1", ok, f"at (t, distance) = {cases[worst]} the average is {want[worst]:.4f}, you gave "
                                f"{got[worst]:.4f}; write x_t - t y_b = (1 - t) x_0 + t (y_a - y_b) and average over x_0")


def check_hutchinson(my_hutchinson: Callable[..., torch.Tensor]) -> bool | None:
    """11.2: my_hutchinson(velocity, x, t, n_probes, generator) -> (n,) estimates of div v at x, each the
    average of eps^T (dv/dx) eps over n_probes random probes with E[eps eps^T] = I (+-1 or Gaussian).

    Checked on v = A x in 12-D (div v = trace A): over 4000 points with one probe the mean is within
    4 standard errors of the trace and the variance is that of +-1 or of Gaussian probes (within 20 %);
    16 probes divide the variance by about 16; on a nonlinear field, 2000 probes at a few points come
    close to `fm.divergence`'s exact answer. eps . v (no derivative), uniform probes in [0, 1) and a
    sum over the probes instead of a mean are refused.
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
    got = [torch.as_tensor(np.asarray(v) if isinstance(v, np.ndarray) else v) for v in got]
    if [tuple(v.shape) for v in got] != [(4000,), (4000,), (5,)] or not all(v.is_floating_point() for v in got):
        return _verdict("11.2", False, "return one floating-point estimate per point, shape (n,)")
    one, sixteen, many = (v.detach().cpu().double() for v in got)
    sym = (a + a.T) / 2
    off = 2 * (sym.pow(2).sum() - sym.diagonal().pow(2).sum()).item()   # +-1 probes
    full = 2 * sym.pow(2).sum().item()                                   # Gaussian probes
    unbiased = abs(one.mean().item() - a.trace().item()) < 4 * math.sqrt(full / len(one))
    spread = any(abs(one.var().item() / v - 1) < 0.2 for v in (off, full))
    averaged = 0.6 < one.var().item() / (16 * sixteen.var().item()) < 1.6 and \
        abs(sixteen.mean().item() - a.trace().item()) < 4 * math.sqrt(full / 16 / len(one))
    exact = divergence(bent, x[:5], 0.5)
    close = bool(((many - exact).abs() < 4 * math.sqrt(full * 2 / 2000) + 0.05).all())
    if not unbiased:
        hint = (f"with one probe your mean over 4000 points is {one.mean().item():.3f}, the divergence is "
                f"{a.trace().item():.3f}: each probe needs mean 0 and E[eps eps^T] = I, and eps^T (dv/dx) needs a gradient")
    elif not spread:
        hint = (f"your one-probe estimates vary by {one.var().item():.2f} (variance); +-1 probes give {off:.2f}, "
                f"Gaussian ones {full:.2f}")
    elif not averaged:
        hint = "with n_probes = 16 the estimate should be the mean over the 16 probes (variance 16 times smaller)"
    else:
        hint = "close on v = A x, but not on a nonlinear field: evaluate the Jacobian at the points x themselves"
    return _verdict("11.2", unbiased and spread and averaged and close, hint)
