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
