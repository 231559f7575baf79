"""Worked solutions for 08_one_step (KEYS and ANSWERS: see solutions_01.py)."""

import math

import torch

KEYS = {"08.1": "math.exp(-h)+h-1", "08.2": "(k+1)/n_steps"}
ANSWERS = {
    "08.1": "dX/dtau = -X gives X_s = x e^{-(s - t)}, so vbar(x, t, s) = x phi(h) with phi(h) = (e^{-h} - 1) / h "
            "and h = s - t (-x at h = 0). Along the trajectory both x = X_t and t move: d/dt vbar = "
            "(d vbar/d x) v + d vbar/d t = -x phi(h) - x phi'(h) (d h/d t = -1), with phi'(h) = "
            "(1 - (1 + h) e^{-h}) / h^2; together x (e^{-h} + h - 1) / h^2 (x / 2 as h -> 0). Then "
            "v + h d/dt vbar = -x + x (e^{-h} + h - 1) / h = x (e^{-h} - 1) / h = vbar: the identity holds "
            "exactly. The partial derivative alone, partial_dt = -x phi'(h) = x (e^{-h} - 1) / h^2 + x e^{-h} / h "
            "(-x / 2 as h -> 0), misses the transport term (d vbar / d x) v = phi(h) (-x) = -vbar, so the two differ "
            "by -vbar, as large as vbar itself, and the identity fails with it. The identity can be rearranged into "
            "the total derivative, (vbar - v) / (s - t); the partial derivative needs the differentiation.",
    "08.2": "X_s = x + (s - t) vbar(x, t, s), applied on [k/N, (k+1)/N] for k = 0, ..., N-1. With the exact "
            "average velocity, no: one jump already lands on X_1, and N jumps compose N exact pieces of the same "
            "trajectory, so every N gives the same X_1. With the learned vbar_theta, section 4 shows more jumps "
            "raising the share on the board a little (0.958 at N = 1 to 0.966 at N = 8) but not sliced W2 "
            "(0.032 to 0.035): the errors of several jumps add up as well as shrink.",
}


def vbar_decay(x, t, s):
    """08.1: v = -x gives X_s = x e^{-(s - t)}, so vbar = x (e^{-h} - 1) / h, h = s - t (-x at h = 0)."""
    h = s - t
    return -x if h == 0 else x * (math.exp(-h) - 1) / h


def dvbar_dt(x, t, s):
    """08.1: the total derivative along X_t: x (e^{-h} + h - 1) / h^2 (x / 2 in the limit h -> 0)."""
    h = s - t
    return x / 2 if h == 0 else x * (math.exp(-h) + h - 1) / h**2


def my_sample(model, x_0, n_steps):
    """08.2: n_steps jumps with the average velocity over each interval."""
    x = x_0
    with torch.no_grad():
        for k in range(n_steps):
            t = torch.full((len(x), 1), k / n_steps)
            s = torch.full((len(x), 1), (k + 1) / n_steps)
            x = x + (s - t) * model(x, t, s)
    return x


def partial_dt(x, t, s):
    """08.1: d vbar / d t with x held fixed, -x phi'(h): the total derivative less the transport term (d vbar / d x) v."""
    h = s - t
    return -x / 2 if h == 0 else x * (math.exp(-h) - 1) / h**2 + x * math.exp(-h) / h


def _sample_with(model, x, n, same_time=False, unit_step=False):
    """Mean-flow sampling gone wrong: u(x, t, t) (Euler with the instantaneous velocity), or a step of 1."""
    with torch.no_grad():
        for k in range(n):
            t = torch.full((len(x), 1), k / n)
            s = t if same_time else torch.full((len(x), 1), (k + 1) / n)
            x = x + (1.0 if unit_step else 1 / n) * model(x, t, s)
    return x


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_decay_identity": {
        "solution": (vbar_decay, dvbar_dt, partial_dt),
        "wrong": {"partial": (vbar_decay, partial_dt, partial_dt),
                  "sign": (vbar_decay, lambda x, t, s: -dvbar_dt(x, t, s), partial_dt),
                  "instantaneous": (lambda x, t, s: -x, lambda x, t, s: torch.zeros_like(x), lambda x, t, s: torch.zeros_like(x)),
                  "total": (vbar_decay, dvbar_dt, dvbar_dt),
                  "general_partial": (vbar_decay, dvbar_dt, lambda x, t, s: -partial_dt(x, t, s))},
    },
    "check_meanflow_sampler": {
        "solution": (my_sample,),
        "wrong": {"instantaneous": (lambda m, x, n: _sample_with(m, x, n, same_time=True),),
                  "step": (lambda m, x, n: _sample_with(m, x, n, unit_step=True),)},
    },
}
