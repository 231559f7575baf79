"""pi_0 and pi_1: the samplers, the board, its density and the label of a point (fmhelpers.distributions)."""

import math

import pytest
import torch

import fmhelpers as fm
from badinput import GOOD, device_test, generator_test, points_test, table_test


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


def test_gaussian_in_any_dimension(gen):
    x = fm.sample_gaussian(20_000, dim=64, generator=gen)
    assert x.shape == (20_000, 64) and abs(float(x.var()) - 1) < 0.02


def test_black_cell_index_is_the_row_of_black_cells(gen):
    x = fm.sample_checkerboard(4000, generator=gen)
    index = fm.black_cell_index(x)
    corners = fm.black_cells().float()
    assert index.dtype == torch.int64 and index.min() == 0 and index.max() == 7
    inside = (x >= corners[index]) & (x <= corners[index] + fm.BOARD.side)
    assert inside.all()
    off = torch.tensor([[-1.5, -1.5], [2.5, 0.0], [0.5, 0.5]])  # a white cell, off the board, a white cell
    assert fm.black_cell_index(off).tolist() == [-1, -1, -1]
    big = fm.Board(grid_size=6, scale=3.0)
    y = fm.sample_checkerboard(2000, board=big, generator=gen)
    assert sorted(fm.black_cell_index(y, board=big).unique().tolist()) == list(range(18))


def test_a_board_of_extreme_scale_is_refused_before_it_breaks():
    assert fm.Board(scale=1e-6).density_value > 0 and fm.Board(scale=1e6).density_value > 0
    assert torch.isfinite(fm.sample_checkerboard(100, board=fm.Board(scale=1e6))).all()


BAD = {
    "Board": (lambda: fm.Board(grid_size=4.5), TypeError, "grid_size"),
    "Board grid_size 1": (lambda: fm.Board(grid_size=1), ValueError, "grid_size"),
    "Board scale 0": (lambda: fm.Board(scale=0.0), ValueError, "scale"),
    "Board scale NaN": (lambda: fm.Board(scale=float("nan")), ValueError, "scale"),
    "Board scale 1e-300": (lambda: fm.Board(scale=1e-300), ValueError, "scale"),  # its density was 1/0
    "Board scale 1e300": (lambda: fm.Board(scale=1e300), ValueError, "scale"),  # its samples were inf
    "black_cells": (lambda: fm.black_cells(board="4x4"), TypeError, "board"),
    "black_cell_index": (lambda: fm.black_cell_index(GOOD, board=None), TypeError, "board"),
    "checkerboard_density": (lambda: fm.checkerboard_density(GOOD, board=None), TypeError, "board"),
    "checkerboard_density list": (lambda: fm.checkerboard_density([[0.0, 0.0]]), TypeError, "x"),
    "in_checkerboard": (lambda: fm.in_checkerboard(GOOD, board=fm.Board), TypeError, "board"),
    "sample_checkerboard": (lambda: fm.sample_checkerboard(-1), ValueError, "n"),
    "sample_checkerboard float": (lambda: fm.sample_checkerboard(2.5), TypeError, "n"),
    "sample_checkerboard board": (lambda: fm.sample_checkerboard(10, board=(4, 2.0)), TypeError, "board"),
    "sample_checkerboard return_cells": (lambda: fm.sample_checkerboard(3, return_cells="yes"), TypeError, "return_cells"),
    "sample_gaussian": (lambda: fm.sample_gaussian(2.5), TypeError, "n"),
    "sample_gaussian negative": (lambda: fm.sample_gaussian(-3), ValueError, "n"),
    "sample_gaussian dim": (lambda: fm.sample_gaussian(3, dim=0), ValueError, "dim"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "in_checkerboard": lambda bad: fm.in_checkerboard(bad),
    "checkerboard_density": lambda bad: fm.checkerboard_density(bad),
    "black_cell_index": lambda bad: fm.black_cell_index(bad),
})
test_bad_generators = generator_test({
    "sample_gaussian": lambda g: fm.sample_gaussian(3, generator=g),
    "sample_checkerboard": lambda g: fm.sample_checkerboard(3, generator=g),
})
test_bad_devices = device_test({
    "sample_gaussian": lambda d: fm.sample_gaussian(3, device=d),
    "sample_checkerboard": lambda d: fm.sample_checkerboard(3, device=d),
})
