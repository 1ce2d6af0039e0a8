"""The family table itself: the record of one family, the table, and how it is read.

:class:`Family` is one row (what gan-theory knows about one ``torch.distributions`` class;
every field but ``type`` optional), :data:`FAMILIES` the table keyed by class,
:func:`register_family` adds a row, :func:`family` looks one up (exactly, or along the method
resolution order for hints), :func:`read_params` reads and checks a distribution's parameters as
float64, and :func:`family_hints_of` gives its hints. The rows themselves, with their formulas,
are in :mod:`gan_theory.densities.families`, which registers them on import.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.distributions as td

from ..constants import F64 as _F64

__all__ = ["FAMILIES", "Components", "Family", "FamilyHints", "LogProb", "family", "family_hints_of", "read_params",
           "register_family"]

_TINY = float(np.finfo(np.float64).tiny)

LogProb = Callable[[np.ndarray], np.ndarray]
#: ``(idx, generators) -> x``: ``idx`` of shape (G, n), ``x[i, j]`` drawn from batch element
#: (mixture component) ``idx[i, j]`` with the random numbers of row ``i`` from ``generators[i]``
#: only (:func:`gan_theory.densities.draws.standard_draws`), so that a row is the same drawn
#: alone (G = 1) or among others.
Components = Callable[[torch.Tensor, Sequence[torch.Generator]], torch.Tensor]


@dataclass(frozen=True)
class FamilyHints:
    """Per-batch-element hints of a family with event_shape (): arrays or tensors of its batch
    shape (``breaks`` has one more, trailing, dimension; ``None``: the density is smooth)."""

    center: Any
    scale: Any
    breaks: Any = None


@dataclass(frozen=True)
class Family:
    """One row of the family table (see the module docstring).

    Attributes
    ----------
    type : type
        The ``torch.distributions`` class.
    params : tuple of str
        Parameter attributes, in constructor order; read as float64 NumPy (Python floats for
        scalars) by :func:`read_params` and passed by name to the functions below.
    positive : tuple of str
        Parameters that must be > 0.
    check : callable, optional
        ``check(**params) -> message or None`` for constraints between parameters.
    log_prob : callable, optional
        ``log_prob(**params) -> (x -> log p(x))``, NumPy, broadcasting ``x`` against the
        parameters (-inf off the support).
    hints : callable, optional
        ``hints(**params) -> (centre, scale, breaks or None)``: where each batch element's
        mass lies (a scale comparable to a standard deviation) and where its density is not
        smooth (breaks with a trailing axis).
    hints_of : callable, optional
        ``hints_of(dist) -> FamilyHints``: the same from the distribution itself (families
        registered with :func:`gan_theory.densities.register_hints`).
    bounds : callable, optional
        ``bounds(**params) -> (lower, upper)`` of the support; unbounded if not given.
    sampler : callable, optional
        ``sampler(**params) -> Components`` on float64 CPU tensors with a leading batch
        (component) dimension; it draws with
        :func:`gan_theory.densities.draws.standard_draws` (one row per generator).
    scipy : callable, optional
        ``scipy(**params) -> frozen scipy.stats distribution`` with the same density.
    rebuild : callable, optional
        ``rebuild(dist, cast) -> dist`` with every tensor parameter passed through ``cast``.
    examples : callable, optional
        ``examples() -> list of distributions``, float64, for the table's self-test.
    """

    type: type
    params: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    check: Callable[..., str | None] | None = None
    log_prob: Callable[..., LogProb] | None = None
    hints: Callable[..., tuple] | None = None
    hints_of: Callable[[td.Distribution], FamilyHints] | None = None
    bounds: Callable[..., tuple] | None = None
    sampler: Callable[..., Components] | None = None
    scipy: Callable[..., Any] | None = None
    rebuild: Callable[[td.Distribution, Callable], td.Distribution] | None = None
    examples: Callable[[], list] | None = field(default=None, compare=False)


#: The table, keyed by distribution class (see :func:`register_family`).
FAMILIES: dict[type, Family] = {}


def register_family(entry: Family) -> Family:
    """Add (or replace) the table's entry for ``entry.type`` and return it.

    Examples
    --------
    >>> import torch.distributions as td                                   # doctest: +SKIP
    >>> register_family(Family(td.Gumbel, ("loc", "scale"), ("scale",),
    ...                        hints=lambda loc, scale: (loc, scale, None)))
    """
    if not isinstance(entry, Family):
        raise TypeError(f"entry: expected a gan_theory.densities.Family, got {type(entry).__name__}")
    if not isinstance(entry.type, type) or not issubclass(entry.type, td.Distribution):
        raise TypeError(f"entry.type: expected a torch.distributions.Distribution subclass, got {entry.type!r}")
    FAMILIES[entry.type] = entry
    return entry


def family(t: type, *, exact: bool = True) -> Family | None:
    """The entry for class ``t``: its own (``exact``), or the first along its method
    resolution order that states hints (otherwise). ``None`` if there is none."""
    if exact:
        return FAMILIES.get(t)
    for base in t.__mro__:
        fam = FAMILIES.get(base)
        if fam is not None and (fam.hints is not None or fam.hints_of is not None):
            return fam
    return None


def _as_np(v: Any) -> np.ndarray | float:
    if isinstance(v, torch.Tensor):
        if v.dim() == 0:
            return float(v)
        return v.detach().to("cpu", _F64).numpy()
    return np.asarray(v, dtype=np.float64)


def read_params(d: td.Distribution, fam: Family, name: str, path: str = "") -> dict[str, Any]:
    """The parameters of ``d`` as float64 (Python floats for scalars), checked: finite, the
    ``positive`` ones > 0 (a ``scale`` at least the smallest normal float64, where the peak of
    the density would overflow), and ``fam.check``. Errors name the argument and the parameter.
    """
    out = {}
    for k in fam.params:
        a = _as_np(getattr(d, k))
        if isinstance(a, float):
            ok_finite, ok_pos = math.isfinite(a), a > 0
        else:
            ok_finite, ok_pos = bool(np.all(np.isfinite(a))), bool(np.all(a > 0))
        if not ok_finite:
            bad = a if isinstance(a, float) else a[~np.isfinite(a)].ravel()[0]
            raise ValueError(f"{name}: parameter {path + k!r} of {type(d).__name__} must be finite, found {bad}")
        if k in fam.positive and not ok_pos:
            bad = a if isinstance(a, float) else a[~(a > 0)].ravel()[0]
            raise ValueError(f"{name}: parameter {path + k!r} of {type(d).__name__} must be positive, found {bad}")
        if k == "scale" and np.min(a) < _TINY:  # the density's peak would overflow float64
            raise ValueError(f"{name}: parameter {path + k!r} of {type(d).__name__} must be at least {_TINY:.4g} "
                             f"(the smallest normal float64), found {np.min(a):.4g}")
        out[k] = a
    if fam.check is not None:
        msg = fam.check(**out)
        if msg is not None:
            raise ValueError(f"{name}: {msg.format(path=path)}")
    return out


def family_hints_of(d: td.Distribution) -> FamilyHints | None:
    """The table's hints for ``d`` (event_shape ()), as float64 tensors of its batch shape, or
    ``None`` if no entry along its method resolution order states any."""
    fam = family(type(d), exact=False)
    if fam is None:
        return None
    if fam.hints_of is not None:
        return fam.hints_of(d)
    p = {k: _as_np(getattr(d, k)) for k in fam.params}
    c, s, b = fam.hints(**p)
    shape = tuple(d.batch_shape)

    def t(v):
        return torch.as_tensor(np.broadcast_to(np.asarray(v, dtype=np.float64), shape).copy())

    breaks = None if b is None else torch.as_tensor(
        np.broadcast_to(np.asarray(b, dtype=np.float64), shape + np.shape(b)[-1:]).copy())
    return FamilyHints(t(c), t(s), breaks)
