"""Input checks shared by the public functions: each raises an error that names the argument.

The contracts they enforce, once, at each public entry point:

- points: a floating-point torch.Tensor of shape (n, 2) (or (n, d) where a function works in any
  dimension), every value finite (no NaN, no inf);
- times: a float, or a tensor of shape (), (n,) or (n, 1), in [0, 1]; inside the package always (n, 1);
- generators: a `torch.Generator` or None (an int is refused with a hint to seed one);
- devices: None means "leave it where it is": new tensors are made on the CPU, a model stays on
  its own device; a device string this machine does not have is refused, naming what it has.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable

import numpy as np
import torch
from torch import nn


def check_count(name: str, value: Any, *, minimum: int = 0) -> int:
    """Return `value` as an int, or raise if it is not an integer >= `minimum`."""
    if isinstance(value, (np.integer,)):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_number(name: str, value: Any) -> float:
    """Return `value` (a Python, NumPy or 0-d tensor number) as a finite float, or raise."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype.is_complex:
        value = value.item()
    elif isinstance(value, np.generic) and np.isrealobj(value) and not isinstance(value, np.bool_):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def check_positive(name: str, value: Any) -> float:
    """Return `value` as a float, or raise if it is not a finite number > 0."""
    value = check_number(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return `value` if it is one of the strings `choices`, else raise, listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_flag(name: str, value: Any) -> bool:
    """Return `value` if it is True or False, else raise."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return value


def _non_finite(x: torch.Tensor) -> str | None:
    """None if every value of `x` is finite, else how many NaN and infinite values it holds."""
    if bool(torch.isfinite(x).all()):
        return None
    n_nan, n_inf = int(torch.isnan(x).sum()), int(torch.isinf(x).sum())
    parts = [f"{n_nan} NaN" if n_nan else "", f"{n_inf} infinite value{'s' * (n_inf > 1)}" if n_inf else ""]
    return " and ".join(p for p in parts if p)


def check_finite(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise if the tensor `x` holds NaN or an infinite value, saying which and how many."""
    bad = _non_finite(x)
    if bad:
        raise ValueError(f"{name} contains {bad}: every value must be finite")
    return x


def check_points(name: str, x: Any, *, dim: int | None = 2, min_rows: int = 0) -> torch.Tensor:
    """Check that `x` is a finite floating-point tensor of shape (n, dim) with n >= min_rows.

    dim=None accepts any number of columns (a function that works in any dimension).
    """
    form = f"(n, {dim})" if dim is not None else "(n, d)"
    if not isinstance(x, torch.Tensor):
        hint = " (use torch.as_tensor(...) first)" if isinstance(x, np.ndarray) else ""
        raise TypeError(f"{name} must be a torch.Tensor of shape {form}, got {type(x).__name__}{hint}")
    if x.dim() != 2 or (dim is not None and x.shape[1] != dim) or x.shape[1] == 0:
        raise ValueError(f"{name} must have shape {form}, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if len(x) < min_rows:
        raise ValueError(f"{name} must hold at least {min_rows} point{'s' * (min_rows > 1)}, got {len(x)}")
    return check_finite(name, x)


def check_indices(name: str, c: Any, n: int, count: int, *, kind: str, span: str, device: Any = None) -> torch.Tensor:
    """Indices for n points (classes, labels, black cells) as an int64 tensor (n,) in 0..count - 1: one
    Python int for all points, or an integer tensor of shape (n,). `kind` names one index in the messages
    ("class"), `span` says what 0..count - 1 are ("8 classes"). Each caller decides what None means."""
    if isinstance(c, bool) or not isinstance(c, (int, torch.Tensor)):
        raise TypeError(f"{name} must be an int or an integer tensor of shape (n,), got {type(c).__name__}")
    if isinstance(c, int):
        c = torch.full((n,), c, dtype=torch.long)
    if c.dtype.is_floating_point or c.dtype.is_complex or c.dtype == torch.bool:
        raise TypeError(f"{name} must hold integers ({kind} indices), got {c.dtype}")
    if c.shape != (n,):
        raise ValueError(f"{name} must be one int or have shape ({n},), one {kind} per point, got {tuple(c.shape)}")
    if n and (int(c.min()) < 0 or int(c.max()) >= count):
        raise ValueError(f"{name} must lie in 0..{count - 1} ({span}), got values from {int(c.min())} to {int(c.max())}")
    return c.long().to(device) if device is not None else c.long()


def check_time(name: str, t: Any, n: int | None = None, *, like: torch.Tensor | None = None) -> torch.Tensor:
    """Turn `t` (float, shape (), (n,) or (n, 1)) into a tensor of shape (n, 1) or () in [0, 1].

    Args:
        name: argument name used in error messages.
        t: the time(s): a Python or NumPy float, or a tensor.
        n: number of points `t` must match; None accepts any leading size.
        like: a tensor whose dtype and device `t` takes (a time tensor keeps a wider dtype).
    """
    if isinstance(t, (bool, np.bool_)):
        raise TypeError(f"{name} must be a float or a tensor, got bool")
    if isinstance(t, np.generic) and np.isrealobj(t):
        t = t.item()
    if isinstance(t, (int, float)):
        dtype = like.dtype if like is not None else torch.get_default_dtype()
        device = like.device if like is not None else None
        t = torch.tensor(float(t), dtype=dtype, device=device)
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a float or a tensor, got {type(t).__name__}")
    if t.dtype.is_complex or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got {t.dtype}")
    if like is not None:
        dtype = torch.promote_types(t.dtype, like.dtype) if t.is_floating_point() else like.dtype
        t = t.to(device=like.device, dtype=dtype)
    elif not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    if t.dim() == 1:
        t = t[:, None]
    if t.dim() > 2 or (t.dim() == 2 and t.shape[1] != 1):
        raise ValueError(f"{name} must be a float or have shape (n,) or (n, 1), got {tuple(t.shape)}")
    if n is not None and t.dim() == 2 and t.shape[0] != n:
        raise ValueError(f"{name} has {t.shape[0]} rows but the points have {n}")
    if bool(torch.isnan(t).any()):
        raise ValueError(f"{name} contains NaN")
    if bool(((t < 0) | (t > 1)).any()):
        raise ValueError(f"{name} must lie in [0, 1], got values from {t.min().item():.4g} to {t.max().item():.4g}")
    return t


def time_column(t: Any, x: torch.Tensor, name: str = "t") -> torch.Tensor:
    """`t` checked against the points `x` and returned with shape (n, 1), in x's dtype (or wider)."""
    return check_time(name, t, len(x), like=x).reshape(-1, 1).expand(len(x), 1)


def common_dtype(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """The tensors cast to one floating dtype (the widest among them), so float32 and float64 mix."""
    dtype = tensors[0].dtype
    for x in tensors[1:]:
        dtype = torch.promote_types(dtype, x.dtype)
    return [x.to(dtype) for x in tensors]


def check_model(name: str, model: Any, example: str) -> nn.Module:
    """A torch module with parameters to train, else an error naming what was expected."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module (e.g. {example}), got {type(model).__name__}")
    if next(model.parameters(), None) is None:
        raise ValueError(f"{name} has no parameters to train (e.g. {example})")
    return model


def check_generator(name: str, generator: Any) -> torch.Generator | None:
    """None or a torch.Generator; an int gets a message that says what to pass instead."""
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        raise TypeError(f"{name} must be a torch.Generator, got the int {generator}: "
                        f"pass {name}=torch.Generator().manual_seed({generator}) (or a seed where the function takes seed=)")
    raise TypeError(f"{name} must be a torch.Generator or None, got {type(generator).__name__}")


SEED_LIMIT = 2**64  # torch.manual_seed takes seeds below this


def check_seed(name: str, seed: Any) -> int:
    """An int seed in [0, 2**64) (NumPy ints accepted), the range torch.manual_seed takes."""
    if isinstance(seed, torch.Generator):
        raise TypeError(f"{name} must be an int, got a torch.Generator (pass its seed, or use generator=)")
    seed = check_count(name, seed)
    if seed >= SEED_LIMIT:
        raise ValueError(f"{name} must be below 2**64 (what torch.manual_seed takes), got {seed}")
    return seed


def _available() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found


def resolve_device(device: Any, name: str = "device") -> torch.device:
    """Turn None / str / torch.device into a torch.device this machine has (None means CPU)."""
    if device is None:
        return torch.device("cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be None, a string such as 'cpu', or a torch.device, got {type(device).__name__}")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"{name} must be None, 'cpu', 'cuda' or 'mps', got {device!r}") from exc
    if device.type not in _available():
        raise ValueError(f"{name} {str(device)!r} is not available on this machine; available: "
                         f"{', '.join(_available())} (fm.best_device() picks the fastest)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"{name} {str(device)!r} is not available: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def best_device() -> torch.device:
    """The fastest device available here: CUDA, then Apple MPS, then CPU."""
    return torch.device(_available()[-1])


def module_device(module: nn.Module) -> torch.device | None:
    """The device of a module's first parameter or buffer (None for a module without any)."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return None


def check_callable(name: str, f: Any, signature: str) -> Callable:
    """`f` if it can be called as `signature` says ("draw(ax, value)": with two positional arguments),
    else a TypeError that shows how it will be called and, for the wrong number of arguments, what
    `f` takes."""
    if not callable(f):
        raise TypeError(f"{name} must be callable as {signature}, got {type(f).__name__}")
    inside = signature[signature.find("(") + 1:signature.find(")")]
    n_args = len([arg for arg in inside.split(",") if arg.strip()])
    try:
        own = inspect.signature(f)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to compare
        return f
    try:
        own.bind(*range(n_args))
    except TypeError:
        raise TypeError(f"{name} must take {n_args} argument{'s' * (n_args != 1)}, called as {signature}; yours is "
                        f"{getattr(f, '__name__', name)}{own}") from None
    return f


def check_field_output(name: str, v: Any, x: torch.Tensor, where: str = "", *, finite: bool = True) -> torch.Tensor:
    """What a velocity field (or a network, or an average velocity u) returned for points x: a
    finite tensor of x's shape (no silent broadcasting of an (n, 1) answer), else a clear error.
    finite=False checks the type and shape only (a trainer's first batch: a loss that is not finite
    is the loop's to report, with the iteration and the learning rate)."""
    if not isinstance(v, torch.Tensor):
        raise TypeError(f"{name} must return a torch.Tensor of shape {tuple(x.shape)}, got {type(v).__name__}{where}")
    if v.shape != x.shape:
        raise ValueError(f"{name} must return shape {tuple(x.shape)} (one velocity per point), "
                         f"got {tuple(v.shape)}{where}")
    bad = _non_finite(v) if finite else None
    if bad:
        raise ValueError(f"{name} returned {bad}{where}")
    return v


def as_field(velocity: Any, name: str = "velocity") -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """velocity(x, t) evaluated where it lives: a module gets x and t on its device (and dtype),
    and the answer comes back on x's device and in x's dtype."""
    check_callable(name, velocity, f"{name}(x, t)")
    if not isinstance(velocity, nn.Module):
        return velocity
    device = module_device(velocity)
    if device is None:
        return velocity

    def on_its_device(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        v = velocity(x.to(device), t.to(device))
        return v.to(x.device, x.dtype) if isinstance(v, torch.Tensor) else v

    return on_its_device


def check_tokens(name: str, x: Any, count: int, *, span: str, dim: int = 2) -> torch.Tensor:
    """Tokens: an integer tensor of shape (n, dim) with every value in 0..count - 1 (`span` says
    what those are, for the message), returned as int64."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be an integer torch.Tensor of shape (n, {dim}) (tokens), got {type(x).__name__}")
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer tokens, got {x.dtype}")
    if x.dim() != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), one token per coordinate, got {tuple(x.shape)}")
    if x.numel() and (int(x.min()) < 0 or int(x.max()) >= count):
        raise ValueError(f"{name} must lie in 0..{count - 1} ({span}), got values from {int(x.min())} to {int(x.max())}")
    return x.long()
