"""Solutions for 02_interpolants."""

import fmhelpers as fm


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


def var_x_t(t):
    """02.2: Var(alpha X_0 + beta X_1) = alpha^2 Var X_0 + beta^2 Var X_1, Var X_1 = 4^2 / 12."""
    return (1 - t) ** 2 * 1.0 + t**2 * 16 / 12
