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
