import math

import pytest
import torch

import fmhelpers as fm

ORDERS = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}


def _rotation_field(x, t):
    """dx/dt = (1 + t) J x, J a quarter turn: x(t) = rotation by t + t^2/2 of x(0)."""
    return (1 + t) * torch.stack([-x[:, 1], x[:, 0]], dim=1)


def _exact(x_0):
    theta = torch.tensor(1.5, dtype=torch.float64)
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([c * x_0[:, 0] - s * x_0[:, 1], s * x_0[:, 0] + c * x_0[:, 1]], 1)


@pytest.mark.parametrize("name", ORDERS)
def test_convergence_order(name):
    x_0 = torch.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype=torch.float64)
    steps = [8, 16, 32, 64]
    errors = [(fm.SOLVERS[name](_rotation_field, x_0, n) - _exact(x_0)).norm().item() for n in steps]
    slopes = [math.log2(e1 / e2) for e1, e2 in zip(errors, errors[1:])]
    assert abs(slopes[-1] - ORDERS[name]) < 0.15, (errors, slopes)


def test_euler_is_exactly_the_forward_recursion(gen):
    x_0 = torch.randn(7, 2, generator=gen)
    n_steps = 5
    x = x_0.clone()
    for k in range(n_steps):
        t = torch.full((7, 1), k / n_steps)
        x = x + (1.0 / n_steps) * fm.marginal_velocity(x, t)
    assert torch.equal(fm.euler(fm.marginal_velocity, x_0, n_steps), x)


@pytest.mark.parametrize("name", ORDERS)
def test_trajectory_shape_dtype_and_no_graph(name, gen):
    model = fm.VelocityMLP(hidden=8, n_layers=1)
    x_0 = torch.randn(11, 2, generator=gen)
    path = fm.SOLVERS[name](model, x_0, 3, return_trajectory=True)
    assert path.shape == (4, 11, 2) and path.dtype == torch.float32
    assert torch.equal(path[0], x_0) and not path.requires_grad
    assert torch.equal(path[-1], fm.SOLVERS[name](model, x_0, 3))
    x64 = fm.SOLVERS[name](_rotation_field, x_0.double(), 2)
    assert x64.dtype == torch.float64


def test_the_field_sees_times_on_the_grid():
    seen = []

    def spy(x, t):
        assert t.shape == (len(x), 1)
        seen.append(t[0, 0].item())
        return torch.zeros_like(x)

    fm.euler(spy, torch.zeros(3, 2), 4)
    assert seen == [0.0, 0.25, 0.5, 0.75]
    seen.clear()
    fm.rk4(spy, torch.zeros(3, 2), 2)
    assert seen == [0.0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1.0]


@pytest.mark.parametrize(
    "args, error, word",
    [
        ((_rotation_field, torch.zeros(3, 2), 0), ValueError, "n_steps"),
        ((_rotation_field, torch.zeros(3, 2), 2.0), TypeError, "n_steps"),
        ((_rotation_field, torch.zeros(3, 3), 2), ValueError, "x_0"),
        ((_rotation_field, torch.tensor([[float("nan"), 0.0]]), 2), ValueError, "x_0"),
        (("not a field", torch.zeros(3, 2), 2), TypeError, "velocity"),
    ],
)
def test_bad_input_names_the_argument(args, error, word):
    for solver in fm.SOLVERS.values():
        with pytest.raises(error, match=rf"\b{word}\b"):
            solver(*args)
