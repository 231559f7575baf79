"""fmhelpers: the small, tested package behind the flow matching notebooks.

Modules, in the order the notebooks teach them: distributions, interpolants, marginal, models,
targets (what v_theta regresses on), recipe, training (the loop), checkpoints, solvers, couplings (straighter paths), meanflow (one step), metrics,
likelihood (the flow as a density, and the score), plotting, widgets. Everything public is importable from the top: `import fmhelpers as fm`.
`fm.widgets` (sliders, which need ipywidgets) is imported only when first used.
"""

import importlib as _importlib

from ._checks import best_device
from .distributions import (
    BOARD,
    Board,
    black_cells,
    checkerboard_density,
    in_checkerboard,
    sample_checkerboard,
    sample_gaussian,
)
from .interpolants import INTERPOLANTS, Coefficients, Interpolant, LinearInterpolant, TrigInterpolant
from .marginal import (
    continuity_terms,
    marginal_cell_weights,
    marginal_density,
    marginal_posterior_mean,
    marginal_velocity,
)
from .models import VelocityMLP
from .targets import TARGETS, TIME_SAMPLINGS, cfm_loss, minibatch_target, sample_time
from .recipe import DEFAULT_RECIPE, Recipe
from .training import TrainResult, train
from .checkpoints import Checkpoint, load_checkpoint, load_or_train, save_checkpoint
from .solvers import SOLVERS, euler, heun, midpoint, rk4
from .couplings import (
    COUPLINGS,
    OT_RECIPE,
    REFLOW_RECIPE,
    couple,
    flow_pairs,
    ot_permutation,
    pairing_cost,
    reflow,
    straightness,
)
from .meanflow import (
    INDEPENDENT_MEANFLOW_RECIPE,
    MEANFLOW_RECIPE,
    MeanFlowMLP,
    MeanFlowRecipe,
    MeanFlowResult,
    average_velocity,
    fit_one_step,
    meanflow_loss,
    meanflow_sample,
    meanflow_target,
    sample_intervals,
    train_meanflow,
)
from .likelihood import (
    divergence,
    gaussian_log_density,
    log_likelihood,
    marginal_score,
    sample_sde,
    score_from_velocity,
)
from .metrics import count_crossings, distance_to_board, histogram_tv, in_support_fraction, loss_floor, sliced_wasserstein
from .plotting import (
    STYLE,
    draw_board,
    plot_density,
    plot_histogram,
    plot_loss,
    plot_quiver,
    plot_samples,
    plot_time_grid,
    plot_trajectories,
    plot_velocity_field,
    velocity_grid,
)
from . import exercises

__version__ = "0.2.0"

__all__ = [name for name in dir() if not name.startswith("_")] + ["widgets"]


def __getattr__(name: str):
    if name == "widgets":  # ipywidgets is imported only by the notebooks that show a slider
        return _importlib.import_module(".widgets", __name__)
    raise AttributeError(f"module 'fmhelpers' has no attribute {name!r}")
