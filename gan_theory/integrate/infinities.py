"""Infinite integrand values: NaN is an error, +-inf makes that component's integral infinite."""

from __future__ import annotations

import numpy as np

from ..results import AccuracyError

__all__ = ["infinite_values"]


def infinite_values(both: np.ndarray, vals: np.ndarray, x: np.ndarray, k: int, owner: np.ndarray | None,
              members: int):
    """Handle non-finite integrand values: NaN is an error; +-inf marks the component (of the
    cell's owner) infinite. Returns the values with infinities zeroed and the signs (members, k)."""
    if np.isnan(vals).any():
        i = int(np.flatnonzero(np.isnan(vals).any(axis=1))[0])
        raise ValueError(f"the integrand returned NaN at x = {x[i]}")
    vk = both[:, :, :k]
    if owner is None:
        pos = np.any(vk == np.inf, axis=(0, 1))[None]
        neg = np.any(vk == -np.inf, axis=(0, 1))[None]
    else:
        pos, neg = np.zeros((members, k), dtype=bool), np.zeros((members, k), dtype=bool)
        np.logical_or.at(pos, owner, np.any(vk == np.inf, axis=1))
        np.logical_or.at(neg, owner, np.any(vk == -np.inf, axis=1))
    if np.any(pos & neg):
        raise AccuracyError("the integrand is +inf in one place and -inf in another: the integral is undefined")
    both = np.where(np.isfinite(both), both, 0.0)
    return both, pos.astype(np.int8) - neg.astype(np.int8)
