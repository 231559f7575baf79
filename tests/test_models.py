"""The networks, in one table (fmhelpers.models)."""

import torch

import fmhelpers as fm
from badinput import GOOD, points_test, table_test, times_test


def test_default_is_the_writeups_network():
    model = fm.VelocityMLP()
    linears = [m for m in model.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(3, 128), (128, 128), (128, 128), (128, 128), (128, 2)]
    assert sum(isinstance(m, torch.nn.GELU) for m in model.net) == 4


def test_forward_shapes_and_time_forms(gen):
    model = fm.VelocityMLP(hidden=16, n_layers=2, n_time_features=3)
    x = torch.randn(5, 2, generator=gen)
    out = model(x, torch.full((5, 1), 0.3))
    assert out.shape == (5, 2)
    assert torch.equal(out, model(x, 0.3)) and torch.equal(out, model(x, torch.full((5,), 0.3)))


def test_seeded_initialisation():
    a, b, c = fm.VelocityMLP(seed=1), fm.VelocityMLP(seed=1), fm.VelocityMLP(seed=2)
    x = torch.ones(3, 2)
    assert torch.equal(a(x, 0.5), b(x, 0.5)) and not torch.equal(a(x, 0.5), c(x, 0.5))


def test_seeded_init_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    fm.VelocityMLP(seed=5)
    assert torch.equal(torch.rand(3), expected)


def test_the_table_rebuilds_every_network_from_its_config():
    nets = [fm.VelocityMLP(hidden=16, n_layers=2), fm.MeanFlowMLP(hidden=16, n_layers=2),
            fm.ConditionalMLP(n_classes=3, hidden=16, n_layers=2), fm.ClassifierMLP(dim=5, n_classes=3, hidden=8),
            fm.DiscreteMLP(V=8, hidden=8, n_layers=1)]
    assert [type(n) for n in nets] == list(fm.MODELS.values())
    for net in nets:
        again = fm.build_model(net.kind, net.config)
        again.load_state_dict(net.state_dict())
        assert type(again) is type(net) and again.config == net.config


def test_raw_is_forward_without_the_checks(gen):
    x, t, s = torch.randn(6, 2, generator=gen), torch.rand(6, 1, generator=gen), torch.ones(6, 1)
    v = fm.VelocityMLP()
    assert torch.equal(v.raw(x, t), v(x, t))
    u = fm.MeanFlowMLP()
    assert torch.equal(u.raw(x, t, s), u(x, t, s))
    c = fm.ConditionalMLP()
    labels = torch.arange(6) % 9
    assert torch.equal(c.raw(x, t, labels), c(x, t, labels))
    d = fm.DiscreteMLP(V=8, hidden=8, n_layers=1)
    tokens = torch.randint(0, 9, (6, 2), generator=gen)
    assert torch.equal(d.raw(tokens, t), d(tokens, t)) and d(tokens, 0.5).shape == (6, 2, 8)


def test_the_conditional_network_takes_a_label_one_label_or_none(gen):
    net = fm.ConditionalMLP(n_classes=8)
    x = torch.randn(5, 2, generator=gen)
    assert torch.equal(net(x, 0.3, 2), net(x, 0.3, torch.full((5,), 2)))
    assert torch.equal(net(x, 0.3), net(x, 0.3, torch.full((5,), 8)))  # None: the "no label" class
    assert not torch.equal(net(x, 0.3, 2), net(x, 0.3, 3))
    wide = fm.ConditionalMLP(n_classes=10, dim=64, hidden=32, n_layers=3, activation="silu")
    assert wide(torch.randn(4, 64), 0.5, torch.arange(4)).shape == (4, 64)


def test_the_classifier_gives_logits_and_features(gen):
    net = fm.ClassifierMLP(dim=64, n_classes=10, hidden=32, n_layers=2)
    x = torch.randn(7, 64, generator=gen)
    assert net(x).shape == (7, 10) and net.features(x).shape == (7, 32)


def test_networks_in_float64_take_float32_points_and_answer_in_their_dtype(gen):
    net = fm.VelocityMLP(hidden=8, n_layers=1).double()
    x = torch.randn(3, 2, generator=gen)
    assert net(x, 0.5).dtype == torch.float32 and net(x.double(), 0.5).dtype == torch.float64


BAD = {
    "VelocityMLP": (lambda: fm.VelocityMLP(activation="tanh"), ValueError, "activation"),
    "VelocityMLP hidden": (lambda: fm.VelocityMLP(hidden=0), ValueError, "hidden"),
    "VelocityMLP n_layers": (lambda: fm.VelocityMLP(n_layers=1.5), TypeError, "n_layers"),
    "VelocityMLP seed str": (lambda: fm.VelocityMLP(seed="0"), TypeError, "seed"),
    "VelocityMLP seed 2**64": (lambda: fm.VelocityMLP(seed=2**64), ValueError, "seed"),  # overflowed in torch
    "VelocityMLP t rows": (lambda: fm.VelocityMLP(hidden=8, n_layers=1)(GOOD, torch.zeros(3, 1)), ValueError, "t"),
    "MeanFlowMLP": (lambda: fm.MeanFlowMLP(hidden=0), ValueError, "hidden"),
    "MeanFlowMLP s before t": (lambda: fm.MeanFlowMLP()(GOOD, 0.7, 0.2), ValueError, "s"),
    "ConditionalMLP": (lambda: fm.ConditionalMLP(n_classes=0), ValueError, "n_classes"),
    "ConditionalMLP label range": (lambda: fm.ConditionalMLP()(GOOD, 0.5, 9), ValueError, "c"),
    "ConditionalMLP label shape": (lambda: fm.ConditionalMLP()(GOOD, 0.5, torch.zeros(3, dtype=torch.long)),
                                   ValueError, "c"),
    "ConditionalMLP label dtype": (lambda: fm.ConditionalMLP()(GOOD, 0.5, torch.zeros(2)), TypeError, "c"),
    "ConditionalMLP label float": (lambda: fm.ConditionalMLP()(GOOD, 0.5, 1.0), TypeError, "c"),
    "ConditionalMLP points": (lambda: fm.ConditionalMLP(dim=64)(GOOD, 0.5, 1), ValueError, "x"),
    "ClassifierMLP": (lambda: fm.ClassifierMLP(n_classes=1), ValueError, "n_classes"),
    "ClassifierMLP points": (lambda: fm.ClassifierMLP(dim=64)(GOOD), ValueError, "x"),
    "DiscreteMLP": (lambda: fm.DiscreteMLP(V=1), ValueError, "V"),
    "DiscreteMLP tokens": (lambda: fm.DiscreteMLP(V=8)(torch.tensor([[0, 9]]), 0.5), ValueError, "x_t"),
    "DiscreteMLP float tokens": (lambda: fm.DiscreteMLP(V=8)(GOOD, 0.5), TypeError, "x_t"),
    "DiscreteMLP t": (lambda: fm.DiscreteMLP(V=8)(torch.zeros(2, 2, dtype=torch.long), 2.0), ValueError, "t"),
    "build_model": (lambda: fm.build_model("unet", {}), ValueError, "kind"),
    "build_model config": (lambda: fm.build_model("velocity", {"width": 3}), TypeError, "width"),
}
test_bad_input = table_test(BAD)  # build_model config: Python's own TypeError from the constructor, now the package's


test_bad_points = points_test({
    "VelocityMLP": lambda bad: fm.VelocityMLP(hidden=8, n_layers=1)(bad, 0.5),
    "MeanFlowMLP": lambda bad: fm.MeanFlowMLP(hidden=8, n_layers=1)(bad, 0.2, 0.5),
    "ConditionalMLP": lambda bad: fm.ConditionalMLP(hidden=8, n_layers=1)(bad, 0.5, 1),
})
test_bad_times = times_test({
    "VelocityMLP": lambda t: fm.VelocityMLP(hidden=8, n_layers=1)(GOOD, t),
    "ConditionalMLP": lambda t: fm.ConditionalMLP(hidden=8, n_layers=1)(GOOD, t, 1),
})
