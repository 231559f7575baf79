import math

import pytest
import torch

import fmhelpers as fm


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


def test_loss_floor_is_positive_and_stable():
    a = fm.loss_floor(n=100_000, generator=torch.Generator().manual_seed(0))
    b = fm.loss_floor(n=100_000, generator=torch.Generator().manual_seed(1))
    assert 2.0 < a < 5.0 and abs(a - b) < 0.05


@pytest.mark.parametrize(
    "call, error, word",
    [
        (lambda: fm.in_support_fraction(torch.zeros(0, 2)), ValueError, "x"),
        (lambda: fm.sliced_wasserstein(torch.zeros(3, 2), torch.zeros(3)), ValueError, "y"),
        (lambda: fm.sliced_wasserstein(torch.zeros(3, 2), torch.zeros(3, 2), n_projections=0), ValueError, "n_projections"),
        (lambda: fm.histogram_tv(torch.zeros(3, 2), bins=0), ValueError, "bins"),
        (lambda: fm.loss_floor(n=0), ValueError, "n"),
    ],
)
def test_bad_input_names_the_argument(call, error, word):
    with pytest.raises(error, match=rf"\b{word}\b"):
        call()


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
        fm.loss_floor(n=100, target="exact")


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
