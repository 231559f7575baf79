"""Every class of bad input gets the package's own ValueError/TypeError, naming the argument,
raised at the public entry point (not from inside torch or matplotlib), and nothing is silent.

One table per class of input; each row is (call, error, word the message must contain).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import fmhelpers as fm
from fmhelpers.widgets import SliderView, steps_slider, time_slider

NAN = torch.tensor([[0.0, float("nan")], [0.1, 0.2]])
INF = torch.tensor([[0.0, float("inf")], [0.1, 0.2]])
GOOD = torch.zeros(2, 2)
PATH = fm.LinearInterpolant()
MODEL = fm.VelocityMLP(hidden=8, n_layers=1)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _raises(call, error, word):
    with pytest.raises(error, match=rf"\b{word}\b") as info:
        call()
    # raised by fmhelpers itself, not by torch or matplotlib deep inside
    assert info.traceback[-1].path.parts[-2] == "fmhelpers", str(info.traceback[-1].path)


# every public function that takes points, with a point argument replaced by `bad`
POINT_CALLS = {
    "in_checkerboard": lambda bad: fm.in_checkerboard(bad),
    "checkerboard_density": lambda bad: fm.checkerboard_density(bad),
    "marginal_velocity": lambda bad: fm.marginal_velocity(bad, 0.5),
    "marginal_density": lambda bad: fm.marginal_density(bad, 0.5),
    "marginal_posterior_mean": lambda bad: fm.marginal_posterior_mean(bad, 0.5),
    "in_support_fraction": lambda bad: fm.in_support_fraction(bad),
    "distance_to_board": lambda bad: fm.distance_to_board(bad),
    "sliced_wasserstein x": lambda bad: fm.sliced_wasserstein(bad, GOOD),
    "sliced_wasserstein y": lambda bad: fm.sliced_wasserstein(GOOD, bad),
    "histogram_tv": lambda bad: fm.histogram_tv(bad),
    "interpolate x_0": lambda bad: PATH.interpolate(bad, GOOD, 0.5),
    "interpolate x_1": lambda bad: PATH.interpolate(GOOD, bad, 0.5),
    "conditional_velocity": lambda bad: PATH.conditional_velocity(GOOD, bad, 0.5),
    "point_and_velocity": lambda bad: PATH.point_and_velocity(bad, GOOD, 0.5),
    "minibatch_target": lambda bad: fm.minibatch_target(bad, GOOD, 0.5),
    "cfm_loss": lambda bad: fm.cfm_loss(MODEL, GOOD, bad, 0.5),
    "VelocityMLP": lambda bad: MODEL(bad, 0.5),
    "euler": lambda bad: fm.euler(MODEL, bad, 2),
    "rk4": lambda bad: fm.rk4(fm.marginal_velocity, bad, 2),
    "log_likelihood": lambda bad: fm.log_likelihood(MODEL, bad, 0.5, n_steps=2),
    "divergence": lambda bad: fm.divergence(MODEL, bad, 0.5),
    "sample_sde": lambda bad: fm.sample_sde(MODEL, bad, 2),
    "plot_samples": lambda bad: fm.plot_samples(bad),
    "fit_one_step": lambda bad: fm.fit_one_step(fm.MeanFlowMLP(), bad, GOOD, n_iterations=1, progress=False),
    "plot_quiver points": lambda bad: fm.plot_quiver(bad, GOOD),
    "plot_quiver vectors": lambda bad: fm.plot_quiver(GOOD, bad),
}
BAD_POINTS = {
    "NaN": (NAN, ValueError, "NaN"),
    "inf": (INF, ValueError, "infinite"),
    "shape (2, 3)": (torch.zeros(2, 3), ValueError, "shape"),
    "numpy": (np.zeros((2, 2)), TypeError, "torch.Tensor"),
    "int tensor": (torch.zeros(2, 2, dtype=torch.long), TypeError, "floating"),
}


@pytest.mark.parametrize("bad", BAD_POINTS, ids=str)
@pytest.mark.parametrize("name", POINT_CALLS, ids=str)
def test_bad_points_are_refused_at_the_entry(name, bad):
    value, error, word = BAD_POINTS[bad]
    _raises(lambda: POINT_CALLS[name](value), error, word)


TIME_CALLS = {
    "marginal_velocity": lambda t: fm.marginal_velocity(GOOD, t),
    "interpolate": lambda t: PATH.interpolate(GOOD, GOOD, t),
    "minibatch_target": lambda t: fm.minibatch_target(GOOD, GOOD, t),
    "VelocityMLP": lambda t: MODEL(GOOD, t),
    "cfm_loss": lambda t: fm.cfm_loss(MODEL, GOOD, GOOD, t),
    "velocity_grid": lambda t: fm.velocity_grid(fm.marginal_velocity, t, n_grid=2),
}
BAD_TIMES = {
    "NaN": (float("nan"), ValueError, "t"),
    "inf": (float("inf"), ValueError, "t"),
    "above 1": (1.5, ValueError, "t"),
    "string": ("0.5", TypeError, "t"),
}


@pytest.mark.parametrize("bad", BAD_TIMES, ids=str)
@pytest.mark.parametrize("name", TIME_CALLS, ids=str)
def test_bad_times_are_refused(name, bad):
    value, error, word = BAD_TIMES[bad]
    _raises(lambda: TIME_CALLS[name](value), error, word)


def test_times_as_numpy_values_are_accepted():
    assert torch.equal(fm.marginal_velocity(GOOD, np.float64(0.5)), fm.marginal_velocity(GOOD, 0.5))
    assert torch.equal(MODEL(GOOD, np.float32(0.25)), MODEL(GOOD, 0.25))


# ---- generators, seeds, devices -----------------------------------------------------------------
GENERATOR_CALLS = {
    "sample_gaussian": lambda g: fm.sample_gaussian(3, generator=g),
    "sample_checkerboard": lambda g: fm.sample_checkerboard(3, generator=g),
    "sample_time": lambda g: fm.sample_time(3, generator=g),
    "sliced_wasserstein": lambda g: fm.sliced_wasserstein(GOOD, GOOD, generator=g),
    "loss_floor": lambda g: fm.loss_floor(n=10, generator=g),
}


@pytest.mark.parametrize("name", GENERATOR_CALLS, ids=str)
def test_an_int_generator_says_how_to_make_one(name):
    _raises(lambda: GENERATOR_CALLS[name](3), TypeError, "generator")
    with pytest.raises(TypeError, match=r"manual_seed\(3\)"):
        GENERATOR_CALLS[name](3)
    _raises(lambda: GENERATOR_CALLS[name]("seed"), TypeError, "generator")


@pytest.mark.parametrize("call", [
    lambda: fm.train(MODEL, n_iterations=1, batch_size=4, seed=1.5, progress=False),
    lambda: fm.train(MODEL, n_iterations=1, batch_size=4, seed=torch.Generator(), progress=False),
    lambda: fm.VelocityMLP(seed="0"),
], ids=["train float", "train generator", "VelocityMLP str"])
def test_a_seed_must_be_an_int(call):
    _raises(call, TypeError, "seed")


MISSING = [d for d in ("cuda", "mps") if d not in ("cuda" if torch.cuda.is_available() else "",
                                                   "mps" if torch.backends.mps.is_available() else "")]
DEVICE_CALLS = {
    "sample_gaussian": lambda d: fm.sample_gaussian(3, device=d),
    "sample_checkerboard": lambda d: fm.sample_checkerboard(3, device=d),
    "train": lambda d: fm.train(fm.VelocityMLP(hidden=4, n_layers=1), n_iterations=1, batch_size=4, device=d,
                                progress=False),
    "load_checkpoint": lambda d: fm.load_checkpoint("notebooks/checkpoints/velocity_mlp.pt", device=d),
    "load_or_train": lambda d: fm.load_or_train("does-not-exist.pt", device=d),
}


@pytest.mark.parametrize("device", MISSING)
@pytest.mark.parametrize("name", DEVICE_CALLS, ids=str)
def test_a_device_this_machine_lacks_is_refused_by_name(name, device):
    with pytest.raises(ValueError, match=rf"device '{device}' is not available.*available: cpu"):
        DEVICE_CALLS[name](device)


@pytest.mark.parametrize("name", DEVICE_CALLS, ids=str)
def test_a_device_that_is_no_device_is_refused(name):
    _raises(lambda: DEVICE_CALLS[name]("gpu0"), ValueError, "device")
    _raises(lambda: DEVICE_CALLS[name](3), TypeError, "device")


# ---- dtypes end to end --------------------------------------------------------------------------
@pytest.mark.parametrize("solver", fm.SOLVERS)
def test_float64_points_through_a_float32_model(solver, gen):
    x_0 = torch.randn(5, 2, generator=gen)
    out64 = fm.SOLVERS[solver](MODEL, x_0.double(), 3)
    assert out64.dtype == torch.float64
    assert torch.allclose(out64.float(), fm.SOLVERS[solver](MODEL, x_0, 3), atol=1e-5)


def test_float64_and_mixed_dtypes_in_the_loss_and_the_minibatch_target(gen):
    x_0, x_1 = torch.randn(16, 2, generator=gen), fm.sample_checkerboard(16, generator=gen)
    t = torch.rand(16, 1, generator=gen)
    loss32 = fm.cfm_loss(MODEL, x_0, x_1, t)
    loss64 = fm.cfm_loss(MODEL, x_0.double(), x_1.double(), t.double())
    assert loss64.dtype == torch.float64 and abs(loss64.item() - loss32.item()) < 1e-4
    mixed = fm.minibatch_target(x_0, x_1.double(), t)
    assert mixed.dtype == torch.float64
    assert torch.allclose(mixed, fm.minibatch_target(x_0.double(), x_1.double(), t.double()))
    assert fm.cfm_loss(MODEL, x_0, x_1.double(), t, target="minibatch").dtype == torch.float64


# ---- what a velocity field returns --------------------------------------------------------------
def _nan_after(k_bad):
    def field(x, t):
        return torch.full_like(x, float("nan")) if t[0, 0] >= k_bad / 4 else torch.ones_like(x)
    return field


@pytest.mark.parametrize("solver, step", [("euler", 2), ("midpoint", 2), ("heun", 1), ("rk4", 1)])
def test_a_field_returning_nan_is_named_with_its_step_and_time(solver, step):
    # Heun and RK4 reach t = 0.5 on the last stage of step 1; Euler and midpoint on step 2
    with pytest.raises(ValueError, match=rf"velocity returned 6 NaN at step {step} of 4 \(t = 0\.5, {solver}\)"):
        fm.SOLVERS[solver](_nan_after(2), torch.zeros(3, 2), 4)


@pytest.mark.parametrize("result, error, word", [
    (lambda x, t: x[:, :1], ValueError, "shape"),          # (n, 1) is not broadcast silently
    (lambda x, t: x[:1], ValueError, "shape"),
    (lambda x, t: x.numpy(), TypeError, "torch.Tensor"),
    (lambda x, t: [0.0, 0.0], TypeError, "torch.Tensor"),
    (lambda x, t: x * float("inf"), ValueError, "infinite"),
], ids=["(n, 1)", "(1, 2)", "numpy", "list", "inf"])
def test_solvers_check_what_the_field_returns(result, error, word):
    x_0 = torch.ones(3, 2)
    for solver in fm.SOLVERS.values():
        _raises(lambda: solver(result, x_0, 2), error, word)
    _raises(lambda: fm.cfm_loss(result, x_0, x_0, 0.5), error, word)
    _raises(lambda: fm.velocity_grid(result, 0.5, n_grid=3), error, word)


# ---- plotting -----------------------------------------------------------------------------------
TRAJ = torch.zeros(3, 4, 2)
PLOT_CALLS = [
    ("ax array", lambda: fm.plot_samples(GOOD, plt.subplots(1, 2)[1]), TypeError, "ax"),
    ("ax string", lambda: fm.plot_density(fm.checkerboard_density, "left"), TypeError, "ax"),
    ("draw_board ax", lambda: fm.draw_board(plt.subplots(1, 2)[1]), TypeError, "ax"),
    ("velocity_field ax", lambda: fm.plot_velocity_field(fm.marginal_velocity, 0.5, plt.subplots(2, 2)[1]),
     TypeError, "ax"),
    ("trajectory numpy", lambda: fm.plot_trajectories(TRAJ.numpy()), TypeError, "trajectory"),
    ("trajectory None", lambda: fm.plot_trajectories(None), TypeError, "trajectory"),
    ("trajectory NaN", lambda: fm.plot_trajectories(TRAJ * float("nan")), ValueError, "trajectory"),
    ("n_grid 0 field", lambda: fm.plot_velocity_field(fm.marginal_velocity, 0.5, n_grid=0), ValueError, "n_grid"),
    ("n_grid 0 density", lambda: fm.plot_density(fm.checkerboard_density, n_grid=0), ValueError, "n_grid"),
    ("max_points", lambda: fm.plot_samples(GOOD, max_points=-1), ValueError, "max_points"),
    ("n_show", lambda: fm.plot_trajectories(TRAJ, n_show=-1), ValueError, "n_show"),
    ("lim negative", lambda: fm.plot_samples(GOOD, lim=-1.0), ValueError, "lim"),
    ("lim zero", lambda: fm.plot_density(fm.checkerboard_density, lim=0.0), ValueError, "lim"),
    ("board", lambda: fm.plot_samples(GOOD, board="yes"), TypeError, "board"),
    ("density shape", lambda: fm.plot_density(lambda x: x, n_grid=4), ValueError, "density"),
    ("density NaN", lambda: fm.plot_density(lambda x: x[:, 0] * float("nan"), n_grid=4), ValueError, "density"),
    ("density log", lambda: fm.plot_density(lambda x: -x[:, 0].abs() - 1, n_grid=4), ValueError, "density"),
    ("density numpy", lambda: fm.plot_density(lambda x: x[:, 0].numpy(), n_grid=4), ValueError, "density"),
    ("field NaN", lambda: fm.plot_velocity_field(lambda x, t: x * float("nan"), 0.5), ValueError, "velocity"),
    ("field not callable", lambda: fm.plot_velocity_field("v*", 0.5), TypeError, "velocity"),
    ("time_grid empty", lambda: fm.plot_time_grid({}), ValueError, "frames"),
    ("loss window", lambda: fm.plot_loss([1.0, 2.0], window=0), ValueError, "window"),
    ("loss strings", lambda: fm.plot_loss(["a", "b"]), TypeError, "losses"),
    ("loss floor", lambda: fm.plot_loss([1.0], floor=float("nan")), ValueError, "floor"),
    ("quiver speed", lambda: fm.plot_quiver(GOOD, GOOD, speed=0.0), ValueError, "speed"),
    ("quiver key", lambda: fm.plot_quiver(GOOD, GOOD, key="yes"), TypeError, "key"),
    ("field speed", lambda: fm.plot_velocity_field(fm.marginal_velocity, 0.5, speed=-1.0), ValueError, "speed"),
    ("trajectory legend", lambda: fm.plot_trajectories(TRAJ, legend=1), TypeError, "legend"),
    ("trajectory board", lambda: fm.plot_trajectories(TRAJ, board="4x4"), TypeError, "board"),
    ("density vmax", lambda: fm.plot_density(fm.checkerboard_density, vmax=0.0), ValueError, "vmax"),
    ("density colorbar", lambda: fm.plot_density(fm.checkerboard_density, colorbar="no"), TypeError, "colorbar"),
    ("histogram points", lambda: fm.plot_histogram(torch.zeros(4, 3)), ValueError, "x"),
    ("histogram vmax", lambda: fm.plot_histogram(GOOD, vmax=-1.0), ValueError, "vmax"),
]


@pytest.mark.parametrize("name, call, error, word", PLOT_CALLS, ids=[row[0] for row in PLOT_CALLS])
def test_plotting_refuses_bad_input(name, call, error, word):
    _raises(call, error, word)


def test_plot_samples_draws_the_board_it_is_given():
    ax = fm.plot_samples(fm.sample_checkerboard(10, board=fm.Board(grid_size=6, scale=3.0)),
                         board=fm.Board(grid_size=6, scale=3.0))
    assert len(ax.patches) == 18
    assert len(fm.plot_samples(GOOD, board=True).patches) == 8


def test_plots_evaluate_a_model_on_its_own_device():
    seen = []

    class Spy(fm.VelocityMLP):
        def forward(self, x, t):
            seen.append((x.device, t.device))
            return super().forward(x, t)

    fm.plot_velocity_field(Spy(hidden=4, n_layers=1), 0.5, n_grid=3)
    assert seen == [(torch.device("cpu"), torch.device("cpu"))]


# ---- widgets ------------------------------------------------------------------------------------
WIDGET_CALLS = [
    ("index too large", lambda: SliderView([1, 2], lambda ax, v: None).show_index(2), ValueError, "index"),
    ("index negative", lambda: SliderView([1, 2], lambda ax, v: None).render(-1), ValueError, "index"),
    ("frames empty", lambda: time_slider({}, lambda ax, x, t: None), ValueError, "frames"),
    ("frames a list", lambda: time_slider([0.5], lambda ax, x, t: None), TypeError, "frames"),
    ("results empty", lambda: steps_slider({}, lambda ax, x, n: None), ValueError, "results"),
    ("draw string", lambda: time_slider({0.5: None}, "draw"), TypeError, "draw"),
    ("draw None", lambda: steps_slider({1: None}, None), TypeError, "draw"),
    ("readout", lambda: SliderView([1], lambda ax, v: None, readout="T"), TypeError, "readout"),
    ("readout returns", lambda: SliderView([1], lambda ax, v: None, readout=lambda v: v), TypeError, "readout"),
    ("values string", lambda: SliderView("abc", lambda ax, v: None), TypeError, "values"),
]


@pytest.mark.parametrize("name, call, error, word", WIDGET_CALLS, ids=[row[0] for row in WIDGET_CALLS])
def test_widgets_refuse_bad_input(name, call, error, word):
    _raises(call, error, word)


# ---- checkpoints --------------------------------------------------------------------------------
def _payload(tmp_path):
    path = fm.save_checkpoint(tmp_path / "m.pt", fm.VelocityMLP(hidden=8, n_layers=1))
    return path, torch.load(path, weights_only=True)


def test_a_config_that_does_not_match_the_weights(tmp_path):
    path, payload = _payload(tmp_path)
    payload["config"]["hidden"] = 16
    torch.save(payload, path)
    _raises(lambda: fm.load_checkpoint(path), ValueError, "weights")
    payload["config"]["activation"] = "tanh"
    torch.save(payload, path)
    _raises(lambda: fm.load_checkpoint(path), ValueError, "config")


@pytest.mark.parametrize("key", ["config", "state_dict", "snapshots", "meta", "losses"])
def test_a_checkpoint_with_a_missing_key(tmp_path, key):
    path, payload = _payload(tmp_path)
    del payload[key]
    torch.save(payload, path)
    _raises(lambda: fm.load_checkpoint(path), ValueError, key)


@pytest.mark.parametrize("snapshots, error, word", [
    ([1, 2], TypeError, "snapshots"),
    ({0: "weights"}, TypeError, "snapshots"),
    ({0: {"net.0.weight": torch.zeros(1)}}, ValueError, "snapshots"),
    ({"first": {}}, TypeError, "iteration"),
])
def test_snapshots_are_checked_at_save_time(tmp_path, snapshots, error, word):
    _raises(lambda: fm.save_checkpoint(tmp_path / "m.pt", MODEL, snapshots=snapshots), error, word)
    assert not (tmp_path / "m.pt").exists()


def test_a_temporary_file_left_by_a_killed_save_is_removed(tmp_path):
    (tmp_path / "m.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    (tmp_path / "other.pt.x.tmp").write_bytes(b"not ours")
    fm.save_checkpoint(tmp_path / "m.pt", MODEL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt", "other.pt.x.tmp"]


def test_load_or_train_keeps_a_checkpoint_of_another_schedule_or_board(tmp_path, capsys):
    """The old retrain bug: a non-default interpolant or board retrained on every call."""
    small = dict(n_iterations=3, batch_size=16, snapshot_every=None, progress=False)
    for changes in (dict(interpolant=fm.TrigInterpolant()), dict(board=fm.Board(grid_size=4)),
                    dict(board=fm.Board(grid_size=6, scale=3.0))):
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.pt"
        first = fm.load_or_train(path, **small, **changes)
        mtime = path.stat().st_mtime_ns
        again = fm.load_or_train(path, **small, **changes)
        assert path.stat().st_mtime_ns == mtime and capsys.readouterr().out == ""
        assert again.recipe == first.recipe == fm.DEFAULT_RECIPE.replace(n_iterations=3, batch_size=16, **changes)


# ---- memory ------------------------------------------------------------------------------------
def test_count_crossings_is_blocked_and_agrees_with_the_direct_count(gen):
    paths = torch.randn(6, 12, 2, generator=gen).cumsum(0)
    direct = fm.count_crossings(paths, max_elements=10**9)
    assert direct == fm.count_crossings(paths, max_elements=1) > 0
    # long paths without subsampling (the full-size case used 2.4 GB before the blocks)
    long = torch.randn(101, 40, 2, generator=gen).cumsum(0) * 0.05
    assert 0 <= fm.count_crossings(long) <= 40 * 39 // 2
    _raises(lambda: fm.count_crossings(long[:1]), ValueError, "paths")
    _raises(lambda: fm.count_crossings(long.numpy()), ValueError, "paths")


# ---- exercise checks take an answer in any float type -------------------------------------------
def test_exercise_checks_accept_float64_numpy_and_python_numbers(capsys):
    import math

    from fmhelpers import exercises as ex

    exact = math.erf(math.sqrt(2)) ** 2 / 2
    assert ex.check_gaussian_on_board(np.float64(exact)) is True
    assert ex.check_gaussian_on_board(torch.tensor(exact, dtype=torch.float64)) is True
    assert ex.check_field_at_zero(lambda x: fm.marginal_velocity(x.double(), 0.0)) is True
    assert ex.check_euler(lambda v, x, n: fm.euler(v, x.double(), n)) is True
    assert ex.check_loss(lambda m, a, b, t: fm.cfm_loss(m, a.double(), b.double(), t.double())) is True
    assert ex.check_variance(lambda t: np.float32((1 - t) ** 2 + t**2 * 4 / 3)) is True
    assert capsys.readouterr().out.count("correct!") == 6
    with pytest.raises(TypeError, match="fraction.*single number"):
        ex.check_gaussian_on_board("0.3")


# ---- one row (at least) for every public callable: the list below must cover them all ----------
def _ckpt(tmp="notebooks/checkpoints/velocity_mlp.pt"):
    return fm.load_checkpoint(tmp)


EVERY = {
    "Board": (lambda: fm.Board(grid_size=4.5), TypeError, "grid_size"),
    "Checkpoint": (lambda: _ckpt().model_at(7), ValueError, "iteration"),
    "Coefficients": (lambda: PATH.coefficients(-0.5), ValueError, "t"),
    "Interpolant": (lambda: fm.Interpolant(), NotImplementedError, ""),
    "LinearInterpolant": (lambda: PATH.point_and_velocity(GOOD, torch.zeros(3, 2), 0.5), ValueError, "x_0"),
    "TrigInterpolant": (lambda: fm.TrigInterpolant().interpolate(GOOD, GOOD, torch.zeros(2, 2)), ValueError, "t"),
    "Recipe": (lambda: fm.Recipe(lr_schedule="step"), ValueError, "lr_schedule"),
    "TrainResult": (lambda: fm.train("mlp"), TypeError, "model"),
    "VelocityMLP": (lambda: fm.VelocityMLP(activation="tanh"), ValueError, "activation"),
    "best_device": (lambda: fm.sample_gaussian(2, device="cuda:7"), ValueError, "device"),
    "black_cells": (lambda: fm.black_cells(board="4x4"), TypeError, "board"),
    "cfm_loss": (lambda: fm.cfm_loss(MODEL, GOOD, GOOD, 0.5, target="exact"), ValueError, "target"),
    "checkerboard_density": (lambda: fm.checkerboard_density(GOOD, board=None), TypeError, "board"),
    "count_crossings": (lambda: fm.count_crossings(TRAJ, max_elements=0), ValueError, "max_elements"),
    "draw_board": (lambda: fm.draw_board(None, board=4), TypeError, "board"),
    "euler": (lambda: fm.euler(fm.marginal_velocity, GOOD, 0), ValueError, "n_steps"),
    "heun": (lambda: fm.heun(fm.marginal_velocity, GOOD, 2, return_trajectory="yes"), TypeError, "return_trajectory"),
    "histogram_tv": (lambda: fm.histogram_tv(GOOD, bins=0), ValueError, "bins"),
    "in_checkerboard": (lambda: fm.in_checkerboard(GOOD, board=fm.Board), TypeError, "board"),
    "in_support_fraction": (lambda: fm.in_support_fraction(torch.zeros(0, 2)), ValueError, "x"),
    "distance_to_board": (lambda: fm.distance_to_board(torch.zeros(3, 2), board=4), TypeError, "board"),
    "load_checkpoint": (lambda: fm.load_checkpoint(3), TypeError, "path"),
    "load_or_train": (lambda: fm.load_or_train("x.pt", lr=0), ValueError, "lr"),
    "loss_floor": (lambda: fm.loss_floor(n=10, target="minibatch"), ValueError, "batch_size"),
    "marginal_density": (lambda: fm.marginal_density(GOOD, 0.5, log="yes"), TypeError, "log"),
    "marginal_cell_weights": (lambda: fm.marginal_cell_weights(GOOD, 1.5), ValueError, "t"),
    "continuity_terms": (lambda: fm.continuity_terms(GOOD, 0.9995), ValueError, "t"),
    "marginal_posterior_mean": (lambda: fm.marginal_posterior_mean(GOOD, 0.5, t_eps=0.9), ValueError, "t_eps"),
    "marginal_velocity": (lambda: fm.marginal_velocity(GOOD, 0.5, interpolant=fm.TrigInterpolant), TypeError,
                          "interpolant"),
    "midpoint": (lambda: fm.midpoint(fm.marginal_velocity, GOOD, -1), ValueError, "n_steps"),
    "minibatch_target": (lambda: fm.minibatch_target(GOOD, GOOD, 0.5, alpha_min=-1.0), ValueError, "alpha_min"),
    "plot_density": (lambda: fm.plot_density("p_1"), TypeError, "density"),
    "plot_histogram": (lambda: fm.plot_histogram(GOOD, bins=0), ValueError, "bins"),
    "plot_loss": (lambda: fm.plot_loss([]), ValueError, "losses"),
    "plot_quiver": (lambda: fm.plot_quiver(GOOD, torch.zeros(3, 2)), ValueError, "points"),
    "plot_samples": (lambda: fm.plot_samples(GOOD, title=3), TypeError, "title"),
    "plot_time_grid": (lambda: fm.plot_time_grid({0.5: GOOD}, axes=plt.subplots(1, 2)[1]), ValueError, "axes"),
    "plot_trajectories": (lambda: fm.plot_trajectories(torch.zeros(3, 4)), ValueError, "trajectory"),
    "plot_velocity_field": (lambda: fm.plot_velocity_field(fm.marginal_velocity, 1.5), ValueError, "t"),
    "rk4": (lambda: fm.rk4(fm.marginal_velocity, GOOD, 2.0), TypeError, "n_steps"),
    "sample_checkerboard": (lambda: fm.sample_checkerboard(-1), ValueError, "n"),
    "sample_gaussian": (lambda: fm.sample_gaussian(2.5), TypeError, "n"),
    "sample_time": (lambda: fm.sample_time(4, "early"), ValueError, "time_sampling"),
    "save_checkpoint": (lambda: fm.save_checkpoint("/tmp/never.pt", MODEL, losses=["a"]), TypeError, "losses"),
    "sliced_wasserstein": (lambda: fm.sliced_wasserstein(GOOD, GOOD, n_projections=0), ValueError, "n_projections"),
    "train": (lambda: fm.train(MODEL, snapshot_every=0, progress=False), ValueError, "snapshot_every"),
    "velocity_grid": (lambda: fm.velocity_grid(fm.marginal_velocity, 0.5, lim=float("nan")), ValueError, "lim"),
    # likelihood
    "divergence": (lambda: fm.divergence(lambda x, t: x.detach(), GOOD, 0.5), ValueError, "differentiable"),
    "gaussian_log_density": (lambda: fm.gaussian_log_density(INF), ValueError, "x"),
    "log_likelihood": (lambda: fm.log_likelihood(MODEL, GOOD, 0.0), ValueError, "t"),
    "marginal_score": (lambda: fm.marginal_score(GOOD, 1.0), ValueError, "t"),
    "score_from_velocity": (lambda: fm.score_from_velocity(torch.zeros(3, 2), GOOD, 0.5), ValueError, "v"),
    "sample_sde": (lambda: fm.sample_sde(MODEL, GOOD, 4, noise=-1.0), ValueError, "noise"),
    # widgets
    "SliderView": (lambda: SliderView([1, 2], lambda ax, v: None, ncols=0), ValueError, "ncols"),
    "time_slider": (lambda: time_slider({1.5: None}, lambda ax, x, t: None), ValueError, "frames"),
    "steps_slider": (lambda: steps_slider({0: None}, lambda ax, x, n: None), ValueError, "results"),
    # exercise checks: an answer of the wrong kind is named, not a crash deep inside
    "check_is_black": (lambda: fm.exercises.check_is_black(torch.zeros(3)), TypeError, "is_black"),
    "check_gaussian_on_board": (lambda: fm.exercises.check_gaussian_on_board(None), TypeError, "fraction"),
    "check_schedule": (lambda: fm.exercises.check_schedule(fm.LinearInterpolant()), TypeError, "cls"),
    "check_variance": (lambda: fm.exercises.check_variance(1.0), TypeError, "var_x_t"),
    "check_field_at_zero": (lambda: fm.exercises.check_field_at_zero(GOOD), TypeError, "v_zero"),
    "check_floor_at": (lambda: fm.exercises.check_floor_at(3.4), TypeError, "floor_at"),
    "check_loss": (lambda: fm.exercises.check_loss("mse"), TypeError, "my_loss"),
    "check_late_times": (lambda: fm.exercises.check_late_times(None), TypeError, "sample"),
    "check_euler": (lambda: fm.exercises.check_euler(fm.euler(fm.marginal_velocity, GOOD, 2)), TypeError, "my_euler"),
    "check_smallest_steps": (lambda: fm.exercises.check_smallest_steps(4, [0.2, 0.9]), TypeError, "fractions"),
    "check_mass_in_square": (lambda: fm.exercises.check_mass_in_square(1.0), TypeError, "mass_in_square"),
    "check_radius": (lambda: fm.exercises.check_radius(2.0), TypeError, "radius_at"),
    "check_divergence_fd": (lambda: fm.exercises.check_divergence_fd(None), TypeError, "my_divergence"),
    "check_linear_score": (lambda: fm.exercises.check_linear_score(0.5), TypeError, "score_at"),
    "check_ot_pairing": (lambda: fm.exercises.check_ot_pairing("hungarian"), TypeError, "my_pairing"),
    "check_straightness": (lambda: fm.exercises.check_straightness(0.0), TypeError, "my_straightness"),
    "couple": (lambda: fm.couple(GOOD, GOOD, "sinkhorn"), ValueError, "coupling"),
    "check_decay_average": (lambda: fm.exercises.check_decay_average("exp"), TypeError, "u_decay"),
    "check_meanflow_sampler": (lambda: fm.exercises.check_meanflow_sampler(None), TypeError, "my_sample"),
    "MeanFlowMLP": (lambda: fm.MeanFlowMLP(hidden=0), ValueError, "hidden"),
    "MeanFlowRecipe": (lambda: fm.MeanFlowRecipe(equal_fraction=1.5), ValueError, "equal_fraction"),
    "MeanFlowResult": (lambda: fm.train_meanflow(fm.MeanFlowMLP(), "fast"), TypeError, "recipe"),
    "average_velocity": (lambda: fm.average_velocity(fm.marginal_velocity, GOOD, 0.8, 0.2), ValueError, "t"),
    "meanflow_loss": (lambda: fm.meanflow_loss(fm.MeanFlowMLP(), GOOD, GOOD, torch.zeros(2, 1), torch.zeros(2, 1),
                                               recipe=fm.MEANFLOW_RECIPE.replace(target="oracle")), ValueError, "target"),
    "meanflow_sample": (lambda: fm.meanflow_sample(fm.MeanFlowMLP(), GOOD, 0), ValueError, "n_steps"),
    "meanflow_target": (lambda: fm.meanflow_target("u", GOOD, torch.zeros(2, 1), torch.zeros(2, 1), GOOD), TypeError, "u"),
    "sample_intervals": (lambda: fm.sample_intervals(0, fm.MEANFLOW_RECIPE), ValueError, "n"),
    "train_meanflow": (lambda: fm.train_meanflow("mlp"), TypeError, "model"),
    "fit_one_step": (lambda: fm.fit_one_step(fm.MeanFlowMLP(), GOOD, GOOD[:1], progress=False), ValueError, "x_1"),
    "flow_pairs": (lambda: fm.flow_pairs(MODEL, 10, solver="rk5"), ValueError, "solver"),
    "ot_permutation": (lambda: fm.ot_permutation(GOOD, GOOD[:1]), ValueError, "x_1"),
    "pairing_cost": (lambda: fm.pairing_cost(GOOD, torch.zeros(3, 3)), ValueError, "x_1"),
    "reflow": (lambda: fm.reflow(MODEL, fm.DEFAULT_RECIPE), ValueError, "coupling"),
    "straightness": (lambda: fm.straightness(fm.marginal_velocity, GOOD, n_steps=0), ValueError, "n_steps"),
}


def _public_callables():
    import inspect

    from fmhelpers import exercises, widgets

    names = {n for n in fm.__all__ if callable(getattr(fm, n)) and not inspect.ismodule(getattr(fm, n))}
    names |= {n for n in ("SliderView", "time_slider", "steps_slider") if hasattr(widgets, n)}
    names |= {n for n, f in vars(exercises).items() if n.startswith("check_") and getattr(f, "__module__", "") == exercises.__name__}
    return names


def test_every_public_callable_has_a_bad_input_row():
    assert _public_callables() == set(EVERY)


@pytest.mark.parametrize("name", sorted(EVERY))
def test_each_public_callable_refuses_bad_input(name):
    call, error, word = EVERY[name]
    if error is NotImplementedError:  # the base class: a schedule is defined by a subclass
        with pytest.raises(NotImplementedError):
            call()
        return
    _raises(call, error, word)
