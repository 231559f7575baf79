"""The networks of the course, all in one table: `MODELS[kind]` builds each from its config.

- `VelocityMLP`, v_theta(x, t): the write-up's MLP on [x, t] (notebooks 04-07, 09).
- `MeanFlowMLP`, u_theta(x, t, s): the same MLP on [x, t, s - t], an average velocity (notebook 08).
- `ConditionalMLP`, v_theta(x, t, c): the MLP on [x, t, embedding of the label c], with one extra
  "no label" class, so one network gives the conditional and the unconditional field (notebooks 10, 11).
- `DiscreteMLP`: per-coordinate logits over V token values from the tokens of a state and t, a
  factorised denoiser for discrete flow matching on the gridded board (fmhelpers.discrete).
- `ClassifierMLP`: logits of a label given a point, and the hidden features a Frechet distance
  compares (the judge of generated digits, notebook 11).

Every network has `kind` (its key in `MODELS`) and `config` (what rebuilds it), which is how a
checkpoint stores it. `forward` checks its input and moves it to the network's device and dtype;
`raw` is the same network without any check, on tensors already in place: what the trainers and
`torch.func.jvp` call.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch
from torch import nn

from ._checks import check_count, check_indices, check_points, check_seed, check_time, check_tokens, time_column

ACTIVATIONS = {"gelu": nn.GELU, "silu": nn.SiLU, "relu": nn.ReLU}


def _check_activation(activation: Any) -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return activation


def _seed(seed: Any) -> int | None:
    return None if seed is None else check_seed("seed", seed)


def mlp(in_dim: int, hidden: int, n_layers: int, out_dim: int, activation: str = "gelu") -> nn.Sequential:
    """n_layers hidden layers of `hidden` units with `activation`, then a linear map to out_dim.

    Weights come from the global torch RNG: the networks below call it inside `seeded`.
    """
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers += [nn.Linear(in_dim if i == 0 else hidden, hidden), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(hidden, out_dim))
    return nn.Sequential(*layers)


class seeded:
    """`with seeded(seed):` draws initial weights from `seed` and leaves the caller's RNG alone
    (None: from the global RNG, as it stands)."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self._fork = torch.random.fork_rng(devices=[], enabled=seed is not None)

    def __enter__(self) -> None:
        self._fork.__enter__()
        if self.seed is not None:
            torch.manual_seed(self.seed)

    def __exit__(self, *exc: Any) -> None:
        self._fork.__exit__(*exc)


class _Network(nn.Module):
    """What every network of the table shares: `kind`, `config`, `dim`, and moving input in place."""

    kind = "network"
    config: dict[str, Any]

    @property
    def dim(self) -> int:
        return self.config.get("dim", 2)

    def _place(self, x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """x checked, and x on the network's device and dtype (the answer goes back to x's)."""
        check_points("x", x, dim=self.dim)
        weight = next(self.parameters())
        return x, x.to(weight.device, weight.dtype)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


class VelocityMLP(_Network):
    """v_theta(x, t): MLP on [x, t] (plus optional Fourier features of t) -> velocity.

    The defaults are the write-up's network: 4 hidden layers of 128 units with GELU.

    Args:
        hidden: units per hidden layer.
        n_layers: number of hidden layers.
        n_time_features: if > 0, also feed sin(2 pi k t), cos(2 pi k t) for k = 1..n_time_features.
        activation: "gelu" (the write-up's), "silu" or "relu".
        dim: the dimension of the points (2 on the board).
        seed: seed for the initial weights (None: use the global torch RNG).
    """

    kind = "velocity"

    def __init__(self, hidden: int = 128, n_layers: int = 4, n_time_features: int = 0, activation: str = "gelu",
                 dim: int = 2, seed: int | None = 0) -> None:
        super().__init__()
        seed = _seed(seed)
        self.config = {
            "hidden": check_count("hidden", hidden, minimum=1),
            "n_layers": check_count("n_layers", n_layers, minimum=1),
            "n_time_features": check_count("n_time_features", n_time_features),
            "activation": _check_activation(activation),
        }
        if check_count("dim", dim, minimum=1) != 2:
            self.config["dim"] = dim
        with seeded(seed):
            self.net = mlp(dim + 1 + 2 * n_time_features, hidden, n_layers, dim, activation)
        if n_time_features:
            self.register_buffer("freqs", 2 * math.pi * torch.arange(1, n_time_features + 1, dtype=torch.float32))

    def forward(self, x: torch.Tensor, t: Any) -> torch.Tensor:
        """Velocity at points x, shape (n, dim), and times t (float, (n,) or (n, 1)); returns (n, dim).

        x and t are moved to the network's device and dtype (float64 points work with float32
        weights); the answer comes back on x's device, in x's dtype.
        """
        x, xw = self._place(x)
        t = time_column(t, x).to(xw.dtype)
        return self.raw(xw, t.to(xw.device)).to(x.device, x.dtype)

    def raw(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The network itself, no checks: x (n, dim) and t (n, 1) on its device, in its dtype."""
        features = [x, t]
        if self.config["n_time_features"]:
            angle = t * self.freqs.to(x.dtype)
            features += [torch.sin(angle), torch.cos(angle)]
        return self.net(torch.cat(features, dim=1))


class MeanFlowMLP(_Network):
    """u_theta(x, t, s): the write-up's MLP (4 x 128, GELU) with inputs (x, t, s - t).

    The interval s - t is given directly, as the paper does, so that s = t (the instantaneous
    velocity) is an input value, not a relation between two inputs.
    """

    kind = "mean_flow"

    def __init__(self, hidden: int = 128, n_layers: int = 4, seed: int | None = 0) -> None:
        super().__init__()
        self.config = {"hidden": check_count("hidden", hidden, minimum=1),
                       "n_layers": check_count("n_layers", n_layers, minimum=1)}
        with seeded(_seed(seed)):
            self.net = mlp(4, hidden, n_layers, 2)

    def forward(self, x: torch.Tensor, t: Any, s: Any) -> torch.Tensor:
        """x: (n, 2); t, s: floats or shape (n,) / (n, 1), with 0 <= t <= s <= 1; returns (n, 2)."""
        x, xw = self._place(x)
        t = time_column(t, xw, "t").to(xw.dtype)
        s = time_column(s, xw, "s").to(xw.dtype)
        if bool((s < t - 1e-6).any()):
            raise ValueError("s must be >= t (the average velocity runs forward in time, from t to s)")
        return self.raw(xw, t, s).to(x.device, x.dtype)

    def raw(self, x: torch.Tensor, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """u_theta with no checks: x (n, 2), t and s (n, 1) on its device, in its dtype. What
        `torch.func.jvp` differentiates for the MeanFlow target (`fm.meanflow_target`)."""
        return self.net(torch.cat([x, t, s - t], dim=1))


def check_labels(name: str, c: Any, n: int, n_classes: int, *, device: Any = None) -> torch.Tensor:
    """Labels for n points as an int64 tensor of shape (n,) in [0, n_classes]: an int tensor of
    shape (n,), one Python int for all points, or None (every point "no label", the class n_classes)."""
    if c is None:
        return torch.full((n,), n_classes, dtype=torch.long, device=device)
    return check_indices(name, c, n, n_classes + 1, kind="label", device=device,
                         span=f"{n_classes} classes, and {n_classes} for 'no label'")


class ConditionalMLP(_Network):
    """v_theta(x, t, c): an MLP on [x, t, e(c)] with a learned embedding e of the label c.

    The embedding has n_classes + 1 rows: the last, label n_classes, means "no label", so the same
    network gives the conditional field v(x, t | c) and the unconditional v(x, t) (trained with
    label dropout, `fm.Recipe(label_dropout=...)`).

    Args:
        n_classes: the number of labels (8 black cells on the board, 10 digits).
        dim: the dimension of the points.
        hidden, n_layers, activation: as `VelocityMLP`.
        embed_dim: the size of the label embedding.
        seed: seed for the initial weights (None: the global torch RNG).
    """

    kind = "conditional"

    def __init__(self, n_classes: int = 8, dim: int = 2, hidden: int = 128, n_layers: int = 4, embed_dim: int = 16,
                 activation: str = "gelu", seed: int | None = 0) -> None:
        super().__init__()
        seed = _seed(seed)
        self.config = {"n_classes": check_count("n_classes", n_classes, minimum=1),
                       "dim": check_count("dim", dim, minimum=1),
                       "hidden": check_count("hidden", hidden, minimum=1),
                       "n_layers": check_count("n_layers", n_layers, minimum=1),
                       "embed_dim": check_count("embed_dim", embed_dim, minimum=1),
                       "activation": _check_activation(activation)}
        with seeded(seed):
            self.embed = nn.Embedding(n_classes + 1, embed_dim)
            self.net = mlp(dim + 1 + embed_dim, hidden, n_layers, dim, activation)

    @property
    def n_classes(self) -> int:
        return self.config["n_classes"]

    def forward(self, x: torch.Tensor, t: Any, c: Any = None) -> torch.Tensor:
        """Velocity at x (n, dim), times t, given labels c (int tensor (n,), one int, or None for
        "no label"); returns (n, dim) on x's device, in x's dtype."""
        x, xw = self._place(x)
        t = time_column(t, xw).to(xw.dtype)
        c = check_labels("c", c, len(x), self.n_classes, device=xw.device)
        return self.raw(xw, t, c).to(x.device, x.dtype)

    def raw(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """The network with no checks: x (n, dim), t (n, 1), c int64 (n,), on its device."""
        return self.net(torch.cat([x, t, self.embed(c).to(x.dtype)], dim=1))


class DiscreteMLP(_Network):
    """Logits of p(x_1^i = v | x_t, t) for each coordinate i of a state of two tokens: a factorised
    network (it predicts each coordinate's law, not their joint).

    Each coordinate's token (0..V, where V is the mask token) has a learned embedding of its own
    (one table, 2 (V + 1) rows); the MLP reads [e_1(x_t^1), e_2(x_t^2), t] and returns 2 V logits.

    Args:
        V: the number of token values per coordinate (the mask token V is extra).
        hidden, n_layers, activation: as `VelocityMLP`.
        embed_dim: the size of each token embedding.
        seed: seed for the initial weights (None: the global torch RNG).
    """

    kind = "discrete"

    def __init__(self, V: int = 32, hidden: int = 128, n_layers: int = 2, embed_dim: int = 16,
                 activation: str = "gelu", seed: int | None = 0) -> None:
        super().__init__()
        seed = _seed(seed)
        self.config = {"V": check_count("V", V, minimum=2),
                       "hidden": check_count("hidden", hidden, minimum=1),
                       "n_layers": check_count("n_layers", n_layers, minimum=1),
                       "embed_dim": check_count("embed_dim", embed_dim, minimum=1),
                       "activation": _check_activation(activation)}
        with seeded(seed):
            self.embed = nn.Embedding(2 * (V + 1), embed_dim)
            self.net = mlp(2 * embed_dim + 1, hidden, n_layers, 2 * V, activation)
        self.register_buffer("offset", torch.tensor([0, V + 1]), persistent=False)

    @property
    def V(self) -> int:
        return self.config["V"]

    def forward(self, x_t: torch.Tensor, t: Any) -> torch.Tensor:
        """Logits (n, 2, V) for states x_t, int tokens (n, 2) in 0..V (V: mask), and times t
        (float, (n,) or (n, 1)), on x_t's device, float32 (the network's dtype)."""
        x_t = check_tokens("x_t", x_t, self.V + 1, span=f"V = {self.V} values, and {self.V} for the mask token")
        weight = next(self.parameters())
        t = check_time("t", t, len(x_t), like=weight).reshape(-1, 1).expand(len(x_t), 1).to(weight.dtype)
        return self.raw(x_t.to(weight.device), t).to(x_t.device)

    def raw(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The network with no checks: x_t int64 (n, 2) and t (n, 1) on its device; logits (n, 2, V)."""
        features = self.embed(x_t + self.offset).reshape(len(x_t), -1).to(t.dtype)
        return self.net(torch.cat([features, t], dim=1)).reshape(len(x_t), 2, self.V)


class ClassifierMLP(_Network):
    """Logits of n_classes labels for points x (n, dim): `n_layers` hidden layers, then a linear map.

    `features(x)` is the last hidden layer's output, what a Frechet distance compares.
    """

    kind = "classifier"

    def __init__(self, dim: int = 64, n_classes: int = 10, hidden: int = 128, n_layers: int = 2,
                 activation: str = "relu", seed: int | None = 0) -> None:
        super().__init__()
        seed = _seed(seed)
        self.config = {"dim": check_count("dim", dim, minimum=1), "n_classes": check_count("n_classes", n_classes, minimum=2),
                       "hidden": check_count("hidden", hidden, minimum=1),
                       "n_layers": check_count("n_layers", n_layers, minimum=1),
                       "activation": _check_activation(activation)}
        with seeded(seed):
            self.net = mlp(dim, hidden, n_layers, n_classes, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (n, n_classes), for points x (n, dim)."""
        x, xw = self._place(x)
        return self.net(xw).to(x.device, x.dtype)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations, shape (n, hidden)."""
        x, xw = self._place(x)
        return self.net[:-1](xw).to(x.device, x.dtype)

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


MODELS: dict[str, type[_Network]] = {cls.kind: cls for cls in (VelocityMLP, MeanFlowMLP, ConditionalMLP, ClassifierMLP,
                                                                      DiscreteMLP)}


def build_model(kind: Any, config: Any) -> nn.Module:
    """The network `MODELS[kind]` rebuilt from its config (weights drawn from no particular seed)."""
    if not isinstance(kind, str) or kind not in MODELS:
        raise ValueError(f"kind must be one of {tuple(MODELS)}, got {kind!r}")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict of the network's arguments, got {type(config).__name__}")
    known = [p for p in inspect.signature(MODELS[kind]).parameters if p != "seed"]
    unknown = sorted(set(config) - set(known), key=str)
    if unknown:
        raise TypeError(f"config has keys that {MODELS[kind].__name__} does not take: {unknown}; it takes {known}")
    return MODELS[kind](**config, seed=None)


def model_kind(model: Any) -> str:
    """The key of `model`'s class in `MODELS`, or a TypeError naming the classes it knows."""
    for kind, cls in MODELS.items():
        if type(model) is cls or isinstance(model, cls):
            return kind
    raise TypeError(f"model must be one of the course's networks ({', '.join(c.__name__ for c in MODELS.values())}), "
                    f"got {type(model).__name__}")
