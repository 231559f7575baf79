"""Solutions for 10_guidance."""

import torch

import fmhelpers as fm

KEYS = {"10.1": "w * centre", "10.2": "phi(lo) - phi(hi)"}

ANSWERS = {
    "10.1": (
        "At t = 0, X_t = X_0 is independent of X_1, so every field is the mean of its target minus x: "
        "v*(x, 0 | c) = centre_c - x and v*(x, 0) = (mean of the eight centres) - x = -x, since the black "
        "cells are placed symmetrically about the origin. Hence v_w(x, 0 | c) = -x + w (centre_c - 0) = "
        "w centre_c - x: guidance moves the point every sample is first aimed at from the cell's centre to "
        "w times it. For w = 4 that point lies outside the board for every class (|centre_c| >= 0.71, "
        "so |4 centre_c| >= 2.8, beyond the board's corners at distance 2.83 only for the two centre "
        "cells, whose point (2, -2) or (-2, 2) is a corner of the board): early in the flow the samples are "
        "thrown toward and past the far side of their cell, away from the rest of the board, and the "
        "later field has to bring them back in; the samples end up piled where the class is most "
        "distinguishable from the others instead of uniform on the cell."
    ),
}


def guided_at_start(x, c, w):
    """10.1: at t = 0 the class field aims at the cell's centre, the unconditional field at the mean of the
    centres, (0, 0); v_w = v + w (v_c - v) = -x + w * centre."""
    centre = (fm.black_cells()[c] + 0.5).to(x.dtype)
    return w * centre - x


def phi(z):
    """The standard normal density."""
    return torch.exp(-0.5 * z * z) / (2 * torch.pi) ** 0.5


def class_field(x, t, c):
    """10.2: per axis, X_1 given X_t = x and class c is N(mu, s^2) = N(x / t, ((1 - t) / t)^2) restricted to
    the cell's side [a, a + 1]. With lo = (a - mu) / s and hi = (a + 1 - mu) / s, its mean is
    mu + s (phi(lo) - phi(hi)) / (Phi(hi) - Phi(lo)) (integrate z phi(z) over [lo, hi]: -phi(z) is its
    antiderivative), and v*(x, t | c) = (E[X_1 | x, c] - x) / (1 - t)."""
    corner = fm.black_cells()[c].to(x.dtype)
    mu, s = x / t, (1 - t) / t
    lo, hi = (corner - mu) / s, (corner + 1 - mu) / s
    mass = torch.special.ndtr(hi) - torch.special.ndtr(lo)
    mean = mu + s * (phi(lo) - phi(hi)) / mass
    return (mean - x) / (1 - t)
