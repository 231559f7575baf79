"""The two distributions of the lesson: the source pi_0 (standard Gaussian) and the target pi_1
(a 2-D checkerboard, uniform on the black cells of a grid_size x grid_size grid on
[-scale, scale]^2, a cell being black when column + row is odd)."""

from __future__ import annotations

from typing import Any

import torch

from ._checks import check_count, check_points, check_positive, resolve_device


def _check_board(grid_size: Any, scale: Any) -> tuple[int, float]:
    grid_size = check_count("grid_size", grid_size, minimum=2)
    return grid_size, check_positive("scale", scale)


def black_cells(*, grid_size: int = 4, scale: float = 2.0) -> torch.Tensor:
    """Lower-left corners of the black cells, float64 of shape (K, 2) with K = floor(grid_size^2 / 2).

    A cell in column c and row r (both counted from 0 at -scale) is black when c + r is odd.
    Its side is 2 * scale / grid_size.
    """
    grid_size, scale = _check_board(grid_size, scale)
    side = 2 * scale / grid_size
    idx = torch.arange(grid_size)
    col, row = torch.meshgrid(idx, idx, indexing="xy")
    black = (col + row) % 2 == 1
    corners = torch.stack([col[black], row[black]], dim=1).to(torch.float64)
    return -scale + side * corners


def sample_gaussian(n: int, *, generator: torch.Generator | None = None, device: Any = None) -> torch.Tensor:
    """Draw n points from pi_0 = N(0, I_2).

    Returns:
        float32 tensor of shape (n, 2).
    """
    n = check_count("n", n)
    device = resolve_device(device)
    gen_device = generator.device if generator is not None else device
    return torch.randn(n, 2, generator=generator, device=gen_device).to(device)


def sample_checkerboard(
    n: int,
    *,
    grid_size: int = 4,
    scale: float = 2.0,
    generator: torch.Generator | None = None,
    device: Any = None,
) -> torch.Tensor:
    """Draw n points from pi_1, exactly and without a rejection loop.

    Each point picks one black cell uniformly at random, then a uniform position inside it.

    Returns:
        float32 tensor of shape (n, 2).
    """
    n = check_count("n", n)
    grid_size, scale = _check_board(grid_size, scale)
    device = resolve_device(device)
    gen_device = generator.device if generator is not None else device
    corners = black_cells(grid_size=grid_size, scale=scale).to(torch.float32).to(gen_device)
    side = 2 * scale / grid_size
    cell = torch.randint(len(corners), (n,), generator=generator, device=gen_device)
    offset = torch.rand(n, 2, generator=generator, device=gen_device) * side
    return (corners[cell] + offset).to(device)


def in_checkerboard(x: torch.Tensor, *, grid_size: int = 4, scale: float = 2.0) -> torch.Tensor:
    """Which points lie on a black cell (the support of pi_1).

    Args:
        x: points, shape (n, 2).

    Returns:
        bool tensor of shape (n,).
    """
    check_points("x", x)
    grid_size, scale = _check_board(grid_size, scale)
    side = 2 * scale / grid_size
    inside = ((x >= -scale) & (x <= scale)).all(dim=1)
    cell = torch.floor((x + scale) / side).clamp(0, grid_size - 1).long()
    return inside & ((cell[:, 0] + cell[:, 1]) % 2 == 1)


def checkerboard_density(x: torch.Tensor, *, grid_size: int = 4, scale: float = 2.0) -> torch.Tensor:
    """Density of pi_1 at x: 1 / (area of the black cells) on the support, 0 elsewhere.

    Args:
        x: points, shape (n, 2).

    Returns:
        tensor of shape (n,), dtype of x.
    """
    mask = in_checkerboard(x, grid_size=grid_size, scale=scale)
    n_black = (grid_size * grid_size) // 2
    area = n_black * (2 * scale / grid_size) ** 2
    return mask.to(x.dtype) / area
