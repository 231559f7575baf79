"""Recipes are the one source of the defaults, of the trainers' keywords and of what a checkpoint
records; the optimiser fields are declared once for every recipe (fmhelpers.recipes)."""

import dataclasses
import inspect
import subprocess
import sys

import pytest
import torch

import fmhelpers as fm
from badinput import table_test
from schedules import Quadratic


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
    (dict(fm.MEANFLOW_RECIPE.to_dict()), "mean_flow"),
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
    (dict(label_dropout="0.1"), TypeError, "label_dropout"),
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


def _check_functions():
    """Every check function of the package: all of _checks, and every check_* / _check* elsewhere."""
    import inspect
    import sys

    from fmhelpers import _checks

    found = {f for f in vars(_checks).values() if inspect.isfunction(f) and f.__module__ == _checks.__name__}
    for name, module in list(sys.modules.items()):
        if name.startswith("fmhelpers"):
            found |= {f for key, f in vars(module).items() if inspect.isfunction(f)
                      and key.lstrip("_").startswith("check") and f.__module__.startswith("fmhelpers")}
    return found


def _count_checks(monkeypatch) -> list:
    """Patch every check function wherever a module of the package holds it; returns the call log."""
    import sys

    calls: list = []
    checks = _check_functions()

    def counting(f):
        def wrapper(*args, **kwargs):
            calls.append(f.__name__)
            return f(*args, **kwargs)
        return wrapper

    wrappers = {f: counting(f) for f in checks}
    for name, module in list(sys.modules.items()):
        if name.startswith("fmhelpers"):
            for key, value in list(vars(module).items()):
                if inspect.isfunction(value) and value in wrappers:
                    monkeypatch.setattr(module, key, wrappers[value])
    monkeypatch.setattr(fm.Interpolant, "check_pair", staticmethod(counting(fm.Interpolant.check_pair)))
    return calls


def _trainers():
    """name -> run(n_iterations): every trainer of the package on a small problem."""
    g = torch.Generator().manual_seed(0)
    pairs = (fm.sample_gaussian(64, generator=g), fm.sample_checkerboard(64, generator=g))
    digits = (torch.rand(40, 64, generator=g) * 2 - 1, torch.arange(40) % 10)
    small = dict(batch_size=16, progress=False)
    flow = lambda **kw: lambda n: fm.train(fm.VelocityMLP(hidden=8, n_layers=1), n_iterations=n, **small, **kw)
    runs = {f"train {target}": flow(target=target) for target in fm.TARGETS}
    runs.update({f"train coupling {c}": flow(coupling=c, target="conditional", pairs=pairs if fm.COUPLINGS[c].needs_pairs
                                              else None) for c in fm.COUPLINGS})
    runs["train trig"] = flow(interpolant="trig")
    for p in fm.PREDICTIONS:
        runs[f"train prediction {p}"] = flow(prediction=p)
        runs[f"train prediction {p} conditional"] = flow(prediction=p, target="conditional")
        runs[f"train prediction {p} exact"] = flow(prediction=p, target="exact", interpolant="trig")
    runs["train float64"] = lambda n: fm.train(fm.VelocityMLP(hidden=8, n_layers=1).double(), n_iterations=n, **small)
    runs["reflow"] = lambda n: fm.reflow(fm.VelocityMLP(hidden=8, n_layers=1), n_pairs=32, n_steps=2, n_iterations=n,
                                         **small)
    for name, recipe in (("mean flow", fm.MEANFLOW_RECIPE), ("mean flow independent", fm.INDEPENDENT_MEANFLOW_RECIPE)):
        runs[name] = lambda n, r=recipe: fm.train_meanflow(fm.MeanFlowMLP(hidden=8, n_layers=1), r, n_iterations=n,
                                                           ot_block=None if r.ot_block is None else 8, **small)
    runs["fit_one_step"] = lambda n: fm.fit_one_step(fm.MeanFlowMLP(hidden=8, n_layers=1), *pairs, n_iterations=n,
                                                     **small)
    runs["conditional"] = lambda n: fm.train(fm.ConditionalMLP(hidden=8, n_layers=1), fm.GUIDANCE_RECIPE,
                                             n_iterations=n, **small)
    runs["digits"] = lambda n: fm.train(fm.ConditionalMLP(n_classes=10, dim=64, hidden=8, n_layers=1),
                                        fm.DIGITS_RECIPE, data=digits, n_iterations=n, **small)
    runs["judge"] = lambda n: fm.train_judge(*digits, n_iterations=n, **small)
    for source, schedule in (("mask", "linear"), ("uniform", "quadratic")):
        runs[f"discrete {source} {schedule}"] = lambda n, s=source, k=schedule: fm.train_discrete(
            fm.DiscreteMLP(V=8, hidden=8, n_layers=1), V=8, source=s, schedule=k, n_iterations=n, **small)
    return runs


@pytest.mark.parametrize("trainer", sorted(_trainers()))
def test_a_training_step_checks_nothing_again(monkeypatch, trainer):
    """Every check function of the package is counted: a run of 4 steps calls exactly as many as a run
    of 1 (the checks at the door, and on the first batch what the network returns), so no step after
    the first checks anything."""
    run = _trainers()[trainer]
    calls = _count_checks(monkeypatch)
    run(1)
    one = len(calls)
    calls.clear()
    run(4)
    assert one > 0 and len(calls) == one, f"{len(calls) - one} more check calls in 3 more steps: {calls[one:][:8]}"


def test_the_check_counter_sees_a_check_inside_a_step(monkeypatch):
    """The counter can fail: a trainer whose step calls a public, checking sampler is caught."""
    calls = _count_checks(monkeypatch)

    def run(n):
        model = fm.VelocityMLP(hidden=8, n_layers=1)

        def batch_loss(generator, device):
            x = fm.sample_gaussian(8, generator=generator)  # checks its arguments at every step
            return model(x, 0.5).pow(2).mean()

        return fm.fit(model, batch_loss, fm.Optimiser(n_iterations=n), progress=False)

    run(1)
    one = len(calls)
    calls.clear()
    run(4)
    assert len(calls) > one


def test_every_recipe_shares_the_optimiser_fields_declared_once():
    optimiser = fm.Optimiser.field_names()
    for recipe in fm.RECIPES.values():
        assert recipe.field_names()[:len(optimiser)] == optimiser
        assert recipe.optimiser() == fm.Optimiser(**{k: getattr(recipe, k) for k in optimiser})
    assert fm.RECIPES["default"] is fm.DEFAULT_RECIPE and fm.RECIPES["meanflow"] is fm.MEANFLOW_RECIPE


@pytest.mark.parametrize("name", sorted(fm.RECIPES))
def test_every_named_recipe_round_trips_through_plain_values(name):
    recipe = fm.RECIPES[name]
    from fmhelpers.recipes import recipe_from_dict

    assert recipe_from_dict(recipe.to_dict()) == recipe


def test_older_stored_recipes_load_with_the_values_those_runs_had():
    stored = fm.DEFAULT_RECIPE.to_dict()
    del stored["coupling"], stored["ot_block"], stored["label_dropout"], stored["kind"], stored["prediction"]
    assert fm.Recipe.from_dict(stored) == fm.DEFAULT_RECIPE
    old_mean = {k: v for k, v in fm.INDEPENDENT_MEANFLOW_RECIPE.to_dict().items()
                if k not in ("kind", "lr_schedule", "interpolant", "grid_size", "scale", "coupling", "ot_block")}
    assert fm.MeanFlowRecipe.from_dict(old_mean) == fm.INDEPENDENT_MEANFLOW_RECIPE


def test_a_schedule_of_your_own_is_kept_and_named_by_its_class():
    recipe = fm.DEFAULT_RECIPE.replace(interpolant=Quadratic())
    assert recipe.make_interpolant() == Quadratic()
    assert recipe.to_dict()["interpolant"].endswith("Quadratic")
    with pytest.raises(ValueError, match="schedule of your own"):
        fm.Recipe.from_dict(recipe.to_dict())


def test_a_recipe_records_its_prediction_and_older_ones_predict_the_velocity():
    assert fm.DEFAULT_RECIPE.prediction == "velocity" and fm.Recipe.PREDICTIONS == tuple(fm.PREDICTIONS)
    noise = fm.DEFAULT_RECIPE.replace(prediction="noise")
    assert noise.to_dict()["prediction"] == "noise" and fm.Recipe.from_dict(noise.to_dict()) == noise
    for p in ("velocity", "noise", "data"):  # these views hold for any coupling
        assert fm.OT_RECIPE.replace(prediction=p).prediction == p


def test_ot_recipe_refuses_the_minibatch_target():
    assert fm.OT_RECIPE.coupling == "ot" and fm.OT_RECIPE.target == "conditional"
    with pytest.raises(ValueError, match="minibatch"):
        fm.Recipe(coupling="ot")


BAD = {
    "Optimiser": (lambda: fm.Optimiser(adam_beta2=1.0), ValueError, "adam_beta2"),
    "Optimiser seed": (lambda: fm.Optimiser(seed=2**64), ValueError, "seed"),  # overflowed in torch
    "Recipe": (lambda: fm.Recipe(lr_schedule="step"), ValueError, "lr_schedule"),
    "Recipe label_dropout": (lambda: fm.Recipe(label_dropout=1.0), ValueError, "label_dropout"),
    "Recipe exact and labels": (lambda: fm.Recipe(target="exact", label_dropout=0.1), ValueError, "target"),
    "Recipe prediction": (lambda: fm.Recipe(prediction="epsilon"), ValueError, "prediction"),
    "Recipe score and ot": (lambda: fm.OT_RECIPE.replace(prediction="score"), ValueError, "prediction"),
    "Recipe interpolant class": (lambda: fm.Recipe(interpolant=fm.TrigInterpolant), TypeError, "interpolant"),
    "DiscreteRecipe": (lambda: fm.DiscreteRecipe(V=10), ValueError, "V"),
    "DiscreteRecipe schedule": (lambda: fm.DiscreteRecipe(schedule="cosine"), ValueError, "schedule"),
    "DiscreteRecipe source": (lambda: fm.DISCRETE_RECIPE.replace(source="gaussian"), ValueError, "source"),
    "MeanFlowRecipe": (lambda: fm.MeanFlowRecipe(equal_fraction=1.5), ValueError, "equal_fraction"),
    "MeanFlowRecipe target": (lambda: fm.MEANFLOW_RECIPE.replace(target="oracle"), ValueError, "target"),
    "MeanFlowRecipe ot and exact": (lambda: fm.MEANFLOW_RECIPE.replace(target="exact"), ValueError, "target"),
    "MeanFlowRecipe ot_block": (lambda: fm.MEANFLOW_RECIPE.replace(ot_block=0), ValueError, "ot_block"),
}
test_bad_input = table_test(BAD)


def test_importing_the_package_does_not_import_ipywidgets():
    code = "import sys, fmhelpers; assert 'ipywidgets' not in sys.modules; fmhelpers.widgets.SliderView; " \
           "assert 'ipywidgets' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
