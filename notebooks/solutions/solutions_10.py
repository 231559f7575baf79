"""Solutions for 10_guidance."""

import torch

import fmhelpers as fm

KEYS = {"10.1": "w * centre", "10.2": "phi(lo) - phi(hi)"}

ANSWERS = {
    "10.1": (
        "At t = 0, X_t = X_0 is independent of X_1, so each exact field is the mean of its target minus x: "
        "v*(x, 0 | c) = centre_c - x, and v*(x, 0) = -x because the eight centres average to (0, 0). Hence "
        "v_w(x, 0 | c) = w centre_c - x: guidance first aims every sample at w times its cell's centre instead of "
        "the centre itself. For w = 4 that point is far off the board for the corner and edge cells ((6, -6) for "
        "class 1, (-2, -6) for class 0) and is a corner of the board, (2, -2) or (-2, 2), for the two middle cells. "
        "So from the start guidance throws the samples of the outer cells outward, beyond their cell and away from "
        "the rest of the board, which fits where section 4 finds them: in the outer corners and against the outer "
        "edges. It does not explain the middle cells, whose samples end in the middle of their cell: that is "
        "decided later, when the class posterior p_t(c | x) has a top there and guidance climbs to it (the figure "
        "of section 4 at t = 0.6)."
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
