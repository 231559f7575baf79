"""Interpolants x_t = alpha_t x_0 + beta_t x_1 with alpha_0 = beta_1 = 1 and alpha_1 = beta_0 = 0.

A new schedule is a subclass that defines `alpha`, `beta`, `d_alpha` and `d_beta` as functions of a
tensor t; the constructor checks the boundary conditions and that the derivatives match the
schedule (by central differences), so a typo fails at once instead of in training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ._checks import check_points, check_time, common_dtype, time_column

_BOUNDARY_TOL = 1e-6
_DERIVATIVE_TOL = 1e-3


@dataclass(frozen=True)
class Coefficients:
    """alpha_t, beta_t and their time derivatives, each shaped like the t they came from."""

    alpha_t: torch.Tensor
    beta_t: torch.Tensor
    d_alpha_t: torch.Tensor
    d_beta_t: torch.Tensor


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

    def _check_schedule(self) -> None:
        ends = torch.tensor([0.0, 1.0], dtype=torch.float64)
        got = {"alpha": self.alpha(ends), "beta": self.beta(ends)}
        want = {"alpha": (1.0, 0.0), "beta": (0.0, 1.0)}
        for key, values in got.items():
            for t_end, value, target in zip((0, 1), values.tolist(), want[key]):
                if abs(value - target) > _BOUNDARY_TOL:
                    raise ValueError(
                        f"{type(self).__name__}: {key}({t_end}) must be {target}, got {value:.6g}"
                    )
        t = torch.linspace(0.1, 0.9, 9, dtype=torch.float64)
        h = 1e-5
        for key in ("alpha", "beta"):
            f, df = getattr(self, key), getattr(self, "d_" + key)
            numeric = (f(t + h) - f(t - h)) / (2 * h)
            err = (df(t) - numeric).abs().max().item()
            if err > _DERIVATIVE_TOL:
                raise ValueError(f"{type(self).__name__}: d_{key} does not match {key} (max error {err:.3g})")

    def coefficients(self, t: Any) -> Coefficients:
        """All four coefficients at t (float, shape (n,) or (n, 1); returned with t's shape, (n, 1) for (n,))."""
        t = check_time("t", t)
        return Coefficients(self.alpha(t), self.beta(t), self.d_alpha(t), self.d_beta(t))

    def interpolate(self, x_0: torch.Tensor, x_1: torch.Tensor, t: Any) -> torch.Tensor:
        """x_t = alpha_t x_0 + beta_t x_1.

        Args:
            x_0: source points, shape (n, 2).
            x_1: target points, shape (n, 2) (float32 and float64 mix: the result has the wider dtype).
            t: float, or shape (n,) or (n, 1), in [0, 1].

        Returns:
            x_t, shape (n, 2).
        """
        x_0, x_1, t = self.check_pair(x_0, x_1, t)
        return self.alpha(t) * x_0 + self.beta(t) * x_1

    def conditional_velocity(self, x_0: torch.Tensor, x_1: torch.Tensor, t: Any) -> torch.Tensor:
        """u_t = d_alpha_t x_0 + d_beta_t x_1, the velocity of the path through x_0 and x_1.

        Args and shapes as in `interpolate`; returns shape (n, 2).
        """
        x_0, x_1, t = self.check_pair(x_0, x_1, t)
        return self.d_alpha(t) * x_0 + self.d_beta(t) * x_1

    def point_and_velocity(self, x_0: torch.Tensor, x_1: torch.Tensor, t: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_t, u_t) in one pass: the inputs are checked once, each coefficient computed once.

        Args and shapes as in `interpolate`; returns two tensors of shape (n, 2).
        """
        return self._point_and_velocity(*self.check_pair(x_0, x_1, t))

    def _point_and_velocity(self, x_0: torch.Tensor, x_1: torch.Tensor, t: torch.Tensor):
        """`point_and_velocity` for inputs already checked (t of shape (n, 1)): the training loop's path."""
        return self.alpha(t) * x_0 + self.beta(t) * x_1, self.d_alpha(t) * x_0 + self.d_beta(t) * x_1

    @staticmethod
    def check_pair(x_0: Any, x_1: Any, t: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The public entry's checks: x_0, x_1 finite (n, 2) tensors of one dtype, t of shape (n, 1)."""
        check_points("x_0", x_0)
        check_points("x_1", x_1)
        if x_0.shape != x_1.shape:
            raise ValueError(f"x_0 and x_1 must have the same shape, got {tuple(x_0.shape)} and {tuple(x_1.shape)}")
        if x_0.device != x_1.device:
            raise ValueError(f"x_0 and x_1 must be on one device, got {x_0.device} and {x_1.device}")
        x_0, x_1 = common_dtype(x_0, x_1)
        return x_0, x_1, time_column(t, x_0)

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
        return 1 - t

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def d_alpha(self, t: torch.Tensor) -> torch.Tensor:
        return -torch.ones_like(t)

    def d_beta(self, t: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(t)


class TrigInterpolant(Interpolant):
    """alpha_t = cos(pi t / 2), beta_t = sin(pi t / 2): curved paths that keep alpha^2 + beta^2 = 1."""

    name = "trig"

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return torch.cos(0.5 * math.pi * t)

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        return torch.sin(0.5 * math.pi * t)

    def d_alpha(self, t: torch.Tensor) -> torch.Tensor:
        return -0.5 * math.pi * torch.sin(0.5 * math.pi * t)

    def d_beta(self, t: torch.Tensor) -> torch.Tensor:
        return 0.5 * math.pi * torch.cos(0.5 * math.pi * t)


INTERPOLANTS = {"linear": LinearInterpolant, "trig": TrigInterpolant}
