import math

import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, points_test, raises_here, table_test
from schedules import Quadratic

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


def test_the_solvers_work_in_any_dimension(gen):
    x_0 = torch.randn(10, 64, generator=gen, dtype=torch.float64)
    for name, solver in fm.SOLVERS.items():
        assert torch.allclose(solver(lambda x, t: -x, x_0, 64), x_0 * torch.exp(torch.tensor(-1.0, dtype=torch.float64)),
                              rtol=0.02 if name == "euler" else 1e-4)


def test_integrate_runs_backward_in_time_for_any_state(gen):
    y = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    back = fm.integrate("rk4", lambda z, t, where: -z, y, 32, 1.0, 0.0)  # dz/dt = -z from t = 1 down to 0
    assert torch.allclose(back, y * torch.exp(torch.tensor(1.0, dtype=torch.float64)), rtol=1e-7)


def _nan_after(k_bad):
    def field(x, t):
        return torch.full_like(x, float("nan")) if t[0, 0] >= k_bad / 4 else torch.ones_like(x)
    return field


@pytest.mark.parametrize("solver, step", [("euler", 2), ("midpoint", 2), ("heun", 1), ("rk4", 1)])
def test_a_field_returning_nan_is_named_with_its_step_and_time(solver, step):
    # Heun and RK4 reach t = 0.5 on the last stage of step 1; Euler and midpoint on step 2
    with pytest.raises(ValueError, match=rf"velocity returned 6 NaN at step {step} of 4 \(t = 0\.5, {solver}\)"):
        fm.SOLVERS[solver](_nan_after(2), torch.zeros(3, 2), 4)


@pytest.mark.parametrize("result, error, word", [
    (lambda x, t: x[:, :1], ValueError, "shape"),          # (n, 1) is not broadcast silently
    (lambda x, t: x[:1], ValueError, "shape"),
    (lambda x, t: x.numpy(), TypeError, "torch.Tensor"),
    (lambda x, t: [0.0, 0.0], TypeError, "torch.Tensor"),
    (lambda x, t: x * float("inf"), ValueError, "infinite"),
], ids=["(n, 1)", "(1, 2)", "numpy", "list", "inf"])
def test_solvers_check_what_the_field_returns(result, error, word):
    for solver in fm.SOLVERS.values():
        raises_here(lambda: solver(result, torch.ones(3, 2), 2), error, word)


@pytest.mark.parametrize("solver", fm.SOLVERS)
def test_float64_points_through_a_float32_model(solver, gen):
    model = fm.VelocityMLP(hidden=8, n_layers=1)
    x_0 = torch.randn(5, 2, generator=gen)
    out64 = fm.SOLVERS[solver](model, x_0.double(), 3)
    assert out64.dtype == torch.float64
    assert torch.allclose(out64.float(), fm.SOLVERS[solver](model, x_0, 3), atol=1e-5)


def test_ddim_is_euler_on_the_linear_path(gen):
    """DDIM's update x_s = alpha_s e + beta_s m (e, m the noise and data views of the field at (x, t)) is
    x_t + (s - t) v on the linear path: the same points as Euler to 1e-10 with the exact field."""
    x_0 = torch.randn(500, 2, generator=gen, dtype=torch.float64)
    for n_steps in (1, 4, 25):
        a = fm.ddim(fm.marginal_velocity, x_0, n_steps, return_trajectory=True)
        b = fm.euler(fm.marginal_velocity, x_0, n_steps, return_trajectory=True)
        assert a.shape == b.shape and (a - b).abs().max() < 1e-10, n_steps


def test_ddim_is_exact_when_noise_and_data_stay_put(gen):
    """For a target that is one point mu, the exact field keeps e = x_0 and m = mu along each path, so
    DDIM lands on mu in any number of steps (Euler does not, off the linear path)."""
    mu = torch.tensor([[0.7, -1.2]], dtype=torch.float64)
    path = fm.TrigInterpolant()

    def v(x, t):
        c = path.coefficients(t)
        return c.velocity(x, mu.expand_as(x)) if bool((c.alpha_t > 0).all()) else mu.expand_as(x)

    x_0 = torch.randn(50, 2, generator=gen, dtype=torch.float64)
    for n in (1, 3, 10):
        assert (fm.ddim(v, x_0, n, interpolant=path) - mu).abs().max() < 1e-12, n
    assert (fm.euler(v, x_0, 3) - mu).abs().max() > 1e-2
    # a path that stands still at t = 0 (D = 0 there) has no noise or data in its velocity: NaN, as documented
    assert torch.isnan(fm.ddim(lambda x, t: torch.zeros_like(x), x_0, 2, interpolant=Quadratic())).all()


def test_ddim_on_the_trig_path_is_another_consistent_sampler(gen):
    """On the trig path DDIM is not Euler, but both converge to the flow's end point."""
    path = fm.TrigInterpolant()
    v = lambda x, t: fm.marginal_velocity(x, t, interpolant=path)
    x_0 = torch.randn(300, 2, generator=gen, dtype=torch.float64)
    reference = fm.rk4(v, x_0, 100)
    ddim = {n: (fm.ddim(v, x_0, n, interpolant=path) - reference).norm(dim=1).mean().item() for n in (10, 100)}
    euler = (fm.euler(v, x_0, 10) - reference).norm(dim=1).mean().item()
    assert (fm.ddim(v, x_0, 10, interpolant=path) - fm.euler(v, x_0, 10)).abs().max() > 1e-3
    assert ddim[100] < ddim[10] and ddim[100] < 0.05 and euler > 0


BAD = {
    "ddim": (lambda: fm.ddim(fm.marginal_velocity, GOOD, 0), ValueError, "n_steps"),
    "ddim interpolant": (lambda: fm.ddim(fm.marginal_velocity, GOOD, 2, interpolant="trig"), TypeError, "interpolant"),
    "ddim field": (lambda: fm.ddim(lambda x, t: x[:, :1], GOOD, 2), ValueError, "velocity"),
    "euler": (lambda: fm.euler(fm.marginal_velocity, GOOD, 0), ValueError, "n_steps"),
    "euler field arguments": (lambda: fm.euler(lambda x: x, GOOD, 2), TypeError, "velocity"),  # Python's own TypeError
    "integrate n_steps": (lambda: fm.integrate("euler", lambda y, t, w: y, GOOD, 0, 0.0, 1.0), ValueError,
                          "n_steps"),  # was ZeroDivisionError
    "integrate f": (lambda: fm.integrate("euler", lambda y, t: y, GOOD, 2, 0.0, 1.0), TypeError, "f"),
    "euler field": (lambda: fm.euler("not a field", GOOD, 2), TypeError, "velocity"),
    "heun": (lambda: fm.heun(fm.marginal_velocity, GOOD, 2, return_trajectory="yes"), TypeError, "return_trajectory"),
    "midpoint": (lambda: fm.midpoint(fm.marginal_velocity, GOOD, -1), ValueError, "n_steps"),
    "rk4": (lambda: fm.rk4(fm.marginal_velocity, GOOD, 2.0), TypeError, "n_steps"),
    "integrate": (lambda: fm.integrate("rk5", lambda y, t, w: y, GOOD, 2, 0.0, 1.0), ValueError, "method"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({**{name: (lambda bad, f=f: f(fm.marginal_velocity, bad, 2)) for name, f in fm.SOLVERS.items()},
                               "ddim": lambda bad: fm.ddim(fm.marginal_velocity, bad, 2)})
