"""Couplings: which x_1 each x_0 is paired with, and the one batch draw every trainer uses.

The loss of notebook 04 pairs x_0 ~ pi_0 and x_1 ~ pi_1 drawn apart: the *independent*
coupling. Any other joint law of (x_0, x_1) with the same two marginals also gives a flow from
pi_0 to pi_1, and some give straighter ones. A coupling here is one entry of the table `COUPLINGS`,
a `Coupling` whose `pairing(x_0, x_1, block_size) -> permutation` reorders the x_1 of a batch (a
permutation keeps both marginals: the x_0 and the x_1 of the batch are the same points as before):

- "independent": the batch as drawn;
- "ot", minibatch optimal transport: within each batch (or block of `block_size` rows), the
  pairing that minimises the total squared distance sum_i ||x_0^i - x_1^sigma(i)||^2 over
  permutations sigma, solved exactly by `scipy.optimize.linear_sum_assignment`;
- "pairs": rows of given pairs (reflow's, `fm.flow_pairs`), kept as they are; the entry says it
  needs a source of pairs: `draw_batch(n, data_source(pairs=(x_0, x_1)), g, coupling="pairs")`.

With coupled pairs, the regression target is the conditional velocity u_t = x_1 - x_0 of the
pair. The minibatch target of `fm.minibatch_target` assumes the independent coupling (its
weights are the posterior of x_1 given x_t under independence), so recipes refuse it with any
other coupling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ._checks import check_choice, check_count, check_flag, check_points
from .distributions import BOARD, Board, raw_checkerboard, raw_gaussian


def _check_pair(x_0: Any, x_1: Any) -> None:
    check_points("x_0", x_0, dim=None, min_rows=1)
    check_points("x_1", x_1, dim=None, min_rows=1)
    if x_0.shape != x_1.shape:
        raise ValueError(f"x_0 and x_1 must have the same shape, got {tuple(x_0.shape)} and {tuple(x_1.shape)}")


def ot_permutation(x_0: torch.Tensor, x_1: torch.Tensor) -> torch.Tensor:
    """The pairing of minimal total squared distance: x_1[perm][i] goes with x_0[i].

    Exact (`scipy.optimize.linear_sum_assignment` on the n x n table of squared distances, in
    float64), O(n^3) in the worst case: about a millisecond for n = 128 and tens of
    milliseconds for n = 512 on a laptop CPU.

    Returns:
        a permutation of range(n), int64, on the device of x_1.
    """
    _check_pair(x_0, x_1)
    return _ot(x_0, x_1)


def _ot(x_0: torch.Tensor, x_1: torch.Tensor) -> torch.Tensor:
    from scipy.optimize import linear_sum_assignment

    cost = torch.cdist(x_0.detach().double().cpu(), x_1.detach().double().cpu()).pow(2).numpy()
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=np.int64)
    perm[rows] = cols
    return torch.from_numpy(perm).to(x_1.device)


def _independent(x_0: torch.Tensor, x_1: torch.Tensor, block_size: int | None) -> torch.Tensor:
    return torch.arange(len(x_1), device=x_1.device)


def _ot_blocks(x_0: torch.Tensor, x_1: torch.Tensor, block_size: int | None) -> torch.Tensor:
    size = len(x_0) if block_size is None else block_size
    return torch.cat([start + _ot(x_0[start:start + size], x_1[start:start + size])
                      for start in range(0, len(x_0), size)])


@dataclass(frozen=True)
class Coupling:
    """One coupling: `pairing(x_0, x_1, block_size)` -> the permutation of the rows of x_1 that pairs
    them with x_0, and what the recipe must know of it.

    Attributes:
        pairing: the unchecked function.
        independent: the pairs are the product law (x_0 and x_1 drawn apart), the law the minibatch
            and exact targets assume.
        needs_pairs: the batch comes from given pairs (`fm.flow_pairs`), not from the board or a data
            set; the rows are already paired, so the pairing keeps them as they are.
    """

    pairing: Callable[[torch.Tensor, torch.Tensor, int | None], torch.Tensor]
    independent: bool = False
    needs_pairs: bool = False


# name -> Coupling: "independent" (the batch as drawn), "ot" (minibatch optimal transport, in blocks),
# "pairs" (rows of given pairs, kept as they are: reflow's)
COUPLINGS: dict[str, Coupling] = {
    "independent": Coupling(_independent, independent=True),
    "ot": Coupling(_ot_blocks),
    "pairs": Coupling(_independent, needs_pairs=True),
}


def pairing(x_0: torch.Tensor, x_1: torch.Tensor, coupling: str = "independent", *,
            block_size: int | None = None) -> torch.Tensor:
    """The permutation `perm` that pairs x_1[perm][i] with x_0[i] under `coupling` (see `COUPLINGS`).

    Args:
        x_0, x_1: (n, d) points, n >= 1.
        coupling: "independent" (perm is the identity), "ot" (minimal total squared distance) or
            "pairs" (the rows are given pairs: the identity).
        block_size: for "ot", solve the assignment within consecutive blocks of this many rows
            instead of the whole batch (cheaper: the exact solver's cost grows like n^3).
    """
    _check_pair(x_0, x_1)
    check_choice("coupling", coupling, tuple(COUPLINGS))
    if block_size is not None:
        block_size = check_count("block_size", block_size, minimum=1)
    return COUPLINGS[coupling].pairing(x_0, x_1, block_size)


def couple(x_0: torch.Tensor, x_1: torch.Tensor, coupling: str = "independent", *,
           block_size: int | None = None) -> torch.Tensor:
    """x_1 reordered so that row i pairs with x_0[i] under `coupling`: `x_1[pairing(...)]`."""
    return x_1[pairing(x_0, x_1, coupling, block_size=block_size)]


@dataclass
class Batch:
    """One training batch: paired rows x_0[i], x_1[i] and, for a labelled target, x_1's labels."""

    x_0: torch.Tensor
    x_1: torch.Tensor
    labels: torch.Tensor | None = None


@dataclass(frozen=True)
class Source:
    """Where a trainer's batches come from, checked once before the loop (`data_source`).

    Exactly one of: `board` (x_0 ~ N(0, I), x_1 ~ the board, labels = black-cell index), `data`
    (x_1 = rows of a data set drawn with replacement, with optional labels) or `pairs` (rows of given
    (x_0, x_1) pairs, drawn with replacement: reflow's).
    """

    board: Board | None = BOARD
    data: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    pairs: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def dim(self) -> int:
        if self.pairs is not None:
            return self.pairs[0].shape[1]
        return self.data.shape[1] if self.data is not None else 2

    @property
    def has_labels(self) -> bool:
        return self.board is not None or self.labels is not None


def data_source(*, board: Board = BOARD, data: Any = None, pairs: Any = None) -> Source:
    """The source of batches for a trainer, its input checked here once.

    Args:
        board: the checkerboard pi_1 (used when neither data nor pairs is given).
        data: a data set as the target pi_1: a tensor (m, d) of points, or a tuple (points, labels)
            with integer labels of shape (m,).
        pairs: (x_0, x_1), two tensors (m, d) whose rows are paired (e.g. `fm.flow_pairs` for reflow).
    """
    if data is not None and pairs is not None:
        raise ValueError("give data (points of pi_1) or pairs (rows of (x_0, x_1)), not both")
    if pairs is not None:
        if not isinstance(pairs, (tuple, list)) or len(pairs) != 2:
            raise TypeError(f"pairs must be a tuple (x_0, x_1) of two tensors, got {type(pairs).__name__}")
        check_points("pairs[0]", pairs[0], dim=None, min_rows=1)
        check_points("pairs[1]", pairs[1], dim=None, min_rows=1)
        if pairs[0].shape != pairs[1].shape:
            raise ValueError(f"pairs must hold as many x_0 as x_1, of one shape, got {tuple(pairs[0].shape)} "
                             f"and {tuple(pairs[1].shape)}")
        return Source(board=None, pairs=(pairs[0].detach().float(), pairs[1].detach().float()))
    if data is not None:
        labels = None
        if isinstance(data, (tuple, list)):
            if len(data) != 2:
                raise TypeError(f"data must be a tensor of points or a tuple (points, labels), got {len(data)} items")
            data, labels = data
        check_points("data", data, dim=None, min_rows=1)
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.dtype.is_floating_point or labels.dtype == torch.bool:
                raise TypeError(f"data's labels must be an integer tensor of shape ({len(data)},), "
                                f"got {getattr(labels, 'dtype', type(labels).__name__)}")
            if labels.shape != (len(data),) or int(labels.min()) < 0:
                raise ValueError(f"data's labels must have shape ({len(data)},) and be >= 0, got {tuple(labels.shape)}")
            labels = labels.long()
        return Source(board=None, data=data.detach().float(), labels=labels)
    if not isinstance(board, Board):
        raise TypeError(f"board must be an fm.Board, got {type(board).__name__}")
    return Source(board=board)


def draw_batch(n: int, source: Source, generator: torch.Generator, *, coupling: str = "independent",
               ot_block: int | None = None, labels: bool = False) -> Batch:
    """One batch of n rows from `source` (checked by `data_source`), paired by `coupling`
    ("independent", "ot", or "pairs" for a source of given pairs).

    The random draws, in order: x_0, then x_1 (for a board or a data set), or the rows of the
    pairs; the coupling reorders x_1 (and its labels) without drawing. labels=True also returns the
    label of each x_1 (on a board, the black cell it was drawn in: `fm.black_cell_index`'s label).
    """
    n = check_count("n", n, minimum=1)
    if not isinstance(source, Source):
        raise TypeError(f"source must come from fmhelpers.couplings.data_source(...), got {type(source).__name__}")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    check_choice("coupling", coupling, tuple(COUPLINGS))
    if COUPLINGS[coupling].needs_pairs != (source.pairs is not None):
        raise ValueError(f"coupling={coupling!r} {'needs' if COUPLINGS[coupling].needs_pairs else 'cannot take'} "
                         f"a source of given pairs (data_source(pairs=...)), and only such a coupling takes one")
    if ot_block is not None:
        ot_block = check_count("ot_block", ot_block, minimum=1)
    labels = check_flag("labels", labels)
    if labels and not source.has_labels:
        raise ValueError("labels=True needs a source with labels (the board, or data=(points, labels))")
    return raw_batch(n, source, generator, coupling, ot_block, labels)


def raw_batch(n: int, source: Source, generator: torch.Generator, coupling: str, ot_block: int | None,
              labels: bool) -> Batch:
    """`draw_batch`'s core, no checks: what a training step calls on a source and choices checked once."""
    y = None
    if source.pairs is not None:
        rows = torch.randint(len(source.pairs[0]), (n,), generator=generator)
        x_0, x_1 = source.pairs[0][rows], source.pairs[1][rows]
    elif source.data is not None:
        x_0 = raw_gaussian(n, source.dim, generator)
        rows = torch.randint(len(source.data), (n,), generator=generator)
        x_1, y = source.data[rows], (source.labels[rows] if source.labels is not None and labels else None)
    else:
        x_0 = raw_gaussian(n, 2, generator)
        x_1, cells = raw_checkerboard(n, source.board, generator)
        y = cells if labels else None
    perm = COUPLINGS[coupling].pairing(x_0, x_1, ot_block)
    return Batch(x_0, x_1[perm], y[perm] if y is not None else None)
