import os
import pickle

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


def test_cfm_loss_of_the_exact_field_is_the_floor():
    g = torch.Generator().manual_seed(5)
    n = 100_000
    x_0, x_1 = fm.sample_gaussian(n, generator=g).double(), fm.sample_checkerboard(n, generator=g).double()
    t = fm.sample_time(n, generator=g).double()
    exact = fm.cfm_loss(fm.marginal_velocity, x_0, x_1, t).item()
    worse = fm.cfm_loss(lambda x, s: 0.9 * fm.marginal_velocity(x, s), x_0, x_1, t).item()
    assert abs(exact - fm.loss_floor(n=n, generator=torch.Generator().manual_seed(6))) < 0.05 and worse > exact


def test_time_sampling():
    g = torch.Generator().manual_seed(0)
    late = fm.sample_time(100_000, "late", generator=g)
    assert late.shape == (100_000, 1) and 0 <= late.min() and late.max() <= 1
    assert abs(late.mean().item() - 2 / 3) < 0.005  # density 2t has mean 2/3
    later = fm.sample_time(100_000, "later", generator=g)
    assert 0 <= later.min() and later.max() <= 1
    assert abs(later.mean().item() - 3 / 4) < 0.005  # density 3t^2 has mean 3/4
    mixed = fm.sample_time(100_000, "mixed", generator=g)
    assert 0 <= mixed.min() and mixed.max() <= 1
    assert abs(mixed.mean().item() - (0.9 * 3 / 4 + 0.1 / 2)) < 0.005
    # early times keep a floor: P(t < 0.1) = 0.1 * 0.1 + 0.9 * 0.001, ten times that of "later"
    assert abs((mixed < 0.1).float().mean().item() - 0.0109) < 0.002
    assert (later < 0.1).float().mean().item() < 0.002


def _direct_minibatch_target(x_0, x_1, t, path):
    """The definition, summed naively over all j (the pair's own x_1 included) in float64."""
    a, b, da, db = path.alpha(t), path.beta(t), path.d_alpha(t), path.d_beta(t)  # (n, 1)
    x_t = a * x_0 + b * x_1
    log_w = -((x_t[:, None, :] - b[:, :, None] * x_1[None]) ** 2).sum(-1) / (2 * a**2)  # (n, n)
    w = torch.softmax(log_w, dim=1)
    v = (da / a)[:, :, None] * (x_t[:, None, :] - b[:, :, None] * x_1[None]) + db[:, :, None] * x_1[None]
    return (w[:, :, None] * v).sum(1)


@pytest.mark.parametrize("path", [fm.LinearInterpolant(), fm.TrigInterpolant()], ids=["linear", "trig"])
def test_minibatch_target_is_the_posterior_average_of_conditional_velocities(path):
    g = torch.Generator().manual_seed(11)
    x_0, x_1 = fm.sample_gaussian(300, generator=g).double(), fm.sample_checkerboard(300, generator=g).double()
    t = 0.02 + 0.96 * torch.rand(300, 1, generator=g, dtype=torch.float64)
    got = fm.minibatch_target(x_0, x_1, t, interpolant=path)
    assert torch.allclose(got, _direct_minibatch_target(x_0, x_1, t, path), atol=1e-8)
    # float32 input (what training uses) stays close to the float64 answer
    got32 = fm.minibatch_target(x_0.float(), x_1.float(), t.float(), interpolant=path)
    assert (got32.double() - got).abs().max() < 1e-2


def test_minibatch_target_at_the_ends():
    g = torch.Generator().manual_seed(12)
    x_0, x_1 = fm.sample_gaussian(200, generator=g), fm.sample_checkerboard(200, generator=g)
    # t = 0: x_t = x_0 carries no information about x_1, so every x_1 is equally likely
    assert torch.allclose(fm.minibatch_target(x_0, x_1, 0.0), x_1.mean(0) - x_0, atol=1e-5)
    # t = 1: only the pair's own x_1 is possible; no division by zero
    assert torch.equal(fm.minibatch_target(x_0, x_1, 1.0), x_1 - x_0)
    with pytest.raises(ValueError, match="alpha_min"):
        fm.minibatch_target(x_0, x_1, 0.5, alpha_min=0.0)
    with pytest.raises(ValueError, match=r"\bt\b"):
        fm.minibatch_target(x_0, x_1, 1.5)


def test_minibatch_target_estimates_the_marginal_velocity():
    """Its distance to v* is a small fraction of the conditional velocity's, and shrinks with n."""
    g = torch.Generator().manual_seed(13)
    errors = {}
    for n in (512, 8192):
        x_0, x_1 = fm.sample_gaussian(n, generator=g).double(), fm.sample_checkerboard(n, generator=g).double()
        t = fm.sample_time(n, generator=g).double()
        v_star = fm.marginal_velocity(fm.LinearInterpolant().interpolate(x_0, x_1, t), t)
        errors[n] = (fm.minibatch_target(x_0, x_1, t) - v_star).pow(2).sum(1).mean().item()
        conditional = (x_1 - x_0 - v_star).pow(2).sum(1).mean().item()  # the loss floor, about 3.5
        assert errors[n] < 0.05 * conditional
    assert errors[8192] < 0.5 * errors[512]


def test_minibatch_loss_is_a_flow_matching_loss():
    """The exact field scores lower on it than a slightly wrong one, as for the conditional loss."""
    g = torch.Generator().manual_seed(14)
    x_0, x_1 = fm.sample_gaussian(4096, generator=g).double(), fm.sample_checkerboard(4096, generator=g).double()
    t = fm.sample_time(4096, generator=g).double()
    exact = fm.cfm_loss(fm.marginal_velocity, x_0, x_1, t, target="minibatch").item()
    worse = fm.cfm_loss(lambda x, s: 0.8 * fm.marginal_velocity(x, s), x_0, x_1, t, target="minibatch").item()
    assert exact < 0.1 and worse > 2 * exact
    with pytest.raises(ValueError, match="target"):
        fm.cfm_loss(fm.marginal_velocity, x_0, x_1, t, target="marginal")


def test_gradient_clipping_changes_the_run_and_none_turns_it_off():
    kwargs = dict(SMALL, n_iterations=10)
    clipped = fm.train(_small_model(), clip_grad_norm=1e-3, **kwargs)
    free = fm.train(_small_model(), clip_grad_norm=None, **kwargs)
    # a tiny clip barely moves the weights, so the loss cannot fall as fast
    assert clipped.losses[0] == free.losses[0] and clipped.losses[-1] > free.losses[-1]
    assert free.recipe["clip_grad_norm"] is None


def test_a_diverging_run_stops_with_a_clear_error():
    model = _small_model()
    with torch.no_grad():
        model.net[0].weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="iteration 0.*lr"):
        fm.train(model, **SMALL)


def test_default_recipe_is_recorded():
    result = fm.train(_small_model(), n_iterations=5, batch_size=64, progress=False)
    assert result.recipe["target"] == fm.DEFAULT_RECIPE["target"] == "minibatch"
    assert result.recipe["time_sampling"] == "mixed"
    assert result.recipe["adam_beta2"] == 0.99 and result.recipe["clip_grad_norm"] == 1.0


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
        (dict(interpolant="linear"), TypeError, "interpolant"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, word):
    with pytest.raises(error, match=rf"\b{word}\b"):
        fm.train(_small_model(), progress=False, **kwargs)
    with pytest.raises(TypeError, match="model"):
        fm.train("mlp", progress=False)


def test_checkpoint_round_trip(tmp_path):
    result = fm.train(_small_model(), snapshot_every=20, **SMALL)
    path = fm.save_checkpoint(tmp_path / "sub" / "m.pt", result.model, losses=result.losses,
                              snapshots=result.snapshots, meta={"recipe": result.recipe})
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
