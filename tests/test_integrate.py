"""The integrator alone (gan_theory.integrate), on integrands with closed forms.

In the style of scipy's ``integrate/tests/test_cubature.py``: a table of problems whose exact
value is known in closed form (1-D and 2-D; infinite and half-infinite ranges, kinks declared
as breaks or found through an indicator column, narrow peaks, heavy tails), each integrated
from plain :class:`Landmarks` (no density objects), each asserting that the true error is
within the reported error. Also: the two 1-D partition builders give the same cells.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gan_theory.integrate import Landmarks, integrate, make_batch_domain, make_domain
from gan_theory.results import AccuracyError

EPS = float(np.finfo(np.float64).eps)
INF = math.inf
SQ2PI = math.sqrt(2 * math.pi)


def marks(lower, upper, centers, scales, breaks=None) -> Landmarks:
    """Landmarks in any dimension from lists (one row per mode)."""
    c = np.array(centers, dtype=np.float64)
    d = c.shape[-1] if c.ndim == 2 else 1
    c = c.reshape(-1, d)
    s = np.array(scales, dtype=np.float64).reshape(-1, d)
    br = tuple(np.array(b, dtype=np.float64) for b in (breaks or [[]] * d))
    return Landmarks(np.array(lower, dtype=np.float64).reshape(d), np.array(upper, dtype=np.float64).reshape(d),
                     c, s, br)


def gauss(x, m, s):
    return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * SQ2PI)


def values(fn, kink=None):
    """An integrand ``x -> (values (n, 1), noise (n, 1)[, kink])`` from a NumPy function, with a
    floating-point error bound of 8 ulps of each value (the functions below are a few
    correctly rounded operations)."""

    def f(x):
        v = np.asarray(fn(x), dtype=np.float64)
        out = (v[:, None], 8 * EPS * np.abs(v)[:, None])
        return out + (kink(x),) if kink is not None else out

    return f


# (name, landmarks, integrand, exact value; the exact values in closed form, as commented)
PROBLEMS_1D = [
    # standard normal density over R: 1
    ("normal", marks(-INF, INF, [0.0], [1.0]), values(lambda x: gauss(x, 0.0, 1.0)), 1.0),
    # second moment of N(0, 1): 1
    ("normal second moment", marks(-INF, INF, [0.0], [1.0]), values(lambda x: x * x * gauss(x, 0.0, 1.0)), 1.0),
    # E cos(X), X ~ N(0, 1): exp(-1/2) (characteristic function at 1)
    ("normal cosine", marks(-INF, INF, [0.0], [1.0]), values(lambda x: np.cos(x) * gauss(x, 0.0, 1.0)),
     math.exp(-0.5)),
    # Cauchy density (heavy tails, whole line through the tail maps): 1
    ("cauchy", marks(-INF, INF, [2.0], [0.5]), values(lambda x: 0.5 / (math.pi * (0.25 + (x - 2.0) ** 2))), 1.0),
    # arctan-type tail: 1/(1 + x^2)^2 over R = pi/2
    ("rational", marks(-INF, INF, [0.0], [1.0]), values(lambda x: 1.0 / (1.0 + x * x) ** 2), math.pi / 2),
    # Laplace density, cusp declared as a break: 1
    ("laplace cusp", marks(-INF, INF, [0.3], [1.0], [[0.3]]), values(lambda x: 0.5 * np.exp(-np.abs(x - 0.3))), 1.0),
    # |x - 0.3| against N(0, 1), the kink found by the indicator x - 0.3 (not declared):
    # E|X - a| = 2 phi(a) + a (2 Phi(a) - 1)
    ("folded normal kink", marks(-INF, INF, [0.0], [1.0]),
     values(lambda x: np.abs(x - 0.3) * gauss(x, 0.0, 1.0), kink=lambda x: x - 0.3),
     2 * math.exp(-0.045) / SQ2PI + 0.3 * math.erf(0.3 / math.sqrt(2))),
    # exponential density on [0, inf) (half-infinite, one tail map): 1
    ("exponential", marks(0.0, INF, [0.0], [1.0], [[0.0]]), values(lambda x: np.exp(-x)), 1.0),
    # sqrt on [0, 1] (derivative singular at 0): 2/3
    ("sqrt", marks(0.0, 1.0, [0.5], [0.5], [[0.0, 1.0]]), values(lambda x: np.sqrt(np.maximum(x, 0.0))), 2.0 / 3.0),
    # a narrow peak beside a wide one: (N(0, 1) + N(3, 1e-3)) / 2: 1 (narrower, or farther, and
    # the rounding of the nodes' positions alone exceeds the tight tolerance: AccuracyError)
    ("narrow peak", marks(-INF, INF, [0.0, 3.0], [1.0, 1e-3]),
     values(lambda x: 0.5 * gauss(x, 0.0, 1.0) + 0.5 * gauss(x, 3.0, 1e-3)), 1.0),
    # x e^{-x^2/2} over [0, inf): 1
    ("rayleigh", marks(0.0, INF, [1.0], [1.0], [[0.0]]), values(lambda x: x * np.exp(-0.5 * x * x)), 1.0),
]

PROBLEMS_2D = [
    # standard normal on R^2: 1
    ("normal 2d", marks([-INF, -INF], [INF, INF], [[0.0, 0.0]], [[1.0, 1.0]]),
     values(lambda x: gauss(x[:, 0], 0.0, 1.0) * gauss(x[:, 1], 0.0, 1.0)), 1.0),
    # correlated normal, rho = 0.6: 1
    ("correlated normal", marks([-INF, -INF], [INF, INF], [[0.0, 0.0]], [[1.0, 1.0]]),
     values(lambda x: np.exp(-(x[:, 0] ** 2 - 1.2 * x[:, 0] * x[:, 1] + x[:, 1] ** 2) / (2 * 0.64))
            / (2 * math.pi * 0.8)), 1.0),
    # product of Laplace densities, cusps declared on both axes: 1
    ("laplace 2d", marks([-INF, -INF], [INF, INF], [[0.0, 1.0]], [[1.0, 1.0]], [[0.0], [1.0]]),
     values(lambda x: 0.25 * np.exp(-np.abs(x[:, 0]) - np.abs(x[:, 1] - 1.0))), 1.0),
    # x y on the unit square: 1/4
    ("bilinear square", marks([0.0, 0.0], [1.0, 1.0], [[0.5, 0.5]], [[0.5, 0.5]], [[0.0, 1.0], [0.0, 1.0]]),
     values(lambda x: x[:, 0] * x[:, 1]), 0.25),
    # a narrow peak N((1, -1), 0.01^2 I): 1
    ("narrow peak 2d", marks([-INF, -INF], [INF, INF], [[1.0, -1.0]], [[0.01, 0.01]]),
     values(lambda x: gauss(x[:, 0], 1.0, 0.01) * gauss(x[:, 1], -1.0, 0.01)), 1.0),
    # x^2 y^2 against N(0, I): 1
    ("moments 2d", marks([-INF, -INF], [INF, INF], [[0.0, 0.0]], [[1.0, 1.0]]),
     values(lambda x: (x[:, 0] * x[:, 1]) ** 2 * gauss(x[:, 0], 0.0, 1.0) * gauss(x[:, 1], 0.0, 1.0)), 1.0),
]


@pytest.mark.parametrize("name, lm, f, exact", PROBLEMS_1D + PROBLEMS_2D, ids=[p[0] for p in PROBLEMS_1D + PROBLEMS_2D])
@pytest.mark.parametrize("tol", [(1e-13, 1e-11), (1e-8, 0.0)], ids=["tight", "loose"])
def test_true_error_within_reported_error(name, lm, f, exact, tol):
    atol, rtol = tol
    if lm.dim == 2:
        atol, rtol = max(atol, 1e-11), max(rtol, 1e-10)
    res = integrate(f, make_domain([lm]), atol=atol, rtol=rtol)
    value, error = float(res.value[0]), float(res.error[0])
    # the reported error bounds the true one, and meets the tolerance asked for
    assert abs(value - exact) <= error, (name, value, exact, error)
    assert error <= max(atol, rtol * abs(value))


def test_batch_of_problems_each_within_its_reported_error():
    # The 1-D problems with one mode, as one batch on cells of their own (make_batch_domain):
    # every element within its own reported error.
    rows = [(lm, f, exact) for _, lm, f, exact in PROBLEMS_1D
            if lm.centers.shape[0] == 1 and math.isinf(lm.lower[0]) and math.isinf(lm.upper[0])]
    n = len(rows)
    lms = [Landmarks(lm.lower, lm.upper, lm.centers, lm.scales, lm.breaks,
                     (np.array([b]), np.full(lm.breaks[0].size, b))) for b, (lm, _, _) in enumerate(rows)]

    def f(x, owner):
        v, e, k = np.zeros((x.size, 1)), np.zeros((x.size, 1)), np.ones((x.size, 1))
        for b, (_, fb, _) in enumerate(rows):
            at = owner == b
            out = fb(x[at])
            v[at], e[at] = out[0], out[1]
            if len(out) > 2:
                k[at, 0] = out[2]
        return v, e, k

    res = integrate(f, make_batch_domain(lms, n), atol=1e-13, rtol=1e-11)
    for b, (_, _, exact) in enumerate(rows):
        assert abs(res.value[b] - exact) <= res.error[b], (b, res.value[b], exact, res.error[b])


def test_infinite_integrand_gives_an_infinite_integral():
    # An integrand that is +inf on part of the range: the component is +inf, with error 0.
    lm = marks(-1.0, 1.0, [0.0], [0.5], [[-1.0, 1.0]])

    def f(x):
        v = np.where(x > 0.5, np.inf, 1.0)
        return v[:, None], np.zeros((x.size, 1))

    res = integrate(f, make_domain([lm]), atol=1e-12, rtol=0.0)
    assert res.value[0] == np.inf and res.error[0] == 0.0


def test_unreachable_tolerance_is_an_accuracy_error():
    # A tolerance below the integrand's own floating-point error: AccuracyError, no number.
    lm = marks(-INF, INF, [0.0], [1.0])

    def f(x):
        v = gauss(x, 0.0, 1.0)
        return v[:, None], 1e-6 * v[:, None]

    with pytest.raises(AccuracyError, match="floating-point error of the integrand"):
        integrate(f, make_domain([lm]), atol=1e-12, rtol=0.0)


def _random_landmarks(rng: np.random.Generator) -> list[Landmarks]:
    """One or two sets of 1-D landmarks: modes at random places and scales (some coinciding,
    some narrow, some far from 0), breaks, bounded and unbounded supports."""
    out = []
    for _ in range(rng.integers(1, 3)):
        k = int(rng.integers(1, 4))
        c = rng.normal(0.0, 3.0, k) * (1e4 if rng.random() < 0.1 else 1.0)
        if k > 1 and rng.random() < 0.3:
            c[1] = c[0]  # coinciding modes
        s = np.exp(rng.uniform(-8.0, 1.0, k))
        lo = -INF if rng.random() < 0.7 else float(c.min() - rng.uniform(0.0, 3.0))
        hi = INF if rng.random() < 0.7 else float(c.max() + rng.uniform(0.0, 3.0))
        br = [float(v) for v in rng.normal(0.0, 3.0, int(rng.integers(0, 3)))]
        br += [b for b in (lo, hi) if math.isfinite(b)]
        out.append(marks(lo, hi, c, s, [br]))
    return out


def test_scalar_and_vectorised_partitions_agree():
    # The 1-D partition is built by make_domain (plain Python, one call) and by
    # make_batch_domain (vectorised over a batch): for a batch of one they must give the same
    # axis map and the same cells, their edges equal up to the rounding of the graded edges'
    # positions (summed step by step in one, by a cumulative sum in the other: one ulp of the
    # core's magnitude, the axis map's tail span). 400 random cases (fixed seed); before issue 13
    # they differed in 22 of the first 300 (the scalar builder let grid points outside a
    # bounded support limit the graded cells).
    rng = np.random.default_rng(20261201)
    for case in range(400):
        lms = _random_landmarks(rng)
        a, b = make_domain(lms), make_batch_domain(lms, 1)
        assert a.axes == b.axes, case
        assert a.lo.shape == b.lo.shape, (case, a.lo.size, b.lo.size)
        tol = 4 * EPS * a.axes[0].tail_span
        assert np.all(np.abs(a.lo - b.lo) <= tol) and np.all(np.abs(a.hi - b.hi) <= tol), case
        assert np.all(b.owner == 0)


def test_batch_partition_gives_each_element_its_own_cells():
    # Each element of a batch gets the cells make_domain would give it alone, in the shared
    # coordinate of the union: the same cell edges in x (the axis map may differ).
    rng = np.random.default_rng(7)
    for case in range(40):
        singles = [_random_landmarks(rng)[0] for _ in range(3)]
        members = []
        for b, lm in enumerate(singles):
            members.append(Landmarks(lm.lower, lm.upper, lm.centers, lm.scales, lm.breaks,
                                     (np.full(lm.centers.shape[0], b), np.full(lm.breaks[0].size, b))))
        lower = min(float(lm.lower[0]) for lm in singles)
        upper = max(float(lm.upper[0]) for lm in singles)
        # the batch's elements share one support box (as a batch of one family does)
        members = [Landmarks(np.array([lower]), np.array([upper]), lm.centers, lm.scales, lm.breaks, lm.members)
                   for lm in members]
        dom = make_batch_domain(members, 3)
        assert sorted(set(dom.owner.tolist())) == [0, 1, 2], case
        for b in range(3):
            lo, hi = dom.lo[dom.owner == b], dom.hi[dom.owner == b]
            t_lo, t_hi = dom.axes[0].t_range
            assert lo[0] == t_lo and hi[-1] == t_hi and np.all(lo[1:] == hi[:-1]) and np.all(hi > lo), (case, b)
