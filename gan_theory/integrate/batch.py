"""The 1-D partition for a batch of integrals, each on cells of its own (vectorised).

The same rule as :func:`gan_theory.integrate.partition.make_domain` in 1-D (edges every
``resolution`` scales across each mode's box, graded cells beyond it, the breaks exactly),
applied to every element of a batch at once with NumPy; ``tests/test_integrate.py`` checks
that a batch of one gets the cells ``make_domain`` makes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .partition import EXTENT, GRADING, RESOLUTION, Domain, Landmarks, _axis_1d, check_resolvable

__all__ = ["make_batch_domain"]


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


def make_batch_domain(hints: Sequence[Landmarks], members: int, *, extent: float = EXTENT,
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
    hints : sequence of Landmarks
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
    check_resolvable(c, s, cm)
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
