"""The input checks every public function shares, and the devices (fmhelpers._checks)."""

import pytest
import torch

import fmhelpers as fm
from badinput import table_test
from fmhelpers._checks import check_points, check_seed, check_time


def test_best_device_is_one_this_machine_has():
    assert fm.best_device().type in ("cpu", "cuda", "mps")
    assert fm.sample_gaussian(2, device=fm.best_device()).device.type == fm.best_device().type


def test_points_in_any_dimension_and_a_minimum_count():
    assert check_points("x", torch.zeros(3, 64), dim=None).shape == (3, 64)
    with pytest.raises(ValueError, match=r"x must hold at least 1 point"):
        check_points("x", torch.zeros(0, 2), min_rows=1)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        check_points("x", torch.zeros(3, 64))


def test_seeds_span_what_torch_takes():
    assert check_seed("seed", 2**64 - 1) == 2**64 - 1
    torch.Generator().manual_seed(2**64 - 1)
    with pytest.raises(ValueError, match="seed"):
        check_seed("seed", 2**64)


def test_times_of_every_form_become_a_column():
    assert check_time("t", 0.5).shape == () and check_time("t", torch.zeros(3)).shape == (3, 1)


BAD = {
    "best_device": (lambda: fm.sample_gaussian(2, device="cuda:7"), ValueError, "device"),
}
test_bad_input = table_test(BAD)
