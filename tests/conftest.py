import matplotlib

matplotlib.use("Agg")

import pytest
import torch


@pytest.fixture
def gen():
    """A fresh seeded generator per test."""
    return torch.Generator().manual_seed(1234)
