"""The learned velocity field v_theta(x, t): a small MLP on the concatenation of x and t."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ._checks import check_count, check_points, check_seed, time_column


ACTIVATIONS = {"gelu": nn.GELU, "silu": nn.SiLU, "relu": nn.ReLU}


class VelocityMLP(nn.Module):
    """v_theta(x, t): MLP on [x, t] (plus optional Fourier features of t) -> velocity.

    The defaults are the write-up's network: 4 hidden layers of 128 units with GELU.

    Args:
        hidden: units per hidden layer.
        n_layers: number of hidden layers.
        n_time_features: if > 0, also feed sin(2 pi k t), cos(2 pi k t) for k = 1..n_time_features.
        activation: "gelu" (the write-up's), "silu" or "relu".
        seed: seed for the initial weights (None: use the global torch RNG).
    """

    def __init__(self, hidden: int = 128, n_layers: int = 4, n_time_features: int = 0, activation: str = "gelu",
                 seed: int | None = 0) -> None:
        super().__init__()
        if seed is not None:
            seed = check_seed("seed", seed)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.config = {
            "hidden": check_count("hidden", hidden, minimum=1),
            "n_layers": check_count("n_layers", n_layers, minimum=1),
            "n_time_features": check_count("n_time_features", n_time_features),
            "activation": activation,
        }
        in_dim = 3 + 2 * n_time_features
        layers: list[nn.Module] = []
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            for i in range(n_layers):
                layers += [nn.Linear(in_dim if i == 0 else hidden, hidden), ACTIVATIONS[activation]()]
            layers.append(nn.Linear(hidden, 2))
            self.net = nn.Sequential(*layers)
        if n_time_features:
            self.register_buffer("freqs", 2 * math.pi * torch.arange(1, n_time_features + 1, dtype=torch.float32))

    def forward(self, x: torch.Tensor, t: Any) -> torch.Tensor:
        """Velocity at points x, shape (n, 2), and times t (float, (n,) or (n, 1)); returns (n, 2).

        x and t are moved to the network's device and dtype (float64 points work with float32
        weights); the answer comes back on x's device, in x's dtype.
        """
        check_points("x", x)
        t = time_column(t, x)
        weight = self.net[0].weight
        if x.dtype == weight.dtype and x.device == weight.device and t.dtype == weight.dtype:
            return self._forward(x, t)
        return self._forward(x.to(weight), t.to(weight)).to(x.device, x.dtype)

    def _forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        features = [x, t]
        if self.config["n_time_features"]:
            angle = t * self.freqs.to(x.dtype)
            features += [torch.sin(angle), torch.cos(angle)]
        return self.net(torch.cat(features, dim=1))

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())
