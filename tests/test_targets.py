"""Training times, the regression targets and the flow matching loss (fmhelpers.targets)."""

import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, EMPTY, points_test, raises_here, table_test, times_test


@pytest.mark.slow
def test_cfm_loss_of_the_exact_field_is_the_floor():
    g = torch.Generator().manual_seed(5)
    n = 100_000
    x_0, x_1 = fm.sample_gaussian(n, generator=g).double(), fm.sample_checkerboard(n, generator=g).double()
    t = fm.sample_time(n, generator=g).double()
    exact = fm.cfm_loss(fm.marginal_velocity, x_0, x_1, t).item()
    worse = fm.cfm_loss(lambda x, s: 0.9 * fm.marginal_velocity(x, s), x_0, x_1, t).item()
    assert abs(exact - fm.loss_floor(n=n, generator=torch.Generator().manual_seed(6))) < 0.05 and worse > exact


def test_time_sampling_refuses_an_int_generator():
    raises_here(lambda: fm.sample_time(3, generator=3), TypeError, "generator")


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


def test_every_time_sampling_draws_its_own_law():
    """Each entry of TIME_SAMPLINGS, on the same seed, has the mean of its documented law, so an entry
    wired to another's function fails here."""
    means = {"uniform": 0.5, "late": 2 / 3, "later": 3 / 4, "mixed": 0.9 * 3 / 4 + 0.1 / 2,
             "two-step": 0.25 * 0 + 0.25 * 0.5 + 0.5 * 0.5}
    assert set(means) == set(fm.TIME_SAMPLINGS)
    for name, mean in means.items():
        t = fm.sample_time(100_000, name, generator=torch.Generator().manual_seed(0))
        assert t.shape == (100_000, 1) and abs(t.mean().item() - mean) < 0.005, name


def test_every_target_gives_its_own_goal():
    """The same batch through each entry of TARGETS: every pair of goals differs, and each is what its
    entry says (u_t; the batch's posterior average; v*)."""
    from fmhelpers.targets import TARGETS, point_and_goal

    g = torch.Generator().manual_seed(21)
    x_0, x_1 = fm.sample_gaussian(64, generator=g).double(), fm.sample_checkerboard(64, generator=g).double()
    t = torch.rand(64, 1, generator=g, dtype=torch.float64)
    path = fm.LinearInterpolant()
    goals = {name: point_and_goal(x_0, x_1, path.coefficients(t), name, t=t, interpolant=path)[1] for name in TARGETS}
    names = sorted(goals)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not torch.allclose(goals[a], goals[b]), (a, b)
    assert torch.equal(goals["conditional"], x_1 - x_0)
    assert torch.allclose(goals["minibatch"], fm.minibatch_target(x_0, x_1, t))
    assert torch.allclose(goals["exact"], fm.marginal_velocity(path.interpolate(x_0, x_1, t), t))


@pytest.mark.parametrize("path", [fm.LinearInterpolant(), fm.TrigInterpolant()], ids=["linear", "trig"])
def test_every_prediction_gives_its_own_goal_for_every_target(path):
    """The same batch through each target x each entry of PREDICTIONS: the conditional goal is the pair's
    own x_0, x_1 or -x_0 (the score's loss compares alpha_t s_theta), the other targets' goals are their
    velocity estimate in that view; every pair of predictions gives different goals."""
    from fmhelpers.targets import TARGETS, point_and_goal

    g = torch.Generator().manual_seed(22)
    x_0, x_1 = fm.sample_gaussian(64, generator=g).double(), fm.sample_checkerboard(64, generator=g).double()
    t = 0.05 + 0.9 * torch.rand(64, 1, generator=g, dtype=torch.float64)
    c = path.coefficients(t)
    for target in TARGETS:
        goals = {p: point_and_goal(x_0, x_1, c, target, t=t, interpolant=path, prediction=p)[1] for p in fm.PREDICTIONS}
        x_t, v = point_and_goal(x_0, x_1, c, target, t=t, interpolant=path)
        assert torch.equal(goals["velocity"], v)
        assert torch.allclose(goals["noise"], path.convert(x_t, v, t, source="velocity", target="noise"), atol=1e-9)
        assert torch.allclose(goals["data"], path.convert(x_t, v, t, source="velocity", target="data"), atol=1e-9)
        assert torch.allclose(goals["score"], c.alpha_t * path.convert(x_t, v, t, source="velocity", target="score"),
                              atol=1e-9)
        names = sorted(goals)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                assert not torch.allclose(goals[a], goals[b]), (target, a, b)
    conditional = {p: point_and_goal(x_0, x_1, c, "conditional", prediction=p)[1] for p in fm.PREDICTIONS}
    assert torch.equal(conditional["noise"], x_0) and torch.equal(conditional["data"], x_1)
    assert torch.equal(conditional["score"], -x_0)


def test_the_loss_of_each_exact_view_is_its_floor():
    """cfm_loss with each prediction, for the exact field in that view: lower than for the same view
    shrunk by 10 %, so each loss is minimised where its entry says."""
    g = torch.Generator().manual_seed(23)
    n, path = 20_000, fm.TrigInterpolant()
    x_0, x_1 = fm.sample_gaussian(n, generator=g).double(), fm.sample_checkerboard(n, generator=g).double()
    t = (0.02 + 0.96 * torch.rand(n, 1, generator=g)).double()
    for p in fm.PREDICTIONS:
        exact = lambda x, s: path.convert(x, fm.marginal_velocity(x, s, interpolant=path), s, source="velocity", target=p)
        best = fm.cfm_loss(exact, x_0, x_1, t, interpolant=path, prediction=p).item()
        worse = fm.cfm_loss(lambda x, s: 0.9 * exact(x, s), x_0, x_1, t, interpolant=path, prediction=p).item()
        assert best < worse, p


def test_every_interval_law_draws_its_own_times():
    from fmhelpers.targets import INTERVALS

    draws = {name: INTERVALS[name](20_000, 0.8, torch.Generator().manual_seed(0)) for name in INTERVALS}
    assert abs(draws["uniform"][0].mean().item() - 0.5) < 0.01
    # logit-normal centred at 0.8: the median of each time is sigmoid(0.8)
    assert abs(draws["logit-normal"][0].median().item() - torch.sigmoid(torch.tensor(0.8)).item()) < 0.01


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


def test_the_exact_target_is_v_star_and_its_loss_has_no_floor_left():
    g = torch.Generator().manual_seed(15)
    x_0, x_1 = fm.sample_gaussian(2000, generator=g).double(), fm.sample_checkerboard(2000, generator=g).double()
    t = fm.sample_time(2000, generator=g).double()
    assert fm.cfm_loss(fm.marginal_velocity, x_0, x_1, t, target="exact").item() < 1e-20
    with pytest.raises(ValueError, match="exact"):
        fm.cfm_loss(lambda x, s: x, torch.zeros(3, 5), torch.zeros(3, 5), 0.5, target="exact")


def test_a_labelled_minibatch_goal_averages_within_the_label():
    """With labels, a row's reference set is the batch's x_1 of its own class: when every row has a
    different label the goal is the pair's own u_t; a row whose label was dropped averages over all."""
    from fmhelpers.targets import point_and_goal

    g = torch.Generator().manual_seed(16)
    x_0, x_1 = fm.sample_gaussian(8, generator=g).double(), fm.sample_checkerboard(8, generator=g).double()
    c = fm.LinearInterpolant().coefficients(torch.full((8, 1), 0.3, dtype=torch.float64))
    alone = torch.arange(8)
    _, goal = point_and_goal(x_0, x_1, c, "minibatch", labels=alone)
    assert torch.allclose(goal, x_1 - x_0)
    dropped = torch.tensor([True] + [False] * 7)
    _, goal = point_and_goal(x_0, x_1, c, "minibatch", labels=alone, unlabelled=dropped)
    assert torch.allclose(goal[1:], (x_1 - x_0)[1:])
    assert torch.allclose(goal[0], fm.minibatch_target(x_0, x_1, 0.3)[0])


def test_float64_times_of_shape_n_with_float32_points():
    """It crashed in torch (a float64 row times a float32 column)."""
    x_0, x_1 = torch.randn(6, 2), fm.sample_checkerboard(6)
    t = torch.rand(6, dtype=torch.float64)
    got = fm.minibatch_target(x_0, x_1, t)
    assert got.dtype == torch.float64 and torch.allclose(got, fm.minibatch_target(x_0.double(), x_1.double(), t))


def test_float64_and_mixed_dtypes_in_the_loss_and_the_minibatch_target(gen):
    model = fm.VelocityMLP(hidden=8, n_layers=1)
    x_0, x_1 = torch.randn(16, 2, generator=gen), fm.sample_checkerboard(16, generator=gen)
    t = torch.rand(16, 1, generator=gen)
    loss32 = fm.cfm_loss(model, x_0, x_1, t)
    loss64 = fm.cfm_loss(model, x_0.double(), x_1.double(), t.double())
    assert loss64.dtype == torch.float64 and abs(loss64.item() - loss32.item()) < 1e-4
    mixed = fm.minibatch_target(x_0, x_1.double(), t)
    assert mixed.dtype == torch.float64
    assert torch.allclose(mixed, fm.minibatch_target(x_0.double(), x_1.double(), t.double()))
    assert fm.cfm_loss(model, x_0, x_1.double(), t, target="minibatch").dtype == torch.float64


@pytest.mark.parametrize("result, error, word", [
    (lambda x, t: x[:, :1], ValueError, "shape"),
    (lambda x, t: x.numpy(), TypeError, "torch.Tensor"),
    (lambda x, t: x * float("inf"), ValueError, "infinite"),
], ids=["(n, 1)", "numpy", "inf"])
def test_the_loss_checks_what_the_model_returns(result, error, word):
    raises_here(lambda: fm.cfm_loss(result, torch.ones(3, 2), torch.ones(3, 2), 0.5), error, word)


def test_minibatch_weights_are_the_posterior_of_the_batch_and_make_the_target():
    g = torch.Generator().manual_seed(12)
    path = fm.TrigInterpolant()
    x_0, x_1 = torch.randn(50, 5, generator=g, dtype=torch.float64), torch.randn(50, 5, generator=g, dtype=torch.float64)
    t = 0.05 + 0.9 * torch.rand(50, 1, generator=g, dtype=torch.float64)
    w = fm.minibatch_weights(x_0, x_1, t, interpolant=path)
    a, b, da, db = path.alpha(t), path.beta(t), path.d_alpha(t), path.d_beta(t)
    x_t = a * x_0 + b * x_1
    log_w = -((x_t[:, None, :] - b[:, :, None] * x_1[None]) ** 2).sum(-1) / (2 * a**2)
    assert torch.allclose(w, torch.softmax(log_w, dim=1), atol=1e-12)
    assert torch.allclose(w.sum(1), torch.ones(50, dtype=torch.float64))
    # the minibatch target is the w-weighted average of the velocities of the paths x_t -> x_1^j
    towards = (da / a)[:, :, None] * (x_t[:, None, :] - b[:, :, None] * x_1[None]) + db[:, :, None] * x_1[None]
    assert torch.allclose(fm.minibatch_target(x_0, x_1, t, interpolant=path), (w[:, :, None] * towards).sum(1), atol=1e-8)


def test_the_empirical_field_of_one_point_is_the_path_to_it():
    """With a single data point y every x_t lies on a path that ends at y: x_0 = (x - beta y) / alpha."""
    g = torch.Generator().manual_seed(13)
    y = torch.randn(1, 7, generator=g, dtype=torch.float64)
    x = torch.randn(20, 7, generator=g, dtype=torch.float64)
    for path in (fm.LinearInterpolant(), fm.TrigInterpolant()):
        for t in (0.0, 0.3, 0.8):
            tt = torch.tensor(t, dtype=torch.float64)
            a, b, da, db = path.alpha(tt), path.beta(tt), path.d_alpha(tt), path.d_beta(tt)
            want = da * (x - b * y) / a + db * y
            assert torch.allclose(fm.empirical_velocity(x, t, y, interpolant=path), want, atol=1e-10)


def test_the_empirical_field_of_many_board_samples_is_close_to_the_exact_field():
    """Monte Carlo: v* of 40,000 samples of the board against the closed form of the board's v*."""
    g = torch.Generator().manual_seed(14)
    data = fm.sample_checkerboard(40_000, generator=g).double()
    x = fm.sample_gaussian(200, generator=g).double() * 1.5
    for t in (0.3, 0.7):
        error = (fm.empirical_velocity(x, t, data) - fm.marginal_velocity(x, t)).norm(dim=1)
        assert error.median() < 0.03 and error.max() < 0.2


def test_the_flow_of_the_empirical_field_ends_on_the_data():
    g = torch.Generator().manual_seed(15)
    data = torch.randn(30, 10, generator=g, dtype=torch.float64)
    x_1 = fm.euler(lambda x, t: fm.empirical_velocity(x, t, data), torch.randn(100, 10, generator=g, dtype=torch.float64), 20)
    assert fm.nearest_distance(x_1, data).max() < 1e-6
    # so does midpoint; a solver that evaluates at t = 1 (RK4) gets a finite field there (alpha_min)
    start = torch.randn(50, 10, generator=g, dtype=torch.float64)
    assert fm.nearest_distance(fm.midpoint(lambda x, t: fm.empirical_velocity(x, t, data), start, 20), data).max() < 1e-6
    assert fm.nearest_distance(fm.rk4(lambda x, t: fm.empirical_velocity(x, t, data), start, 20), data).max() < 0.1


BAD = {
    "cfm_loss prediction": (lambda: fm.cfm_loss(fm.marginal_velocity, GOOD, GOOD, 0.5, prediction="eps"), ValueError,
                            "prediction"),
    "minibatch_weights": (lambda: fm.minibatch_weights(EMPTY, EMPTY, 0.5), ValueError, "x_0"),
    "minibatch_weights shapes": (lambda: fm.minibatch_weights(GOOD, torch.zeros(3, 2), 0.5), ValueError, "x_0 and x_1"),
    "empirical_velocity": (lambda: fm.empirical_velocity(GOOD, 0.5, torch.zeros(4, 3)), ValueError, "data"),
    "empirical_velocity empty data": (lambda: fm.empirical_velocity(GOOD, 0.5, EMPTY), ValueError, "data"),
    "empirical_velocity alpha_min": (lambda: fm.empirical_velocity(GOOD, 0.5, GOOD, alpha_min=0.0), ValueError,
                                     "alpha_min"),
    "cfm_loss": (lambda: fm.cfm_loss(lambda x, t: x, GOOD, GOOD, 0.5, target="oracle"), ValueError, "target"),
    "cfm_loss empty batch": (lambda: fm.cfm_loss(lambda x, t: x, EMPTY, EMPTY, 0.5), ValueError, "x_0"),  # was NaN
    "minibatch_target": (lambda: fm.minibatch_target(GOOD, GOOD, 0.5, alpha_min=-1.0), ValueError, "alpha_min"),
    "sample_time": (lambda: fm.sample_time(4, "early"), ValueError, "time_sampling"),
    "sample_time n": (lambda: fm.sample_time(-1), ValueError, "n"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "minibatch_target": lambda bad: fm.minibatch_target(bad, GOOD, 0.5),
    "minibatch_weights": lambda bad: fm.minibatch_weights(GOOD, bad, 0.5),
    "empirical_velocity x": lambda bad: fm.empirical_velocity(bad, 0.5, GOOD),
    "empirical_velocity data": lambda bad: fm.empirical_velocity(GOOD, 0.5, bad),
    "cfm_loss": lambda bad: fm.cfm_loss(fm.VelocityMLP(hidden=8, n_layers=1), GOOD, bad, 0.5),
})
test_bad_times = times_test({
    "minibatch_target": lambda t: fm.minibatch_target(GOOD, GOOD, t),
    "minibatch_weights": lambda t: fm.minibatch_weights(GOOD, GOOD, t),
    "empirical_velocity": lambda t: fm.empirical_velocity(GOOD, t, GOOD),
    "cfm_loss": lambda t: fm.cfm_loss(fm.VelocityMLP(hidden=8, n_layers=1), GOOD, GOOD, t),
})
