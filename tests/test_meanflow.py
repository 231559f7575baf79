"""Mean flows: the identity on a field with a closed-form average velocity, the exact u of our
pair, the loss, the sampler and the training loop."""

import math

import pytest
import torch
from torch import nn

import fmhelpers as fm
from badinput import EMPTY, GOOD, raises_here, table_test


def _decay_u(x, t, s):
    """The exact average velocity of v(x, t) = -x: X_s = x e^{-(s - t)}, so u = x (e^{-h} - 1) / h."""
    h = s - t
    safe = torch.where(h > 1e-12, h, torch.ones_like(h))
    factor = torch.where(h > 1e-12, (torch.exp(-safe) - 1) / safe, -torch.ones_like(h))
    return x * factor


def test_identity_holds_for_a_field_with_a_closed_form_average_velocity(gen):
    x = torch.randn(64, 2, generator=gen, dtype=torch.float64)
    t = torch.rand(64, 1, generator=gen, dtype=torch.float64) * 0.5
    s = t + torch.rand(64, 1, generator=gen, dtype=torch.float64) * 0.5
    target = fm.meanflow_target(_decay_u, x, t, s, -x)
    assert torch.allclose(target, _decay_u(x, t, s), atol=1e-10)
    # a wrong u (the instantaneous velocity, constant in s) breaks it
    assert not torch.allclose(fm.meanflow_target(lambda y, a, b: -y, x, t, s, -x), -x, atol=1e-2)


def test_average_velocity_integrates_the_flow(gen):
    x = torch.randn(50, 2, generator=gen, dtype=torch.float64)
    u = fm.average_velocity(lambda y, t: -y, x, 0.2, 0.9, n_steps=32, solver="rk4")
    want = _decay_u(x, torch.full((50, 1), 0.2, dtype=torch.float64), torch.full((50, 1), 0.9, dtype=torch.float64))
    assert torch.allclose(u, want, atol=1e-8)
    assert torch.equal(fm.average_velocity(lambda y, t: -y, x, 0.4, 0.4), -x)  # s = t: the velocity itself


class _Exact(nn.Module):
    """The exact average velocity of our pair as a module (no parameters)."""

    def forward(self, x, t, s):
        return fm.average_velocity(fm.marginal_velocity, x, float(t), float(s), n_steps=64)


def test_one_step_with_the_exact_u_is_the_ode_solve(gen):
    x_0 = fm.sample_gaussian(300, generator=gen).double()
    one = fm.meanflow_sample(_Exact(), x_0, 1)
    assert torch.allclose(one, fm.midpoint(fm.marginal_velocity, x_0, 64), atol=1e-10)
    assert fm.in_support_fraction(one) > 0.99
    two = fm.meanflow_sample(_Exact(), x_0, 2)
    assert (two - one).norm(dim=1).max() < 1e-2  # composing averages gives the same flow, to midpoint accuracy


def test_identity_holds_for_the_exact_u_of_our_pair(gen):
    """u(x, t, s) = v*(x, t) + (s - t) d/dt u along the trajectory (d/dt by central differences):
    the MeanFlow loss of the exact u, with v = v*, is zero up to solver and difference error."""
    x = fm.sample_gaussian(200, generator=gen).double() * 0.8
    t, s, h = 0.3, 0.8, 1e-3
    x_plus = x + h * fm.average_velocity(fm.marginal_velocity, x, t, t + h, n_steps=4)  # X_{t+h}
    # X_{t-h}: z(tau) = X(2t - tau) solves dz/dtau = -v*(z, 2t - tau) from tau = t to t + h
    x_minus = x + h * fm.average_velocity(lambda y, tau: -fm.marginal_velocity(y, 2 * t - tau), x, t, t + h, n_steps=4)
    du_dt = (fm.average_velocity(fm.marginal_velocity, x_plus, t + h, s)
             - fm.average_velocity(fm.marginal_velocity, x_minus, t - h, s)) / (2 * h)
    lhs = fm.average_velocity(fm.marginal_velocity, x, t, s)
    rhs = fm.marginal_velocity(x, t) + (s - t) * du_dt
    assert (lhs - rhs).norm(dim=1).max() < 1e-3 * lhs.norm(dim=1).max()
    assert (lhs - fm.marginal_velocity(x, t)).norm(dim=1).max() > 0.1  # u is not v here


def test_model_takes_t_and_s_and_refuses_s_before_t(gen):
    model = fm.MeanFlowMLP()
    x = fm.sample_gaussian(5, generator=gen)
    assert model(x, 0.2, 0.7).shape == (5, 2)
    assert torch.equal(model(x, 0.2, 0.7), model(x, torch.full((5,), 0.2), torch.full((5, 1), 0.7)))
    with pytest.raises(ValueError, match="s must be >= t"):
        model(x, 0.7, 0.2)


def test_intervals_share_of_equal_times_and_order(gen):
    recipe = fm.MEANFLOW_RECIPE.replace(equal_fraction=0.25)
    t, s = fm.sample_intervals(20_000, recipe, gen)
    assert (s >= t).all() and t.min() >= 0 and s.max() <= 1
    assert (s == t).float().mean() == pytest.approx(0.25, abs=0.02)
    t, s = fm.sample_intervals(20_000, recipe.replace(intervals="uniform", equal_fraction=0.0), gen)
    assert float(t.mean()) == pytest.approx(1 / 3, abs=0.01) and float(s.mean()) == pytest.approx(2 / 3, abs=0.01)


@pytest.mark.slow
def test_training_lowers_the_loss_and_is_reproducible():
    a = fm.train_meanflow(n_iterations=60, progress=False)
    b = fm.train_meanflow(n_iterations=60, progress=False)
    assert a.losses == b.losses and len(a.losses) == 60
    assert sum(a.losses[-10:]) < sum(a.losses[:10])
    x = fm.sample_gaussian(100, generator=torch.Generator().manual_seed(0))
    assert fm.meanflow_sample(a.model, x, 2).shape == (100, 2)


@pytest.mark.slow
def test_fit_one_step_learns_a_known_map_and_is_reproducible(gen):
    x_0 = fm.sample_gaussian(2000, generator=gen)
    x_1 = 0.5 * x_0 + torch.tensor([1.0, -1.0])  # the map one step must learn: u(x, 0, 1) = -x / 2 + (1, -1)
    a = fm.fit_one_step(fm.MeanFlowMLP(), x_0, x_1, n_iterations=400, progress=False)
    b = fm.fit_one_step(fm.MeanFlowMLP(), x_0, x_1, n_iterations=400, progress=False)
    assert a.losses == b.losses and len(a.losses) == 400
    x = fm.sample_gaussian(500, generator=gen)
    error = (fm.meanflow_sample(a.model, x, 1) - (0.5 * x + torch.tensor([1.0, -1.0]))).norm(dim=1)
    assert float(error.mean()) < 0.05, float(error.mean())
    assert a.losses[-1] < 0.01 * a.losses[0]


def test_exact_target_puts_v_star_in_the_identity(gen):
    model = fm.MeanFlowMLP()
    x_0, x_1 = fm.sample_gaussian(64, generator=gen), fm.sample_checkerboard(64, generator=gen)
    t, s = fm.sample_intervals(64, fm.MEANFLOW_RECIPE, gen)
    x_t = (1 - t) * x_0 + t * x_1
    exact = fm.INDEPENDENT_MEANFLOW_RECIPE.replace(target="exact")
    want = (model(x_t, t, s) - fm.meanflow_target(model.raw, x_t, t, s, fm.marginal_velocity(x_t, t))).pow(2).sum(1).mean()
    got = fm.meanflow_loss(model, x_0, x_1, t, s, recipe=exact)
    assert torch.allclose(got, want, rtol=1e-5)
    estimate = fm.meanflow_loss(model, x_0, x_1, t, s, recipe=fm.INDEPENDENT_MEANFLOW_RECIPE)
    assert not torch.allclose(estimate, got, rtol=1e-3)  # the estimate is not v*


def test_ot_coupling_trains_on_matched_pairs():
    """With coupling "ot", the first step's loss is the loss of the batch with x_1 matched to x_0
    (blocks of ot_block rows); with "independent" it is the loss of the pairs as drawn."""
    recipe = fm.MEANFLOW_RECIPE.replace(n_iterations=1, ot_block=64)
    g = torch.Generator().manual_seed(recipe.seed)
    x_0 = fm.sample_gaussian(recipe.batch_size, generator=g)
    x_1 = fm.sample_checkerboard(recipe.batch_size, generator=g)
    t, s = fm.sample_intervals(recipe.batch_size, recipe, g)
    matched = fm.couple(x_0, x_1, "ot", block_size=64)
    assert fm.pairing_cost(x_0, matched) < 0.5 * fm.pairing_cost(x_0, x_1)
    for coupling, pairs in (("ot", matched), ("independent", x_1)):
        want = fm.meanflow_loss(fm.MeanFlowMLP(), x_0, pairs, t, s, recipe=recipe)
        got = fm.train_meanflow(fm.MeanFlowMLP(), recipe, coupling=coupling, progress=False).losses[0]
        assert got == pytest.approx(float(want.detach()), rel=1e-6)


@pytest.mark.parametrize("changes, name", [
    ({"target": "minibatch"}, "coupling"),
    ({"coupling": "ot", "target": "exact"}, "target"),
    ({"ot_block": 0}, "ot_block"),
])
def test_recipe_refuses_bad_couplings(changes, name):
    with pytest.raises(ValueError, match=name):
        fm.MEANFLOW_RECIPE.replace(**changes)


def test_the_target_takes_float_and_0_d_times_and_the_module_itself(gen):
    """A float or a 0-d time crashed inside torch.func.jvp (an expanded, stride-0 view)."""
    model = fm.MeanFlowMLP()
    x, v = torch.randn(5, 2, generator=gen), torch.randn(5, 2, generator=gen)
    want = fm.meanflow_target(model.raw, x, torch.full((5, 1), 0.2), torch.full((5, 1), 0.7), v)
    assert torch.allclose(fm.meanflow_target(model.raw, x, 0.2, 0.7, v), want)
    assert torch.allclose(fm.meanflow_target(model.raw, x, torch.tensor(0.2), torch.tensor(0.7), v), want)
    assert torch.allclose(fm.meanflow_target(model, x, 0.2, 0.7, v), want)  # the module: its raw, in its dtype
    assert fm.meanflow_target(model, x.double(), 0.2, 0.7, v.double()).dtype == torch.float64


def test_float64_batches_and_a_float64_model(gen):
    """float64 batches or times with a float32 model, and a float64 model, crashed in torch."""
    model = fm.MeanFlowMLP()
    x_0, x_1 = fm.sample_gaussian(32, generator=gen), fm.sample_checkerboard(32, generator=gen)
    t, s = fm.sample_intervals(32, fm.MEANFLOW_RECIPE, gen)
    loss = fm.meanflow_loss(model, x_0.double(), x_1.double(), t.double(), s)
    assert torch.isclose(loss, fm.meanflow_loss(model, x_0, x_1, t, s), rtol=1e-5)
    result = fm.train_meanflow(fm.MeanFlowMLP().double(), n_iterations=3, batch_size=32, progress=False)
    assert all(torch.isfinite(torch.tensor(result.losses)))


def test_a_mean_flow_on_given_pairs():
    x_0 = fm.sample_gaussian(500, generator=torch.Generator().manual_seed(1))
    result = fm.train_meanflow(fm.MeanFlowMLP(hidden=32, n_layers=2), coupling="pairs", pairs=(x_0, x_0 + 1.0),
                               n_iterations=5, batch_size=64, progress=False)
    assert len(result.losses) == 5


@pytest.mark.parametrize("result, error, word", [
    (lambda x, t, s: x[:, :1], ValueError, "shape"),   # was broadcast silently
    (lambda x, t, s: x[:, [0, 1, 0]], ValueError, "shape"),  # crashed in torch
    (lambda x, t, s: x * float("nan"), ValueError, "NaN"),
    (lambda x, t, s: x * float("inf"), ValueError, "infinite"),
], ids=["(n, 1)", "(n, 3)", "NaN", "inf"])
def test_what_u_returns_is_checked(result, error, word):
    x = torch.ones(4, 2)
    raises_here(lambda: fm.meanflow_target(result, x, 0.2, 0.5, x), error, word)

    class Broken(fm.MeanFlowMLP):
        def forward(self, x, t, s):
            return result(x, t, s)

        def raw(self, x, t, s):
            return result(x, t, s)

    raises_here(lambda: fm.meanflow_sample(Broken(), x, 2), error, word)
    raises_here(lambda: fm.meanflow_loss(Broken(), x, x, 0.2, 0.5), error, word)
    raises_here(lambda: fm.average_velocity(lambda y, tau: result(y, tau, tau), x, 0.3, 0.3), error, word)
    raises_here(lambda: fm.average_velocity(lambda y, tau: result(y, tau, tau), x, 0.3, 0.6), error, word)


BAD = {
    "average_velocity": (lambda: fm.average_velocity(fm.marginal_velocity, GOOD, 0.8, 0.2), ValueError, "t"),
    "fit_one_step": (lambda: fm.fit_one_step(fm.MeanFlowMLP(), GOOD, GOOD[:1], progress=False), ValueError,
                     "x_0 and x_1"),  # named pairs[0] / pairs[1], which the caller never wrote
    "fit_one_step identity": (lambda: fm.fit_one_step(nn.Identity(), GOOD, GOOD, progress=False), ValueError,
                              "parameters"),  # was a bare StopIteration
    "fit_one_step empty": (lambda: fm.fit_one_step(fm.MeanFlowMLP(), EMPTY, EMPTY, progress=False), ValueError,
                           "x_0"),  # crashed in torch.randint
    "meanflow_loss": (lambda: fm.meanflow_loss(fm.MeanFlowMLP(), GOOD, GOOD, 0.0, 0.0, recipe="fast"), TypeError,
                      "recipe"),
    "meanflow_loss s before t": (lambda: fm.meanflow_loss(fm.MeanFlowMLP(), GOOD, GOOD, 0.6, 0.2), ValueError, "s"),
    "meanflow_loss empty": (lambda: fm.meanflow_loss(fm.MeanFlowMLP(), EMPTY, EMPTY, 0.2, 0.6), ValueError, "x_0"),
    "meanflow_sample": (lambda: fm.meanflow_sample(fm.MeanFlowMLP(), GOOD, 0), ValueError, "n_steps"),
    "meanflow_target": (lambda: fm.meanflow_target("u", GOOD, 0.0, 0.0, GOOD), TypeError, "u"),
    "meanflow_target s before t": (lambda: fm.meanflow_target(lambda x, t, s: x, GOOD, 0.5, 0.1, GOOD), ValueError,
                                   "s"),
    "sample_intervals": (lambda: fm.sample_intervals(0, fm.MEANFLOW_RECIPE), ValueError, "n"),
    "sample_intervals generator": (lambda: fm.sample_intervals(4, fm.MEANFLOW_RECIPE, 3), TypeError, "generator"),
    "train_meanflow": (lambda: fm.train_meanflow("mlp"), TypeError, "model"),
    "train_meanflow identity": (lambda: fm.train_meanflow(nn.Identity()), ValueError, "parameters"),  # torch's error
    "train_meanflow recipe": (lambda: fm.train_meanflow(fm.MeanFlowMLP(), "fast"), TypeError, "recipe"),
    "train_meanflow progress": (lambda: fm.train_meanflow(n_iterations=1, progress="no"), TypeError, "progress"),
}
test_bad_input = table_test(BAD)
