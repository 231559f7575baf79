"""The recipe is the one source of the defaults, of train's keywords and of what a checkpoint records."""

import dataclasses
import inspect
import subprocess
import sys

import pytest
import torch

import fmhelpers as fm


def test_the_default_recipe_is_the_documented_one():
    r = fm.DEFAULT_RECIPE
    assert (r.n_iterations, r.batch_size, r.lr, r.lr_schedule) == (6000, 512, 1e-2, "cosine")
    assert (r.time_sampling, r.target, r.adam_beta2, r.clip_grad_norm) == ("mixed", "minibatch", 0.99, 1.0)
    assert (r.interpolant, r.board, r.seed) == ("linear", fm.BOARD, 0)
    assert fm.Recipe() == r


def test_train_takes_exactly_the_recipe_fields_as_keywords():
    """No default is spelled twice: train and load_or_train hold none of the recipe's values."""
    for function in (fm.train, fm.load_or_train):
        params = inspect.signature(function).parameters
        assert "changes" in params and params["changes"].kind is inspect.Parameter.VAR_KEYWORD
        assert not set(params) & set(fm.Recipe.field_names())


def test_replace_and_round_trip_through_plain_values():
    r = fm.DEFAULT_RECIPE.replace(lr=3e-3, interpolant=fm.TrigInterpolant(), board=fm.Board(grid_size=6, scale=3.0))
    assert r.interpolant == "trig" and r.lr == 3e-3
    plain = r.to_dict()
    assert plain["grid_size"] == 6 and plain["scale"] == 3.0 and "board" not in plain
    assert fm.Recipe.from_dict(plain) == r
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.lr = 1.0


@pytest.mark.parametrize("values, word", [
    ({"lr": 0.01}, "missing"),
    (dict(fm.DEFAULT_RECIPE.to_dict(), momentum=0.9), "momentum"),
    ("recipe", "dict"),
])
def test_a_stored_recipe_that_does_not_fit_is_named(values, word):
    with pytest.raises(ValueError, match=word):
        fm.Recipe.from_dict(values)


@pytest.mark.parametrize("changes, error, word", [
    (dict(lr=-1.0), ValueError, "lr"),
    (dict(lr=float("inf")), ValueError, "lr"),
    (dict(batch_size=1), ValueError, "batch_size"),
    (dict(board=(4, 2.0)), TypeError, "board"),
    (dict(interpolant="TrigInterpolant"), ValueError, "interpolant"),
    (dict(step_size=0.1), TypeError, "step_size"),
])
def test_replace_refuses_bad_values(changes, error, word):
    with pytest.raises(error, match=rf"\b{word}\b"):
        fm.DEFAULT_RECIPE.replace(**changes)


def test_train_with_a_recipe_or_keywords_is_the_same_run():
    small = fm.DEFAULT_RECIPE.replace(n_iterations=5, batch_size=32, seed=4)
    a = fm.train(fm.VelocityMLP(hidden=16, n_layers=1), small, progress=False)
    b = fm.train(fm.VelocityMLP(hidden=16, n_layers=1), progress=False, n_iterations=5, batch_size=32, seed=4)
    assert a.losses == b.losses and a.recipe == b.recipe == small
    with pytest.raises(TypeError, match="recipe"):
        fm.train(fm.VelocityMLP(), {"lr": 0.1})


def test_a_training_step_checks_its_input_once(monkeypatch):
    """The loop makes its own batches: the points are checked once per step (by the model), not five times."""
    from fmhelpers import _checks, models

    calls = []
    original = _checks.check_points
    monkeypatch.setattr(models, "check_points", lambda name, x: calls.append(name) or original(name, x))
    fm.train(fm.VelocityMLP(hidden=8, n_layers=1), n_iterations=3, batch_size=16, progress=False)
    assert calls == ["x"] * 3


def test_importing_the_package_does_not_import_ipywidgets():
    code = "import sys, fmhelpers; assert 'ipywidgets' not in sys.modules; fmhelpers.widgets.SliderView; " \
           "assert 'ipywidgets' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
