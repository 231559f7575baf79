import matplotlib

matplotlib.use("Agg")

import pytest
import torch


@pytest.fixture
def gen():
    """A fresh seeded generator per test."""
    return torch.Generator().manual_seed(1234)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: trains a network, runs a benchmark's smoke setting or a Monte Carlo check of a second "
        "or more; the test command "
        "leaves these out and `python3 tasks.py test --slow` runs them (.ci/run does, after the test command)")
