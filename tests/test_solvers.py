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



def test_time_grid_ends_spacing_and_euler_on_it():
    """rho = 1 is the equal grid (Euler on it is Euler); rho > 1 puts the steps closer together near t_end."""
    assert fm.time_grid(4) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0], abs=1e-15)
    grid = fm.time_grid(5, rho=3.0, t_start=0.01, t_end=0.99)
    gaps = [b - a for a, b in zip(grid, grid[1:])]
    assert grid[0] == 0.01 and grid[-1] == 0.99 and len(grid) == 6
    assert all(b < a for a, b in zip(gaps, gaps[1:])), gaps  # steps shrink towards the data
    x_0 = torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    same = fm.euler(fm.marginal_velocity, x_0, None, times=fm.time_grid(7))
    assert (same - fm.euler(fm.marginal_velocity, x_0, 7)).abs().max() < 1e-12
    # an uneven grid: the recursion x <- x + (t_{k+1} - t_k) v(x, t_k), written out
    x = x_0.clone()
    for a, b in zip(grid, grid[1:]):
        x = x + (b - a) * fm.marginal_velocity(x, a)
    assert (fm.euler(fm.marginal_velocity, x_0, 5, times=grid) - x).abs().max() < 1e-12


def _point_target_field(path, mu):
    """The exact velocity of a target that is one point mu: its posterior mean is mu everywhere."""
    return lambda x, t: path.coefficients(t).velocity(x, mu.expand_as(x))


def test_ddpm_step_is_ho_et_al_posterior_on_the_trig_path():
    """On the variance-preserving (trig) path, with abar = beta^2 in Ho et al.'s notation, one DDPM step from t to
    s draws from N(c_0 x0_pred + c_t x_t, beta_tilde): their eq. (7), written here in their symbols."""
    path = fm.TrigInterpolant()
    gen = torch.Generator().manual_seed(3)
    x_t = torch.randn(6, 2, dtype=torch.float64, generator=gen)
    v = torch.randn(6, 2, dtype=torch.float64, generator=gen)  # any field value: the step is affine in it
    t, s = 0.3, 0.45
    got = fm.ddpm(lambda x, tt: v, x_t, None, interpolant=path, times=[t, s], generator=torch.Generator().manual_seed(9))
    z = torch.randn(x_t.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    abar_t, abar_s = math.sin(math.pi * t / 2) ** 2, math.sin(math.pi * s / 2) ** 2
    a_step = abar_t / abar_s  # their alpha_t for this step (abar_t = abar_s a_step), beta_step = 1 - a_step
    x0_pred = path.convert(x_t, v, t, source="velocity", target="data")
    mean = (math.sqrt(abar_s) * (1 - a_step) / (1 - abar_t)) * x0_pred + \
        (math.sqrt(a_step) * (1 - abar_s) / (1 - abar_t)) * x_t
    variance = (1 - abar_s) / (1 - abar_t) * (1 - a_step)
    assert (got - (mean + math.sqrt(variance) * z)).abs().max() < 1e-12


@pytest.mark.parametrize("path", [fm.LinearInterpolant(), fm.TrigInterpolant()], ids=["linear", "trig"])
def test_ddpm_keeps_the_path_law_for_a_point_target(path):
    """With one point mu as target, m = mu is exact, so each ancestral step draws x_s from the true
    conditional and every x_{t_k} has the law N(beta_t mu, alpha_t^2 I): checked on moments of 100,000 samples."""
    mu = torch.tensor([[0.7, -1.2]], dtype=torch.float64)
    x_0 = torch.randn(100_000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    grid = fm.time_grid(4, rho=2.0)
    path_samples = fm.ddpm(_point_target_field(path, mu), x_0, None, interpolant=path, times=grid,
                           generator=torch.Generator().manual_seed(1), return_trajectory=True)
    for k, t in enumerate(grid):
        c = path.coefficients(t)
        assert (path_samples[k].mean(0) - c.beta_t * mu[0]).abs().max() < 0.02, (k, t)
        assert (path_samples[k].std(0) - c.alpha_t).abs().max() < 0.02, (k, t)
    assert (path_samples[-1] - mu).abs().max() < 1e-12  # the last step lands on m, no noise
    # DDIM, the same step without noise, lands on mu too; DDPM's first step from t = 0 forgets x_0
    assert (fm.ddim(_point_target_field(path, mu), x_0[:5], 4, interpolant=path) - mu).abs().max() < 1e-12
    first = path_samples[1] - path.coefficients(grid[1]).beta_t * mu
    assert abs(torch.corrcoef(torch.stack([first[:, 0], x_0[:, 0]]))[0, 1].item()) < 0.02


@pytest.mark.slow
def test_ddpm_on_the_exact_field_converges_and_is_seeded():
    x_0 = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
    a = fm.ddpm(fm.marginal_velocity, x_0, 100, generator=torch.Generator().manual_seed(2))
    b = fm.ddpm(fm.marginal_velocity, x_0, 100, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and fm.in_support_fraction(a) > 0.99
    assert fm.in_support_fraction(fm.ddpm(fm.marginal_velocity, x_0, 4, generator=torch.Generator().manual_seed(2))) < 0.9

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
    "ddpm": (lambda: fm.ddpm(fm.marginal_velocity, GOOD, 2, generator=0), TypeError, "generator"),
    "ddpm n_steps": (lambda: fm.ddpm(fm.marginal_velocity, GOOD, 0), ValueError, "n_steps"),
    "ddpm times": (lambda: fm.ddpm(fm.marginal_velocity, GOOD, None, times=[0.0, 0.5, 0.4]), ValueError, "times"),
    "ddim times length": (lambda: fm.ddim(fm.marginal_velocity, GOOD, 3, times=[0.0, 1.0]), ValueError, "times"),
    "euler times type": (lambda: fm.euler(fm.marginal_velocity, GOOD, None, times=0.5), TypeError, "times"),
    "euler times outside": (lambda: fm.euler(fm.marginal_velocity, GOOD, None, times=[0.5, 1.5]), ValueError, "times"),
    "euler times entries": (lambda: fm.euler(fm.marginal_velocity, GOOD, None, times=[0.0, "1"]), TypeError, "times"),
    "time_grid": (lambda: fm.time_grid(0), ValueError, "n_steps"),
    "time_grid rho": (lambda: fm.time_grid(4, rho=0.0), ValueError, "rho"),
    "time_grid ends": (lambda: fm.time_grid(4, t_start=0.5, t_end=0.5), ValueError, "t_start"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({**{name: (lambda bad, f=f: f(fm.marginal_velocity, bad, 2)) for name, f in fm.SOLVERS.items()},
                               "ddim": lambda bad: fm.ddim(fm.marginal_velocity, bad, 2),
                               "ddpm": lambda bad: fm.ddpm(fm.marginal_velocity, bad, 2)})
