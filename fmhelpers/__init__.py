"""fmhelpers: the small, tested package behind the flow matching notebooks.

Modules, in the order the notebooks teach them: distributions, interpolants, marginal, models,
training, solvers, metrics, plotting, widgets. Everything public is importable from the top:
`import fmhelpers as fm`.
"""

from ._checks import best_device
from .distributions import black_cells, checkerboard_density, in_checkerboard, sample_checkerboard, sample_gaussian
from .interpolants import Coefficients, Interpolant, LinearInterpolant, TrigInterpolant
from .marginal import marginal_density, marginal_posterior_mean, marginal_velocity
from .metrics import count_crossings, histogram_tv, in_support_fraction, loss_floor, sliced_wasserstein
from . import exercises, widgets
from .models import VelocityMLP
from .plotting import (
    STYLE,
    draw_board,
    plot_density,
    plot_loss,
    plot_quiver,
    plot_samples,
    plot_time_grid,
    plot_trajectories,
    plot_velocity_field,
    velocity_grid,
)
from .solvers import SOLVERS, euler, heun, midpoint, rk4
from .training import (
    DEFAULT_RECIPE,
    Checkpoint,
    TrainResult,
    cfm_loss,
    load_checkpoint,
    load_or_train,
    minibatch_target,
    sample_time,
    save_checkpoint,
    train,
)

__version__ = "0.1.0"

__all__ = [name for name in dir() if not name.startswith("_")]
