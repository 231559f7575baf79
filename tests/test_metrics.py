import math

import pytest
import torch

import fmhelpers as fm
from badinput import EMPTY, GOOD, generator_test, points_test, table_test


def test_in_support_fraction(gen):
    assert fm.in_support_fraction(fm.sample_checkerboard(1000, generator=gen)) == 1.0
    x = fm.sample_gaussian(200_000, generator=gen)
    # by symmetry pi_0 puts exactly half of its mass inside [-2, 2]^2 on black cells
    inside = (math.erf(2 / math.sqrt(2))) ** 2
    assert abs(fm.in_support_fraction(x) - inside / 2) < 0.005


def test_sliced_wasserstein(gen):
    x = fm.sample_checkerboard(5000, generator=gen)
    assert fm.sliced_wasserstein(x, x, generator=gen) == 0.0
    shift = torch.tensor([0.6, -0.8])  # |shift| = 1: SW2 = sqrt(E cos^2) = 1/sqrt(2) over directions
    # exact for any cloud; the Monte Carlo error over 2000 directions is about 0.006
    sw = fm.sliced_wasserstein(x[:1000], x[:1000] + shift, n_projections=2000, generator=gen)
    assert abs(sw - 1 / math.sqrt(2)) < 0.02
    y = fm.sample_checkerboard(3000, generator=gen)
    assert fm.sliced_wasserstein(x, y, generator=gen) < 0.06  # different sizes, same law


def test_histogram_tv(gen):
    small = fm.histogram_tv(fm.sample_checkerboard(2_000, generator=gen))
    large = fm.histogram_tv(fm.sample_checkerboard(200_000, generator=gen))
    bad = fm.histogram_tv(fm.sample_gaussian(200_000, generator=gen))
    assert large < small < 0.5 and large < 0.05 and bad > 0.5
    assert fm.histogram_tv(torch.full((10, 2), 5.0)) == 1.0  # everything off the board


@pytest.mark.slow
def test_loss_floor_is_positive_and_stable():
    a = fm.loss_floor(n=100_000, generator=torch.Generator().manual_seed(0))
    b = fm.loss_floor(n=100_000, generator=torch.Generator().manual_seed(1))
    assert 2.0 < a < 5.0 and abs(a - b) < 0.05


def test_count_crossings():
    # two straight paths forming an X cross once; parallel ones never
    x_paths = torch.tensor([[[0.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]]])
    assert fm.count_crossings(x_paths) == 1
    parallel = torch.tensor([[[0.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]])
    assert fm.count_crossings(parallel) == 0
    # two vertical paths x = 0 and x = 0.5, and a third that runs across both at y = 0.5
    three = torch.tensor([[[0.0, 0.0], [0.5, 0.0], [-1.0, 0.5]],
                          [[0.0, 1.0], [0.5, 1.0], [1.0, 0.5]],
                          [[0.0, 2.0], [0.5, 2.0], [1.0, 3.0]]])
    assert fm.count_crossings(three) == 2
    with pytest.raises(ValueError, match="paths"):
        fm.count_crossings(torch.zeros(3, 2))


@pytest.mark.slow
def test_loss_floor_of_the_minibatch_target():
    """Far below the conditional floor, and lower still with larger batches (less noise in the target)."""
    kwargs = dict(n=16_384, time_sampling="later")
    conditional = fm.loss_floor(generator=torch.Generator().manual_seed(0), **kwargs)
    small = fm.loss_floor(target="minibatch", batch_size=256, generator=torch.Generator().manual_seed(0), **kwargs)
    large = fm.loss_floor(target="minibatch", batch_size=4096, generator=torch.Generator().manual_seed(0), **kwargs)
    assert 0 < large < small < 0.2 * conditional
    with pytest.raises(ValueError, match="batch_size"):
        fm.loss_floor(target="minibatch")
    with pytest.raises(ValueError, match="target"):
        fm.loss_floor(n=100, target="oracle")


def test_distance_to_board_is_zero_on_it_and_euclidean_off_it():
    on = fm.sample_checkerboard(500, generator=torch.Generator().manual_seed(0))
    assert torch.equal(fm.distance_to_board(on), torch.zeros(500, dtype=torch.float64))
    # (-1.5, -1.5) is the middle of a white cell (column 0, row 0): 0.5 from its black neighbours;
    # (2.3, -1.5) is 0.3 right of the black cell [1, 2] x [-2, -1]; (2.3, 1.4) is 0.3 right of and 0.4
    # above the black cell [1, 2] x [0, 1], diagonally off its corner; (-1.9, -0.1) is on a black cell
    x = torch.tensor([[-1.5, -1.5], [2.3, -1.5], [2.3, 1.4], [-1.9, -0.1]])
    got = fm.distance_to_board(x)
    want = torch.tensor([0.5, 0.3, (0.3**2 + 0.4**2) ** 0.5, 0.0], dtype=torch.float64)
    assert torch.allclose(got, want, atol=1e-6)
    assert float((got > 0).double().mean()) == pytest.approx(1 - fm.in_support_fraction(x))


def test_straightness_is_zero_exactly_for_straight_flows(gen):
    x_0 = fm.sample_gaussian(400, generator=gen).double()
    assert fm.straightness(lambda x, t: torch.ones_like(x), x_0) < 1e-20
    # v = -x: X_t = x_0 e^{-t}, chord x_0 (e^{-1} - 1); S = E|x_0|^2 * int (e^{-t} + e^{-1} - 1)^2 dt
    e = torch.exp(torch.tensor(-1.0, dtype=torch.float64))
    s = torch.linspace(0, 1, 200_001, dtype=torch.float64)
    integral = ((torch.exp(-s) + e - 1) ** 2).mean()
    want = float(x_0.pow(2).sum(1).mean() * integral)
    assert fm.straightness(lambda x, t: -x, x_0, n_steps=400) == pytest.approx(want, rel=0.01)
    assert fm.straightness(fm.marginal_velocity, x_0[:200], n_steps=32) > 0.5


def test_straightness_is_kinetic_energy_minus_the_squared_chord(gen):
    """For Euler the chord is the mean of the velocities along the path, so S = E_k E||v||^2 - E||chord||^2."""
    x_0 = fm.sample_gaussian(300, generator=gen).double()
    path = fm.euler(fm.marginal_velocity, x_0, 16, return_trajectory=True)
    times = [torch.full((300, 1), k / 16, dtype=torch.float64) for k in range(16)]
    energy = sum(fm.marginal_velocity(path[k], times[k]).pow(2).sum(1).mean() for k in range(16)) / 16
    chord = (path[-1] - path[0]).pow(2).sum(1).mean()
    assert fm.straightness(fm.marginal_velocity, x_0, n_steps=16, solver="euler") == pytest.approx(
        float(energy - chord), rel=1e-9)


def _with_moments(n, mean, cov, gen):
    """n points whose sample mean and covariance (divided by n - 1) are exactly `mean` and `cov`."""
    z = torch.randn(n, len(mean), generator=gen, dtype=torch.float64)
    z = z - z.mean(0)
    z = z @ torch.linalg.inv(torch.linalg.cholesky(torch.cov(z.T))).T
    return mean + z @ torch.linalg.cholesky(cov).T


def test_frechet_distance_is_the_closed_form_between_two_gaussians(gen):
    """For 2 x 2 covariances, tr sqrt(C_a C_b) = sqrt(tr(C_a C_b) + 2 sqrt(det(C_a C_b))) (the eigenvalues
    of C_a C_b are real and positive): an answer that needs no matrix square root."""
    mean_a, mean_b = torch.tensor([0.5, -1.0], dtype=torch.float64), torch.tensor([2.0, 0.0], dtype=torch.float64)
    cov_a = torch.tensor([[2.0, 0.7], [0.7, 1.0]], dtype=torch.float64)
    cov_b = torch.tensor([[0.5, -0.2], [-0.2, 3.0]], dtype=torch.float64)  # does not commute with cov_a
    a, b = _with_moments(400, mean_a, cov_a, gen), _with_moments(250, mean_b, cov_b, gen)
    product = cov_a @ cov_b
    cross = math.sqrt(product.trace() + 2 * math.sqrt(torch.linalg.det(product)))
    want = (mean_a - mean_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    assert fm.frechet_distance(a, b) == pytest.approx(float(want), rel=1e-9)
    assert fm.frechet_distance(b, a) == pytest.approx(float(want), rel=1e-9)
    assert fm.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    # diagonal covariances in 5-D: sum of (sqrt(s_a) - sqrt(s_b))^2 plus the squared distance of the means
    s_a, s_b = torch.tensor([1.0, 2.0, 0.5, 4.0, 1.0]), torch.tensor([3.0, 2.0, 1.0, 1.0, 0.2])
    a = _with_moments(300, torch.zeros(5, dtype=torch.float64), torch.diag(s_a).double(), gen)
    b = _with_moments(300, torch.ones(5, dtype=torch.float64), torch.diag(s_b).double(), gen)
    want = 5.0 + (s_a.sqrt() - s_b.sqrt()).pow(2).sum().item()
    assert fm.frechet_distance(a.float(), b) == pytest.approx(want, rel=1e-5)


def test_frechet_distance_of_two_samples_of_one_law_shrinks_with_the_sample_size(gen):
    """The estimate is biased upward by about (a term) / n: why the notebook compares at equal sizes."""
    small = [fm.frechet_distance(torch.randn(100, 8, generator=gen), torch.randn(100, 8, generator=gen)) for _ in range(5)]
    large = [fm.frechet_distance(torch.randn(1600, 8, generator=gen), torch.randn(1600, 8, generator=gen)) for _ in range(5)]
    assert sum(large) < sum(small) / 4


def test_nearest_distance_is_the_brute_force_minimum(gen):
    x, ref = torch.randn(37, 6, generator=gen), torch.randn(23, 6, generator=gen)
    brute = torch.tensor([[float((a.double() - b.double()).norm()) for b in ref] for a in x], dtype=torch.float64)
    distance, index = fm.nearest_distance(x, ref, return_index=True, chunk=5)
    assert torch.allclose(distance, brute.min(1).values) and torch.equal(index, brute.argmin(1))
    assert fm.nearest_distance(ref[3:9], ref).abs().max() == 0


def test_effective_sample_size():
    uniform, one_hot = torch.full((2, 8), 1 / 8), torch.eye(3)
    p = 0.2
    two = torch.tensor([[p, 1 - p, 0.0]], dtype=torch.float64)
    assert torch.allclose(fm.effective_sample_size(uniform), torch.full((2,), 8.0, dtype=torch.float64))
    assert torch.equal(fm.effective_sample_size(one_hot), torch.ones(3, dtype=torch.float64))
    assert fm.effective_sample_size(two).item() == pytest.approx(1 / (p**2 + (1 - p) ** 2))



@pytest.mark.slow
def test_regression_floors_against_independent_answers():
    """Each floor is computed from its own goal; checked against answers found another way:
    near t = 0 the data floor is the variance of pi_1 (from 10^6 board samples); near t = 1 the noise
    floor is d = 2 (x_t is nearly x_1, so nothing of x_0 is known); the four are one posterior variance
    seen through the conversions (x_0 - e = -(beta/alpha)(x_1 - m), u_t - v* = (D/alpha)(x_1 - m),
    score goal error = (x_0 - e) / alpha); and the velocity floor averaged over t is `loss_floor`."""
    gen = torch.Generator().manual_seed(0)
    t = torch.tensor([0.002, 0.3, 0.7, 0.998], dtype=torch.float64)
    floors = fm.regression_floors(t, n=40_000, generator=gen)
    board = fm.sample_checkerboard(1_000_000, generator=torch.Generator().manual_seed(1)).double()
    assert floors["data"][0].item() == pytest.approx(board.var(0).sum().item(), rel=0.02)
    assert floors["noise"][-1].item() == pytest.approx(2.0, rel=0.02)
    c = fm.LinearInterpolant().coefficients(t.reshape(-1, 1))
    ratio = lambda k: k.reshape(-1)  # noqa: E731
    assert torch.allclose(floors["noise"], ratio(c.beta_t / c.alpha_t) ** 2 * floors["data"], rtol=1e-9)
    assert torch.allclose(floors["velocity"], ratio(c.determinant / c.alpha_t) ** 2 * floors["data"], rtol=1e-9)
    assert torch.allclose(floors["score"], floors["noise"] / ratio(c.alpha_t) ** 2, rtol=1e-9)
    grid = (torch.arange(40, dtype=torch.float64) + 0.5) / 40
    mean_floor = fm.regression_floors(grid, n=20_000, generator=gen)["velocity"].mean().item()
    assert mean_floor == pytest.approx(fm.loss_floor(n=200_000, generator=gen), rel=0.03)

BAD = {
    "frechet_distance": (lambda: fm.frechet_distance(torch.zeros(1, 3), torch.zeros(4, 3)), ValueError, "a"),
    "frechet_distance widths": (lambda: fm.frechet_distance(torch.zeros(4, 3), torch.zeros(4, 2)), ValueError, "b"),
    "nearest_distance": (lambda: fm.nearest_distance(GOOD, EMPTY), ValueError, "reference"),
    "nearest_distance chunk": (lambda: fm.nearest_distance(GOOD, GOOD, chunk=0), ValueError, "chunk"),
    "effective_sample_size": (lambda: fm.effective_sample_size(torch.full((2, 2), 0.3)), ValueError, "weights"),
    "effective_sample_size negative": (lambda: fm.effective_sample_size(torch.tensor([[1.5, -0.5]])), ValueError,
                                       "weights"),
    "in_support_fraction": (lambda: fm.in_support_fraction(EMPTY), ValueError, "x"),
    "distance_to_board": (lambda: fm.distance_to_board(torch.zeros(3, 2), board=4), TypeError, "board"),
    "sliced_wasserstein": (lambda: fm.sliced_wasserstein(GOOD, GOOD, n_projections=0), ValueError, "n_projections"),
    "sliced_wasserstein y": (lambda: fm.sliced_wasserstein(torch.zeros(3, 2), torch.zeros(3)), ValueError, "y"),
    "histogram_tv": (lambda: fm.histogram_tv(GOOD, bins=0), ValueError, "bins"),
    "loss_floor": (lambda: fm.loss_floor(n=10, target="minibatch"), ValueError, "batch_size"),
    "loss_floor n": (lambda: fm.loss_floor(n=0), ValueError, "n"),
    "class_scores": (lambda: fm.class_scores(GOOD, 8), ValueError, "c"),
    "class_scores empty": (lambda: fm.class_scores(EMPTY, 0), ValueError, "x"),
    "class_scores labels": (lambda: fm.class_scores(GOOD, torch.zeros(3, dtype=torch.long)), ValueError, "c"),
    "count_crossings": (lambda: fm.count_crossings(torch.zeros(3, 4, 2), max_elements=0), ValueError, "max_elements"),
    "count_crossings one state": (lambda: fm.count_crossings(torch.zeros(1, 4, 2)), ValueError, "paths"),
    "count_crossings numpy": (lambda: fm.count_crossings(torch.zeros(3, 4, 2).numpy()), ValueError, "paths"),
    "pairing_cost": (lambda: fm.pairing_cost(GOOD, torch.zeros(3, 3)), ValueError, "x_0 and x_1"),
    "pairing_cost empty": (lambda: fm.pairing_cost(EMPTY, EMPTY), ValueError, "x_0"),  # was NaN
    "straightness": (lambda: fm.straightness(fm.marginal_velocity, GOOD, n_steps=0), ValueError, "n_steps"),
    "straightness empty": (lambda: fm.straightness(fm.marginal_velocity, EMPTY), ValueError, "x_0"),  # was NaN
    "regression_floors": (lambda: fm.regression_floors(1.0), ValueError, "t"),
    "regression_floors n": (lambda: fm.regression_floors(0.5, n=1), ValueError, "n"),
    "regression_floors interpolant": (lambda: fm.regression_floors(0.5, interpolant="trig"), TypeError, "interpolant"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "frechet_distance": lambda bad: fm.frechet_distance(bad, GOOD),
    "nearest_distance": lambda bad: fm.nearest_distance(GOOD, bad),
    "in_support_fraction": lambda bad: fm.in_support_fraction(bad),
    "distance_to_board": lambda bad: fm.distance_to_board(bad),
    "sliced_wasserstein x": lambda bad: fm.sliced_wasserstein(bad, GOOD),
    "sliced_wasserstein y": lambda bad: fm.sliced_wasserstein(GOOD, bad),
    "histogram_tv": lambda bad: fm.histogram_tv(bad),
    "pairing_cost": lambda bad: fm.pairing_cost(bad, GOOD),
    "class_scores": lambda bad: fm.class_scores(bad, 0),
})
test_bad_generators = generator_test({
    "sliced_wasserstein": lambda g: fm.sliced_wasserstein(GOOD, GOOD, generator=g),
    "loss_floor": lambda g: fm.loss_floor(n=10, generator=g),
    "regression_floors": lambda g: fm.regression_floors(0.5, n=10, generator=g),
    "class_scores": lambda g: fm.class_scores(GOOD, 0, generator=g),
})


def test_count_crossings_is_blocked_and_agrees_with_the_direct_count(gen):
    paths = torch.randn(6, 12, 2, generator=gen).cumsum(0)
    direct = fm.count_crossings(paths, max_elements=10**9)
    assert direct == fm.count_crossings(paths, max_elements=1) > 0
    # long paths without subsampling (the full-size case used 2.4 GB before the blocks)
    long = torch.randn(101, 40, 2, generator=gen).cumsum(0) * 0.05
    assert 0 <= fm.count_crossings(long) <= 40 * 39 // 2
