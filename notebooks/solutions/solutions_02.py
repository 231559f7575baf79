"""Worked solutions for 02_interpolants (KEYS and ANSWERS: see solutions_01.py)."""

import torch

import fmhelpers as fm

KEYS = {"02.1": "-2*(1-t)", "02.2": "3/7"}
ANSWERS = {
    "02.1": "It moves fast at the start: d beta / dt = 2 (1 - t) is 2 at t = 0 and 0 at t = 1, so x_t leaves "
            "x_0 at twice the linear path's speed and arrives at x_1 with zero speed; half of the way "
            "(beta = 1/2) is covered by t = 1 - 1/sqrt(2) = 0.29.",
    "02.2": "Var(x_t) = (1 - t)^2 + (4/3) t^2 (X_0 and X_1 independent, Var X_1 = 4^2/12 = 4/3). Its "
            "derivative -2 (1 - t) + (8/3) t vanishes at t* = 3/7, where Var = (4/7)^2 + (4/3)(3/7)^2 = 4/7. "
            "The mix of two independent variables is less spread than either: averaging cancels part of "
            "the spread. On the trig path cos^2 + (4/3) sin^2 >= 1 is smallest at t = 0.",
}


class Quadratic(fm.Interpolant):
    """02.1: alpha_t = (1 - t)^2, beta_t = 1 - (1 - t)^2."""

    def alpha(self, t):
        return (1 - t) ** 2

    def beta(self, t):
        return 1 - (1 - t) ** 2

    def d_alpha(self, t):
        return -2 * (1 - t)

    def d_beta(self, t):
        return 2 * (1 - t)


def smallest_variance():
    """02.2: d/dt [(1 - t)^2 + (4/3) t^2] = 0 at t = 3/7, where the variance is 4/7."""
    t = 3 / 7
    return t, (1 - t) ** 2 + 4 / 3 * t**2


class _HalfRight(fm.Interpolant):  # beta is the exercise's, alpha stays linear: valid, but not the schedule asked
    def alpha(self, t):
        return 1 - t

    def beta(self, t):
        return 1 - (1 - t) ** 2

    def d_alpha(self, t):
        return -torch.ones_like(t)

    def d_beta(self, t):
        return 2 * (1 - t)


class _BrokenAlpha(fm.LinearInterpolant):  # alpha(1) is not 0: the constructor refuses it
    def alpha(self, t):
        return 1 - t / 2


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_schedule": {"solution": (Quadratic,), "wrong": {"alpha": (_HalfRight,), "boundary": (_BrokenAlpha,)}},
    "check_smallest_variance": {
        "solution": (smallest_variance,),
        "wrong": {"middle": (lambda: (0.5, 7 / 12),), "swapped": (lambda: (4 / 7, 3 / 7),), "source": (lambda: (0.0, 1.0),)},
        "hidden": "_t, _v = (float(v) for v in smallest_variance())\nassert abs(_t - 3 / 7) < 1e-6 and abs(_v - 4 / 7) < 1e-6",
    },
}
