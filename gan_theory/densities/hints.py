"""Where a density's mass lies: the hints that place the quadrature's initial cells.

Hints of families with ``event_shape ()`` (possibly batched, e.g. the components of a mixture)
come from the family table (:mod:`.families`; :func:`register_hints` adds a function of the
distribution for a type, the pattern of ``torch.distributions.kl.register_kl``). Wrappers are handled structurally:
``MixtureSameFamily`` (one feature per component), ``Independent`` over a batch of two 1-D
families (a 2-D product density), ``MultivariateNormal`` and monotone
``TransformedDistribution`` chains in 1-D. Unknown families fall back to the mean and standard
deviation, the quantile function, or quantiles of samples drawn with a fixed local generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch
import torch.distributions as td
from torch.distributions import constraints

from ..constants import F64 as _F64
from ..integrate import Landmarks
from .families import Family, FamilyHints, family, family_hints_of, register_family

__all__ = ["IQR_PER_SD", "FamilyHints", "Hints", "register_hints", "to_landmarks", "torch_hints"]

#: The interquartile range of a normal distribution in standard deviations, 2 Phi^-1(3/4) =
#: 1.34898, rounded to 4 digits: a spread read from quartiles becomes a scale comparable to a
#: standard deviation (the rounding is immaterial: a scale only places the initial cells).
IQR_PER_SD = 1.349


#: Where a density's mass lies, for placing quadrature cells: the integrator's
#: :class:`~gan_theory.integrate.Landmarks` (support box, one centre and per-axis scale per mode,
#: the break points per axis, and for a batch the element of each row). The densities side
#: computes them; the integrator reads them and knows nothing of densities. One type, so that
#: the two sides cannot drift.
Hints = Landmarks


def to_landmarks(hints: Hints) -> Landmarks:
    """The bridge to the integrator: a density's hints are already its plain-data
    :class:`~gan_theory.integrate.Landmarks` (kept as a function so that the bridge has one name)."""
    return hints


def register_hints(*types: type) -> Callable:
    """Register a function ``dist -> FamilyHints`` for distribution types with event_shape ().

    The function receives a (possibly batched) distribution and returns
    :class:`FamilyHints`: the centre and scale of each batch element, and optionally the
    points where the density is not smooth. It becomes the ``hints_of`` of the type's entry in
    the family table (:func:`gan_theory.densities.register_family`; the entry's other facts
    are kept). Lookup follows the method resolution order.

    Examples
    --------
    >>> @register_hints(MyDistribution)          # doctest: +SKIP
    ... def _(d):
    ...     return FamilyHints(center=d.loc, scale=d.width)
    """

    def decorator(fn: Callable) -> Callable:
        for t in types:
            old = family(t)
            register_family(Family(t, hints_of=fn) if old is None else replace(old, hints=None, hints_of=fn))
        return fn

    return decorator


def _transformed_hints(d: td.TransformedDistribution) -> FamilyHints | None:
    """Push the base hints through a chain of monotone 1-D transforms."""
    if d.event_shape != () or d.base_dist.event_shape != ():
        return None
    base = family_hints(d.base_dist)
    if base is None:
        return None
    for t in d.transforms:
        if t.event_dim != 0 or not t.bijective:
            return None
        try:
            t.sign
        except NotImplementedError:
            return None
    lo, c, hi = base.center - base.scale, base.center, base.center + base.scale
    breaks = base.breaks
    for t in d.transforms:
        lo, c, hi = t(lo), t(c), t(hi)
        if breaks is not None:
            breaks = t(breaks)
    return FamilyHints(c, (hi - lo).abs() / 2, breaks)


def family_hints(d: td.Distribution) -> FamilyHints | None:
    """The family table's hints of a distribution with event_shape (), or those of a monotone
    transform of one; ``None`` if neither is known."""
    h = family_hints_of(d)
    if h is not None:
        return h
    if isinstance(d, td.TransformedDistribution):
        return _transformed_hints(d)
    return None


def _np(v: Any) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        return v.detach().to(_F64).numpy()
    return np.asarray(v, dtype=np.float64)


def _generic(d: td.Distribution, dim: int, sampler: Callable) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale for an unknown family: mean/stddev, else quantiles, else samples."""
    try:
        m = _np(d.mean).reshape(dim)
        s = _np(d.stddev).reshape(dim)
        if np.all(np.isfinite(m)) and np.all(np.isfinite(s)) and np.all(s > 0):
            return m[None], s[None]
    except (NotImplementedError, AttributeError, RuntimeError):
        pass
    if dim == 1:
        try:
            q = _np(d.icdf(torch.tensor([0.25, 0.5, 0.75], dtype=_F64)))
            if np.all(np.isfinite(q)) and q[2] > q[0]:
                return q[None, 1:2], np.array([[(q[2] - q[0]) / IQR_PER_SD]])
        except (NotImplementedError, AttributeError, RuntimeError, ValueError):
            pass
    x = _np(sampler(8192)).reshape(-1, dim)
    med = np.median(x, axis=0)
    iqr = np.subtract(*np.percentile(x, [75, 25], axis=0))
    return med[None], np.maximum(iqr / IQR_PER_SD, 1e-12 * (1 + np.abs(med)))[None]


def _constraint_bounds(c: constraints.Constraint) -> tuple[Any, Any]:
    while isinstance(c, constraints.independent):
        c = c.base_constraint
    return getattr(c, "lower_bound", -math.inf), getattr(c, "upper_bound", math.inf)


def _bounds(b: Any, dim: int) -> np.ndarray:
    """A support bound (float or batched tensor) as an array of shape (k, dim)."""
    a = _np(b)
    if dim == 1:
        return a.reshape(-1, 1)
    return np.broadcast_to(a, a.shape[:-1] + (2,)).reshape(-1, 2) if a.ndim else np.full((1, 2), float(a))


def _components(d: td.Distribution, dim: int, sampler: Callable) -> tuple[np.ndarray, np.ndarray, list]:
    """(centers (k, dim), scales (k, dim), per-axis breaks) of a possibly batched distribution."""
    if isinstance(d, td.MixtureSameFamily):
        return _components(d.component_distribution, dim, sampler)
    if dim == 2 and isinstance(d, td.Independent) and d.reinterpreted_batch_ndims == 1 \
            and d.base_dist.event_shape == () and d.base_dist.batch_shape[-1:] == (2,):
        h = family_hints(d.base_dist)
        if h is not None:
            breaks = [np.empty(0), np.empty(0)]
            if h.breaks is not None:
                b = _np(h.breaks)
                b = np.moveaxis(b.reshape((-1, 2, b.shape[-1])), 1, 0).reshape(2, -1)
                breaks = [b[0], b[1]]
            return _np(h.center).reshape(-1, 2), _np(h.scale).reshape(-1, 2), breaks
    if dim == 2 and isinstance(d, (td.MultivariateNormal, td.LowRankMultivariateNormal)):
        cov = _np(d.covariance_matrix).reshape(-1, 2, 2)
        return _np(d.loc).reshape(-1, 2), np.sqrt(np.diagonal(cov, axis1=1, axis2=2)), [np.empty(0)] * 2
    if dim == 1:
        h = family_hints(d)
        if h is not None:
            b = np.empty(0) if h.breaks is None else _np(h.breaks).reshape(-1)
            return _np(h.center).reshape(-1, 1), _np(h.scale).reshape(-1, 1), [b]
    c, s = _generic(d, dim, sampler)
    return c, s, [np.empty(0)] * dim


def torch_hints(d: td.Distribution, dim: int, sampler: Callable[[int], torch.Tensor]) -> Hints:
    """Hints for a torch distribution with event_shape () (dim 1) or (2,) (dim 2).

    ``sampler(n)`` draws ``n`` samples reproducibly; it is used only for unknown families.
    """
    lo, hi = _constraint_bounds(d.support)
    lower = np.min(_bounds(lo, dim), axis=0)
    upper = np.max(_bounds(hi, dim), axis=0)
    centers, scales, breaks = _components(d, dim, sampler)
    breaks = tuple(np.unique(b[np.isfinite(b)]) for b in breaks)
    return Hints(lower, upper, centers, scales, breaks)
