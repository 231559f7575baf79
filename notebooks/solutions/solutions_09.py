"""Worked solutions for 09_likelihood_and_score (KEYS and ANSWERS: see solutions_01.py)."""

import math

import torch

import fmhelpers as fm

KEYS = {"09.1": "2*h", "09.2": "math.tan("}
ANSWERS = {}


def my_divergence(velocity, x, t, h=1e-4):
    """09.1: central differences, one coordinate at a time (error of order h^2)."""
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
