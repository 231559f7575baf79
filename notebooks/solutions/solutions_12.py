"""Solutions for 12_diffusion_targets."""

import math

KEYS = {
    "12.1": "(x + alpha**2 * score) / beta",
    "12.2": "('noise', 0.2)",
}

ANSWERS = {
    "12.1": (
        "Tweedie's formula for the Gaussian source gives the score as -e / alpha, so e = -alpha s. The first of "
        "section 1's equations, x = alpha e + beta m, then gives m = (x - alpha e) / beta = (x + alpha^2 s) / beta. On "
        "the trig path alpha = cos(pi t / 2) and beta = sin(pi t / 2): m = (x + cos^2(pi t / 2) s) / sin(pi t / 2). "
        "As t -> 0 it divides by beta -> 0: near the noise end x is almost all noise, x + alpha^2 s = beta m is "
        "of size beta, and an error in the score is multiplied by alpha^2 / beta, so the score says almost nothing "
        "about the data there. As t -> 1 it is x itself (alpha = 0), as it must be."
    ),
    "12.2": (
        "The conversions into the velocity are v = a x + b y with |b| = 1 (velocity), D / beta (noise), D / alpha "
        "(data), alpha D / beta (score); on the linear path D = 1, alpha = 1 - t, beta = t. At t = 0.05 these are "
        "1, 20, 1.05 and 19: the noise view, whose error of 0.01 becomes 0.2 in the velocity (the score's, at "
        "0.19, is a close second: alpha is nearly 1 there). On section 3's networks at t = 0.02 (gain 50 for the "
        "noise view): the noise network's own-view mean squared error is about that of the velocity network "
        "(3.0e-3 against 2.3e-3), and its velocity error is 7.4, that own error times 50^2. Of the factor of about "
        "3,200 between the two networks as velocity fields (7.4 against 2.3e-3), the gain accounts for 2,500; the rest "
        "is the ratio of their own-view errors, 3.0 / 2.3 = 1.3."
    ),
}


def data_from_score(x, score, t):
    """12.1: the data view on the trig path from the score: e = -alpha s, m = (x - alpha e) / beta."""
    alpha, beta = math.cos(math.pi * t / 2), math.sin(math.pi * t / 2)
    return (x + alpha**2 * score) / beta


def worst_near_noise():
    """12.2: the view whose error moves the velocity most at t = 0.05 (linear path), and by how much for 0.01."""
    t = 0.05
    gains = {"velocity": 1.0, "noise": 1 / t, "data": 1 / (1 - t), "score": (1 - t) / t}
    name = max(gains, key=gains.get)
    return name, 0.01 * gains[name]


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer}}
# tests/test_exercises.py and benchmarks/exercises.py read these tables.
CHECKS = {
    "check_data_from_score": {
        "solution": (data_from_score,),
        "wrong": {"linear": (lambda x, s, t: (x + (1 - t) ** 2 * s) / t,),
                  "sign": (lambda x, s, t: (x - math.cos(math.pi * t / 2) ** 2 * s) / math.sin(math.pi * t / 2),),
                  "square": (lambda x, s, t: (x + math.cos(math.pi * t / 2) * s) / math.sin(math.pi * t / 2),)},
    },
    "check_worst_near_noise": {
        "solution": (worst_near_noise,),
        "wrong": {"name": (lambda: ("data", 0.01 / 0.95),),
                  "size": (lambda: ("noise", 0.01 * 0.05),),
                  "form": (lambda: "noise",)},
    },
}
