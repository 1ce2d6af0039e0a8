"""Evaluating cells: the rule applied to many cells at once, with the evaluation error.

A cell's values at the rule's nodes are weighted by the Jacobian of the axis maps and reduced
by one matrix product with the rule's weight columns (Kronrod, Gauss, and in 2-D the mixed
ones): its Kronrod estimate, its error estimate ``|K - G|``, the integral of ``|f|`` and the
evaluation error (the integrand's own noise plus the rounding of the nodes' positions).
Kinks (:mod:`.kinks`) and infinite values (:mod:`.infinities`) are handled on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..results import AccuracyError
from .axes import end_distance
from .infinities import infinite_values
from .kinks import kink_points
from .partition import Domain
from .rules import Rule

__all__ = ["Cells", "Integrand", "MAX_POINTS_PER_CALL", "evaluate", "inherit"]

_EPS = float(np.finfo(np.float64).eps)
#: Most points passed to the integrand in one call (bounds memory for wide integrands).
MAX_POINTS_PER_CALL = 2 ** 13

Integrand = Callable[[np.ndarray], "tuple[np.ndarray, ...]"]


@dataclass
class Cells:
    """Per-cell results: bounds in t, Kronrod estimate, error estimate, directional errors,
    the integral of |f|, the evaluation error, kink flags and 1-D cut points."""

    lo: np.ndarray
    hi: np.ndarray
    est: np.ndarray  # (m, k)
    err: np.ndarray  # (m, k)
    dir_err: np.ndarray  # (m, k, d)
    absint: np.ndarray  # (m, k)
    noise: np.ndarray  # (m, k)
    kinked: np.ndarray  # (m,) the kink indicator changes sign in the cell
    cut: np.ndarray  # (m,) 1-D split point at a located kink, NaN for the midpoint
    cut_col: np.ndarray  # (m,) 1-D: the indicator column whose kink is at ``cut`` (-1: none)
    edge_col: np.ndarray  # (m, 2) 1-D: the column whose kink each edge was cut at (-1: none)
    young: np.ndarray  # (m,) initial cells, whose error has no second estimate from a parent
    owner: np.ndarray  # (m,) the integral each cell belongs to (all 0 without owners)
    inf_sign: np.ndarray  # (members, k) +1/-1 where a component is infinite

    _ROWS = ("lo", "hi", "est", "err", "dir_err", "absint", "noise", "kinked", "cut", "cut_col", "edge_col", "young",
             "owner")

    def extend(self, other: Cells) -> Cells:
        return Cells.concatenate([self, other])

    @staticmethod
    def concatenate(parts: Sequence[Cells]) -> Cells:
        sign = parts[0].inf_sign
        for other in parts[1:]:
            if np.any((sign != 0) & (other.inf_sign != 0) & (sign != other.inf_sign)):
                raise AccuracyError("the integrand is +inf in one place and -inf in another: the integral is undefined")
            sign = np.where(sign == 0, other.inf_sign, sign)
        rows = {n: np.concatenate([getattr(c, n) for c in parts]) for n in Cells._ROWS}
        return Cells(**rows, inf_sign=sign)

    def select(self, keep: np.ndarray) -> Cells:
        return Cells(**{n: getattr(self, n)[keep] for n in self._ROWS}, inf_sign=self.inf_sign)


def inherit(children: Cells, parent_est: np.ndarray, parent: np.ndarray) -> None:
    """Give each child its share of |K(parent) - sum K(children)| and keep the larger error."""
    total = np.zeros_like(parent_est)
    np.add.at(total, parent, children.est)
    count = np.bincount(parent, minlength=parent_est.shape[0]).astype(np.float64)
    share = (np.abs(parent_est - total) / count[:, None])[parent]
    children.err = np.maximum(children.err, share)
    children.dir_err = np.maximum(children.dir_err, share[:, :, None])


def evaluate(f: Integrand, domain: Domain, rule: Rule, lo: np.ndarray, hi: np.ndarray,
              owner: np.ndarray, edge_col: np.ndarray) -> Cells:
    """Apply the rule on each cell ``[lo, hi]`` (of integral ``owner``), calling ``f`` on at most
    ``MAX_POINTS_PER_CALL`` points at a time: that bounds the memory of integrands with many
    columns (a network's kink indicators), and blocks of this size stay in cache."""
    per_call = max(1, MAX_POINTS_PER_CALL // rule.nodes.shape[0])
    if lo.shape[0] <= per_call:
        return evaluate_cells(f, domain, rule, lo, hi, owner, edge_col)
    return Cells.concatenate([evaluate_cells(f, domain, rule, lo[i:i + per_call], hi[i:i + per_call],
                                               owner[i:i + per_call], edge_col[i:i + per_call])
                               for i in range(0, lo.shape[0], per_call)])




def _geometry(domain: Domain, rule: Rule, lo: np.ndarray, hi: np.ndarray):
    """The rule's nodes in cells ``[lo, hi]``: ``t`` (1-D; ``None`` in 2-D), ``x``, the weights'
    factor ``w`` (Jacobian times the cell's half-volume, (m, p)) and the relative rounding error
    of the nodes' positions per cell (m,)."""
    m = lo.shape[0]
    p = rule.nodes.shape[0]
    mid = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo)
    t = None
    if lo.ndim == 1:
        t = (mid[:, None] + half[:, None] * rule.nodes).ravel()
        vol = half
        x, jac = domain.axes[0].forward(t, end_distance(domain.axes[0], lo, hi, mid, half, rule.nodes))
        # the position error grows with |x - o| on either side of the origin: largest at a
        # cell's ends
        d_ends = domain.axes[0].position_error(x.reshape(m, p)[:, ::p - 1])
        delta = np.maximum(d_ends[:, 0], d_ends[:, 1])
    else:
        # the tensor rule's points: map each axis's q nodes per cell, then take products
        q = rule.axis_nodes.shape[0]
        x0, j0 = domain.axes[0].forward(mid[:, 0, None] + half[:, 0, None] * rule.axis_nodes,
                                        end_distance(domain.axes[0], lo[:, 0], hi[:, 0], mid[:, 0], half[:, 0],
                                                     rule.axis_nodes, False))
        x1, j1 = domain.axes[1].forward(mid[:, 1, None] + half[:, 1, None] * rule.axis_nodes,
                                        end_distance(domain.axes[1], lo[:, 1], hi[:, 1], mid[:, 1], half[:, 1],
                                                     rule.axis_nodes, False))
        delta = np.stack([domain.axes[0].position_error(x0[:, ::q - 1]).max(axis=1),
                          domain.axes[1].position_error(x1[:, ::q - 1]).max(axis=1)],
                         axis=1)  # (m, 2), from each cell's end nodes
        x = np.empty((m, q, q, 2))
        x[..., 0] = x0[:, :, None]
        x[..., 1] = x1[:, None, :]
        x = x.reshape(m * p, 2)
        jac = (j0[:, :, None] * j1[:, None, :]).reshape(m * p)
        vol = half[:, 0] * half[:, 1]
    w = jac.reshape(m, p) * vol[:, None]
    return t, x, w, _position_error(x, delta, m, p)


def evaluate_cells(f: Integrand, domain: Domain, rule: Rule, lo: np.ndarray, hi: np.ndarray,
                   owner: np.ndarray, edge_col: np.ndarray) -> Cells:
    # (called by the adaptive loop with floating-point warnings off)
    m = lo.shape[0]
    p = rule.nodes.shape[0]
    initial = lo is domain.lo and hi is domain.hi and not lo.flags.writeable  # a memoised partition
    geo = domain._nodes.get(p) if initial else None
    if geo is None:
        geo = _geometry(domain, rule, lo, hi)
        if initial:
            for a in geo:
                if a is not None:
                    a.flags.writeable = False
            domain._nodes[p] = geo
    t, x, w, pos_rel = geo
    if initial:
        x = x.copy()  # the integrand may write into its points
    out = domain.call(f, x, owner, p)
    vals, noise = out[0], out[1]
    k = vals.shape[1]
    both = np.concatenate([vals, np.abs(vals), noise], axis=1).reshape(m, p, 3 * k) * w[:, :, None]
    inf_sign = np.zeros((domain.members, k), dtype=np.int8)
    if not np.isfinite(both).all():
        both, inf_sign = infinite_values(both, vals, x, k, owner if domain.owner is not None else None, domain.members)
    sums = both.transpose(0, 2, 1) @ rule.weights  # (m, 3k, r)
    kron = sums[:, :k, 0]
    err = np.abs(kron - sums[:, :k, 1])
    absint = sums[:, k:2 * k, 0]
    # Nodes are rounded to doubles: a position error of an ulp of |x| moves the rule's result by
    # about (that error / the cell's width) of the integral of |f| over the cell.
    noise = sums[:, 2 * k:, 0] + absint * pos_rel[:, None]
    if lo.ndim == 1:
        dir_err = err[:, :, None]
    else:
        dir_err = np.abs(kron[:, :, None] - sums[:, :k, 2:])
    kinked = np.zeros(m, dtype=bool)
    cut = _filled(m, np.nan, np.float64)
    cut_col = _filled(m, -1, np.intp)
    if len(out) > 2:
        s = np.asarray(out[2], dtype=np.float64).reshape(m, p, -1)
        if lo.ndim == 1:
            # The indicator at the cell's ends too: a kink between an end and the nearest node
            # changes no sign among the nodes, and the rule would integrate across it unwarned.
            # (A few ulps inside the ends, where a density may be singular.)
            delta = np.minimum(4 * _EPS * np.maximum(np.abs(lo), np.abs(hi)) + 1e-300, 0.25 * (hi - lo))
            t_first, t_last = lo + delta, hi - delta
            with np.errstate(all="ignore"):
                ends = domain.call(f, domain.to_x(np.concatenate([t_first, t_last]))[0],
                             np.concatenate([owner, owner]), 1)
            se = np.asarray(ends[2], dtype=np.float64).reshape(2, m, -1)
            s = np.concatenate([se[0][:, None, :], s, se[1][:, None, :]], axis=1)  # (m, p + 2, h)
            # an end made at a kink of column c: its sign in column c is a rounding accident
            for side, near in ((0, 1), (1, p)):
                rows = np.flatnonzero(edge_col[:, side] >= 0)
                s[rows, side * (p + 1), edge_col[rows, side]] = s[rows, near, edge_col[rows, side]]
            tt = np.concatenate([t_first[:, None], t.reshape(m, p), t_last[:, None]], axis=1)
        kinked = np.any((s.max(axis=1) > 0) & (s.min(axis=1) < 0), axis=1)
        if kinked.any() and lo.ndim == 1:
            cut, cut_col = kink_points(f, domain, tt, s, kinked, owner)
    return Cells(lo, hi, kron, err, dir_err, absint, noise, kinked, cut, cut_col, edge_col,
                  np.zeros(m, dtype=bool), owner, inf_sign)


def _filled(shape, value, dtype) -> np.ndarray:
    """``np.full`` without its Python-level overhead (this runs on every call)."""
    a = np.empty(shape, dtype=dtype)
    a.fill(value)
    return a


def _position_error(x: np.ndarray, delta: np.ndarray, m: int, p: int) -> np.ndarray:
    """Per cell: the largest rounding error of its nodes' positions (``delta``, from
    :meth:`AxisMap.position_error`; per cell (m,) in 1-D, per cell and axis (m, 2) in 2-D) over its
    width (summed over axes), the width from the cell's first and last nodes (its lowest and
    highest in every coordinate)."""
    if x.ndim == 1:
        xc = x.reshape(m, p)
        first, last = xc[:, 0], xc[:, -1]
        rel = delta / (last - first)
    else:
        xc = x.reshape(m, p, 2)
        first, last = xc[:, 0, :], xc[:, -1, :]
        rel = (delta / (last - first)).sum(axis=1)
    return np.where(np.isfinite(rel), rel, 0.0)
