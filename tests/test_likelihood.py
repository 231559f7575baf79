"""The flow as a density (instantaneous change of variables) and the score (fmhelpers.likelihood)."""

import math

import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, INF, points_test, table_test
from schedules import Quadratic

A = torch.tensor([[0.3, -0.7], [0.4, -0.1]], dtype=torch.float64)  # trace 0.2


def _linear_field(x, t):
    """v(x, t) = A x: div v = trace(A) everywhere; X_t = exp(tA) X_0 is N(0, exp(tA) exp(tA)^T)."""
    return x @ A.T


def _flow_log_density(x, t):
    """log-density of exp(tA) X_0, X_0 ~ N(0, I): the closed form the ODE must reproduce."""
    m = torch.linalg.matrix_exp(t * A)
    cov = m @ m.T
    return torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), cov).log_prob(x)


def test_divergence_of_a_linear_field_is_its_trace(gen):
    x = torch.randn(50, 2, generator=gen, dtype=torch.float64)
    assert torch.allclose(fm.divergence(_linear_field, x, 0.3), torch.full((50,), 0.2, dtype=torch.float64))


def test_divergence_of_the_exact_field_matches_finite_differences(gen):
    x = torch.randn(40, 2, generator=gen, dtype=torch.float64)
    h, t = 1e-5, 0.6
    fd = sum((fm.marginal_velocity(x + h * e, t)[:, i] - fm.marginal_velocity(x - h * e, t)[:, i]) / (2 * h)
             for i, e in enumerate(torch.eye(2, dtype=torch.float64)))
    assert torch.allclose(fm.divergence(fm.marginal_velocity, x, t), fd, atol=1e-6)


@pytest.mark.parametrize("solver", ["euler", "midpoint", "heun", "rk4"])
def test_log_likelihood_of_a_linear_flow_is_the_gaussian_closed_form(solver, gen):
    x = torch.randn(30, 2, generator=gen, dtype=torch.float64)
    got = fm.log_likelihood(_linear_field, x, 0.8, n_steps=64, solver=solver)
    tol = {"euler": 2e-2, "midpoint": 1e-3, "heun": 1e-3, "rk4": 1e-6}[solver]
    assert (got - _flow_log_density(x, 0.8)).abs().max() < tol


@pytest.mark.parametrize("t", [0.5, 0.9])
def test_log_likelihood_of_the_exact_field_is_the_exact_density(t, gen):
    path = fm.LinearInterpolant()
    x = path.interpolate(torch.randn(200, 2, generator=gen, dtype=torch.float64),
                         fm.sample_checkerboard(200, generator=gen).double(), t)
    exact = fm.marginal_density(x, t, log=True)
    errors = [(fm.log_likelihood(fm.marginal_velocity, x, t, n_steps=n) - exact).abs().mean().item() for n in (8, 16)]
    assert errors[1] < 0.01
    assert errors[1] < errors[0] / 6  # RK4 is fourth order: doubling the steps divides the error by about 16


def test_log_likelihood_runs_back_to_where_the_forward_solver_started(gen):
    x_0 = torch.randn(20, 2, generator=gen, dtype=torch.float64)
    x_1 = fm.rk4(_linear_field, x_0, 32)
    log_p, start = fm.log_likelihood(_linear_field, x_1, 1.0, n_steps=32, return_start=True)
    assert torch.allclose(start, x_0, atol=1e-8)
    # det exp(A) = exp(trace A): log p_1(x_1) = log p_0(x_0) - trace(A)
    assert torch.allclose(log_p, fm.gaussian_log_density(x_0) - 0.2, atol=1e-8)


@pytest.mark.parametrize("t", [0.0, 0.3, 0.8])
def test_the_score_from_the_velocity_is_the_gradient_of_the_log_density(t, gen):
    x = (torch.randn(25, 2, generator=gen, dtype=torch.float64) * 1.5).requires_grad_(True)
    (grad,) = torch.autograd.grad(fm.marginal_density(x, t, log=True).sum(), x)
    assert torch.allclose(fm.marginal_score(x.detach(), t), grad, atol=1e-7)
    trig = fm.TrigInterpolant()
    (grad,) = torch.autograd.grad(fm.marginal_density(x, t, log=True, interpolant=trig).sum(), x)
    assert torch.allclose(fm.marginal_score(x.detach(), t, interpolant=trig), grad, atol=1e-7)


def test_the_score_at_t_0_is_that_of_the_standard_gaussian(gen):
    x = torch.randn(10, 2, generator=gen, dtype=torch.float64)
    assert torch.allclose(fm.marginal_score(x, 0.0), -x)


@pytest.mark.slow
def test_the_sde_keeps_the_marginals_and_noise_zero_is_euler(gen):
    x_0 = fm.sample_gaussian(3000, generator=gen).double()
    assert torch.equal(fm.sample_sde(fm.marginal_velocity, x_0, 20, noise=0.0), fm.euler(fm.marginal_velocity, x_0, 20))
    # at t = 0.5 the SDE's samples have the law pi_t: their mean log p_t is that of interpolant samples
    # (Monte Carlo standard error of each mean about 0.015); pure noise added to the ODE would lower it
    path = fm.sample_sde(fm.marginal_velocity, x_0, 50, noise=1.0, generator=torch.Generator().manual_seed(1),
                         return_trajectory=True)
    assert path.shape == (51, 3000, 2) and torch.equal(path[0], x_0)
    x_t = fm.LinearInterpolant().interpolate(x_0, fm.sample_checkerboard(3000, generator=gen).double(), 0.5)
    mean_log_p = [fm.marginal_density(x, 0.5, log=True).mean().item() for x in (path[25], x_t)]
    ode = fm.euler(fm.marginal_velocity, x_0, 50, return_trajectory=True)[25]
    blurred = ode + 0.3 * torch.randn(3000, 2, generator=gen, dtype=torch.float64)
    assert abs(mean_log_p[0] - mean_log_p[1]) < 0.06 < mean_log_p[1] - fm.marginal_density(blurred, 0.5, log=True).mean()
    # the last step's noise, g sqrt(h) = 0.14, has no time left to be corrected: the end is blurred
    assert 0.7 < fm.in_support_fraction(path[-1]) < fm.in_support_fraction(fm.euler(fm.marginal_velocity, x_0, 50))


def test_a_seeded_sde_run_is_reproducible(gen):
    x_0 = fm.sample_gaussian(100, generator=gen)
    runs = [fm.sample_sde(fm.marginal_velocity, x_0, 10, generator=torch.Generator().manual_seed(5)) for _ in range(2)]
    assert torch.equal(*runs)


def test_the_kl_of_a_model_is_finite_and_gets_the_nats_right():
    """KL(pi_1 || p) >= 0 for any density p; for the committed model it is small but not zero."""
    model = fm.load_checkpoint("notebooks/checkpoints/velocity_mlp.pt").model
    x = fm.sample_checkerboard(300, generator=torch.Generator().manual_seed(0))
    kl = math.log(fm.BOARD.density_value) - fm.log_likelihood(model, x, 1.0, n_steps=8)
    assert 0 < kl.mean().item() < 0.5


def test_the_score_at_t_0_for_a_schedule_whose_gain_vanishes_there():
    """alpha'(0) = beta'(0) = 0: the velocity says nothing about the posterior mean at t = 0, but the
    score there is -x whatever the schedule (it was NaN), and so is the SDE's first step."""
    x = torch.randn(6, 2, dtype=torch.float64)
    assert torch.allclose(fm.score_from_velocity(torch.zeros_like(x), x, 0.0, interpolant=Quadratic()), -x)
    out = fm.sample_sde(lambda y, t: torch.zeros_like(y), x, 4, noise=1.0, interpolant=Quadratic(),
                        generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(out).all()


def test_a_noise_schedule_and_the_diffusions_g():
    """g(t)^2 = 2 alpha^2 (beta'/beta - alpha'/alpha) is the variance rate of the linear SDE that runs
    the path backwards from the data: on the linear path 2 (1 - t) / t. Checked by simulating that
    SDE from a point mass: after running from tau = 0 to tau = 1 - t its variance must be alpha_t^2."""
    g = fm.diffusion_noise()
    assert [g(t) ** 2 for t in (0.25, 0.5, 0.8)] == pytest.approx([2 * 0.75 / 0.25, 2.0, 2 * 0.2 / 0.8])
    assert g(0.0) == 0.0 and g(1.0) == 0.0  # the first step from t = 0 takes no noise (g is infinite there)
    gen = torch.Generator().manual_seed(0)
    y = torch.full((20_000, 1), 1.0, dtype=torch.float64)  # data point x_1 = 1
    steps, t_end = 400, 0.4
    for k in range(steps):  # dY = -(beta'/beta)(t) Y dtau + g(t) dW, t = 1 - tau, from t = 1 down to t_end
        t = 1 - k * (1 - t_end) / steps
        h = (1 - t_end) / steps
        y = y - h * y / t + g(t) * math.sqrt(h) * torch.randn(y.shape, generator=gen, dtype=torch.float64)
    assert float(y.mean()) == pytest.approx(t_end, abs=0.01)          # beta_t x_1
    assert float(y.var()) == pytest.approx((1 - t_end) ** 2, rel=0.03)  # alpha_t^2


def test_without_noise_on_the_last_step_the_sde_ends_on_its_drift(gen):
    x_0 = fm.sample_gaussian(500, generator=gen).double()
    a = fm.sample_sde(fm.marginal_velocity, x_0, 10, noise=0.5, denoise_last=True,
                      generator=torch.Generator().manual_seed(1), return_trajectory=True)
    b = fm.sample_sde(fm.marginal_velocity, x_0, 10, noise=0.5, generator=torch.Generator().manual_seed(1),
                      return_trajectory=True)
    assert torch.equal(a[:-1], b[:-1]) and not torch.equal(a[-1], b[-1])
    v = fm.marginal_velocity(a[-2], 0.9)
    drift = v + 0.125 * fm.score_from_velocity(v, a[-2], 0.9)
    assert torch.allclose(a[-1], a[-2] + 0.1 * drift)



@pytest.mark.parametrize("field", ["exact", "learned"])
def test_the_diffusions_last_drift_step_lands_on_twice_the_posterior_mean_correction(field, gen):
    """With g^2 = 2(1 - t)/t the noise-free last step from t = 1 - h lands on 2m - x/t, where Euler's
    ODE step lands on m = E[X_1 | X_t = x]: for the exact field (m in closed form) and for any field
    (m the one it implies), since both steps are algebra on v. Taken by sample_sde with g on the last
    step only, everything before it is Euler's ODE."""
    velocity = fm.marginal_velocity if field == "exact" else fm.VelocityMLP().double()
    x_0, n_steps, g = fm.sample_gaussian(300, generator=gen).double(), 8, fm.diffusion_noise()
    t = 1 - 1 / n_steps
    sde = fm.sample_sde(velocity, x_0, n_steps, noise=lambda s: g(s) if s > t - 0.5 / n_steps else 0.0,
                        denoise_last=True, return_trajectory=True)
    x = fm.euler(velocity, x_0, n_steps, return_trajectory=True)[-2]
    assert torch.allclose(sde[-2], x)  # no noise anywhere: the ODE up to the last step
    v = velocity(x, torch.full((len(x), 1), t, dtype=x.dtype)).detach()
    m = fm.marginal_posterior_mean(x, t) if field == "exact" else fm.LinearInterpolant().coefficients(
        torch.tensor(t, dtype=x.dtype)).posterior_mean(x, v)
    assert torch.allclose(x + (1 - t) * v, m)                     # Euler's last step: the posterior mean
    assert torch.allclose(sde[-1], 2 * m - x / t)                 # the SDE's: twice the correction

# ---- in any dimension, and Hutchinson's estimator ------------------------------------------------
B = torch.linspace(-1, 1, 100, dtype=torch.float64).reshape(10, 10).sin() + 0.3 * torch.eye(10, dtype=torch.float64)


def _tanh_field(x, t):
    """v(x) = tanh(x) + B x in 10-D: div v = sum_i (1 - tanh(x_i)^2) + trace(B), by hand."""
    return torch.tanh(x) + x @ B.T


def _tanh_divergence(x):
    return (1 - torch.tanh(x).pow(2)).sum(1) + B.trace()


def test_the_gaussian_log_density_in_any_dimension_and_unchanged_in_2d(gen):
    for d in (1, 2, 5, 64):
        x = torch.randn(20, d, generator=gen, dtype=torch.float64)
        want = torch.distributions.MultivariateNormal(torch.zeros(d, dtype=torch.float64),
                                                      torch.eye(d, dtype=torch.float64)).log_prob(x)
        assert torch.allclose(fm.gaussian_log_density(x), want, atol=1e-12)
    x = torch.randn(20, 2, generator=gen)
    assert torch.equal(fm.gaussian_log_density(x), -0.5 * x.pow(2).sum(dim=1) - math.log(2 * math.pi))


def test_the_exact_divergence_in_10d_is_the_formula(gen):
    x = torch.randn(30, 10, generator=gen, dtype=torch.float64)
    assert torch.allclose(fm.divergence(_tanh_field, x, 0.5), _tanh_divergence(x), atol=1e-12)
    wide = fm.VelocityMLP(hidden=16, n_layers=2, dim=10).double()
    (jacobian,) = [torch.autograd.functional.jacobian(lambda y: wide(y[None], 0.5)[0], p) for p in x[:1]]
    assert fm.divergence(wide, x[:1], 0.5).item() == pytest.approx(jacobian.trace().item(), abs=1e-12)


@pytest.mark.slow
def test_hutchinson_is_unbiased_with_the_variance_it_should_have(gen):
    """One Rademacher probe per point on v = A x (div = trace A): the mean over 20,000 points is the
    trace within 4 standard errors, and the variance is 2 sum_{i != j} S_ij^2, S = (A + A^T) / 2."""
    x = torch.randn(20_000, 10, generator=gen, dtype=torch.float64)
    one = fm.divergence(lambda y, t: y @ B.T, x, 0.5, estimator="hutchinson", generator=torch.Generator().manual_seed(0))
    sym = (B + B.T) / 2
    variance = 2 * (sym.pow(2).sum() - sym.diagonal().pow(2).sum()).item()
    assert abs(one.mean().item() - B.trace().item()) < 4 * math.sqrt(variance / len(x))
    assert one.var().item() == pytest.approx(variance, rel=0.05)
    # on a nonlinear field, at 8 points, many probes: each estimate within 4 standard errors of the exact value
    x = torch.randn(8, 10, generator=gen, dtype=torch.float64)
    many = fm.divergence(_tanh_field, x, 0.5, estimator="hutchinson", n_probes=4000,
                         generator=torch.Generator().manual_seed(1))
    assert ((many - _tanh_divergence(x)).abs() < 4 * math.sqrt(variance / 4000) + 0.05).all()
    # more probes, smaller error; a seeded estimate is reproducible
    err = [(fm.divergence(_tanh_field, x, 0.5, estimator="hutchinson", n_probes=k, generator=torch.Generator().manual_seed(2))
            - _tanh_divergence(x)).pow(2).mean().item() for k in (1, 64)]
    assert err[1] < err[0] / 8
    again = fm.divergence(_tanh_field, x, 0.5, estimator="hutchinson", n_probes=4000, generator=torch.Generator().manual_seed(1))
    assert torch.equal(many, again)


def test_log_likelihood_in_10d_exact_and_with_hutchinson(gen):
    """v = A x with A = B / 4: X_t = exp(tA) X_0, a Gaussian; the exact divergence reproduces its
    log-density, and Hutchinson's estimate (one probe kept along each trajectory) is right on average."""
    a = B / 4
    x = torch.randn(4000, 10, generator=gen, dtype=torch.float64)
    m = torch.linalg.matrix_exp(0.8 * a)
    want = torch.distributions.MultivariateNormal(torch.zeros(10, dtype=torch.float64), m @ m.T).log_prob(x)
    exact = fm.log_likelihood(lambda y, t: y @ a.T, x[:50], 0.8, n_steps=16)
    assert (exact - want[:50]).abs().max() < 1e-6
    hutch = fm.log_likelihood(lambda y, t: y @ a.T, x, 0.8, n_steps=4, estimator="hutchinson",
                              generator=torch.Generator().manual_seed(3))
    gap = hutch - want
    assert abs(gap.mean().item()) < 4 * gap.std().item() / math.sqrt(len(x)) + 1e-4 and gap.std() > 0.01


BAD = {
    "diffusion_noise": (lambda: fm.diffusion_noise("linear"), TypeError, "interpolant"),
    # the g(t) it returns: 0.0 for t = -0.1 and t = True, torch's error for a tensor (n,)
    "diffusion_noise g below 0": (lambda: fm.diffusion_noise()(-0.1), ValueError, "t"),
    "diffusion_noise g bool": (lambda: fm.diffusion_noise()(True), TypeError, "t"),
    "diffusion_noise g tensor": (lambda: fm.diffusion_noise()(torch.full((3,), 0.5)), TypeError, "t"),
    "sample_sde noise(t)": (lambda: fm.sample_sde(fm.VelocityMLP(), GOOD, 2, noise=lambda t: -1.0), ValueError, "noise"),
    "sample_sde noise(t) nan": (lambda: fm.sample_sde(fm.VelocityMLP(), GOOD, 2, noise=lambda t: float("nan")),
                                ValueError, "noise"),
    "sample_sde denoise_last": (lambda: fm.sample_sde(fm.VelocityMLP(), GOOD, 2, denoise_last=1), TypeError,
                                "denoise_last"),
    "divergence estimator": (lambda: fm.divergence(fm.marginal_velocity, GOOD, 0.5, estimator="skilling"), ValueError,
                             "estimator"),
    "divergence n_probes": (lambda: fm.divergence(fm.marginal_velocity, GOOD, 0.5, estimator="hutchinson", n_probes=0),
                            ValueError, "n_probes"),
    "divergence generator": (lambda: fm.divergence(fm.marginal_velocity, GOOD, 0.5, generator=3), TypeError, "generator"),
    "divergence model width": (lambda: fm.divergence(fm.VelocityMLP(dim=5), GOOD, 0.5), ValueError, "x"),
    "log_likelihood estimator": (lambda: fm.log_likelihood(fm.VelocityMLP(), GOOD, 0.5, estimator="exakt"), ValueError,
                                 "estimator"),
    "log_likelihood n_probes": (lambda: fm.log_likelihood(fm.VelocityMLP(), GOOD, 0.5, n_probes=-1), ValueError,
                                "n_probes"),
    "divergence": (lambda: fm.divergence(lambda x, t: x.detach(), GOOD, 0.5), ValueError, "differentiable"),
    "gaussian_log_density": (lambda: fm.gaussian_log_density(INF), ValueError, "x"),
    "log_likelihood": (lambda: fm.log_likelihood(fm.VelocityMLP(), GOOD, 0.0), ValueError, "t"),
    "log_likelihood solver": (lambda: fm.log_likelihood(fm.VelocityMLP(), GOOD, 0.5, solver="rk5"), ValueError,
                              "solver"),
    "score_from_velocity": (lambda: fm.score_from_velocity(torch.zeros(3, 2), GOOD, 0.5), ValueError, "v"),
    "score_from_velocity t = 1": (lambda: fm.score_from_velocity(GOOD, GOOD, 1.0), ValueError, "t"),
    "sample_sde": (lambda: fm.sample_sde(fm.VelocityMLP(), GOOD, 4, noise=-1.0), ValueError, "noise"),
    "sample_sde generator": (lambda: fm.sample_sde(fm.VelocityMLP(), GOOD, 4, generator=3), TypeError, "generator"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "log_likelihood": lambda bad: fm.log_likelihood(fm.VelocityMLP(hidden=8, n_layers=1), bad, 0.5, n_steps=2),
    "divergence": lambda bad: fm.divergence(fm.VelocityMLP(hidden=8, n_layers=1), bad, 0.5),
    "sample_sde": lambda bad: fm.sample_sde(fm.VelocityMLP(hidden=8, n_layers=1), bad, 2),
    "score_from_velocity": lambda bad: fm.score_from_velocity(bad, GOOD, 0.5),
})
