import math

import pytest
import torch

import fmhelpers as fm

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
    class Quadratic(fm.Interpolant):
        def alpha(self, t):
            return 1 - t**2

        def beta(self, t):
            return t**2

        def d_alpha(self, t):
            return -2 * t

        def d_beta(self, t):
            return 2 * t

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


@pytest.mark.parametrize(
    "x_0, x_1, t, error, word",
    [
        (torch.zeros(3, 2), torch.zeros(3, 2), 1.5, ValueError, "t"),
        (torch.zeros(3, 2), torch.zeros(3, 2), -0.1, ValueError, "t"),
        (torch.zeros(3, 2), torch.zeros(3, 2), float("nan"), ValueError, "t"),
        (torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(4, 1), ValueError, "t"),
        (torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3, 2), ValueError, "t"),
        (torch.zeros(3, 2), torch.zeros(4, 2), 0.5, ValueError, "x_0 and x_1"),
        (torch.zeros(3), torch.zeros(3, 2), 0.5, ValueError, "x_0"),
        (torch.zeros(3, 2), "points", 0.5, TypeError, "x_1"),
        (torch.zeros(3, 2), torch.zeros(3, 2), "half", TypeError, "t"),
    ],
)
def test_bad_input_names_the_argument(x_0, x_1, t, error, word):
    with pytest.raises(error, match=rf"\b{word}\b"):
        fm.LinearInterpolant().interpolate(x_0, x_1, t)
