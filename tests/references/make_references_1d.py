#!/usr/bin/env python
"""High-precision reference values for divergences between 1-D densities.

For every pair ``(p, q)`` in :data:`CASES` this script computes, with
``mpmath`` at ``mp.dps = 40``, the masses of both densities, the
Jensen-Shannon divergence, the GAN criterion, both Kullback-Leibler
divergences, six f-divergences and the Wasserstein-1 distance, each with an
error estimate, and writes them to ``references_1d.json`` next to this file.

Only ``mpmath`` and the standard library are used, so the numbers are
independent of the project's own code.

Conventions
-----------
* All logarithms are natural (nats); ``0 log 0 = 0``.
* ``D_f(p||q) = int q f(p/q)``; where ``q = 0 < p`` the integrand is
  ``p * lim_{u->inf} f(u)/u`` and where ``p = 0 < q`` it is ``q * f(0)``.
* Infinite values are decided analytically from the tails and supports of
  the two families (see :func:`analytic_infinities`), never numerically, and
  are written as the JSON string ``"inf"`` with the reason in ``notes``.
* Distribution parameters are taken as the float64 values of the JSON
  numbers (``mpf(float(value))``), which is what a float64 implementation of
  the same specification sees.
* Mixture weights are normalised exactly by their sum (as
  ``torch.distributions.Categorical`` does).

Integration
-----------
``mpmath.quad`` (tanh-sinh) over the union of the supports, infinite ends
included, with breakpoints at: support ends; every component location and
``loc +- {1, 2, 4, 8, 16, 32} * scale`` (gamma/beta: mode, mean and
mean +- multiples of the standard deviation); the crossings of ``p`` and
``q`` (kinks of ``|p - q|``) and of ``F_p`` and ``F_q`` (kinks of the W1
integrand); the points where the dominant component of a mixture switches;
and peaks of ``p^2/q`` or ``q^2/p`` far from all modes.  At a singular
support end (a gamma or beta density unbounded there) the first interval is
integrated in ``t`` with ``x = end +- t^2``.

Errors
------
* Each value is computed twice: at ``dps`` with the base breakpoint set and
  at ``dps + 8`` with a refined breakpoint set (all interval midpoints and
  shifted tail starts added).  The stored error is the larger of the
  difference of the two results and the quadrature's own error estimates.

Run ``python make_references_1d.py [--out FILE]``; a full run takes about
four minutes on one core.
"""

import argparse
import datetime
import json
import os
import time
from collections import namedtuple

from mpmath import mp

#: Working precision (decimal digits) of the reference computation.
DPS = 40

#: Extra digits used by the second (error-estimating) computation.
EXTRA_DPS = 8

#: Multiples of a component's scale placed on both sides of its location.
SPREAD = (1, 2, 4, 8, 16, 32)

#: Number of significant digits written for each value.
DIGITS = 32

#: Names of the computed quantities, in output order.
QUANTITIES = (
    "mass_p", "mass_q", "jsd", "criterion", "kl_pq", "kl_qp", "pearson",
    "neyman", "hellinger", "total_variation", "jensen_shannon", "gan", "w1",
)

#: Absolute accuracy every finite reference must reach.
TOLERANCE = 1e-13

#: Absolute accuracy required for the cases marked ``tiny``.
TINY_TOLERANCE = 1e-20


def _normal(loc, scale):
    return {"family": "normal", "loc": loc, "scale": scale}


def _mixture(weights, components):
    return {"family": "mixture", "weights": weights, "components": components}


#: The reference cases: ``(id, p, q, tiny)``; ``tiny`` marks cases whose
#: Jensen-Shannon divergence is so small that 1e-20 absolute is required.
CASES = (
    ("normal_shift_scale", _normal(0.0, 1.0), _normal(1.0, 1.5), False),
    ("normal_narrow", _normal(0.0, 1.0), _normal(0.0, 0.3), False),
    ("normal_far", _normal(0.0, 1.0), _normal(5.0, 0.5), False),
    ("normal_identical", _normal(0.0, 1.0), _normal(0.0, 1.0), False),
    ("tiny_shift", _normal(0.0, 1.0), _normal(2.8284271247461903e-06, 1.0),
     True),
    ("tiny_scale", _normal(0.0, 1.0), _normal(0.0, 1.000002), True),
    ("tiny_mixture",
     _mixture([0.5, 0.5], [_normal(-1.0, 0.5), _normal(1.0, 0.5)]),
     _mixture([0.500001, 0.499999], [_normal(-1.0, 0.5), _normal(1.0, 0.5)]),
     True),
    ("laplace_laplace",
     {"family": "laplace", "loc": 0.0, "scale": 1.0},
     {"family": "laplace", "loc": 0.5, "scale": 2.0}, False),
    ("laplace_normal",
     {"family": "laplace", "loc": 0.0, "scale": 1.0}, _normal(0.0, 1.0),
     False),
    ("student_t_normal",
     {"family": "student_t", "df": 3.0, "loc": 0.0, "scale": 1.0},
     _normal(0.0, 1.0), False),
    ("cauchy_student_t",
     {"family": "cauchy", "loc": 0.0, "scale": 1.0},
     {"family": "student_t", "df": 2.0, "loc": 1.0, "scale": 1.0}, False),
    ("gamma_gamma",
     {"family": "gamma", "concentration": 2.0, "rate": 1.0},
     {"family": "gamma", "concentration": 3.0, "rate": 2.0}, False),
    ("gamma_singular",
     {"family": "gamma", "concentration": 0.5, "rate": 1.0},
     {"family": "gamma", "concentration": 1.5, "rate": 1.0}, False),
    ("beta_beta",
     {"family": "beta", "concentration1": 2.0, "concentration0": 5.0},
     {"family": "beta", "concentration1": 5.0, "concentration0": 2.0}, False),
    ("beta_singular",
     {"family": "beta", "concentration1": 0.5, "concentration0": 0.5},
     {"family": "beta", "concentration1": 2.0, "concentration0": 2.0}, False),
    ("uniform_overlap",
     {"family": "uniform", "low": 0.0, "high": 1.0},
     {"family": "uniform", "low": 0.25, "high": 1.25}, False),
    ("uniform_disjoint",
     {"family": "uniform", "low": 0.0, "high": 1.0},
     {"family": "uniform", "low": 2.0, "high": 3.0}, False),
    ("uniform_normal",
     {"family": "uniform", "low": 0.0, "high": 1.0}, _normal(0.5, 0.25),
     False),
    ("bimodal_normal",
     _mixture([0.5, 0.5], [_normal(-2.0, 0.5), _normal(2.0, 0.5)]),
     _normal(0.0, 2.0), False),
    ("trimodal_shift",
     _mixture([0.25, 0.5, 0.25],
              [_normal(-3.0, 0.5), _normal(0.0, 0.5), _normal(3.0, 0.5)]),
     _mixture([0.25, 0.5, 0.25],
              [_normal(-2.5, 0.5), _normal(0.5, 0.5), _normal(3.5, 0.5)]),
     False),
    ("narrow_modes",
     _mixture([0.25, 0.75], [_normal(-1.0, 0.01), _normal(1.0, 0.05)]),
     _normal(0.0, 1.0), False),
    ("exponential_gamma",
     {"family": "exponential", "rate": 1.0},
     {"family": "gamma", "concentration": 2.0, "rate": 1.0}, False),
    ("far_mode", _normal(0.0, 1.0),
     _mixture([0.5, 0.5], [_normal(0.0, 1.0), _normal(40.0, 1.0)]), False),
)

#: Asymptotic form of a log-density at an infinite end of its support:
#: ``log p(x) = -quad * t**2 - lin * t + power * log(t) + O(1)`` as
#: ``t = |x| -> inf``.
Tail = namedtuple("Tail", "quad lin power")


def _decimal(value):
    """Decimal string with :data:`DIGITS` significant digits (zeros kept)."""
    return mp.nstr(value, DIGITS, strip_zeros=False, min_fixed=-3,
                   max_fixed=3)


def _param(value):
    """Convert a JSON parameter to ``mpf`` through its float64 value."""
    return mp.mpf(float(value))


def _exp(log_value):
    """``exp`` that maps ``-inf`` to an exact zero."""
    return mp.zero if log_value == mp.ninf else mp.exp(log_value)


def _logsumexp(logs):
    """Return ``log(sum(exp(logs)))`` without overflow; ``-inf`` allowed."""
    finite = [v for v in logs if v != mp.ninf]
    if not finite:
        return mp.ninf
    top = max(finite)
    return top + mp.log(mp.fsum(mp.exp(v - top) for v in finite))


def _log_difference(la, lb):
    """``la - lb`` for log-values, with a sign-only answer at ``-inf``."""
    if la == lb:
        return mp.zero
    if la == mp.ninf:
        return mp.mpf(-1)
    if lb == mp.ninf:
        return mp.one
    return la - lb


def _spread_points(loc, scale):
    """Location plus ``loc +- k * scale`` for ``k`` in :data:`SPREAD`."""
    points = [loc]
    for k in SPREAD:
        points += [loc - k * scale, loc + k * scale]
    return points


class Density:
    """A 1-D probability density known in closed form.

    Subclasses set the support ``lower``/``upper`` (``mpf``, possibly
    infinite) and implement the methods below.  ``side`` is ``-1`` for the
    lower and ``+1`` for the upper end of the support.
    """

    lower = mp.ninf
    upper = mp.inf

    def end(self, side):
        """Support end on ``side`` (``-1`` lower, ``+1`` upper)."""
        return self.lower if side < 0 else self.upper

    def in_support(self, x):
        """Whether ``x`` lies in the closed support."""
        return self.lower <= x <= self.upper

    def logpdf(self, x):
        """Natural log of the density at ``x`` (``-inf`` outside)."""
        raise NotImplementedError

    def cdf(self, x):
        """Cumulative distribution function at ``x``."""
        raise NotImplementedError

    def sf(self, x):
        """Survival function ``1 - cdf(x)``, computed without cancellation."""
        raise NotImplementedError

    def points(self):
        """Breakpoints: non-smooth points, modes and spreads around them."""
        raise NotImplementedError

    def tail(self, side):
        """:class:`Tail` at the infinite support end on ``side``."""
        raise NotImplementedError

    def edge_exponent(self, side):
        """Exponent ``a`` with ``p(x) ~ C |x - e|**a`` at a finite end ``e``."""
        raise NotImplementedError

    def gaussians(self):
        """``(loc, scale)`` of the Gaussian parts (for chi-square peaks)."""
        return []


class Normal(Density):
    """Normal density with mean ``loc`` and standard deviation ``scale``."""

    def __init__(self, loc, scale):
        self.loc, self.scale = _param(loc), _param(scale)
        self._log_norm = mp.log(self.scale) + mp.log(2 * mp.pi) / 2

    def logpdf(self, x):
        z = (x - self.loc) / self.scale
        return -z * z / 2 - self._log_norm

    def cdf(self, x):
        return mp.ncdf((x - self.loc) / self.scale)

    def sf(self, x):
        return mp.ncdf((self.loc - x) / self.scale)

    def points(self):
        return _spread_points(self.loc, self.scale)

    def tail(self, side):
        return Tail(1 / (2 * self.scale**2), -side * self.loc / self.scale**2,
                    mp.zero)

    def gaussians(self):
        return [(self.loc, self.scale)]


class Laplace(Density):
    """Laplace density ``exp(-|x - loc| / scale) / (2 scale)``."""

    def __init__(self, loc, scale):
        self.loc, self.scale = _param(loc), _param(scale)
        self._log_norm = mp.log(2 * self.scale)

    def logpdf(self, x):
        return -abs(x - self.loc) / self.scale - self._log_norm

    def cdf(self, x):
        if x <= self.loc:
            return mp.exp((x - self.loc) / self.scale) / 2
        return 1 - self.sf(x)

    def sf(self, x):
        if x >= self.loc:
            return mp.exp((self.loc - x) / self.scale) / 2
        return 1 - self.cdf(x)

    def points(self):
        return _spread_points(self.loc, self.scale)

    def tail(self, side):
        return Tail(mp.zero, 1 / self.scale, mp.zero)


class StudentT(Density):
    """Student-t density with ``df`` degrees of freedom, ``loc``, ``scale``."""

    def __init__(self, df, loc, scale):
        self.df = _param(df)
        self.loc, self.scale = _param(loc), _param(scale)
        nu = self.df
        self._log_norm = (mp.loggamma(nu / 2) - mp.loggamma((nu + 1) / 2)
                          + mp.log(nu * mp.pi) / 2 + mp.log(self.scale))

    def logpdf(self, x):
        z = (x - self.loc) / self.scale
        return -(self.df + 1) / 2 * mp.log1p(z * z / self.df) - self._log_norm

    def _upper_tail(self, z):
        """``P(T > z)`` for ``z >= 0`` via the regularized beta function."""
        nu = self.df
        return mp.betainc(nu / 2, mp.mpf(1) / 2, 0, nu / (nu + z * z),
                          regularized=True) / 2

    def cdf(self, x):
        z = (x - self.loc) / self.scale
        return self._upper_tail(-z) if z <= 0 else 1 - self._upper_tail(z)

    def sf(self, x):
        z = (x - self.loc) / self.scale
        return self._upper_tail(z) if z >= 0 else 1 - self._upper_tail(-z)

    def points(self):
        return _spread_points(self.loc, self.scale)

    def tail(self, side):
        return Tail(mp.zero, mp.zero, -(self.df + 1))


class Cauchy(Density):
    """Cauchy density with location ``loc`` and scale ``scale``."""

    def __init__(self, loc, scale):
        self.loc, self.scale = _param(loc), _param(scale)
        self._log_norm = mp.log(mp.pi * self.scale)

    def logpdf(self, x):
        z = (x - self.loc) / self.scale
        return -mp.log1p(z * z) - self._log_norm

    def _upper_tail(self, z):
        """``P(X > z)`` in standard units, accurate for large ``z``."""
        if z > 0:
            return mp.atan(1 / z) / mp.pi
        return mp.mpf(1) / 2 - mp.atan(z) / mp.pi

    def cdf(self, x):
        return self._upper_tail((self.loc - x) / self.scale)

    def sf(self, x):
        return self._upper_tail((x - self.loc) / self.scale)

    def points(self):
        return _spread_points(self.loc, self.scale)

    def tail(self, side):
        return Tail(mp.zero, mp.zero, mp.mpf(-2))


class Gamma(Density):
    """Gamma density ``r^k x^(k-1) exp(-r x) / Gamma(k)`` on ``x > 0``."""

    def __init__(self, concentration, rate):
        self.k, self.rate = _param(concentration), _param(rate)
        self.lower = mp.zero
        self._log_norm = mp.loggamma(self.k) - self.k * mp.log(self.rate)

    def logpdf(self, x):
        if x <= 0:
            return mp.ninf
        return (self.k - 1) * mp.log(x) - self.rate * x - self._log_norm

    def cdf(self, x):
        if x <= 0:
            return mp.zero
        return mp.gammainc(self.k, 0, self.rate * x, regularized=True)

    def sf(self, x):
        if x <= 0:
            return mp.one
        return mp.gammainc(self.k, self.rate * x, mp.inf, regularized=True)

    def points(self):
        mean = self.k / self.rate
        pts = [mp.zero, mean]
        if self.k > 1:
            pts.append((self.k - 1) / self.rate)
        sd = mp.sqrt(self.k) / self.rate
        pts += [p for p in _spread_points(mean, sd) if p > 0]
        pts += [mp.ldexp(1, j) / self.rate for j in range(-4, 6)]
        return pts

    def tail(self, side):
        return Tail(mp.zero, self.rate, self.k - 1)

    def edge_exponent(self, side):
        return self.k - 1


class Exponential(Gamma):
    """Exponential density ``r exp(-r x)`` on ``x > 0``."""

    def __init__(self, rate):
        super().__init__(1.0, rate)


class Beta(Density):
    """Beta density ``x^(a-1) (1-x)^(b-1) / B(a, b)`` on ``(0, 1)``."""

    def __init__(self, concentration1, concentration0):
        self.a, self.b = _param(concentration1), _param(concentration0)
        self.lower, self.upper = mp.zero, mp.one
        self._log_norm = (mp.loggamma(self.a) + mp.loggamma(self.b)
                          - mp.loggamma(self.a + self.b))

    def logpdf(self, x):
        if not 0 < x < 1:
            return mp.ninf
        # 1 - x exactly: near x = 1 the nodes are 1 - t^2 with tiny t.
        return ((self.a - 1) * mp.log(x)
                + (self.b - 1) * mp.log(mp.fsub(1, x, exact=True))
                - self._log_norm)

    def cdf(self, x):
        if x <= 0:
            return mp.zero
        if x >= 1:
            return mp.one
        return mp.betainc(self.a, self.b, 0, x, regularized=True)

    def sf(self, x):
        if x <= 0:
            return mp.one
        if x >= 1:
            return mp.zero
        return mp.betainc(self.b, self.a, 0, mp.fsub(1, x, exact=True),
                          regularized=True)

    def points(self):
        a, b = self.a, self.b
        mean = a / (a + b)
        sd = mp.sqrt(a * b / ((a + b)**2 * (a + b + 1)))
        pts = [mp.zero, mp.one, mean]
        if a > 1 and b > 1:
            pts.append((a - 1) / (a + b - 2))
        pts += [p for p in _spread_points(mean, sd) if 0 < p < 1]
        return pts

    def edge_exponent(self, side):
        return self.a - 1 if side < 0 else self.b - 1


class Uniform(Density):
    """Uniform density on ``[low, high]``."""

    def __init__(self, low, high):
        self.lower, self.upper = _param(low), _param(high)
        self._log_norm = mp.log(self.upper - self.lower)

    def logpdf(self, x):
        if not self.lower <= x <= self.upper:
            return mp.ninf
        return -self._log_norm

    def cdf(self, x):
        if x <= self.lower:
            return mp.zero
        if x >= self.upper:
            return mp.one
        return (x - self.lower) / (self.upper - self.lower)

    def sf(self, x):
        if x <= self.lower:
            return mp.one
        if x >= self.upper:
            return mp.zero
        return (self.upper - x) / (self.upper - self.lower)

    def points(self):
        return [self.lower, self.upper, (self.lower + self.upper) / 2]

    def edge_exponent(self, side):
        return mp.zero


class Mixture(Density):
    """Finite mixture ``sum_i w_i p_i``."""

    def __init__(self, weights, components):
        if len(weights) != len(components):
            raise ValueError("mixture: weights and components differ in length")
        raw = [_param(w) for w in weights]
        # Normalise exactly, as torch's Categorical does: the float64 values
        # of e.g. 0.500001 and 0.499999 sum to 1 + 5.6e-17.
        self.weights = [w / mp.fsum(raw) for w in raw]
        self.components = [make_density(c) for c in components]
        self._log_weights = [mp.log(w) for w in self.weights]
        self.lower = min(c.lower for c in self.components)
        self.upper = max(c.upper for c in self.components)

    def logpdf(self, x):
        return _logsumexp([lw + c.logpdf(x) for lw, c
                           in zip(self._log_weights, self.components)])

    def cdf(self, x):
        return mp.fsum(w * c.cdf(x) for w, c in zip(self.weights,
                                                     self.components))

    def sf(self, x):
        return mp.fsum(w * c.sf(x) for w, c in zip(self.weights,
                                                    self.components))

    def points(self):
        return [p for c in self.components for p in c.points()]

    def tail(self, side):
        tails = [c.tail(side) for c in self.components
                 if mp.isinf(c.end(side))]
        return max(tails, key=lambda t: (-t.quad, -t.lin, t.power))

    def edge_exponent(self, side):
        edge = self.end(side)
        exponents = []
        for c in self.components:
            if c.end(side) == edge:
                exponents.append(c.edge_exponent(side))
            elif c.lower < edge < c.upper:
                exponents.append(mp.zero)
        return min(exponents)

    def gaussians(self):
        return [g for c in self.components for g in c.gaussians()]

    def switch_functions(self):
        """Functions whose roots are where the dominant component changes.

        ``log(w_i p_i) - log(w_j p_j)`` for every pair ``i < j``; near its
        roots ``log p`` bends sharply when the components' scales differ.
        """
        funcs = []
        terms = list(zip(self._log_weights, self.components))
        for i, (lw_i, c_i) in enumerate(terms):
            for lw_j, c_j in terms[i + 1:]:
                funcs.append(lambda x, a=lw_i, ca=c_i, b=lw_j, cb=c_j:
                             _log_difference(a + ca.logpdf(x),
                                             b + cb.logpdf(x)))
        return funcs


def make_density(spec):
    """Build a :class:`Density` from a JSON specification.

    Parameters
    ----------
    spec : dict
        ``{"family": name, ...parameters}`` as documented in the README.

    Returns
    -------
    Density
    """
    family = spec["family"]
    if family == "normal":
        return Normal(spec["loc"], spec["scale"])
    if family == "laplace":
        return Laplace(spec["loc"], spec["scale"])
    if family == "student_t":
        return StudentT(spec["df"], spec["loc"], spec["scale"])
    if family == "cauchy":
        return Cauchy(spec["loc"], spec["scale"])
    if family == "gamma":
        return Gamma(spec["concentration"], spec["rate"])
    if family == "exponential":
        return Exponential(spec["rate"])
    if family == "beta":
        return Beta(spec["concentration1"], spec["concentration0"])
    if family == "uniform":
        return Uniform(spec["low"], spec["high"])
    if family == "mixture":
        return Mixture(spec["weights"], spec["components"])
    raise ValueError(f"unknown family {family!r}")


# ---------------------------------------------------------------------------
# Analytic detection of infinite values
# ---------------------------------------------------------------------------

def _contains(outer, inner):
    """Whether the support of ``inner`` lies inside that of ``outer``."""
    return outer.lower <= inner.lower and inner.upper <= outer.upper


def _decays(quad, lin, power, limit):
    """Whether ``t**power * exp(-quad t**2 - lin t)`` beats ``t**limit``."""
    if quad != 0:
        return quad > 0
    if lin != 0:
        return lin > 0
    return power < limit


def _side_name(side):
    return "-inf" if side < 0 else "+inf"


def _kl_infinite(p, q, label, names):
    """Reason why ``KL(p||q)`` is infinite, or ``None`` if it is finite.

    ``names`` are the names of ``p`` and ``q`` used in the reason.
    """
    if not _contains(q, p):
        return f"{label}: {names[0]} has mass where {names[1]} = 0"
    for side in (-1, 1):
        if not mp.isinf(p.end(side)):
            # p ~ s^a with a > -1 and |log p - log q| = O(log s): finite.
            continue
        tp, tq = p.tail(side), q.tail(side)
        if tp.quad > 0 or tp.lin > 0:
            continue
        # p is a power law; |log p - log q| grows like t^growth (or log t).
        growth = 2 if tq.quad > 0 else 1 if tq.lin > 0 else 0
        if tp.power + growth >= -1:
            return (f"{label}: {names[0]} ~ |x|^{mp.nstr(tp.power, 6)} while "
                    f"|log {names[1]}| ~ |x|^{growth} at {_side_name(side)}")
    return None


def _chi_infinite(num, den, label, names):
    """Reason why ``int num**2 / den`` diverges, or ``None`` if finite.

    ``names`` are the names of ``num`` and ``den`` used in the reason.
    """
    ratio = f"{names[0]}^2/{names[1]}"
    if not _contains(den, num):
        return f"{label}: {names[0]} has mass where {names[1]} = 0"
    for side in (-1, 1):
        edge = num.end(side)
        if mp.isinf(edge):
            tn, td = num.tail(side), den.tail(side)
            quad = 2 * tn.quad - td.quad
            lin = 2 * tn.lin - td.lin
            power = 2 * tn.power - td.power
            if not _decays(quad, lin, power, -1):
                return (f"{label}: {ratio} does not decay at "
                        f"{_side_name(side)} (log ~ {mp.nstr(-quad, 6)} t^2 "
                        f"+ {mp.nstr(-lin, 6)} t + {mp.nstr(power, 6)} log t)")
        else:
            a_num = num.edge_exponent(side)
            a_den = den.edge_exponent(side) if den.end(side) == edge else 0
            if 2 * a_num - a_den <= -1:
                return (f"{label}: {ratio} ~ s^{mp.nstr(2 * a_num - a_den, 6)}"
                        f" at the support end {mp.nstr(edge, 6)}")
    return None


def _first_moment(density, side):
    """Whether ``E[|X|; X on side]`` is finite."""
    if not mp.isinf(density.end(side)):
        return True
    t = density.tail(side)
    return _decays(t.quad, t.lin, t.power, -2)


def _w1_infinite(p, q):
    """Reason why ``W1(p, q)`` is infinite, or ``None`` if finite."""
    for side in (-1, 1):
        mp_, mq = _first_moment(p, side), _first_moment(q, side)
        if mp_ and mq:
            continue
        if mp_ != mq:
            which = "p" if not mp_ else "q"
            return (f"w1: {which} has no first moment at {_side_name(side)}, "
                    "the other has one, so |F_p - F_q| ~ tail of the heavier "
                    "density, which is not integrable")
        raise NotImplementedError("W1 between two densities that both lack "
                                  "a first moment on the same side")
    return None


def analytic_infinities(p, q):
    """Decide analytically which quantities are infinite.

    Parameters
    ----------
    p, q : Density

    Returns
    -------
    dict
        Maps each infinite quantity name to a human-readable reason.
        JSD, the criterion, Hellinger, total variation, Jensen-Shannon and
        GAN f-divergences are bounded and never appear.
    """
    reasons = {
        "kl_pq": _kl_infinite(p, q, "kl_pq", ("p", "q")),
        "kl_qp": _kl_infinite(q, p, "kl_qp", ("q", "p")),
        "pearson": _chi_infinite(p, q, "pearson", ("p", "q")),
        "neyman": _chi_infinite(q, p, "neyman", ("q", "p")),
        "w1": _w1_infinite(p, q),
    }
    return {k: v for k, v in reasons.items() if v is not None}


# ---------------------------------------------------------------------------
# Integrands
# ---------------------------------------------------------------------------

def _integrand_table():
    """Integrands of the density-based quantities as functions of logs.

    Each function takes ``(lp, lq)``, the log-densities at a point (``-inf``
    where a density vanishes), and returns the integrand there, using the
    conventions of the module docstring.
    """
    log2 = mp.log(2)

    def split(lp, lq):
        return _exp(lp), _exp(lq)

    def mass_p(lp, lq):
        return _exp(lp)

    def mass_q(lp, lq):
        return _exp(lq)

    def jsd(lp, lq):
        # (KL(p||m) + KL(q||m)) / 2 with m = (p + q) / 2.
        if lp == lq:
            return mp.zero
        p, q = split(lp, lq)
        lm = _logsumexp([lp, lq]) - log2
        total = mp.zero
        if p:
            total += p * (lp - lm)
        if q:
            total += q * (lq - lm)
        return total / 2

    def criterion(lp, lq):
        # p log(p / (p + q)) + q log(q / (p + q)).
        p, q = split(lp, lq)
        ls = _logsumexp([lp, lq])
        total = mp.zero
        if p:
            total += p * (lp - ls)
        if q:
            total += q * (lq - ls)
        return total

    def kl_pq(lp, lq):
        return _exp(lp) * (lp - lq) if lp != mp.ninf else mp.zero

    def kl_qp(lp, lq):
        return _exp(lq) * (lq - lp) if lq != mp.ninf else mp.zero

    def pearson(lp, lq):
        p, q = split(lp, lq)
        if not q:
            if p:
                raise ArithmeticError("pearson integrand infinite")
            return mp.zero
        return (p - q)**2 / q

    def neyman(lp, lq):
        p, q = split(lp, lq)
        if not p:
            if q:
                raise ArithmeticError("neyman integrand infinite")
            return mp.zero
        return (p - q)**2 / p

    def hellinger(lp, lq):
        return (_exp(lp / 2) - _exp(lq / 2))**2

    def total_variation(lp, lq):
        p, q = split(lp, lq)
        return abs(p - q) / 2

    def jensen_shannon(lp, lq):
        # q f(p/q), f(u) = u log u - (u + 1) log((u + 1) / 2);
        # f(u)/u -> log 2 as u -> inf and f(0) = log 2.
        p, q = split(lp, lq)
        if not q:
            return p * log2
        if not p:
            return q * log2
        if lp == lq:
            return mp.zero
        log_u = lp - lq
        u = mp.exp(log_u)
        return q * (u * log_u - (u + 1) * (mp.log1p(u) - log2))

    def gan(lp, lq):
        # q f(p/q), f(u) = u log u - (u + 1) log(u + 1); both limits are 0.
        p, q = split(lp, lq)
        if not p or not q:
            return mp.zero
        log_u = lp - lq
        u = mp.exp(log_u)
        return q * (u * log_u - (u + 1) * mp.log1p(u))

    return {
        "mass_p": mass_p, "mass_q": mass_q, "jsd": jsd,
        "criterion": criterion, "kl_pq": kl_pq, "kl_qp": kl_qp,
        "pearson": pearson, "neyman": neyman, "hellinger": hellinger,
        "total_variation": total_variation, "jensen_shannon": jensen_shannon,
        "gan": gan,
    }


def _cdf_difference(p, q, x):
    """``F_p(x) - F_q(x)`` using survival functions in the upper tail."""
    fp, fq = p.cdf(x), q.cdf(x)
    if fp <= 0.5 and fq <= 0.5:
        return fp - fq
    return q.sf(x) - p.sf(x)


# ---------------------------------------------------------------------------
# Breakpoints
# ---------------------------------------------------------------------------

def _dedupe(points):
    """Sort and drop points closer than a relative 1e-25 to the previous."""
    out = []
    for x in sorted(points):
        if not out or x - out[-1] > mp.mpf("1e-25") * max(1, abs(x)):
            out.append(x)
    return out


def _chi_peak_points(num, den, existing):
    """Points around peaks of ``num**2 / den`` for Gaussian parts.

    For Gaussian parts ``N(m1, s1) N(m2, s2) / N(m0, s0)`` is a Gaussian with
    precision ``1/s1^2 + 1/s2^2 - 1/s0^2``; its centre can lie far from every
    mode (e.g. at 80 for ``N(40, 1)^2 / N(0, 1)``).  Returns the spread
    around such centres that are more than one width from ``existing``.
    """
    extra = []
    parts_num, parts_den = num.gaussians(), den.gaussians()
    for i, (m1, s1) in enumerate(parts_num):
        for m2, s2 in parts_num[i:]:
            for m0, s0 in parts_den:
                prec = 1 / s1**2 + 1 / s2**2 - 1 / s0**2
                if prec <= 0:
                    continue
                centre = (m1 / s1**2 + m2 / s2**2 - m0 / s0**2) / prec
                width = 1 / mp.sqrt(prec)
                if min(abs(centre - e) for e in existing) > width:
                    extra += _spread_points(centre, width)
    return extra


def _bisect(func, a, b):
    """Root of ``func`` in ``[a, b]`` (sign change) to working precision."""
    fa = func(a)
    for _ in range(mp.prec + 20):
        mid = (a + b) / 2
        if mid in (a, b):
            break
        fm = func(mid)
        if fm == 0:
            return mid
        if (fm > 0) == (fa > 0):
            a, fa = mid, fm
        else:
            b = mid
    return (a + b) / 2


def _sign_change_points(func, points, lo, hi):
    """Roots of ``func`` found by scanning a grid refined from ``points``.

    The grid subdivides each gap between consecutive finite ``points`` into
    32 and extends geometrically into infinite tails; every strict sign
    change is refined by bisection.
    """
    finite = [x for x in points if not mp.isinf(x)]
    grid = []
    for a, b in zip(finite[:-1], finite[1:]):
        grid += [a + (b - a) * j / 32 for j in range(32)]
    grid.append(finite[-1])
    span = max(finite[-1] - finite[0], 1)
    if mp.isinf(lo):
        grid = [finite[0] - span * 2**k for k in range(12, -1, -1)] + grid
    if mp.isinf(hi):
        grid += [finite[-1] + span * 2**k for k in range(13)]
    roots = []
    prev_x, prev_s, zeros = None, 0, []
    for x in grid:
        v = func(x)
        s = (v > 0) - (v < 0)
        if s == 0:
            zeros.append(x)
            continue
        if prev_s != 0 and s != prev_s:
            # A single grid point hitting the root exactly is the root; a
            # longer run of zeros is an interval of equality whose ends are
            # breakpoints already.
            if not zeros:
                roots.append(_bisect(func, prev_x, x))
            elif len(zeros) == 1:
                roots.append(zeros[0])
        prev_x, prev_s, zeros = x, s, []
    return roots


def breakpoints(p, q, refine=False):
    """Breakpoints for integrating over the union of the supports.

    Parameters
    ----------
    p, q : Density
    refine : bool
        If true, add the midpoint of every finite interval and start the
        infinite tails further out (used for the error estimate).

    Returns
    -------
    list of mpf
        Sorted points, beginning and ending with the ends of the union of
        the supports (possibly infinite).
    """
    lo, hi = min(p.lower, q.lower), max(p.upper, q.upper)
    pts = [x for x in p.points() + q.points() if lo <= x <= hi]
    pts += [x for x in (p.lower, p.upper, q.lower, q.upper)
            if not mp.isinf(x)]
    pts = _dedupe(pts)
    pts += _chi_peak_points(p, q, pts) + _chi_peak_points(q, p, pts)
    pts = _dedupe([x for x in pts if lo <= x <= hi])

    crossings = _sign_change_points(
        lambda x: _log_difference(p.logpdf(x), q.logpdf(x)), pts, lo, hi)
    for density in (p, q):
        if isinstance(density, Mixture):
            for func in density.switch_functions():
                crossings += _sign_change_points(func, pts, lo, hi)
    pts += crossings
    pts += _sign_change_points(lambda x: _cdf_difference(p, q, x), pts, lo,
                               hi)
    pts = _dedupe(pts)
    if refine:
        pts += [(a + b) / 2 for a, b in zip(pts[:-1], pts[1:])]
        width = max(pts[-1] - pts[0], 1)
        if mp.isinf(lo):
            pts.append(pts[0] - width / 3)
        if mp.isinf(hi):
            pts.append(pts[-1] + width / 3)
        pts = _dedupe(pts)
    inner = [x for x in pts if lo < x < hi]
    return [lo] + inner + [hi]


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def _singular_ends(p, q):
    """Which finite ends of the union of supports carry a singular density.

    Returns
    -------
    tuple of bool
        ``(lower, upper)``: whether some density behaves like ``s**a`` with
        ``a < 0`` at that end.
    """
    flags = []
    for side in (-1, 1):
        edge = min(p.lower, q.lower) if side < 0 else max(p.upper, q.upper)
        flags.append(not mp.isinf(edge) and any(
            d.end(side) == edge and d.edge_exponent(side) < 0
            for d in (p, q)))
    return tuple(flags)


def _quad(func, pts, singular):
    """``mp.quad`` over ``pts`` with ``x = end +- t^2`` at singular ends.

    Parameters
    ----------
    func : callable
        Integrand in ``x``.
    pts : list of mpf
        Breakpoints, beginning and ending with the domain ends.
    singular : tuple of bool
        Whether the first / last interval ends at an integrable
        singularity.  There the substitution ``x = lo + t^2`` (``x = hi -
        t^2``, computed exactly) turns ``s**a`` into ``t**(2a+1)``, so that
        no mass is lost between the endpoint and the first node.

    Returns
    -------
    value, error : mpf
    """
    value = error = mp.zero
    first, last = 0, len(pts) - 1
    if singular[0]:
        lo = pts[0]
        v, e = mp.quad(lambda t: func(lo + t * t) * 2 * t,
                       [0, mp.sqrt(pts[1] - lo)], error=True)
        value, error, first = value + v, error + e, 1
    if singular[1]:
        hi = pts[-1]
        v, e = mp.quad(lambda t: func(mp.fsub(hi, t * t, exact=True)) * 2 * t,
                       [0, mp.sqrt(hi - pts[-2])], error=True)
        value, error, last = value + v, error + e, last - 1
    if last > first:
        v, e = mp.quad(func, pts[first:last + 1], error=True)
        value, error = value + v, error + e
    return value, error


def compute_values(p_spec, q_spec, dps, refine):
    """Compute all finite quantities of one case at one precision.

    Parameters
    ----------
    p_spec, q_spec : dict
        JSON specifications of the two densities.
    dps : int
        Decimal working precision.
    refine : bool
        Use the refined breakpoint set (see :func:`breakpoints`).

    Returns
    -------
    values : dict
        Quantity name to ``mpf`` value, or the string ``"inf"``.
    quad_errors : dict
        Quantity name to mpmath's own error estimate.
    reasons : dict
        Quantity name to the reason it is infinite.
    """
    with mp.workdps(dps):
        p, q = make_density(p_spec), make_density(q_spec)
        reasons = analytic_infinities(p, q)
        pts = breakpoints(p, q, refine)
        cache = {}

        def logs(x):
            if x not in cache:
                cache[x] = (p.logpdf(x), q.logpdf(x))
            return cache[x]

        singular = _singular_ends(p, q)
        values, quad_errors = {}, {}
        for name, integrand in _integrand_table().items():
            if name in reasons:
                values[name] = "inf"
                continue
            values[name], quad_errors[name] = _quad(
                lambda x, f=integrand: f(*logs(x)), pts, singular)
        if "w1" in reasons:
            values["w1"] = "inf"
        else:
            values["w1"], quad_errors["w1"] = _quad(
                lambda x: abs(_cdf_difference(p, q, x)), pts, singular)
        return values, quad_errors, reasons


def reference_case(case_id, p_spec, q_spec, tiny, dps=DPS):
    """Compute the reference entry (values, errors, notes) of one case.

    Parameters
    ----------
    case_id : str
    p_spec, q_spec : dict
    tiny : bool
        Whether the case requires :data:`TINY_TOLERANCE`.
    dps : int
        Working precision of the main computation.

    Returns
    -------
    dict
        The JSON entry of the case.
    """
    base, base_err, reasons = compute_values(p_spec, q_spec, dps, False)
    alt, alt_err, _ = compute_values(p_spec, q_spec, dps + EXTRA_DPS, True)
    tolerance = TINY_TOLERANCE if tiny else TOLERANCE
    values, errors, notes = {}, {}, list(reasons.values())
    with mp.workdps(dps):
        for name in QUANTITIES:
            if base[name] == "inf":
                values[name], errors[name] = "inf", "0.0"
                continue
            err = max(abs(base[name] - alt[name]), base_err[name],
                      alt_err[name])
            values[name] = _decimal(base[name])
            errors[name] = mp.nstr(err, 3)
            if err > tolerance * max(1, abs(base[name])):
                notes.append(f"WARNING: {name} error {mp.nstr(err, 3)} "
                             f"exceeds {tolerance}")
            if abs(base[name]) > mp.mpf("1.7976931348623157e308"):
                notes.append(f"{name} is finite but exceeds the float64 "
                             "range")
    return {"id": case_id, "p": p_spec, "q": q_spec, "tiny": tiny,
            "values": values, "errors": errors, "notes": "; ".join(notes)}


def main(argv=None):
    """Command-line entry point: compute all cases and write the JSON."""
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here,
                                                      "references_1d.json"),
                        help="output JSON file (default: next to this script)")
    parser.add_argument("--cases", nargs="*", default=None,
                        help="only compute these case ids")
    parser.add_argument("--dps", type=int, default=DPS,
                        help="working precision in decimal digits")
    args = parser.parse_args(argv)

    entries = []
    start = time.time()
    for case_id, p_spec, q_spec, tiny in CASES:
        if args.cases and case_id not in args.cases:
            continue
        t0 = time.time()
        entry = reference_case(case_id, p_spec, q_spec, tiny, args.dps)
        entries.append(entry)
        print(f"{case_id:22s} jsd={entry['values']['jsd'][:24]:24s} "
              f"({time.time() - t0:6.1f} s) {entry['notes']}", flush=True)
    doc = {
        "generator": "make_references_1d.py",
        "mpmath_dps": args.dps,
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
