"""Worked solutions for 02_interpolants (KEYS and ANSWERS: see solutions_01.py)."""

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
