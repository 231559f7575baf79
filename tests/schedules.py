"""A schedule of a user's own, shared by the tests that need one besides the package's linear and trig
paths: alpha = 1 - t^2, beta = t^2 (alpha'(0) = beta'(0) = 0, where v says nothing about the
posterior mean, so it also probes the t = 0 corner cases)."""

import fmhelpers as fm


class Quadratic(fm.Interpolant):
    """alpha = 1 - t^2, beta = t^2."""

    def alpha(self, t):
        return 1 - t**2

    def beta(self, t):
        return t**2

    def d_alpha(self, t):
        return -2 * t

    def d_beta(self, t):
        return 2 * t
