"""The training recipe: one frozen object that holds every choice a training run makes.

It is the single source of the defaults (`DEFAULT_RECIPE`), of the keyword arguments that
`fm.train` accepts, of what a checkpoint records and of what `fm.load_or_train` compares, and
the benchmark scripts vary it with `DEFAULT_RECIPE.replace(...)`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

from ._checks import check_choice, check_count, check_optimiser, check_seed
from .distributions import BOARD, Board, check_board
from .interpolants import INTERPOLANTS, Interpolant
from .targets import TARGETS, TIME_SAMPLINGS

COUPLINGS = ("independent", "ot", "pairs")
# fields added after checkpoints were first written, with the value every older run had
_ADDED_LATER = {"coupling": "independent", "ot_block": None}

LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class Recipe:
    """Everything that decides what `fm.train` computes (for a given model and seed).

    Attributes:
        n_iterations, batch_size, lr: the optimisation budget.
        lr_schedule: "constant" or "cosine" (decays the learning rate to 0 at the end).
        time_sampling: "uniform", "late", "later", "mixed" or "two-step" (see `fm.sample_time`).
        target: "conditional" (the write-up's loss) or "minibatch" (see `fm.minibatch_target`).
        coupling: how x_0 and x_1 are paired (see fmhelpers.couplings): "independent" (drawn
            apart), "ot" (minimal total squared distance within each batch, or within blocks of
            `ot_block` rows) or "pairs" (rows of given pairs: `fm.train(..., pairs=(x_0, x_1))`,
            e.g. `fm.flow_pairs` for reflow). The minibatch target assumes "independent".
        ot_block: for coupling "ot", solve the assignment in blocks of this many rows (None: the
            whole batch).
        adam_beta2: Adam's second-moment rate (beta1 is 0.9; torch's default beta2 is 0.999).
        clip_grad_norm: rescale each gradient to at most this norm (None: no clipping).
        interpolant: the path by name, "linear" or "trig" (an instance of either is accepted).
        board: the target checkerboard.
        seed: seeds the batches.
    """

    n_iterations: int = 6000
    batch_size: int = 512
    lr: float = 1e-2
    lr_schedule: str = "cosine"
    time_sampling: str = "mixed"
    target: str = "minibatch"
    coupling: str = "independent"
    ot_block: int | None = None
    adam_beta2: float = 0.99
    clip_grad_norm: float | None = 1.0
    interpolant: str = "linear"
    board: Board = field(default=BOARD)
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_optimiser(self)
        set_(self, "batch_size", check_count("batch_size", self.batch_size, minimum=1))
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_choice("time_sampling", self.time_sampling, TIME_SAMPLINGS)
        check_choice("target", self.target, TARGETS)
        check_choice("coupling", self.coupling, COUPLINGS)
        if self.coupling != "independent" and self.target == "minibatch":
            raise ValueError(f"target='minibatch' assumes independent pairs (its weights are the posterior of x_1 "
                             f"given x_t when x_0 and x_1 are drawn apart), so coupling={self.coupling!r} needs "
                             f"target='conditional'")
        if self.ot_block is not None:
            set_(self, "ot_block", check_count("ot_block", self.ot_block, minimum=1))
        if self.target == "minibatch" and self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 for target='minibatch' (the batch is its own reference set)")
        set_(self, "interpolant", _interpolant_name(self.interpolant))
        check_board(self.board)
        set_(self, "seed", check_seed("seed", self.seed))

    def replace(self, **changes: Any) -> "Recipe":
        """A copy with some fields changed; an unknown name is refused, listing the known ones."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise TypeError(f"unknown recipe field(s) {', '.join(unknown)}; a Recipe has {', '.join(self.field_names())}")
        return dataclasses.replace(self, **changes)

    def make_interpolant(self) -> Interpolant:
        """A fresh instance of the recipe's path."""
        return INTERPOLANTS[self.interpolant]()

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (what a checkpoint stores): the board as grid_size and scale."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "board"}
        out.update(grid_size=self.board.grid_size, scale=self.board.scale)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Recipe":
        """The inverse of `to_dict`; a missing key or an unknown one is a ValueError naming it."""
        if not isinstance(values, dict):
            raise ValueError(f"a stored recipe must be a dict, got {type(values).__name__}")
        expected = set(cls.field_names()) - {"board"} | {"grid_size", "scale"}
        values = {**{k: v for k, v in _ADDED_LATER.items() if k not in values}, **values}
        missing, unknown = sorted(expected - set(values)), sorted(set(values) - expected)
        if missing or unknown:
            raise ValueError(f"the stored recipe does not match this fmhelpers: "
                             f"missing {missing or 'nothing'}, unknown {unknown or 'nothing'}")
        values = dict(values)
        board = Board(grid_size=values.pop("grid_size"), scale=values.pop("scale"))
        return cls(board=board, **values)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def _interpolant_name(value: Any) -> str:
    if isinstance(value, str) and value in INTERPOLANTS:
        return value
    for name, kind in INTERPOLANTS.items():
        if type(value) is kind:
            return name
    raise ValueError(f"interpolant must be one of {tuple(INTERPOLANTS)} or an instance of "
                     f"{', '.join(k.__name__ for k in INTERPOLANTS.values())}, got {value!r}")


def as_recipe(recipe: Any, changes: dict[str, Any]) -> Recipe:
    """`recipe` (None: the default) with `changes` applied; errors name the argument."""
    if recipe is None:
        recipe = DEFAULT_RECIPE
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be an fm.Recipe (e.g. fm.DEFAULT_RECIPE.replace(lr=3e-3)), got {type(recipe).__name__}")
    return recipe.replace(**changes) if changes else recipe


# The project's recommended recipe: measured against the write-up's by benchmarks/benchmark.py,
# one lever at a time by benchmarks/levers.py (see benchmarks/NOTES.md).
DEFAULT_RECIPE = Recipe()
