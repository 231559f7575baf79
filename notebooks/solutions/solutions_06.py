"""Worked solutions for 06_intermediate_distributions (KEYS and ANSWERS: see solutions_01.py)."""

import torch

import fmhelpers as fm

KEYS = {"06.1": "h*h", "06.2": "8/3"}
ANSWERS = {
    "06.1": "It grows with t: erf(sqrt 2)^2 = 0.911 at t = 0 (pi_0's mass in the square), about 0.946 at t = 0.1 "
            "and 0.992 at t = 0.5, and to 1 as t -> 1, where all of pi_1 lies in the square.",
    "06.2": "E||X_t||^2 = (1 - t)^2 E||X_0||^2 + t^2 E||X_1||^2 = 2 (1 - t)^2 + (8/3) t^2 (the cross term "
            "vanishes: X_0 and X_1 are independent and E X_0 = 0). The learned path's values agree to "
            "sampling noise: the ODE moves its samples along pi_t, whose second moment this is.",
}


def mass_in_square(t):
    """06.1: midpoint rule for the exact density of pi_t on [-2, 2]^2 (n x n cells of side 4 / n)."""
    n = 200  # within 1e-5 of n = 400: the midpoint rule's error falls as 1 / n^2
    h = 4.0 / n
    g = -2.0 + h * (torch.arange(n, dtype=torch.float64) + 0.5)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    return (fm.marginal_density(pts, t).sum() * h * h).item()


def radius_at(t):
    """06.2: E||X_0||^2 = 2 and E||X_1||^2 = 2 * (4^2 / 12) = 8/3; E[X_0] = 0 kills the cross term."""
    return 2 * (1 - t) ** 2 + t**2 * 8 / 3
