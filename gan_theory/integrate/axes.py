"""Axis maps: the coordinate ``t`` in which each axis is integrated, finite or infinite.

``kind="line"``: the smooth map ``x = c + s t / (1 - t^2)`` over the whole line; ``kind="core"``:
the identity on a core interval (break points are cell edges exactly) with rational tails
``x = b + L tau / (1 - tau)`` where the support is unbounded. Infinite ranges are integrated
without truncation (QUADPACK's rational maps; Piessens et al. 1983).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["AxisMap", "axis_map", "end_distance", "line_map_loses"]

_EPS = float(np.finfo(np.float64).eps)
#: Smallest distance (relative to the tail's length in ``t``) from ``t`` to an end where the map
#: goes to infinity: keeps ``x`` finite at the end itself; nodes never come this close.
_U_MIN = 2.0 ** -200


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
        ``u``, computed exactly from their cell's edges (:func:`end_distance`): the distance to
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
        then not used, see :func:`line_map_loses`)."""
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


def line_map_loses(a: float, b: float, centers: list[float], scales: list[float]) -> bool:
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


def axis_map(lower: float, upper: float, a: float, b: float, breaks: bool) -> AxisMap:
    """The map for an axis with support [lower, upper] whose mass lies in [a, b]."""
    if math.isinf(lower) and math.isinf(upper) and not breaks:
        return AxisMap("line", a, b)
    scale = b - a
    return AxisMap("core", max(a, lower), min(b, upper), scale if math.isinf(lower) else 0.0,
                   scale if math.isinf(upper) else 0.0)


def end_distance(ax: AxisMap, lo: np.ndarray, hi: np.ndarray, mid: np.ndarray, half: np.ndarray,
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
