"""The Gauss-Kronrod rules on [-1, 1]^d that the integrator applies to every cell.

The nodes and weights are generated at 80 digits by tools/make_kronrod_rules.py into
:mod:`gan_theory.integrate.kronrod_tables`. A rule's weights form a matrix, one column per
estimate, so that applying it to the values of many cells is one matrix product.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import kronrod_tables as _tables

__all__ = ["Rule", "gauss_kronrod"]


@dataclass(frozen=True)
class Rule:
    """A tensor Gauss-Kronrod rule on [-1, 1]^d.

    ``weights`` has columns: Kronrod, Gauss, and in 2-D, Gauss along axis j with Kronrod
    along the other (for choosing the axis to bisect).
    """

    nodes: np.ndarray  # (P,) in 1-D, (P, 2) in 2-D
    weights: np.ndarray  # (P, 2) in 1-D, (P, 4) in 2-D
    axis_nodes: np.ndarray  # (Q,): the 1-D nodes; in 2-D, node i * Q + j is (axis_nodes[i], axis_nodes[j])


@functools.lru_cache(maxsize=None)
def gauss_kronrod(dim: int) -> Rule:
    """The rule for ``dim`` = 1 (21-point Gauss-Kronrod) or 2 (tensor product of 15-point rules)."""
    if dim == 1:
        x = np.array(_tables.GK21_NODES)
        wk, wg = np.array(_tables.GK21_KRONROD_WEIGHTS), np.array(_tables.GK21_GAUSS_WEIGHTS)
        return Rule(x, np.stack([wk, wg], axis=1), x)
    x = np.array(_tables.GK15_NODES)
    wk, wg = np.array(_tables.GK15_KRONROD_WEIGHTS), np.array(_tables.GK15_GAUSS_WEIGHTS)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    nodes = np.stack([xx.ravel(), yy.ravel()], axis=1)
    w = np.stack([np.outer(wk, wk).ravel(), np.outer(wg, wg).ravel(),
                  np.outer(wg, wk).ravel(), np.outer(wk, wg).ravel()], axis=1)
    return Rule(nodes, w, x)
