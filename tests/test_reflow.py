"""Reflow: pairs come from the given flow, and the new flow learns their velocity (fmhelpers.reflow)."""

import torch

import fmhelpers as fm
from badinput import table_test


def test_flow_pairs_come_from_the_given_model():
    model = fm.VelocityMLP()
    x_0, x_1 = fm.flow_pairs(model, 300, n_steps=4, solver="rk4", batch_size=128, generator=torch.Generator().manual_seed(1))
    assert torch.equal(x_0, fm.sample_gaussian(300, generator=torch.Generator().manual_seed(1)))
    assert torch.allclose(x_1, fm.rk4(model, x_0, 4), atol=1e-6)
    other = fm.VelocityMLP(seed=1)
    assert not torch.allclose(x_1, fm.rk4(other, x_0, 4), atol=1e-3)


def test_training_on_pairs_learns_their_velocity():
    """Pairs x_1 = x_0 + c: the flow is straight with velocity c, so one Euler step is exact."""
    x_0 = fm.sample_gaussian(2000, generator=torch.Generator().manual_seed(2))
    shift = torch.tensor([1.0, -0.5])
    result = fm.train(fm.VelocityMLP(hidden=64, n_layers=2), coupling="pairs", target="conditional",
                      pairs=(x_0, x_0 + shift), n_iterations=200, batch_size=256, time_sampling="uniform", progress=False)
    probe = fm.sample_gaussian(200, generator=torch.Generator().manual_seed(3))
    assert (fm.euler(result.model, probe, 1) - (probe + shift)).norm(dim=1).mean() < 0.1
    assert fm.straightness(result.model, probe, n_steps=8) < 0.01


def test_reflow_warm_starts_from_the_model_and_times_the_pairs():
    base = fm.VelocityMLP(hidden=32, n_layers=2)
    result = fm.reflow(base, n_pairs=500, n_iterations=2, lr=1e-9, progress=False)
    probe = fm.sample_gaussian(50, generator=torch.Generator().manual_seed(4))
    assert result.model is not base and result.extra["pair_seconds"] > 0
    assert torch.allclose(result.model(probe, 0.3), base(probe, 0.3), atol=1e-4)  # a copy, barely moved
    assert result.recipe.coupling == "pairs" and result.recipe.time_sampling == "two-step"
    cold = fm.reflow(base, n_pairs=500, n_iterations=2, lr=1e-9, warm_start=False, progress=False)
    assert not torch.allclose(cold.model(probe, 0.3), base(probe, 0.3), atol=1e-2)


BAD = {
    "flow_pairs": (lambda: fm.flow_pairs(fm.VelocityMLP(), 10, solver="rk5"), ValueError, "solver"),
    "flow_pairs n": (lambda: fm.flow_pairs(fm.VelocityMLP(), 0), ValueError, "n"),
    "reflow": (lambda: fm.reflow(fm.VelocityMLP(), fm.DEFAULT_RECIPE), ValueError, "coupling"),
    "reflow model": (lambda: fm.reflow("flow"), TypeError, "model"),
    "reflow warm_start": (lambda: fm.reflow(fm.VelocityMLP(), warm_start="yes"), TypeError, "warm_start"),
}
test_bad_input = table_test(BAD)
