"""Input checks shared by the public functions: each raises an error that names the argument."""

from __future__ import annotations

import math
from typing import Any

import torch


def check_count(name: str, value: Any, *, minimum: int = 0) -> int:
    """Return `value` as an int, or raise if it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_positive(name: str, value: Any) -> float:
    """Return `value` as a float, or raise if it is not a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def check_points(name: str, x: Any) -> torch.Tensor:
    """Check that `x` is a floating tensor of shape (n, 2) with no NaN."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (n, 2), got {type(x).__name__}")
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if torch.isnan(x).any():
        raise ValueError(f"{name} contains NaN")
    return x


def check_time(name: str, t: Any, n: int | None = None, *, like: torch.Tensor | None = None) -> torch.Tensor:
    """Turn `t` (float, shape (), (n,) or (n, 1)) into a tensor of shape (n, 1) or () in [0, 1].

    Args:
        name: argument name used in error messages.
        t: the time(s).
        n: number of points `t` must match; None accepts any leading size.
        like: a tensor whose dtype and device a float `t` takes.
    """
    if isinstance(t, bool):
        raise TypeError(f"{name} must be a float or a tensor, got bool")
    if isinstance(t, (int, float)):
        dtype = like.dtype if like is not None else torch.get_default_dtype()
        device = like.device if like is not None else None
        t = torch.tensor(float(t), dtype=dtype, device=device)
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a float or a tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        t = t.to(like.dtype if like is not None else torch.get_default_dtype())
    if t.dim() == 1:
        t = t[:, None]
    if t.dim() > 2 or (t.dim() == 2 and t.shape[1] != 1):
        raise ValueError(f"{name} must be a float or have shape (n,) or (n, 1), got {tuple(t.shape)}")
    if n is not None and t.dim() == 2 and t.shape[0] != n:
        raise ValueError(f"{name} has {t.shape[0]} rows but the points have {n}")
    if torch.isnan(t).any():
        raise ValueError(f"{name} contains NaN")
    if ((t < 0) | (t > 1)).any():
        raise ValueError(f"{name} must lie in [0, 1], got values from {t.min().item():.4g} to {t.max().item():.4g}")
    return t


def resolve_device(device: Any) -> torch.device:
    """Turn None / str / torch.device into a torch.device (None means CPU)."""
    if device is None:
        return torch.device("cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be None, 'cpu', 'cuda' or 'mps', got {device!r}") from exc


def best_device() -> torch.device:
    """The fastest device available here: CUDA, then Apple MPS, then CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
