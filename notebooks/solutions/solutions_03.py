"""Worked solutions for 03_conditional_vs_marginal_velocity (KEYS and ANSWERS: see solutions_01.py)."""

import torch

import fmhelpers as fm

KEYS = {"03.1": "ndtr", "03.2": "8/3"}
ANSWERS = {
    "03.2": "With u_t = x_1 - x_0: as t -> 0, x_t = x_0 is known, so the only uncertainty left in u_t is "
            "X_1's: the floor tends to E||X_1 - E X_1||^2 = 2 x 4/3 = 8/3 (each coordinate of X_1 is "
            "uniform on [-2, 2], variance 4/3). As t -> 1, x_t = x_1 pins x_1 down and x_0 is unknown: "
            "E||X_0 - E X_0||^2 = 2. In between, x_t fixes a weighted sum of the two ends but hardly their "
            "difference, which is the velocity: that is where the conditional velocities disagree most.",
}


def v_cell(x, t, c):
    """03.1: given X_t = x, X_1 has density proportional to N(x; t y, (1 - t)^2 I) on the cell, so each
    coordinate is N(mu, s^2) = N(x / t, ((1 - t) / t)^2) restricted to the cell's side [a, a + 1]:
    a truncated normal, with mean mu + s (phi(lo) - phi(hi)) / (Phi(hi) - Phi(lo)), lo = (a - mu) / s,
    hi = (a + 1 - mu) / s. The marginal velocity of the linear path is then v = (m - x) / (1 - t)."""
    corner = fm.black_cells()[c].to(x.dtype)
    mu, s = x / t, (1 - t) / t
    lo, hi = (corner - mu) / s, (corner + 1 - mu) / s
    phi = lambda z: torch.exp(-0.5 * z * z) / (2 * torch.pi) ** 0.5  # noqa: E731
    mass = torch.special.ndtr(hi) - torch.special.ndtr(lo)
    m = mu + s * (phi(lo) - phi(hi)) / mass
    return (m - x) / (1 - t)


def floor_limits():
    """03.2: 8/3 as t -> 0 (the spread of X_1), 2 as t -> 1 (the spread of X_0)."""
    return 8 / 3, 2.0


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_cell_field": {
        "solution": (v_cell,),
        "wrong": {"centre": (lambda x, t, c: (fm.black_cells()[c].to(x.dtype) + 0.5 - x) / (1 - t),),
                  "untruncated": (lambda x, t, c: x / t,),
                  "board": (lambda x, t, c: fm.marginal_velocity(x, t),)},
    },
    "check_floor_limits": {
        "solution": (floor_limits,),
        "wrong": {"swapped": (lambda: (2.0, 8 / 3),), "one_coordinate": (lambda: (4 / 3, 1.0),), "zero": (lambda: (0.0, 0.0),)},
        "hidden": "_a, _b = (float(v) for v in floor_limits())\nassert abs(_a - 8 / 3) < 0.03 and abs(_b - 2) < 0.03",
    },
}
