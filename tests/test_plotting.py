import matplotlib.pyplot as plt
import pytest
import torch

import fmhelpers as fm
from badinput import EMPTY, GOOD, points_test, raises_here, table_test, times_test


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_every_plot_draws_on_the_given_axes(gen):
    x = fm.sample_checkerboard(300, generator=gen)
    _, axes = plt.subplots(2, 3)
    axes = axes.ravel()
    assert fm.plot_samples(x, axes[0], board=True) is axes[0] and len(axes[0].collections) == 1
    assert fm.plot_velocity_field(fm.marginal_velocity, 0.5, axes[1]) is axes[1] and axes[1].collections
    traj = fm.euler(fm.marginal_velocity, fm.sample_gaussian(10, generator=gen), 4, return_trajectory=True)
    assert fm.plot_trajectories(traj, axes[2]) is axes[2] and len(axes[2].collections[0].get_segments()) == 10 * 4
    assert fm.plot_density(lambda p: fm.marginal_density(p, 0.5), axes[3], n_grid=20) is axes[3] and axes[3].images
    assert fm.plot_loss([3.0, 2.0, 1.5] * 30, axes[4], floor=1.0, window=10) is axes[4]
    assert len(axes[4].lines) == 3


def test_without_axes_a_figure_is_made(gen):
    ax = fm.plot_samples(fm.sample_gaussian(10, generator=gen), title="pi_0")
    assert ax.get_title() == "pi_0"


def test_time_grid(gen):
    frames = {t: fm.sample_gaussian(50, generator=gen) for t in (0.0, 0.5, 1.0)}
    axes = fm.plot_time_grid(frames)
    assert [a.get_title() for a in axes] == ["t = 0", "t = 0.5", "t = 1"]
    with pytest.raises(ValueError, match="axes"):
        fm.plot_time_grid(frames, axes=plt.subplots(1, 2)[1])


def test_quiver_caps_fast_arrows_and_says_the_scale():
    points = torch.zeros(4, 2)
    vectors = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [100.0, 0.0]])
    ax = fm.plot_quiver(points, vectors, speed=3.0, length=0.6)
    full, capped = ax.collections
    assert full.U.max() == pytest.approx(3.0) and capped.U.max() == pytest.approx(3.0)  # 100 drawn as 3
    assert full.scale == pytest.approx(3.0 / 0.6) and capped.get_alpha() < 1
    assert "|v| = 3" in ax.get_xlabel() and "pale" in ax.get_xlabel()
    ax = fm.plot_quiver(points[:3], vectors[:3], speed=5.0, key=False)
    assert len(ax.collections) == 1 and ax.get_xlabel() == ""


def test_density_is_dark_where_high_with_a_colour_bar():
    fig, ax = plt.subplots()
    fm.plot_density(fm.checkerboard_density, ax, n_grid=40)
    image = ax.images[0]
    assert image.get_cmap().name == fm.STYLE["density_cmap"]
    assert image.get_cmap()(1.0)[0] < 0.1 < 0.9 < image.get_cmap()(0.0)[0]  # high dark, zero white
    assert len(fig.axes) == 2  # the colour bar


def test_histogram_integrates_to_the_mass_in_the_square(gen):
    x = fm.sample_checkerboard(20_000, generator=gen)
    ax = fm.plot_histogram(x, bins=40, lim=2.0, colorbar=False)
    values = ax.images[0].get_array()
    assert float(values.sum()) * (4.0 / 40) ** 2 == pytest.approx(1.0)
    # the same samples against the exact density: one colour scale, similar heights on the cells
    assert float(values[values > 0].mean()) == pytest.approx(0.125, rel=0.05)


def test_a_grid_law_is_drawn_over_the_board_with_the_mask_strips_beyond_it():
    ax = fm.plot_grid_law(fm.grid_law(8), colorbar=False)
    mesh = ax.collections[0]
    assert ax.get_xlim() == ax.get_ylim() == (-2.0, 2.0)
    assert (mesh.get_array().reshape(8, 8) == fm.grid_law(8).T.numpy()).all()  # x along columns, y along rows
    law = fm.path_law(0.5, V=8)
    ax = fm.plot_grid_law(law, colorbar=False)
    values = ax.collections[0].get_array().reshape(10, 10)  # with the blank gap before the mask's strip
    assert values.mask[8].all() and float(values[9, 9]) == law[8, 8].item() and ax.get_xlim()[1] > 2.0
    assert ax.collections[0].get_clim() == (0, law[:8, :8].max().item())  # the scale of the unmasked states
    assert [label.get_text() for label in ax.get_xticklabels()][-1] == "m"


def test_trajectories_are_coloured_by_time_from_the_source_to_the_target(gen):
    from matplotlib.colors import to_rgb

    traj = fm.euler(fm.marginal_velocity, fm.sample_gaussian(3, generator=gen), 4, return_trajectory=True)
    steps = fm.plot_trajectories(traj, board=False, legend=False).collections[0]
    colours = steps.get_colors()[:, :3]
    assert len(colours) == 4 * 3 and colours[0] == pytest.approx(fm.time_color(1 / 8))
    assert colours[-1] == pytest.approx(fm.time_color(7 / 8))
    assert abs(colours[0] - to_rgb(fm.STYLE["source"])).sum() < abs(colours[-1] - to_rgb(fm.STYLE["source"])).sum()
    assert len(fm.plot_trajectories(traj[:1], board=False, legend=False).collections) == 2  # one state: two dots


def test_trajectories_have_a_legend_and_the_board(gen):
    traj = fm.euler(fm.marginal_velocity, fm.sample_gaussian(5, generator=gen), 3, return_trajectory=True)
    ax = fm.plot_trajectories(traj)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["start", "end"]
    assert len(ax.patches) == 8
    ax = fm.plot_trajectories(traj, board=False, legend=False)
    assert ax.get_legend() is None and not ax.patches


def test_digits_are_drawn_as_one_mosaic_ink_black_on_white():
    x = -torch.ones(12, 64)
    x[0, 0] = 1.0   # the first image's top-left pixel is ink
    x[5, 63] = 3.0  # beyond the range: drawn as ink
    ax = fm.plot_digits(x, n_cols=5, row_labels=["a", "b", "c"], row_title="class", title="digits")
    image = ax.images[0]
    canvas = image.get_array()
    assert canvas.shape == (3 * 9 - 1, 5 * 9 - 1)  # 3 rows of 5 images, one-pixel gaps
    assert canvas[0, 0] == 1.0 and canvas[9 + 7, 7] == 1.0 and canvas[1, 1] == -1.0
    assert canvas.mask[8, 0] and canvas.mask[-1, -1]  # a gap, and the empty places after the 12th image
    assert image.get_cmap()(1.0)[0] < 0.1 < 0.9 < image.get_cmap()(0.0)[0]  # +1 black, -1 white
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"] and ax.get_ylabel() == "class"
    assert ax.get_title() == "digits"
    _, axes = plt.subplots(1, 2)
    assert fm.plot_digits(torch.zeros(4, 6, dtype=torch.float64), axes[1], shape=(2, 3), n_cols=2) is axes[1]


TRAJ = torch.zeros(3, 4, 2)
BAD = {
    "plot_digits": (lambda: fm.plot_digits(torch.zeros(3, 60)), ValueError, "x"),
    "plot_digits shape": (lambda: fm.plot_digits(torch.zeros(3, 64), shape=[8, 8]), TypeError, "shape"),
    "plot_digits n_cols": (lambda: fm.plot_digits(torch.zeros(3, 64), n_cols=0), ValueError, "n_cols"),
    "plot_digits row_labels": (lambda: fm.plot_digits(torch.zeros(3, 64), n_cols=1, row_labels=[0, 1]), ValueError,
                               "row_labels"),
    "plot_digits empty": (lambda: fm.plot_digits(torch.zeros(0, 64)), ValueError, "x"),
    "plot_digits ax": (lambda: fm.plot_digits(torch.zeros(3, 64), plt.subplots(1, 2)[1]), TypeError, "ax"),
    "ax array": (lambda: fm.plot_samples(GOOD, plt.subplots(1, 2)[1]), TypeError, "ax"),
    "ax string": (lambda: fm.plot_density(fm.checkerboard_density, "left"), TypeError, "ax"),
    "draw_board": (lambda: fm.draw_board(None, board=4), TypeError, "board"),
    "draw_board ax": (lambda: fm.draw_board(plt.subplots(1, 2)[1]), TypeError, "ax"),
    "plot_velocity_field": (lambda: fm.plot_velocity_field(fm.marginal_velocity, 1.5), ValueError, "t"),
    "velocity_field ax": (lambda: fm.plot_velocity_field(fm.marginal_velocity, 0.5, plt.subplots(2, 2)[1]),
                          TypeError, "ax"),
    "plot_trajectories": (lambda: fm.plot_trajectories(torch.zeros(3, 4)), ValueError, "trajectory"),
    "trajectory numpy": (lambda: fm.plot_trajectories(TRAJ.numpy()), TypeError, "trajectory"),
    "trajectory None": (lambda: fm.plot_trajectories(None), TypeError, "trajectory"),
    "trajectory NaN": (lambda: fm.plot_trajectories(TRAJ * float("nan")), ValueError, "trajectory"),
    "trajectory empty": (lambda: fm.plot_trajectories(torch.zeros(3, 0, 2)), ValueError, "trajectory"),  # IndexError
    "n_grid 0 field": (lambda: fm.plot_velocity_field(fm.marginal_velocity, 0.5, n_grid=0), ValueError, "n_grid"),
    "plot_density": (lambda: fm.plot_density("p_1"), TypeError, "density"),
    "n_grid 0 density": (lambda: fm.plot_density(fm.checkerboard_density, n_grid=0), ValueError, "n_grid"),
    "plot_samples": (lambda: fm.plot_samples(GOOD, title=3), TypeError, "title"),
    "max_points": (lambda: fm.plot_samples(GOOD, max_points=-1), ValueError, "max_points"),
    "n_show": (lambda: fm.plot_trajectories(TRAJ, n_show=-1), ValueError, "n_show"),
    "lim negative": (lambda: fm.plot_samples(GOOD, lim=-1.0), ValueError, "lim"),
    "lim zero": (lambda: fm.plot_density(fm.checkerboard_density, lim=0.0), ValueError, "lim"),
    "board": (lambda: fm.plot_samples(GOOD, board="yes"), TypeError, "board"),
    "density shape": (lambda: fm.plot_density(lambda x: x, n_grid=4), ValueError, "density"),
    "density NaN": (lambda: fm.plot_density(lambda x: x[:, 0] * float("nan"), n_grid=4), ValueError, "density"),
    "density log": (lambda: fm.plot_density(lambda x: -x[:, 0].abs() - 1, n_grid=4), ValueError, "density"),
    "density numpy": (lambda: fm.plot_density(lambda x: x[:, 0].numpy(), n_grid=4), ValueError, "density"),
    "field NaN": (lambda: fm.plot_velocity_field(lambda x, t: x * float("nan"), 0.5), ValueError, "velocity"),
    "field not callable": (lambda: fm.plot_velocity_field("v*", 0.5), TypeError, "velocity"),
    "plot_time_grid": (lambda: fm.plot_time_grid({0.5: GOOD}, axes=plt.subplots(1, 2)[1]), ValueError, "axes"),
    "time_grid empty": (lambda: fm.plot_time_grid({}), ValueError, "frames"),
    "plot_loss": (lambda: fm.plot_loss([]), ValueError, "losses"),
    "loss window": (lambda: fm.plot_loss([1.0, 2.0], window=0), ValueError, "window"),
    "loss strings": (lambda: fm.plot_loss(["a", "b"]), TypeError, "losses"),
    "loss floor": (lambda: fm.plot_loss([1.0], floor=float("nan")), ValueError, "floor"),
    "plot_quiver": (lambda: fm.plot_quiver(GOOD, torch.zeros(3, 2)), ValueError, "points"),
    "quiver speed": (lambda: fm.plot_quiver(GOOD, GOOD, speed=0.0), ValueError, "speed"),
    "quiver key": (lambda: fm.plot_quiver(GOOD, GOOD, key="yes"), TypeError, "key"),
    "field speed": (lambda: fm.plot_velocity_field(fm.marginal_velocity, 0.5, speed=-1.0), ValueError, "speed"),
    "trajectory legend": (lambda: fm.plot_trajectories(TRAJ, legend=1), TypeError, "legend"),
    "trajectory board": (lambda: fm.plot_trajectories(TRAJ, board="4x4"), TypeError, "board"),
    "density vmax": (lambda: fm.plot_density(fm.checkerboard_density, vmax=0.0), ValueError, "vmax"),
    "density colorbar": (lambda: fm.plot_density(fm.checkerboard_density, colorbar="no"), TypeError, "colorbar"),
    "plot_histogram": (lambda: fm.plot_histogram(GOOD, bins=0), ValueError, "bins"),
    "histogram points": (lambda: fm.plot_histogram(torch.zeros(4, 3)), ValueError, "x"),
    "histogram empty": (lambda: fm.plot_histogram(EMPTY), ValueError, "x"),  # was an all-NaN picture
    "histogram vmax": (lambda: fm.plot_histogram(GOOD, vmax=-1.0), ValueError, "vmax"),
    "velocity_grid": (lambda: fm.velocity_grid(fm.marginal_velocity, 0.5, lim=float("nan")), ValueError, "lim"),
    "time_color": (lambda: fm.time_color(1.5), ValueError, "t"),
    "plot_grid_law": (lambda: fm.plot_grid_law(torch.ones(8, 4)), ValueError, "law"),
    "plot_grid_law negative": (lambda: fm.plot_grid_law(-fm.grid_law(8)), ValueError, "law"),
    "plot_grid_law V": (lambda: fm.plot_grid_law(torch.ones(7, 7) / 49), ValueError, "law"),
    "plot_grid_law vmax": (lambda: fm.plot_grid_law(fm.grid_law(8), vmax=0.0), ValueError, "vmax"),
    "plot_grid_law board": (lambda: fm.plot_grid_law(fm.grid_law(8), board="4x4"), TypeError, "board"),
    "plot_scores": (lambda: fm.plot_scores([1, 2], {"a": [0.5]}), ValueError, "curves"),
    "scores settings": (lambda: fm.plot_scores([0, 1], {"a": [0.5, 0.2]}), ValueError, "settings"),
    "scores empty": (lambda: fm.plot_scores([1, 2], {}), ValueError, "curves"),
    "scores strings": (lambda: fm.plot_scores([1, 2], {"a": ["x", "y"]}), TypeError, "curves"),
    "scores resolution": (lambda: fm.plot_scores([1, 2], {"a": [1, 2]}, resolution=0.0), ValueError, "resolution"),
    "scores floor": (lambda: fm.plot_scores([1, 2], {"a": [1, 2]}, floor=float("nan")), ValueError, "floor"),
    "scores inf": (lambda: fm.plot_scores([1, 2], {"a": [1, float("inf")]}), ValueError, "curves"),
    "scores all NaN": (lambda: fm.plot_scores([1, 2], {"a": [float("nan")] * 2}), ValueError, "curves"),
    "scores log_y": (lambda: fm.plot_scores([1, 2], {"a": [1, 2]}, log_y="yes"), TypeError, "log_y"),
}
test_bad_input = table_test(BAD)
test_bad_points = points_test({
    "plot_samples": lambda bad: fm.plot_samples(bad),
    "plot_digits": lambda bad: fm.plot_digits(bad, shape=(1, 2)),
    "plot_quiver points": lambda bad: fm.plot_quiver(bad, GOOD),
    "plot_quiver vectors": lambda bad: fm.plot_quiver(GOOD, bad),
    "plot_histogram": lambda bad: fm.plot_histogram(bad),
})
test_bad_times = times_test({"velocity_grid": lambda t: fm.velocity_grid(fm.marginal_velocity, t, n_grid=2)})


def test_scores_draw_a_zero_on_the_resolution_line_not_as_a_small_number():
    ax = fm.plot_scores([1, 10, 100], {"exact": [0.5, 0.01, 0.0], "model": [0.6, 0.02, 0.01]},
                        colors={"exact": fm.STYLE["exact"]}, floor=0.003, resolution=1e-3)
    exact, triangle, model = ax.lines[:3]
    assert list(exact.get_ydata()) == [0.5, 0.01] and exact.get_color() == fm.STYLE["exact"]  # no line to the zero
    assert list(triangle.get_xdata()) == [100.0] and list(triangle.get_ydata()) == [1e-3] and triangle.get_marker() == "v"
    assert list(model.get_ydata()) == [0.6, 0.02, 0.01] and model.get_color() == fm.STYLE["series"][1]
    assert [line.get_ydata()[0] for line in ax.lines[3:]] == [0.003, 1e-3]  # the floor, the resolution
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10", "100"]
    ax = fm.plot_scores([0.0, 1.0, 2.0], {"a": [0.0, float("nan"), 0.3]}, log_x=False, log_y=False, legend=False)
    assert list(ax.lines[0].get_xdata()) == [0.0, 2.0] and list(ax.lines[0].get_ydata()) == [0.0, 0.3]  # NaN: not run
    assert ax.get_legend() is None


def test_the_field_checks_reach_the_plots():
    raises_here(lambda: fm.velocity_grid(lambda x, t: x[:, :1], 0.5, n_grid=3), ValueError, "shape")


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


def test_time_color_runs_from_the_source_to_the_target():
    from matplotlib.colors import to_rgb

    assert fm.time_color(0.0) == pytest.approx(to_rgb(fm.STYLE["source"]))
    assert fm.time_color(1.0) == pytest.approx(to_rgb(fm.STYLE["target"]))
    concepts = {fm.STYLE[k] for k in ("source", "target", "conditional", "exact", "learned", "intermediate")}
    assert not concepts & set(fm.STYLE["series"]) and len(concepts) == 6
