"""fmhelpers: the small, tested package behind the flow matching notebooks.

The modules, from the ground up (an import only goes down this list; tests/test_layers.py checks it):

    _checks        input checks and devices
    distributions  pi_0 and pi_1: the Gaussian and the checkerboard
    interpolants   the path x_t = alpha_t x_0 + beta_t x_1, and its conversions between the
                   velocity, noise, data (posterior mean) and score a network can predict
    marginal       the exact marginal field v*, density and score of our pair
    solvers        fixed-step ODE solvers
    models         the networks, in one table (MODELS)
    targets        what a network regresses on, and the flow matching loss
    couplings      which x_1 goes with each x_0, and the one batch draw of every trainer
    recipes        every choice of a training run, and the named recipes
    training       the one training loop (fit) and the flow trainer (train)
    reflow, meanflow, likelihood, guidance  methods built on the above
    discrete       discrete flow matching on the gridded board: exact law, posterior, rate, jumps
    digits         real data in 64 dimensions: the 8x8 digits and their judge
    metrics, plotting, widgets, checkpoints, exercises   tools that look at results

Everything public is importable from the top: `import fmhelpers as fm`. `fm.widgets` (sliders,
which need ipywidgets) is imported only when first used.
"""

import importlib as _importlib

from ._checks import best_device
from .distributions import (
    BOARD,
    Board,
    black_cell_index,
    black_cells,
    checkerboard_density,
    in_checkerboard,
    sample_checkerboard,
    sample_gaussian,
)
from .interpolants import (
    INTERPOLANTS,
    PREDICTIONS,
    Coefficients,
    Interpolant,
    LinearInterpolant,
    TrigInterpolant,
)
from .marginal import (
    continuity_terms,
    marginal_cell_fields,
    marginal_cell_weights,
    marginal_density,
    marginal_posterior_mean,
    marginal_score,
    marginal_velocity,
)
from .solvers import SOLVERS, ddim, ddpm, euler, heun, integrate, midpoint, rk4, time_grid
from .models import MODELS, ClassifierMLP, ConditionalMLP, DiscreteMLP, MeanFlowMLP, VelocityMLP, build_model
from .targets import (
    TARGETS,
    TIME_SAMPLINGS,
    cfm_loss,
    empirical_velocity,
    minibatch_target,
    minibatch_weights,
    sample_time,
)
from .couplings import COUPLINGS, couple, draw_batch, ot_permutation, pairing
from .recipes import (
    CONDITIONAL_TARGET_RECIPE,
    DATA_RECIPE,
    DEFAULT_RECIPE,
    DIGITS_INDEPENDENT_RECIPE,
    DISCRETE_RECIPE,
    DIGITS_OT_RECIPE,
    DIGITS_RECIPE,
    GUIDANCE_RECIPE,
    INDEPENDENT_MEANFLOW_RECIPE,
    JUDGE_RECIPE,
    MEANFLOW_RECIPE,
    NOISE_RECIPE,
    NOISE_UNIFORM_RECIPE,
    ONE_STEP_FIT_RECIPE,
    OT_RECIPE,
    RECIPES,
    REFLOW_RECIPE,
    SCORE_RECIPE,
    TRIG_NOISE_RECIPE,
    WRITEUP_RECIPE,
    DiscreteRecipe,
    MeanFlowRecipe,
    Optimiser,
    Recipe,
)
from .training import TrainResult, as_velocity, fit, train
from .reflow import flow_pairs, reflow
from .meanflow import (
    average_velocity,
    fit_one_step,
    meanflow_loss,
    meanflow_sample,
    meanflow_target,
    sample_intervals,
    train_meanflow,
)
from .likelihood import (
    ESTIMATORS,
    diffusion_noise,
    divergence,
    gaussian_log_density,
    log_likelihood,
    sample_sde,
    score_from_velocity,
)
from .discrete import (
    KAPPA_SCHEDULES,
    SOURCES,
    all_states,
    black_share,
    discrete_loss,
    exact_rate,
    factorisation_gap,
    forward_equation_terms,
    generator_matrix,
    grid_entropy,
    grid_law,
    grid_tv,
    joint_posterior,
    jump_law,
    jump_sample,
    law_cross_entropy,
    law_tv,
    model_rate,
    negative_elbo,
    path_law,
    points_to_tokens,
    posterior_marginals,
    rate_from_posterior,
    sample_grid,
    sample_path,
    sample_source,
    tokens_to_points,
    train_discrete,
    tv_noise_floor,
)
from .digits import judge_accuracy, load_digits, matching_rows, train_judge
from .guidance import (
    class_density,
    class_score,
    class_velocity,
    gaussian_guided_velocity,
    guided_field,
    guided_velocity,
    sample_class,
)
from .metrics import (
    class_scores,
    count_crossings,
    distance_to_board,
    effective_sample_size,
    frechet_distance,
    histogram_tv,
    in_support_fraction,
    loss_floor,
    nearest_distance,
    pairing_cost,
    regression_floors,
    sliced_wasserstein,
    straightness,
)
from .plotting import (
    STYLE,
    draw_board,
    plot_density,
    plot_digits,
    plot_grid_law,
    plot_histogram,
    plot_loss,
    plot_quiver,
    plot_samples,
    plot_scores,
    plot_time_grid,
    plot_trajectories,
    plot_velocity_field,
    time_color,
    velocity_grid,
)
from .checkpoints import Checkpoint, load_checkpoint, load_or_train, save_checkpoint
from . import digits, exercises

__version__ = "0.3.0"

__all__ = [name for name in dir() if not name.startswith("_")] + ["widgets"]


def __getattr__(name: str):
    if name == "widgets":  # ipywidgets is imported only by the notebooks that show a slider
        return _importlib.import_module(".widgets", __name__)
    raise AttributeError(f"module 'fmhelpers' has no attribute {name!r}")
