"""The registry of closed forms: registration, lookup by type pairs, the tolerance check."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..results import AccuracyError

__all__ = ["check_closed_tolerance", "closed_form", "has_closed_forms", "register_closed_form"]

_EPS = float(np.finfo(np.float64).eps)
_REGISTRY: dict[tuple[str, type, type], Callable] = {}
#: The quantities with at least one registered closed form (looked up on every call).
_QUANTITIES: set[str] = set()


def register_closed_form(quantity: str, type_p: type, type_q: type) -> Callable:
    """Register ``fn(p, q) -> (value, error)`` for ``quantity`` on a pair of types.

    ``p`` and ``q`` are float64 torch distributions; ``error`` bounds the absolute error of
    ``value``.
    """

    def decorator(fn: Callable) -> Callable:
        _REGISTRY[(quantity, type_p, type_q)] = fn
        _QUANTITIES.add(quantity)
        return fn

    return decorator


def has_closed_forms(quantity: str) -> bool:
    """Whether any closed form can exist for ``quantity`` (torch's registry covers ``kl``)."""
    return quantity == "kl" or quantity in _QUANTITIES


def _as_values(value, error) -> tuple:
    v, e = np.asarray(value, dtype=np.float64), np.asarray(error, dtype=np.float64)
    if v.ndim == 0:
        return float(v), float(e)
    return v, np.broadcast_to(e, v.shape).copy()


def closed_form(quantity: str, p: object, q: object) -> tuple | None:
    """``(value, error, source)`` of a registered closed form, or ``None``.

    ``value`` and ``error`` are floats, or arrays of shape (B,) when ``p`` or ``q`` is a batch
    (``batch_shape (B,)``).
    """
    for tp in type(p).__mro__:
        for tq in type(q).__mro__:
            fn = _REGISTRY.get((quantity, tp, tq))
            if fn is not None:
                try:
                    value, error = fn(p, q)
                except NotImplementedError:
                    return None
                return (*_as_values(value, error), "closed form")
    # torch's KL registry is not used directly: its formulas cancel large terms (lgamma of large
    # shapes, loc / scale at large locations), and a bound proportional to |value| is not a bound
    # there (Gamma(1e10, 1) against Gamma(1e10 + 1, 1) came out -2.5e-6 for a KL of 5e-11). The
    # pairs registered below recentre locations and bound the error by the size of the terms
    # that cancel; any other pair goes to the quadrature.
    return None


def check_closed_tolerance(value, error, atol: float, rtol: float, label: str) -> None:
    """Raise :class:`~gan_theory.AccuracyError` unless ``error <= max(atol, rtol |value|)``.

    The rule the quadrature meets (see :func:`gan_theory.integrate.integrate`), applied to a
    closed form's error bound, element by element for a batch. An exact infinity (error 0)
    meets any tolerance.
    """
    v, e = np.atleast_1d(np.asarray(value, dtype=np.float64)), np.atleast_1d(np.asarray(error, dtype=np.float64))
    with np.errstate(invalid="ignore", over="ignore"):
        tol = np.maximum(atol, rtol * np.abs(v))
        bad = ~(e <= tol)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = "" if np.ndim(value) == 0 else f" (batch element {i})"
        raise AccuracyError(f"atol, rtol: the closed form for {label} has error bound {e[i]:.3g}{where}, above "
                            f"the tolerance max(atol, rtol*|value|) = {tol[i]:.3g} (value {v[i]:.17g}, "
                            f"atol={atol:.3g}, rtol={rtol:.3g}); float64 cannot do better here: loosen atol/rtol",
                            estimate=float(v[i]), error=float(e[i]), tolerance=float(tol[i]))
