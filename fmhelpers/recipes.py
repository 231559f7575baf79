"""Recipes: frozen records of every choice a training run makes, and the named ones, all here.

    Optimiser        the optimisation every trainer shares: iterations, batch size, Adam's
                     learning rate, its schedule and second-moment rate, gradient clipping, seed
    Recipe           + how a flow is trained: times, target, coupling, path, board, label dropout
    MeanFlowRecipe   + how a mean flow is trained: intervals (t, s), adaptive weighting
    DiscreteRecipe   + how a discrete flow is trained: the grid (V, board), source, kappa schedule, times

A recipe is the single source of a run's defaults, of the keyword arguments a trainer accepts
(`fm.train(model, lr=3e-3)` is `fm.train(model, fm.DEFAULT_RECIPE.replace(lr=3e-3))`), of what a
checkpoint records (`to_dict`, read back by `from_dict`) and of what `fm.load_or_train` compares.
The named recipes at the bottom are the ones the notebooks and benchmarks use; how each was chosen
is in benchmarks/README.md.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar

from ._checks import check_choice, check_count, check_number, check_positive, check_seed
from .couplings import COUPLINGS
from .distributions import BOARD, Board, check_board
from .interpolants import INTERPOLANTS, PREDICTIONS, Interpolant
from .targets import INTERVALS, TARGETS, TIME_SAMPLINGS


def _constant(step: int, total: int) -> float:
    return 1.0


def _cosine(step: int, total: int) -> float:
    return 0.5 * (1 + math.cos(math.pi * step / total))


# The learning rate's multiplier at `step` of `total`: name -> factor(step, total)
LR_SCHEDULES: dict[str, Callable[[int, int], float]] = {"constant": _constant, "cosine": _cosine}


def _set(owner: Any, name: str, value: Any) -> None:
    object.__setattr__(owner, name, value)


@dataclass(frozen=True)
class Optimiser:
    """The optimisation fields every recipe shares (Adam, beta1 = 0.9).

    Attributes:
        n_iterations, batch_size, lr: the budget: steps, rows per step, learning rate.
        lr_schedule: "constant" or "cosine" (decays the learning rate to 0 at the end).
        adam_beta2: Adam's second-moment rate (torch's default is 0.999).
        clip_grad_norm: rescale each gradient to at most this norm (None: no clipping).
        seed: seeds the batches.
    """

    kind: ClassVar[str] = "optimiser"
    LR_SCHEDULES: ClassVar[tuple[str, ...]] = tuple(LR_SCHEDULES)
    # fields added after checkpoints were first written, with the value every older run had
    ADDED_LATER: ClassVar[dict[str, Any]] = {}

    n_iterations: int = 6000
    batch_size: int = 512
    lr: float = 1e-2
    lr_schedule: str = "cosine"
    adam_beta2: float = 0.99
    clip_grad_norm: float | None = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        _set(self, "n_iterations", check_count("n_iterations", self.n_iterations, minimum=1))
        _set(self, "batch_size", check_count("batch_size", self.batch_size, minimum=1))
        _set(self, "lr", check_positive("lr", self.lr))
        check_choice("lr_schedule", self.lr_schedule, self.LR_SCHEDULES)
        beta2 = check_number("adam_beta2", self.adam_beta2)
        if not 0.0 <= beta2 < 1.0:
            raise ValueError(f"adam_beta2 must be in [0, 1), got {beta2}")
        _set(self, "adam_beta2", beta2)
        if self.clip_grad_norm is not None:
            _set(self, "clip_grad_norm", check_positive("clip_grad_norm", self.clip_grad_norm))
        _set(self, "seed", check_seed("seed", self.seed))

    def replace(self, **changes: Any) -> "Optimiser":
        """A copy with some fields changed; an unknown name is refused, listing the known ones."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise TypeError(f"unknown recipe field(s) {', '.join(unknown)}; a {type(self).__name__} has "
                            f"{', '.join(self.field_names())}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (what a checkpoint stores): the board as grid_size and scale, the path by
        name (a schedule of your own by its class's name), and the recipe's kind."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Board):
                out.update(grid_size=value.grid_size, scale=value.scale)
            elif isinstance(value, Interpolant):
                out[f.name] = f"{type(value).__module__}.{type(value).__qualname__}"
            else:
                out[f.name] = value
        return out

    @classmethod
    def upgrade(cls, values: Any) -> dict[str, Any]:
        """A stored dict as this version writes it: the fields added since, with the value every older
        run had; a missing or unknown key is a ValueError naming it."""
        if not isinstance(values, dict):
            raise ValueError(f"a stored recipe must be a dict, got {type(values).__name__}")
        values = {"kind": cls.kind, **cls.ADDED_LATER, **values}
        if values["kind"] != cls.kind:
            raise ValueError(f"the stored recipe is a {values['kind']!r} recipe, not a {cls.kind!r} one")
        expected = {f.name for f in fields(cls)} | {"kind"}
        if "board" in expected:
            expected = expected - {"board"} | {"grid_size", "scale"}
        missing, unknown = sorted(expected - set(values)), sorted(set(values) - expected)
        if missing or unknown:
            raise ValueError(f"the stored recipe does not match this fmhelpers: "
                             f"missing {missing or 'nothing'}, unknown {unknown or 'nothing'}")
        return values

    @classmethod
    def from_dict(cls, values: Any) -> "Optimiser":
        """The inverse of `to_dict` (older checkpoints' dicts too, see `upgrade`)."""
        values = dict(cls.upgrade(values))
        del values["kind"]
        if "grid_size" in values:
            values["board"] = Board(grid_size=values.pop("grid_size"), scale=values.pop("scale"))
        name = values.get("interpolant")
        if isinstance(name, str) and name not in INTERPOLANTS:
            raise ValueError(f"the stored recipe uses a schedule of your own, {name}: rebuild the recipe with "
                             f"interpolant=YourSchedule() to use it")
        return cls(**values)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def optimiser(self) -> "Optimiser":
        """Only the optimisation fields, as an `Optimiser`."""
        return Optimiser(**{f.name: getattr(self, f.name) for f in fields(Optimiser)})


@dataclass(frozen=True)
class _Paths(Optimiser):
    """The fields a flow and a mean flow share: what pairs are drawn and which path joins them."""

    # the choices a recipe of this class offers: each is a key of the module's table (`TARGETS`,
    # `COUPLINGS`); every subclass declares its own
    TARGETS: ClassVar[tuple[str, ...]] = ()
    COUPLINGS: ClassVar[tuple[str, ...]] = ()

    target: str = "minibatch"
    coupling: str = "independent"
    ot_block: int | None = None
    interpolant: str | Interpolant = "linear"
    board: Board = field(default=BOARD)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("target", self.target, self.TARGETS)
        check_choice("coupling", self.coupling, self.COUPLINGS)
        target = TARGETS[self.target]
        if target.needs_independent and not COUPLINGS[self.coupling].independent:
            raise ValueError(f"target={self.target!r} is the velocity field of independent pairs (its weights are "
                             f"the posterior of x_1 given x_t when x_0 and x_1 are drawn apart), so "
                             f"coupling={self.coupling!r} needs a target that takes any pairs, e.g. 'conditional'")
        if self.ot_block is not None:
            _set(self, "ot_block", check_count("ot_block", self.ot_block, minimum=1))
        if target.reference_batch and self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 for target={self.target!r} (the batch is its own reference set)")
        _set(self, "interpolant", _interpolant(self.interpolant))
        check_board(self.board)

    def make_interpolant(self) -> Interpolant:
        """The recipe's path, an instance."""
        return INTERPOLANTS[self.interpolant]() if isinstance(self.interpolant, str) else self.interpolant


@dataclass(frozen=True)
class Recipe(_Paths):
    """Everything that decides what `fm.train` computes (for a given model and seed).

    Attributes:
        n_iterations, batch_size, lr, lr_schedule, adam_beta2, clip_grad_norm, seed: see `Optimiser`.
        time_sampling: "uniform", "late", "later", "mixed" or "two-step" (see `fm.sample_time`).
        target: "conditional" (the write-up's loss), "minibatch" (see `fm.minibatch_target`) or
            "exact" (v* itself: a check on the board, not a method).
        coupling: how x_0 and x_1 are paired (see fmhelpers.couplings): "independent" (drawn
            apart), "ot" (minimal total squared distance within each batch, or within blocks of
            `ot_block` rows) or "pairs" (rows of given pairs: `fm.train(..., pairs=(x_0, x_1))`,
            e.g. `fm.flow_pairs` for reflow). The minibatch target assumes "independent".
        ot_block: for coupling "ot", solve the assignment in blocks of this many rows (None: the
            whole batch).
        interpolant: the path: "linear", "trig", or an instance of any `fm.Interpolant` subclass
            (a schedule of your own).
        board: the target checkerboard (when no data set is given to `fm.train`).
        label_dropout: None for an unconditional model; for a conditional one (`fm.ConditionalMLP`),
            the share of each batch whose label is replaced by "no label", so that one network
            learns v(x, t | c) and v(x, t) (notebook 10).
        prediction: what the network predicts at (x, t), a key of `fm.PREDICTIONS`: "velocity"
            (v, the flow matching loss), "noise" (E[X_0 | x]: the goal is the pair's x_0, as DDPM
            trains), "data" (E[X_1 | x]: the goal is x_1) or "score" (grad log p_t: the loss is
            ||alpha_t s_theta + x_0||^2, denoising score matching weighted by alpha_t^2, bounded at
            every t where the unweighted goal -x_0 / alpha_t is not). With target="conditional" the
            goal is the pair's own; "minibatch" and "exact" estimate the marginal velocity, which is
            converted into the view (an affine map at each (x, t), `fm.PREDICTIONS[...].from_velocity`),
            so every prediction takes every target. The noise and data views hold for any coupling;
            the score is Tweedie's formula for independent pairs with the Gaussian source, so it
            refuses the couplings "ot" and "pairs". `fm.as_velocity(model, recipe)` turns the
            trained network into the velocity field that solvers and metrics take.
    """

    kind: ClassVar[str] = "flow"
    ADDED_LATER: ClassVar[dict[str, Any]] = {"coupling": "independent", "ot_block": None, "label_dropout": None,
                                             "prediction": "velocity"}
    TARGETS: ClassVar[tuple[str, ...]] = tuple(TARGETS)
    PREDICTIONS: ClassVar[tuple[str, ...]] = tuple(PREDICTIONS)
    COUPLINGS: ClassVar[tuple[str, ...]] = tuple(COUPLINGS)
    TIME_SAMPLINGS: ClassVar[tuple[str, ...]] = tuple(TIME_SAMPLINGS)

    time_sampling: str = "mixed"
    label_dropout: float | None = None
    prediction: str = "velocity"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("time_sampling", self.time_sampling, self.TIME_SAMPLINGS)
        check_choice("prediction", self.prediction, self.PREDICTIONS)
        if PREDICTIONS[self.prediction].needs_independent and not COUPLINGS[self.coupling].independent:
            raise ValueError(f"prediction={self.prediction!r} is -E[X_0 | x] / alpha_t only for independent pairs with "
                             f"the Gaussian source, so coupling={self.coupling!r} needs another prediction "
                             f"('velocity', 'noise' or 'data')")
        if self.label_dropout is not None:
            share = check_number("label_dropout", self.label_dropout)
            if not 0.0 <= share < 1.0:
                raise ValueError(f"label_dropout must lie in [0, 1) (None: no labels), got {share}")
            if not TARGETS[self.target].takes_labels:
                raise ValueError(f"target={self.target!r} is unconditional; a conditional recipe (label_dropout set) "
                                 f"needs one of {[k for k, v in TARGETS.items() if v.takes_labels]}")
            if COUPLINGS[self.coupling].needs_pairs:
                raise ValueError(f"coupling={self.coupling!r} has no labels; label_dropout needs a board or a "
                                 f"labelled data set")
            _set(self, "label_dropout", share)


@dataclass(frozen=True)
class MeanFlowRecipe(_Paths):
    """Every choice of a mean-flow training run (`fm.train_meanflow`).

    Attributes:
        n_iterations, batch_size, lr, lr_schedule, adam_beta2, clip_grad_norm, seed: see `Optimiser`.
        target: v in the identity: "conditional" (the pair's u_t), "minibatch" (the estimate of v*)
            or "exact" (`fm.marginal_velocity`, v* itself: a ceiling check for our pair, not a
            method, since a real data set has no formula for v*).
        coupling, ot_block, interpolant, board: as in `Recipe`.
        intervals: how (t, s) is drawn: two times from "uniform" or "logit-normal" (the logit of a
            time ~ N(time_mean, 1): time_mean = 0 puts the median at t = 1/2), sorted so that t <= s.
        equal_fraction: the share of the batch with s = t (plain flow matching there).
        one_step_fraction: a further share with (t, s) = (0, 1), the interval one step spans.
        weight_power: adaptive loss weighting: each squared error e is divided by
            (e + weight_eps)^weight_power, detached (0: plain squared error; 1/2: about the error's norm).
    """

    kind: ClassVar[str] = "mean_flow"
    ADDED_LATER: ClassVar[dict[str, Any]] = {"lr_schedule": "cosine", "interpolant": "linear", "grid_size": 4,
                                             "scale": 2.0, "coupling": "independent", "ot_block": None}
    TARGETS: ClassVar[tuple[str, ...]] = tuple(TARGETS)
    COUPLINGS: ClassVar[tuple[str, ...]] = tuple(COUPLINGS)
    INTERVALS: ClassVar[tuple[str, ...]] = tuple(INTERVALS)

    n_iterations: int = 4500
    lr: float = 3e-2
    target: str = "conditional"
    coupling: str = "ot"
    ot_block: int | None = 128
    intervals: str = "logit-normal"
    time_mean: float = 0.0
    equal_fraction: float = 0.25
    one_step_fraction: float = 0.0
    weight_power: float = 0.5
    weight_eps: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 for a mean flow, got {self.batch_size}")
        check_choice("intervals", self.intervals, self.INTERVALS)
        _set(self, "time_mean", check_number("time_mean", self.time_mean))
        share = check_number("equal_fraction", self.equal_fraction)
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"equal_fraction must lie in [0, 1], got {share}")
        _set(self, "equal_fraction", share)
        anchor = check_number("one_step_fraction", self.one_step_fraction)
        if not 0.0 <= anchor <= 1.0 - share:
            raise ValueError(f"one_step_fraction must lie in [0, 1 - equal_fraction], got {anchor}")
        _set(self, "one_step_fraction", anchor)
        power = check_number("weight_power", self.weight_power)
        if power < 0:
            raise ValueError(f"weight_power must be >= 0, got {power}")
        _set(self, "weight_power", power)
        _set(self, "weight_eps", check_positive("weight_eps", self.weight_eps))


@dataclass(frozen=True)
class DiscreteRecipe(Optimiser):
    """Every choice of a discrete flow matching run (`fm.train_discrete`).

    Attributes:
        n_iterations, batch_size, lr, lr_schedule, adam_beta2, clip_grad_norm, seed: see `Optimiser`.
        V: token values per coordinate (a multiple of the board's grid_size).
        board: the checkerboard whose grid is learned.
        source: a key of `fm.SOURCES`: "mask" or "uniform".
        schedule: a key of `fm.KAPPA_SCHEDULES`: "linear" (kappa_t = t) or "quadratic" (t^2).
        time_sampling: a key of `fm.TIME_SAMPLINGS` (see `fm.sample_time`).
    """

    kind: ClassVar[str] = "discrete"
    # the keys of fmhelpers.discrete's tables, which sit in a layer above this module (a test checks
    # that they are exactly the tables' keys)
    SOURCES: ClassVar[tuple[str, ...]] = ("mask", "uniform")
    KAPPA_SCHEDULES: ClassVar[tuple[str, ...]] = ("linear", "quadratic")
    TIME_SAMPLINGS: ClassVar[tuple[str, ...]] = tuple(TIME_SAMPLINGS)

    n_iterations: int = 3000
    lr: float = 3e-3
    V: int = 32
    board: Board = field(default=BOARD)
    source: str = "mask"
    schedule: str = "linear"
    time_sampling: str = "uniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_board(self.board)
        _set(self, "V", check_count("V", self.V, minimum=2))
        if self.V % self.board.grid_size:
            raise ValueError(f"V must be a multiple of the board's grid_size {self.board.grid_size} (so that each "
                             f"bin lies in one cell), got {self.V}")
        check_choice("source", self.source, self.SOURCES)
        check_choice("schedule", self.schedule, self.KAPPA_SCHEDULES)
        check_choice("time_sampling", self.time_sampling, self.TIME_SAMPLINGS)


def _interpolant(value: Any) -> str | Interpolant:
    """A built-in path by its name (its instance turned into the name), or an instance of a schedule
    of your own, kept as it is."""
    if isinstance(value, str) and value in INTERPOLANTS:
        return value
    for name, kind in INTERPOLANTS.items():
        if type(value) is kind:
            return name
    if isinstance(value, type) and issubclass(value, Interpolant):
        raise TypeError(f"interpolant must be an instance, e.g. {value.__name__}(), not the class")
    if isinstance(value, Interpolant):
        return value
    raise ValueError(f"interpolant must be one of {tuple(INTERPOLANTS)} or an fm.Interpolant instance "
                     f"(a schedule of your own, e.g. MySchedule()), got {value!r}")


RECIPE_KINDS: dict[str, type[Optimiser]] = {cls.kind: cls for cls in (Optimiser, Recipe, MeanFlowRecipe, DiscreteRecipe)}


def recipe_from_dict(values: Any, default_kind: str = "flow") -> Optimiser:
    """Any stored recipe back as its class (`values["kind"]`; a dict without one, written before
    recipes had kinds, is read as `default_kind`)."""
    if not isinstance(values, dict):
        raise ValueError(f"a stored recipe must be a dict, got {type(values).__name__}")
    kind = values.get("kind", default_kind)
    if kind not in RECIPE_KINDS:
        raise ValueError(f"the stored recipe's kind must be one of {tuple(RECIPE_KINDS)}, got {kind!r}")
    return RECIPE_KINDS[kind].from_dict(values)


def as_recipe(recipe: Any, changes: dict[str, Any], default: Optimiser, cls: type[Optimiser]) -> Any:
    """`recipe` (None: `default`) with `changes` applied; it must be a `cls`; errors name the argument."""
    if recipe is None:
        recipe = default
    if not isinstance(recipe, cls):
        raise TypeError(f"recipe must be an fm.{cls.__name__} (e.g. fm.{_DEFAULT_NAMES[cls]}.replace(lr=3e-3)), "
                        f"got {type(recipe).__name__}")
    return recipe.replace(**changes) if changes else recipe


# ---- the named recipes ---------------------------------------------------------------------------
# The project's flow recipe: measured against the write-up's by benchmarks/benchmark.py, one lever
# at a time by benchmarks/levers.py (benchmarks/README.md).
DEFAULT_RECIPE = Recipe()
# The write-up's own recipe: Adam at a constant 3e-3, batches of 4096, uniform t, the conditional
# target, 5001 steps (the benchmark's baseline; notebook 09 compares it as a density).
WRITEUP_RECIPE = Recipe(n_iterations=5001, batch_size=4096, lr=3e-3, lr_schedule="constant", time_sampling="uniform",
                        target="conditional", adam_beta2=0.999, clip_grad_norm=None)
# The default with one change, the plain conditional target u_t (notebook 04 compares the two).
CONDITIONAL_TARGET_RECIPE = DEFAULT_RECIPE.replace(target="conditional")
# Minibatch OT: the pairs of each batch matched in blocks of 128 (an exact assignment of the whole
# batch costs about ten training steps here, blocks of 128 about one; notebook 07).
OT_RECIPE = DEFAULT_RECIPE.replace(coupling="ot", ot_block=128, target="conditional")
# One round of reflow, started from the model that made the pairs: the pair's own velocity as
# target, a quarter of the times at t = 0 and a quarter at t = 1/2 (where Euler with 1 and 2 steps
# looks), 5000 steps at 1e-2.
REFLOW_RECIPE = DEFAULT_RECIPE.replace(coupling="pairs", target="conditional", time_sampling="two-step",
                                       n_iterations=5000)
# The mean flow of notebook 08: pairs matched by minibatch OT in blocks of 128 with their own
# velocity x_1 - x_0 as v, a quarter of the batch with s = t, logit-normal times centred at 0,
# adaptive weighting with p = 1/2, 4500 steps at 3e-2.
MEANFLOW_RECIPE = MeanFlowRecipe()
# The best mean-flow recipe with independent pairs: the minibatch estimate of v* as v, half the
# batch with s = t, later times (logit-normal centred at 0.8), plain squared error, 3000 steps at 1e-2.
INDEPENDENT_MEANFLOW_RECIPE = MEANFLOW_RECIPE.replace(
    coupling="independent", ot_block=None, target="minibatch", time_mean=0.8, equal_fraction=0.5, weight_power=0.0,
    n_iterations=3000, lr=1e-2)
# The one-step fit of notebook 08 (a diagnostic): the independent recipe's optimiser budget.
ONE_STEP_FIT_RECIPE = INDEPENDENT_MEANFLOW_RECIPE.optimiser()

# The conditional model of notebook 10: the default recipe for an fm.ConditionalMLP trained on the
# board's labels (the black cell of x_1), with 40 % of each batch's labels dropped to "no label", so
# that one network gives v(x, t | c) and v(x, t); the minibatch target averages each labelled row over
# the batch's x_1 of its own class. 10 % or 20 % left the unlabelled field short of 95 % on the board
# (benchmarks/README.md, "Guidance").
GUIDANCE_RECIPE = DEFAULT_RECIPE.replace(label_dropout=0.4)
# The class-conditional flow on the 8x8 digits (notebook 11, `fm.digits`): the pair's own velocity
# x_1 - x_0 as target (the minibatch target did no better here: in 64 dimensions its weights sit on
# the pair's own x_1 from about t = 0.7 on, and earlier it bought nothing measurable), uniform times, a "no label" for 15 % of each batch, Adam at 1e-3 decayed on a
# cosine, 4000 steps of 256 (benchmarks/README.md, "Digits").
DIGITS_RECIPE = Recipe(n_iterations=4000, batch_size=256, lr=1e-3, lr_schedule="cosine", time_sampling="uniform",
                       target="conditional", label_dropout=0.15)
# What minibatch OT gains in 64 dimensions (notebook 11): the digits without labels, 3000 steps, with
# independent pairs and with pairs matched by OT within each batch of 256, the same network for both.
DIGITS_INDEPENDENT_RECIPE = DIGITS_RECIPE.replace(label_dropout=None, n_iterations=3000)
DIGITS_OT_RECIPE = DIGITS_INDEPENDENT_RECIPE.replace(coupling="ot")
# What the network predicts (notebook 12): the default recipe with one change, the prediction (the noise
# E[X_0 | x], the data E[X_1 | x], or the score, trained with the weight alpha_t^2), on the linear path,
# and the noise on the trig (variance-preserving) path. `fm.as_velocity` turns each into a velocity field
# (benchmarks/diffusion.py compares every prediction on both paths).
NOISE_RECIPE = DEFAULT_RECIPE.replace(prediction="noise")
DATA_RECIPE = DEFAULT_RECIPE.replace(prediction="data")
SCORE_RECIPE = DEFAULT_RECIPE.replace(prediction="score")
TRIG_NOISE_RECIPE = DEFAULT_RECIPE.replace(prediction="noise", interpolant="trig")
# The noise recipe with uniform times instead of the mixed density 0.9 * 3t^2 + 0.1 (ten times more batch
# near t = 0, where the noise's conversion multiplies errors by 1/t): notebook 12's targeted experiment.
NOISE_UNIFORM_RECIPE = NOISE_RECIPE.replace(time_sampling="uniform")
# The judge of generated digits (`fm.train_judge`, cross-entropy on the training split).
# Discrete flow matching on the gridded board (fmhelpers.discrete, notebook 13): V = 32 bins per axis,
# the mask source, kappa_t = t, uniform times, Adam at 3e-3 on a cosine, 8000 steps of 512 (the
# class's 3000 steps leave the exact law of 128 jumps at TV 0.028 from pi_1 after 64 jumps, 8000
# at 0.019, a larger network or batch bought little for its time: benchmarks/NOTES.md, "Discrete").
DISCRETE_RECIPE = DiscreteRecipe(n_iterations=8000)
JUDGE_RECIPE = Optimiser(n_iterations=3000, batch_size=128, lr=3e-3, lr_schedule="cosine", adam_beta2=0.999,
                         clip_grad_norm=None)

RECIPES: dict[str, Optimiser] = {
    "default": DEFAULT_RECIPE, "writeup": WRITEUP_RECIPE, "conditional_target": CONDITIONAL_TARGET_RECIPE,
    "ot": OT_RECIPE, "reflow": REFLOW_RECIPE, "meanflow": MEANFLOW_RECIPE,
    "independent_meanflow": INDEPENDENT_MEANFLOW_RECIPE, "one_step_fit": ONE_STEP_FIT_RECIPE,
    "digits": DIGITS_RECIPE, "digits_independent": DIGITS_INDEPENDENT_RECIPE, "digits_ot": DIGITS_OT_RECIPE,
    "judge": JUDGE_RECIPE,
    "guidance": GUIDANCE_RECIPE,
    "discrete": DISCRETE_RECIPE,
    "noise": NOISE_RECIPE, "data": DATA_RECIPE, "score": SCORE_RECIPE, "trig_noise": TRIG_NOISE_RECIPE,
    "noise_uniform": NOISE_UNIFORM_RECIPE,
}
_DEFAULT_NAMES = {Recipe: "DEFAULT_RECIPE", MeanFlowRecipe: "MEANFLOW_RECIPE", Optimiser: "ONE_STEP_FIT_RECIPE",
                  DiscreteRecipe: "DISCRETE_RECIPE"}
