"""Conditional fields and guidance (fmhelpers.guidance), against answers found another way: autograd
of the exact class posterior, the interpolant's own coefficients, Monte Carlo, a network's outputs."""

import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, points_test, table_test, times_test

TIMES = (0.25, 0.5, 0.75)


def _posterior_gradient(x, t, c, interpolant=None):
    """grad_x log p_t(c | x) by autograd of the exact class posterior, fm.marginal_cell_weights."""
    x = x.clone().requires_grad_(True)
    log_p = fm.marginal_cell_weights(x, t, interpolant=interpolant)[torch.arange(len(x)), c].log()
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    return grad


def _gain(t, interpolant):
    """g_t = alpha (alpha beta' - alpha' beta) / beta, from the path's coefficients."""
    k = interpolant.coefficients(torch.tensor(t, dtype=torch.float64))
    return (k.alpha_t * (k.alpha_t * k.d_beta_t - k.d_alpha_t * k.beta_t) / k.beta_t).item()


@pytest.mark.parametrize("t", TIMES)
def test_the_class_field_is_the_field_plus_classifier_guidance(t, gen):
    """v*(x, t | c) = v*(x, t) + ((1 - t) / t) grad log p_t(c | x) on the linear path."""
    x = torch.randn(100, 2, generator=gen, dtype=torch.float64) * 1.5
    c = torch.randint(8, (100,), generator=gen)
    grad = _posterior_gradient(x, t, c)
    difference = fm.class_velocity(x, t, c) - fm.marginal_velocity(x, t)
    assert torch.allclose(difference, (1 - t) / t * grad, rtol=1e-9, atol=1e-11)
    assert torch.allclose(fm.class_score(x, t, c), grad, rtol=1e-9, atol=1e-11)


def test_the_identity_holds_on_the_trig_path_with_its_own_gain(gen):
    trig = fm.TrigInterpolant()
    x = torch.randn(100, 2, generator=gen, dtype=torch.float64)
    for t in (0.3, 0.8):
        grad = _posterior_gradient(x, t, 5, interpolant=trig)
        difference = fm.class_velocity(x, t, 5, interpolant=trig) - fm.marginal_velocity(x, t, interpolant=trig)
        assert torch.allclose(difference, _gain(t, trig) * grad, rtol=1e-9, atol=1e-11)


def test_classifier_free_guidance_is_classifier_guidance_with_weight_w(gen):
    x = torch.randn(80, 2, generator=gen, dtype=torch.float64) * 1.5
    for t in TIMES:
        unconditional, grad = fm.marginal_velocity(x, t), _posterior_gradient(x, t, 3)
        for w in (-0.5, 2.0, 4.0):
            by_classifier = unconditional + w * (1 - t) / t * grad
            assert torch.allclose(fm.guided_velocity(x, t, 3, w), by_classifier, rtol=1e-9, atol=1e-10)


def test_guidance_weights_zero_and_one_are_the_two_fields(gen):
    x = torch.randn(50, 2, generator=gen, dtype=torch.float64)
    for t in (0.0, 0.6, 1.0):
        assert torch.allclose(fm.guided_velocity(x, t, 2, 0), fm.marginal_velocity(x, t), atol=1e-12)
        assert torch.allclose(fm.guided_velocity(x, t, 2, 1), fm.class_velocity(x, t, 2), atol=1e-12)
    # at t = 0 the class posterior is the prior, so its score is 0, and the fields only differ by
    # where they aim: the centre of cell c against the mean of the board's cells, (0, 0)
    assert torch.equal(fm.class_score(x, 0.0, 2), torch.zeros_like(x))
    centre = fm.black_cells()[2] + 0.5
    assert torch.allclose(fm.class_velocity(x, 0.0, 2), centre - x, atol=1e-12)


def test_the_density_of_a_class_by_monte_carlo(gen):
    """P(X_t in a box | c) for X_1 uniform on cell c, counted, against the integral of p_t(x | c)."""
    t, c, n = 0.6, 6, 200_000
    x_1 = fm.sample_class(n, c, generator=gen).double()
    x_t = (1 - t) * torch.randn(n, 2, generator=gen, dtype=torch.float64) + t * x_1
    low, side = torch.tensor([-1.5, 0.2], dtype=torch.float64), 0.4
    share = ((x_t >= low) & (x_t < low + side)).all(dim=1).double().mean().item()
    h = side / 40
    g = h * (torch.arange(40, dtype=torch.float64) + 0.5)
    grid = low + torch.stack(torch.meshgrid(g, g, indexing="xy"), dim=-1).reshape(-1, 2)
    integral = (fm.class_density(grid, t, c).sum() * h * h).item()
    standard_error = (share * (1 - share) / n) ** 0.5
    assert share > 0.03 and abs(share - integral) < 4 * standard_error
    # and the board's density is the classes' average (each has prior 1/8)
    per_class = torch.stack([fm.class_density(grid, t, k) for k in range(8)]).mean(0)
    assert torch.allclose(per_class, fm.marginal_density(grid, t), rtol=1e-12)


def test_the_guided_flow_with_weight_one_carries_the_gaussian_to_its_cell():
    c = torch.arange(8).repeat_interleave(40)
    x_0 = fm.sample_gaussian(len(c), generator=torch.Generator().manual_seed(0)).double()
    x_1 = fm.midpoint(lambda x, t: fm.guided_velocity(x, t, c, 1.0), x_0, 25)
    scores = fm.class_scores(x_1, c, generator=torch.Generator().manual_seed(1))
    assert scores["own_cell"] == 1.0 and scores["off_board"] == 0.0
    assert abs(scores["centre_distance"] - 0.3826) < 0.04  # uniform on the cell: E|U|, U uniform on [-1/2, 1/2]^2


def test_sample_class_is_uniform_on_its_cell(gen):
    x = fm.sample_class(20_000, 4, generator=gen).double()
    corner = fm.black_cells()[4]
    assert bool(((x >= corner) & (x <= corner + 1)).all())
    assert torch.allclose(x.mean(0), corner + 0.5, atol=0.01)
    assert torch.allclose(x.var(0), torch.full((2,), 1 / 12, dtype=torch.float64), atol=0.003)
    per_point = fm.sample_class(8, torch.arange(8), generator=gen)
    assert torch.equal(fm.black_cell_index(per_point), torch.arange(8))


def test_the_guided_field_of_a_network_combines_its_two_outputs(gen):
    model = fm.ConditionalMLP(hidden=16, n_layers=2, seed=3)
    x, t = torch.randn(30, 2, generator=gen), torch.rand(30, generator=gen)
    labels = torch.randint(8, (30,), generator=gen)
    with torch.no_grad():
        conditional, unconditional = model(x, t, labels), model(x, t, None)
        for w in (0.0, 1.0, 2.5):
            want = unconditional + w * (conditional - unconditional)
            assert torch.allclose(fm.guided_field(model, labels, w)(x, t), want, atol=1e-6)
        assert torch.allclose(fm.guided_field(model, 4, 2.0)(x, 0.3), 2 * model(x, 0.3, 4) - model(x, 0.3, None),
                              atol=1e-6)
    samples = fm.euler(fm.guided_field(model, labels, 3.0), x.double(), 4)  # a solver takes it, in float64 too
    assert samples.dtype == torch.float64 and samples.shape == (30, 2)


def test_class_scores_of_exact_samples_and_of_the_whole_board(gen):
    c = torch.arange(8).repeat(150)
    exact = fm.class_scores(fm.sample_class(1200, c, generator=gen), c, generator=gen)
    assert exact["own_cell"] == exact["black"] == 1.0 and exact["off_board"] == 0.0
    assert abs(exact["centre_distance"] - 0.3826) < 0.015 and exact["sliced_w2"] < 0.08
    board = fm.class_scores(fm.sample_checkerboard(3000, generator=gen), 2, generator=gen)
    assert abs(board["own_cell"] - 1 / 8) < 0.02 and board["sliced_w2"] > 1.0
    far = fm.class_scores(torch.tensor([[3.0, 0.0], [-1.5, -1.5], [-0.5, -1.5]]), 0, generator=gen)
    assert far["off_board"] == pytest.approx(1 / 3) and far["black"] == pytest.approx(1 / 3)
    assert far["own_cell"] == pytest.approx(1 / 3)


def test_guidance_limited_to_an_interval_of_times(gen):
    x = 1.5 * torch.randn(40, 2, generator=gen, dtype=torch.float64)
    c, interval = torch.randint(8, (40,), generator=gen), (0.4, 0.7)
    for t in (0.2, 0.4, 0.5, 0.7, 0.9):
        inside = 0.4 <= t < 0.7
        want = fm.guided_velocity(x, t, c, 3.0 if inside else 1.0)
        assert torch.allclose(fm.guided_velocity(x, t, c, 3.0, interval=interval), want, atol=1e-12)
    t = torch.tensor([0.1, 0.5] * 20, dtype=torch.float64)  # one time per point, as a solver's midpoint stage passes them
    want = torch.where((t[:, None] == 0.5), fm.guided_velocity(x, t, c, 3.0), fm.class_velocity(x, t, c))
    assert torch.allclose(fm.guided_velocity(x, t, c, 3.0, interval=interval), want, atol=1e-12)
    model = fm.ConditionalMLP(hidden=16, n_layers=2, seed=3)
    with torch.no_grad():
        for w in (0.0, 3.0):
            limited = fm.guided_field(model, c, w, interval=interval)
            assert torch.allclose(limited(x.float(), 0.5), fm.guided_field(model, c, w)(x.float(), 0.5), atol=1e-6)
            assert torch.allclose(limited(x.float(), 0.8), model(x.float(), 0.8, c), atol=1e-6)


def _mixture_log_density(x, t, means, std, c=None):
    """log p_t(x) (or log p_t(x | c)) of X_t = (1 - t) X_0 + t X_1 written out: Gaussians N(t m_k, s_t^2 I)."""
    var = (1 - t) ** 2 + t ** 2 * std ** 2
    logs = -(x[:, None, :] - t * means[None]).pow(2).sum(2) / (2 * var) - x.shape[1] / 2 * torch.log(
        torch.tensor(2 * torch.pi * var, dtype=x.dtype))
    return logs[:, c] if c is not None else torch.logsumexp(logs, dim=1) - torch.log(torch.tensor(float(len(means))))


@pytest.mark.parametrize("dim", [1, 2])
def test_the_gaussian_class_fields_against_the_score_of_their_density(dim, gen):
    """On the linear path from N(0, I), v*(x, t) = (x + (1 - t) grad log p_t(x)) / t (notebook 09):
    the fields from the score of the mixture's density, by autograd, for the marginal and for each class."""
    means = torch.randn(3, dim, generator=gen, dtype=torch.float64)
    x = 2 * torch.randn(25, dim, generator=gen, dtype=torch.float64)
    for t in TIMES:
        for c in (None, 0, 2):
            y = x.clone().requires_grad_(True)
            (score,) = torch.autograd.grad(_mixture_log_density(y, t, means, 0.7, c).sum(), y)
            want = (x + (1 - t) * score) / t
            w = 0.0 if c is None else 1.0
            got = fm.gaussian_guided_velocity(x, t, 0 if c is None else c, w, means=means, std=0.7)
            assert torch.allclose(got, want, atol=1e-10)
    both = [fm.gaussian_guided_velocity(x, 0.5, 1, w, means=means, std=0.7) for w in (0.0, 1.0, 4.0)]
    assert torch.allclose(both[2], both[0] + 4 * (both[1] - both[0]), atol=1e-12)


def test_the_gaussian_guided_flow_with_weight_one_samples_its_class():
    means = torch.tensor([[-1.0], [1.0]], dtype=torch.float64)
    x_0 = torch.randn(20_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x_1 = fm.midpoint(lambda x, t: fm.gaussian_guided_velocity(x, t, 1, 1.0, means=means, std=0.5), x_0, 50)
    assert abs(x_1.mean().item() - 1.0) < 0.01 and abs(x_1.std().item() - 0.5) < 0.01


BAD = {
    "class_velocity": (lambda: fm.class_velocity(GOOD, 0.5, 8), ValueError, "c"),
    "class_velocity float class": (lambda: fm.class_velocity(GOOD, 0.5, 1.0), TypeError, "c"),
    "class_velocity no class": (lambda: fm.class_velocity(GOOD, 0.5, None), TypeError, "c"),
    "class_velocity bool class": (lambda: fm.class_velocity(GOOD, 0.5, True), TypeError, "c"),
    "class_density": (lambda: fm.class_density(GOOD, 0.5, torch.zeros(3, dtype=torch.long)), ValueError, "c"),
    "class_density log": (lambda: fm.class_density(GOOD, 0.5, 1, log="yes"), TypeError, "log"),
    "class_score": (lambda: fm.class_score(GOOD, 0.5, torch.zeros(2)), TypeError, "c"),
    "class_score negative": (lambda: fm.class_score(GOOD, 0.5, -1), ValueError, "c"),
    "guided_velocity": (lambda: fm.guided_velocity(GOOD, 0.5, 1, float("nan")), ValueError, "w"),
    "guided_velocity inf": (lambda: fm.guided_velocity(GOOD, 0.5, 1, float("inf")), ValueError, "w"),
    "guided_velocity string": (lambda: fm.guided_velocity(GOOD, 0.5, 1, "2"), TypeError, "w"),
    "guided_velocity class": (lambda: fm.guided_velocity(GOOD, 0.5, 9, 2.0), ValueError, "c"),
    "guided_field": (lambda: fm.guided_field(fm.VelocityMLP(), 1, 2.0), TypeError, "model"),
    "guided_field no label class": (lambda: fm.guided_field(fm.ConditionalMLP(), 8, 2.0), ValueError, "c"),
    "guided_field w": (lambda: fm.guided_field(fm.ConditionalMLP(), 1, None), TypeError, "w"),
    "guided_field class shape": (lambda: fm.guided_field(fm.ConditionalMLP(), torch.zeros(2, 2, dtype=torch.long), 2.0),
                                 ValueError, "c"),
    "guided_field points": (lambda: fm.guided_field(fm.ConditionalMLP(), torch.zeros(3, dtype=torch.long), 2.0)(GOOD, 0.5),
                            ValueError, "c"),
    "guided_field float labels": (lambda: fm.guided_field(fm.ConditionalMLP(), torch.zeros(2), 2.0), TypeError, "c"),
    "guided_velocity interval": (lambda: fm.guided_velocity(GOOD, 0.5, 1, 2.0, interval=(0.7, 0.4)), ValueError,
                                 "interval"),
    "guided_velocity interval pair": (lambda: fm.guided_velocity(GOOD, 0.5, 1, 2.0, interval=0.4), TypeError, "interval"),
    "guided_field interval": (lambda: fm.guided_field(fm.ConditionalMLP(), 1, 2.0, interval=(0.0, 1.5)), ValueError,
                              "interval"),
    "gaussian_guided_velocity": (lambda: fm.gaussian_guided_velocity(GOOD, 0.5, 1, 2.0, means=torch.zeros(2, 3), std=1.0),
                                 ValueError, "means"),
    "gaussian_guided_velocity std": (lambda: fm.gaussian_guided_velocity(GOOD, 0.5, 1, 2.0, means=torch.zeros(2, 2),
                                                                         std=0.0), ValueError, "std"),
    "gaussian_guided_velocity class": (lambda: fm.gaussian_guided_velocity(GOOD, 0.5, 2, 2.0, means=torch.zeros(2, 2),
                                                                           std=1.0), ValueError, "c"),
    "gaussian_guided_velocity w": (lambda: fm.gaussian_guided_velocity(GOOD, 0.5, 1, "2", means=torch.zeros(2, 2),
                                                                       std=1.0), TypeError, "w"),
    "sample_class": (lambda: fm.sample_class(5, 8), ValueError, "c"),
    "sample_class n": (lambda: fm.sample_class(-1, 0), ValueError, "n"),
    "sample_class generator": (lambda: fm.sample_class(5, 0, generator=3), TypeError, "generator"),
    "sample_class shape": (lambda: fm.sample_class(5, torch.zeros(4, dtype=torch.long)), ValueError, "c"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "class_velocity": lambda bad: fm.class_velocity(bad, 0.5, 1),
    "class_density": lambda bad: fm.class_density(bad, 0.5, 1),
    "class_score": lambda bad: fm.class_score(bad, 0.5, 1),
    "guided_velocity": lambda bad: fm.guided_velocity(bad, 0.5, 1, 2.0),
    "guided_field": lambda bad: fm.guided_field(fm.ConditionalMLP(hidden=8, n_layers=1), 1, 2.0)(bad, 0.5),
    "gaussian_guided_velocity": lambda bad: fm.gaussian_guided_velocity(bad, 0.5, 1, 2.0, means=torch.zeros(2, 2), std=1.0),
})
test_bad_times = times_test({
    "class_velocity": lambda t: fm.class_velocity(GOOD, t, 1),
    "class_density": lambda t: fm.class_density(GOOD, t, 1),
    "class_score": lambda t: fm.class_score(GOOD, t, 1),
    "guided_velocity": lambda t: fm.guided_velocity(GOOD, t, 1, 2.0),
    "guided_field": lambda t: fm.guided_field(fm.ConditionalMLP(hidden=8, n_layers=1), 1, 2.0)(GOOD, t),
    "gaussian_guided_velocity": lambda t: fm.gaussian_guided_velocity(GOOD, t, 1, 2.0, means=torch.zeros(2, 2), std=1.0),
})
