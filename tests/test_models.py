import pytest
import torch

import fmhelpers as fm


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


@pytest.mark.parametrize(
    "call, error, word",
    [
        (lambda m: m(torch.zeros(4, 3), 0.5), ValueError, "x"),
        (lambda m: m(torch.zeros(4, 2), 1.5), ValueError, "t"),
        (lambda m: m(torch.zeros(4, 2), torch.zeros(3, 1)), ValueError, "t"),
        (lambda m: fm.VelocityMLP(hidden=0), ValueError, "hidden"),
        (lambda m: fm.VelocityMLP(n_layers=1.5), TypeError, "n_layers"),
    ],
)
def test_bad_input_names_the_argument(call, error, word):
    with pytest.raises(error, match=rf"\b{word}\b"):
        call(fm.VelocityMLP(hidden=8, n_layers=1))
