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
