"""The two distributions of the lesson: the source pi_0 (standard Gaussian) and the target pi_1
(a 2-D checkerboard, uniform on the black cells of a grid_size x grid_size grid on
[-scale, scale]^2, a cell being black when column + row is odd).

The board travels as one object, `Board`; `BOARD` is the course's (4 x 4 on [-2, 2]^2), the
default of every function that takes `board=`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ._checks import check_count, check_flag, check_generator, check_points, check_positive, resolve_device

SCALE_RANGE = (1e-6, 1e6)  # a board far outside this underflows its density or overflows float32 samples


@dataclass(frozen=True)
class Board:
    """A checkerboard: `grid_size` x `grid_size` cells on [-scale, scale]^2, black where column + row is odd."""

    grid_size: int = 4
    scale: float = 2.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid_size", check_count("grid_size", self.grid_size, minimum=2))
        scale = check_positive("scale", self.scale)
        if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
            raise ValueError(f"scale must lie in [{SCALE_RANGE[0]:g}, {SCALE_RANGE[1]:g}] (the half-width of the "
                             f"board; its density and float32 samples stay finite there), got {scale:g}")
        object.__setattr__(self, "scale", scale)

    @property
    def side(self) -> float:
        """Side length of one cell."""
        return 2 * self.scale / self.grid_size

    @property
    def n_classes(self) -> int:
        """The number of classes a label can take: one per black cell (notebook 10)."""
        return self.n_black

    @property
    def n_black(self) -> int:
        """Number of black cells, floor(grid_size^2 / 2)."""
        return (self.grid_size * self.grid_size) // 2

    @property
    def density_value(self) -> float:
        """The density of pi_1 on a black cell: 1 / (total black area)."""
        return 1.0 / (self.n_black * self.side**2)

    def black_cells(self) -> torch.Tensor:
        """Lower-left corners of the black cells, float64 of shape (n_black, 2)."""
        idx = torch.arange(self.grid_size)
        col, row = torch.meshgrid(idx, idx, indexing="xy")
        black = (col + row) % 2 == 1
        corners = torch.stack([col[black], row[black]], dim=1).to(torch.float64)
        return -self.scale + self.side * corners


BOARD = Board()


def check_board(board: Any) -> Board:
    """`board` if it is a Board, else a TypeError that says how to make one."""
    if not isinstance(board, Board):
        raise TypeError(f"board must be an fm.Board (e.g. fm.Board(grid_size=4, scale=2.0)), got {type(board).__name__}")
    return board


def black_cells(*, board: Board = BOARD) -> torch.Tensor:
    """Lower-left corners of the black cells, float64 of shape (K, 2) with K = floor(grid_size^2 / 2).

    A cell in column c and row r (both counted from 0 at -scale) is black when c + r is odd.
    Its side is 2 * scale / grid_size.
    """
    return check_board(board).black_cells()


def _generator_device(generator: torch.Generator | None, device: Any) -> tuple[torch.device, torch.device]:
    generator = check_generator("generator", generator)
    device = resolve_device(device)
    return device, (generator.device if generator is not None else device)


def sample_gaussian(n: int, *, dim: int = 2, generator: torch.Generator | None = None, device: Any = None) -> torch.Tensor:
    """Draw n points from pi_0 = N(0, I_dim).

    Args:
        n: number of points (>= 0).
        dim: the dimension (2 on the board; 64 for 8 x 8 images).
        generator: a seeded `torch.Generator` for reproducible draws (None: the global RNG).
        device: where the points go (None: the CPU).

    Returns:
        float32 tensor of shape (n, dim).
    """
    n = check_count("n", n)
    dim = check_count("dim", dim, minimum=1)
    device, gen_device = _generator_device(generator, device)
    return raw_gaussian(n, dim, generator, gen_device).to(device)


def raw_gaussian(n: int, dim: int, generator: torch.Generator | None, device: Any = None) -> torch.Tensor:
    """`sample_gaussian`'s core, no checks (a training step calls it): float32 (n, dim) on the
    generator's device (or `device`)."""
    return torch.randn(n, dim, generator=generator, device=device)


def sample_checkerboard(
    n: int, *, board: Board = BOARD, generator: torch.Generator | None = None, device: Any = None,
    return_cells: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Draw n points from pi_1, exactly and without a rejection loop.

    Each point picks one black cell uniformly at random, then a uniform position inside it.

    Returns:
        float32 tensor of shape (n, 2); with return_cells=True also the black cell each point was
        drawn in, int64 (n,) (its row in `board.black_cells()`: the label `black_cell_index` gives).
    """
    n = check_count("n", n)
    board = check_board(board)
    check_flag("return_cells", return_cells)
    device, gen_device = _generator_device(generator, device)
    points, cells = raw_checkerboard(n, board, generator, gen_device)
    return (points.to(device), cells.to(device)) if return_cells else points.to(device)


def raw_checkerboard(n: int, board: Board, generator: torch.Generator | None,
                     device: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    """`sample_checkerboard`'s core, no checks: (points float32 (n, 2), the black cell each was drawn
    in, int64 (n,): its row in `board.black_cells()`, the label `black_cell_index` gives)."""
    corners = board.black_cells().to(torch.float32).to(device)
    cell = torch.randint(len(corners), (n,), generator=generator, device=device)
    offset = torch.rand(n, 2, generator=generator, device=device) * board.side
    return corners[cell] + offset, cell


def in_checkerboard(x: torch.Tensor, *, board: Board = BOARD) -> torch.Tensor:
    """Which points lie on a black cell (the support of pi_1).

    Args:
        x: points, shape (n, 2).

    Returns:
        bool tensor of shape (n,).
    """
    return black_cell_index(x, board=board) >= 0


def black_cell_index(x: torch.Tensor, *, board: Board = BOARD) -> torch.Tensor:
    """The black cell each point lies in, as its row in `board.black_cells()`; -1 off the board.

    This is the label (class) of a target sample in notebook 10: 0 .. n_black - 1.

    Args:
        x: points, shape (n, 2).

    Returns:
        int64 tensor of shape (n,).
    """
    check_points("x", x)
    board = check_board(board)
    inside = ((x >= -board.scale) & (x <= board.scale)).all(dim=1)
    cell = torch.floor((x + board.scale) / board.side).clamp(0, board.grid_size - 1).long()
    col, row = cell[:, 0], cell[:, 1]
    black = inside & ((col + row) % 2 == 1)
    index = _black_rank(board)[row.clamp(0, board.grid_size - 1), col.clamp(0, board.grid_size - 1)].to(x.device)
    return torch.where(black, index, torch.full_like(index, -1))


def _black_rank(board: Board) -> torch.Tensor:
    """(grid_size, grid_size) table [row, column] -> the cell's row in black_cells() (-1 for white)."""
    corners = board.black_cells()
    cells = torch.round((corners + board.scale) / board.side).long()  # (K, 2) as (column, row)
    table = torch.full((board.grid_size, board.grid_size), -1, dtype=torch.long)
    table[cells[:, 1], cells[:, 0]] = torch.arange(len(cells))
    return table


def checkerboard_density(x: torch.Tensor, *, board: Board = BOARD) -> torch.Tensor:
    """Density of pi_1 at x: 1 / (area of the black cells) on the support, 0 elsewhere.

    Args:
        x: points, shape (n, 2).

    Returns:
        tensor of shape (n,), dtype of x.
    """
    mask = in_checkerboard(x, board=board)
    return mask.to(x.dtype) * board.density_value
