"""Interpolants x_t = alpha_t x_0 + beta_t x_1 with alpha_0 = beta_1 = 1 and alpha_1 = beta_0 = 0.

A new schedule is a subclass that defines `alpha`, `beta`, `d_alpha` and `d_beta` as functions of a
tensor t; the constructor checks the boundary conditions and that the derivatives match the
schedule (by central differences), so a typo fails at once instead of in training. Any subclass can
be trained: `fm.train(model, interpolant=MySchedule())`.

The path also owns the conversions between the four views of one posterior, for a Gaussian
source x_0 ~ N(0, I) drawn apart from x_1: the noise e = E[X_0 | X_t = x], the data (posterior
mean) m = E[X_1 | X_t = x], the score grad log p_t(x) and the velocity v. Taking E[. | X_t = x]
of x_t = alpha x_0 + beta x_1 and of u_t = alpha' x_0 + beta' x_1 gives two linear equations,

    x = alpha e + beta m,        v = alpha' e + beta' m,

whose determinant is D = alpha beta' - beta alpha' (1 on the linear path, pi/2 on the trig one),
and Tweedie's formula for the Gaussian source gives the score, score = -e / alpha. Solving:

    e = (beta' x - beta v) / D              v = (beta' / beta) x - (D / beta) e
    m = (alpha v - alpha' x) / D            v = (alpha' / alpha) x + (D / alpha) m
    score = (beta v - beta' x) / (alpha D)  v = (beta' / beta) x + (alpha D / beta) score

(D / alpha = beta' - alpha' beta / alpha is `Coefficients.gain`.) From the velocity every view is
defined wherever D != 0; into the velocity, the noise and the score divide by beta (no
information about m at t = 0) and the data by alpha (none about e at t = 1). `PREDICTIONS` holds
the four, name -> `Prediction(to_velocity, from_velocity, ...)`; `Coefficients.convert` goes from
any to any through the velocity. The first two equations use only linearity, so the noise and data
views hold for any coupling of x_0 and x_1; the score needs the independent Gaussian source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from ._checks import check_choice, check_points, check_time, common_dtype, time_column

_BOUNDARY_TOL = 1e-6
_DERIVATIVE_TOL = 1e-3


@dataclass(frozen=True)
class Coefficients:
    """alpha_t, beta_t and their time derivatives at checked times, each shaped like t ((n, 1) or ()).

    Its methods are plain tensor arithmetic on points x of shape (n, d) (no checks: the times were
    checked by `Interpolant.coefficients`, and the shapes must broadcast).
    """

    alpha_t: torch.Tensor
    beta_t: torch.Tensor
    d_alpha_t: torch.Tensor
    d_beta_t: torch.Tensor

    @property
    def gain(self) -> torch.Tensor:
        """beta' - alpha' beta / alpha: how much the velocity moves per unit of posterior mean."""
        return self.d_beta_t - self.d_alpha_t * self.beta_t / self.alpha_t

    def interpolate(self, x_0: torch.Tensor, x_1: torch.Tensor) -> torch.Tensor:
        """x_t = alpha_t x_0 + beta_t x_1."""
        return self.alpha_t * x_0 + self.beta_t * x_1

    def conditional_velocity(self, x_0: torch.Tensor, x_1: torch.Tensor) -> torch.Tensor:
        """u_t = alpha'_t x_0 + beta'_t x_1."""
        return self.d_alpha_t * x_0 + self.d_beta_t * x_1

    def velocity(self, x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        """The velocity at x whose posterior mean E[X_1 | X_t = x] is `mean`:
        v = (alpha'/alpha) x + (beta' - alpha' beta / alpha) m."""
        return (self.d_alpha_t / self.alpha_t) * x + (self.d_beta_t - self.d_alpha_t * self.beta_t / self.alpha_t) * mean

    def posterior_mean(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """The inverse of `velocity`: m = (v - (alpha'/alpha) x) / gain. Where the gain is 0 (at
        t = 0 for a schedule with alpha'(0) = beta'(0) = 0) v says nothing about m: NaN there."""
        gain = self.gain
        safe = torch.where(gain == 0, torch.ones_like(gain), gain)
        mean = (v - (self.d_alpha_t / self.alpha_t) * x) / safe
        return torch.where(gain == 0, torch.full_like(mean, float("nan")), mean)

    def score(self, x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        """grad log p_t(x) = (beta m - x) / alpha^2; where beta = 0 (t = 0) it is -x / alpha^2
        whatever m is (x_t is x_0 itself there)."""
        pulled = torch.where(self.beta_t == 0, torch.zeros_like(mean), self.beta_t * mean)
        return (pulled - x) / self.alpha_t.pow(2)

    def score_from_velocity(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """The score a velocity implies: `score(x, posterior_mean(x, v))`, defined at t = 0 too."""
        return self.score(x, self.posterior_mean(x, v))

    @property
    def determinant(self) -> torch.Tensor:
        """D = alpha beta' - beta alpha', the determinant of x = alpha e + beta m, v = alpha' e + beta' m
        (1 on the linear path, pi/2 on the trig one; 0 only where the path stands still)."""
        return self.alpha_t * self.d_beta_t - self.beta_t * self.d_alpha_t

    def noise(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """E[X_0 | X_t = x] from the velocity: e = (beta' x - beta v) / D (no division by alpha or beta)."""
        return (self.d_beta_t * x - self.beta_t * v) / self.determinant

    def data(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """E[X_1 | X_t = x] from the velocity: m = (alpha v - alpha' x) / D, the same as `posterior_mean`
        written without the division by alpha, so it holds at t = 1 too (m = x there)."""
        return (self.alpha_t * v - self.d_alpha_t * x) / self.determinant

    def score_of_velocity(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """grad log p_t(x) from the velocity: -e / alpha = (beta v - beta' x) / (alpha D) (infinite at t = 1;
        `score_from_velocity` is the same through the posterior mean)."""
        return (self.beta_t * v - self.d_beta_t * x) / (self.alpha_t * self.determinant)

    def velocity_from_noise(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """v from e = E[X_0 | X_t = x]: v = (beta' / beta) x - (D / beta) e (m = (x - alpha e) / beta);
        undefined at t = 0, where x is x_0 itself and e says nothing about X_1."""
        return (self.d_beta_t * x - self.determinant * noise) / self.beta_t

    def velocity_from_data(self, x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        """v from m = E[X_1 | X_t = x]: v = (alpha' / alpha) x + (D / alpha) m (`velocity`, written with D);
        undefined at t = 1, where x is x_1 itself and m says nothing about X_0."""
        return (self.d_alpha_t * x + self.determinant * mean) / self.alpha_t

    def velocity_from_score(self, x: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
        """v from the score s: e = -alpha s, so v = (beta' / beta) x + (alpha D / beta) s; undefined at t = 0."""
        return (self.d_beta_t * x + self.alpha_t * self.determinant * score) / self.beta_t

    def velocity_gain(self, prediction: str) -> torch.Tensor:
        """|d v / d y|: how much the velocity moves per unit of the `prediction` view y (each conversion
        into the velocity is v = a x + b y, this is |b|): 1, D / beta (noise), D / alpha (data),
        alpha D / beta (score). No checks."""
        zero = torch.zeros_like(self.alpha_t)
        return PREDICTIONS[prediction].to_velocity(self, zero, torch.ones_like(zero)).abs()

    def convert(self, x: torch.Tensor, value: torch.Tensor, source: str, target: str) -> torch.Tensor:
        """`value`, the `source` view at x ("velocity", "noise", "data" or "score"), as the `target` view:
        `PREDICTIONS[target].from_velocity(self, x, PREDICTIONS[source].to_velocity(self, x, value))`.
        No checks (see `Interpolant.convert`)."""
        v = PREDICTIONS[source].to_velocity(self, x, value)
        return PREDICTIONS[target].from_velocity(self, x, v)


def _same(c: Coefficients, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return y


def _pair_velocity(x_0: torch.Tensor, x_1: torch.Tensor, u_t: torch.Tensor, c: Coefficients) -> torch.Tensor:
    return u_t


def _pair_noise(x_0: torch.Tensor, x_1: torch.Tensor, u_t: torch.Tensor, c: Coefficients) -> torch.Tensor:
    return x_0


def _pair_data(x_0: torch.Tensor, x_1: torch.Tensor, u_t: torch.Tensor, c: Coefficients) -> torch.Tensor:
    return x_1


def _pair_scaled_score(x_0: torch.Tensor, x_1: torch.Tensor, u_t: torch.Tensor, c: Coefficients) -> torch.Tensor:
    return -x_0


def _noise_goal(c: Coefficients, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return c.noise(x, v)


def _data_goal(c: Coefficients, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return c.data(x, v)


def _scaled_score_goal(c: Coefficients, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return -c.noise(x, v)


def _unscaled(c: Coefficients, y: torch.Tensor) -> torch.Tensor:
    return y


def _times_alpha(c: Coefficients, y: torch.Tensor) -> torch.Tensor:
    return c.alpha_t * y


def _keep_time(t: torch.Tensor, t_eps: float) -> torch.Tensor:
    return t


def _time_above(t: torch.Tensor, t_eps: float) -> torch.Tensor:
    return t.clamp_min(t_eps)


def _time_below(t: torch.Tensor, t_eps: float) -> torch.Tensor:
    return t.clamp_max(1 - t_eps)


@dataclass(frozen=True)
class Prediction:
    """What a network can predict at (x, t), and how it becomes a velocity and is trained.

    Attributes:
        to_velocity, from_velocity: (c, x, y) -> the velocity of the view y, and back (module docstring).
        pair_goal: (x_0, x_1, u_t, c) -> what the training loss compares with for one pair: u_t,
            x_0, x_1, or -x_0 for the score (see `scale_output`).
        goal_from_velocity: (c, x, v) -> the same from an estimate v of the marginal velocity (the
            "minibatch" and "exact" targets): the view of v, scaled as `scale_output` says.
        scale_output: (c, y) -> what the loss compares the network's answer y with the goal as: y
            itself, or alpha_t y for the score, so that the score's loss is ||alpha_t s_theta + x_0||^2,
            denoising score matching with the weight alpha_t^2 (Song et al. 2021's lambda(t) = sigma_t^2).
            Unweighted, the pair's score -x_0 / alpha_t has variance d / alpha_t^2, whose integral over t
            diverges on the linear path; the weight leaves each time's minimiser (the score) as it is.
        usable_time: (t, t_eps) -> the times at which the conversion to a velocity is evaluated: t
            itself, at least t_eps where it divides by beta (noise, score), at most 1 - t_eps where it
            divides by alpha (data).
        needs_independent: the view is only defined for independent pairs with the Gaussian source
            (the score, by Tweedie's formula).
        is_velocity: the view is the velocity itself (the network is already a velocity field).
    """

    to_velocity: Callable[[Coefficients, torch.Tensor, torch.Tensor], torch.Tensor]
    from_velocity: Callable[[Coefficients, torch.Tensor, torch.Tensor], torch.Tensor]
    pair_goal: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, Coefficients], torch.Tensor]
    goal_from_velocity: Callable[[Coefficients, torch.Tensor, torch.Tensor], torch.Tensor]
    scale_output: Callable[[Coefficients, torch.Tensor], torch.Tensor] = _unscaled
    usable_time: Callable[[torch.Tensor, float], torch.Tensor] = _keep_time
    needs_independent: bool = False
    is_velocity: bool = False


# name -> Prediction: what a network predicts at (x, t); every one converts to and from the velocity
PREDICTIONS: dict[str, Prediction] = {
    "velocity": Prediction(_same, _same, _pair_velocity, _same, is_velocity=True),
    "noise": Prediction(Coefficients.velocity_from_noise, Coefficients.noise, _pair_noise, _noise_goal,
                        usable_time=_time_above),
    "data": Prediction(Coefficients.velocity_from_data, Coefficients.data, _pair_data, _data_goal,
                       usable_time=_time_below),
    "score": Prediction(Coefficients.velocity_from_score, Coefficients.score_of_velocity, _pair_scaled_score,
                        _scaled_score_goal, scale_output=_times_alpha, usable_time=_time_above,
                        needs_independent=True),
}


def schedule_time(t: Any) -> torch.Tensor:
    """t for a schedule function: a tensor as it is (the package's fast path), else checked."""
    return t if isinstance(t, torch.Tensor) else check_time("t", t)


class Interpolant:
    """Base class: subclasses define alpha(t), beta(t), d_alpha(t) and d_beta(t) on tensors."""

    name = "interpolant"

    def __init__(self) -> None:
        self._check_schedule()

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        """alpha_t, the weight of x_0."""
        raise NotImplementedError

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        """beta_t, the weight of x_1."""
        raise NotImplementedError

    def d_alpha(self, t: torch.Tensor) -> torch.Tensor:
        """d alpha_t / dt."""
        raise NotImplementedError

    def d_beta(self, t: torch.Tensor) -> torch.Tensor:
        """d beta_t / dt."""
        raise NotImplementedError

    def _evaluate(self, key: str, t: torch.Tensor) -> torch.Tensor:
        """One schedule function on the check's times, refused clearly unless it returns finite
        values shaped like t (a Python float from math.cos, a list, NaN ...)."""
        name = type(self).__name__
        try:
            value = getattr(self, key)(t)
        except NotImplementedError:
            raise
        except Exception as exc:  # a schedule written with math.* on a tensor, say
            raise ValueError(f"{name}: {key}(t) failed on a tensor of times ({type(exc).__name__}: {exc}); "
                             f"write it with torch functions (torch.cos, not math.cos)") from exc
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = torch.full_like(t, float(value))
        if not isinstance(value, torch.Tensor) or value.shape != t.shape:
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"{name}: {key}(t) must return a tensor shaped like t {tuple(t.shape)}, got {got}")
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name}: {key}(t) returned NaN or infinite values on [0, 1]")
        return value.to(torch.float64)

    def _check_schedule(self) -> None:
        ends = torch.tensor([0.0, 1.0], dtype=torch.float64)
        want = {"alpha": (1.0, 0.0), "beta": (0.0, 1.0)}
        for key, targets in want.items():
            for t_end, value, target in zip((0, 1), self._evaluate(key, ends).tolist(), targets):
                if abs(value - target) > _BOUNDARY_TOL:
                    raise ValueError(f"{type(self).__name__}: {key}({t_end}) must be {target}, got {value:.6g}")
        t = torch.linspace(0.1, 0.9, 9, dtype=torch.float64)
        h = 1e-5
        for key in ("alpha", "beta"):
            numeric = (self._evaluate(key, t + h) - self._evaluate(key, t - h)) / (2 * h)
            err = (self._evaluate("d_" + key, t) - numeric).abs().max().item()
            if err > _DERIVATIVE_TOL:
                raise ValueError(f"{type(self).__name__}: d_{key} does not match {key} (max error {err:.3g})")

    def coefficients(self, t: Any) -> Coefficients:
        """All four coefficients at t (float, shape (n,) or (n, 1); returned with t's shape, (n, 1) for (n,))."""
        return self.raw_coefficients(check_time("t", t))

    def raw_coefficients(self, t: torch.Tensor) -> Coefficients:
        """`coefficients`' core, no checks (a training step calls it): t a tensor already in [0, 1]."""
        return Coefficients(self.alpha(t), self.beta(t), self.d_alpha(t), self.d_beta(t))

    def interpolate(self, x_0: torch.Tensor, x_1: torch.Tensor, t: Any) -> torch.Tensor:
        """x_t = alpha_t x_0 + beta_t x_1.

        Args:
            x_0: source points, shape (n, d).
            x_1: target points, shape (n, d) (float32 and float64 mix: the result has the wider dtype).
            t: float, or shape (n,) or (n, 1), in [0, 1].

        Returns:
            x_t, shape (n, d).
        """
        x_0, x_1, t = self.check_pair(x_0, x_1, t)
        return self.coefficients(t).interpolate(x_0, x_1)

    def conditional_velocity(self, x_0: torch.Tensor, x_1: torch.Tensor, t: Any) -> torch.Tensor:
        """u_t = d_alpha_t x_0 + d_beta_t x_1, the velocity of the path through x_0 and x_1.

        Args and shapes as in `interpolate`; returns shape (n, d).
        """
        x_0, x_1, t = self.check_pair(x_0, x_1, t)
        return self.coefficients(t).conditional_velocity(x_0, x_1)

    def point_and_velocity(self, x_0: torch.Tensor, x_1: torch.Tensor, t: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_t, u_t) in one pass: the inputs are checked once, each coefficient computed once.

        Args and shapes as in `interpolate`; returns two tensors of shape (n, d).
        """
        x_0, x_1, t = self.check_pair(x_0, x_1, t)
        c = self.coefficients(t)
        return c.interpolate(x_0, x_1), c.conditional_velocity(x_0, x_1)

    def convert(self, x: torch.Tensor, value: torch.Tensor, t: Any, *, source: str, target: str) -> torch.Tensor:
        """One view of the posterior at (x, t) as another (`PREDICTIONS`, formulas in the module docstring).

        Args:
            x: points, shape (n, d).
            value: the `source` view at x, shape (n, d) (the same dtype rules as `interpolate`).
            t: a float, or shape (n,) or (n, 1), in [0, 1].
            source, target: each one of "velocity", "noise", "data", "score".

        Returns:
            (n, d): NaN or infinite where the conversion divides by a coefficient that is 0 (into the
            velocity: the noise and score at t = 0, the data at t = 1; the score at t = 1).
        """
        check_choice("source", source, tuple(PREDICTIONS))
        check_choice("target", target, tuple(PREDICTIONS))
        check_points("x", x, dim=None)
        check_points("value", value, dim=x.shape[1])
        if len(value) != len(x) or value.device != x.device:
            raise ValueError(f"value must hold one row per point of x on its device, got {tuple(value.shape)} on "
                             f"{value.device} for x {tuple(x.shape)} on {x.device}")
        x, value, t = common_dtype(x, value, time_column(t, x))
        return self.coefficients(t).convert(x, value, source, target)

    def velocity_gain(self, t: Any, *, prediction: str) -> torch.Tensor:
        """|d v / d y| at t: an error of size err in a network's `prediction` y moves the velocity the
        sampler integrates by gain * err (the conversion into the velocity is affine in y at each (x, t)).

        Args:
            t: a float, or shape (n,) or (n, 1), in [0, 1].
            prediction: one of "velocity", "noise", "data", "score".

        Returns:
            shaped like `coefficients(t)`'s coefficients: 1 for the velocity, D / beta_t for the noise,
            D / alpha_t for the data, alpha_t D / beta_t for the score (infinite where beta_t or alpha_t is 0).
        """
        check_choice("prediction", prediction, tuple(PREDICTIONS))
        return self.coefficients(t).velocity_gain(prediction)

    @staticmethod
    def check_pair(x_0: Any, x_1: Any, t: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The public entry's checks: x_0, x_1 finite (n, d) tensors on one device, t of shape (n, 1),
        all three cast to the widest of their dtypes."""
        check_points("x_0", x_0, dim=None)
        check_points("x_1", x_1, dim=None)
        if x_0.shape != x_1.shape:
            raise ValueError(f"x_0 and x_1 must have the same shape, got {tuple(x_0.shape)} and {tuple(x_1.shape)}")
        if x_0.device != x_1.device:
            raise ValueError(f"x_0 and x_1 must be on one device, got {x_0.device} and {x_1.device}")
        t = time_column(t, x_0)
        dtype = torch.promote_types(torch.promote_types(x_0.dtype, x_1.dtype), t.dtype)
        return x_0.to(dtype), x_1.to(dtype), t.to(dtype)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def check_interpolant(interpolant: Any) -> "Interpolant":
    """None (the linear path) or an Interpolant instance; anything else is refused by name."""
    if interpolant is None:
        return LinearInterpolant()
    if isinstance(interpolant, type) and issubclass(interpolant, Interpolant):
        raise TypeError(f"interpolant must be an instance, e.g. {interpolant.__name__}(), not the class")
    if not isinstance(interpolant, Interpolant):
        raise TypeError(f"interpolant must be an fmhelpers Interpolant (e.g. fm.LinearInterpolant()), "
                        f"got {type(interpolant).__name__}")
    return interpolant


class LinearInterpolant(Interpolant):
    """alpha_t = 1 - t, beta_t = t: straight paths at constant speed, u_t = x_1 - x_0."""

    name = "linear"

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return 1 - schedule_time(t)

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        return schedule_time(t)

    def d_alpha(self, t: torch.Tensor) -> torch.Tensor:
        return -torch.ones_like(schedule_time(t))

    def d_beta(self, t: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(schedule_time(t))


class TrigInterpolant(Interpolant):
    """alpha_t = cos(pi t / 2), beta_t = sin(pi t / 2): curved paths that keep alpha^2 + beta^2 = 1."""

    name = "trig"

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return torch.cos(0.5 * math.pi * schedule_time(t))

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        return torch.sin(0.5 * math.pi * schedule_time(t))

    def d_alpha(self, t: torch.Tensor) -> torch.Tensor:
        return -0.5 * math.pi * torch.sin(0.5 * math.pi * schedule_time(t))

    def d_beta(self, t: torch.Tensor) -> torch.Tensor:
        return 0.5 * math.pi * torch.cos(0.5 * math.pi * schedule_time(t))


INTERPOLANTS = {"linear": LinearInterpolant, "trig": TrigInterpolant}
