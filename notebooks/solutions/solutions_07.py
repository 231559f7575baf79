"""Worked solutions for 07_straight_paths (KEYS and ANSWERS: see solutions_01.py)."""

import itertools
import math

import torch

KEYS = {"07.1": "itertools.permutations(range", "07.2": "math.exp(-2)"}
ANSWERS = {
    "07.1": "6! = 720 permutations is instant; 60! is about 8e81, hopeless: the Hungarian method (scipy's "
            "linear_sum_assignment) solves the same problem in O(n^3).",
    "07.2": "S = (1 - e^{-2}) - 2 (1 - e^{-1})^2 = 0.0655: v = -x is a straight flow in direction (every "
            "trajectory runs along the line through 0 and X_0) but not at constant speed (it slows down "
            "like e^{-t}), and S measures exactly that: the energy spent beyond the chord's.",
}


def my_pairing(x_0, x_1):
    """07.1: try all 6! = 720 permutations and keep the cheapest (fine for 6 points, hopeless for 60)."""
    best, best_cost = None, float("inf")
    for perm in itertools.permutations(range(len(x_0))):
        cost = float((x_0 - x_1[list(perm)]).pow(2).sum())
        if cost < best_cost:
            best, best_cost = perm, cost
    return torch.tensor(best)


def straightness_decay():
    """07.2: X_t = X_0 e^{-t}, v = -X_0 e^{-t}: the kinetic energy is E||X_0||^2 int_0^1 e^{-2t} dt =
    2 (1 - e^{-2}) / 2 = 1 - e^{-2}; the chord X_1 - X_0 = X_0 (e^{-1} - 1) has E||.||^2 = 2 (1 - e^{-1})^2;
    S is their difference."""
    return (1 - math.exp(-2)) - 2 * (1 - math.exp(-1)) ** 2


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_ot_pairing": {
        "solution": (my_pairing,),
        "wrong": {"identity": (lambda a, b: torch.arange(6),),
                  "not_cheapest": (lambda a, b: b[:, 0].argsort()[a[:, 0].argsort().argsort()],)},  # sorted by x
    },
    "check_decay_straightness": {
        "solution": (straightness_decay,),
        "wrong": {"kinetic": (lambda: 1 - math.exp(-2),), "chord": (lambda: 2 * (1 - math.exp(-1)) ** 2,),
                  "one_coordinate": (lambda: ((1 - math.exp(-2)) - 2 * (1 - math.exp(-1)) ** 2) / 2,)},
        "hidden": "assert abs(float(straightness_decay()) - ((1 - math.exp(-2)) - 2 * (1 - math.exp(-1)) ** 2)) < 1e-4",
    },
}
