import matplotlib.pyplot as plt
import pytest
import torch

import fmhelpers as fm


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
    assert fm.plot_trajectories(traj, axes[2]) is axes[2] and len(axes[2].lines) == 10
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


def test_bad_input():
    with pytest.raises(ValueError, match="x"):
        fm.plot_samples(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="trajectory"):
        fm.plot_trajectories(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="losses"):
        fm.plot_loss([])


def test_quiver_caps_fast_arrows_and_says_the_scale():
    points = torch.zeros(4, 2)
    vectors = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [100.0, 0.0]])
    ax = fm.plot_quiver(points, vectors, speed=3.0, length=0.6)
    full, capped = ax.collections
    assert full.U.max() == pytest.approx(3.0) and capped.U.max() == pytest.approx(3.0)  # 100 drawn as 3
    assert full.scale == pytest.approx(3.0 / 0.6) and capped.get_alpha() < 1
    assert "|v| = 3" in ax.get_xlabel() and "capped" in ax.get_xlabel()
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


def test_trajectories_have_a_legend_and_the_board(gen):
    traj = fm.euler(fm.marginal_velocity, fm.sample_gaussian(5, generator=gen), 3, return_trajectory=True)
    ax = fm.plot_trajectories(traj)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["start", "end"]
    assert len(ax.patches) == 8
    ax = fm.plot_trajectories(traj, board=False, legend=False)
    assert ax.get_legend() is None and not ax.patches
