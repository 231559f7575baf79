"""Solutions for 08_one_step."""

import math

import torch


def u_decay(x, t, s):
    """08.1: v = -x gives X_s = x e^{-(s - t)}, so u = x (e^{-(s - t)} - 1) / (s - t) (-x at s = t)."""
    h = s - t
    return -x if h == 0 else x * (math.exp(-h) - 1) / h


def my_sample(model, x_0, n_steps):
    """08.2: n_steps jumps with the average velocity over each interval."""
    x = x_0
    with torch.no_grad():
        for k in range(n_steps):
            t = torch.full((len(x), 1), k / n_steps)
            s = torch.full((len(x), 1), (k + 1) / n_steps)
            x = x + (s - t) * model(x, t, s)
    return x
