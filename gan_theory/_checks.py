"""Argument checks shared by the public functions.

Every check raises a ``TypeError`` or ``ValueError`` whose message names the argument, what
was expected and what came, so that a bad call never turns into a silently wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


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
    """Return ``value`` as an int inside the stated bounds, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
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
