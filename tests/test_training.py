import pytest
import torch

import fmhelpers as fm

SMALL = dict(n_iterations=40, batch_size=128, progress=False)


def _small_model():
    return fm.VelocityMLP(hidden=32, n_layers=2)


def test_seeded_training_is_reproducible():
    a = fm.train(_small_model(), seed=3, **SMALL)
    b = fm.train(_small_model(), seed=3, **SMALL)
    c = fm.train(_small_model(), seed=4, **SMALL)
    assert a.losses == b.losses and a.losses != c.losses
    assert len(a.losses) == 40


def test_loss_goes_down_and_stays_above_the_floor():
    result = fm.train(_small_model(), n_iterations=300, batch_size=256, progress=False, time_sampling="uniform",
                      target="conditional")
    first, last = sum(result.losses[:20]) / 20, sum(result.losses[-50:]) / 50
    floor = fm.loss_floor(n=50_000, generator=torch.Generator().manual_seed(0))
    assert last < 0.8 * first
    assert last > 0.95 * floor


def test_snapshots_at_the_requested_iterations():
    result = fm.train(_small_model(), snapshot_every=15, **SMALL)
    assert sorted(result.snapshots) == [0, 15, 30, 40]
    assert not torch.equal(result.snapshots[0]["net.0.weight"], result.snapshots[40]["net.0.weight"])
    assert torch.equal(result.snapshots[40]["net.0.weight"], result.model.state_dict()["net.0.weight"])


def test_gradient_clipping_changes_the_run_and_none_turns_it_off():
    kwargs = dict(SMALL, n_iterations=10)
    clipped = fm.train(_small_model(), clip_grad_norm=1e-3, **kwargs)
    free = fm.train(_small_model(), clip_grad_norm=None, **kwargs)
    # a tiny clip barely moves the weights, so the loss cannot fall as fast
    assert clipped.losses[0] == free.losses[0] and clipped.losses[-1] > free.losses[-1]
    assert free.recipe.clip_grad_norm is None


def test_a_diverging_run_stops_with_a_clear_error():
    model = _small_model()
    with torch.no_grad():
        model.net[0].weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="iteration 0.*lr"):
        fm.train(model, **SMALL)


def test_default_recipe_is_recorded():
    result = fm.train(_small_model(), n_iterations=5, batch_size=64, progress=False)
    assert result.recipe == fm.DEFAULT_RECIPE.replace(n_iterations=5, batch_size=64)
    assert result.recipe.target == "minibatch" and result.recipe.time_sampling == "mixed"
    assert result.recipe.adam_beta2 == 0.99 and result.recipe.clip_grad_norm == 1.0


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        (dict(n_iterations=0), ValueError, "n_iterations"),
        (dict(batch_size=-1), ValueError, "batch_size"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(lr_schedule="step"), ValueError, "lr_schedule"),
        (dict(time_sampling="early"), ValueError, "time_sampling"),
        (dict(target="exact"), ValueError, "target"),
        (dict(adam_beta2=1.0), ValueError, "adam_beta2"),
        (dict(adam_beta2="0.99"), TypeError, "adam_beta2"),
        (dict(clip_grad_norm=0.0), ValueError, "clip_grad_norm"),
        (dict(snapshot_every=0), ValueError, "snapshot_every"),
        (dict(interpolant="straight"), ValueError, "interpolant"),
        (dict(seed=1.5), TypeError, "seed"),
        (dict(learning_rate=0.1), TypeError, "learning_rate"),
        (dict(device="tpu"), ValueError, "device"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, word):
    with pytest.raises(error, match=rf"\b{word}\b"):
        fm.train(_small_model(), progress=False, **kwargs)
    with pytest.raises(TypeError, match="model"):
        fm.train("mlp", progress=False)


