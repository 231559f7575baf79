"""The exact marginal field against a brute-force numerical integral and against Monte Carlo."""

import math

import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, points_test, table_test, times_test

PATHS = [fm.LinearInterpolant(), fm.TrigInterpolant()]


def _grid_posterior(x, t, path, m=100_000):
    """E[X_1 | X_t = x] and p_t(x) by a midpoint rule, cell by cell and axis by axis (no CDFs used).

    Given X_1 = y the likelihood N(x; beta y, alpha^2 I) is a product over the two axes, and pi_1
    is uniform on each black cell, so each cell's integral is a product of two 1-D integrals.
    """
    a = path.alpha(torch.tensor(t, dtype=torch.float64))
    b = path.beta(torch.tensor(t, dtype=torch.float64))
    corners = fm.black_cells()
    u = (torch.arange(m, dtype=torch.float64) + 0.5) / m  # midpoints in a cell of side 1
    means, densities = [], []
    for xi in x:  # in log space: far from the board at t near 1 the integrals underflow
        log_mass = torch.zeros(len(corners), 2, dtype=torch.float64)
        mean = torch.zeros(len(corners), 2, dtype=torch.float64)
        for k, corner in enumerate(corners):
            for d in range(2):
                y = corner[d] + u
                log_lik = -((xi[d] - b * y) ** 2) / (2 * a**2) - torch.log(math.sqrt(2 * math.pi) * a)
                log_mass[k, d] = torch.logsumexp(log_lik, 0) - math.log(m)
                mean[k, d] = (torch.softmax(log_lik, 0) * y).sum()
        log_cell = log_mass.sum(1) - math.log(len(corners))  # prior 1/8 per cell, cell area 1
        densities.append(torch.logsumexp(log_cell, 0).exp())
        means.append((torch.softmax(log_cell, 0)[:, None] * mean).sum(0))
    return torch.stack(means), torch.stack(densities)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
@pytest.mark.parametrize("t", [0.05, 0.3, 0.6, 0.8, 0.95])
def test_velocity_and_density_match_a_numerical_integral(path, t, gen):
    x = torch.randn(6, 2, generator=gen, dtype=torch.float64) * 1.5
    mean_x1, density = _grid_posterior(x, t, path)
    c = path.coefficients(torch.tensor(t, dtype=torch.float64))
    # E[d_alpha X_0 + d_beta X_1 | x] with X_0 = (x - beta X_1) / alpha, from the integral
    v_num = c.d_alpha_t * (x - c.beta_t * mean_x1) / c.alpha_t + c.d_beta_t * mean_x1
    v = fm.marginal_velocity(x, t, interpolant=path)
    rel = (v - v_num).norm(dim=1) / v_num.norm(dim=1)
    assert rel.max() < 1e-4, rel
    p = fm.marginal_density(x, t, interpolant=path)
    assert ((p - density).abs() / density).max() < 1e-4


@pytest.mark.slow
def test_velocity_is_orthogonal_to_functions_of_x_t_monte_carlo(gen):
    """v* = E[u_t | x_t] means E[(u_t - v*(x_t)) g(x_t)] = 0 for every g; a 5% error is caught."""
    n = 200_000
    path = fm.LinearInterpolant()
    x_0 = fm.sample_gaussian(n, generator=gen).double()
    x_1 = fm.sample_checkerboard(n, generator=gen).double()
    t = torch.rand(n, 1, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    x_t, u_t = path.interpolate(x_0, x_1, t), path.conditional_velocity(x_0, x_1, t)
    v = fm.marginal_velocity(x_t, t)
    for field, should_vanish in [(v, True), (1.05 * v, False)]:
        r = u_t - field
        moment = (r * x_t).mean(0)  # g(x) = x
        stderr = (r * x_t).std(0) / math.sqrt(n)
        assert ((moment.abs() < 4 * stderr).all()) == should_vanish, (moment, stderr)


def test_density_matches_a_histogram_of_x_t(gen):
    n, t = 400_000, 0.7
    path = fm.LinearInterpolant()
    x_t = path.interpolate(fm.sample_gaussian(n, generator=gen), fm.sample_checkerboard(n, generator=gen), t)
    centres = torch.tensor([[-1.5, -0.5], [0.5, 0.5], [0.0, 0.0], [1.0, -1.2]], dtype=torch.float64)
    h = 0.1
    for c in centres:
        frac = ((x_t.double() - c).abs() < h / 2).all(1).double().mean().item()
        expected = fm.marginal_density(c[None], t).item() * h * h
        assert abs(frac - expected) < 4 * math.sqrt(expected / n) + 1e-6, (c, frac, expected)


def test_at_t0_the_field_points_to_the_mean_of_pi_1(gen):
    x = fm.sample_gaussian(100, generator=gen)
    v = fm.marginal_velocity(x, 0.0)
    assert torch.allclose(v, -x)  # mean of pi_1 is (0, 0): v = E[X_1] - x
    assert torch.allclose(fm.marginal_density(x.double(), 0.0), torch.exp(-(x.double() ** 2).sum(1) / 2) / (2 * math.pi))


def test_one_euler_step_sends_every_sample_to_the_mean_of_pi_1(gen):
    x_0 = fm.sample_gaussian(5_000, generator=gen)
    x_1 = fm.euler(fm.marginal_velocity, x_0, 1)
    mean_pi_1 = fm.sample_checkerboard(400_000, generator=gen).double().mean(0)
    assert mean_pi_1.abs().max() < 0.01
    assert x_1.abs().max().item() == 0.0  # exactly the mean (0, 0) of pi_1, for every sample


def test_near_t1_inside_the_support_the_field_is_finite_and_outside_it_pulls_in():
    inside = torch.tensor([[-1.5, -0.5]])
    outside = torch.tensor([[-1.5, -1.05]])  # 0.05 below the black cell above it
    assert fm.marginal_velocity(inside, 1.0).abs().max() < 5
    v_out = fm.marginal_velocity(outside, 1.0)
    assert v_out[0, 1] > 20 and abs(v_out[0, 0]) < v_out[0, 1] / 10  # pulled up, fast


def test_float32_in_float32_out_and_t_shapes():
    x = torch.tensor([[0.3, -0.2], [1.0, 1.0]])
    a = fm.marginal_velocity(x, 0.5)
    b = fm.marginal_velocity(x, torch.tensor([0.5, 0.5]))
    c = fm.marginal_velocity(x, torch.full((2, 1), 0.5))
    assert a.dtype == torch.float32 and torch.equal(a, b) and torch.equal(b, c)
    assert fm.marginal_posterior_mean(x, 0.5).shape == (2, 2)


def test_stable_far_from_the_board():
    x = torch.tensor([[40.0, -35.0], [0.0, 60.0]], dtype=torch.float64)
    for t in [0.01, 0.5, 0.99]:
        assert torch.isfinite(fm.marginal_velocity(x, t)).all()
        assert torch.isfinite(fm.marginal_density(x, t, log=True)).all()


@pytest.mark.parametrize("t", [0.3, 0.9, 0.999])
def test_very_far_points_are_pulled_to_the_nearest_corner_not_nan(t):
    """At |x| = 1e30 the posterior is a point mass at the board's point nearest x's direction (the
    corner (2, 2) for x along (1, 1), the edge's far end for x along (1, 0)): it was NaN."""
    far = torch.tensor([[1e30, 1e30], [1e30, 0.5], [-3e29, 1e29], [1e10, 1e10], [40.0, 40.0]], dtype=torch.float64)
    mean = fm.marginal_posterior_mean(far, t)
    assert torch.isfinite(mean).all() and torch.isfinite(fm.marginal_velocity(far, t)).all()
    weights = fm.marginal_cell_weights(far, t)
    assert torch.isfinite(weights).all()
    # along (1, 1) the corner (2, 2) is white: the black cells [1, 2] x [0, 1] and [0, 1] x [1, 2]
    # reach furthest (x . y = 3 at (2, 1) and (1, 2)), half the weight each
    assert torch.allclose(mean[0], torch.tensor([1.5, 1.5], dtype=torch.float64), atol=1e-6)
    assert torch.allclose(mean[3], torch.tensor([1.5, 1.5], dtype=torch.float64), atol=1e-6)
    assert torch.allclose(weights[0], weights[3]) and sorted(weights[0].tolist())[-2:] == pytest.approx([0.5, 0.5])
    assert mean[1, 0] == pytest.approx(2.0, abs=1e-6)  # the right edge, x = 2
    assert torch.allclose(mean[2], torch.tensor([-2.0, 2.0], dtype=torch.float64), atol=1e-6)  # the corner (-2, 2)
    assert torch.isfinite(fm.marginal_density(far[3:], t, log=True)).all()


def test_the_far_branch_agrees_with_the_near_one_where_they_meet():
    """Just inside and just outside the distance where the tail expansion takes over, the posterior
    mean is continuous to 1e-8 (the expansion's error there is of order 1e-9)."""
    t = 0.5
    for d in (999.0, 1001.0):  # standardised distance (1 - t) / t = 1, so d is the distance itself
        x = torch.tensor([[2.0 * t + d * (1 - t), 0.5]], dtype=torch.float64)
        mean = fm.marginal_posterior_mean(x, t)
        assert mean[0, 0] == pytest.approx(2.0 - 1.0 / (d - 0.0) * (1 - t) / t, abs=2e-5)


def test_the_exact_score_is_the_gradient_of_the_log_density(gen):
    x = torch.randn(20, 2, generator=gen, dtype=torch.float64)
    for t in (0.0, 0.4, 0.8):
        y = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(fm.marginal_density(y, t, log=True).sum(), y)
        assert torch.allclose(fm.marginal_score(x, t), grad, atol=1e-8)


def test_the_exact_score_near_t_1_uses_the_clamped_time_throughout():
    """Above 1 - t_eps the score is the score at 1 - t_eps (it mixed a clamped v with the true t)."""
    x = torch.tensor([[0.5, 0.5], [-1.5, 0.3], [2.6, 0.0]], dtype=torch.float64)
    assert torch.allclose(fm.marginal_score(x, 0.9995), fm.marginal_score(x, 0.999), rtol=1e-12)
    assert torch.allclose(fm.marginal_score(x, 1.0), fm.marginal_score(x, 0.999), rtol=1e-12)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
@pytest.mark.parametrize("t", [0.2, 0.5, 0.85])
def test_continuity_equation_holds_for_the_exact_pair(path, t):
    """d/dt p_t + div(p_t v*) = 0: the residual is tiny next to d/dt p_t; a wrong field is caught."""
    g = torch.linspace(-2.5, 2.5, 21, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    x = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    dp_dt, div_pv = fm.continuity_terms(x, t, interpolant=path)
    assert dp_dt.dtype == torch.float64 and dp_dt.shape == (len(x),)
    scale = dp_dt.abs().max()
    assert scale > 0.05
    assert (dp_dt + div_pv).abs().max() < 1e-5 * scale
    # the same equation with the other schedule's field fails by a visible margin
    other = PATHS[1] if path is PATHS[0] else PATHS[0]
    dp_other, _ = fm.continuity_terms(x, t, interpolant=other)
    assert (dp_other + div_pv).abs().max() > 0.05 * scale


def test_cell_weights_are_a_posterior_and_average_to_the_posterior_mean(gen):
    x = torch.randn(50, 2, generator=gen, dtype=torch.float64) * 1.5
    for t in (0.0, 0.3, 0.9):
        w = fm.marginal_cell_weights(x, t)
        assert w.shape == (50, 8) and torch.allclose(w.sum(1), torch.ones(50, dtype=torch.float64))
        assert (w >= 0).all()
    assert torch.allclose(fm.marginal_cell_weights(x, 0.0), torch.full((50, 8), 1 / 8, dtype=torch.float64))
    # late, a point in a black cell puts almost all the weight on that cell
    corner = fm.black_cells()[3]
    inside = (corner + 0.5)[None].double()
    assert fm.marginal_cell_weights(inside, 0.95)[0, 3] > 0.99
    # by hand, at one point: the Gaussian mass of each cell under N(x / beta, (alpha / beta)^2)
    p, t = torch.tensor([[0.5, 0.2]], dtype=torch.float64), 0.5
    normal = torch.distributions.Normal(p[0] / t, (1 - t) / t)
    corners = fm.black_cells().double()
    mass = (normal.cdf(corners + 1) - normal.cdf(corners)).prod(dim=1)
    assert torch.allclose(fm.marginal_cell_weights(p, t)[0], mass / mass.sum(), atol=1e-12)


def test_the_field_of_one_cell_averages_to_the_whole_field(gen):
    """v*(x, t) is the posterior-weighted average of the fields of the cells, v*(x, t | c), and p_t the
    equal-weight mixture of the p_t(. | c): the cell= keyword restricts the target to cell c."""
    x = torch.randn(100, 2, generator=gen, dtype=torch.float64) * 1.5
    for t in (0.0, 0.4, 0.9):
        w = fm.marginal_cell_weights(x, t)
        per_cell = torch.stack([fm.marginal_velocity(x, t, cell=c) for c in range(8)], dim=1)
        assert torch.allclose(fm.marginal_velocity(x, t), (w[:, :, None] * per_cell).sum(1), atol=1e-12)
        dens = torch.stack([fm.marginal_density(x, t, cell=c) for c in range(8)], dim=1)
        assert torch.allclose(fm.marginal_density(x, t), dens.mean(1), atol=1e-14)
    # one cell's target is uniform on it: late, a point inside that cell is pulled nowhere else
    corner = fm.black_cells()[5].double()
    inside = (corner + 0.5)[None]
    assert torch.allclose(fm.marginal_posterior_mean(inside, 0.999, cell=5), (corner + 0.5) / 0.999, atol=1e-6)  # x / beta_t
    assert fm.marginal_density(inside, 0.999, cell=5).item() == pytest.approx(1 / 0.999**2, rel=1e-6)  # 1 / (beta_t^2 cell area)
    # a Monte Carlo check: X_1 uniform on cell 2, X_t = (1 - t) X_0 + t X_1; average u_t near one point
    g = torch.Generator().manual_seed(3)
    x_1 = fm.black_cells()[2].double() + torch.rand(400_000, 2, generator=g, dtype=torch.float64)
    x_0 = torch.randn(400_000, 2, generator=g, dtype=torch.float64)
    x_t = 0.5 * x_0 + 0.5 * x_1
    p = torch.tensor([[0.0, 0.2]], dtype=torch.float64)
    near = (x_t - p).norm(dim=1) < 0.05
    monte_carlo = (x_1 - x_0)[near].mean(0)
    assert torch.allclose(monte_carlo, fm.marginal_velocity(p, 0.5, cell=2)[0], atol=0.05)


def test_the_fields_of_all_cells_in_one_pass(gen):
    """marginal_cell_fields gives marginal_cell_weights and marginal_velocity(cell=k) for every k, and
    their posterior-weighted average is v*; at t = 0 each field aims at its cell's centre."""
    x = torch.randn(80, 2, generator=gen, dtype=torch.float64) * 1.5
    for t in (0.0, 0.3, 0.9, 1.0):
        weights, fields = fm.marginal_cell_fields(x, t)
        assert torch.equal(weights, fm.marginal_cell_weights(x, t))
        for k in range(8):
            assert torch.allclose(fields[:, k], fm.marginal_velocity(x, t, cell=k), rtol=1e-12, atol=1e-12)
        assert torch.allclose((weights[:, :, None] * fields).sum(1), fm.marginal_velocity(x, t), atol=1e-11)
    _, fields = fm.marginal_cell_fields(x, 0.0)
    assert torch.allclose(fields, (fm.black_cells() + 0.5)[None] - x[:, None], atol=1e-12)
    trig = fm.TrigInterpolant()
    assert torch.allclose(fm.marginal_cell_fields(x, 0.4, interpolant=trig)[1][:, 6],
                          fm.marginal_velocity(x, 0.4, interpolant=trig, cell=6), atol=1e-12)
    weights, fields = fm.marginal_cell_fields(x.float(), 0.5)
    assert weights.dtype == torch.float64 and fields.dtype == torch.float32 and fields.shape == (80, 8, 2)


BAD = {
    "marginal_cell_fields": (lambda: fm.marginal_cell_fields(GOOD, 0.5, board=4), TypeError, "board"),
    "marginal_cell_fields t_eps": (lambda: fm.marginal_cell_fields(GOOD, 0.5, t_eps=0.7), ValueError, "t_eps"),
    "marginal_velocity cell": (lambda: fm.marginal_velocity(GOOD, 0.5, cell=8), ValueError, "cell"),
    "marginal_velocity cell float": (lambda: fm.marginal_velocity(GOOD, 0.5, cell=1.0), TypeError, "cell"),
    "marginal_density cell shape": (lambda: fm.marginal_density(GOOD, 0.5, cell=torch.zeros(3, dtype=torch.long)),
                                    ValueError, "cell"),
    "marginal_velocity": (lambda: fm.marginal_velocity(GOOD, 0.5, interpolant=fm.TrigInterpolant), TypeError,
                          "interpolant"),
    "marginal_velocity interpolant name": (lambda: fm.marginal_velocity(GOOD, 0.5, interpolant="linear"), TypeError,
                                           "interpolant"),
    "marginal_velocity t_eps": (lambda: fm.marginal_velocity(GOOD, 0.5, t_eps=0.0), ValueError, "t_eps"),
    "marginal_density": (lambda: fm.marginal_density(GOOD, 0.5, log="yes"), TypeError, "log"),
    "marginal_cell_weights": (lambda: fm.marginal_cell_weights(GOOD, 1.5), ValueError, "t"),
    "marginal_posterior_mean": (lambda: fm.marginal_posterior_mean(GOOD, 0.5, t_eps=0.9), ValueError, "t_eps"),
    "marginal_score": (lambda: fm.marginal_score(GOOD, 0.5, board="4x4"), TypeError, "board"),
    "continuity_terms": (lambda: fm.continuity_terms(GOOD, 0.9995), ValueError, "t"),
    "continuity_terms h": (lambda: fm.continuity_terms(GOOD, 0.5, h=0.1), ValueError, "h"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "marginal_velocity": lambda bad: fm.marginal_velocity(bad, 0.5),
    "marginal_density": lambda bad: fm.marginal_density(bad, 0.5),
    "marginal_posterior_mean": lambda bad: fm.marginal_posterior_mean(bad, 0.5),
    "marginal_cell_weights": lambda bad: fm.marginal_cell_weights(bad, 0.5),
    "marginal_cell_fields": lambda bad: fm.marginal_cell_fields(bad, 0.5),
    "marginal_score": lambda bad: fm.marginal_score(bad, 0.5),
    "continuity_terms": lambda bad: fm.continuity_terms(bad, 0.5),
})
test_bad_times = times_test({
    "marginal_velocity": lambda t: fm.marginal_velocity(GOOD, t),
    "marginal_score": lambda t: fm.marginal_score(GOOD, t),
    "marginal_density": lambda t: fm.marginal_density(GOOD, t),
    "marginal_cell_fields": lambda t: fm.marginal_cell_fields(GOOD, t),
})


def test_times_as_numpy_values_are_accepted():
    import numpy as np

    from badinput import GOOD

    assert torch.equal(fm.marginal_velocity(GOOD, np.float64(0.5)), fm.marginal_velocity(GOOD, 0.5))
