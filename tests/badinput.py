"""What every test file's bad-input rows share: the bad values, and the check that the error is the
package's own (a ValueError or TypeError naming the argument, raised where the input enters, not
from deep inside torch or matplotlib).

Each test_<module>.py keeps the rows of its own module: `BAD = {name: (call, error, word)}` for one
row per public callable (tests/test_api.py checks that every one has a row, in its module's file),
and, where its functions take points or times, tables run against `BAD_POINTS` and `BAD_TIMES`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

NAN = torch.tensor([[0.0, float("nan")], [0.1, 0.2]])
INF = torch.tensor([[0.0, float("inf")], [0.1, 0.2]])
GOOD = torch.zeros(2, 2)
EMPTY = torch.zeros(0, 2)

BAD_POINTS = {
    "NaN": (NAN, ValueError, "NaN"),
    "inf": (INF, ValueError, "infinite"),
    "shape (2, 3)": (torch.zeros(2, 3), ValueError, "shape"),
    "numpy": (np.zeros((2, 2)), TypeError, "torch.Tensor"),
    "int tensor": (torch.zeros(2, 2, dtype=torch.long), TypeError, "floating"),
}
BAD_TIMES = {
    "NaN": (float("nan"), ValueError, "t"),
    "inf": (float("inf"), ValueError, "t"),
    "above 1": (1.5, ValueError, "t"),
    "string": ("0.5", TypeError, "t"),
}


def raises_here(call, error, word: str) -> None:
    """`call()` raises `error` whose message holds `word`, from inside fmhelpers itself."""
    with pytest.raises(error, match=rf"\b{word}\b" if word and word[0].isalnum() else word) as info:
        call()
    assert info.traceback[-1].path.parts[-2] == "fmhelpers", str(info.traceback[-1].path)


def table_test(rows: dict):
    """A test over rows {name: (call, error, word)}: each call is refused as the row says."""

    @pytest.mark.parametrize("name", sorted(rows), ids=str)
    def test(name):
        call, error, word = rows[name]
        raises_here(call, error, word)

    return test


def _kinds_test(kinds: dict, calls: dict):
    """A test over calls {name: f(bad)} x kinds {bad: (value, error, word)}: each call refuses each value."""

    @pytest.mark.parametrize("bad", kinds, ids=str)
    @pytest.mark.parametrize("name", sorted(calls), ids=str)
    def test(name, bad):
        value, error, word = kinds[bad]
        raises_here(lambda: calls[name](value), error, word)

    return test


def points_test(calls: dict):
    """A test over calls {name: f(bad)} x BAD_POINTS: every kind of bad points is refused."""
    return _kinds_test(BAD_POINTS, calls)


def times_test(calls: dict):
    """A test over calls {name: f(bad)} x BAD_TIMES: every kind of bad time is refused."""
    return _kinds_test(BAD_TIMES, calls)


def generator_test(calls: dict):
    """A test over calls {name: f(generator)}: an int is refused with the line that makes a
    generator, and a string is refused."""

    @pytest.mark.parametrize("name", sorted(calls), ids=str)
    def test(name):
        raises_here(lambda: calls[name](3), TypeError, "generator")
        with pytest.raises(TypeError, match=r"manual_seed\(3\)"):
            calls[name](3)
        raises_here(lambda: calls[name]("seed"), TypeError, "generator")

    return test


MISSING_DEVICES = [d for d in ("cuda", "mps")
                   if not (d == "cuda" and torch.cuda.is_available()) and not (d == "mps" and torch.backends.mps.is_available())]


def device_test(calls: dict):
    """A test over calls {name: f(device)}: a device this machine lacks is refused by name, listing
    what it has; a string that is no device, and a number, are refused."""

    @pytest.mark.parametrize("name", sorted(calls), ids=str)
    def test(name):
        for device in MISSING_DEVICES:
            with pytest.raises(ValueError, match=rf"device '{device}' is not available.*available: cpu"):
                calls[name](device)
        raises_here(lambda: calls[name]("gpu0"), ValueError, "device")
        raises_here(lambda: calls[name](3), TypeError, "device")

    return test
