"""Worked solutions for 04_training (KEYS and ANSWERS: see solutions_01.py)."""

import torch

import fmhelpers as fm

KEYS = {"04.1": "marginal_posterior_mean", "04.2": ".sqrt()"}
ANSWERS = {
    "04.1": "Over all functions of (x_t, t), E||Y - f(x_t, t)||^2 is smallest at f = E[Y | x_t, t] (the same "
            "split as section 7, with Y in place of u_t). With Y = x_1 the network learns the posterior mean "
            "E[X_1 | X_t = x], the denoiser: a point, not a velocity. Euler on it would send x along "
            "m(x, t) instead of v* = (m - x) / (1 - t), so samples stall near the middle of the board. The "
            "loss of the changed loop levels off at E||X_1 - m||^2 averaged over t, far below the 3.4 of "
            "the conditional target near t = 1 but large near t = 0, where m is the mean of pi_1.",
    "04.2": "With the same 1500 iterations, the 'late' model is sharper on the board: more training times "
            "near t = 1, where v* turns into walls around the cells, so the edges of the cells are learnt "
            "better (the default recipe goes further, with density 3t^2 for nine times in ten).",
}


def minimiser(x, t):
    """04.1: regressing on x_1 learns E[X_1 | X_t = x], the exact posterior mean."""
    return fm.marginal_posterior_mean(x, t)


def sample_late(n, generator):
    """04.2: the CDF of density 2t is t^2, so t = sqrt(u) for u uniform."""
    return torch.rand(n, 1, generator=generator).sqrt()


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_x1_minimiser": {
        "solution": (minimiser,),
        "wrong": {"velocity": (lambda x, t: fm.marginal_velocity(x, t),), "identity": (lambda x, t: x,),
                  "constant": (lambda x, t: torch.zeros_like(x),)},
    },
    "check_late_times": {
        "solution": (sample_late,),
        "wrong": {"uniform": (lambda n, g: torch.rand(n, 1, generator=g),),
                  "square": (lambda n, g: torch.rand(n, 1, generator=g) ** 2,)},
        "hidden": ("_s = torch.as_tensor(sample_late(100_000, torch.Generator().manual_seed(5))).double()\n"
                   "assert _s.shape == (100_000, 1) and abs(_s.mean().item() - 2 / 3) < 0.01"),
    },
}
