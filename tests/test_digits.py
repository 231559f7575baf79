"""The 8x8 digits, their judge and guided sampling (fmhelpers.digits), checked against scikit-learn's
own copy of the data, hand-built classifiers and fields computed by hand."""

from pathlib import Path

import numpy as np
import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, table_test
from fmhelpers import digits

CHECKPOINTS = Path(__file__).resolve().parents[1] / "notebooks" / "checkpoints"


def test_the_split_is_fixed_stratified_disjoint_and_covers_the_data_set():
    from sklearn.datasets import load_digits

    raw = load_digits()
    train, held = fm.load_digits("train"), fm.load_digits("held_out")
    everything = fm.load_digits("all")
    assert (len(train[0]), len(held[0]), len(everything[0])) == (1258, 539, 1797)
    assert torch.equal(everything[0], torch.from_numpy(raw.data / 8 - 1).float())  # p / 8 - 1, in the data's order
    assert torch.equal(everything[1], torch.from_numpy(raw.target))
    # every digit is in exactly one part: the rows of both parts, as pixel strings, are the data set's
    as_rows = lambda x: sorted(map(bytes, ((x.numpy() + 1) * 8).round().astype(np.uint8)))
    assert as_rows(torch.cat([train[0], held[0]])) == as_rows(everything[0])
    counts, held_counts = np.bincount(raw.target), torch.bincount(held[1]).numpy()
    assert (np.abs(held_counts - 0.3 * counts) <= 0.5).all()  # 30 % of each class, rounded
    again = fm.load_digits("train")
    assert torch.equal(again[0], train[0]) and torch.equal(again[1], train[1])
    train[0][0] = 5.0  # the caller's copy: the next call is unchanged
    assert fm.load_digits("train")[0].max() == 1.0 and fm.load_digits("train", dtype=torch.float64)[0].dtype == torch.float64


def test_the_judge_is_trained_with_fit_and_learns_a_separable_problem():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 2
    points = torch.randn(200, 6, generator=g) * 0.3 + (2 * labels[:, None] - 1).float()
    model = fm.ClassifierMLP(dim=6, n_classes=2, hidden=8, n_layers=1)
    result = fm.train_judge(points, labels, model=model, n_iterations=150, batch_size=32, progress=False)
    assert result.model is model and len(result.losses) == 150 and result.recipe.n_iterations == 150
    assert sum(result.losses[-10:]) < sum(result.losses[:10]) / 5
    assert fm.judge_accuracy(model, points, labels) == 1.0
    # the same run by hand through fm.fit: the one loop
    twin = fm.ClassifierMLP(dim=6, n_classes=2, hidden=8, n_layers=1)
    recipe = fm.JUDGE_RECIPE.replace(n_iterations=150, batch_size=32)

    def batch_loss(generator, device):
        rows = torch.randint(200, (32,), generator=generator)
        return torch.nn.functional.cross_entropy(twin(points[rows]), labels[rows])

    assert fm.fit(twin, batch_loss, recipe, progress=False).losses == result.losses


def test_matching_rows_have_the_class_counts_asked_for_without_repeats():
    labels = torch.tensor([0, 1, 1, 2, 2, 2, 0, 1, 2, 2])
    like = torch.tensor([2, 2, 1, 2])
    rows = fm.matching_rows(labels, like, generator=torch.Generator().manual_seed(0))
    assert sorted(labels[rows].tolist()) == [1, 2, 2, 2] and len(set(rows.tolist())) == 4
    again = fm.matching_rows(labels, like, generator=torch.Generator().manual_seed(0))
    other = [fm.matching_rows(labels, like, generator=torch.Generator().manual_seed(s)) for s in range(1, 6)]
    assert torch.equal(rows, again) and any(not torch.equal(rows, o) for o in other)


def test_judge_accuracy_counts_the_points_given_their_label():
    judge = fm.ClassifierMLP(dim=4, n_classes=5, hidden=3, n_layers=1)
    with torch.no_grad():  # a judge that says "3" to everything
        judge.net[-1].weight.zero_()
        judge.net[-1].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0]))
    labels = torch.tensor([3, 3, 1, 0, 3, 4, 2, 3])
    assert fm.judge_accuracy(judge, torch.randn(8, 4), labels) == 0.5
    assert fm.judge_accuracy(judge, torch.randn(8, 4, dtype=torch.float64), labels) == 0.5


def test_the_guided_field_is_the_unconditional_field_plus_w_times_the_difference(gen):
    model = fm.ConditionalMLP(n_classes=4, dim=5, hidden=16, n_layers=2)
    x, t = torch.randn(6, 5, generator=gen), torch.rand(6, 1, generator=gen)
    c = torch.tensor([0, 1, 2, 3, 0, 1])
    conditional, unconditional = model(x, t, c), model(x, t)
    assert torch.allclose(fm.guided_field(model, c, 0.0)(x, t), unconditional, atol=1e-6)
    assert torch.allclose(fm.guided_field(model, c, 1.0)(x, t), conditional, atol=1e-6)
    assert torch.allclose(fm.guided_field(model, c, 2.5)(x, t), unconditional + 2.5 * (conditional - unconditional),
                          atol=1e-5)
    assert torch.allclose(fm.guided_field(model, 2, 1.0)(x, 0.3), model(x, 0.3, 2), atol=1e-6)
    samples = fm.euler(fm.guided_field(model, c, 2.0), x, 4)  # what the solvers need: v(x, t) -> (n, d)
    assert samples.shape == (6, 5)


def test_the_committed_checkpoints_are_small_and_the_judge_is_good():
    flow, judge = fm.load_checkpoint(CHECKPOINTS / "digits.pt"), fm.load_checkpoint(CHECKPOINTS / "digits_judge.pt")
    assert (CHECKPOINTS / "digits.pt").stat().st_size <= 5 * 2**20
    assert flow.recipe == fm.DIGITS_RECIPE and flow.model.config == {**digits.DIGITS_MODEL}
    assert judge.recipe == fm.JUDGE_RECIPE and judge.model.config == {**digits.JUDGE_MODEL}
    x, y = fm.load_digits("held_out")
    assert fm.judge_accuracy(judge.model, x, y) >= 0.97


BAD = {
    "load_digits": (lambda: fm.load_digits("test"), ValueError, "split"),
    "load_digits dtype": (lambda: fm.load_digits(dtype=torch.int64), TypeError, "dtype"),
    "train_judge": (lambda: fm.train_judge(torch.zeros(4, 64), torch.zeros(4)), TypeError, "labels"),
    "train_judge classes": (lambda: fm.train_judge(torch.zeros(4, 64), torch.tensor([0, 1, 2, 10])), ValueError,
                            r"labels must lie in 0\.\.9"),  # quoted 0..10 with a 'no label' class a judge lacks
    "train_judge width": (lambda: fm.train_judge(GOOD, torch.zeros(2, dtype=torch.long)), ValueError, "points"),
    "train_judge model": (lambda: fm.train_judge(GOOD, torch.zeros(2, dtype=torch.long), model=fm.VelocityMLP()),
                          TypeError, "model"),
    "matching_rows": (lambda: fm.matching_rows(torch.tensor([0, 1]), torch.tensor([1, 1])), ValueError, "like"),
    "matching_rows float": (lambda: fm.matching_rows(torch.tensor([0.0, 1.0]), torch.tensor([1])), TypeError, "labels"),
    "matching_rows generator": (lambda: fm.matching_rows(torch.tensor([0, 1]), torch.tensor([1]), generator=3), TypeError,
                                "generator"),
    "judge_accuracy": (lambda: fm.judge_accuracy(fm.VelocityMLP(), GOOD, torch.zeros(2, dtype=torch.long)), TypeError,
                       "judge"),
    "judge_accuracy labels": (lambda: fm.judge_accuracy(fm.ClassifierMLP(dim=2), GOOD, torch.zeros(3, dtype=torch.long)),
                              ValueError, "labels"),
    "guided_field": (lambda: fm.guided_field(fm.VelocityMLP(), 1, 1.0), TypeError, "model"),
    "guided_field class": (lambda: fm.guided_field(fm.ConditionalMLP(n_classes=10, dim=64), 10, 1.0), ValueError, "c"),
    "guided_field w": (lambda: fm.guided_field(fm.ConditionalMLP(), 1, float("nan")), ValueError, "w"),
    "guided_field None": (lambda: fm.guided_field(fm.ConditionalMLP(), None, 1.0), TypeError, "c"),
    "guided_field points": (lambda: fm.guided_field(fm.ConditionalMLP(), torch.tensor([1, 2]), 1.0)(torch.zeros(3, 2), 0.5),
                            ValueError, "c"),
}
test_bad_input = table_test(BAD)


@pytest.mark.parametrize("split", ["train", "held_out"])
def test_pixel_values_are_in_the_unit_range(split):
    x, _ = fm.load_digits(split)
    assert x.min() == -1.0 and x.max() == 1.0 and x.shape[1] == 64
