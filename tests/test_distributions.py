import math

import pytest
import torch

import fmhelpers as fm


def test_gaussian_shape_dtype_and_moments(gen):
    x = fm.sample_gaussian(50_000, generator=gen)
    assert x.shape == (50_000, 2) and x.dtype == torch.float32
    assert x.mean(0).abs().max() < 0.02
    cov = torch.cov(x.T)
    assert torch.allclose(cov, torch.eye(2), atol=0.03)


def test_checkerboard_all_points_on_black_cells(gen):
    x = fm.sample_checkerboard(20_000, generator=gen)
    assert x.shape == (20_000, 2) and x.dtype == torch.float32
    assert fm.in_checkerboard(x).all()
    assert x.abs().max() <= 2.0


def test_checkerboard_black_cells_follow_the_writeups_xor_rule():
    # cell (column gx, row gy) is black when gx % 2 xor gy % 2, i.e. gx + gy odd
    corners = fm.black_cells(board=fm.Board(grid_size=4, scale=2.0))
    cells = {(int(c), int(r)) for c, r in ((corners + 2.0) / 1.0).round().tolist()}
    expected = {(gx, gy) for gx in range(4) for gy in range(4) if (gx % 2) ^ (gy % 2)}
    assert cells == expected


def test_checkerboard_cells_are_equally_likely_and_uniform_inside(gen):
    n = 80_000
    x = fm.sample_checkerboard(n, generator=gen).double()
    cell = torch.floor(x + 2.0).long()
    counts = torch.bincount(cell[:, 0] * 4 + cell[:, 1], minlength=16).double()
    black = counts[counts > 0]
    assert len(black) == 8
    expected, sd = n / 8, math.sqrt(n / 8 * 7 / 8)
    assert (black - expected).abs().max() < 5 * sd
    frac = x - torch.floor(x)  # position inside the cell: uniform on [0, 1)
    assert abs(frac.mean().item() - 0.5) < 0.01 and abs(frac.var().item() - 1 / 12) < 0.003


def test_other_grid_and_scale(gen):
    board = fm.Board(grid_size=6, scale=3.0)
    x = fm.sample_checkerboard(5_000, board=board, generator=gen)
    assert fm.in_checkerboard(x, board=board).all()
    assert x.abs().max() <= 3.0


def test_seeded_samples_are_identical_and_seeds_differ():
    a = fm.sample_checkerboard(100, generator=torch.Generator().manual_seed(7))
    b = fm.sample_checkerboard(100, generator=torch.Generator().manual_seed(7))
    c = fm.sample_checkerboard(100, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(fm.sample_gaussian(5, generator=torch.Generator().manual_seed(3)),
                       fm.sample_gaussian(5, generator=torch.Generator().manual_seed(3)))


def test_zero_samples():
    assert fm.sample_checkerboard(0).shape == (0, 2)
    assert fm.sample_gaussian(0).shape == (0, 2)


def test_in_checkerboard_known_points():
    pts = torch.tensor([[-1.5, -0.5], [-1.5, -1.5], [0.5, -0.5], [2.5, 0.5], [-0.5, 1.5]])
    assert fm.in_checkerboard(pts).tolist() == [True, False, True, False, False]
    assert fm.in_checkerboard(torch.tensor([[1.5, 0.5]])).tolist() == [True]


def test_density_integrates_to_one():
    g = torch.linspace(-2.5, 2.5, 501, dtype=torch.float64)[:-1] + 0.005
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    p = fm.checkerboard_density(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1))
    assert abs(p.sum().item() * 0.01**2 - 1.0) < 1e-9
    assert set(p.unique().tolist()) == {0.0, 1 / 8}


@pytest.mark.parametrize(
    "call, error, word",
    [
        (lambda: fm.sample_checkerboard(-1), ValueError, "n"),
        (lambda: fm.sample_checkerboard(2.5), TypeError, "n"),
        (lambda: fm.sample_gaussian(-3), ValueError, "n"),
        (lambda: fm.Board(grid_size=1), ValueError, "grid_size"),
        (lambda: fm.Board(scale=0.0), ValueError, "scale"),
        (lambda: fm.Board(scale=float("nan")), ValueError, "scale"),
        (lambda: fm.sample_checkerboard(10, board=(4, 2.0)), TypeError, "board"),
        (lambda: fm.in_checkerboard(torch.zeros(3, 3)), ValueError, "x"),
        (lambda: fm.in_checkerboard(torch.tensor([[float("nan"), 0.0]])), ValueError, "x"),
        (lambda: fm.checkerboard_density([[0.0, 0.0]]), TypeError, "x"),
        (lambda: fm.sample_gaussian(3, device="not-a-device"), ValueError, "device"),
    ],
)
def test_bad_input_names_the_argument(call, error, word):
    with pytest.raises(error, match=rf"\b{word}\b"):
        call()
