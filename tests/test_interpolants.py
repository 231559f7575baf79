"""The path x_t = alpha_t x_0 + beta_t x_1, its checks, and the conversions it owns (fmhelpers.interpolants)."""

import math

import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, points_test, table_test, times_test
from schedules import Quadratic

SCHEDULES = [fm.LinearInterpolant(), fm.TrigInterpolant()]


@pytest.mark.parametrize("path", SCHEDULES, ids=lambda p: p.name)
def test_endpoints(path, gen):
    x_0, x_1 = torch.randn(10, 2, generator=gen), torch.randn(10, 2, generator=gen)
    assert torch.allclose(path.interpolate(x_0, x_1, 0.0), x_0, atol=1e-7)
    assert torch.allclose(path.interpolate(x_0, x_1, 1.0), x_1, atol=1e-7)


@pytest.mark.parametrize("path", SCHEDULES, ids=lambda p: p.name)
def test_conditional_velocity_is_the_time_derivative(path, gen):
    x_0, x_1 = torch.randn(6, 2, generator=gen, dtype=torch.float64), torch.randn(6, 2, generator=gen, dtype=torch.float64)
    t = torch.rand(6, 1, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    h = 1e-6
    numeric = (path.interpolate(x_0, x_1, t + h) - path.interpolate(x_0, x_1, t - h)) / (2 * h)
    assert torch.allclose(path.conditional_velocity(x_0, x_1, t), numeric, atol=1e-7)


def test_linear_coefficients_and_velocity(gen):
    path = fm.LinearInterpolant()
    c = path.coefficients(torch.tensor([0.25]))
    assert c.alpha_t.item() == 0.75 and c.beta_t.item() == 0.25
    assert c.d_alpha_t.item() == -1 and c.d_beta_t.item() == 1
    x_0, x_1 = torch.randn(4, 2, generator=gen), torch.randn(4, 2, generator=gen)
    assert torch.equal(path.conditional_velocity(x_0, x_1, 0.3), x_1 - x_0)


def test_trig_keeps_unit_norm_of_coefficients():
    path = fm.TrigInterpolant()
    t = torch.linspace(0, 1, 11)
    assert torch.allclose(path.alpha(t) ** 2 + path.beta(t) ** 2, torch.ones(11))
    assert math.isclose(path.alpha(torch.tensor(0.5)).item(), math.sqrt(0.5), rel_tol=1e-6)


@pytest.mark.parametrize("t", [0.4, torch.full((5,), 0.4), torch.full((5, 1), 0.4)], ids=["float", "(n,)", "(n,1)"])
def test_time_shapes_agree(t, gen):
    x_0, x_1 = torch.randn(5, 2, generator=gen), torch.randn(5, 2, generator=gen)
    expected = 0.6 * x_0 + 0.4 * x_1
    assert torch.allclose(fm.LinearInterpolant().interpolate(x_0, x_1, t), expected)


def test_a_user_schedule_can_be_defined():
    path = Quadratic()
    x = path.interpolate(torch.zeros(2, 2), torch.ones(2, 2), 0.5)
    assert torch.allclose(x, torch.full((2, 2), 0.25))


def test_wrong_boundary_condition_is_refused():
    class Wrong(fm.LinearInterpolant):
        def beta(self, t):
            return 0.5 * t

    with pytest.raises(ValueError, match=r"beta\(1\)"):
        Wrong()


def test_wrong_derivative_is_refused():
    class Wrong(fm.LinearInterpolant):
        def d_beta(self, t):
            return 2 * torch.ones_like(t)

    with pytest.raises(ValueError, match="d_beta"):
        Wrong()


@pytest.mark.parametrize("path", [fm.LinearInterpolant(), fm.TrigInterpolant(), Quadratic()], ids=lambda p: type(p).__name__)
def test_velocity_and_posterior_mean_convert_both_ways(path, gen):
    """v = (alpha'/alpha) x + gain m is what E[u_t | x_t = x] is when the posterior mean is m: checked
    on one pair, where the posterior is a point mass at x_1, so m = x_1 and v = u_t."""
    x_0, x_1 = torch.randn(8, 2, generator=gen, dtype=torch.float64), torch.randn(8, 2, generator=gen, dtype=torch.float64)
    t = torch.rand(8, 1, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    c = path.coefficients(t)
    x_t, u_t = path.point_and_velocity(x_0, x_1, t)
    assert torch.allclose(c.velocity(x_t, x_1), u_t, atol=1e-12)
    assert torch.allclose(c.posterior_mean(x_t, u_t), x_1, atol=1e-10)
    # the score of x_t given x_1, N(beta x_1, alpha^2 I): (beta x_1 - x_t) / alpha^2
    assert torch.allclose(c.score(x_t, x_1), (c.beta_t * x_1 - x_t) / c.alpha_t**2, atol=1e-12)


def test_the_score_at_t_zero_is_that_of_the_source_for_any_schedule():
    x = torch.randn(5, 2, dtype=torch.float64)
    for path in (fm.LinearInterpolant(), fm.TrigInterpolant(), Quadratic()):
        c = path.coefficients(torch.zeros(5, 1, dtype=torch.float64))
        assert torch.allclose(c.score_from_velocity(x, torch.zeros_like(x)), -x)  # no NaN where the gain is 0
    assert torch.isnan(Quadratic().coefficients(0.0).posterior_mean(x, x)).all()  # v says nothing about m there


def test_schedules_compare_by_what_they_are():
    assert fm.LinearInterpolant() == fm.LinearInterpolant() != fm.TrigInterpolant()
    assert Quadratic() == Quadratic() and hash(Quadratic()) == hash(Quadratic())


def _exact_views(path, x, t):
    """The four views of the board's exact posterior at (x, t), each from its own closed form: the
    velocity, the posterior mean and the score from fmhelpers.marginal, and the noise from the
    definition x = alpha E[X_0 | x] + beta E[X_1 | x]."""
    m = fm.marginal_posterior_mean(x, t, interpolant=path)
    c = path.coefficients(torch.full((len(x), 1), t, dtype=torch.float64))
    return {"velocity": fm.marginal_velocity(x, t, interpolant=path), "noise": (x - c.beta_t * m) / c.alpha_t,
            "data": m, "score": fm.marginal_score(x, t, interpolant=path)}


@pytest.mark.parametrize("t", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("path", SCHEDULES, ids=lambda p: p.name)
def test_every_conversion_agrees_with_the_exact_posterior(path, t):
    """Each view of the exact field, converted into each other view (16 conversions), is that view's
    own closed form to 1e-10 (relative, float64)."""
    g = torch.Generator().manual_seed(3)
    x = 2.5 * torch.randn(400, 2, generator=g, dtype=torch.float64)
    exact = _exact_views(path, x, t)
    assert set(exact) == set(fm.PREDICTIONS)
    for source in exact:
        for target in exact:
            got = path.convert(x, exact[source], t, source=source, target=target)
            err = ((got - exact[target]).abs() / (1 + exact[target].abs())).max().item()
            assert err < 1e-10, (source, target, err)
    # the score is -E[X_0 | x] / alpha (Tweedie), checked against two closed forms
    c = path.coefficients(t)
    assert torch.allclose(exact["score"], -exact["noise"] / c.alpha_t, atol=1e-10)


@pytest.mark.parametrize("path", [fm.LinearInterpolant(), fm.TrigInterpolant(), Quadratic()], ids=lambda p: type(p).__name__)
def test_conversions_round_trip_and_agree_with_the_older_ones(path, gen):
    x, y = torch.randn(50, 2, generator=gen, dtype=torch.float64), torch.randn(50, 2, generator=gen, dtype=torch.float64)
    t = torch.rand(50, 1, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    c = path.coefficients(t)
    for name, entry in fm.PREDICTIONS.items():
        assert torch.allclose(entry.from_velocity(c, x, entry.to_velocity(c, x, y)), y, atol=1e-10), name
        assert torch.allclose(entry.to_velocity(c, x, entry.from_velocity(c, x, y)), y, atol=1e-10), name
    assert torch.allclose(c.data(x, y), c.posterior_mean(x, y), atol=1e-10)
    assert torch.allclose(c.velocity_from_data(x, y), c.velocity(x, y), atol=1e-10)
    assert torch.allclose(c.score_of_velocity(x, y), c.score_from_velocity(x, y), atol=1e-10)
    assert torch.allclose(c.determinant / c.alpha_t, c.gain, atol=1e-12)


@pytest.mark.parametrize("path", SCHEDULES, ids=lambda p: p.name)
def test_each_pair_goal_is_its_view_of_the_pairs_velocity(path, gen):
    """For one pair the posterior is a point mass: converting u_t gives x_0, x_1 and -x_0 / alpha, and
    each entry's pair goal (scaled as its entry says) is that."""
    x_0, x_1 = torch.randn(20, 2, generator=gen, dtype=torch.float64), torch.randn(20, 2, generator=gen, dtype=torch.float64)
    t = torch.rand(20, 1, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    c = path.coefficients(t)
    x_t, u_t = c.interpolate(x_0, x_1), c.conditional_velocity(x_0, x_1)
    views = {"velocity": u_t, "noise": x_0, "data": x_1, "score": -x_0 / c.alpha_t}
    for name, entry in fm.PREDICTIONS.items():
        assert torch.allclose(entry.from_velocity(c, x_t, u_t), views[name], atol=1e-10), name
        assert torch.allclose(entry.pair_goal(x_0, x_1, u_t, c), entry.scale_output(c, views[name]), atol=1e-10)
        assert torch.allclose(entry.goal_from_velocity(c, x_t, u_t), entry.pair_goal(x_0, x_1, u_t, c), atol=1e-10)


def test_the_noise_view_agrees_with_monte_carlo():
    """E[X_0 | X_t = x] by self-normalised importance sampling over 400,000 board points, against
    the conversion of the exact velocity (an answer that uses no conversion at all)."""
    g = torch.Generator().manual_seed(8)
    path, t = fm.TrigInterpolant(), 0.5
    x = torch.tensor([[0.3, -0.2], [1.0, 1.0], [-1.5, 0.4]], dtype=torch.float64)
    x_1 = fm.sample_checkerboard(400_000, generator=g).double()
    c = path.coefficients(t)
    log_w = -((x[:, None, :] - c.beta_t * x_1[None]) ** 2).sum(-1) / (2 * c.alpha_t**2)
    w = torch.softmax(log_w, dim=1)
    monte_carlo = (w[:, :, None] * (x[:, None, :] - c.beta_t * x_1[None]) / c.alpha_t).sum(1)
    converted = path.convert(x, fm.marginal_velocity(x, t, interpolant=path), t, source="velocity", target="noise")
    assert (monte_carlo - converted).abs().max() < 0.02


def test_conversions_are_undefined_where_they_divide_by_zero():
    x = torch.randn(3, 2, dtype=torch.float64)
    path = fm.LinearInterpolant()
    assert not torch.isfinite(path.convert(x, x, 0.0, source="noise", target="velocity")).any()
    assert not torch.isfinite(path.convert(x, x, 1.0, source="data", target="velocity")).any()
    assert torch.isfinite(path.convert(x, x, 0.0, source="velocity", target="data")).all()
    assert torch.allclose(path.convert(x, torch.zeros_like(x), 1.0, source="velocity", target="data"), x)


class FloatAlpha(fm.LinearInterpolant):
    def alpha(self, t):
        return 1.0 - float(t.reshape(-1)[0])  # a Python float, from one time only


class AllNaN(fm.LinearInterpolant):
    def alpha(self, t):
        return t * float("nan")


class MathCos(fm.TrigInterpolant):
    def alpha(self, t):
        return math.cos(0.5 * math.pi * t)



@pytest.mark.parametrize("path", [fm.LinearInterpolant(), fm.TrigInterpolant()], ids=["linear", "trig"])
def test_velocity_gain_is_the_slope_of_each_conversion(path):
    """|d v / d y| from a finite difference of `convert` (an independent route through the conversions'
    formulas), and its closed forms D / beta, D / alpha, alpha D / beta, 1."""
    t = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    x = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    step = torch.zeros_like(y)
    step[:, 0] = 1e-3
    c = path.coefficients(t)
    closed = {"velocity": torch.ones_like(c.alpha_t), "noise": c.determinant / c.beta_t,
              "data": c.determinant / c.alpha_t, "score": c.alpha_t * c.determinant / c.beta_t}
    for name in fm.PREDICTIONS:
        moved = path.convert(x, y + step, t, source=name, target="velocity") - \
            path.convert(x, y, t, source=name, target="velocity")
        slope = moved[:, :1].abs() / 1e-3
        gain = path.velocity_gain(t, prediction=name)
        assert gain.shape == (3, 1)
        assert torch.allclose(gain, slope, rtol=1e-9), name
        assert torch.allclose(gain, closed[name].abs(), rtol=1e-12), name
    assert path.velocity_gain(0.0, prediction="noise").isinf()

BAD = {
    "Coefficients": (lambda: fm.LinearInterpolant().coefficients(-0.5), ValueError, "t"),
    "Interpolant float alpha": (lambda: FloatAlpha(), ValueError, "alpha"),
    "Interpolant NaN schedule": (lambda: AllNaN(), ValueError, "NaN"),
    "Interpolant math.cos": (lambda: MathCos(), ValueError, "alpha"),
    "LinearInterpolant": (lambda: fm.LinearInterpolant().point_and_velocity(GOOD, torch.zeros(3, 2), 0.5), ValueError,
                          "x_0"),
    "LinearInterpolant beta(None)": (lambda: fm.LinearInterpolant().beta(None), TypeError, "t"),
    "LinearInterpolant alpha('0')": (lambda: fm.LinearInterpolant().alpha("0"), TypeError, "t"),
    "TrigInterpolant": (lambda: fm.TrigInterpolant().interpolate(GOOD, GOOD, torch.zeros(2, 2)), ValueError, "t"),
    "TrigInterpolant d_beta(1.5)": (lambda: fm.TrigInterpolant().d_beta(1.5), ValueError, "t"),
    "interpolate x_0 and x_1": (lambda: fm.LinearInterpolant().interpolate(GOOD, torch.zeros(4, 2), 0.5), ValueError,
                                "x_0 and x_1"),
    "interpolate x_1 string": (lambda: fm.LinearInterpolant().interpolate(GOOD, "points", 0.5), TypeError, "x_1"),
    "interpolate t rows": (lambda: fm.LinearInterpolant().interpolate(GOOD, GOOD, torch.zeros(4, 1)), ValueError, "t"),
    "Interpolant convert source": (lambda: fm.LinearInterpolant().convert(GOOD, GOOD, 0.5, source="eps",
                                                                         target="noise"), ValueError, "source"),
    "Interpolant convert target": (lambda: fm.LinearInterpolant().convert(GOOD, GOOD, 0.5, source="noise",
                                                                         target="v"), ValueError, "target"),
    "Interpolant convert value rows": (lambda: fm.LinearInterpolant().convert(GOOD, torch.zeros(3, 2), 0.5, source="noise",
                                                                             target="data"), ValueError, "value"),
    "interpolate x_0 1-d": (lambda: fm.LinearInterpolant().interpolate(torch.zeros(3), GOOD, 0.5), ValueError, "x_0"),
    "Interpolant velocity_gain": (lambda: fm.LinearInterpolant().velocity_gain(0.5, prediction="eps"), ValueError,
                                  "prediction"),
    "Interpolant velocity_gain t": (lambda: fm.TrigInterpolant().velocity_gain(1.5, prediction="noise"), ValueError, "t"),
}


def test_interpolant_base_class_needs_a_schedule():
    with pytest.raises(NotImplementedError):
        fm.Interpolant()


test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "interpolate x_0": lambda bad: fm.LinearInterpolant().interpolate(bad, GOOD, 0.5),
    "interpolate x_1": lambda bad: fm.LinearInterpolant().interpolate(GOOD, bad, 0.5),
    "conditional_velocity": lambda bad: fm.LinearInterpolant().conditional_velocity(GOOD, bad, 0.5),
    "point_and_velocity": lambda bad: fm.TrigInterpolant().point_and_velocity(bad, GOOD, 0.5),
    "convert x": lambda bad: fm.TrigInterpolant().convert(bad, GOOD, 0.5, source="noise", target="data"),
    "convert value": lambda bad: fm.TrigInterpolant().convert(GOOD, bad, 0.5, source="noise", target="data"),
})
test_bad_times = times_test({
    "interpolate": lambda t: fm.LinearInterpolant().interpolate(GOOD, GOOD, t),
    "coefficients": lambda t: fm.TrigInterpolant().coefficients(t),
    "convert": lambda t: fm.TrigInterpolant().convert(GOOD, GOOD, t, source="noise", target="data"),
})
