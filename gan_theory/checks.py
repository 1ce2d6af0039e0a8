"""Argument checks shared by the public functions.

Every check raises a ``TypeError`` or ``ValueError`` whose message names the argument, what
was expected and what came, so that a bad call never turns into a silently wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ``ValueError`` listing them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: unknown option {value!r}; expected one of {', '.join(map(repr, choices))}")
    return value


def check_real(name: str, value: Any, *, lower: float | None = None, upper: float | None = None,
               lower_open: bool = False, upper_open: bool = False) -> float:
    """Return ``value`` as a finite float inside the stated bounds, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_scalar_tensor(value):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name}: expected a finite number, got {x}")
    if lower is not None and (x < lower or (lower_open and x == lower)):
        raise ValueError(f"{name}: expected a number {'>' if lower_open else '>='} {lower}, got {x}")
    if upper is not None and (x > upper or (upper_open and x == upper)):
        raise ValueError(f"{name}: expected a number {'<' if upper_open else '<='} {upper}, got {x}")
    return x


def check_int(name: str, value: Any, *, lower: int | None = None, upper: int | None = None) -> int:
    """Return ``value`` as an int inside the stated bounds, else raise.

    A bool is refused although Python makes it an int (``steps=True`` is a mistake, not 1),
    and so is a bool tensor or numpy bool; other integer types with ``__index__`` are taken.
    """
    if _is_bool(value):
        raise TypeError(f"{name}: expected an integer, got bool {value!r}")
    if not isinstance(value, int):
        if hasattr(value, "__index__"):
            value = value.__index__()
        else:
            raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    if lower is not None and value < lower:
        raise ValueError(f"{name}: expected an integer >= {lower}, got {value}")
    if upper is not None and value > upper:
        raise ValueError(f"{name}: expected an integer <= {upper}, got {value}")
    return int(value)


def check_tolerances(atol: Any, rtol: Any) -> tuple[float, float]:
    """Validate an absolute and a relative tolerance (``error <= max(atol, rtol * |value|)``)."""
    atol = check_real("atol", atol, lower=0.0)
    rtol = check_real("rtol", rtol, lower=0.0)
    if atol == 0.0 and rtol == 0.0:
        raise ValueError("atol, rtol: at least one tolerance must be positive; got atol=0 and rtol=0")
    return atol, rtol


def _is_scalar_tensor(value: Any) -> bool:
    shape = getattr(value, "shape", None)
    return shape is not None and tuple(shape) == () and hasattr(value, "item")


def check_flag(name: str, value: Any, *, none_ok: bool = False) -> bool | None:
    """Return ``value`` as a Python bool if it is ``True`` or ``False`` (or ``None`` when
    ``none_ok``), else raise ``TypeError``.

    The one rule for every boolean flag of the package: a Python ``bool`` or a NumPy
    ``np.bool_`` (what a NumPy comparison such as ``(a > 0).all()`` returns) is taken; anything
    else is refused, integers 0 and 1, strings and tensors included. Truthiness is not enough:
    ``progress="no"`` is truthy, and a flag that is silently read the wrong way changes what a
    call does.
    """
    if value is None and none_ok:
        return None
    if not isinstance(value, (bool, np.bool_)):
        expected = "True, False or None" if none_ok else "True or False"
        raise TypeError(f"{name}: expected {expected}, got {type(value).__name__} {value!r}")
    return bool(value)


def _is_bool(value: Any) -> bool:
    """A Python, numpy or torch boolean (a 0-d bool tensor has ``__index__`` too)."""
    return isinstance(value, bool) or str(getattr(value, "dtype", "")) in ("bool", "torch.bool")
