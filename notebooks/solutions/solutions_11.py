"""Solutions for 11_digits."""

import torch

KEYS = {
    "11.1": "t**2 * distance**2 / (2 * (1 - t)**2)",
    "11.2": "(grad * eps).sum(dim=1)",
}

ANSWERS = {
    "11.1": (
        "With x_t = (1 - t) x_0 + t y_a, the log-weights are -||x_t - t y||^2 / (2 (1 - t)^2), and "
        "x_t - t y_b = (1 - t) x_0 + t (y_a - y_b). The difference of the squared norms is "
        "2 t (1 - t) x_0 . (y_a - y_b) + t^2 D^2, whose mean over x_0 is t^2 D^2, so the mean log-odds is "
        "t^2 D^2 / (2 (1 - t)^2), and its spread (the term linear in x_0) has standard deviation t D / (1 - t). "
        "Setting it to 5 gives t / (1 - t) = sqrt(10) / D, t = sqrt(10) / (D + sqrt(10)): for two training digits "
        "at the typical nearest-neighbour distance D of about 2 that is t = 0.61; for two random digits "
        "(median distance about 6.1, section 3) it is t = 0.34; for two of 512 points of the board (nearest neighbour about 0.1) it is "
        "t = 0.97. In 64 dimensions the references are far apart, so the weights settle on the pair's own "
        "endpoint early; in the plane only at the very end: the curves of section 3."
    ),
    "11.2": (
        "E[eps^T J eps] = sum_ij J_ij E[eps_i eps_j] = sum_i J_ii = div v when E[eps eps^T] = I, whatever J "
        "is: unbiased. One probe costs one backward pass (the gradient of (v * eps).sum() is eps^T J for "
        "every point at once) against d passes for the exact divergence. With +-1 entries the diagonal "
        "is counted exactly (eps_i^2 = 1) and only the off-diagonal part adds noise: the variance is "
        "2 sum_{i != j} S_ij^2 with S = (J + J^T) / 2, against 2 sum_ij S_ij^2 for Gaussian probes."
    ),
}


def log_odds(t, distance):
    """11.1: mean over x_0 of log(w_a / w_b) at x_t = (1 - t) x_0 + t y_a, |y_a - y_b| = distance."""
    return t**2 * distance**2 / (2 * (1 - t)**2)


def my_hutchinson(velocity, x, t, n_probes, generator):
    """11.2: the average over n_probes Rademacher probes eps of eps^T (dv/dx) eps, one backward pass each."""
    x = x.detach().requires_grad_(True)
    t = torch.full((len(x), 1), float(t), dtype=x.dtype)
    v = velocity(x, t)
    total = torch.zeros(len(x), dtype=x.dtype)
    for k in range(n_probes):
        eps = (torch.randint(0, 2, x.shape, generator=generator) * 2 - 1).to(x.dtype)
        (grad,) = torch.autograd.grad((v * eps).sum(), x, retain_graph=k + 1 < n_probes)
        total = total + (grad * eps).sum(dim=1)
    return (total / n_probes).detach()


def _hutchinson_wrong(velocity, x, t, n_probes, generator, *, derivative=True, probe=None):
    """Hutchinson gone wrong: eps . v without the derivative, or probes that are not centred (uniform in [0, 1))."""
    x = x.detach().requires_grad_(True)
    v = velocity(x, torch.full((len(x), 1), float(t), dtype=x.dtype))
    total = torch.zeros(len(x), dtype=x.dtype)
    for _ in range(n_probes):
        eps = (probe(x.shape, generator=generator, dtype=x.dtype) if probe is not None
               else (torch.randint(0, 2, x.shape, generator=generator) * 2 - 1).to(x.dtype))
        if derivative:
            (grad,) = torch.autograd.grad((v * eps).sum(), x, retain_graph=True)
            total = total + (grad * eps).sum(dim=1)
        else:
            total = total + (v * eps).sum(dim=1)
    return (total / n_probes).detach()


# ---- the checks: each with its worked solution and the wrong answers it must recognise ----------
# CHECKS[check] = {"solution": the check's arguments for the worked solution,
#                  "wrong": {hint key in fm.exercises.HINTS[exercise]: the arguments of a wrong answer},
#                  "hidden": (optional) code for the graded version's hidden test: it recomputes the answer
#                            in the test cell itself, without fmhelpers}
# tests/test_exercises.py and benchmarks/exercises.py read these tables; scripts/classroom.py the hidden tests.
CHECKS = {
    "check_log_odds": {
        "solution": (log_odds,),
        "wrong": {"squares": (lambda t, d: t * d**2 / (2 * (1 - t)),),   # forgot the squares of t and 1 - t
                  "half": (lambda t, d: t**2 * d**2 / (1 - t) ** 2,)},    # forgot the 1/2
        "hidden": "assert all(abs(float(log_odds(t, d)) - t**2 * d**2 / (2 * (1 - t) ** 2)) < 1e-6 * t**2 * d**2 / (1 - t) ** 2 "
                  "for t, d in ((0.3, 2.0), (0.7, 5.0)))",
    },
    "check_hutchinson": {
        "solution": (my_hutchinson,),
        "wrong": {"no_derivative": (lambda v, x, t, n, g: _hutchinson_wrong(v, x, t, n, g, derivative=False),),
                  "probes": (lambda v, x, t, n, g: _hutchinson_wrong(v, x, t, n, g, probe=torch.rand),),
                  "summed": (lambda v, x, t, n, g: n * my_hutchinson(v, x, t, n, g),)},
    },
}
