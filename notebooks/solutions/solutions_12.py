"""Solutions for 12_diffusion_targets."""

import math

KEYS = {
    "12.1": "(d_beta * x - (math.pi / 2) * noise) / beta",
    "12.2": "('noise', 0.2)",
}

ANSWERS = {
    "12.1": (
        "Given X_t = x, x = alpha e + beta m and v = alpha' e + beta' m (the expectations of x_t and of u_t). "
        "Eliminating m = (x - alpha e) / beta gives v = (beta' / beta) x - (alpha beta' - beta alpha') e / beta. "
        "On the trig path alpha = cos(pi t / 2), beta = sin(pi t / 2), alpha' = -(pi/2) beta, beta' = (pi/2) alpha, "
        "so D = alpha beta' - beta alpha' = (pi/2)(alpha^2 + beta^2) = pi / 2 and "
        "v = (pi/2) (cot(pi t / 2) x - e / sin(pi t / 2)). Both terms blow up as t -> 0: near the noise end the "
        "noise view says almost nothing about the data, and the conversion divides by beta."
    ),
    "12.2": (
        "The conversions into the velocity are v = a x + b y with |b| = 1 (velocity), D / beta (noise), D / alpha "
        "(data), alpha D / beta (score); on the linear path D = 1, alpha = 1 - t, beta = t. At t = 0.05 these are "
        "1, 20, 1.05 and 19: the noise view, whose error of 0.01 becomes 0.2 in the velocity (the score's, at "
        "0.19, is a close second: alpha is nearly 1 there). Checked on the networks in section 3: the noise "
        "network's velocity error at t = 0.05 is larger than its own-view error by about this factor, and the "
        "first Euler step from the noise, taken with this field, is where its samples go wrong."
    ),
}


def velocity_from_noise(x, noise, t):
    """12.1: v on the trig path from the noise view e: (beta' x - D e) / beta with D = pi / 2."""
    beta = math.sin(math.pi * t / 2)
    d_beta = (math.pi / 2) * math.cos(math.pi * t / 2)
    return (d_beta * x - (math.pi / 2) * noise) / beta


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
    "check_velocity_from_noise": {
        "solution": (velocity_from_noise,),
        "wrong": {"linear": (lambda x, e, t: (x - e) / t,),
                  "sign": (lambda x, e, t: ((math.pi / 2) * math.cos(math.pi * t / 2) * x + (math.pi / 2) * e)
                           / math.sin(math.pi * t / 2),),
                  "factor": (lambda x, e, t: ((math.pi / 2) * math.cos(math.pi * t / 2) * x - e)
                             / math.sin(math.pi * t / 2),)},
    },
    "check_worst_near_noise": {
        "solution": (worst_near_noise,),
        "wrong": {"name": (lambda: ("data", 0.01 / 0.95),),
                  "size": (lambda: ("noise", 0.01 * 0.05),),
                  "form": (lambda: "noise",)},
    },
}
