"""Kinks in 1-D cells: where an indicator column changes sign, located to double precision.

An integrand that is not smooth along curves known to it (``|p - q|`` where ``p = q``, a ReLU
network's pre-activations) returns indicator columns; a 1-D cell over which one changes sign
is split exactly there (the Illinois variant of regula falsi), so that the rule never
integrates across a kink.
"""

from __future__ import annotations

import numpy as np

from .partition import Domain

__all__ = ["kink_points"]

_EPS = float(np.finfo(np.float64).eps)


def kink_points(f, domain: Domain, t: np.ndarray, s: np.ndarray, kinked: np.ndarray,
                 owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per 1-D cell, where to split it, and the indicator column of that kink: for kinked cells
    the first sign change (in x) of the first indicator column that changes sign, located to
    double precision by the Illinois (modified regula falsi) method between the two points
    around it; NaN (and -1) for the other cells.

    ``t`` and ``s`` hold each cell's two ends and its nodes between them, in increasing order.
    Between two nodes a node exactly at the kink (indicator 0) counts as a change on its
    right; next to an end only a strict change of sign counts (an end where the indicator is 0
    is a break or a kink already on the edge). A kink found within a few ulps of an end is on
    the edge already: nothing is cut there.
    """
    cut = np.full(t.shape[0], np.nan)
    cut_col = np.full(t.shape[0], -1, dtype=np.intp)
    idx = np.flatnonzero(kinked)
    sk, tk = s[idx], t[idx]  # (r, p + 2, h)
    sg = np.sign(sk)  # (indicators may be huge: their products would overflow)
    change = sg[:, 1:, :] * sg[:, :-1, :] < 0
    change[:, 1:-1, :] |= (sg[:, 1:-2, :] == 0) & (sg[:, 2:-1, :] != 0)
    found = change.any(axis=(1, 2))
    idx, sk, tk, change = idx[found], sk[found], tk[found], change[found]
    first_node = np.where(change.any(axis=2), np.arange(change.shape[1])[None, :], change.shape[1])
    j = first_node.min(axis=1)  # first interval with a change in any column
    rows = np.arange(idx.size)
    col = np.argmax(change[rows, j, :], axis=1)
    a, b = tk[rows, j].copy(), tk[rows, j + 1].copy()
    fa, fb = sk[rows, j, col].copy(), sk[rows, j + 1, col].copy()
    side = np.zeros(idx.size)
    for _ in range(100):
        active = np.abs(b - a) > 4 * _EPS * np.maximum(np.abs(a), np.abs(b))
        if not active.any():
            break
        with np.errstate(all="ignore"):
            c = np.where(active, b - fb * (b - a) / (fb - fa), 0.5 * (a + b))
            c = np.where((c > np.minimum(a, b)) & (c < np.maximum(a, b)), c, 0.5 * (a + b))
            ind = np.asarray(domain.call(f, domain.to_x(c)[0], owner[idx], 1)[2],
                             dtype=np.float64).reshape(idx.size, -1)
        fc = ind[rows, col]
        same_b = np.sign(fc) * np.sign(fb) > 0
        # replace the endpoint on c's side; halve the kept endpoint's value when the same side
        # is replaced twice in a row (Illinois), which keeps the convergence superlinear
        a_new = np.where(same_b, a, b)
        fa_new = np.where(same_b, np.where(side > 0, 0.5 * fa, fa), fb)
        side = np.where(same_b, 1.0, -1.0)
        a, fa = np.where(active, a_new, a), np.where(active, fa_new, fa)
        b, fb = np.where(active, c, b), np.where(active, fc, fb)
        exact = fc == 0
        a, b = np.where(exact, c, a), np.where(exact, c, b)
    c = 0.5 * (a + b)
    lo, hi = tk[:, 0], tk[:, -1]  # the ends' sampling points, a few ulps inside the ends
    inside = np.minimum(c - lo, hi - c) > 0
    cut[idx[inside]] = c[inside]
    cut_col[idx[inside]] = col[inside]
    return cut, cut_col
