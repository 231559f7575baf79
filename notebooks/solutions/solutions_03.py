"""Solutions for 03_conditional_vs_marginal_velocity."""

import torch

import fmhelpers as fm


def v_zero(x):
    """03.1: at t = 0, E[X_1 | X_0 = x] = E[X_1] = 0, and d_alpha = -1, d_beta = 1: v = 0 - x."""
    return -x


def floor_at(t, n=200_000):
    """03.2: Monte Carlo at a single time t."""
    g = torch.Generator().manual_seed(0)
    path = fm.LinearInterpolant()
    x_0 = fm.sample_gaussian(n, generator=g).double()
    x_1 = fm.sample_checkerboard(n, generator=g).double()
    x_t = path.interpolate(x_0, x_1, t)
    u_t = path.conditional_velocity(x_0, x_1, t)
    return (u_t - fm.marginal_velocity(x_t, t)).pow(2).sum(dim=1).mean().item()
