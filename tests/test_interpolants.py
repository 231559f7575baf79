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


class FloatAlpha(fm.LinearInterpolant):
    def alpha(self, t):
        return 1.0 - float(t.reshape(-1)[0])  # a Python float, from one time only


class AllNaN(fm.LinearInterpolant):
    def alpha(self, t):
        return t * float("nan")


class MathCos(fm.TrigInterpolant):
    def alpha(self, t):
        return math.cos(0.5 * math.pi * t)


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
    "interpolate x_0 1-d": (lambda: fm.LinearInterpolant().interpolate(torch.zeros(3), GOOD, 0.5), ValueError, "x_0"),
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
})
test_bad_times = times_test({
    "interpolate": lambda t: fm.LinearInterpolant().interpolate(GOOD, GOOD, t),
    "coefficients": lambda t: fm.TrigInterpolant().coefficients(t),
})
