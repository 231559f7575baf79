"""Worked solutions for 05_euler_sampling (KEYS and ANSWERS: see solutions_01.py)."""

import math

KEYS = {"05.1": "(1-1/T)**T", "05.2": ">=0.995"}
ANSWERS = {
    "05.1": "Each Euler step on v = -x is x <- x - x / T = (1 - 1/T) x, so T steps give (1 - 1/T)^T x_0; the "
            "exact flow gives e^{-1} x_0. T log(1 - 1/T) = -1 - 1/(2T) - ..., so (1 - 1/T)^T = "
            "e^{-1} (1 - 1/(2T) + O(1/T^2)) and the error is -e^{-1} x_0 / (2T): it halves when T doubles, "
            "which is what first order means.",
}


def euler_factor(T):
    """05.1: T steps of x <- (1 - 1/T) x."""
    return (1 - 1 / T) ** T


def leading_coefficient():
    """05.1: (1 - 1/T)^T - e^{-1} = -e^{-1} / (2T) + O(1/T^2)."""
    return -math.exp(-1) / 2


def smallest_steps(fractions):
    """05.2: the first T (in increasing order) whose in-support fraction reaches 0.995."""
    return min(T for T, f in fractions.items() if f >= 0.995)

NOTEBOOK_FRACTIONS = {8: 0.9543, 16: 0.9900, 32: 0.9987, 64: 1.0}  # 05.2 on the notebook's own numbers


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_euler_decay": {
        "solution": (euler_factor, leading_coefficient),
        "wrong": {"steps": (lambda T: (1 - 1 / T) ** (T - 1), lambda: -math.exp(-1) / 2),
                  "sign": (lambda T: (1 - 1 / T) ** T, lambda: math.exp(-1) / 2),
                  "factor": (lambda T: (1 - 1 / T) ** T, lambda: -0.5)},
        "hidden": ("assert all(abs(float(euler_factor(T)) - (1 - 1 / T) ** T) < 1e-9 for T in (3, 10))\n"
                   "assert abs(float(leading_coefficient()) + math.exp(-1) / 2) < 1e-3"),
    },
    "check_smallest_steps": {
        "solution": (smallest_steps, {1: 0.2, 4: 0.9, 16: 0.991, 64: 0.999}),
        "wrong": {"threshold": (lambda f: 16, NOTEBOOK_FRACTIONS),       # the old 0.99 threshold
                  "not_smallest": (lambda f: max(f), NOTEBOOK_FRACTIONS)},  # the largest T
        "hidden": "assert smallest_steps({2: 0.5, 8: 0.996, 4: 0.9951, 32: 0.999}) == 4",
    },
}
