#!/usr/bin/env python
"""High-precision reference values for divergences between 2-D densities.

For every pair ``(p, q)`` in :data:`CASES` this script computes the
Jensen-Shannon divergence, the GAN criterion, both Kullback-Leibler
divergences (where finite) and the two masses, and writes them to
``references_2d.json`` next to this file.

Method
------
The reference values are computed with ``mpmath`` at ``mp.dps = 25`` by a
composite tensor-product Gauss-Legendre rule whose cells are delimited by
breakpoints at every mode and at ``mode +- {1/2, 1, 3/2, 2, 3, 4, 6, 8, 12,
16}`` component standard deviations (and at multiples of the scale of the
broad density).  Symmetry reduces the domain:

* ring vs. a centred isotropic Gaussian: polar coordinates on the wedge
  ``0 <= theta <= pi/k`` (rotation by ``2 pi/k`` and the mirror
  ``theta -> -theta`` leave both densities invariant), multiplicity ``2k``;
* ring vs. rotated ring: polar coordinates on one sector of width
  ``2 pi/k`` centred between the two phases, multiplicity ``k``;
* grid or square vs. a centred isotropic Gaussian: the quadrant
  ``x, y >= 0``, multiplicity 4;
* anything else: the whole plane in Cartesian coordinates.

The infinite domain is truncated where both densities are below
``exp(-90)`` relative to their peaks (the neglected part is far below
1e-25).  The error estimate is the difference to a second computation with
every cell bisected in both directions at ``dps + 5``.  Independently, the
same quantities are recomputed in float64 with numpy on the *whole plane in
Cartesian coordinates* (no symmetry, different cells and node counts); the
difference is stored under ``cross_check``.

Conventions as in ``make_references_1d.py``: natural logarithms, ``0 log 0
= 0``, parameters enter through their float64 values, infinite values are
decided analytically and stored as ``"inf"``.

Run ``python make_references_2d.py [--out FILE]``; a full run takes about
17 minutes of CPU time on one core (the grid case about 9).
"""

import argparse
import datetime
import json
import os
import time
from collections import namedtuple

import numpy as np
from mpmath import mp

#: Working precision (decimal digits) of the reference computation.
DPS = 25

#: Extra digits of the error-estimating second computation.
EXTRA_DPS = 5

#: Gauss-Legendre nodes per cell and direction (mpmath).
NODES = 12

#: Gauss-Legendre nodes per cell and direction (float64 cross-check).
NODES_DOUBLE = 20

#: Multiples of a component's standard deviation used as breakpoints.
SPREAD = (0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16)

#: Multiples of the broad scale used as breakpoints (and the truncation).
BROAD = (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 14)

#: Number of significant digits written for each value.
DIGITS = 25

#: Quantities, in output order.
QUANTITIES = ("mass_p", "mass_q", "jsd", "criterion", "kl_pq", "kl_qp")


def _mvn(loc, cov):
    return {"family": "mvn", "loc": loc, "covariance": cov}


def _ring(std, phase=None):
    spec = {"family": "ring", "k": 8, "radius": 2.0, "std": std}
    if phase is not None:
        spec["phase"] = phase
    return spec


#: The reference cases ``(id, p, q)``.
CASES = (
    ("ring_narrow_vs_gaussian", _ring(0.05),
     _mvn([0.0, 0.0], [[2.25, 0.0], [0.0, 2.25]])),
    ("ring_wide_vs_gaussian", _ring(0.2),
     _mvn([0.0, 0.0], [[2.25, 0.0], [0.0, 2.25]])),
    ("ring_vs_rotated_ring", _ring(0.1), _ring(0.1, 0.05)),
    ("grid_vs_gaussian",
     {"family": "grid", "n": 5, "spacing": 2.0, "std": 0.05},
     _mvn([0.0, 0.0], [[9.0, 0.0], [0.0, 9.0]])),
    ("correlated_vs_shifted_gaussian",
     _mvn([0.0, 0.0], [[1.0, 0.8], [0.8, 1.0]]),
     _mvn([0.5, 0.0], [[1.0, 0.0], [0.0, 1.0]])),
    ("uniform_square_vs_gaussian",
     {"family": "uniform_square", "low": -1.0, "high": 1.0},
     _mvn([0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])),
)

#: Integration layout: coordinates ("polar" or "cartesian"), breakpoints in
#: each coordinate, symmetry multiplicity and a description.
Layout = namedtuple("Layout", "coords u_cuts v_cuts multiplicity description")


def _decimal(value):
    """Decimal string with :data:`DIGITS` significant digits (zeros kept)."""
    return mp.nstr(value, DIGITS, strip_zeros=False, min_fixed=-3,
                   max_fixed=3)


def _param(value):
    """Convert a JSON number to ``mpf`` through its float64 value."""
    return mp.mpf(float(value))


def _logsumexp(logs):
    """``log(sum(exp(logs)))`` for ``mpf`` values (``-inf`` allowed)."""
    finite = [v for v in logs if v != mp.ninf]
    if not finite:
        return mp.ninf
    top = max(finite)
    return top + mp.log(mp.fsum(mp.exp(v - top) for v in finite))


def _exp(value):
    return mp.zero if value == mp.ninf else mp.exp(value)


# ---------------------------------------------------------------------------
# Densities (mpmath)
# ---------------------------------------------------------------------------

class Ring:
    """Equal-weight mixture of ``k`` isotropic Gaussians on a circle."""

    def __init__(self, spec):
        self.k = int(spec["k"])
        self.radius = _param(spec["radius"])
        self.std = _param(spec["std"])
        self.phase = _param(spec.get("phase", 0.0))
        self.angles = [2 * mp.pi * i / self.k + self.phase
                       for i in range(self.k)]
        self.centres = [(self.radius * mp.cos(a), self.radius * mp.sin(a))
                        for a in self.angles]
        self._const = -mp.log(self.k * 2 * mp.pi * self.std**2)
        self._angle_cache = {}

    def _angle_terms(self, theta):
        """``4 R sin^2((theta - phi_i)/2)`` for every component, cached."""
        terms = self._angle_cache.get(theta)
        if terms is None:
            terms = [4 * self.radius * mp.sin((theta - a) / 2)**2
                     for a in self.angles]
            self._angle_cache[theta] = terms
        return terms

    def logpdf_polar(self, r, theta):
        # |x - c_i|^2 = (r - R)^2 + 4 r R sin^2((theta - phi_i)/2)
        base = (r - self.radius)**2
        two_var = 2 * self.std**2
        return self._const + _logsumexp(
            [-(base + r * t) / two_var for t in self._angle_terms(theta)])

    def logpdf_cart(self, x, y):
        two_var = 2 * self.std**2
        return self._const + _logsumexp(
            [-((x - cx)**2 + (y - cy)**2) / two_var
             for cx, cy in self.centres])


class Grid:
    """Equal-weight mixture of ``n x n`` isotropic Gaussians on a grid.

    The density factorises as ``g(x) g(y)`` with ``g`` a 1-D mixture.
    """

    def __init__(self, spec):
        self.n = int(spec["n"])
        self.spacing = _param(spec["spacing"])
        self.std = _param(spec["std"])
        half = mp.mpf(self.n - 1) / 2
        self.centres_1d = [(i - half) * self.spacing for i in range(self.n)]
        self._const = -mp.log(self.n * mp.sqrt(2 * mp.pi) * self.std)
        self._cache = {}

    def _log_g(self, x):
        value = self._cache.get(x)
        if value is None:
            two_var = 2 * self.std**2
            value = self._const + _logsumexp(
                [-(x - c)**2 / two_var for c in self.centres_1d])
            self._cache[x] = value
        return value

    def logpdf_cart(self, x, y):
        return self._log_g(x) + self._log_g(y)


class MVN:
    """Bivariate normal density."""

    def __init__(self, spec):
        self.loc = [_param(v) for v in spec["loc"]]
        (a, b), (c, d) = [[_param(v) for v in row]
                          for row in spec["covariance"]]
        if b != c:
            raise ValueError("covariance must be symmetric")
        det = a * d - b * c
        if det <= 0 or a <= 0:
            raise ValueError("covariance must be positive definite")
        self.cov = ((a, b), (c, d))
        self._inv = (d / det, -b / det, a / det)
        self._const = -mp.log(2 * mp.pi) - mp.log(det) / 2
        self._trig_cache = {}

    def isotropic_centred(self):
        """Whether the density is ``N(0, s^2 I)``."""
        (a, b), (_, d) = self.cov
        return self.loc == [0, 0] and b == 0 and a == d

    def logpdf_cart(self, x, y):
        dx, dy = x - self.loc[0], y - self.loc[1]
        i11, i12, i22 = self._inv
        return self._const - (i11 * dx * dx + 2 * i12 * dx * dy
                              + i22 * dy * dy) / 2

    def logpdf_polar(self, r, theta):
        trig = self._trig_cache.get(theta)
        if trig is None:
            trig = (mp.cos(theta), mp.sin(theta))
            self._trig_cache[theta] = trig
        return self.logpdf_cart(r * trig[0], r * trig[1])


class UniformSquare:
    """Uniform density on ``[low, high]^2``."""

    def __init__(self, spec):
        self.low, self.high = _param(spec["low"]), _param(spec["high"])
        self._log_density = -2 * mp.log(self.high - self.low)

    def logpdf_cart(self, x, y):
        if self.low <= x <= self.high and self.low <= y <= self.high:
            return self._log_density
        return mp.ninf


def make_density(spec):
    """Build an mpmath 2-D density from its JSON specification."""
    family = spec["family"]
    if family == "ring":
        return Ring(spec)
    if family == "grid":
        return Grid(spec)
    if family == "mvn":
        return MVN(spec)
    if family == "uniform_square":
        return UniformSquare(spec)
    raise ValueError(f"unknown family {family!r}")


# ---------------------------------------------------------------------------
# Layouts (domain, symmetry and breakpoints)
# ---------------------------------------------------------------------------

def _cuts(centres, std, broad, lower, upper, extra=()):
    """Sorted breakpoints in ``[lower, upper]``.

    ``centre +- SPREAD * std`` for every centre, ``BROAD * broad`` from the
    origin on both sides, plus ``extra`` and the two ends.
    """
    pts = {lower, upper}
    pts.update(extra)
    for c in centres:
        pts.add(c)
        for j in SPREAD:
            pts.update((c - j * std, c + j * std))
    for j in BROAD:
        pts.update((j * broad, -j * broad))
    out = sorted(x for x in pts if lower <= x <= upper)
    return [x for i, x in enumerate(out) if i == 0 or x - out[i - 1] > 1e-20]


def _graded(line, width):
    """Points ``line +- width * 4**j``, ``j = 0..5``, around a switch line.

    Where two components of a mixture with narrow components are equally
    far away, ``log p`` switches from one parabola to the other within a
    band of width ``std^2 / (centre distance)``.  The band matters for
    ``KL(q||p)`` (the integrand is ``q log p`` there); geometric grading
    towards the line resolves it for every band width down to ``width``.
    """
    return [line + sign * width * 4**j for j in range(6) for sign in (-1, 1)]


def _ring_switches(ring, r_max):
    """Angles of the rays where a ring's dominant component switches."""
    width = ring.std**2 / (r_max * 2 * ring.radius * mp.sin(mp.pi / ring.k))
    return [(a + mp.pi / ring.k, width) for a in ring.angles]


def _ring_centre_grading(ring):
    """Radii graded towards ``r = 0`` for a ring density.

    Near the origin all components are almost equally far away and ``log p``
    bends from ``log k`` plus a quadratic to the largest of the linear terms
    ``x . c_i / std^2`` within ``r ~ std^2 / radius``.
    """
    return [x for x in _graded(mp.zero, ring.std**2 / (4 * ring.radius))
            if x > 0]


def _broad_scale(q):
    (a, _), (_, d) = q.cov
    return mp.sqrt(max(a, d))


def make_layout(p, q):
    """Choose coordinates, symmetry reduction and breakpoints for a pair.

    Parameters
    ----------
    p, q : density objects from :func:`make_density`

    Returns
    -------
    Layout
    """
    if isinstance(p, Ring) and isinstance(q, MVN) and q.isotropic_centred():
        if p.phase != 0:
            raise NotImplementedError("ring with a phase vs Gaussian")
        sigma = _broad_scale(q)
        r_max = max(p.radius + 40 * p.std, BROAD[-1] * sigma)
        r_cuts = _cuts([p.radius], p.std, sigma, mp.zero, r_max,
                       _ring_centre_grading(p))
        width = mp.pi / p.k
        extra = [x for line, w in _ring_switches(p, r_max)
                 for x in _graded(line, w)]
        t_cuts = _cuts([mp.zero], p.std / p.radius, 0, mp.zero, width, extra)
        return Layout("polar", r_cuts, t_cuts, 2 * p.k,
                      f"polar wedge 0 <= theta <= pi/{p.k} (rotation and "
                      f"mirror symmetry, multiplicity {2 * p.k}), r <= "
                      f"{mp.nstr(r_max, 6)}, theta cuts graded towards the "
                      "switch ray theta = pi/k, r cuts towards r = 0")
    if isinstance(p, Ring) and isinstance(q, Ring):
        if (p.k, p.radius) != (q.k, q.radius):
            raise NotImplementedError("rings of different shape")
        std = max(p.std, q.std)
        r_max = p.radius + 40 * std
        r_cuts = _cuts([p.radius], std, 0, mp.zero, r_max,
                       _ring_centre_grading(p) + _ring_centre_grading(q))
        middle = (p.phase + q.phase) / 2
        width = mp.pi / p.k
        ang = min(p.std, q.std) / p.radius
        extra = []
        for ring in (p, q):
            for line, w in _ring_switches(ring, r_max):
                for turn in (-1, 0, 1):
                    extra += _graded(line + turn * 2 * mp.pi, w)
        t_cuts = _cuts([p.phase, q.phase, middle], ang, 0, middle - width,
                       middle + width, extra)
        return Layout("polar", r_cuts, t_cuts, p.k,
                      f"polar sector of width 2 pi/{p.k} centred between the "
                      f"phases (rotation symmetry, multiplicity {p.k}), r <= "
                      f"{mp.nstr(r_max, 6)}, theta cuts graded towards the "
                      "switch rays of both rings, r cuts towards r = 0")
    if (isinstance(p, (Grid, UniformSquare)) and isinstance(q, MVN)
            and q.isotropic_centred()):
        sigma = _broad_scale(q)
        if isinstance(p, Grid):
            centres = [c for c in p.centres_1d if c >= 0]
            std = p.std
            top = max(centres) + 40 * std
            width = p.std**2 / (4 * p.spacing)
            extra = [x for a, b in zip(p.centres_1d[:-1], p.centres_1d[1:])
                     for x in _graded((a + b) / 2, width)]
            what = ", cuts graded towards the switch lines between modes"
        else:
            if p.low != -p.high:
                raise NotImplementedError("off-centre square")
            centres, std, top = [], 0, p.high
            extra = [p.high * j / 4 for j in range(1, 5)]
            what = ""
        limit = max(top, BROAD[-1] * sigma)
        cuts = _cuts(centres, std, sigma, mp.zero, limit, extra)
        return Layout("cartesian", cuts, cuts, 4,
                      "Cartesian quadrant x, y >= 0 (mirror symmetry in both "
                      f"axes, multiplicity 4), |x|, |y| <= {mp.nstr(limit, 6)}"
                      + what)
    if isinstance(p, MVN) and isinstance(q, MVN):
        scale = mp.sqrt(max(p.cov[0][0], p.cov[1][1], q.cov[0][0],
                            q.cov[1][1]))
        limit = BROAD[-1] * scale
        cuts = []
        for axis in (0, 1):
            centres = [p.loc[axis], q.loc[axis]]
            cuts.append(_cuts(centres, scale, 0, -limit, limit))
        return Layout("cartesian", cuts[0], cuts[1], 1,
                      f"Cartesian square |x|, |y| <= {mp.nstr(limit, 6)}, no "
                      "symmetry used")
    raise NotImplementedError("no layout for this pair")


def analytic_infinities(p, q):
    """Which KL divergences are infinite, with reasons.

    All families here have Gaussian tails or compact support, so
    ``KL(a||b)`` is infinite exactly when ``a`` has mass where ``b``
    vanishes, i.e. when ``b`` is a square and ``a`` is not supported in it.
    """
    reasons = {}
    for name, a, b, labels in (("kl_pq", p, q, "pq"), ("kl_qp", q, p, "qp")):
        if isinstance(b, UniformSquare) and not isinstance(a, UniformSquare):
            reasons[name] = (f"{name}: {labels[0]} has mass outside the "
                             f"square where {labels[1]} = 0")
        elif isinstance(b, UniformSquare):
            if (a.low, a.high) != (b.low, b.high):
                raise NotImplementedError("two different squares")
    return reasons


# ---------------------------------------------------------------------------
# Integration (mpmath)
# ---------------------------------------------------------------------------

def gauss_legendre(n):
    """Nodes and weights of the ``n``-point Gauss-Legendre rule on [-1, 1].

    Newton iteration on the three-term recurrence of the Legendre
    polynomials, at the current working precision.
    """
    nodes, weights = [], []
    for i in range(1, n + 1):
        x = mp.cos(mp.pi * (i - mp.mpf(1) / 4) / (n + mp.mpf(1) / 2))
        for _ in range(100):
            p0, p1 = mp.one, x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            deriv = n * (x * p1 - p0) / (x * x - 1)
            step = p1 / deriv
            x -= step
            if abs(step) < mp.eps * 4:
                break
        p0, p1 = mp.one, x
        for k in range(2, n + 1):
            p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
        deriv = n * (x * p1 - p0) / (x * x - 1)
        nodes.append(x)
        weights.append(2 / ((1 - x * x) * deriv * deriv))
    return nodes, weights


def _integrands(lp, lq):
    """All integrands at one point, given the two log-densities."""
    p, q = _exp(lp), _exp(lq)
    if lp == mp.ninf and lq == mp.ninf:
        return [mp.zero] * 6
    ls = _logsumexp([lp, lq])
    crit = mp.zero
    if p:
        crit += p * (lp - ls)
    if q:
        crit += q * (lq - ls)
    log2 = mp.log(2)
    # JSD integrand: (p log(2p/(p+q)) + q log(2q/(p+q))) / 2.
    jsd = (crit + (p + q) * log2) / 2 if lp != lq else mp.zero
    kl_pq = p * (lp - lq) if p else mp.zero
    kl_qp = q * (lq - lp) if q else mp.zero
    return [p, q, jsd, crit, kl_pq, kl_qp]


def integrate_layout(p, q, layout, nodes, bisect=False):
    """Composite tensor Gauss-Legendre integrals of all quantities.

    Parameters
    ----------
    p, q : densities
    layout : Layout
    nodes : int
        Gauss-Legendre nodes per cell and direction.
    bisect : bool
        Split every cell in two in both directions (error estimate).

    Returns
    -------
    list of mpf
        Integrals of the integrands of :func:`_integrands`, multiplied by
        the symmetry multiplicity.
    """
    xs, ws = gauss_legendre(nodes)
    polar = layout.coords == "polar"

    def refine(cuts):
        if not bisect:
            return list(cuts)
        out = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            out += [a, (a + b) / 2]
        return out + [cuts[-1]]

    def cell_nodes(a, b):
        half, mid = (b - a) / 2, (a + b) / 2
        return [(mid + half * x, half * w) for x, w in zip(xs, ws)]

    if polar:
        logp = p.logpdf_polar
        logq = q.logpdf_polar
    else:
        logp, logq = p.logpdf_cart, q.logpdf_cart
    u_cuts, v_cuts = refine(layout.u_cuts), refine(layout.v_cuts)
    v_nodes = [cell_nodes(a, b) for a, b in zip(v_cuts[:-1], v_cuts[1:])]
    totals = [[] for _ in QUANTITIES]
    for ua, ub in zip(u_cuts[:-1], u_cuts[1:]):
        for u, wu in cell_nodes(ua, ub):
            row = [mp.zero] * len(QUANTITIES)
            scale = wu * u if polar else wu
            for cell in v_nodes:
                for v, wv in cell:
                    vals = _integrands(logp(u, v), logq(u, v))
                    for i, val in enumerate(vals):
                        row[i] += wv * val
            for i in range(len(QUANTITIES)):
                totals[i].append(scale * row[i])
    return [layout.multiplicity * mp.fsum(t) for t in totals]


# ---------------------------------------------------------------------------
# Float64 cross-check on the whole plane (numpy)
# ---------------------------------------------------------------------------

#: Multiples of a component's std used as cuts by the float64 cross-check.
SPREAD_DOUBLE = (0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24)


def _np_logsumexp(values, axis):
    top = np.max(values, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(values - top),
                                                 axis=axis))


class _NpDensity:
    """float64 version of a 2-D density, with what the cross-check needs.

    Attributes
    ----------
    logpdf : callable
        ``logpdf(x, y)`` on arrays.
    axes : tuple of lists
        Component centres along x and along y.
    std : float
        Component standard deviation (0 for a single broad component).
    broad : float
        Scale of a broad density (0 if none).
    switch_lines : list of float
        Coordinates (both axes) where a grid's dominant component switches.
    ring : tuple or None
        ``(angles, radius, std, k)`` for rings.
    """

    def __init__(self, spec):
        family = spec["family"]
        self.switch_lines, self.ring, self.broad, self.std = [], None, 0.0, 0.0
        if family == "ring":
            k, rad, std = int(spec["k"]), spec["radius"], spec["std"]
            ang = 2 * np.pi * np.arange(k) / k + spec.get("phase", 0.0)
            cx, cy = rad * np.cos(ang), rad * np.sin(ang)

            def logpdf(x, y):
                d2 = (x[..., None] - cx)**2 + (y[..., None] - cy)**2
                return (_np_logsumexp(-d2 / (2 * std**2), -1)
                        - np.log(k * 2 * np.pi * std**2))
            self.axes, self.std = (list(cx), list(cy)), std
            self.ring = (ang, rad, std, k)
        elif family == "grid":
            n, sp, std = int(spec["n"]), spec["spacing"], spec["std"]
            c = (np.arange(n) - (n - 1) / 2) * sp

            def log_g(t):
                return (_np_logsumexp(-(t[..., None] - c)**2 / (2 * std**2),
                                      -1)
                        - np.log(n * np.sqrt(2 * np.pi) * std))

            def logpdf(x, y):
                return log_g(x) + log_g(y)
            self.axes, self.std = (list(c), list(c)), std
            self.switch_lines = list((c[1:] + c[:-1]) / 2)
            self.switch_width = std**2 / (4 * sp)
        elif family == "mvn":
            loc = np.array(spec["loc"], dtype=float)
            cov = np.array(spec["covariance"], dtype=float)
            inv = np.linalg.inv(cov)
            const = -np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(cov))

            def logpdf(x, y):
                dx, dy = x - loc[0], y - loc[1]
                return const - 0.5 * (inv[0, 0] * dx * dx
                                      + 2 * inv[0, 1] * dx * dy
                                      + inv[1, 1] * dy * dy)
            self.axes = ([loc[0]], [loc[1]])
            self.broad = float(np.sqrt(cov.max()))
        elif family == "uniform_square":
            lo, hi = spec["low"], spec["high"]

            def logpdf(x, y):
                inside = (x >= lo) & (x <= hi) & (y >= lo) & (y <= hi)
                return np.where(inside, -2 * np.log(hi - lo), -np.inf)
            self.axes = ([lo, hi], [lo, hi])
        else:
            raise ValueError(family)
        self.logpdf = logpdf


def _np_unique(points, lower, upper):
    pts = np.array(sorted(x for x in set(points) if lower <= x <= upper))
    return pts[np.concatenate([[True], np.diff(pts) > 1e-13])]


def _np_polar_cuts(dens, broad):
    """r and theta cuts on the full circle for pairs involving rings."""
    rings = [d.ring for d in dens if d.ring is not None]
    r_max = max([rad + 40 * std for _, rad, std, _ in rings]
                + [15 * broad])
    r_pts, t_pts = [0.0, r_max, 2 * np.pi], [0.0, 2 * np.pi]
    for ang, rad, std, k in rings:
        r_pts += [std**2 / (4 * rad) * 3**j for j in range(8)]
        r_pts += [rad + sign * j * std for j in SPREAD_DOUBLE
                  for sign in (-1, 1)]
        width = std**2 / (r_max * 2 * rad * np.sin(np.pi / k))
        for a in ang:
            t_pts += [(a + sign * j * std / rad) % (2 * np.pi)
                      for j in SPREAD_DOUBLE for sign in (-1, 1)]
            line = a + np.pi / k
            t_pts += [(line + sign * width * 3**j) % (2 * np.pi)
                      for j in range(8) for sign in (-1, 1)]
    r_pts += [j * broad for j in (0.5, 1, 1.5, 2, 3, 4, 6, 8, 10, 12, 14)]
    return _np_unique(r_pts, 0, r_max), _np_unique(t_pts, 0, 2 * np.pi)


def _np_cartesian_cuts(dens, broad):
    """Cuts along each axis for the whole-plane Cartesian cross-check."""
    limit = 15 * broad + 5
    cuts = []
    for axis in (0, 1):
        pts = [-limit, limit]
        for d in dens:
            for c in d.axes[axis]:
                pts.append(c)
                if d.std > 0:
                    pts += [c + sign * j * d.std for j in SPREAD_DOUBLE
                            for sign in (-1, 1)]
            for line in d.switch_lines:
                pts += [line + sign * d.switch_width * 3**j
                        for j in range(8) for sign in (-1, 1)]
        pts += [sign * j * broad for j in (0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8,
                                           10, 12, 14) for sign in (-1, 1)]
        cuts.append(_np_unique(pts, -limit, limit))
    return cuts


def double_cross_check(p_spec, q_spec):
    """All quantities in float64 without any symmetry reduction.

    Pairs involving a ring are integrated over the full circle in polar
    coordinates, all others over the whole plane in Cartesian coordinates,
    with composite Gauss-Legendre rules of :data:`NODES_DOUBLE` nodes per
    cell and direction on cuts different from the mpmath ones.

    Returns
    -------
    dict
        Quantity name to float.
    """
    dens = (_NpDensity(p_spec), _NpDensity(q_spec))
    broad = max(d.broad for d in dens)
    polar = any(d.ring is not None for d in dens)
    u_cuts, v_cuts = (_np_polar_cuts(dens, broad) if polar
                      else _np_cartesian_cuts(dens, broad))
    x0, w0 = np.polynomial.legendre.leggauss(NODES_DOUBLE)

    def expand(c):
        half = (c[1:] - c[:-1]) / 2
        mid = (c[1:] + c[:-1]) / 2
        return ((mid[:, None] + half[:, None] * x0).ravel(),
                (half[:, None] * w0).ravel())
    us, wu = expand(u_cuts)
    vs, wv = expand(v_cuts)
    if polar:
        wu = wu * us
    totals = np.zeros(len(QUANTITIES))
    ln2 = np.log(2)
    chunk = 16
    for start in range(0, len(us), chunk):
        ub = us[start:start + chunk, None]
        if polar:
            xb, yb = ub * np.cos(vs), ub * np.sin(vs)
        else:
            xb, yb = ub * np.ones_like(vs), np.ones_like(ub) * vs
        lp, lq = dens[0].logpdf(xb, yb), dens[1].logpdf(xb, yb)
        p, q = np.exp(lp), np.exp(lq)
        ls = np.logaddexp(lp, lq)
        with np.errstate(invalid="ignore"):
            crit = (np.where(p > 0, p * (lp - ls), 0.0)
                    + np.where(q > 0, q * (lq - ls), 0.0))
            jsd = (crit + (p + q) * ln2) / 2
            kl_pq = np.where(p > 0, p * (lp - lq), 0.0)
            kl_qp = np.where(q > 0, q * (lq - lp), 0.0)
        weight = wu[start:start + chunk, None] * wv
        for i, arr in enumerate((p, q, jsd, crit, kl_pq, kl_qp)):
            totals[i] += np.sum(weight * arr)
    return dict(zip(QUANTITIES, totals.tolist()))


# ---------------------------------------------------------------------------
# Closed forms and exact reductions (mpmath)
# ---------------------------------------------------------------------------

def _kl_1d(logf, logg, points):
    """``int f log(f/g)`` over the real line with ``mp.quad``."""
    return mp.quad(lambda x: mp.exp(logf(x)) * (logf(x) - logg(x)),
                   [mp.ninf] + points + [mp.inf])


def independent_checks(p_spec, q_spec):
    """Values known independently of the 2-D quadrature.

    * ``mass_p = mass_q = 1``;
    * KL between two bivariate normals in closed form;
    * KL of product densities (grid or square vs. isotropic Gaussian) as
      twice the 1-D KL of the factors (1-D ``mp.quad``);
    * ``kl_pq = kl_qp`` for a ring vs. the same ring rotated (the
      reflection about the middle angle swaps the two densities).

    Returns
    -------
    list of tuple
        ``(quantity, description, value)``; ``value`` is ``None`` for the
        ring symmetry check, which compares two stored values.
    """
    checks = [("mass_p", "mass 1", mp.one), ("mass_q", "mass 1", mp.one)]
    fp, fq = p_spec["family"], q_spec["family"]
    if fp == fq == "mvn":
        p, q = MVN(p_spec), MVN(q_spec)

        def kl(a, b):
            i11, i12, i22 = b._inv
            (s11, s12), (_, s22) = a.cov
            dx, dy = b.loc[0] - a.loc[0], b.loc[1] - a.loc[1]
            trace = i11 * s11 + 2 * i12 * s12 + i22 * s22
            maha = i11 * dx * dx + 2 * i12 * dx * dy + i22 * dy * dy
            det_a = a.cov[0][0] * a.cov[1][1] - a.cov[0][1]**2
            det_b = b.cov[0][0] * b.cov[1][1] - b.cov[0][1]**2
            return (trace + maha - 2 + mp.log(det_b / det_a)) / 2
        checks += [("kl_pq", "closed form", kl(p, q)),
                   ("kl_qp", "closed form", kl(q, p))]
    if fp == "uniform_square" and fq == "mvn":
        q = MVN(q_spec)
        if q.isotropic_centred():
            a, b = _param(p_spec["low"]), _param(p_spec["high"])
            var = q.cov[0][0]
            one_d = (mp.log(mp.sqrt(2 * mp.pi * var)) - mp.log(b - a)
                     + (a * a + a * b + b * b) / (6 * var))
            checks.append(("kl_pq", "2 x closed-form 1-D KL", 2 * one_d))
    if fp == "grid" and fq == "mvn":
        p, q = Grid(p_spec), MVN(q_spec)
        if q.isotropic_centred():
            sigma = mp.sqrt(q.cov[0][0])

            def log_h(x):
                return -x * x / (2 * sigma**2) - mp.log(2 * mp.pi * sigma**2) / 2
            pts = sorted({c + j * p.std for c in p.centres_1d
                          for j in (-16, -8, -4, -2, -1, 0, 1, 2, 4, 8, 16)}
                         | {(a + b) / 2 + j * p.std**2 / p.spacing
                            for a, b in zip(p.centres_1d[:-1],
                                            p.centres_1d[1:])
                            for j in (-64, -16, -4, -1, 0, 1, 4, 16, 64)})
            checks += [
                ("kl_pq", "2 x 1-D KL of the factors (mp.quad)",
                 2 * _kl_1d(p._log_g, log_h, pts)),
                ("kl_qp", "2 x 1-D KL of the factors (mp.quad)",
                 2 * _kl_1d(log_h, p._log_g, pts)),
            ]
    if fp == fq == "ring":
        checks.append(("kl_pq", "equals kl_qp by reflection symmetry", None))
    return checks


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def reference_case(case_id, p_spec, q_spec, cross_check=True):
    """Compute the JSON entry of one case.

    Two mpmath runs are made: the base cells at ``DPS`` and every cell
    bisected in both directions at ``DPS + EXTRA_DPS``.  The finer run is
    stored; the difference of the two bounds its error.

    Parameters
    ----------
    case_id : str
    p_spec, q_spec : dict
    cross_check : bool
        Also run the float64 cross-check without symmetry reduction.

    Returns
    -------
    dict
    """
    runs = []
    for dps, bisect in ((DPS, False), (DPS + EXTRA_DPS, True)):
        with mp.workdps(dps):
            p, q = make_density(p_spec), make_density(q_spec)
            layout = make_layout(p, q)
            reasons = analytic_infinities(p, q)
            runs.append(integrate_layout(p, q, layout, NODES, bisect))
    coarse, fine = runs
    values, errors, notes = {}, {}, list(reasons.values())
    with mp.workdps(DPS + EXTRA_DPS):
        for i, name in enumerate(QUANTITIES):
            if name in reasons:
                values[name], errors[name] = "inf", "0.0"
                continue
            values[name] = _decimal(fine[i])
            errors[name] = mp.nstr(abs(coarse[i] - fine[i])
                                   + mp.mpf("1e-30"), 3)
        checks = []
        for name, label, expected in independent_checks(p_spec, q_spec):
            if expected is None:
                expected = fine[QUANTITIES.index("kl_qp")]
            diff = abs(fine[QUANTITIES.index(name)] - expected)
            checks.append({"quantity": name, "check": label,
                           "value": _decimal(expected),
                           "abs_diff": mp.nstr(diff, 3)})
    entry = {
        "id": case_id, "p": p_spec, "q": q_spec, "values": values,
        "errors": errors,
        "method": (f"mpmath, composite Gauss-Legendre {NODES}x{NODES} per "
                   f"cell, {layout.description}; stored: every cell "
                   f"bisected in both directions at dps {DPS + EXTRA_DPS}; "
                   f"error: difference to the unbisected cells at dps {DPS} "
                   "(+1e-30 truncation allowance)"),
        "checks": checks,
        "notes": "; ".join(notes),
    }
    if cross_check:
        dbl = double_cross_check(p_spec, q_spec)
        diffs = {k: abs(float(mp.mpf(values[k])) - dbl[k])
                 for k in QUANTITIES if values[k] != "inf"}
        polar = "ring" in (p_spec["family"], q_spec["family"])
        entry["cross_check"] = {
            "method": (f"float64 numpy, composite Gauss-Legendre "
                       f"{NODES_DOUBLE}x{NODES_DOUBLE} per cell, "
                       + ("full circle in polar coordinates" if polar else
                          "whole plane in Cartesian coordinates")
                       + ", no symmetry reduction, different cuts"),
            "values": {k: repr(dbl[k]) for k in diffs},
            "abs_diff": {k: f"{v:.2e}" for k, v in diffs.items()},
        }
    return entry


def main(argv=None):
    """Command-line entry point: compute all cases and write the JSON."""
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here,
                                                      "references_2d.json"),
                        help="output JSON file (default: next to this script)")
    parser.add_argument("--cases", nargs="*", default=None,
                        help="only compute these case ids")
    parser.add_argument("--no-cross-check", action="store_true",
                        help="skip the float64 whole-plane cross-check")
    args = parser.parse_args(argv)
    entries = []
    start = time.time()
    for case_id, p_spec, q_spec in CASES:
        if args.cases and case_id not in args.cases:
            continue
        t0 = time.time()
        entry = reference_case(case_id, p_spec, q_spec,
                               not args.no_cross_check)
        entries.append(entry)
        print(f"{case_id:32s} jsd={entry['values']['jsd']:28s} err="
              f"{entry['errors']['jsd']:9s} ({time.time() - t0:6.1f} s) "
              f"{entry.get('cross_check', {}).get('abs_diff', '')}",
              flush=True)
    doc = {
        "generator": "make_references_2d.py",
        "mpmath_dps": DPS,
        "created": datetime.date.today().isoformat(),
        "quantities": list(QUANTITIES),
        "cases": entries,
    }
    with open(args.out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print(f"wrote {args.out} ({len(entries)} cases, "
          f"{time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
