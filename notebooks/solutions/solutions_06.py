"""Solutions for 06_intermediate_distributions."""

import torch

import fmhelpers as fm


def mass_in_square(t, n=400):
    """06.1: midpoint rule for the exact density of pi_t on [-2, 2]^2 (cells of side 4 / n)."""
    h = 4.0 / n
    g = -2.0 + h * (torch.arange(n, dtype=torch.float64) + 0.5)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    return (fm.marginal_density(pts, t).sum() * h * h).item()


def radius_at(t):
    """06.2: E||X_0||^2 = 2 and E||X_1||^2 = 2 * (4^2 / 12) = 8/3; E[X_0] = 0 kills the cross term."""
    return 2 * (1 - t) ** 2 + t**2 * 8 / 3
