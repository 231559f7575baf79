"""Solutions for 13_discrete_flow_matching."""

import torch

import fmhelpers as fm

KEYS = {
    "13.1": "2 * t / (1 - t**2)",
    "13.2": "law[:, b] / law[:, b].sum()",
}

ANSWERS = {
    "13.1": (
        "Given x_1, a coordinate of x_t is x_1's token with probability kappa_t and the mask otherwise: "
        "p_t(y | x_1^i) = kappa_t delta(y, x_1^i) + (1 - kappa_t) delta(y, mask). Its derivative is "
        "kappa'_t (delta(y, x_1^i) - delta(y, mask)); writing delta(y, mask) = (p_t(y | x_1^i) - kappa_t "
        "delta(y, x_1^i)) / (1 - kappa_t) gives d/dt p_t = kappa'_t / (1 - kappa_t) (delta(y, x_1^i) - p_t(y | x_1^i)): "
        "a coordinate not yet at x_1's token jumps there at rate kappa'_t / (1 - kappa_t). Averaging over the "
        "posterior replaces delta(y, x_1^i) by the marginal p(x_1^i = y | x_t), so "
        "u_t(y | x_t) = kappa'_t / (1 - kappa_t) (p(x_1^i = y | x_t) - delta(y, x_t^i)); with kappa_t = t^2 the factor "
        "is 2 t / (1 - t^2) = 2 t / ((1 - t)(1 + t)). A masked coordinate is unmasked at Euler step k with probability "
        "h 2 t_k / (1 - t_k^2), whatever its posterior (the posterior's entries sum to 1). With T = 4: 0, 2/15, 1/3 and "
        "6/7 at t_k = 0, 1/4, 1/2, 3/4 (at t = 0 the factor is 0: the first step does nothing), so a coordinate stays "
        "masked with probability 1 * 13/15 * 2/3 * 1/7 = 0.0825 and a pair holds a mask token with probability "
        "1 - (1 - 0.0825)^2 = 0.158, section 5's 0.1583. The last step alone unmasks with probability "
        "2 (1 - h) / (2 - h) < 1, while with kappa_t = t the factor times h is exactly 1 there."
    ),
    "13.2": (
        "Bayes: p(x_1 = (a, c) | x_t = (mask, b)) is proportional to pi_1(a, c) K_t(mask | a) K_t(b | c). With the "
        "mask source K_t(mask | a) = 1 - kappa_t whatever a, and K_t(b | c) = kappa_t delta(b, c): the second "
        "coordinate of x_1 is b, and the first has law pi_1(a, b) / sum_a' pi_1(a', b), the conditional of pi_1 "
        "given its second coordinate; the factors (1 - kappa_t) kappa_t cancel in the normalisation, so t drops "
        "out. On the board this is uniform over the 16 black bins of row b (b is the second token, the row). With the uniform source, "
        "K_t(b | c) = kappa_t delta(b, c) + (1 - kappa_t) / V: the token b may be noise, and the answer mixes "
        "pi_1's conditional given b with its marginal, with weights that change with t."
    ),
}


def my_rate(marginals, x_t, t):
    """13.1: the rate for the mask source with kappa_t = t^2, (n, 2, V + 1)."""
    n, _, V = marginals.shape
    towards = torch.nn.functional.pad(marginals, (0, 1))  # no jumps to the mask token
    here = torch.nn.functional.one_hot(x_t, V + 1).to(marginals.dtype)
    return 2 * t / (1 - t**2) * (towards - here)


def masked_posterior(b):
    """13.2: the law of x_1's first coordinate given x_t = (mask, b), mask source, V = 32."""
    law = fm.grid_law(32)
    return law[:, b] / law[:, b].sum()


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_quadratic_rate": {
        "solution": (my_rate,),
        "wrong": {"linear": (lambda m, x, t: my_rate(m, x, t) * (1 - t**2) / (2 * t * (1 - t)),),  # kappa_t = t's rate
                  "derivative": (lambda m, x, t: my_rate(m, x, t) * (1 + t),),                # 1 - t for 1 - kappa_t
                  "diagonal": (lambda m, x, t: 2 * t / (1 - t**2) * torch.nn.functional.pad(m, (0, 1)),)},  # no -delta
    },
    "check_masked_posterior": {
        "solution": (masked_posterior,),
        "wrong": {"marginal": (lambda b: fm.grid_law(32).sum(dim=1),),              # pi_1's marginal, b ignored
                  "unnormalised": (lambda b: fm.grid_law(32)[:, b],)},               # not divided by its sum
    },
}
