"""Worked solutions for 01_problem_setup.

KEYS: for each exercise, an expression central to its answer; tests/test_exercises.py checks that
none appears in the notebook before the exercise (no spoilers). ANSWERS: the open questions.
"""

import math

import torch

KEYS = {"01.1": "torch.floor", "01.2": "math.erf"}
ANSWERS = {
    "01.2": "Reflect one axis, x -> -x: column c goes to column 3 - c, so c + r changes parity and every "
            "black cell of the 4 x 4 board becomes a white one and back. The standard Gaussian is "
            "unchanged by the reflection, so it puts the same mass on the black cells as on the white "
            "ones: half of its mass in the square, P(|Z| < 2)^2 / 2 = erf(sqrt 2)^2 / 2 = 0.4555.",
}


def is_black(x):
    """01.1: cell (column, row) of [-2, 2]^2 cut in 4 x 4; black when column + row is odd."""
    inside = ((x >= -2) & (x <= 2)).all(dim=1)
    cell = torch.floor(x + 2).clamp(0, 3).long()
    return inside & ((cell[:, 0] + cell[:, 1]) % 2 == 1)


def gaussian_on_board():
    """01.2: each coordinate of X_0 is in [-2, 2] with probability P(|Z| < 2) = erf(2 / sqrt 2); the
    two are independent, and by the reflection symmetry half of the square's mass is on black cells."""
    return math.erf(2 / math.sqrt(2)) ** 2 / 2
