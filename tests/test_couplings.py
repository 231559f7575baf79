"""Couplings: the OT pairing is optimal and keeps both marginals; the batch draw every trainer uses."""

import itertools

import pytest
import torch

import fmhelpers as fm
from badinput import EMPTY, GOOD, points_test, table_test
from fmhelpers.couplings import data_source, draw_batch


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
    assert torch.equal(fm.couple(x_0, x_1, "independent"), x_1)
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




def test_the_pairing_is_a_permutation_the_coupling_applies(gen):
    x_0, x_1 = fm.sample_gaussian(64, generator=gen), fm.sample_checkerboard(64, generator=gen)
    perm = fm.pairing(x_0, x_1, "ot", block_size=16)
    assert sorted(perm.tolist()) == list(range(64))
    assert torch.equal(fm.couple(x_0, x_1, "ot", block_size=16), x_1[perm])
    assert torch.equal(fm.pairing(x_0, x_1), torch.arange(64))
    assert set(fm.COUPLINGS) == {"independent", "ot", "pairs"}


def test_the_batch_draw_is_the_documented_sequence_of_draws():
    """x_0, then x_1, from one generator; the coupling reorders x_1 and its labels together."""
    source = data_source()
    batch = draw_batch(32, source, torch.Generator().manual_seed(3), coupling="ot", ot_block=16, labels=True)
    g = torch.Generator().manual_seed(3)
    x_0, x_1 = fm.sample_gaussian(32, generator=g), fm.sample_checkerboard(32, generator=g)
    assert torch.equal(batch.x_0, x_0)
    assert torch.equal(batch.x_1, fm.couple(x_0, x_1, "ot", block_size=16))
    assert torch.equal(batch.labels, fm.black_cell_index(batch.x_1))


def test_a_data_set_and_given_pairs_are_sources_too(gen):
    points, labels = torch.randn(50, 64, generator=gen), torch.arange(50) % 10
    batch = draw_batch(20, data_source(data=(points, labels)), torch.Generator().manual_seed(0), labels=True)
    assert batch.x_0.shape == (20, 64) and batch.x_1.shape == (20, 64)
    rows = [int((points == row).all(dim=1).nonzero()) for row in batch.x_1]
    assert torch.equal(batch.labels, labels[rows])
    pairs = (torch.randn(30, 2, generator=gen), torch.randn(30, 2, generator=gen))
    batch = draw_batch(10, data_source(pairs=pairs), torch.Generator().manual_seed(0), coupling="pairs")
    for a, b in zip(batch.x_0, batch.x_1):
        i = int((pairs[0] == a).all(dim=1).nonzero())
        assert torch.equal(pairs[1][i], b)


def test_every_coupling_trains_differently():
    """Two steps of training with each entry of COUPLINGS ("pairs" on given pairs): every pair of runs
    differs, so an entry wired to another's pairing fails here."""
    g = torch.Generator().manual_seed(8)
    pairs = (fm.sample_gaussian(256, generator=g), fm.sample_checkerboard(256, generator=g))
    losses = {}
    for name, coupling in fm.COUPLINGS.items():
        result = fm.train(fm.VelocityMLP(hidden=16, n_layers=1), n_iterations=2, batch_size=64, progress=False,
                          coupling=name, target="conditional", pairs=pairs if coupling.needs_pairs else None)
        losses[name] = result.losses
    names = sorted(losses)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert losses[a] != losses[b], (a, b)
    source = data_source()
    perms = {name: draw_batch(64, source, torch.Generator().manual_seed(2), coupling=name).x_1
             for name, c in fm.COUPLINGS.items() if not c.needs_pairs}
    assert not torch.equal(perms["independent"], perms["ot"])


def test_a_drawn_label_is_the_cell_of_its_point():
    """The sampler returns the cells it drew, so a step needs no black_cell_index to recover them."""
    batch = draw_batch(4096, data_source(), torch.Generator().manual_seed(4), labels=True)
    assert torch.equal(batch.labels, fm.black_cell_index(batch.x_1))
    x, cells = fm.sample_checkerboard(4096, generator=torch.Generator().manual_seed(5), return_cells=True)
    assert torch.equal(cells, fm.black_cell_index(x))
    assert torch.equal(x, fm.sample_checkerboard(4096, generator=torch.Generator().manual_seed(5)))


BAD = {
    "couple": (lambda: fm.couple(GOOD, GOOD, "sinkhorn"), ValueError, "coupling"),
    "draw_batch labels": (lambda: fm.draw_batch(4, data_source(), torch.Generator(), labels="yes"), TypeError,
                          "labels"),  # was accepted
    "draw_batch ot_block": (lambda: fm.draw_batch(4, data_source(), torch.Generator(), coupling="ot", ot_block=0),
                            ValueError, "ot_block"),  # was not checked
    "draw_batch pairs": (lambda: fm.draw_batch(4, data_source(), torch.Generator(), coupling="pairs"), ValueError,
                         "pairs"),
    "couple empty": (lambda: fm.couple(EMPTY, EMPTY, "ot"), ValueError, "x_0"),  # was "range() arg 3 must not be zero"
    "couple block": (lambda: fm.couple(GOOD, GOOD, "ot", block_size=0), ValueError, "block_size"),
    "ot_permutation": (lambda: fm.ot_permutation(GOOD, GOOD[:1]), ValueError, "x_0 and x_1"),
    "pairing": (lambda: fm.pairing(GOOD, torch.zeros(2, 3)), ValueError, "x_0 and x_1"),
    "draw_batch": (lambda: fm.draw_batch(4, "board", torch.Generator()), TypeError, "source"),
    "draw_batch n": (lambda: fm.draw_batch(0, data_source(), torch.Generator()), ValueError, "n"),
    "draw_batch coupling": (lambda: fm.draw_batch(4, data_source(), torch.Generator(), coupling="sinkhorn"), ValueError,
                            "coupling"),
    "data_source empty": (lambda: data_source(data=torch.zeros(0, 2)), ValueError, "data"),
    "data_source both": (lambda: data_source(data=GOOD, pairs=(GOOD, GOOD)), ValueError, "data"),
    "data_source pairs": (lambda: data_source(pairs=(GOOD, torch.zeros(3, 2))), ValueError, "pairs"),
    "data_source labels": (lambda: data_source(data=(GOOD, torch.zeros(2))), TypeError, "labels"),
    "data_source labels shape": (lambda: data_source(data=(GOOD, torch.zeros(3, dtype=torch.long))), ValueError,
                                 "labels"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "couple": lambda bad: fm.couple(bad, GOOD, "ot"),
    "ot_permutation": lambda bad: fm.ot_permutation(GOOD, bad),
})
