"""The initial partition: cells placed from where the mass lies, before any error estimate.

The input is plain data, :class:`Landmarks` (the support box, the centres and scales of the
modes, the break points), so that the integrator knows nothing of densities: the density
adapters (:mod:`gan_theory.densities`) translate their hints into landmarks.

The initial cells (intervals, or rectangles in ``t``) have edges at every break point (cusps,
jumps, support ends) and are small near every mode: no wider than :data:`RESOLUTION` of the
mode's scales across the box of :data:`EXTENT` scales around it. In 1-D, beyond each box the
cells grow geometrically (by :data:`GRADING`) up to about the distance to the next cell edge,
so that a mode's tail is not hidden inside one wide cell whose nodes all miss it. A mode
narrower than :data:`MIN_ULPS_PER_SCALE` float spacings at its location cannot be resolved:
:class:`~gan_theory.results.AccuracyError`.

The 1-D rule is written twice on purpose: :func:`make_domain` (plain Python on the few
numbers of one call, the common case) and :func:`gan_theory.integrate.batch.make_batch_domain`
(vectorised over the elements of a batch). ``tests/test_integrate.py`` checks that they give
the same cells.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
import weakref
from dataclasses import dataclass, field

import numpy as np

from ..results import AccuracyError
from .axes import AxisMap, axis_map, line_map_loses

__all__ = ["EXTENT", "GRADING", "MIN_ULPS_PER_SCALE", "RESOLUTION", "Domain", "Landmarks", "make_domain",
           "split_cells"]

#: Half-width, in scales, of the box around a mode inside which cells are refined up front.
#: 8 scales: a Gaussian's density there is exp(-32) ~ 1e-14 of its peak, below the default
#: relative tolerance; beyond it the graded cells take over.
EXTENT = 8.0
#: Largest cell width, in scales, inside a mode's box before error-driven refinement (1-D, 2-D).
RESOLUTION = (2.0, 8.0)
#: Growth factor of the cell widths outside a mode's box (1-D), from the box's own resolution
#: up to about the distance to the next cell edge (another mode's box, a break, or the start of
#: the tail map): a mode's tail is never hidden inside one wide cell whose nodes all miss it.
GRADING = 4.0
#: A mode narrower than this many float spacings at its centre cannot be resolved (its cells
#: would collapse onto a few representable points): :class:`AccuracyError`.
MIN_ULPS_PER_SCALE = 1024.0
#: Partitions memoised per landmarks object (the most recent; a fixed p against many q's).
_MEMO_SIZE = 8


@dataclass(frozen=True)
class Landmarks:
    """Where an integrand's mass lies, in plain arrays: the integrator's only view of it.

    Attributes
    ----------
    lower, upper : ndarray, shape (d,)
        Support box per axis (``-inf``/``inf`` where unbounded).
    centers, scales : ndarray, shape (k, d)
        One row per mode: its centre and per-axis scale (a standard deviation or comparable
        width). Cells near a centre are made no wider than ``RESOLUTION`` of its scale.
    breaks : tuple of ndarray
        Per axis, the coordinates where the integrand is not smooth; cell edges are placed
        exactly there.
    members : tuple of ndarray, optional
        For a batch of integrals (1-D): the batch element of each row of ``centers`` and of
        each entry of ``breaks[0]``. ``None``: these landmarks hold for every element.
    """

    lower: np.ndarray
    upper: np.ndarray
    centers: np.ndarray
    scales: np.ndarray
    breaks: tuple[np.ndarray, ...]
    members: tuple[np.ndarray, np.ndarray] | None = None
    #: The last few partitions made from these landmarks (with others): a memo, so that the
    #: same pair integrated again skips the builder. Landmarks are treated as immutable.
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def dim(self) -> int:
        return int(self.lower.shape[0])


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
    #: The nodes of the initial cells, mapped (by :mod:`.evaluate`), kept when the cells are
    #: read-only (a memoised partition): the same geometry is not recomputed on every call.
    _nodes: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def dim(self) -> int:
        return len(self.axes)

    def to_x(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map points ``t`` of shape (n,) (1-D) or (n, 2) to ``x`` and the Jacobian (n,)."""
        if t.ndim == 1:
            return self.axes[0].forward(t)
        (x0, j0), (x1, j1) = self.axes[0].forward(t[:, 0]), self.axes[1].forward(t[:, 1])
        return np.stack([x0, x1], axis=1), j0 * j1

    def call(self, f: Callable, x: np.ndarray, owner: np.ndarray, per_point: int):
        """``f(x)``, or ``f(x, owner of each point)`` when the cells have owners (``owner``:
        per cell, each repeated ``per_point`` times)."""
        if self.owner is None:
            return f(x)
        return f(x, np.repeat(owner, per_point))


def check_resolvable(centers: np.ndarray, scales: np.ndarray, members: np.ndarray | None = None) -> None:
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


def make_domain(hints: Sequence[Landmarks], *, extent: float = EXTENT, resolution: float | None = None) -> Domain:
    """Build the initial partition for an integrand whose mass lies at these landmarks.

    The partition made from the same landmarks objects (and arguments) is kept on the first of
    them (:attr:`Landmarks._memo`, the last few) and returned again, read-only.

    Parameters
    ----------
    hints : sequence of Landmarks
        The hints of every density in the integrand (same dimension).
    extent : float
        Half-width, in scales, of the box around each mode that is refined up front.
    resolution : float, optional
        Largest cell width, in scales, inside those boxes (default :data:`RESOLUTION`).
    """
    memo = getattr(hints[0], "_memo", None)  # Landmarks (other objects with their fields: no memo)
    key = (tuple(id(h) for h in hints), extent, resolution)
    if memo is not None:
        hit = memo.get(key)
        if hit is not None and all(r() is h for r, h in zip(hit[0], hints)):
            return hit[1]
    domain = _make_domain(hints, extent, resolution)
    if memo is not None:
        try:
            refs = tuple(weakref.ref(h) for h in hints)
        except TypeError:
            return domain
        for a in (domain.lo, domain.hi):
            a.flags.writeable = False  # shared by every call that finds it here
        if len(memo) >= _MEMO_SIZE:
            memo.pop(next(iter(memo)))
        memo[key] = (refs, domain)
    return domain


def _make_domain(hints: Sequence[Landmarks], extent: float, resolution: float | None) -> Domain:
    dim = hints[0].dim
    resolution = RESOLUTION[dim - 1] if resolution is None else float(resolution)
    if dim == 1:
        return _make_domain_1d(hints, extent, resolution)
    lower = np.min([h.lower for h in hints], axis=0)
    upper = np.max([h.upper for h in hints], axis=0)
    centers = np.concatenate([h.centers for h in hints])
    scales = np.concatenate([h.scales for h in hints])
    check_resolvable(centers, scales)
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
        ax = axis_map(lo_j, hi_j, a, b, brk.size > 0)
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
        lo, hi, _ = split_cells(lo, hi, split)
    return Domain(tuple(axes), lo, hi)


def _axis_1d(hints: Sequence[Landmarks], extent: float, resolution: float) -> AxisMap:
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
    return axis_map(lower, upper, a, b, bool(brk) or line_map_loses(a, b, cs, ss))


def _make_domain_1d(hints: Sequence[Landmarks], extent: float, resolution: float) -> Domain:
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
            check_resolvable(np.array([c]), np.array([s]))
    grid = sorted(c + s * o for c, s in zip(centers, scales) for o in offsets)
    # the points a graded cell may grow up to: grid points and breaks inside the support (as in
    # make_batch_domain; a grid point beyond a support's end is no cell edge)
    base = sorted([x for x in grid if lower < x < upper] + [x for x in brk if lower < x < upper])
    far = (base[-1] - base[0]) / 8.0 if base else 0.0  # where no next point: grade up to the tail map's scale
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


def split_cells(lo: np.ndarray, hi: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
