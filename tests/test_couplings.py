"""Couplings: the OT pairing is optimal, reflow pairs come from the model, coupled recipes train."""

import itertools

import pytest
import torch

import fmhelpers as fm


def _brute_force_cost(x_0, x_1):
    return min(float((x_0 - x_1[list(p)]).pow(2).sum()) for p in itertools.permutations(range(len(x_0))))


@pytest.mark.parametrize("seed", range(4))
def test_ot_pairing_is_the_brute_force_optimum_on_tiny_batches(seed):
    g = torch.Generator().manual_seed(seed)
    x_0, x_1 = fm.sample_gaussian(7, generator=g), fm.sample_checkerboard(7, generator=g)
    perm = fm.ot_permutation(x_0, x_1)
    assert sorted(perm.tolist()) == list(range(7)) and perm.dtype == torch.int64
    cost = float((x_0 - x_1[perm]).pow(2).sum())
    assert cost == pytest.approx(_brute_force_cost(x_0, x_1), rel=1e-6)
    assert cost < float((x_0 - x_1).pow(2).sum())  # the identity pairing costs more


def test_ot_coupling_costs_less_and_keeps_both_marginals(gen):
    x_0, x_1 = fm.sample_gaussian(256, generator=gen), fm.sample_checkerboard(256, generator=gen)
    paired = fm.couple(x_0, x_1, "ot")
    assert fm.pairing_cost(x_0, paired) < 0.2 * fm.pairing_cost(x_0, x_1)
    assert torch.equal(paired[paired[:, 0].argsort()], x_1[x_1[:, 0].argsort()])  # a reordering of x_1
    assert fm.couple(x_0, x_1, "independent") is x_1
    # optimal pairs of squared cost never meet at the same time; in the plane a few still cross
    crossings_ot = fm.count_crossings(torch.stack([x_0[:60], fm.couple(x_0[:60], x_1[:60], "ot")]))
    crossings_independent = fm.count_crossings(torch.stack([x_0[:60], x_1[:60]]))
    assert crossings_independent > 100 and crossings_ot < 0.1 * crossings_independent


def test_blocks_are_each_a_permutation_of_their_own_rows(gen):
    x_0, x_1 = fm.sample_gaussian(100, generator=gen), fm.sample_checkerboard(100, generator=gen)
    paired = fm.couple(x_0, x_1, "ot", block_size=32)
    for start in range(0, 100, 32):
        block, original = paired[start:start + 32], x_1[start:start + 32]
        assert torch.equal(block[block[:, 0].argsort()], original[original[:, 0].argsort()])
        assert fm.pairing_cost(x_0[start:start + 32], block) == pytest.approx(
            fm.pairing_cost(x_0[start:start + 32], fm.couple(x_0[start:start + 32], original, "ot")))


def test_flow_pairs_come_from_the_given_model():
    model = fm.VelocityMLP()
    x_0, x_1 = fm.flow_pairs(model, 300, n_steps=4, solver="rk4", batch_size=128, generator=torch.Generator().manual_seed(1))
    assert torch.equal(x_0, fm.sample_gaussian(300, generator=torch.Generator().manual_seed(1)))
    assert torch.allclose(x_1, fm.rk4(model, x_0, 4), atol=1e-6)
    other = fm.VelocityMLP(seed=1)
    assert not torch.allclose(x_1, fm.rk4(other, x_0, 4), atol=1e-3)


def test_training_on_pairs_learns_their_velocity():
    """Pairs x_1 = x_0 + c: the flow is straight with velocity c, so one Euler step is exact."""
    x_0 = fm.sample_gaussian(2000, generator=torch.Generator().manual_seed(2))
    shift = torch.tensor([1.0, -0.5])
    result = fm.train(fm.VelocityMLP(), coupling="pairs", target="conditional", pairs=(x_0, x_0 + shift),
                      n_iterations=300, batch_size=256, time_sampling="uniform", progress=False)
    probe = fm.sample_gaussian(200, generator=torch.Generator().manual_seed(3))
    assert (fm.euler(result.model, probe, 1) - (probe + shift)).norm(dim=1).mean() < 0.1
    assert fm.straightness(result.model, probe, n_steps=8) < 0.01


def test_reflow_warm_starts_from_the_model_and_times_the_pairs():
    base = fm.train(fm.VelocityMLP(), n_iterations=50, progress=False).model
    result = fm.reflow(base, n_pairs=500, n_iterations=2, lr=1e-9, progress=False)
    probe = fm.sample_gaussian(50, generator=torch.Generator().manual_seed(4))
    assert result.model is not base and result.pair_seconds > 0
    assert torch.allclose(result.model(probe, 0.3), base(probe, 0.3), atol=1e-4)  # a copy, barely moved
    assert result.recipe.coupling == "pairs" and result.recipe.time_sampling == "two-step"
    cold = fm.reflow(base, n_pairs=500, n_iterations=2, lr=1e-9, warm_start=False, progress=False)
    assert not torch.allclose(cold.model(probe, 0.3), base(probe, 0.3), atol=1e-2)


def test_ot_recipe_trains_and_refuses_the_minibatch_target():
    result = fm.train(fm.VelocityMLP(), fm.OT_RECIPE, n_iterations=5, progress=False)
    assert len(result.losses) == 5 and result.recipe.coupling == "ot"
    with pytest.raises(ValueError, match="minibatch"):
        fm.Recipe(coupling="ot")
    with pytest.raises(ValueError, match="pairs"):
        fm.train(fm.VelocityMLP(), coupling="pairs", target="conditional", n_iterations=2, progress=False)
    with pytest.raises(ValueError, match="pairs"):
        fm.train(fm.VelocityMLP(), n_iterations=2, pairs=(torch.zeros(4, 2), torch.zeros(4, 2)), progress=False)


def test_older_stored_recipes_load_as_independent():
    stored = fm.DEFAULT_RECIPE.to_dict()
    del stored["coupling"], stored["ot_block"]
    assert fm.Recipe.from_dict(stored) == fm.DEFAULT_RECIPE


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


def test_two_step_times(gen):
    t = fm.sample_time(40_000, "two-step", generator=gen)
    assert (t == 0).float().mean() == pytest.approx(0.25, abs=0.01)
    assert (t == 0.5).float().mean() == pytest.approx(0.25, abs=0.01)
    assert t.min() >= 0 and t.max() <= 1
