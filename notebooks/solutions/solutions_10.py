"""Solutions for 10_guidance."""

import math

import torch

import fmhelpers as fm

KEYS = {"10.1": "w * centre", "10.2": "math.pi / (2 * math.tan("}

ANSWERS = {
    "10.2": (
        "g(t) = (pi / 2) cot(pi t / 2): large near t = 0, 0 at t = 1, like (1 - t) / t on the linear path. Yes: "
        "the identity still says v*(. | c) - v* = g(t) grad log p_t(c | x), so v* + w (v*(. | c) - v*) = "
        "v* + w g(t) grad log p_t(c | x) for any w; only the factor between the two weights' scales changes with "
        "the path, not their equality."
    ),
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


def _estimated_start(x, c, w):
    """10.1 with the mean of pi_1 estimated from 2000 samples instead of known: a Monte Carlo error of about 0.03."""
    board_mean = fm.sample_checkerboard(2000, generator=torch.Generator().manual_seed(3)).mean(0).to(x.dtype)
    centre = (fm.black_cells()[c] + 0.5).to(x.dtype)
    return board_mean + w * (centre - board_mean) - x


def gain(t):
    """10.2: on the trig path notebook 09's score formula reads grad log p_t(x) = (2/pi) tan(pi t / 2) v*(x, t) - x
    (exercise 09.2), and the same holds for each class (nothing in it used the target's shape). Subtract
    the two and use Bayes (log p(c) does not depend on x): grad log p_t(c | x) = (2/pi) tan(pi t / 2)
    (v*(x, t | c) - v*(x, t)), so g(t) = pi / (2 tan(pi t / 2)) = (pi / 2) cot(pi t / 2)."""
    return math.pi / (2 * math.tan(math.pi * t / 2))


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_guided_at_start": {
        "solution": (guided_at_start,),
        "wrong": {"ignores_w": (lambda x, c, w: fm.black_cells()[c] + 0.5 - x,),
                  "scales": (lambda x, c, w: w * (fm.black_cells()[c] + 0.5 - x),),
                  "estimated": (_estimated_start,)},
    },
    "check_trig_gain": {
        "solution": (gain,),
        "wrong": {"linear": (lambda t: (1 - t) / t,), "tan": (lambda t: math.pi / 2 * math.tan(math.pi * t / 2),),
                  "factor": (lambda t: 1 / math.tan(math.pi * t / 2),)},
        "hidden": "assert all(abs(float(gain(t)) - math.pi / 2 / math.tan(math.pi * t / 2)) < 1e-6 for t in (0.2, 0.6))",
    },
}
