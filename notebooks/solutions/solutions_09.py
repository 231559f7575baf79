"""Worked solutions for 09_likelihood_and_score (KEYS and ANSWERS: see solutions_01.py)."""

import math

import torch

import fmhelpers as fm

KEYS = {"09.1": "velocity(x - e, t)[:, i]", "09.2": "math.tan("}
ANSWERS = {
    "09.1": "The error of a central difference has two parts: truncation, of order h^2 times the third "
            "derivative, and rounding, of order eps / h with eps = 1e-16 in float64 (two nearly equal values "
            "are subtracted and divided by 2h). Their sum is smallest near h = eps^(1/3), about 5e-6; at "
            "h = 1e-4 truncation gives about 1e-8, at h = 1e-10 rounding alone gives about 1e-6, and in "
            "float32 (eps = 1e-7) h = 1e-10 returns noise.",
    "09.2": "On the trig path alpha'/alpha = -(pi/2) tan(pi t/2) and beta' - alpha' beta/alpha = (pi/2) / cos(pi t/2), "
            "so m = (2/pi) cos(pi t/2) v* + sin(pi t/2) x, and (beta m - x) / alpha^2 simplifies to "
            "(2/pi) tan(pi t/2) v* - x. As t -> 1, tan blows up like 2 / (pi (1 - t)), as (t v* - x)/(1 - t) does on "
            "the linear path: the score of pi_1 itself is infinite at the edges of the cells (and undefined off them), "
            "so any formula for it must be singular at t = 1.",
}


def my_divergence(velocity, x, t):
    """09.1: central differences, one coordinate at a time (error of order h^2)."""
    h = 1e-4
    t = torch.full((len(x), 1), float(t), dtype=x.dtype)
    total = torch.zeros(len(x), dtype=x.dtype)
    for i in range(2):
        e = torch.zeros(2, dtype=x.dtype)
        e[i] = h
        total = total + (velocity(x + e, t)[:, i] - velocity(x - e, t)[:, i]) / (2 * h)
    return total


def score_at(x, t):
    """09.2: on the trig path alpha'/alpha = -(pi/2) tan, beta' - alpha' beta/alpha = (pi/2) / cos, so
    m = (2/pi) cos v + sin x and (beta m - x) / alpha^2 = ((2/pi) sin cos v - cos^2 x) / cos^2
    = (2/pi) tan(pi t / 2) v* - x."""
    v = fm.marginal_velocity(x, t, interpolant=fm.TrigInterpolant())
    return (2 / math.pi) * math.tan(math.pi * t / 2) * v - x


def _forward_difference(velocity, x, t, h=0.1):
    """A one-sided difference with a large step: first order, off by about h."""
    t = torch.full((len(x), 1), float(t), dtype=x.dtype)
    return sum((velocity(x + h * e, t)[:, i] - velocity(x, t)[:, i]) / h
               for i, e in enumerate(torch.eye(2, dtype=x.dtype)))


def _one_coordinate(velocity, x, t):
    """Central differences that forget the second coordinate (and double the first to hide it)."""
    return 2 * my_divergence(lambda y, s: velocity(y, s) * torch.tensor([1.0, 0.0], dtype=y.dtype), x, t)


def _trig_field(x, t):
    return fm.marginal_velocity(x, t, interpolant=fm.TrigInterpolant())


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_divergence_fd": {"solution": (my_divergence,),
                            "wrong": {"accuracy": (_forward_difference,), "coordinates": (_one_coordinate,)}},
    "check_trig_score": {
        "solution": (score_at,),
        "wrong": {"linear": (lambda x, t: (t * _trig_field(x, t) - x) / (1 - t),),
                  "sign": (lambda x, t: 2 / math.pi * math.tan(math.pi * t / 2) * _trig_field(x, t) + x,),
                  "factor": (lambda x, t: math.tan(math.pi * t / 2) * _trig_field(x, t) - x,)},
    },
}
