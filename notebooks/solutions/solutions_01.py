"""Worked solutions for 01_problem_setup.

KEYS: for each exercise, an expression central to its answer; tests/test_exercises.py checks that
none appears in the notebook before the exercise (no spoilers). ANSWERS: the open questions.
CHECKS (at the end of each file): each check with its worked solution and the wrong answers it must
recognise, each with its hint; the tests, the exercise benchmark and the classroom read them.
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


def _in_board(x):
    return ((x >= -2) & (x <= 2)).all(dim=1)


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_is_black": {
        "solution": (is_black,),
        "wrong": {"outside": (lambda x: torch.floor(x + 2).long().sum(1) % 2 == 1,),              # forgot the square
                  "parity": (lambda x: _in_board(x) & (torch.floor(x + 2).long().sum(1) % 2 == 0),)},  # white cells
        "hidden": ("_x = (torch.rand(500, 2, generator=torch.Generator().manual_seed(21)) - 0.5) * 6\n"
                   "_cell = torch.floor(_x + 2).clamp(0, 3).long()\n"
                   "_want = ((_x >= -2) & (_x <= 2)).all(dim=1) & ((_cell[:, 0] + _cell[:, 1]) % 2 == 1)\n"
                   "assert torch.equal(torch.as_tensor(is_black(_x.clone())).reshape(-1).bool(), _want)"),
    },
    "check_gaussian_on_board": {
        "solution": (gaussian_on_board,),
        "wrong": {"square": (lambda: math.erf(math.sqrt(2)) ** 2,),     # the whole square
                  "standardisation": (lambda: math.erf(2) ** 2 / 2,),   # P(|Z| < 2) written erf(2)
                  "estimate": (lambda: 0.4555 + 0.0016,)},              # a Monte Carlo estimate, 1e5 samples
        "hidden": "assert abs(float(gaussian_on_board()) - math.erf(2 / math.sqrt(2)) ** 2 / 2) < 1e-4",
    },
}
