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


def check_gaussian_on_board(fraction: float) -> bool | None:
    """01.2: the fraction of pi_0 that lies on black cells, to within 0.005.

    The exact value is erf(sqrt 2)^2 / 2 = 0.4661; an estimate from 1e5 samples has a standard
    error of 0.0016, so 0.005 is about three of them, and a guess 0.01 off is refused.
    """
    exact = math.erf(math.sqrt(2)) ** 2 / 2
    return _verdict("01.2", abs(_as_float("fraction", fraction) - exact) < 0.005,
                    "estimate it with many samples (1e5 or more)")


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


def check_variance(var_x_t: Callable[[float], float]) -> bool | None:
    """02.2: var_x_t(t) = variance of the first coordinate of x_t (linear path)."""
    check_callable("var_x_t", var_x_t, "var_x_t(t)")
    ran, got = _run("02.2", lambda: [_as_float("var_x_t(t)", var_x_t(t)) for t in (0.0, 0.3, 0.7, 1.0)])
    if ran is None:
        return None
    want = [(1 - t) ** 2 + t**2 * 4 / 3 for t in (0.0, 0.3, 0.7, 1.0)]
    ok = all(abs(g - w) < 1e-6 for g, w in zip(got, want))
    return _verdict("02.2", ok, "X_0 and X_1 are independent; what is the variance of a uniform on [-2, 2]?")


# ---- 03 conditional vs marginal -----------------------------------------------------------------
def check_field_at_zero(v_zero: Callable[[torch.Tensor], torch.Tensor]) -> bool | None:
    """03.1: v_zero(x) = the exact marginal velocity at t = 0, without calling fm.marginal_velocity."""
    check_callable("v_zero", v_zero, "v_zero(x)")
    x = _points(50)
    ran, got = _run("03.1", lambda: v_zero(x))
    if ran is None:
        return None
    ok = _close(got, marginal_velocity(x, 0.0), atol=1e-5)
    return _verdict("03.1", ok, "at t = 0, X_t = X_0 tells nothing about X_1")


@functools.lru_cache(maxsize=None)
def _floor_reference() -> tuple[float, float]:
    """The floor at t = 0.3 and 0.8 from 100,000 pairs, computed once per session."""
    g = torch.Generator().manual_seed(1)
    x_0, x_1 = sample_gaussian(100_000, generator=g).double(), sample_checkerboard(100_000, generator=g).double()
    return tuple(cfm_loss(marginal_velocity, x_0, x_1, t).item() for t in (0.3, 0.8))


def check_floor_at(floor_at: Callable[[float], float]) -> bool | None:
    """03.2: floor_at(t) = E||u_t - v*(x_t, t)||^2 at one time t, to within 3 %, at t = 0.3 and 0.8.

    Two times that are not symmetric about 1/2, and whose floors differ (about 4.3 and 2.3), so an
    answer that ignores t, or that swaps x_0 and x_1 (t and 1 - t), is refused.
    """
    check_callable("floor_at", floor_at, "floor_at(t)")
    ran, got = _run("03.2", lambda: [_as_float("floor_at(t)", floor_at(t)) for t in (0.3, 0.8)])
    if ran is None:
        return None
    want = list(_floor_reference())
    ok = all(abs(a - b) < 0.03 * b for a, b in zip(got, want))
    return _verdict("03.2", ok, f"expected about {want[0]:.3f} at t = 0.3 and {want[1]:.3f} at t = 0.8, "
                                f"got {got[0]:.3f} and {got[1]:.3f}")


# ---- 04 training --------------------------------------------------------------------------------
def check_loss(my_loss: Callable[..., torch.Tensor]) -> bool | None:
    """04.1: my_loss(model, x_0, x_1, t) = the conditional flow matching loss (linear path)."""
    check_callable("my_loss", my_loss, "my_loss(model, x_0, x_1, t)")
    g = torch.Generator().manual_seed(2)
    x_0, x_1, t = torch.randn(64, 2, generator=g), torch.randn(64, 2, generator=g), torch.rand(64, 1, generator=g)

    def model(x, s):
        return 0.5 * x + s

    ran, got = _run("04.1", lambda: my_loss(model, x_0, x_1, t))
    if ran is None:
        return None
    ok = isinstance(got, torch.Tensor) and got.dim() == 0 and _close(got, cfm_loss(model, x_0, x_1, t), atol=1e-5)
    return _verdict("04.1", ok, "mean over the batch of the squared norm of (v_theta(x_t, t) - u_t)")


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
def check_euler(my_euler: Callable[..., torch.Tensor]) -> bool | None:
    """05.1: my_euler(velocity, x_0, n_steps) gives exactly fm.euler's result."""
    check_callable("my_euler", my_euler, "my_euler(velocity, x_0, n_steps)")
    x_0 = sample_gaussian(300, generator=torch.Generator().manual_seed(4))
    ran, got = _run("05.1", lambda: my_euler(marginal_velocity, x_0.clone(), 7))  # a copy: x += ... is fine
    if ran is None:
        return None
    ok = _close(got, euler(marginal_velocity, x_0, 7), atol=1e-5)
    return _verdict("05.1", ok, "t_k = k / n_steps, x <- x + v(x, t_k) / n_steps, with t of shape (n, 1)")


def check_smallest_steps(n_steps: int, fractions: dict[int, float]) -> bool | None:
    """05.2: the smallest T in `fractions` ({T: in-support fraction}) that reaches 0.995.

    (0.99 sat exactly on the notebook's value at T = 16, 2970 of 3000 samples: one sample would
    have flipped the answer; at 0.995 the nearest values are 15 and 26 samples away.)
    """
    n_steps = check_count("n_steps", n_steps, minimum=1)
    if not isinstance(fractions, dict) or not fractions:
        raise TypeError(f"fractions must be the dict {{T: fraction}} computed in the notebook, got {type(fractions).__name__}")
    want = min((T for T, f in fractions.items() if f >= 0.995), default=None)
    return _verdict("05.2", n_steps == want, "look for the first T whose fraction is at least 0.995")


# ---- 06 intermediate distributions --------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _mass_in_square(t: float, n: int = 400) -> float:
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

    def swirl(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # div = 2 t x_1 + cos(x_2): not known in advance
        return torch.stack([t[:, 0] * x[:, 0] ** 2 - x[:, 1], x[:, 0] + torch.sin(x[:, 1])], dim=1)

    x = _points(40, seed=9).double()
    ran, got = _run("09.1", lambda: my_divergence(swirl, x, 0.7))
    if ran is None:
        return None
    ok = _close(got, divergence(swirl, x, 0.7), atol=1e-4)
    return _verdict("09.1", ok, "sum over i of (v_i(x + h e_i) - v_i(x - h e_i)) / (2h), one value per point")


def check_linear_score(score_at: Callable[[torch.Tensor, float], torch.Tensor]) -> bool | None:
    """09.2: score_at(x, t) = grad log p_t(x) on the linear path from v*, without fm.marginal_score."""
    check_callable("score_at", score_at, "score_at(x, t)")
    from .marginal import marginal_score

    x = _points(60, seed=10).double()
    results = []
    for t in (0.2, 0.7):  # two asymmetric times: an answer that ignores t or swaps t and 1 - t fails
        ran, got = _run("09.2", lambda: score_at(x, t))
        if ran is None:
            return None
        results.append(_close(got, marginal_score(x, t), atol=1e-6))
    return _verdict("09.2", all(results), "m = x + (1 - t) v*, and x_t given x_1 is N(t x_1, (1 - t)^2 I)")


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


def check_straightness(my_straightness: Callable[..., float]) -> bool | None:
    """07.2: my_straightness(velocity, x_0, n_steps) -> S with Euler trajectories, equal to
    `fm.straightness(velocity, x_0, n_steps=n_steps, solver="euler")` to 1e-4 (relative).

    Checked on a constant field (S = 0) and on v(x, t) = -x (curved in speed), at two step
    counts, so an answer that returns 0, or that uses only t = 0, is refused.
    """
    from .metrics import straightness

    check_callable("my_straightness", my_straightness, "my_straightness(velocity, x_0, n_steps)")
    x_0 = sample_gaussian(500, generator=torch.Generator().manual_seed(8))
    fields = [lambda x, t: torch.ones_like(x) * torch.tensor([0.5, -1.0]), lambda x, t: -x]
    cases = [(f, n) for f in fields for n in (4, 16)]
    ran, got = _run("07.2", lambda: [_as_float("my_straightness(...)", my_straightness(f, x_0, n)) for f, n in cases])
    if ran is None:
        return None
    want = [straightness(f, x_0, n_steps=n, solver="euler") for f, n in cases]
    ok = all(abs(a - b) <= 1e-4 * max(1.0, abs(b)) for a, b in zip(got, want))
    return _verdict("07.2", ok, f"expected {', '.join(f'{w:.4f}' for w in want)}, got {', '.join(f'{g:.4f}' for g in got)}")


# ---- 08 one step ---------------------------------------------------------------------------------
def check_decay_average(u_decay: Callable[..., torch.Tensor]) -> bool | None:
    """08.1: u_decay(x, t, s) = the average velocity of v(x, t) = -x from t to s (closed form),
    for floats t < s; checked at three intervals against an RK4 solve (`fm.average_velocity`)."""
    from .meanflow import average_velocity

    check_callable("u_decay", u_decay, "u_decay(x, t, s)")
    x = _points(50).double()
    intervals = [(0.0, 1.0), (0.2, 0.5), (0.6, 0.65)]
    ran, got = _run("08.1", lambda: [u_decay(x, t, s) for t, s in intervals])
    if ran is None:
        return None
    ok = all(_close(g, average_velocity(lambda y, tau: -y, x, t, s, n_steps=64, solver="rk4"), 1e-6)
             for g, (t, s) in zip(got, intervals))
    return _verdict("08.1", ok, "X_s = x exp(-(s - t)); the average velocity is (X_s - x) / (s - t)")


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


def check_class_field(class_field: Callable[..., torch.Tensor]) -> bool | None:
    """10.2: class_field(x, t, c) = v*(x, t | c) on the linear path, from the posterior of X_1 restricted
    to cell c (without fm.class_velocity or the cell= keyword), to 1e-5, at t = 0.3 and 0.5 for two
    classes, on float64 points of [-2.4, 2.4]^2: there the plain difference of normal CDFs keeps
    enough digits (later, far points sit so deep in a tail that Phi(hi) - Phi(lo) rounds to 0; the
    package works in log space). The Gaussian mean x / t without the cell, and the cell's centre as
    the posterior mean, are refused."""
    from .marginal import marginal_velocity

    check_callable("class_field", class_field, "class_field(x, t, c)")
    x = (_points(200, seed=12) * 0.8).double()
    cases = [(t, c) for t in (0.3, 0.5) for c in (1, 4)]
    ran, got = _run("10.2", lambda: [class_field(x.clone(), t, c) for t, c in cases])
    if ran is None:
        return None
    ok = all(_close(g, marginal_velocity(x, t, cell=c), 1e-5) for g, (t, c) in zip(got, cases))
    return _verdict("10.2", ok, "per axis, X_1 given X_t = x and c is N(x / t, ((1 - t) / t)^2) restricted to the "
                                "cell's side; v* = (E[X_1 | x, c] - x) / (1 - t)")
