"""Checkpoints: atomic writes, weights_only loading, load_or_train (fmhelpers.checkpoints)."""

import os
import pickle
from pathlib import Path

import pytest
import torch

import fmhelpers as fm
from badinput import device_test, raises_here, table_test


def _small_model():
    return fm.VelocityMLP(hidden=32, n_layers=2)


SMALL = dict(n_iterations=40, batch_size=128, progress=False)


def test_checkpoint_round_trip(tmp_path):
    result = fm.train(_small_model(), snapshot_every=20, **SMALL)
    path = fm.save_checkpoint(tmp_path / "sub" / "m.pt", result.model, recipe=result.recipe, losses=result.losses,
                              snapshots=result.snapshots)
    ckpt = fm.load_checkpoint(path)
    x = torch.randn(4, 2)
    assert torch.equal(ckpt.model(x, 0.5), result.model(x, 0.5))
    assert ckpt.losses == pytest.approx(result.losses, rel=0, abs=1e-7)
    assert ckpt.meta["recipe"]["n_iterations"] == 40
    early = ckpt.model_at(0)
    assert not torch.equal(early(x, 0.5), ckpt.model(x, 0.5))
    assert [p.name for p in path.parent.iterdir()] == ["m.pt"]  # no temporary file left behind


def test_a_failed_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    model = _small_model()
    path = fm.save_checkpoint(tmp_path / "m.pt", model)
    before = path.read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        fm.save_checkpoint(path, fm.VelocityMLP(hidden=32, n_layers=2, seed=9))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.pt"]


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_loading_refuses_files_that_are_not_checkpoints(tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an fmhelpers checkpoint"):
        fm.load_checkpoint(text)
    pickled = tmp_path / "evil.pt"
    pickled.write_bytes(pickle.dumps(Evil(), protocol=2))
    with pytest.raises(ValueError, match="not an fmhelpers checkpoint"):
        fm.load_checkpoint(pickled)  # weights_only=True refuses arbitrary objects
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match="format"):
        fm.load_checkpoint(other)
    with pytest.raises(FileNotFoundError, match="path"):
        fm.load_checkpoint(tmp_path / "missing.pt")


def test_meta_is_stored_as_plain_values(tmp_path):
    path = fm.save_checkpoint(tmp_path / "m.pt", _small_model(), meta={"torch": torch.__version__, "steps": (1, 2)})
    meta = fm.load_checkpoint(path).meta
    assert meta == {"torch": str(torch.__version__), "steps": [1, 2]} and type(meta["torch"]) is str
    with pytest.raises(TypeError, match="meta"):
        fm.save_checkpoint(tmp_path / "bad.pt", _small_model(), meta={"model": object()})


def test_load_or_train_trains_once_then_loads(tmp_path, capsys):
    path = tmp_path / "ckpt.pt"
    first = fm.load_or_train(path, snapshot_every=10, progress=False, n_iterations=20, batch_size=64)
    assert path.exists() and sorted(first.snapshots) == [0, 10, 20]
    again = fm.load_or_train(path, progress=False, n_iterations=20, batch_size=64)
    x = torch.randn(5, 2)
    assert torch.equal(again.model(x, 0.3), first.model(x, 0.3))
    assert capsys.readouterr().out == ""  # loaded, not retrained
    other = fm.load_or_train(path, snapshot_every=None, progress=False, n_iterations=30, batch_size=64)
    assert "training again" in capsys.readouterr().out and len(other.losses) == 30


def test_a_discrete_network_trains_once_then_loads(tmp_path, capsys):
    kw = dict(model="discrete", config={"V": 8, "hidden": 8, "n_layers": 1}, progress=False, V=8, n_iterations=5,
              batch_size=16, snapshot_every=None)
    first = fm.load_or_train(tmp_path / "d.pt", **kw)
    again = fm.load_or_train(tmp_path / "d.pt", **kw)
    x_t = torch.tensor([[0, 8], [3, 4]])
    assert capsys.readouterr().out == "" and torch.equal(again.model(x_t, 0.5), first.model(x_t, 0.5))
    assert again.recipe == fm.DISCRETE_RECIPE.replace(V=8, n_iterations=5, batch_size=16)


@pytest.mark.parametrize("model, recipe", [
    (fm.MeanFlowMLP(hidden=16, n_layers=2), fm.MEANFLOW_RECIPE),
    (fm.ConditionalMLP(hidden=16, n_layers=2), fm.DEFAULT_RECIPE.replace(label_dropout=0.1)),
    (fm.ClassifierMLP(dim=4, n_classes=3, hidden=8), fm.ONE_STEP_FIT_RECIPE),
    (fm.DiscreteMLP(V=8, hidden=8, n_layers=1), fm.DISCRETE_RECIPE.replace(V=8)),
], ids=["mean flow", "conditional", "classifier", "discrete"])
def test_every_network_of_the_table_round_trips_with_its_recipe(tmp_path, model, recipe):
    ckpt = fm.load_checkpoint(fm.save_checkpoint(tmp_path / "m.pt", model, recipe=recipe))
    assert type(ckpt.model) is type(model) and ckpt.recipe == recipe
    assert all(torch.equal(a, b) for a, b in zip(ckpt.model.state_dict().values(), model.state_dict().values()))


def test_the_committed_checkpoints_load_and_report_their_recipe():
    """Written before the model table and the one recipe key: a config without a kind, and the mean
    flows' recipe under meta["meanflow_recipe"], still load."""
    folder = Path(__file__).resolve().parents[1] / "notebooks" / "checkpoints"
    for path in sorted(folder.glob("*.pt")):
        ckpt = fm.load_checkpoint(path)
        assert ckpt.recipe is not None, path.name
    assert fm.load_checkpoint(folder / "velocity_mlp.pt").recipe == fm.DEFAULT_RECIPE


def test_an_older_mean_flow_checkpoint_reads_its_recipe_from_the_old_key(tmp_path):
    old = {k: v for k, v in fm.MEANFLOW_RECIPE.to_dict().items() if k not in ("kind", "lr_schedule", "interpolant",
                                                                              "grid_size", "scale")}
    path = fm.save_checkpoint(tmp_path / "m.pt", fm.MeanFlowMLP(), meta={"meanflow_recipe": old})
    assert fm.load_checkpoint(path).recipe == fm.MEANFLOW_RECIPE


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


def test_a_temporary_file_left_by_a_killed_save_is_removed(tmp_path):
    (tmp_path / "m.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    (tmp_path / "other.pt.x.tmp").write_bytes(b"not ours")
    fm.save_checkpoint(tmp_path / "m.pt", _small_model())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt", "other.pt.x.tmp"]


def _payload(tmp_path):
    path = fm.save_checkpoint(tmp_path / "m.pt", fm.VelocityMLP(hidden=8, n_layers=1))
    return path, torch.load(path, weights_only=True)


def test_a_config_that_does_not_match_the_weights(tmp_path):
    path, payload = _payload(tmp_path)
    payload["config"]["hidden"] = 16
    torch.save(payload, path)
    raises_here(lambda: fm.load_checkpoint(path), ValueError, "weights")
    payload["config"]["activation"] = "tanh"
    torch.save(payload, path)
    raises_here(lambda: fm.load_checkpoint(path), ValueError, "config")


@pytest.mark.parametrize("key", ["config", "state_dict", "snapshots", "meta", "losses"])
def test_a_checkpoint_with_a_missing_key(tmp_path, key):
    path, payload = _payload(tmp_path)
    del payload[key]
    torch.save(payload, path)
    raises_here(lambda: fm.load_checkpoint(path), ValueError, key)


@pytest.mark.parametrize("snapshots, error, word", [
    ([1, 2], TypeError, "snapshots"),
    ({0: "weights"}, TypeError, "snapshots"),
    ({0: {"net.0.weight": torch.zeros(1)}}, ValueError, "snapshots"),
    ({"first": {}}, TypeError, "iteration"),
])
def test_snapshots_are_checked_at_save_time(tmp_path, snapshots, error, word):
    raises_here(lambda: fm.save_checkpoint(tmp_path / "m.pt", _small_model(), snapshots=snapshots), error, word)
    assert not (tmp_path / "m.pt").exists()


CKPT = "notebooks/checkpoints/velocity_mlp.pt"
def test_a_checkpoint_records_its_prediction_and_hands_out_a_velocity_field(tmp_path):
    recipe = fm.DEFAULT_RECIPE.replace(prediction="noise", **{k: v for k, v in SMALL.items() if k != "progress"})
    ckpt = fm.load_or_train(tmp_path / "noise.pt", recipe, config=dict(hidden=32, n_layers=2), progress=False)
    assert ckpt.recipe.prediction == "noise" and ckpt.meta["recipe"]["prediction"] == "noise"
    x = torch.randn(5, 2)
    assert torch.allclose(ckpt.velocity(x, 0.5), fm.as_velocity(ckpt.model, recipe)(x, 0.5))
    assert not torch.allclose(ckpt.velocity(x, 0.5), ckpt.model(x, 0.5))
    plain = fm.save_checkpoint(tmp_path / "v.pt", _small_model(), recipe=fm.DEFAULT_RECIPE)
    loaded = fm.load_checkpoint(plain)
    assert loaded.velocity is loaded.model
    mean = fm.save_checkpoint(tmp_path / "mf.pt", fm.MeanFlowMLP(hidden=8, n_layers=1), recipe=fm.MEANFLOW_RECIPE)
    raises_here(lambda: fm.load_checkpoint(mean).velocity, ValueError, "velocity field")


def test_a_checkpoint_written_before_predictions_predicts_the_velocity(tmp_path):
    stored = fm.DEFAULT_RECIPE.to_dict()
    del stored["prediction"]
    path = fm.save_checkpoint(tmp_path / "old.pt", _small_model(), meta={"recipe": stored})
    loaded = fm.load_checkpoint(path)
    assert loaded.recipe == fm.DEFAULT_RECIPE and loaded.velocity is loaded.model


BAD = {
    "Checkpoint": (lambda: fm.load_checkpoint(CKPT).model_at(7), ValueError, "iteration"),
    "load_checkpoint": (lambda: fm.load_checkpoint(3), TypeError, "path"),
    "load_or_train": (lambda: fm.load_or_train("x.pt", lr=0), ValueError, "lr"),
    "load_or_train retrain": (lambda: fm.load_or_train("x.pt", retrain="yes"), TypeError, "retrain"),  # was accepted
    "save_checkpoint": (lambda: fm.save_checkpoint("/tmp/never.pt", _small_model(), losses=["a"]), TypeError, "losses"),
    "save_checkpoint model": (lambda: fm.save_checkpoint("/tmp/never.pt", torch.nn.Linear(2, 2)), TypeError, "model"),
    "save_checkpoint recipe": (lambda: fm.save_checkpoint("/tmp/never.pt", _small_model(), recipe={"lr": 1}), TypeError,
                               "recipe"),
}
test_bad_input = table_test(BAD)
test_bad_devices = device_test({
    "load_checkpoint": lambda d: fm.load_checkpoint(CKPT, device=d),
    "load_or_train": lambda d: fm.load_or_train("does-not-exist.pt", device=d),
})
