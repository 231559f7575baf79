"""Training times, the regression targets and the flow matching loss (fmhelpers.targets)."""

import pytest
import torch

import fmhelpers as fm


def test_cfm_loss_of_the_exact_field_is_the_floor():
    g = torch.Generator().manual_seed(5)
    n = 100_000
    x_0, x_1 = fm.sample_gaussian(n, generator=g).double(), fm.sample_checkerboard(n, generator=g).double()
    t = fm.sample_time(n, generator=g).double()
    exact = fm.cfm_loss(fm.marginal_velocity, x_0, x_1, t).item()
    worse = fm.cfm_loss(lambda x, s: 0.9 * fm.marginal_velocity(x, s), x_0, x_1, t).item()
    assert abs(exact - fm.loss_floor(n=n, generator=torch.Generator().manual_seed(6))) < 0.05 and worse > exact


def test_time_sampling():
    g = torch.Generator().manual_seed(0)
    late = fm.sample_time(100_000, "late", generator=g)
    assert late.shape == (100_000, 1) and 0 <= late.min() and late.max() <= 1
    assert abs(late.mean().item() - 2 / 3) < 0.005  # density 2t has mean 2/3
    later = fm.sample_time(100_000, "later", generator=g)
    assert 0 <= later.min() and later.max() <= 1
    assert abs(later.mean().item() - 3 / 4) < 0.005  # density 3t^2 has mean 3/4
    mixed = fm.sample_time(100_000, "mixed", generator=g)
    assert 0 <= mixed.min() and mixed.max() <= 1
    assert abs(mixed.mean().item() - (0.9 * 3 / 4 + 0.1 / 2)) < 0.005
    # early times keep a floor: P(t < 0.1) = 0.1 * 0.1 + 0.9 * 0.001, ten times that of "later"
    assert abs((mixed < 0.1).float().mean().item() - 0.0109) < 0.002
    assert (later < 0.1).float().mean().item() < 0.002


def _direct_minibatch_target(x_0, x_1, t, path):
    """The definition, summed naively over all j (the pair's own x_1 included) in float64."""
    a, b, da, db = path.alpha(t), path.beta(t), path.d_alpha(t), path.d_beta(t)  # (n, 1)
    x_t = a * x_0 + b * x_1
    log_w = -((x_t[:, None, :] - b[:, :, None] * x_1[None]) ** 2).sum(-1) / (2 * a**2)  # (n, n)
    w = torch.softmax(log_w, dim=1)
    v = (da / a)[:, :, None] * (x_t[:, None, :] - b[:, :, None] * x_1[None]) + db[:, :, None] * x_1[None]
    return (w[:, :, None] * v).sum(1)


@pytest.mark.parametrize("path", [fm.LinearInterpolant(), fm.TrigInterpolant()], ids=["linear", "trig"])
def test_minibatch_target_is_the_posterior_average_of_conditional_velocities(path):
    g = torch.Generator().manual_seed(11)
    x_0, x_1 = fm.sample_gaussian(300, generator=g).double(), fm.sample_checkerboard(300, generator=g).double()
    t = 0.02 + 0.96 * torch.rand(300, 1, generator=g, dtype=torch.float64)
    got = fm.minibatch_target(x_0, x_1, t, interpolant=path)
    assert torch.allclose(got, _direct_minibatch_target(x_0, x_1, t, path), atol=1e-8)
    # float32 input (what training uses) stays close to the float64 answer
    got32 = fm.minibatch_target(x_0.float(), x_1.float(), t.float(), interpolant=path)
    assert (got32.double() - got).abs().max() < 1e-2


def test_minibatch_target_at_the_ends():
    g = torch.Generator().manual_seed(12)
    x_0, x_1 = fm.sample_gaussian(200, generator=g), fm.sample_checkerboard(200, generator=g)
    # t = 0: x_t = x_0 carries no information about x_1, so every x_1 is equally likely
    assert torch.allclose(fm.minibatch_target(x_0, x_1, 0.0), x_1.mean(0) - x_0, atol=1e-5)
    # t = 1: only the pair's own x_1 is possible; no division by zero
    assert torch.equal(fm.minibatch_target(x_0, x_1, 1.0), x_1 - x_0)
    with pytest.raises(ValueError, match="alpha_min"):
        fm.minibatch_target(x_0, x_1, 0.5, alpha_min=0.0)
    with pytest.raises(ValueError, match=r"\bt\b"):
        fm.minibatch_target(x_0, x_1, 1.5)


def test_minibatch_target_estimates_the_marginal_velocity():
    """Its distance to v* is a small fraction of the conditional velocity's, and shrinks with n."""
    g = torch.Generator().manual_seed(13)
    errors = {}
    for n in (512, 8192):
        x_0, x_1 = fm.sample_gaussian(n, generator=g).double(), fm.sample_checkerboard(n, generator=g).double()
        t = fm.sample_time(n, generator=g).double()
        v_star = fm.marginal_velocity(fm.LinearInterpolant().interpolate(x_0, x_1, t), t)
        errors[n] = (fm.minibatch_target(x_0, x_1, t) - v_star).pow(2).sum(1).mean().item()
        conditional = (x_1 - x_0 - v_star).pow(2).sum(1).mean().item()  # the loss floor, about 3.5
        assert errors[n] < 0.05 * conditional
    assert errors[8192] < 0.5 * errors[512]


def test_minibatch_loss_is_a_flow_matching_loss():
    """The exact field scores lower on it than a slightly wrong one, as for the conditional loss."""
    g = torch.Generator().manual_seed(14)
    x_0, x_1 = fm.sample_gaussian(4096, generator=g).double(), fm.sample_checkerboard(4096, generator=g).double()
    t = fm.sample_time(4096, generator=g).double()
    exact = fm.cfm_loss(fm.marginal_velocity, x_0, x_1, t, target="minibatch").item()
    worse = fm.cfm_loss(lambda x, s: 0.8 * fm.marginal_velocity(x, s), x_0, x_1, t, target="minibatch").item()
    assert exact < 0.1 and worse > 2 * exact
    with pytest.raises(ValueError, match="target"):
        fm.cfm_loss(fm.marginal_velocity, x_0, x_1, t, target="marginal")


def test_point_and_velocity_is_interpolate_and_conditional_velocity_in_one_pass(gen):
    x_0, x_1, t = torch.randn(9, 2, generator=gen), fm.sample_checkerboard(9, generator=gen), torch.rand(9, generator=gen)
    for path in (fm.LinearInterpolant(), fm.TrigInterpolant()):
        x_t, u_t = path.point_and_velocity(x_0, x_1, t)
        assert torch.equal(x_t, path.interpolate(x_0, x_1, t))
        assert torch.equal(u_t, path.conditional_velocity(x_0, x_1, t))
