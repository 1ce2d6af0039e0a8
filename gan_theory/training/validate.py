"""The argument checks of a training configuration, shared by TrainConfig and fit_discriminator.

Seeds, per-member learning rates, Adam's betas, layer widths, device names and compile modes
are checked here, each with an error that names the argument, what was expected and what came
(a bool is not an integer or a number; floats must be finite). :class:`~gan_theory.training.
config.TrainConfig` checks its fields with them, and
:func:`gan_theory.training.fit.fit_discriminator` its arguments, so that both refuse the same
input in the same words. Every name is re-exported by :mod:`gan_theory.training.config`.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from typing import Any

from ..checks import check_flag, check_int, check_real

__all__ = ["COMPILE_MODES", "DEVICE_NAMES", "SEED_BOUND", "check_betas", "check_compile", "check_device_name",
           "check_lr", "check_seeds", "check_widths", "per_member"]

#: The modes of ``torch.compile`` that ``TrainConfig.compile`` takes besides True and False.
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
#: Seeds go to ``torch.Generator.manual_seed``, which takes ``0 <= seed < 2**64``.
SEED_BOUND = 2 ** 64
DEVICE_NAMES = "'auto', 'cpu', 'cuda' or 'cuda:N'"


def _sequence(name: str, value: Any, what: str) -> tuple[Any, ...]:
    """``value`` as a tuple if it is a sequence or an array (never a string or a mapping)."""
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__") or not hasattr(value, "__len__"):
        raise TypeError(f"{name}: expected {what}, got {type(value).__name__} {value!r}")
    try:
        return tuple(value)
    except TypeError:  # a 0-d array has __len__ and __iter__ but raises on both
        raise TypeError(f"{name}: expected {what}, got {type(value).__name__} {value!r}") from None


def _is_scalar(value: Any) -> bool:
    """A number (bools included, for check_real to refuse) or a 0-d array or tensor."""
    return isinstance(value, numbers.Number) or getattr(value, "shape", None) == ()


def per_member(name: str, value: Any, n: int, *, lower: float, lower_open: bool) -> tuple[float, ...]:
    """A scalar or one value per member, as a tuple of n floats."""
    if _is_scalar(value):
        return (check_real(name, value, lower=lower, lower_open=lower_open),) * n
    values = _sequence(name, value, f"a number or a sequence of {n} numbers (one per member)")
    if len(values) != n:
        raise ValueError(f"{name}: expected one value or {n} (one per member), got {len(values)}")
    return tuple(check_real(f"{name}[{i}]", v, lower=lower, lower_open=lower_open) for i, v in enumerate(values))


def check_lr(name: str, value: Any, n: int, *, lower_open: bool = False) -> float | tuple[float, ...]:
    """A learning rate (>= 0, or > 0 when ``lower_open``) or one per member, as plain floats."""
    if _is_scalar(value):
        return check_real(name, value, lower=0.0, lower_open=lower_open)
    return per_member(name, value, n, lower=0.0, lower_open=lower_open)


def check_seeds(seed: Any, seeds: Any, n: int) -> tuple[int, ...]:
    """The seed of each of ``n`` members: ``seeds`` if given, else ``seed, seed + 1, ...``.

    Every member seed must lie in ``[0, 2**64)`` (``torch.Generator.manual_seed``), so ``seed``
    may be at most ``2**64 - n``.
    """
    seed = check_int("seed", seed, lower=0)
    if seeds is None:
        if seed > SEED_BOUND - n:
            raise ValueError(f"seed: expected an integer from 0 to 2**64 - {n} = {SEED_BOUND - n} (member i is "
                             f"seeded with seed + i, and torch takes seeds below 2**64), got {seed}")
        return tuple(seed + i for i in range(n))
    values = _sequence("seeds", seeds, f"a sequence of {n} integer seeds (one per member)")
    if len(values) != n:
        raise ValueError(f"seeds: expected {n} seeds (one per member), got {len(values)}")
    out = tuple(check_int(f"seeds[{i}]", s, lower=0) for i, s in enumerate(values))
    for i, s in enumerate(out):
        if s >= SEED_BOUND:
            raise ValueError(f"seeds[{i}]: expected an integer from 0 to 2**64 - 1 (torch takes seeds below "
                             f"2**64), got {s}")
    if seed >= SEED_BOUND:
        raise ValueError(f"seed: expected an integer from 0 to 2**64 - 1 (torch takes seeds below 2**64), got {seed}")
    return out


def check_betas(name: str, value: Any) -> tuple[float, float]:
    """Adam's ``(beta1, beta2)``: two finite numbers in ``[0, 1)``."""
    betas = _sequence(name, value, "two numbers (beta1, beta2)")
    if len(betas) != 2:
        raise ValueError(f"{name}: expected two numbers (beta1, beta2), got {len(betas)}: {value!r}")
    return tuple(check_real(f"{name}[{i}]", b, lower=0.0, upper=1.0, upper_open=True) for i, b in enumerate(betas))


def check_widths(name: str, value: Any) -> tuple[int, ...]:
    """Hidden-layer widths: a non-empty sequence of integers >= 1.

    No hidden layer at all is refused: the metrics of a network discriminator locate its kinks
    from its hidden layers.
    """
    widths = _sequence(name, value, "a sequence of layer widths (integers >= 1)")
    if not widths:
        raise ValueError(f"{name}: expected at least one hidden-layer width, got {value!r}")
    return tuple(check_int(f"{name}[{i}]", w, lower=1) for i, w in enumerate(widths))


def check_device_name(name: str, value: Any) -> str:
    """``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (the form only; whether the device is
    there is checked when a run starts, by :func:`gan_theory.training.device.resolve_device`)."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected {DEVICE_NAMES} (N: a CUDA device index), got {type(value).__name__} "
                        f"{value!r}")
    if not re.fullmatch(r"auto|cpu|cuda(:[0-9]+)?", value):
        raise ValueError(f"{name}: expected {DEVICE_NAMES} (N: a CUDA device index), got {value!r}")
    return value


def check_compile(name: str, value: Any) -> bool | str:
    """``TrainConfig.compile``: True, False or one of :data:`COMPILE_MODES`."""
    if isinstance(value, str):
        if value not in COMPILE_MODES:
            raise ValueError(f"{name}: expected True, False or a torch.compile mode "
                             f"({', '.join(map(repr, COMPILE_MODES))}), got {value!r}")
        return value
    if value is None:
        raise TypeError(f"{name}: expected True, False or a torch.compile mode "
                        f"({', '.join(map(repr, COMPILE_MODES))}), got None")
    try:
        return check_flag(name, value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected True, False or a torch.compile mode "
                        f"({', '.join(map(repr, COMPILE_MODES))}), got {type(value).__name__} {value!r}") from None
