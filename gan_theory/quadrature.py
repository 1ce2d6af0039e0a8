"""Error-controlled adaptive quadrature on R and R^2 for integrands built from densities.

The method
----------
Each axis is written in a coordinate ``t`` (:class:`AxisMap`): the smooth map
``x = c + s t / (1 - t^2)``, ``t in (-1, 1)``, for the whole line when no density has a break
point; otherwise the identity on a core interval holding every mode and break (so breaks are
cell edges exactly), with rational tails ``x = b + L tau / (1 - tau)`` where the support is
unbounded. Infinite ranges are therefore integrated without truncation: no mass is lost, and
heavy tails (Cauchy, Student-t) are handled like any other part of the integrand.

The initial cells (intervals, or rectangles in ``t``) have edges at every point where a density
is not smooth (cusps, jumps, support ends) and are small near every mode: no wider than a few
of the mode's scales across the box of +-8 scales around it. Narrow modes are never stepped
over. In 1-D, beyond each box the cells grow geometrically (by :data:`GRADING`) up to about the
distance to the next cell edge, so that a mode's tail is not hidden inside one wide cell whose
nodes all miss it (the tail of ``N(0, 1e-6)`` beyond 8 scales, next to a cell 2 wide, matters
at a relative tolerance of 1e-11). The whole-line map is used only where it places the nodes
near every mode about as accurately as the identity; otherwise the identity core with rational
tails is used. A mode narrower than :data:`MIN_ULPS_PER_SCALE` float spacings at its location
(``Normal(1e20, 1)``) cannot be resolved: :class:`AccuracyError` (pairs of location families
are moved near 0 before they get here, see :mod:`gan_theory._recentre`).

Each cell is integrated with the 21-point Gauss-Kronrod rule (1-D) or the tensor product of
15-point Gauss-Kronrod rules (2-D). The cell's error estimate is ``|K - G|``, the difference
between the Kronrod result and the embedded Gauss result, which overestimates the Kronrod
result's true error by orders of magnitude on smooth integrands. Cells are bisected, all
together in vectorised rounds, until

.. math::

    \\sum_{cells} |K - G| + \\text{evaluation error} \\le \\max(\\mathrm{atol}, \\mathrm{rtol}\\,|I|)

for every component of a vector-valued integrand. The evaluation error is the floating-point
uncertainty of the integrand values (supplied by the integrand, e.g. from the cancellation in
``log p - log q``), the rounding of the nodes' positions (:meth:`AxisMap.position_error`) and
the rounding of the sums. If the tolerance cannot be met (the
evaluation error alone exceeds it, or the cell budget runs out) :class:`AccuracyError` is
raised; no wrong number is returned.

A batch of integrals can be computed in one pass, each on cells of its own
(:func:`make_batch_domain`): every cell carries its owner, the rounds are shared, and each
integral meets its own tolerance.

References
----------
R. Piessens, E. de Doncker-Kapenga, C. W. Ueberhuber, D. K. Kahaner, *QUADPACK: A Subroutine
Package for Automatic Integration*, Springer, 1983 (Gauss-Kronrod error estimation, rational
maps for infinite ranges).
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import _rules
from ._hints import Hints
from .results import AccuracyError

__all__ = ["AxisMap", "Domain", "VectorResult", "integrate", "make_batch_domain", "make_domain"]

_EPS = float(np.finfo(np.float64).eps)
#: Smallest distance (relative to the tail's length in ``t``) from ``t`` to an end where the map
#: goes to infinity: keeps ``x`` finite at the end itself; nodes never come this close.
_U_MIN = 2.0 ** -200

#: Half-width, in scales, of the box around a mode inside which cells are refined up front.
EXTENT = 8.0
#: Largest cell width, in scales, inside a mode's box before error-driven refinement (1-D, 2-D).
RESOLUTION = (2.0, 8.0)
#: Most points passed to the integrand in one call (bounds memory for wide integrands).
MAX_POINTS_PER_CALL = 2 ** 13
#: Growth factor of the cell widths outside a mode's box (1-D), from the box's own resolution
#: up to about the distance to the next cell edge (another mode's box, a break, or the start of
#: the tail map): a mode's tail is never hidden inside one wide cell whose nodes all miss it.
GRADING = 4.0
#: A mode narrower than this many float spacings at its centre cannot be resolved (its cells
#: would collapse onto a few representable points): :class:`AccuracyError`.
MIN_ULPS_PER_SCALE = 1024.0


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rule:
    """A tensor Gauss-Kronrod rule on [-1, 1]^d.

    ``weights`` has columns: Kronrod, Gauss, and in 2-D, Gauss along axis j with Kronrod
    along the other (for choosing the axis to bisect).
    """

    nodes: np.ndarray  # (P,) in 1-D, (P, 2) in 2-D
    weights: np.ndarray  # (P, 2) in 1-D, (P, 4) in 2-D
    axis_nodes: np.ndarray  # (Q,): the 1-D nodes; in 2-D, node i * Q + j is (axis_nodes[i], axis_nodes[j])


@functools.lru_cache(maxsize=None)
def _rule(dim: int) -> _Rule:
    if dim == 1:
        x = np.array(_rules.GK21_NODES)
        wk, wg = np.array(_rules.GK21_KRONROD_WEIGHTS), np.array(_rules.GK21_GAUSS_WEIGHTS)
        return _Rule(x, np.stack([wk, wg], axis=1), x)
    x = np.array(_rules.GK15_NODES)
    wk, wg = np.array(_rules.GK15_KRONROD_WEIGHTS), np.array(_rules.GK15_GAUSS_WEIGHTS)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    nodes = np.stack([xx.ravel(), yy.ravel()], axis=1)
    w = np.stack([np.outer(wk, wk).ravel(), np.outer(wg, wg).ravel(),
                  np.outer(wg, wk).ravel(), np.outer(wk, wg).ravel()], axis=1)
    return _Rule(nodes, w, x)


# --------------------------------------------------------------------------------------------
# Coordinates
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AxisMap:
    """Monotone map from the coordinate ``t`` to ``x`` along one axis.

    ``kind="line"`` (the whole line, no break points): ``x = c + s t / (1 - t^2)`` on
    ``t in (-1, 1)`` with ``c = (a + b)/2``, ``s = (b - a)/2``; one smooth formula.

    ``kind="core"``: the identity ``x = t`` on ``[a, b]``, so that break points (jumps, cusps)
    are cell edges exactly; where the support is unbounded, rational tails
    ``x = b + right * tau / (1 - tau)`` for ``t = b + S tau``, ``tau in (0, 1)`` (and the mirror
    image on the left), with ``S = max(1, |a|, |b|)`` (:attr:`tail_span`): ``tau`` is then
    resolved to about ``eps`` even when the core lies far from 0 (with ``S = 1``, ``tau`` near
    ``b = 3e12`` would only be resolved to 5e-4). A bounded support has no tails.
    """

    kind: str
    a: float
    b: float
    left: float = 0.0
    right: float = 0.0

    @property
    def tail_span(self) -> float:
        """The length in ``t`` of each tail of a core map."""
        return max(1.0, abs(self.a), abs(self.b))

    @property
    def t_range(self) -> tuple[float, float]:
        if self.kind == "line":
            return (-1.0, 1.0)
        span = self.tail_span
        return (self.a - (span if self.left > 0 else 0.0), self.b + (span if self.right > 0 else 0.0))

    def forward(self, t: np.ndarray, u: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``x(t)`` and ``dx/dt``.

        Where the map goes to infinity, ``x`` depends on the distance ``u`` from ``t`` to the
        end of :attr:`t_range` it approaches, which the rounded ``t`` does not hold: near
        ``t = 1`` doubles are 1.1e-16 apart, so a node 1e-17 from the end would be moved onto
        it, and an integrand that grows there (the tail of a Student-t with ``df < 1``, whose
        mass beyond 1e15 is ~1e-11) would be misweighted. Quadrature nodes therefore pass
        ``u``, computed exactly from their cell's edges (:func:`_end_distance`): the distance to
        the end nearer the cell, ``t_hi - t`` right of the middle of the range (of the core,
        for a core map) and ``t - t_lo`` left of it. Without ``u`` it is computed from ``t``.
        The maps are exact changes of variable in ``u``: ``x = c + s t / (u (2 - u))`` with
        ``u (2 - u) = 1 - t^2`` for the whole line; ``x = b + L (t - b) / u``,
        ``dx/dt = L (t_hi - b) / u^2`` on the core's right tail, and the mirror image on the left.
        """
        if self.kind == "line":
            c, s = 0.5 * (self.a + self.b), 0.5 * (self.b - self.a)
            if u is None:  # (the maximum keeps x finite at the ends themselves)
                u = np.maximum(1.0 - np.abs(t), _U_MIN)
            w = u * (2.0 - u)  # 1 - t^2
            d = 1.0 / w
            sd = s * d
            x = t * sd
            if c != 0.0:
                x += c
            return x, (2.0 - w) * d * sd  # 2 - w = 1 + t^2
        lo_end, hi_end = self.t_range
        x, jac = t.copy(), np.ones_like(t)
        if self.left > 0:
            span = self.a - lo_end
            d = 1.0 / (np.maximum(t - lo_end, span * _U_MIN) if u is None else u)
            out = t < self.a
            x = np.where(out, self.a - self.left * (self.a - t) * d, x)
            jac = np.where(out, self.left * span * d * d, jac)
        if self.right > 0:
            span = hi_end - self.b
            d = 1.0 / (np.maximum(hi_end - t, span * _U_MIN) if u is None else u)
            out = t > self.b
            x = np.where(out, self.b + self.right * (t - self.b) * d, x)
            jac = np.where(out, self.right * span * d * d, jac)
        return x, jac

    def position_error(self, x: np.ndarray) -> np.ndarray:
        """The rounding error of the computed ``x(t)`` at nodes ``x``, one ulp of the largest
        magnitude in the formula: ``eps |x|`` on the identity core, ``eps max(|x|, |x - o|)``
        for a rational map ``x = o + L g(t)`` (its origin ``o``), which is large where ``x`` is
        near 0 but far from ``o`` (a mode far from the centre of a wide core: the line map is
        then not used, see :func:`_line_map_loses`)."""
        ax = np.abs(x)
        if (self.kind == "core" and self.left == 0 and self.right == 0) or (self.kind == "line" and self.a == -self.b):
            ax *= _EPS  # the identity, or a line map with origin 0
            return ax
        if self.kind == "line":
            err = np.abs(x - 0.5 * (self.a + self.b))
            np.maximum(err, ax, out=err)
        else:
            err = ax
            if self.left > 0:
                err = np.where(x < self.a, np.maximum(ax, np.abs(x - self.a)), err)
            if self.right > 0:
                err = np.where(x > self.b, np.maximum(ax, np.abs(x - self.b)), err)
        err *= _EPS
        return err

    def core_edges(self) -> np.ndarray:
        """The points of ``t`` where the map changes formula (cell edges must lie there)."""
        return np.empty(0) if self.kind == "line" else np.array([self.a, self.b])

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Return ``t(x)``, the inverse of :meth:`forward` (finite points)."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "line":
            y = (x - 0.5 * (self.a + self.b)) / (0.5 * (self.b - self.a))
            return 2.0 * y / (1.0 + np.sqrt(1.0 + 4.0 * y * y))
        t = x.copy()
        lo_end, hi_end = self.t_range
        if self.left > 0:
            y = np.maximum(self.a - x, 0.0) / self.left
            t = np.where(x < self.a, self.a - (self.a - lo_end) * (y / (1.0 + y)), t)
        if self.right > 0:
            y = np.maximum(x - self.b, 0.0) / self.right
            t = np.where(x > self.b, self.b + (hi_end - self.b) * (y / (1.0 + y)), t)
        return t


@dataclass(frozen=True)
class Domain:
    """The axis maps and the initial cells ``[lo, hi]`` (in ``t``; shape (m, d)).

    With ``owner`` (shape (m,), values in ``range(members)``), each cell belongs to one of
    ``members`` separate integrals (a batch of integrands, each on its own cells): the
    integrand is then called as ``f(x, owner)`` with the owner of every point, and every
    integral meets its own tolerance.
    """

    axes: tuple[AxisMap, ...]
    lo: np.ndarray
    hi: np.ndarray
    owner: np.ndarray | None = None
    members: int = 1

    @property
    def dim(self) -> int:
        return len(self.axes)

    def to_x(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map points ``t`` of shape (n,) (1-D) or (n, 2) to ``x`` and the Jacobian (n,)."""
        if t.ndim == 1:
            return self.axes[0].forward(t)
        (x0, j0), (x1, j1) = self.axes[0].forward(t[:, 0]), self.axes[1].forward(t[:, 1])
        return np.stack([x0, x1], axis=1), j0 * j1


def _check_resolvable(centers: np.ndarray, scales: np.ndarray, members: np.ndarray | None = None) -> None:
    """Raise :class:`AccuracyError` if a mode is too narrow for the float spacing at its centre
    (e.g. ``Normal(1e20, 1)``: doubles near 1e20 are 16384 apart), where its cells would
    collapse and its mass be missed."""
    with np.errstate(all="ignore"):
        bad = ~(scales >= MIN_ULPS_PER_SCALE * np.spacing(np.abs(centers)))
    if bad.any():
        i = np.argwhere(bad)[0]
        c, s = float(centers[tuple(i)]), float(scales[tuple(i)])
        where = "" if members is None else f" (batch element {int(members[i[0]])})"
        raise AccuracyError(f"the requested accuracy cannot be met{where}: a mode at x = {c!r} has scale {s:.6g}, "
                            f"{s / math.ulp(c) if c else math.inf:.3g} float spacings at that location (at least "
                            f"{MIN_ULPS_PER_SCALE:g} are needed to resolve it in double precision). "
                            + ("Pairs of 1-D location families whose modes are close to each other are integrated "
                               "relative to a shared centre; otherwise move the problem closer to 0"
                               if centers.ndim == 1 else "2-D densities are integrated where they are (there is "
                               "no re-centring in 2-D): move the problem closer to 0 or widen the mode"))


def _graded(c: float, s: float, reach: float, resolution: float, base: list[float], far: float) -> list[float]:
    """Points beyond a mode's box ``[c - reach s, c + reach s]`` on both sides: cells of widths
    ``resolution * s * GRADING^k``, k = 1, 2, ..., while their far edge stays within 3/4 of the
    distance to the next point of ``base`` (sorted) on that side, or within 3/4 of ``far`` if
    there is none. (Plain Python: it runs on every call of every 1-D quantity.)"""
    out = []
    for d in (-1.0, 1.0):
        edge = c + s * (d * reach)
        if d > 0:
            i = bisect.bisect_right(base, edge)
            room = base[i] - edge if i < len(base) else far
        else:
            i = bisect.bisect_left(base, edge)
            room = edge - base[i - 1] if i > 0 else far
        limit, e, step = 0.75 * room, 0.0, resolution * s * GRADING
        while e + step < limit:
            e += step
            out.append(edge + d * e)
            step *= GRADING
    return out


def _graded_batch(c: np.ndarray, s: np.ndarray, cm: np.ndarray, px: np.ndarray, pm: np.ndarray, reach: float,
                  resolution: float, far: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_graded` for the rows of a batch (centres ``c``, scales ``s``, elements ``cm``),
    the next points taken among ``px`` of the same element (``pm``). Returns the points and
    their elements."""
    xs, ms = [], []
    for d in (-1.0, 1.0):
        edge = c + s * (d * reach)
        # the next point of the same element beyond each edge: merge the edges into the sorted
        # points (an edge after a point at the same place) and look for the next point
        key_x = np.concatenate([d * px, d * edge])
        key_m = np.concatenate([pm, cm])
        is_edge = np.concatenate([np.zeros(px.size, dtype=bool), np.ones(edge.size, dtype=bool)])
        order = np.lexsort((is_edge, key_x, key_m))
        pos = np.where(is_edge[order], key_x.size, np.arange(key_x.size))
        nxt = np.minimum.accumulate(pos[::-1])[::-1]  # the first point at or after each position
        where_edge = np.empty(key_x.size, dtype=np.intp)
        where_edge[order] = np.arange(key_x.size)
        j = nxt[where_edge[px.size:]]
        found = j < key_x.size
        jj = order[np.minimum(j, key_x.size - 1)]
        found &= key_m[jj] == cm
        room = np.where(found, key_x[jj] - d * edge, far)
        limit = 0.75 * room / (resolution * s)  # in units of resolution * scale
        kmax = int(np.clip(np.ceil(np.log(np.maximum(limit.max(initial=1.0), 1.0)) / math.log(GRADING)), 0, 2000))
        if kmax == 0:
            continue
        e = np.cumsum(GRADING ** np.arange(1, kmax + 1))
        use = e[None, :] < limit[:, None]
        row = np.broadcast_to(np.arange(c.size)[:, None], use.shape)[use]
        xs.append(edge[row] + d * (e[None, :] * (resolution * s)[:, None])[use])
        ms.append(cm[row])
    if not xs:
        return np.empty(0), np.empty(0, dtype=cm.dtype)
    return np.concatenate(xs), np.concatenate(ms)


def _line_map_loses(a: float, b: float, centers: list[float], scales: list[float]) -> bool:
    """Whether the whole-line map ``x = c + s t / (1 - t^2)`` over [a, b] would place nodes
    near some mode much less accurately than the identity (a narrow mode far from ``c``: the
    position error there is ``eps (|c| + ...)`` instead of ``eps |x|``)."""
    cm, sm = 0.5 * (a + b), 0.5 * (b - a)
    for c, s in zip(centers, scales):
        # quick acceptance: inside the core, |t| <= 0.62 and |dx/dt| |t| <= 6 sm
        if abs(c) + 3.0 * abs(c - cm) + 12.0 * sm <= max(4.0 * abs(c), 4096.0 * s):
            continue
        y = (c - cm) / sm
        t = 2.0 * y / (1.0 + math.sqrt(1.0 + 4.0 * y * y))
        d = 1.0 / (1.0 - t * t)
        err = abs(c) + 3.0 * abs(c - cm) + 2.0 * sm * (1.0 + t * t) * d * d * abs(t)
        if err > max(4.0 * abs(c), 4096.0 * s):  # 4096 eps s = 2^-40 s
            return True
    return False


def _axis_map(lower: float, upper: float, a: float, b: float, breaks: bool) -> AxisMap:
    """The map for an axis with support [lower, upper] whose mass lies in [a, b]."""
    if math.isinf(lower) and math.isinf(upper) and not breaks:
        return AxisMap("line", a, b)
    scale = b - a
    return AxisMap("core", max(a, lower), min(b, upper), scale if math.isinf(lower) else 0.0,
                   scale if math.isinf(upper) else 0.0)


def make_domain(hints: Sequence[Hints], *, extent: float = EXTENT, resolution: float | None = None) -> Domain:
    """Build the initial partition for integrands built from densities with these hints.

    Parameters
    ----------
    hints : sequence of Hints
        The hints of every density in the integrand (same dimension).
    extent : float
        Half-width, in scales, of the box around each mode that is refined up front.
    resolution : float, optional
        Largest cell width, in scales, inside those boxes (default :data:`RESOLUTION`).
    """
    dim = hints[0].dim
    resolution = RESOLUTION[dim - 1] if resolution is None else float(resolution)
    if dim == 1:
        return _make_domain_1d(hints, extent, resolution)
    lower = np.min([h.lower for h in hints], axis=0)
    upper = np.max([h.upper for h in hints], axis=0)
    centers = np.concatenate([h.centers for h in hints])
    scales = np.concatenate([h.scales for h in hints])
    _check_resolvable(centers, scales)
    box_lo, box_hi = centers - extent * scales, centers + extent * scales
    axes, edges = [], []
    for j in range(dim):
        lo_j, hi_j = float(lower[j]), float(upper[j])
        brk = np.concatenate([h.breaks[j] for h in hints])
        brk = brk[(brk > lo_j) & (brk < hi_j)]
        a = min(max(lo_j, float(box_lo[:, j].min())), float(brk.min(initial=np.inf)))
        b = max(min(hi_j, float(box_hi[:, j].max())), float(brk.max(initial=-np.inf)))
        if math.isfinite(lo_j):
            a = lo_j
        if math.isfinite(hi_j):
            b = hi_j
        ax = _axis_map(lo_j, hi_j, a, b, brk.size > 0)
        t_lo, t_hi = ax.t_range
        axes.append(ax)
        # the core's ends are cell edges too (the map's derivative jumps there)
        edges.append(np.unique(np.concatenate(([t_lo, t_hi], ax.core_edges(), ax.inverse(brk)))))
    i0, i1 = np.meshgrid(np.arange(len(edges[0]) - 1), np.arange(len(edges[1]) - 1), indexing="ij")
    i0, i1 = i0.ravel(), i1.ravel()
    lo = np.stack([edges[0][i0], edges[1][i1]], axis=1)
    hi = np.stack([edges[0][i0 + 1], edges[1][i1 + 1]], axis=1)
    # Refine up front: bisect every cell meeting a mode's box until it is at most `resolution`
    # scales wide there.
    res = resolution * scales
    for _ in range(64):
        xlo = np.stack([axes[j].forward(lo[:, j])[0] for j in range(2)], axis=1)
        xhi = np.stack([axes[j].forward(hi[:, j])[0] for j in range(2)], axis=1)
        meets = np.all((xlo[:, None, :] < box_hi[None]) & (xhi[:, None, :] > box_lo[None]), axis=2)
        split = np.any(meets[:, :, None] & ((xhi - xlo)[:, None, :] > res[None]), axis=1)  # (m, 2)
        if not split.any():
            break
        lo, hi, _ = _split(lo, hi, split)
    return Domain(tuple(axes), lo, hi)


def _axis_1d(hints: Sequence[Hints], extent: float, resolution: float) -> AxisMap:
    """The 1-D axis map: its core spans every mode's box (``extent`` scales, rounded down to a
    whole number of ``resolution`` steps) and every break, clipped to the support.
    (Plain Python on these few numbers: it runs on every call of every 1-D quantity.)"""
    lower = min(float(h.lower[0]) for h in hints)
    upper = max(float(h.upper[0]) for h in hints)
    cs, ss, brk = [], [], []
    for h in hints:
        cs += h.centers[:, 0].tolist()
        ss += h.scales[:, 0].tolist()
        brk += [x for x in h.breaks[0].tolist() if lower < x < upper]
    return _axis_from(lower, upper, cs, ss, brk, resolution * math.floor(extent / resolution))


def _axis_from(lower: float, upper: float, cs: list[float], ss: list[float], brk: list[float],
               reach: float) -> AxisMap:
    """:func:`_axis_1d` from the support, the modes' centres and scales, the breaks inside the
    support and the boxes' half-width in scales."""
    a, b = upper, lower
    for c, s in zip(cs, ss):
        a, b = min(a, c + s * -reach), max(b, c + s * reach)
    a, b = max(lower, a), min(upper, b)
    if brk:
        a, b = min(a, min(brk)), max(b, max(brk))
    if math.isfinite(lower):
        a = lower
    if math.isfinite(upper):
        b = upper
    b = b if b > a else a + max(1.0, abs(a)) * 1e-8
    # a core with the identity where the smooth whole-line map would misplace a narrow mode
    return _axis_map(lower, upper, a, b, bool(brk) or _line_map_loses(a, b, cs, ss))


def _make_domain_1d(hints: Sequence[Hints], extent: float, resolution: float) -> Domain:
    """1-D partition: edges every ``resolution`` scales across each mode's box, plus breaks.
    (Plain Python on these few numbers: it runs on every call of every 1-D quantity.)"""
    lower = min(float(h.lower[0]) for h in hints)
    upper = max(float(h.upper[0]) for h in hints)
    k = math.floor(extent / resolution)
    offsets = [resolution * i for i in range(-k, k + 1)]
    centers, scales, brk = [], [], []
    for h in hints:
        centers += h.centers[:, 0].tolist()
        scales += h.scales[:, 0].tolist()
        brk += h.breaks[0].tolist()
    for c, s in zip(centers, scales):
        if not s >= MIN_ULPS_PER_SCALE * math.ulp(c):
            _check_resolvable(np.array([c]), np.array([s]))
    grid = sorted(c + s * o for c, s in zip(centers, scales) for o in offsets)
    base = sorted(grid + [x for x in brk if lower < x < upper]) if brk else grid
    far = (base[-1] - base[0]) / 8.0  # where no next point: grade up to the tail map's scale
    graded = []
    for c, s in zip(centers, scales):
        graded += _graded(c, s, offsets[-1], resolution, base, far)
    if graded:
        grid = sorted(grid + graded)
    # Merge grid points closer than a tiny fraction of the finest scale (coinciding modes); the
    # breaks are kept exactly and grid points next to them dropped.
    gap = 1e-3 * resolution * min(scales)
    brk = sorted({x for x in brk if lower < x < upper})
    pts, last = [], -math.inf
    for x in grid:
        if lower < x < upper and x - last > gap and not any(abs(x - y) <= gap for y in brk):
            pts.append(x)
            last = x
    if brk:
        pts = sorted(pts + brk)
    ax = _axis_from(lower, upper, centers, scales, brk, offsets[-1])
    t_lo, t_hi = ax.t_range
    inner = ax.inverse(np.array(pts)) if pts else np.empty(0)
    if ax.kind == "line":  # the points are sorted and strictly inside (-1, 1)
        e = np.concatenate(([t_lo], inner, [t_hi]))
    else:
        e = np.unique(np.concatenate(([t_lo, t_hi], ax.core_edges(), inner)))
    return Domain((ax,), e[:-1], e[1:])


def make_batch_domain(hints: Sequence[Hints], members: int, *, extent: float = EXTENT,
                      resolution: float | None = None) -> Domain:
    """1-D partition for ``members`` separate integrals, each on cells of its own.

    Element ``b`` of a batch gets the cells :func:`make_domain` would give it alone: edges
    every ``resolution`` scales across the box of each of its modes, and at its breaks, from
    the hint rows tagged ``b`` in :attr:`Hints.members` and from every single density's hints
    (``members is None``). All elements share one coordinate, the axis map of the union of
    the hints, so the cells of all elements are refined together in one vectorised pass while
    each element pays only for its own cells.

    Parameters
    ----------
    hints : sequence of Hints
        1-D hints; batched ones carry ``members``.
    members : int
        The batch size.
    extent, resolution : float
        As in :func:`make_domain`.

    Returns
    -------
    Domain
        With ``owner`` (the element of each cell) and ``members``.
    """
    if hints[0].dim != 1:
        raise ValueError(f"hints: make_batch_domain is for 1-D hints, got {hints[0].dim}-D")
    resolution = RESOLUTION[0] if resolution is None else float(resolution)
    ax = _axis_1d(hints, extent, resolution)  # the shared coordinate
    lower = min(float(h.lower[0]) for h in hints)
    upper = max(float(h.upper[0]) for h in hints)
    k = math.floor(extent / resolution)
    offsets = resolution * np.arange(-k, k + 1, dtype=np.float64)
    every = np.arange(members)
    c, s, cm, b, bm = [], [], [], [], []
    for h in hints:
        hc, hs, hb = h.centers[:, 0], h.scales[:, 0], h.breaks[0]
        if h.members is None:  # a single density: its hints hold for every element
            c.append(np.tile(hc, members))
            s.append(np.tile(hs, members))
            cm.append(np.repeat(every, hc.size))
            b.append(np.tile(hb, members))
            bm.append(np.repeat(every, hb.size))
        else:
            c.append(hc)
            s.append(hs)
            cm.append(h.members[0])
            b.append(hb)
            bm.append(h.members[1])
    c, s, cm = np.concatenate(c), np.concatenate(s), np.concatenate(cm)
    _check_resolvable(c, s, cm)
    core = ax.core_edges()  # where the map changes formula: edges of every element
    b = np.concatenate(b + [np.tile(core, members)])
    bm = np.concatenate(bm + [np.repeat(every, core.size)])
    finest = np.full(members, np.inf)
    np.minimum.at(finest, cm, s)
    gap = 1e-3 * resolution * finest  # grid points closer than this are merged (coinciding modes)
    x = [(c[:, None] + s[:, None] * offsets).ravel()]
    mem = [np.repeat(cm, offsets.size)]
    # graded cells beyond each mode's box (see _graded)
    px, pm = np.concatenate([x[0], b]), np.concatenate([mem[0], bm])
    keep = (px > lower) & (px < upper)
    px, pm = px[keep], pm[keep]
    gx, gm = _graded_batch(c, s, cm, px, pm, k * resolution, resolution, (px.max() - px.min()) / 8.0)
    x.append(gx)
    mem.append(gm)
    grid_n = sum(v.size for v in x)
    x = np.concatenate(x + [b])
    mem = np.concatenate(mem + [bm])
    brk = np.concatenate([np.zeros(grid_n, dtype=bool), np.ones(b.size, dtype=bool)])
    inside = (x > lower) & (x < upper)
    x, mem, brk = x[inside], mem[inside], brk[inside]
    order = np.lexsort((~brk, x, mem))  # by element, then x; a break before a grid point at the same x
    x, mem, brk = x[order], mem[order], brk[order]
    n = x.size
    same_prev = np.zeros(n, dtype=bool)  # the previous point belongs to the same element
    same_prev[1:] = mem[1:] == mem[:-1]
    d_prev = np.full(n, np.inf)
    d_prev[1:] = np.diff(x)
    brk_prev = np.zeros(n, dtype=bool)
    brk_prev[1:] = brk[:-1]
    near_prev = same_prev & (d_prev <= gap[mem])
    # breaks are kept exactly (once); a grid point goes when it is within the gap of the
    # previous point or of a following break
    drop = np.where(brk, near_prev & brk_prev & (d_prev == 0), near_prev)
    drop[:-1] |= ~brk[:-1] & brk[1:] & near_prev[1:]
    x, mem = x[~drop], mem[~drop]
    t_lo, t_hi = ax.t_range
    t = np.concatenate([ax.inverse(x), np.full(members, t_lo), np.full(members, t_hi)])
    mem = np.concatenate([mem, every, every])
    order = np.lexsort((t, mem))
    t, mem = t[order], mem[order]
    keep = np.ones(t.size, dtype=bool)
    keep[1:] = (mem[1:] != mem[:-1]) | (t[1:] != t[:-1])
    t, mem = t[keep], mem[keep]
    cell = mem[1:] == mem[:-1]
    return Domain((ax,), t[:-1][cell], t[1:][cell], mem[:-1][cell], members)


def _split(lo: np.ndarray, hi: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bisect each 2-D cell along the axes marked in ``axes`` (m, 2); unmarked cells are kept.
    Returns the new bounds and, for each new cell, the row of the cell it came from."""
    parent = np.arange(lo.shape[0])
    for j in range(lo.shape[1]):
        s = axes[:, j]
        if not s.any():
            continue
        mid = 0.5 * (lo[s, j] + hi[s, j])
        lo_a, hi_a = lo[s].copy(), hi[s].copy()
        lo_b, hi_b = lo[s].copy(), hi[s].copy()
        hi_a[:, j] = mid
        lo_b[:, j] = mid
        lo = np.concatenate([lo[~s], lo_a, lo_b])
        hi = np.concatenate([hi[~s], hi_a, hi_b])
        parent = np.concatenate([parent[~s], parent[s], parent[s]])
        axes = np.concatenate([axes[~s], axes[s], axes[s]])
    return lo, hi, parent


# --------------------------------------------------------------------------------------------
# The adaptive integrator
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VectorResult:
    """Result of :func:`integrate` for a vector-valued integrand (one entry per component)."""

    value: np.ndarray
    error: np.ndarray
    evaluations: int
    cells: int


Integrand = Callable[[np.ndarray], "tuple[np.ndarray, ...]"]


@dataclass
class _Cells:
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

    def extend(self, other: _Cells) -> _Cells:
        return _Cells.concatenate([self, other])

    @staticmethod
    def concatenate(parts: Sequence[_Cells]) -> _Cells:
        sign = parts[0].inf_sign
        for other in parts[1:]:
            if np.any((sign != 0) & (other.inf_sign != 0) & (sign != other.inf_sign)):
                raise AccuracyError("the integrand is +inf in one place and -inf in another: the integral is undefined")
            sign = np.where(sign == 0, other.inf_sign, sign)
        rows = {n: np.concatenate([getattr(c, n) for c in parts]) for n in _Cells._ROWS}
        return _Cells(**rows, inf_sign=sign)

    def select(self, keep: np.ndarray) -> _Cells:
        return _Cells(**{n: getattr(self, n)[keep] for n in self._ROWS}, inf_sign=self.inf_sign)


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
    dim = domain.dim
    rule = _rule(dim)
    members = domain.members
    owned = domain.owner is not None
    max_cells = (20000 if dim == 1 else 60000) if max_cells is None else max_cells
    owner0 = domain.owner if owned else np.zeros(domain.lo.shape[0], dtype=np.intp)
    cells = _evaluate(f, domain, rule, domain.lo, domain.hi, owner0,
                      np.full((domain.lo.shape[0], 2), -1, dtype=np.intp))
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
        value = group_sum(cells.est)  # (members, k)
        quad_err = group_sum(cells.err)
        if owned:
            log_m = np.log2(np.maximum(np.bincount(cells.owner, minlength=members), 1))[:, None]
        else:
            log_m = math.log2(m)
        floor = group_sum(cells.noise) + (4.0 + log_m) * _EPS * group_sum(cells.absint)
        tol = np.maximum(atol_v, rtol_v * np.abs(value))
        finite = cells.inf_sign == 0
        # kinked cells are split before they are trusted: at the kink in 1-D, at least once in 2-D
        must = cells.kinked & (np.isfinite(cells.cut) if dim == 1 else cells.young)
        done = ~finite | (quad_err + floor <= tol)
        if done.all() and not must.any():
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
            new_lo, new_hi, parent = _split(lo, hi, axes)
            edge_col = np.full((new_lo.shape[0], 2), -1, dtype=np.intp)
        fresh = _evaluate(f, domain, rule, new_lo, new_hi, cells.owner[split][parent], edge_col)
        _inherit(fresh, cells.est[split], parent)
        evaluations += new_lo.shape[0] * rule.nodes.shape[0]
        cells = cells.select(~split).extend(fresh)
    raise AccuracyError(f"the requested accuracy cannot be met{_label(labels, 0)}: not reached in {max_rounds} "
                        f"refinement rounds; the integrand may be singular or the integral infinite")


def _inherit(children: _Cells, parent_est: np.ndarray, parent: np.ndarray) -> None:
    """Give each child its share of |K(parent) - sum K(children)| and keep the larger error."""
    total = np.zeros_like(parent_est)
    np.add.at(total, parent, children.est)
    count = np.bincount(parent, minlength=parent_est.shape[0]).astype(np.float64)
    share = (np.abs(parent_est - total) / count[:, None])[parent]
    children.err = np.maximum(children.err, share)
    children.dir_err = np.maximum(children.dir_err, share[:, :, None])


def _label(labels: Sequence[str] | None, c: int) -> str:
    return f" for {labels[c]}" if labels else ""


def _evaluate(f: Integrand, domain: Domain, rule: _Rule, lo: np.ndarray, hi: np.ndarray,
              owner: np.ndarray, edge_col: np.ndarray) -> _Cells:
    """Apply the rule on each cell ``[lo, hi]`` (of integral ``owner``), calling ``f`` on at most
    ``MAX_POINTS_PER_CALL`` points at a time: that bounds the memory of integrands with many
    columns (a network's kink indicators), and blocks of this size stay in cache."""
    per_call = max(1, MAX_POINTS_PER_CALL // rule.nodes.shape[0])
    if lo.shape[0] <= per_call:
        return _evaluate_cells(f, domain, rule, lo, hi, owner, edge_col)
    return _Cells.concatenate([_evaluate_cells(f, domain, rule, lo[i:i + per_call], hi[i:i + per_call],
                                               owner[i:i + per_call], edge_col[i:i + per_call])
                               for i in range(0, lo.shape[0], per_call)])


def _call(f: Integrand, domain: Domain, x: np.ndarray, owner: np.ndarray, per_point: int):
    """``f(x)``, or ``f(x, owner of each point)`` when the domain's cells have owners."""
    if domain.owner is None:
        return f(x)
    return f(x, np.repeat(owner, per_point))


def _evaluate_cells(f: Integrand, domain: Domain, rule: _Rule, lo: np.ndarray, hi: np.ndarray,
                    owner: np.ndarray, edge_col: np.ndarray) -> _Cells:
    m = lo.shape[0]
    p = rule.nodes.shape[0]
    mid = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo)
    with np.errstate(all="ignore"):
        if lo.ndim == 1:
            t = (mid[:, None] + half[:, None] * rule.nodes).ravel()
            vol = half
            x, jac = domain.axes[0].forward(t, _end_distance(domain.axes[0], lo, hi, mid, half, rule.nodes))
            # the position error grows with |x - o| on either side of the origin: largest at a
            # cell's ends
            d_ends = domain.axes[0].position_error(x.reshape(m, p)[:, ::p - 1])
            delta = np.maximum(d_ends[:, 0], d_ends[:, 1])
        else:
            # the tensor rule's points: map each axis's q nodes per cell, then take products
            q = rule.axis_nodes.shape[0]
            x0, j0 = domain.axes[0].forward(mid[:, 0, None] + half[:, 0, None] * rule.axis_nodes,
                                            _end_distance(domain.axes[0], lo[:, 0], hi[:, 0], mid[:, 0], half[:, 0],
                                                          rule.axis_nodes, False))
            x1, j1 = domain.axes[1].forward(mid[:, 1, None] + half[:, 1, None] * rule.axis_nodes,
                                            _end_distance(domain.axes[1], lo[:, 1], hi[:, 1], mid[:, 1], half[:, 1],
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
        out = _call(f, domain, x, owner, p)
        vals, noise = out[0], out[1]
        k = vals.shape[1]
        w = jac.reshape(m, p) * vol[:, None]
        both = np.concatenate([vals, np.abs(vals), noise], axis=1).reshape(m, p, 3 * k) * w[:, :, None]
    inf_sign = np.zeros((domain.members, k), dtype=np.int8)
    if not np.isfinite(both).all():
        both, inf_sign = _infinite(both, vals, x, k, owner if domain.owner is not None else None, domain.members)
    sums = both.transpose(0, 2, 1) @ rule.weights  # (m, 3k, r)
    kron = sums[:, :k, 0]
    err = np.abs(kron - sums[:, :k, 1])
    absint = sums[:, k:2 * k, 0]
    # Nodes are rounded to doubles: a position error of an ulp of |x| moves the rule's result by
    # about (that error / the cell's width) of the integral of |f| over the cell.
    noise = sums[:, 2 * k:, 0] + absint * _position_error(x, delta, m, p)[:, None]
    if lo.ndim == 1:
        dir_err = err[:, :, None]
    else:
        dir_err = np.abs(kron[:, :, None] - sums[:, :k, 2:])
    kinked = np.zeros(m, dtype=bool)
    cut = np.full(m, np.nan)
    cut_col = np.full(m, -1, dtype=np.intp)
    if len(out) > 2:
        s = np.asarray(out[2], dtype=np.float64).reshape(m, p, -1)
        if lo.ndim == 1:
            # The indicator at the cell's ends too: a kink between an end and the nearest node
            # changes no sign among the nodes, and the rule would integrate across it unwarned.
            # (A few ulps inside the ends, where a density may be singular.)
            delta = np.minimum(4 * _EPS * np.maximum(np.abs(lo), np.abs(hi)) + 1e-300, 0.25 * (hi - lo))
            t_first, t_last = lo + delta, hi - delta
            with np.errstate(all="ignore"):
                ends = _call(f, domain, domain.to_x(np.concatenate([t_first, t_last]))[0],
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
            cut, cut_col = _kink_points(f, domain, tt, s, kinked, owner)
    return _Cells(lo, hi, kron, err, dir_err, absint, noise, kinked, cut, cut_col, edge_col,
                  np.zeros(m, dtype=bool), owner, inf_sign)


def _end_distance(ax: AxisMap, lo: np.ndarray, hi: np.ndarray, mid: np.ndarray, half: np.ndarray,
                  nodes: np.ndarray, flat: bool = True) -> np.ndarray | None:
    """For the rule's nodes in cells ``[lo, hi]`` (``mid``, ``half``: centres and half-widths),
    the distance ``u`` of :meth:`AxisMap.forward` to the end of the axis's range nearer each
    cell, to full relative precision: ``(t_hi - hi) + half (1 - node)`` right of the middle
    and ``(lo - t_lo) + half (1 + node)`` left of it, where ``t_hi - (mid + half node)`` would
    lose every digit next to an end. Shape (m, q) for nodes of shape (q,), raveled if ``flat``;
    None for a bounded core (no map to infinity)."""
    if ax.kind == "line":  # t_lo, t_hi = -1, 1; the middle is 0
        dist = 1.0 - np.maximum(hi, -lo)
        sh = np.copysign(half, mid)
    elif ax.left == 0 and ax.right == 0:
        return None
    else:
        t_lo, t_hi = ax.t_range
        right = mid >= 0.5 * (ax.a + ax.b)  # the right tail's cells lie right of the core's middle
        dist = np.where(right, t_hi - hi, lo - t_lo)
        sh = np.where(right, half, -half)
    u = (dist + half)[:, None] - sh[:, None] * nodes
    return u.ravel() if flat else u


def _position_error(x: np.ndarray, delta: np.ndarray, m: int, p: int) -> np.ndarray:
    """Per cell: the largest rounding error of its nodes' positions (``delta``, from
    :meth:`AxisMap.position_error`; per cell (m,) in 1-D, per cell and axis (m, 2) in 2-D) over its
    width (summed over axes), the width from the cell's first and last nodes (its lowest and
    highest in every coordinate)."""
    with np.errstate(all="ignore"):
        if x.ndim == 1:
            xc = x.reshape(m, p)
            first, last = xc[:, 0], xc[:, -1]
            rel = delta / (last - first)
        else:
            xc = x.reshape(m, p, 2)
            first, last = xc[:, 0, :], xc[:, -1, :]
            rel = (delta / (last - first)).sum(axis=1)
    return np.where(np.isfinite(rel), rel, 0.0)


def _kink_points(f: Integrand, domain: Domain, t: np.ndarray, s: np.ndarray, kinked: np.ndarray,
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
            ind = np.asarray(_call(f, domain, domain.to_x(c)[0], owner[idx], 1)[2],
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


def _infinite(both: np.ndarray, vals: np.ndarray, x: np.ndarray, k: int, owner: np.ndarray | None,
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
