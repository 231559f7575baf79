"""Discrete flow matching on the gridded board (fmhelpers.discrete): the exact law, path, posterior
and rate against independent answers (brute-force Bayes, Monte Carlo, the Kolmogorov forward
equation with a control that must fail), the jump sampler, and the factorised network on fm.fit."""

import itertools
import math

import pytest
import torch

import fmhelpers as fm
from badinput import raises_here, table_test
from fmhelpers.discrete import KAPPA_SCHEDULES, raw_grid_law, raw_posterior_marginals, raw_rate

SMALL = fm.Board(grid_size=2, scale=1.0)  # V = 4: 16 (or 25 with the mask) states, small enough to loop over
CASES = list(itertools.product(("mask", "uniform"), ("linear", "quadratic")))


def _empirical(tokens, S):
    return torch.bincount(tokens[:, 0] * S + tokens[:, 1], minlength=S * S).to(torch.float64).reshape(S, S) / len(tokens)


# ---- 1. the grid ---------------------------------------------------------------------------------
def test_the_grid_law_is_uniform_on_the_black_bins():
    law = fm.grid_law(32)
    assert law.shape == (32, 32) and abs(law.sum().item() - 1) < 1e-12
    centres = fm.tokens_to_points(fm.all_states(source="uniform", V=32))
    black = fm.in_checkerboard(centres).reshape(32, 32)
    assert torch.equal(law > 0, black)
    assert torch.allclose(law[black], torch.full((512,), 1 / 512, dtype=torch.float64))
    odd = fm.Board(grid_size=3, scale=1.5)  # floor(9 / 2) = 4 black cells
    assert (fm.grid_law(6, board=odd) > 0).sum().item() == 4 * 4


def test_sampling_the_grid_is_exact_by_monte_carlo(gen):
    x = fm.sample_grid(200_000, 8, generator=gen)
    assert x.dtype == torch.long and x.shape == (200_000, 2)
    assert (_empirical(x, 8) - fm.grid_law(8)).abs().sum().item() / 2 < 0.01
    assert fm.black_share(x, 8) == 1.0 and fm.in_support_fraction(fm.tokens_to_points(x, 8)) == 1.0


def test_tokens_and_points_round_trip_and_the_tv_matches_the_point_histogram(gen):
    x = fm.sample_grid(500, 16, generator=gen)
    assert torch.equal(fm.points_to_tokens(fm.tokens_to_points(x, 16), 16), x)
    points = fm.sample_checkerboard(300, generator=gen)
    tokens = fm.points_to_tokens(points, 16)
    # an independent TV: the continuous histogram of the bin centres on the same V x V bins
    assert abs(fm.grid_tv(tokens, 16) - fm.histogram_tv(fm.tokens_to_points(tokens, 16), bins=16)) < 1e-12
    assert fm.grid_tv(fm.sample_source(10, "mask", 16), 16) == 1.0  # mask tokens are misses


def test_the_sources(gen):
    assert torch.equal(fm.sample_source(5, "mask", 8), torch.full((5, 2), 8))
    u = fm.sample_source(80_000, "uniform", 8, generator=gen)
    assert u.min() == 0 and u.max() == 7
    assert (_empirical(u, 8) - 1 / 64).abs().max() < 0.003


# ---- 2. the path ---------------------------------------------------------------------------------
@pytest.mark.parametrize("source, schedule", CASES)
def test_the_path_law_matches_monte_carlo_and_its_ends(gen, source, schedule):
    V = 4
    S = V + (source == "mask")
    x_1 = fm.sample_grid(200_000, V, board=SMALL, generator=gen)
    x_t = fm.sample_path(x_1, 0.6, source=source, schedule=schedule, V=V, generator=gen)
    law = fm.path_law(0.6, source=source, schedule=schedule, V=V, board=SMALL)
    assert abs(law.sum().item() - 1) < 1e-12 and law.shape == (S, S)
    assert (_empirical(x_t, S) - law).abs().sum().item() / 2 < 0.01
    start = fm.path_law(0.0, source=source, schedule=schedule, V=V, board=SMALL)
    p0 = fm.SOURCES[source].probs(V)
    assert torch.allclose(start, p0[:, None] * p0[None, :], atol=1e-15)
    end = fm.path_law(1.0, source=source, schedule=schedule, V=V, board=SMALL)
    assert torch.allclose(end[:V, :V], fm.grid_law(V, board=SMALL), atol=1e-15) and end[:V, :V].sum() > 1 - 1e-12


def test_the_schedules_differ_and_t_per_row_is_used(gen):
    a, b = (fm.path_law(0.5, schedule=s, V=8) for s in KAPPA_SCHEDULES)
    assert (a - b).abs().max() > 0.05
    x_1 = fm.sample_grid(1000, 8, generator=gen)
    x_t = fm.sample_path(x_1, torch.cat([torch.zeros(500), torch.ones(500)]), V=8, generator=gen)
    assert (x_t[:500] == 8).all() and torch.equal(x_t[500:], x_1[500:])


# ---- 3. the posterior and the rate ---------------------------------------------------------------
def _bayes(x_t, t, source, schedule, V, board):
    """p(x_1 | x_t) by Bayes' rule with Python floats, one x_1 at a time."""
    kappa = {"linear": t, "quadratic": t * t}[schedule]  # written out again, not read from the table
    law = fm.grid_law(V, board=board).tolist()
    S = V + (source == "mask")

    def p0(s):
        return (1.0 if s == V else 0.0) if source == "mask" else 1.0 / V

    def k(s, v):
        return kappa * (s == v) + (1 - kappa) * p0(s)

    joint = [[law[a][b] * k(int(x_t[0]), a) * k(int(x_t[1]), b) for b in range(V)] for a in range(V)]
    z = sum(map(sum, joint))
    assert S and z > 0
    return torch.tensor(joint, dtype=torch.float64) / z


@pytest.mark.parametrize("source, schedule", CASES)
def test_the_posterior_is_bayes_by_brute_force(source, schedule):
    V, t = 4, 0.35
    law = fm.path_law(t, source=source, schedule=schedule, V=V, board=SMALL)
    states = fm.all_states(source=source, V=V)
    possible = states[law.reshape(-1) > 0]
    joint = fm.joint_posterior(possible, t, source=source, schedule=schedule, V=V, board=SMALL)
    expected = torch.stack([_bayes(x, t, source, schedule, V, SMALL) for x in possible])
    assert (joint - expected).abs().max() < 1e-12
    marginals = fm.posterior_marginals(possible, t, source=source, schedule=schedule, V=V, board=SMALL)
    assert (marginals[:, 0] - expected.sum(dim=2)).abs().max() < 1e-12
    assert (marginals[:, 1] - expected.sum(dim=1)).abs().max() < 1e-12


def test_with_the_mask_an_unmasked_coordinate_is_certain_and_the_rest_does_not_depend_on_t():
    x_t = torch.tensor([[3, 8], [5, 8]])
    early, late = (fm.posterior_marginals(x_t, t, V=8) for t in (0.2, 0.8))
    assert torch.equal(early[:, 0], torch.nn.functional.one_hot(x_t[:, 0], 8).double())
    assert (early - late).abs().max() < 1e-15


def test_the_factorisation_gap_is_zero_where_a_coordinate_is_known_and_not_elsewhere():
    x_t = torch.tensor([[3, 8], [8, 5], [8, 8]])
    gap = fm.factorisation_gap(x_t, 0.5, V=8)
    assert gap[:2].abs().max() < 1e-15  # one coordinate unmasked: the other's posterior is all that is left
    assert gap[2] > 0.2  # all masked: the joint is pi_1 itself, whose coordinates are far from independent
    law = fm.grid_law(8)
    expected = 0.5 * (law - law.sum(dim=1)[:, None] * law.sum(dim=0)[None, :]).abs().sum()
    assert abs(gap[2] - expected) < 1e-12


@pytest.mark.parametrize("source, schedule", CASES)
def test_the_rate_rows_sum_to_zero_and_are_nonnegative_off_the_diagonal(source, schedule):
    states = fm.all_states(source=source, V=8)
    for t in (0.0, 0.3, 0.9):
        u = fm.exact_rate(states, t, source=source, schedule=schedule, V=8)
        assert u.sum(dim=2).abs().max() < 1e-12
        off = u.scatter(2, states[:, :, None], torch.zeros_like(u[:, :, :1]))
        assert off.min() >= 0
    assert fm.exact_rate(states, 0.0, schedule="quadratic", source=source, V=8).abs().max() == 0  # kappa'_0 = 0


def _relative(terms):
    dpi, pi_q = terms
    return ((dpi - pi_q).abs().max() / dpi.abs().max()).item()


@pytest.mark.parametrize("source, schedule", CASES)
def test_the_kolmogorov_forward_equation_holds_and_the_controls_fail(source, schedule):
    """d pi_t / dt = pi_t Q_t at rounding level with the exact rate; without the factor
    1 / (1 - kappa_t), or with kappa'_t dropped where it is not 1, it is off by far more."""
    V = 8
    law = raw_grid_law(V, fm.BOARD)
    kappa = KAPPA_SCHEDULES[schedule]

    def scaled(factor):
        def rate(x, t):
            return raw_rate(raw_posterior_marginals(x, t, source, schedule, V, law), x, t, source, schedule) * factor(t)[:, :, None]
        return rate

    for t in (0.1, 0.3, 0.7, 0.9):
        kw = dict(source=source, schedule=schedule, V=V)
        assert _relative(fm.forward_equation_terms(t, **kw)) < 1e-9
        assert _relative(fm.forward_equation_terms(t, rate=scaled(lambda s: 1 - kappa.kappa(s)), **kw)) > 0.009
        if schedule == "quadratic" and t != 0.5:  # kappa'_t = 2t: dropping it is wrong except at t = 1/2
            assert _relative(fm.forward_equation_terms(t, rate=scaled(lambda s: 1 / kappa.dkappa(s)), **kw)) > 0.1


def test_the_generator_has_rows_summing_to_zero():
    states = fm.all_states(V=8)
    Q = fm.generator_matrix(fm.exact_rate(states, 0.4, V=8), V=8)
    assert Q.shape == (81, 81) and Q.sum(dim=1).abs().max() < 1e-12
    assert (Q - torch.diag(torch.diag(Q))).min() >= 0


# ---- 4. the jump sampler -------------------------------------------------------------------------
def _exact(source, schedule="linear", V=8, board=fm.BOARD):
    return lambda x, t: fm.exact_rate(x, t, source=source, schedule=schedule, V=V, board=board)


@pytest.mark.parametrize("source", ["mask", "uniform"])
def test_one_jump_draws_each_coordinate_from_its_marginal(gen, source):
    """With kappa_t = t one Euler step from t = 0 has h / (1 - 0) = 1: each coordinate is drawn from
    pi_1's marginal, independently, so the law is the product of the marginals (half on white)."""
    x = fm.jump_sample(_exact(source, V=4, board=SMALL), 100_000, 1, source=source, V=4, generator=gen)
    law = fm.grid_law(4, board=SMALL)
    product = law.sum(dim=1)[:, None] * law.sum(dim=0)[None, :]
    assert (_empirical(x, 4 + (source == "mask"))[:4, :4] - product).abs().sum() / 2 < 0.01
    assert abs(fm.black_share(x, 4, board=SMALL) - 0.5) < 0.01


@pytest.mark.parametrize("source", ["mask", "uniform"])
def test_more_jumps_land_on_the_board_and_seeds_repeat(source):
    run = lambda T, seed: fm.jump_sample(_exact(source), 4000, T, source=source, V=8,  # noqa: E731
                                         generator=torch.Generator().manual_seed(seed))
    few, many = run(2, 0), run(32, 0)
    assert fm.black_share(many, 8) > 0.95 > fm.black_share(few, 8) + 0.1
    assert fm.grid_tv(many, 8) < fm.grid_tv(few, 8)
    assert torch.equal(many, run(32, 0)) and not torch.equal(many, run(32, 1))
    assert (many < 8).all()  # with kappa_t = t the last step has h / (1 - t) = 1: nothing stays masked


@pytest.mark.parametrize("source, schedule", CASES)
def test_the_exact_law_of_the_jumps_matches_monte_carlo(gen, source, schedule):
    S = 8 + (source == "mask")
    rate = _exact(source, schedule)
    law = fm.jump_law(rate, 3, source=source, V=8)
    assert abs(law.sum().item() - 1) < 1e-12 and law.min() >= 0
    x = fm.jump_sample(rate, 100_000, 3, source=source, V=8, generator=gen)
    assert (_empirical(x, S) - law).abs().sum().item() / 2 < 0.02
    assert abs(fm.grid_tv(x, 8) - fm.law_tv(law, 8)) < 0.02


def test_the_exact_law_of_one_jump_is_the_product_of_the_marginals_and_more_jumps_approach_pi_1():
    law = fm.grid_law(8)
    product = law.sum(dim=1)[:, None] * law.sum(dim=0)[None, :]
    for source in ("mask", "uniform"):
        one = fm.jump_law(_exact(source), 1, source=source, V=8)
        assert (one[:8, :8] - product).abs().max() < 1e-12
        tvs = [fm.law_tv(fm.jump_law(_exact(source), T, source=source, V=8), 8) for T in (1, 4, 16, 64)]
        assert tvs == sorted(tvs, reverse=True) and tvs[-1] < 0.05
    assert fm.law_tv(law, 8) == 0 and abs(fm.law_tv(fm.path_law(0.0, V=8), 8) - 1) < 1e-12


def test_the_sampler_takes_a_start_and_the_noise_floor_is_what_exact_samples_give(gen):
    start = fm.sample_grid(50, 8, generator=gen)
    assert fm.jump_sample(lambda x, t: torch.zeros(len(x), 2, 9, dtype=torch.float64), 50, 3, V=8,
                          start=start).equal(start)
    one, two = fm.tv_noise_floor(5000, 8, generator=gen), fm.tv_noise_floor(5000, 8, two_sample=True, generator=gen)
    assert 0.0 < one < two < 2 * one


# ---- 5. the network and its loss -----------------------------------------------------------------
def test_the_recipe_offers_exactly_the_tables_keys():
    assert fm.DiscreteRecipe.SOURCES == tuple(fm.SOURCES)
    assert fm.DiscreteRecipe.KAPPA_SCHEDULES == tuple(fm.KAPPA_SCHEDULES)
    assert fm.DiscreteRecipe.TIME_SAMPLINGS == tuple(fm.TIME_SAMPLINGS)


def test_the_loss_is_the_cross_entropy_and_the_exact_posterior_beats_a_network(gen):
    model = fm.DiscreteMLP(V=8, hidden=16, n_layers=1)
    x_1 = fm.sample_grid(64, 8, generator=gen)
    x_t = fm.sample_path(x_1, 0.5, V=8, generator=gen)
    logits = model(x_t, 0.5)
    expected = -torch.log_softmax(logits, dim=2).gather(2, x_1[:, :, None]).sum() / 64
    assert torch.allclose(fm.discrete_loss(model, x_t, x_1, 0.5), expected)


SMOKE = fm.DISCRETE_RECIPE.replace(V=8, n_iterations=300, batch_size=128, lr=1e-2)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["mask", "uniform"])
def test_a_short_training_lowers_the_loss_and_its_samples_beat_the_source(source):
    """A smoke test: 300 steps of a tiny net close most of the gap between the first loss and the
    floor (the exact posterior's cross-entropy on held-out pairs), and its jumps beat the source."""
    g = torch.Generator().manual_seed(5)
    x_1 = fm.sample_grid(20_000, 8, generator=g)
    t = torch.rand(20_000, 1, generator=g, dtype=torch.float64)
    x_t = fm.sample_path(x_1, t, source=source, V=8, generator=g)
    exact = fm.posterior_marginals(x_t, t, source=source, V=8).gather(2, x_1[:, :, None])
    floor = -exact.log().sum().item() / 20_000
    result = fm.train_discrete(fm.DiscreteMLP(V=8, hidden=32, n_layers=1), SMOKE, source=source, progress=False)
    held_out = fm.discrete_loss(result.model, x_t, x_1, t).item()
    assert floor <= held_out < floor + 0.25 * (result.losses[0] - floor)
    x = fm.jump_sample(fm.model_rate(result.model, source=source), 2000, 16, source=source, V=8,
                       generator=torch.Generator().manual_seed(0))
    x_0 = fm.sample_source(2000, source, 8, generator=torch.Generator().manual_seed(0))
    assert fm.black_share(x, 8) > fm.black_share(x_0, 8) + 0.25 and fm.grid_tv(x, 8) < fm.grid_tv(x_0, 8) - 0.25


def test_every_table_entry_changes_the_training_run():
    short = SMOKE.replace(n_iterations=3)
    base = fm.train_discrete(fm.DiscreteMLP(V=8, hidden=8, n_layers=1), short, progress=False).losses
    for change in (dict(source="uniform"), dict(schedule="quadratic"), dict(time_sampling="late")):
        assert fm.train_discrete(fm.DiscreteMLP(V=8, hidden=8, n_layers=1), short, progress=False, **change).losses != base


# ---- 5b. likelihood ------------------------------------------------------------------------------
def test_the_entropy_and_the_cross_entropy_of_a_law_against_enumeration_and_monte_carlo(gen):
    law = fm.grid_law(8)
    brute = -sum(p * math.log(p) for p in law.reshape(-1).tolist() if p > 0)
    assert abs(fm.grid_entropy(8) - brute) < 1e-12 and abs(fm.grid_entropy(32) - math.log(512)) < 1e-12
    assert abs(fm.law_cross_entropy(law, 8) - fm.grid_entropy(8)) < 1e-12  # KL(pi_1 || pi_1) = 0
    flat = torch.full((8, 8), 1 / 64, dtype=torch.float64)
    assert abs(fm.law_cross_entropy(flat, 8) - math.log(64)) < 1e-12
    other = fm.jump_law(_exact("mask"), 2, V=8)  # (9, 9), some mass on white bins and none left masked
    x = fm.sample_grid(200_000, 8, generator=gen)
    monte_carlo = -other[x[:, 0], x[:, 1]].log().mean().item()
    assert abs(fm.law_cross_entropy(other, 8) - monte_carlo) < 0.01
    assert fm.law_cross_entropy(other, 8) > fm.grid_entropy(8) + 0.1
    holes = law.clone()
    holes[law > 0] = 0
    holes[0, 0] = 1.0
    assert fm.law_cross_entropy(holes, 8) == math.inf


def _brute_negative_elbo(probs, schedule, V, board):
    """The bound by a loop over every x_1 and every state x_t, with scipy's adaptive quadrature in t
    (probs(states, t) is asked once per time, for all states)."""
    from scipy.integrate import quad

    kappa, dkappa = KAPPA_SCHEDULES[schedule].kappa, KAPPA_SCHEDULES[schedule].dkappa
    law = fm.grid_law(V, board=board)
    states = fm.all_states(V=V)
    data = [(a, b, law[a, b].item()) for a, b in fm.all_states(source="uniform", V=V).tolist() if law[a, b] > 0]

    def integrand(t):
        k, dk = float(kappa(torch.tensor(t))), float(dkappa(torch.tensor(t)))
        if k >= 1:
            return 0.0
        p_theta = probs(states, t).tolist()
        out = 0.0
        for a, b, weight in data:
            for (s1, s2), p in zip(states.tolist(), p_theta):
                chance = 1.0
                for s, v in ((s1, a), (s2, b)):
                    chance *= (1 - k) if s == V else (k if s == v else 0.0)
                if chance > 0:
                    loss = sum(-math.log(p[i][v]) for i, (s, v) in enumerate(((s1, a), (s2, b))) if s == V)
                    out += weight * chance * loss
        return dk / (1 - k) * out

    return quad(integrand, 0, 1, epsabs=1e-9, epsrel=1e-9, limit=100)[0]


@pytest.mark.parametrize("schedule", ["linear", "quadratic"])
def test_the_elbo_against_brute_force_and_it_is_tight_at_the_exact_posterior(schedule):
    V = 4
    exact = lambda x, t: fm.posterior_marginals(x, t, schedule=schedule, V=V, board=SMALL)  # noqa: E731
    got = fm.negative_elbo(schedule=schedule, V=V, board=SMALL)
    assert abs(got - _brute_negative_elbo(exact, schedule, V, SMALL)) < 1e-7
    assert abs(got - fm.grid_entropy(V, board=SMALL)) < 1e-10
    net = fm.DiscreteMLP(V=V, hidden=8, n_layers=1, seed=3)
    soft = lambda x, t: torch.softmax(net(x, t).double(), dim=2).detach()  # noqa: E731
    bound = fm.negative_elbo(net, schedule=schedule, V=V, board=SMALL, n_nodes=64)
    assert abs(bound - _brute_negative_elbo(soft, schedule, V, SMALL)) < 1e-6
    assert bound > fm.grid_entropy(V, board=SMALL) + 0.1


def test_the_elbo_bounds_the_likelihood_of_the_chain_it_describes():
    """A fine Euler chain of a network's rate has nearly the continuous chain's law: its exact
    cross-entropy must sit below the bound (and above the entropy)."""
    net = fm.DiscreteMLP(V=8, hidden=16, n_layers=1, seed=1)
    bound = fm.negative_elbo(net, V=8)
    chain = fm.law_cross_entropy(fm.jump_law(fm.model_rate(net), 512, V=8), 8)
    assert fm.grid_entropy(8) < chain <= bound


# ---- 6. bad input --------------------------------------------------------------------------------
TOK = torch.tensor([[0, 1], [2, 3]])
MASKED = torch.tensor([[8, 1], [2, 8]])
OUT = torch.tensor([[0, 9], [2, 3]])
NET = fm.DiscreteMLP(V=8, hidden=8, n_layers=1)
STATES = fm.all_states(V=8)
GOOD_RATE = fm.exact_rate(STATES, 0.3, V=8)
BAD_SUM = GOOD_RATE.clone()
BAD_SUM[3, 0, 2] += 0.5
NEGATIVE = GOOD_RATE.clone()
NEGATIVE[5, 1, 4] -= 1.0
NEGATIVE[5, 1, 5] += 1.0
MARG = torch.full((2, 2, 8), 1 / 8, dtype=torch.float64)
EXACT8 = _exact("mask")

BAD = {
    "grid_law": (lambda: fm.grid_law(6), ValueError, "V"),
    "grid_law board": (lambda: fm.grid_law(8, board=(4, 2.0)), TypeError, "board"),
    "sample_grid": (lambda: fm.sample_grid(-1, 8), ValueError, "n"),
    "sample_grid generator": (lambda: fm.sample_grid(3, 8, generator=3), TypeError, "generator"),
    "sample_source": (lambda: fm.sample_source(3, "gaussian", 8), ValueError, "source"),
    "sample_source V": (lambda: fm.sample_source(3, "mask", 1), ValueError, "V"),
    "tokens_to_points": (lambda: fm.tokens_to_points(MASKED, 8), ValueError, "tokens"),
    "tokens_to_points float": (lambda: fm.tokens_to_points(TOK.float(), 8), TypeError, "tokens"),
    "tokens_to_points range": (lambda: fm.tokens_to_points(OUT, 8), ValueError, "tokens"),
    "tokens_to_points shape": (lambda: fm.tokens_to_points(TOK[:, :1], 8), ValueError, "tokens"),
    "points_to_tokens": (lambda: fm.points_to_tokens(torch.tensor([[0.0, 2.5]]), 8), ValueError, "x"),
    "points_to_tokens V": (lambda: fm.points_to_tokens(torch.zeros(1, 2), 10), ValueError, "V"),
    "sample_path": (lambda: fm.sample_path(MASKED, 0.5, V=8), ValueError, "x_1"),
    "sample_path t": (lambda: fm.sample_path(TOK, 1.5, V=8), ValueError, "t"),
    "sample_path schedule": (lambda: fm.sample_path(TOK, 0.5, schedule="cubic", V=8), ValueError, "schedule"),
    "path_law": (lambda: fm.path_law(-0.1, V=8), ValueError, "t"),
    "path_law V": (lambda: fm.path_law(0.5, V=10), ValueError, "V"),
    "joint_posterior": (lambda: fm.joint_posterior(MASKED, 0.5, source="uniform", V=8), ValueError, "mask"),
    "joint_posterior range": (lambda: fm.joint_posterior(OUT, 0.5, V=8), ValueError, "x_t"),
    "posterior_marginals": (lambda: fm.posterior_marginals(TOK, torch.zeros(3), V=8), ValueError, "t"),
    "posterior_marginals V": (lambda: fm.posterior_marginals(TOK, 0.5, V=7), ValueError, "V"),
    "factorisation_gap": (lambda: fm.factorisation_gap(MASKED, 0.5, source="uniform", V=8), ValueError, "x_t"),
    "rate_from_posterior": (lambda: fm.rate_from_posterior(MARG * 2, TOK, 0.5), ValueError, "marginals"),
    "rate_from_posterior t": (lambda: fm.rate_from_posterior(MARG, TOK, 1.0), ValueError, "t"),
    "rate_from_posterior mask": (lambda: fm.rate_from_posterior(MARG, MASKED, 0.5, source="uniform"),
                                 ValueError, "x_t"),
    "exact_rate": (lambda: fm.exact_rate(TOK, 1.0, V=8), ValueError, "t"),
    "exact_rate V": (lambda: fm.exact_rate(OUT, 0.5, V=8), ValueError, "x_t"),
    "all_states": (lambda: fm.all_states(source="noise", V=8), ValueError, "source"),
    "generator_matrix": (lambda: fm.generator_matrix(BAD_SUM, V=8), ValueError, "rates"),
    "generator_matrix negative": (lambda: fm.generator_matrix(NEGATIVE, V=8), ValueError, "rates"),
    "generator_matrix shape": (lambda: fm.generator_matrix(GOOD_RATE, source="uniform", V=8), ValueError, "rates"),
    "forward_equation_terms": (lambda: fm.forward_equation_terms(0.001, V=8), ValueError, "t"),
    "forward_equation_terms rate": (lambda: fm.forward_equation_terms(
        0.5, V=8, rate=lambda x, t: EXACT8(x, t) + 0.1), ValueError, "rate"),
    "forward_equation_terms h": (lambda: fm.forward_equation_terms(0.5, V=8, h=0.1), ValueError, "h"),
    "jump_sample": (lambda: fm.jump_sample(lambda x, t: EXACT8(x, t) * -1, 10, 2, V=8), ValueError, "rate"),
    "jump_sample shape": (lambda: fm.jump_sample(lambda x, t: EXACT8(x, t)[:, :, :8], 10, 2, V=8),
                          ValueError, "rate"),
    "jump_sample n_steps": (lambda: fm.jump_sample(EXACT8, 10, 0, V=8), ValueError, "n_steps"),
    "jump_sample callable": (lambda: fm.jump_sample(GOOD_RATE, 10, 2, V=8), TypeError, "rate"),
    "jump_sample start rows": (lambda: fm.jump_sample(EXACT8, 3, 2, V=8, start=TOK), ValueError, "start"),
    "jump_sample start": (lambda: fm.jump_sample(EXACT8, 2, 2, V=8, source="uniform", start=MASKED),
                          ValueError, "start"),
    "jump_law": (lambda: fm.jump_law(lambda x, t: EXACT8(x, t) + 1.0, 2, V=8), ValueError, "rate"),
    "jump_law n_steps": (lambda: fm.jump_law(EXACT8, 1.5, V=8), TypeError, "n_steps"),
    "law_tv": (lambda: fm.law_tv(torch.ones(8, 8), 8), ValueError, "law"),
    "law_tv shape": (lambda: fm.law_tv(fm.grid_law(8), 16), ValueError, "law"),
    "model_rate": (lambda: fm.model_rate(fm.VelocityMLP()), TypeError, "model"),
    "model_rate source": (lambda: fm.model_rate(NET, source="normal"), ValueError, "source"),
    "black_share": (lambda: fm.black_share(OUT, 8), ValueError, "tokens"),
    "black_share empty": (lambda: fm.black_share(TOK[:0], 8), ValueError, "tokens"),
    "grid_tv": (lambda: fm.grid_tv(TOK.float(), 8), TypeError, "tokens"),
    "grid_tv V": (lambda: fm.grid_tv(TOK, 5), ValueError, "V"),
    "tv_noise_floor": (lambda: fm.tv_noise_floor(0, 8), ValueError, "n"),
    "tv_noise_floor two_sample": (lambda: fm.tv_noise_floor(10, 8, two_sample=1), TypeError, "two_sample"),
    "discrete_loss": (lambda: fm.discrete_loss(NET, TOK, MASKED, 0.5), ValueError, "x_1"),
    "discrete_loss x_t": (lambda: fm.discrete_loss(NET, OUT, TOK, 0.5), ValueError, "x_t"),
    "discrete_loss model": (lambda: fm.discrete_loss(fm.VelocityMLP(), TOK, TOK, 0.5), TypeError, "model"),
    "train_discrete": (lambda: fm.train_discrete(fm.DiscreteMLP(V=16, hidden=8, n_layers=1), SMOKE), ValueError, "V"),
    "train_discrete recipe": (lambda: fm.train_discrete(NET, fm.DEFAULT_RECIPE), TypeError, "recipe"),
    "train_discrete source": (lambda: fm.train_discrete(NET, SMOKE, source="noise"), ValueError, "source"),
    "grid_entropy": (lambda: fm.grid_entropy(6), ValueError, "V"),
    "law_cross_entropy": (lambda: fm.law_cross_entropy(-fm.grid_law(8), 8), ValueError, "law"),
    "law_cross_entropy shape": (lambda: fm.law_cross_entropy(fm.grid_law(8), 16), ValueError, "law"),
    "negative_elbo": (lambda: fm.negative_elbo(fm.VelocityMLP(), V=8), TypeError, "model"),
    "negative_elbo V": (lambda: fm.negative_elbo(NET, V=16), ValueError, "V"),
    "negative_elbo schedule": (lambda: fm.negative_elbo(schedule="cubic", V=8), ValueError, "schedule"),
    "negative_elbo n_nodes": (lambda: fm.negative_elbo(V=8, n_nodes=0), ValueError, "n_nodes"),
}
test_bad_input = table_test(BAD)


def test_a_mask_token_is_refused_by_name_where_the_source_has_none():
    raises_here(lambda: fm.exact_rate(MASKED, 0.5, source="uniform", V=8), ValueError, "mask token")
