"""The adaptive loop: refine the cells until every component meets its tolerance.

Each round sums the cells' estimates and errors per integral, stops when

.. math::

    \\sum_{cells} |K - G| + \\text{evaluation error} \\le \\max(\\mathrm{atol}, \\mathrm{rtol}\\,|I|)

holds for every component, raises :class:`~gan_theory.results.AccuracyError` when it cannot
(the evaluation error alone is above the tolerance, a cell cannot be split in double precision,
or a budget runs out), and otherwise bisects the cells with the largest errors (at a located
kink in 1-D), evaluating only the new ones (:func:`.evaluate.evaluate`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..results import AccuracyError
from .evaluate import Integrand, _filled, evaluate, inherit
from .partition import Domain, split_cells
from .rules import gauss_kronrod

__all__ = ["VectorResult", "integrate"]

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class VectorResult:
    """Result of :func:`integrate` for a vector-valued integrand (one entry per component)."""

    value: np.ndarray
    error: np.ndarray
    evaluations: int
    cells: int


def integrate(f: Integrand, domain: Domain, *, atol: float | np.ndarray, rtol: float | np.ndarray,
              max_cells: int | None = None, max_rounds: int = 200,
              labels: Sequence[str] | None = None) -> VectorResult:
    """Integrate a vector-valued integrand over ``domain`` to ``max(atol, rtol |I|)``.

    Parameters
    ----------
    f : callable
        ``f(x)`` with ``x`` of shape (n,) in 1-D or (n, 2) in 2-D returns ``(values, noise)``,
        both of shape (n, k): the integrand and a bound on the absolute floating-point error of
        each value. Values may be ``+inf``/``-inf`` (that component's integral is then
        infinite), never NaN. An integrand with kinks returns a third array ``kink`` of shape
        (n,) or (n, h) whose columns change sign where the integrand is not smooth (``p - q``
        for ``|p - q|``; a ReLU network's pre-activations). A cell over which a column changes
        sign is split: in 1-D at the sign change, located to double precision (so the kink
        lies on a cell edge; the indicator is also sampled a few ulps inside each cell's ends,
        so that a kink between an end and the nearest node is not missed); in 2-D, where kinks
        are curves, it is split at least once.
    domain : Domain
        Initial partition, from :func:`make_domain`, or from :func:`make_batch_domain` for a
        batch of integrals on cells of their own: ``f`` is then called as ``f(x, owner)``
        with the owner of each point, and the result has ``members * k`` entries (integral
        ``b``'s components at ``b * k + j``).
    atol, rtol : float or array of shape (k,)
        Tolerances per component (of every integral): each component ends with
        ``error <= max(atol, rtol * |value|)``.
    max_cells : int, optional
        Cell budget of each integral (default 20000 in 1-D, 60000 in 2-D).
    max_rounds : int
        Budget of refinement rounds.
    labels : sequence of str, optional
        Component names for error messages.

    Returns
    -------
    VectorResult

    Notes
    -----
    A cell's error estimate is ``|K - G|``; once a cell has been split, its children also
    carry their share of ``|K(parent) - sum K(children)|`` (an estimate of the parent's error,
    which bounds the children's for smooth and for piecewise-smooth integrands) and keep the
    larger of the two.

    Raises
    ------
    AccuracyError
        If the tolerance cannot be met within the budgets, or is below the floating-point
        error of the integrand.
    ValueError
        If the integrand returns NaN.
    """
    # Floating-point warnings are off for the whole loop (one context, not one per array
    # operation): the integrand's infinities and the cells' empty ratios are handled explicitly.
    with np.errstate(all="ignore"):
        return _integrate(f, domain, atol, rtol, max_cells, max_rounds, labels)


def _integrate(f: Integrand, domain: Domain, atol, rtol, max_cells: int | None, max_rounds: int,
               labels: Sequence[str] | None) -> VectorResult:
    dim = domain.dim
    rule = gauss_kronrod(dim)
    members = domain.members
    owned = domain.owner is not None
    max_cells = (20000 if dim == 1 else 60000) if max_cells is None else max_cells
    owner0 = domain.owner if owned else np.zeros(domain.lo.shape[0], dtype=np.intp)
    cells = evaluate(f, domain, rule, domain.lo, domain.hi, owner0,
                     _filled((domain.lo.shape[0], 2), -1, np.intp))
    cells.young[:] = True
    evaluations = cells.lo.shape[0] * rule.nodes.shape[0]
    atol_v = np.asarray(atol, dtype=np.float64)
    rtol_v = np.asarray(rtol, dtype=np.float64)

    def group_sum(a: np.ndarray) -> np.ndarray:
        """Sum of per-cell rows (m, k) for each integral: (members, k)."""
        if not owned:
            return a.sum(axis=0)[None]
        return np.stack([np.bincount(cells.owner, weights=a[:, c], minlength=members)
                         for c in range(a.shape[1])], axis=1)

    def fail(b: int, c: int, reason: str) -> AccuracyError:
        """The error for component ``c`` of integral ``b``, with the estimate reached so far."""
        err_bc = float(quad_err[b, c] + floor[b, c])
        return AccuracyError(f"the requested accuracy cannot be met{_label(labels, b * value.shape[1] + c)}"
                             f"{reason}", estimate=float(value[b, c]), error=err_bc, tolerance=float(tol[b, c]))

    def unfinished(b: int) -> int:
        """The first unfinished component of integral ``b`` (0 if none)."""
        return int(np.argmax(~done[b]))

    for _ in range(max_rounds):
        m = cells.lo.shape[0]
        if owned:
            value = group_sum(cells.est)  # (members, k)
            quad_err = group_sum(cells.err)
            log_m = np.log2(np.maximum(np.bincount(cells.owner, minlength=members), 1))[:, None]
            floor = group_sum(cells.noise) + (4.0 + log_m) * _EPS * group_sum(cells.absint)
        else:  # group_sum inlined: one integral (the common single call)
            value = cells.est.sum(axis=0)[None]
            quad_err = cells.err.sum(axis=0)[None]
            floor = cells.noise.sum(axis=0)[None] + (4.0 + math.log2(m)) * _EPS * cells.absint.sum(axis=0)[None]
        tol = np.maximum(atol_v, rtol_v * np.abs(value))
        finite = cells.inf_sign == 0
        # kinked cells are split before they are trusted: at the kink in 1-D, at least once in 2-D
        kinked = bool(cells.kinked.any())
        must = cells.kinked & (np.isfinite(cells.cut) if dim == 1 else cells.young) if kinked else cells.kinked
        done = ~finite | (quad_err + floor <= tol)
        if done.all() and not (kinked and must.any()):
            error = quad_err + floor
            if not finite.all():
                value = np.where(finite, value, np.where(cells.inf_sign > 0, np.inf, -np.inf))
                error = np.where(finite, error, 0.0)
            return VectorResult(value.reshape(-1), error.reshape(-1), evaluations, m)
        hopeless = finite & (floor > tol)
        if hopeless.any():
            b, c = np.argwhere(hopeless)[0]
            # Unresolved as well (the quadrature error is above the tolerance too): the growing
            # value may be a divergence rather than a tight tolerance, so both are said.
            unresolved = (f"; the quadrature error {quad_err[b, c]:.3g} is above the tolerance too, so the "
                          f"integrand may be singular or the integral infinite" if quad_err[b, c] > tol[b, c] else "")
            raise fail(b, c, f": the floating-point error of the integrand alone is {floor[b, c]:.3g}, above the "
                             f"tolerance max(atol, rtol*|value|) = {tol[b, c]:.3g} (value {value[b, c]:.17g}); "
                             f"loosen atol/rtol{unresolved}")
        # Bisect, for each unfinished component of each integral, all but the smallest-error
        # cells whose errors add up to at most half of what the tolerance leaves.
        split = must.copy()
        score = np.zeros((m, dim))
        for c in np.flatnonzero(~done.all(axis=0)):
            room = 0.5 * (tol[:, c] - floor[:, c])
            if not owned:
                order = np.argsort(cells.err[:, c])
                keep = np.cumsum(cells.err[order, c]) <= room[0]
                split[order[~keep]] = True
            else:
                order = np.lexsort((cells.err[:, c], cells.owner))
                e, o = cells.err[order, c], cells.owner[order]
                total = np.cumsum(e)
                starts = np.ones(o.size, dtype=bool)
                starts[1:] = o[1:] != o[:-1]
                first = np.flatnonzero(starts)
                before = np.repeat(total[first] - e[first], np.diff(first, append=o.size))
                keep = (total - before <= room[o]) | done[o, c]
                split[order[~keep]] = True
            score += cells.dir_err[:, c, :] / np.maximum(tol[cells.owner, c], np.finfo(float).tiny)[:, None]
        if owned:
            over = np.bincount(cells.owner, minlength=members) + (2 ** dim - 1) * np.bincount(
                cells.owner[split], minlength=members) > max_cells
        else:
            over = np.array([m + (2 ** dim - 1) * int(split.sum()) > max_cells])
        if over.any():
            b = int(np.argmax(over))
            c = unfinished(b)
            raise fail(b, c, f" within {max_cells} cells: estimate {value[b, c]:.17g} with error "
                             f"{quad_err[b, c] + floor[b, c]:.3g} > tolerance {tol[b, c]:.3g}; the integrand may be "
                             f"singular or the integral infinite")
        lo, hi = cells.lo[split], cells.hi[split]
        tiny = np.abs(hi - lo) <= 8 * _EPS * np.maximum(np.abs(lo), np.abs(hi))
        if tiny.any():
            i = int(np.argmax(tiny))
            b = int(cells.owner[split][i])  # the integral whose cell is too small to split
            c = unfinished(b)
            where = domain.to_x(0.5 * (lo[i:i + 1] + hi[i:i + 1]))[0][0]
            raise fail(b, c, f": the integrand needs resolving near x = {where} finer than double precision allows "
                             f"(a singularity at the edge of the support, or a non-integrable tail); estimate "
                             f"{value[b, c]:.17g} with error {quad_err[b, c] + floor[b, c]:.3g} > tolerance "
                             f"{tol[b, c]:.3g}")
        if dim == 1:
            cut = cells.cut[split]
            mid = np.where(np.isnan(cut), 0.5 * (lo + hi), cut)
            new_lo, new_hi = np.concatenate([lo, mid]), np.concatenate([mid, hi])
            parent = np.concatenate([np.arange(lo.shape[0])] * 2)
            # an edge made at a kink remembers the kink's column (its sign there is not meaningful)
            edges, col = cells.edge_col[split], cells.cut_col[split]
            edge_col = np.concatenate([np.stack([edges[:, 0], col], axis=1), np.stack([col, edges[:, 1]], axis=1)])
        else:
            sc = score[split]
            axes = (sc >= 0.25 * sc.max(axis=1, keepdims=True)) | cells.kinked[split][:, None]
            new_lo, new_hi, parent = split_cells(lo, hi, axes)
            edge_col = _filled((new_lo.shape[0], 2), -1, np.intp)
        fresh = evaluate(f, domain, rule, new_lo, new_hi, cells.owner[split][parent], edge_col)
        inherit(fresh, cells.est[split], parent)
        evaluations += new_lo.shape[0] * rule.nodes.shape[0]
        cells = cells.select(~split).extend(fresh)
    raise AccuracyError(f"the requested accuracy cannot be met{_label(labels, 0)}: not reached in {max_rounds} "
                        f"refinement rounds; the integrand may be singular or the integral infinite")


def _label(labels: Sequence[str] | None, c: int) -> str:
    return f" for {labels[c]}" if labels else ""
