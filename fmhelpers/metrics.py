"""How good samples, pairs and flows are: closeness to the exact target pi_1 (and to one class of it),
the loss floor of conditional flow matching, the cost of a pairing, how straight a flow is, crossings
of paths; and, in any dimension (notebook 11), the Frechet distance between two sets of features, the
distance to the nearest point of a reference set, and the effective sample size of weights."""

from __future__ import annotations

from typing import Any

import torch

from ._checks import as_field, check_choice, check_count, check_flag, check_generator, check_points, check_time
from .distributions import (
    BOARD,
    Board,
    black_cell_index,
    check_board,
    in_checkerboard,
    sample_checkerboard,
    sample_gaussian,
)
from .guidance import check_class, sample_class
from .interpolants import PREDICTIONS, Interpolant, check_interpolant
from .marginal import marginal_posterior_mean, marginal_velocity
from .solvers import SOLVERS
from .targets import TARGETS, point_and_goal, sample_time


def in_support_fraction(x: torch.Tensor, *, board: Board = BOARD) -> float:
    """Fraction of the points x, shape (n, 2), that land on a black cell (1.0 is perfect)."""
    check_points("x", x)
    if len(x) == 0:
        raise ValueError("x must hold at least one point")
    return in_checkerboard(x, board=board).to(torch.float64).mean().item()


def distance_to_board(x: torch.Tensor, *, board: Board = BOARD) -> torch.Tensor:
    """Distance from each point x, shape (n, 2), to the nearest black cell: 0 on the board.

    It tells a near miss (a sample just over a cell's edge) from a far one; float64 of shape (n,).
    """
    check_points("x", x)
    board = check_board(board)
    lower = board.black_cells().to(x.device)  # (K, 2)
    points = x.to(torch.float64)[:, None, :]  # (n, 1, 2)
    outside = torch.clamp(torch.maximum(lower - points, points - (lower + board.side)), min=0)  # (n, K, 2)
    return outside.norm(dim=2).min(dim=1).values


def sliced_wasserstein(
    x: torch.Tensor, y: torch.Tensor, *, n_projections: int = 256, generator: torch.Generator | None = None
) -> float:
    """Sliced 2-Wasserstein distance between two point clouds, shapes (n, 2) and (m, 2).

    Both are projected on `n_projections` random directions; in 1-D the optimal coupling matches
    quantiles. With n != m both are compared at min(n, m) common quantile levels.
    """
    check_points("x", x)
    check_points("y", y)
    n_projections = check_count("n_projections", n_projections, minimum=1)
    generator = check_generator("generator", generator)
    if len(x) == 0 or len(y) == 0:
        raise ValueError("x and y must each hold at least one point")
    angle = torch.rand(n_projections, generator=generator, dtype=torch.float64) * (2 * torch.pi)
    directions = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1).to(x.device)
    # One row per direction (n_projections, n), made contiguous: sorting along the last dimension is
    # about twice as fast as along the first, and the projections are the same numbers either way.
    px = torch.sort((x.to(torch.float64) @ directions.T).T.contiguous(), dim=1).values
    py = torch.sort((y.to(torch.float64).to(x.device) @ directions.T).T.contiguous(), dim=1).values
    if px.shape[1] != py.shape[1]:
        m = min(px.shape[1], py.shape[1])
        levels = (torch.arange(m, dtype=torch.float64, device=x.device) + 0.5) / m
        px = torch.quantile(px, levels, dim=1)
        py = torch.quantile(py, levels, dim=1)
    return (px - py).pow(2).mean().sqrt().item()


def _target_bin_mass(edges: torch.Tensor, board: Board) -> torch.Tensor:
    """Exact pi_1 mass of each histogram bin, shape (bins, bins) indexed [x-bin, y-bin]."""
    corners = board.black_cells()
    side = board.side
    lo, hi = edges[:-1], edges[1:]

    def overlap(axis: int) -> torch.Tensor:  # (K, bins): length of bin ∩ cell along one axis
        c_lo = corners[:, axis : axis + 1]
        return (torch.minimum(hi, c_lo + side) - torch.maximum(lo, c_lo)).clamp(min=0)

    return torch.einsum("ki,kj->ij", overlap(0), overlap(1)) / (len(corners) * side * side)


def class_scores(
    x: torch.Tensor, c: Any, *, board: Board = BOARD, generator: torch.Generator | None = None
) -> dict[str, float]:
    """How samples meant for class c (their black cell) came out, notebook 10's numbers.

    Args:
        x: samples, shape (n, 2), n >= 1.
        c: the class each was drawn for: an int, or an int tensor (n,) (a row of `board.black_cells()`).
        generator: for the points of pi_1(. | c) that sliced W2 compares with, and its directions.

    Returns:
        a dict of floats: "own_cell" (share in their own cell), "black" (share on any black
        cell), "off_board" (share outside the square [-scale, scale]^2), "centre_distance" (mean
        distance to the centre of their own cell, in cell sides: about 0.383 for pi_1(. | c)) and
        "sliced_w2" (sliced W2 to pi_1(. | c), as many points, averaged over the classes present).
    """
    check_points("x", x, min_rows=1)
    board = check_board(board)
    c = check_class("c", c, len(x), board.n_black, device=x.device)
    generator = check_generator("generator", generator)
    x64 = x.detach().to(torch.float64)
    cell = black_cell_index(x64, board=board)
    centres = board.black_cells().to(x.device)[c] + board.side / 2
    outside = ~((x64 >= -board.scale) & (x64 <= board.scale)).all(dim=1)
    w2 = []
    for k in torch.unique(c).tolist():
        mine = x64[c == k]
        reference = sample_class(len(mine), k, board=board, generator=generator).to(torch.float64)
        w2.append(sliced_wasserstein(mine, reference, generator=generator))
    return {"own_cell": (cell == c).to(torch.float64).mean().item(), "black": (cell >= 0).to(torch.float64).mean().item(),
            "off_board": outside.to(torch.float64).mean().item(),
            "centre_distance": ((x64 - centres).norm(dim=1).mean() / board.side).item(), "sliced_w2": sum(w2) / len(w2)}


def histogram_tv(x: torch.Tensor, *, bins: int = 40, board: Board = BOARD) -> float:
    """Total-variation distance between the histogram of x and the exact pi_1, on bins x bins squares.

    The bins tile [-scale, scale]^2; points outside count fully as error. 0 is perfect, 1 the worst.
    """
    check_points("x", x)
    bins = check_count("bins", bins, minimum=1)
    scale = check_board(board).scale
    if len(x) == 0:
        raise ValueError("x must hold at least one point")
    edges = torch.linspace(-scale, scale, bins + 1, dtype=torch.float64)
    x = x.detach().to("cpu", torch.float64)
    inside = ((x >= -scale) & (x <= scale)).all(dim=1)
    idx = torch.floor((x[inside] + scale) / (2 * scale) * bins).long().clamp(0, bins - 1)
    counts = torch.zeros(bins * bins, dtype=torch.float64)
    counts.index_add_(0, idx[:, 0] * bins + idx[:, 1], torch.ones(len(idx), dtype=torch.float64))
    empirical = counts.reshape(bins, bins) / len(x)
    target = _target_bin_mass(edges, board)
    outside = 1.0 - inside.to(torch.float64).mean()
    return 0.5 * ((empirical - target).abs().sum() + outside).item()


def loss_floor(
    *,
    interpolant: Interpolant | None = None,
    n: int = 200_000,
    time_sampling: str = "uniform",
    target: str = "conditional",
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
    board: Board = BOARD,
) -> float:
    """Monte Carlo estimate of the irreducible loss E ||u_t - v*(x_t, t)||^2.

    This is the flow matching loss of the best possible model, the exact marginal field v*: the
    loss a trained model approaches but can never go below. `time_sampling` and `target` must be
    the ones used in training (see `fm.train`); the standard error is about 1 / sqrt(n) relative.
    For target="minibatch" the floor depends on the batch size (larger batches, less noise in the
    target): give the training `batch_size`; the n points are cut into batches of that size.
    """
    n = check_count("n", n, minimum=1)
    check_choice("target", target, tuple(TARGETS))
    check_board(board)
    per_batch = TARGETS[target].reference_batch
    if per_batch:
        if batch_size is None:
            raise ValueError(f"batch_size is needed for target={target!r} (the floor depends on it)")
        batch_size = check_count("batch_size", batch_size, minimum=2)
        n = max(batch_size, n - n % batch_size)
    elif batch_size is not None:
        check_count("batch_size", batch_size, minimum=1)
    interpolant = check_interpolant(interpolant)
    x_0 = sample_gaussian(n, generator=generator).to(torch.float64)
    x_1 = sample_checkerboard(n, board=board, generator=generator).to(torch.float64)
    t = sample_time(n, time_sampling, generator=generator).to(torch.float64)

    def exact(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return marginal_velocity(x, s, interpolant=interpolant, board=board)

    size = batch_size if per_batch else n
    losses = []
    for i in range(0, n, size):
        a, b, s = x_0[i:i + size], x_1[i:i + size], t[i:i + size]
        x_t, goal = point_and_goal(a, b, interpolant.coefficients(s), target, t=s, interpolant=interpolant, board=board)
        losses.append((exact(x_t, s) - goal).pow(2).sum(dim=1).mean())
    return torch.stack(losses).mean().item()


def regression_floors(
    t: Any,
    *,
    interpolant: Interpolant | None = None,
    n: int = 20_000,
    generator: torch.Generator | None = None,
    board: Board = BOARD,
) -> dict[str, torch.Tensor]:
    """The regression floor of each prediction at each time: E ||goal - E[goal | X_t]||^2 over pairs.

    A network trained to predict a view (`fm.PREDICTIONS`) regresses on a goal that depends on the pair,
    not only on x_t; the best it can do is the goal's posterior mean, and what is left is the floor.
    The goals: the velocity u_t, the noise x_0, the data x_1, and the score's denoising goal -x_0 / alpha_t
    (its unweighted form; the recipe's score loss multiplies it by alpha_t^2, whose floor is the noise's).
    Monte Carlo over n pairs per time (x_0 ~ N(0, I), x_1 on the board, independent), with the exact
    posterior mean m(x_t) = E[X_1 | X_t] (`fm.marginal_posterior_mean`, float64) in place of the learned
    one, so the only error is the Monte Carlo one (about 1 / sqrt(n) relative).

    Args:
        t: times strictly inside (0, 1): a float or shape (k,).
        interpolant: the path (default linear).
        n: pairs per time (the same pairs at every time, so the curves are smooth in t).
        generator: seeds the pairs.
        board: the target checkerboard.

    Returns:
        {"velocity", "noise", "data", "score"} -> float64 tensors of shape (k,).
    """
    times = check_time("t", t).reshape(-1).to(torch.float64)
    if bool(((times <= 0) | (times >= 1)).any()):
        raise ValueError(f"t must lie strictly inside (0, 1) (the score's goal is infinite at t = 1, and every "
                         f"floor is trivial at the ends), got {times.tolist()}")
    n = check_count("n", n, minimum=2)
    interpolant = check_interpolant(interpolant)
    check_board(board)
    generator = check_generator("generator", generator)
    x_0 = sample_gaussian(n, generator=generator).to(torch.float64)
    x_1 = sample_checkerboard(n, board=board, generator=generator).to(torch.float64)
    floors: dict[str, list[torch.Tensor]] = {name: [] for name in PREDICTIONS}
    for time in times:
        c = interpolant.raw_coefficients(time)  # float64 coefficients, checked above
        x_t = c.interpolate(x_0, x_1)
        mean = marginal_posterior_mean(x_t, time.item(), interpolant=interpolant, board=board)
        noise = (x_t - c.beta_t * mean) / c.alpha_t  # E[X_0 | X_t], from x_t = alpha e + beta m
        errors = {"velocity": c.conditional_velocity(x_0, x_1) - c.velocity(x_t, mean), "noise": x_0 - noise,
                  "data": x_1 - mean, "score": -x_0 / c.alpha_t - c.score(x_t, mean)}
        for name in PREDICTIONS:
            floors[name].append(errors[name].pow(2).sum(dim=1).mean())
    return {name: torch.stack(values) for name, values in floors.items()}


def pairing_cost(x_0: torch.Tensor, x_1: torch.Tensor) -> float:
    """The mean squared distance (1/n) sum_i ||x_0^i - x_1^i||^2 of row-wise pairs, shapes (n, d), n >= 1."""
    check_points("x_0", x_0, dim=None, min_rows=1)
    check_points("x_1", x_1, dim=None, min_rows=1)
    if x_0.shape != x_1.shape:
        raise ValueError(f"x_0 and x_1 must have the same shape, got {tuple(x_0.shape)} and {tuple(x_1.shape)}")
    return float((x_0.double() - x_1.double()).pow(2).sum(dim=1).mean())


def straightness(
    velocity: Any,
    x_0: torch.Tensor,
    *,
    n_steps: int = 64,
    solver: str = "rk4",
) -> float:
    """How far a flow is from straight, from the points x_0 (n, d), n >= 1:

        S = (1/K) sum_k E ||v(X_{t_k}, t_k) - (X_1 - X_0)||^2,  t_k = k / K,

    along the ODE's trajectories (solved with `solver` in K = n_steps steps). S = 0 exactly when
    every trajectory is a straight line run at constant speed, and then one Euler step is exact.
    Since the mean of v along a trajectory is its chord, S is the kinetic energy minus the
    squared chord: S = (1/K) sum_k E||v||^2 - E||X_1 - X_0||^2 (for Euler, exactly).
    """
    check_points("x_0", x_0, dim=None, min_rows=1)
    field = as_field(velocity)
    n_steps = check_count("n_steps", n_steps, minimum=1)
    check_choice("solver", solver, tuple(SOLVERS))
    with torch.no_grad():
        path = SOLVERS[solver](field, x_0, n_steps, return_trajectory=True)
        chord = path[-1] - path[0]
        total = 0.0
        for k in range(n_steps):
            t = torch.full((len(x_0), 1), k / n_steps, dtype=path.dtype, device=path.device)
            total += float((field(path[k], t) - chord).pow(2).sum(dim=1).mean())
    return total / n_steps


def count_crossings(paths: torch.Tensor, *, max_elements: int = 4_000_000) -> int:
    """Number of pairs of paths whose drawn curves cross, for paths of shape (n_steps + 1, n, 2).

    Each path is the polyline through its states; two polylines cross when a segment of one
    properly intersects a segment of the other (touching end points do not count). The segment
    pairs are compared in blocks of at most about `max_elements`, so memory stays bounded
    (a few tens of MB by default) however long or many the paths are, and pairs of paths whose
    bounding boxes do not overlap are skipped.
    """
    if not isinstance(paths, torch.Tensor) or paths.dim() != 3 or paths.shape[2] != 2:
        raise ValueError(f"paths must be a tensor of shape (n_steps + 1, n, 2), got {getattr(paths, 'shape', type(paths).__name__)}")
    if paths.shape[0] < 2:
        raise ValueError(f"paths must hold at least two states per path, got {paths.shape[0]}")
    max_elements = check_count("max_elements", max_elements, minimum=1)
    p = paths.detach().to("cpu", torch.float64)
    check_points("paths (as points)", p.reshape(-1, 2))
    seg_a, seg_b = p[:-1].transpose(0, 1), p[1:].transpose(0, 1)  # (n, m, 2) segment ends per path
    n, m = seg_a.shape[:2]
    low, high = p.amin(dim=0), p.amax(dim=0)  # (n, 2) bounding boxes

    def orient(o, q, r):  # sign of the turn o -> q -> r
        return torch.sign((q[..., 0] - o[..., 0]) * (r[..., 1] - o[..., 1]) - (q[..., 1] - o[..., 1]) * (r[..., 0] - o[..., 0]))

    crossings = 0
    for i in range(n - 1):
        others = torch.arange(i + 1, n)
        overlap = ((low[others] <= high[i]) & (high[others] >= low[i])).all(dim=1)
        others = others[overlap]
        a, b = seg_a[i][:, None, None, :], seg_b[i][:, None, None, :]  # (m, 1, 1, 2)
        block = max(1, max_elements // (m * m))
        for start in range(0, len(others), block):
            js = others[start:start + block]
            c, d = seg_a[js][None], seg_b[js][None]  # (1, k, m, 2)
            hits = (orient(a, b, c) * orient(a, b, d) < 0) & (orient(c, d, a) * orient(c, d, b) < 0)
            crossings += int(hits.any(dim=2).any(dim=0).sum())
    return crossings


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """The Frechet distance between Gaussians fitted to two sets of features, shapes (n, k) and (m, k):

        ||mu_a - mu_b||^2 + tr(C_a) + tr(C_b) - 2 tr((C_a^{1/2} C_b C_a^{1/2})^{1/2}),

    the squared 2-Wasserstein distance between N(mu_a, C_a) and N(mu_b, C_b), with the sample means
    and covariances (divided by n - 1) of a and b; in float64. On features of a classifier it is
    the FID of image generators. Its estimate is biased upward by a term that shrinks like 1/n:
    compare two numbers only at equal sample sizes.
    """
    check_points("a", a, dim=None, min_rows=2)
    check_points("b", b, dim=a.shape[1], min_rows=2)
    a, b = a.detach().to("cpu", torch.float64), b.detach().to("cpu", torch.float64)
    mean_a, mean_b = a.mean(dim=0), b.mean(dim=0)
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], -1), torch.cov(b.T).reshape(b.shape[1], -1)
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = (vectors * values.clamp_min(0).sqrt()) @ vectors.T
    middle = root_a @ cov_b @ root_a
    cross = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    return float((mean_a - mean_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross)


def nearest_distance(x: torch.Tensor, reference: torch.Tensor, *, return_index: bool = False,
                     chunk: int = 1024) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The Euclidean distance from each point x (n, d) to its nearest row of `reference` (m, d), m >= 1.

    In float64, `chunk` rows of x at a time (memory stays about chunk * m numbers). With
    return_index=True also the row of `reference` that is nearest, int64 (n,).
    """
    check_points("x", x, dim=None)
    check_points("reference", reference, dim=x.shape[1], min_rows=1)
    check_flag("return_index", return_index)
    chunk = check_count("chunk", chunk, minimum=1)
    ref = reference.detach().to("cpu", torch.float64)
    found = [torch.cdist(part.detach().to("cpu", torch.float64), ref).min(dim=1)
             for part in x.split(chunk)] if len(x) else []
    distance = torch.cat([f.values for f in found]) if found else torch.zeros(0, dtype=torch.float64)
    index = torch.cat([f.indices for f in found]) if found else torch.zeros(0, dtype=torch.long)
    return (distance, index) if return_index else distance


def effective_sample_size(weights: torch.Tensor) -> torch.Tensor:
    """1 / sum_j w_ij^2 for each row of weights (n, m) whose rows are probability vectors.

    It is m for uniform weights and 1 when a row puts all its weight on one entry: how many of the
    m references a weighted average effectively uses (e.g. `fm.minibatch_weights`). Float64, (n,).
    """
    check_points("weights", weights, dim=None)
    w = weights.detach().to(torch.float64)
    if bool((w < 0).any()):
        raise ValueError("weights must be >= 0 (each row a probability vector)")
    sums = w.sum(dim=1)
    if len(w) and bool(((sums - 1).abs() > 1e-4).any()):
        raise ValueError(f"weights' rows must sum to 1, got sums from {sums.min().item():.4g} to {sums.max().item():.4g}")
    return 1.0 / w.pow(2).sum(dim=1)
