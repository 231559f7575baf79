"""Checkpoints: atomic writes, weights_only loading, load_or_train (fmhelpers.checkpoints)."""

import os
import pickle

import pytest
import torch

import fmhelpers as fm


def _small_model():
    return fm.VelocityMLP(hidden=32, n_layers=2)


SMALL = dict(n_iterations=40, batch_size=128, progress=False)


def test_checkpoint_round_trip(tmp_path):
    result = fm.train(_small_model(), snapshot_every=20, **SMALL)
    path = fm.save_checkpoint(tmp_path / "sub" / "m.pt", result.model, losses=result.losses,
                              snapshots=result.snapshots, meta={"recipe": result.recipe.to_dict()})
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
