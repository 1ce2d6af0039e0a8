#!/usr/bin/env python
"""Independent sanity checks of ``references_1d.json``.

Three kinds of checks, none of which reuses code from
``make_references_1d.py``:

1. Closed forms evaluated with ``mpmath`` (Gaussian KL, Hellinger and
   chi-square integrals, equal-scale Gaussian JSD as a 1-D integral over the
   log-likelihood ratio, Laplace/Gamma/Beta/Student-t/Cauchy KL, uniform
   cases, location-scale W1, ...).
   For the ``tiny`` cases the JSD is also recomputed at dps 50 with
   Gauss-Legendre quadrature and separately written density formulas.
2. Identities between the stored quantities (``jensen_shannon = 2 jsd``,
   ``gan = criterion = 2 jsd - log 4``, symmetries of shifted pairs).
3. ``scipy.integrate.quad`` in double precision for every finite value, and
   W1 through quantile functions where scipy provides them.

Run ``python check_references_1d.py [--json FILE]``; prints one line per
check with the absolute difference and exits non-zero if a closed form or
identity disagrees by more than 1e-25 (relative for large values) or a
double-precision result by more than 1e-11.
"""

import argparse
import json
import math
import os
import sys
import warnings

import numpy as np
from mpmath import mp
from scipy import integrate, optimize, special, stats

#: Tolerance for closed forms and identities (relative above 1).
CLOSED_TOL = 1e-25

#: Tolerance for double-precision quadrature (relative above 1).
DOUBLE_TOL = 1e-11


# ---------------------------------------------------------------------------
# Closed forms (mpmath)
# ---------------------------------------------------------------------------

def _f(value):
    """mpf of the float64 value of a JSON number."""
    return mp.mpf(float(value))


def _norm(spec):
    return _f(spec["loc"]), _f(spec["scale"])


def gauss_kl(m1, s1, m2, s2):
    """KL(N(m1, s1^2) || N(m2, s2^2))."""
    return mp.log(s2 / s1) + (s1**2 + (m1 - m2)**2) / (2 * s2**2) - mp.mpf(1) / 2


def gauss_hellinger(m1, s1, m2, s2):
    """int (sqrt p - sqrt q)^2 = 2 - 2 BC for two Gaussians."""
    bc = (mp.sqrt(2 * s1 * s2 / (s1**2 + s2**2))
          * mp.exp(-(m1 - m2)**2 / (4 * (s1**2 + s2**2))))
    return 2 - 2 * bc


def gauss_square_ratio(num, den):
    """int (sum_i w_i N_i)^2 / N_den for Gaussian mixture ``num``.

    ``num`` is a list of ``(w, m, s)``, ``den`` a pair ``(m0, s0)``.  Each
    term ``N_i N_j / N_den`` is ``exp(-A x^2 + B x + C)`` and integrates to
    ``sqrt(pi / A) exp(B^2 / (4A) + C)``.
    """
    m0, s0 = den
    total = mp.zero
    for wi, mi, si in num:
        for wj, mj, sj in num:
            a = 1 / (2 * si**2) + 1 / (2 * sj**2) - 1 / (2 * s0**2)
            if a <= 0:
                return mp.inf
            b = mi / si**2 + mj / sj**2 - m0 / s0**2
            c = (-mi**2 / (2 * si**2) - mj**2 / (2 * sj**2) + m0**2 / (2 * s0**2)
                 - mp.log(si * sj / s0) - mp.log(2 * mp.pi) / 2)
            total += wi * wj * mp.sqrt(mp.pi / a) * mp.exp(b**2 / (4 * a) + c)
    return total


def gauss_tv(m1, s1, m2, s2):
    """Total variation between two Gaussians from the crossing points."""
    a = -1 / (2 * s1**2) + 1 / (2 * s2**2)
    b = m1 / s1**2 - m2 / s2**2
    c = -m1**2 / (2 * s1**2) + m2**2 / (2 * s2**2) - mp.log(s1 / s2)
    if a == 0:
        roots = [-c / b]
    else:
        disc = b**2 - 4 * a * c
        roots = sorted([(-b - mp.sqrt(disc)) / (2 * a),
                        (-b + mp.sqrt(disc)) / (2 * a)])
    edges = [mp.ninf] + roots + [mp.inf]
    total = mp.zero
    for lo, hi in zip(edges[:-1], edges[1:]):
        mid = (lo + hi) / 2 if not (mp.isinf(lo) or mp.isinf(hi)) else (
            hi - 1 if mp.isinf(lo) else lo + 1)
        if a * mid**2 + b * mid + c > 0:
            pm = mp.ncdf((hi - m1) / s1) - mp.ncdf((lo - m1) / s1)
            qm = mp.ncdf((hi - m2) / s2) - mp.ncdf((lo - m2) / s2)
            total += pm - qm
    return total


def gauss_w1(m1, s1, m2, s2):
    """W1 between Gaussians: E|dm + ds Z| under the quantile coupling."""
    dm, ds = m2 - m1, abs(s2 - s1)
    if ds == 0:
        return abs(dm)
    return (ds * mp.sqrt(2 / mp.pi) * mp.exp(-dm**2 / (2 * ds**2))
            + dm * (1 - 2 * mp.ncdf(-dm / ds)))


def equal_scale_gauss_jsd(m1, m2, s):
    """JSD of N(m1, s^2), N(m2, s^2) as a 1-D integral over the LLR.

    With ``d = |m1 - m2| / s`` the log-likelihood ratio is ``Y ~ N(-d^2/2,
    d^2)`` under either density, and ``JSD = d^2/4 - E log cosh(Y/2)``.
    """
    d = abs(m1 - m2) / s
    if d == 0:
        return mp.zero
    mean = -d**2 / 2

    def integrand(z):
        y = mean + d * z
        return mp.npdf(z) * mp.log(mp.cosh(y / 2))

    return d**2 / 4 - mp.quad(integrand, [-mp.inf, -8, -2, 0, 2, 8, mp.inf])


def laplace_kl(m1, b1, m2, b2):
    """KL(Laplace(m1, b1) || Laplace(m2, b2))."""
    d = abs(m1 - m2)
    return mp.log(b2 / b1) + d / b2 + b1 / b2 * mp.exp(-d / b1) - 1


def student_t_entropy(nu):
    """Differential entropy of the standard Student t."""
    return ((nu + 1) / 2 * (mp.digamma((nu + 1) / 2) - mp.digamma(nu / 2))
            + mp.log(mp.sqrt(nu) * mp.beta(nu / 2, mp.mpf(1) / 2)))


def gamma_kl(k1, r1, k2, r2):
    """KL(Gamma(k1, r1) || Gamma(k2, r2)) (shape, rate)."""
    return ((k1 - k2) * mp.digamma(k1) - mp.loggamma(k1) + mp.loggamma(k2)
            + k2 * (mp.log(r1) - mp.log(r2)) + k1 * (r2 - r1) / r1)


def gamma_bc(k1, r1, k2, r2):
    """Bhattacharyya coefficient int sqrt(p q) of two Gamma densities."""
    k, r = (k1 + k2) / 2, (r1 + r2) / 2
    return (mp.gamma(k) * r1**(k1 / 2) * r2**(k2 / 2)
            / (mp.sqrt(mp.gamma(k1) * mp.gamma(k2)) * r**k))


def gamma_square_ratio(k1, r1, k2, r2):
    """int q^2 / p for p = Gamma(k1, r1), q = Gamma(k2, r2)."""
    k, r = 2 * k2 - k1, 2 * r2 - r1
    return (r2**(2 * k2) * mp.gamma(k1) * mp.gamma(k)
            / (mp.gamma(k2)**2 * r1**k1 * r**k))


def beta_kl(a1, b1, a2, b2):
    """KL(Beta(a1, b1) || Beta(a2, b2))."""
    return (mp.log(mp.beta(a2, b2)) - mp.log(mp.beta(a1, b1))
            + (a1 - a2) * mp.digamma(a1) + (b1 - b2) * mp.digamma(b1)
            + (a2 - a1 + b2 - b1) * mp.digamma(a1 + b1))


def beta_bc(a1, b1, a2, b2):
    """Bhattacharyya coefficient of two Beta densities."""
    return (mp.beta((a1 + a2) / 2, (b1 + b2) / 2)
            / mp.sqrt(mp.beta(a1, b1) * mp.beta(a2, b2)))


def beta_square_ratio(a1, b1, a2, b2):
    """int q^2 / p for p = Beta(a1, b1), q = Beta(a2, b2)."""
    return (mp.beta(2 * a2 - a1, 2 * b2 - b1) * mp.beta(a1, b1)
            / mp.beta(a2, b2)**2)


def _gauss_parts(spec):
    """``[(w, m, s)]`` of a normal or a mixture of normals."""
    if spec["family"] == "normal":
        return [(mp.one,) + _norm(spec)]
    raw = [_f(w) for w in spec["weights"]]
    return [(w / mp.fsum(raw),) + _norm(c)
            for w, c in zip(raw, spec["components"])]


def closed_forms(case):
    """Closed-form values for the quantities of ``case`` where known.

    Returns
    -------
    dict
        Quantity name to ``mpf``.
    """
    cid, p, q = case["id"], case["p"], case["q"]
    out = {}
    log2, log4 = mp.log(2), mp.log(4)
    if p["family"] == q["family"] == "normal":
        m1, s1 = _norm(p)
        m2, s2 = _norm(q)
        out["kl_pq"] = gauss_kl(m1, s1, m2, s2)
        out["kl_qp"] = gauss_kl(m2, s2, m1, s1)
        out["hellinger"] = gauss_hellinger(m1, s1, m2, s2)
        out["w1"] = gauss_w1(m1, s1, m2, s2)
        if (m1, s1) != (m2, s2):
            out["total_variation"] = gauss_tv(m1, s1, m2, s2)
        for name, num, den in (("pearson", p, q), ("neyman", q, p)):
            val = gauss_square_ratio(_gauss_parts(num), _norm(den))
            if not mp.isinf(val):
                out[name] = val - 1
        if s1 == s2:
            out["jsd"] = equal_scale_gauss_jsd(m1, m2, s1)
    if cid in ("bimodal_normal", "narrow_modes"):
        out["pearson"] = gauss_square_ratio(_gauss_parts(p), _norm(q)) - 1
    if cid == "far_mode":
        out["neyman"] = gauss_square_ratio(_gauss_parts(q), _norm(p)) - 1
    if cid == "trimodal_shift":
        out["w1"] = mp.mpf("0.5")
    if cid == "laplace_laplace":
        m1, b1 = _norm(p)
        m2, b2 = _norm(q)
        out["kl_pq"] = laplace_kl(m1, b1, m2, b2)
        out["kl_qp"] = laplace_kl(m2, b2, m1, b1)
        # Quantile coupling: E|dm + db L| = |dm| + db exp(-|dm|/db).
        dm, db = m2 - m1, b2 - b1
        out["w1"] = abs(dm) + db * mp.exp(-abs(dm) / db)
    if cid == "laplace_normal":
        out["kl_pq"] = mp.log(2 * mp.pi) / 2 - log2
        out["kl_qp"] = -mp.log(2 * mp.pi * mp.e) / 2 + log2 + mp.sqrt(2 / mp.pi)
        bc = (2 / mp.sqrt(2) * (2 * mp.pi)**mp.mpf(-0.25) * mp.exp(0.25)
              * mp.sqrt(mp.pi) * mp.erfc(0.5))
        out["hellinger"] = 2 - 2 * bc
    if cid == "student_t_normal":
        nu = _f(p["df"])
        out["kl_pq"] = (-student_t_entropy(nu) + mp.log(2 * mp.pi) / 2
                        + nu / (nu - 2) / 2)
    if cid == "cauchy_student_t":
        # E_C log((X-1)^2 + 2) = log|i - (1 - i sqrt 2)|^2 (Poisson kernel).
        e_log = mp.log(1 + (1 + mp.sqrt(2))**2)
        c2 = mp.gamma(1.5) / mp.sqrt(2 * mp.pi)
        out["kl_pq"] = -mp.log(4 * mp.pi) - mp.log(c2) + 1.5 * (e_log - log2)
    if p["family"] in ("gamma", "exponential") and q["family"] == "gamma":
        k1 = _f(p.get("concentration", 1.0))
        r1 = _f(p["rate"])
        k2, r2 = _f(q["concentration"]), _f(q["rate"])
        out["kl_pq"] = gamma_kl(k1, r1, k2, r2)
        out["kl_qp"] = gamma_kl(k2, r2, k1, r1)
        out["hellinger"] = 2 - 2 * gamma_bc(k1, r1, k2, r2)
        out["neyman"] = gamma_square_ratio(k1, r1, k2, r2) - 1
    if cid == "gamma_singular":
        out["w1"] = mp.one  # F_p >= F_q everywhere: W1 = mean difference
    if cid == "exponential_gamma":
        out["kl_pq"] = mp.euler
        out["kl_qp"] = 1 - mp.euler
        out["hellinger"] = 2 - mp.sqrt(mp.pi)
        out["total_variation"] = mp.exp(-1)
        out["w1"] = mp.one
        out["neyman"] = mp.one
    if p["family"] == q["family"] == "beta":
        a1, b1 = _f(p["concentration1"]), _f(p["concentration0"])
        a2, b2 = _f(q["concentration1"]), _f(q["concentration0"])
        out["kl_pq"] = beta_kl(a1, b1, a2, b2)
        out["kl_qp"] = beta_kl(a2, b2, a1, b1)
        out["hellinger"] = 2 - 2 * beta_bc(a1, b1, a2, b2)
        if 2 * a2 - a1 > 0 and 2 * b2 - b1 > 0:
            out["neyman"] = beta_square_ratio(a1, b1, a2, b2) - 1
        if cid == "beta_beta":
            out["w1"] = abs(a1 / (a1 + b1) - a2 / (a2 + b2))  # dominance
    if cid == "uniform_overlap":
        a = mp.mpf("0.25")
        out.update(jsd=a * log2, hellinger=2 * a, total_variation=a, w1=a,
                   jensen_shannon=2 * a * log2)
    if cid == "uniform_disjoint":
        out.update(jsd=log2, criterion=mp.zero, hellinger=mp.mpf(2),
                   total_variation=mp.one, w1=mp.mpf(2),
                   jensen_shannon=2 * log2, gan=mp.zero)
    if cid == "uniform_normal":
        m, s = _norm(q)
        out["kl_pq"] = mp.log(s * mp.sqrt(2 * mp.pi)) + mp.one / 12 / (2 * s**2)
        c = mp.mpf(0.5) / (s * mp.sqrt(2))
        out["pearson"] = 2 * mp.pi * s**2 * mp.erfi(c) - 1
        root_q = ((2 * mp.pi * s**2)**mp.mpf(-0.25) * 2 * s * mp.sqrt(mp.pi)
                  * mp.erf(mp.mpf(0.5) / (2 * s)))
        out["hellinger"] = 2 - 2 * root_q
        # q > 1 on |x - m| < d; TV = P - Q over [0,1] minus that band.
        d = s * mp.sqrt(2 * mp.log(1 / (s * mp.sqrt(2 * mp.pi))))
        q_band = mp.ncdf(d / s) - mp.ncdf(-d / s)
        q_unit = mp.ncdf(0.5 / s) - mp.ncdf(-0.5 / s)
        out["total_variation"] = (1 - 2 * d) - (q_unit - q_band)
    if cid == "normal_identical":
        out.update(jsd=mp.zero, criterion=-log4, jensen_shannon=mp.zero,
                   gan=-log4, total_variation=mp.zero)
    if "jsd" in out:
        out.setdefault("criterion", 2 * out["jsd"] - log4)
    return out


def gauss_legendre_jsd(case):
    """JSD of a pair of normals / normal mixtures by Gauss-Legendre at dps 50.

    An independent high-precision evaluation for the tiny cases: own
    density formulas (``mp.npdf``), Gauss-Legendre instead of tanh-sinh,
    uniform breakpoints every 1/4 on ``[-40, 40]`` (the Gaussian mass
    outside is below 1e-300).
    """
    def parts(spec):
        if spec["family"] == "normal":
            return [(mp.one, _f(spec["loc"]), _f(spec["scale"]))]
        raw = [_f(w) for w in spec["weights"]]
        return [(w / mp.fsum(raw), _f(c["loc"]), _f(c["scale"]))
                for w, c in zip(raw, spec["components"])]

    with mp.workdps(50):
        pp, qq = parts(case["p"]), parts(case["q"])

        def integrand(x):
            p = mp.fsum(w * mp.npdf(x, m, s) for w, m, s in pp)
            q = mp.fsum(w * mp.npdf(x, m, s) for w, m, s in qq)
            m_ = (p + q) / 2
            return (p * mp.log(p / m_) + q * mp.log(q / m_)) / 2

        pts = [mp.mpf(j) / 4 for j in range(-160, 161)]
        return mp.quad(integrand, pts, method="gauss-legendre")


def identities(values):
    """Pairs ``(label, lhs, rhs)`` that must agree for every case."""
    log4 = mp.log(4)
    v = values
    checks = [
        ("jensen_shannon = 2 jsd", v["jensen_shannon"], 2 * v["jsd"]),
        ("gan = criterion", v["gan"], v["criterion"]),
        ("criterion = 2 jsd - log 4", v["criterion"], 2 * v["jsd"] - log4),
        ("mass_p = 1", v["mass_p"], mp.one),
        ("mass_q = 1", v["mass_q"], mp.one),
    ]
    return checks


# ---------------------------------------------------------------------------
# Double precision with scipy
# ---------------------------------------------------------------------------

class ScipyDensity:
    """float64 density from a JSON spec, built on ``scipy.stats``."""

    def __init__(self, spec):
        fam = spec["family"]
        self.parts = None
        self.laplace = ((spec["loc"], spec["scale"]) if fam == "laplace"
                        else None)
        if fam == "mixture":
            w = np.array(spec["weights"], dtype=float)
            self.parts = [(wi / w.sum(), ScipyDensity(c))
                          for wi, c in zip(w, spec["components"])]
            self.dist = None
            lows = [c.support[0] for _, c in self.parts]
            highs = [c.support[1] for _, c in self.parts]
            self.support = (min(lows), max(highs))
            self.locs = [x for _, c in self.parts for x in c.locs]
            return
        if fam == "normal":
            self.dist = stats.norm(spec["loc"], spec["scale"])
            self.locs = [(spec["loc"], spec["scale"])]
        elif fam == "laplace":
            self.dist = stats.laplace(spec["loc"], spec["scale"])
            self.locs = [(spec["loc"], spec["scale"])]
        elif fam == "student_t":
            self.dist = stats.t(spec["df"], spec["loc"], spec["scale"])
            self.locs = [(spec["loc"], spec["scale"])]
        elif fam == "cauchy":
            self.dist = stats.cauchy(spec["loc"], spec["scale"])
            self.locs = [(spec["loc"], spec["scale"])]
        elif fam == "gamma":
            self.dist = stats.gamma(spec["concentration"],
                                    scale=1 / spec["rate"])
            self.locs = [(spec["concentration"] / spec["rate"],
                          math.sqrt(spec["concentration"]) / spec["rate"])]
        elif fam == "exponential":
            self.dist = stats.expon(scale=1 / spec["rate"])
            self.locs = [(1 / spec["rate"], 1 / spec["rate"])]
        elif fam == "beta":
            self.dist = stats.beta(spec["concentration1"],
                                   spec["concentration0"])
            self.locs = [(0.5, 0.1)]
        elif fam == "uniform":
            self.dist = stats.uniform(spec["low"], spec["high"] - spec["low"])
            self.locs = [(spec["low"], 0.0), (spec["high"], 0.0)]
        else:
            raise ValueError(fam)
        self.support = tuple(float(x) for x in self.dist.support())

    def logpdf(self, x):
        if self.laplace is not None:
            # scipy's Laplace logpdf is log(pdf), -inf beyond |x| ~ 745.
            loc, scale = self.laplace
            return -abs(x - loc) / scale - math.log(2 * scale)
        if self.parts is None:
            return float(self.dist.logpdf(x))
        return float(special.logsumexp([math.log(w) + c.logpdf(x)
                                        for w, c in self.parts]))

    def cdf(self, x):
        if self.parts is None:
            return float(self.dist.cdf(x))
        return sum(w * c.cdf(x) for w, c in self.parts)

    def sf(self, x):
        if self.parts is None:
            return float(self.dist.sf(x))
        return sum(w * c.sf(x) for w, c in self.parts)


def _double_integrands():
    """float64 integrands of the density quantities as functions of logs."""
    ln2 = math.log(2)

    def xlogy_terms(lp, lq, lref):
        p, q = math.exp(lp), math.exp(lq)
        out = 0.0
        if p > 0:
            out += p * (lp - lref)
        if q > 0:
            out += q * (lq - lref)
        return out

    def lse(lp, lq):
        return float(np.logaddexp(lp, lq))

    return {
        "mass_p": lambda lp, lq: math.exp(lp),
        "mass_q": lambda lp, lq: math.exp(lq),
        "jsd": lambda lp, lq: 0.5 * xlogy_terms(lp, lq, lse(lp, lq) - ln2),
        "criterion": lambda lp, lq: xlogy_terms(lp, lq, lse(lp, lq)),
        "kl_pq": lambda lp, lq: (math.exp(lp) * (lp - lq)
                                 if math.exp(lp) > 0 else 0.0),
        "kl_qp": lambda lp, lq: (math.exp(lq) * (lq - lp)
                                 if math.exp(lq) > 0 else 0.0),
        "pearson": lambda lp, lq: (math.exp(2 * lp - lq) - 2 * math.exp(lp)
                                   + math.exp(lq) if lq > -np.inf else 0.0),
        "neyman": lambda lp, lq: (math.exp(2 * lq - lp) - 2 * math.exp(lq)
                                  + math.exp(lp) if lp > -np.inf else 0.0),
        "hellinger": lambda lp, lq: (math.exp(lp / 2) - math.exp(lq / 2))**2,
        "total_variation": lambda lp, lq: abs(math.exp(lp) - math.exp(lq)) / 2,
        "jensen_shannon": lambda lp, lq: xlogy_terms(lp, lq,
                                                     lse(lp, lq) - ln2),
        "gan": lambda lp, lq: xlogy_terms(lp, lq, lse(lp, lq)),
    }


def _double_breakpoints(p, q):
    """Breakpoints for scipy: spreads, support ends and crossings."""
    lo = min(p.support[0], q.support[0])
    hi = max(p.support[1], q.support[1])
    pts = set()
    for loc, scale in p.locs + q.locs:
        for k in (0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32):
            for x in (loc - k * scale, loc + k * scale):
                if lo <= x <= hi:
                    pts.add(float(x))
    pts.update(x for x in (p.support + q.support) if np.isfinite(x))
    pts = sorted(pts)
    fine = np.concatenate([np.linspace(a, b, 64, endpoint=False)
                           for a, b in zip(pts[:-1], pts[1:])] + [[pts[-1]]])
    funcs = [lambda x: p.logpdf(x) - q.logpdf(x),
             lambda x: p.cdf(x) - q.cdf(x)]
    for d in (p, q):
        if d.parts:
            for i, (wi, ci) in enumerate(d.parts):
                for wj, cj in d.parts[i + 1:]:
                    funcs.append(lambda x, a=wi, ca=ci, b=wj, cb=cj:
                                 math.log(a) + ca.logpdf(x)
                                 - math.log(b) - cb.logpdf(x))
    extra = []
    with np.errstate(invalid="ignore"):
        for func in funcs:
            vals = np.array([func(x) for x in fine])
            for i in range(len(fine) - 1):
                a, b = vals[i], vals[i + 1]
                if np.isfinite(a) and np.isfinite(b) and a * b < 0:
                    extra.append(optimize.brentq(func, fine[i], fine[i + 1],
                                                 xtol=1e-15))
    return lo, hi, sorted(set(pts) | set(extra))


def double_values(case, names):
    """Quantities of ``case`` by ``scipy.integrate.quad`` in float64."""
    p, q = ScipyDensity(case["p"]), ScipyDensity(case["q"])
    lo, hi, pts = _double_breakpoints(p, q)
    edges = ([lo] if np.isinf(lo) else []) + pts + ([hi] if np.isinf(hi)
                                                     else [])
    table = _double_integrands()

    sing_lo, sing_hi = _singular_ends(case["p"]), _singular_ends(case["q"])
    sing_lo, sing_hi = sing_lo[0] or sing_hi[0], sing_lo[1] or sing_hi[1]
    if sing_hi:
        # Integrate the last interval as the first one of the pair
        # reflected about the upper end (Beta(a, b) -> Beta(b, a)).
        rp, rq = (ScipyDensity(_reflect_beta(s)) for s in (case["p"],
                                                            case["q"]))
    out = {}
    for name in names:
        total = 0.0
        for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
            first, last = i == 0, i == len(edges) - 2
            if (first and sing_lo) or (last and sing_hi):
                # x = a + t^2 (or x = b - t^2 via the reflected pair).
                dp, dq = (p, q) if first and sing_lo else (rp, rq)
                func = _point_integrand(name, dp, dq, table)
                val, _ = integrate.quad(
                    lambda t, f=func: 2 * t * f(t * t), 0, math.sqrt(b - a),
                    epsabs=1e-15, epsrel=1e-14, limit=500)
            else:
                func = _point_integrand(name, p, q, table)
                val, _ = integrate.quad(func, a, b, epsabs=1e-15,
                                        epsrel=1e-14, limit=500)
            total += val
        out[name] = total
    return out


def _point_integrand(name, p, q, table):
    """float64 integrand of quantity ``name`` as a function of ``x``."""
    if name == "w1":
        def func(x):
            fp, fq = p.cdf(x), q.cdf(x)
            if fp <= 0.5 and fq <= 0.5:
                return abs(fp - fq)
            return abs(q.sf(x) - p.sf(x))
        return func
    f = table[name]
    return lambda x: f(p.logpdf(x), q.logpdf(x))


def _singular_ends(spec):
    """Whether the density of ``spec`` is unbounded at its lower/upper end."""
    fam = spec["family"]
    if fam == "gamma":
        return spec["concentration"] < 1, False
    if fam == "beta":
        return spec["concentration1"] < 1, spec["concentration0"] < 1
    return False, False


def _reflect_beta(spec):
    """Spec of ``1 - X`` for a Beta ``X``."""
    if spec["family"] != "beta":
        raise NotImplementedError("reflection only for Beta densities")
    return {"family": "beta", "concentration1": spec["concentration0"],
            "concentration0": spec["concentration1"]}


def quantile_w1(case):
    """W1 as int_0^1 |F_p^-1(u) - F_q^-1(u)| du (non-mixtures only)."""
    if "mixture" in (case["p"]["family"], case["q"]["family"]):
        return None
    p, q = ScipyDensity(case["p"]).dist, ScipyDensity(case["q"]).dist

    def func(u):
        return abs(p.ppf(u) - q.ppf(u))

    pts = [1e-12, 1e-8, 1e-4, 0.01, 0.1, 0.5, 0.9, 0.99, 1 - 1e-4, 1 - 1e-8]
    total = integrate.quad(func, 0, 1, points=pts, limit=500, epsabs=1e-14,
                           epsrel=1e-13)[0]
    return total


# ---------------------------------------------------------------------------

def _scaled_diff(ref, other):
    return abs(ref - other) / max(1, abs(ref))


def main(argv=None):
    """Run all checks and print a report."""
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=os.path.join(here,
                                                       "references_1d.json"))
    parser.add_argument("--no-scipy", action="store_true",
                        help="skip the double-precision quadrature")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", integrate.IntegrationWarning)
    with open(args.json) as fh:
        doc = json.load(fh)
    mp.dps = doc["mpmath_dps"]
    failures = 0
    worst_double = 0.0
    for case in doc["cases"]:
        vals = {k: (mp.inf if v == "inf" else mp.mpf(v))
                for k, v in case["values"].items()}
        print(f"== {case['id']}")
        for name, ref in sorted(closed_forms(case).items()):
            diff = _scaled_diff(vals[name], ref) if not mp.isinf(
                vals[name]) else mp.inf
            bad = diff > CLOSED_TOL
            failures += bad
            print(f"   closed   {name:16s} diff {mp.nstr(diff, 3):>9s}"
                  f"{'  FAIL' if bad else ''}")
        if case.get("tiny"):
            diff = abs(vals["jsd"] - gauss_legendre_jsd(case))
            bad = diff > 1e-30
            failures += bad
            print(f"   gl-dps50 jsd              diff {mp.nstr(diff, 3):>9s}"
                  f"{'  FAIL' if bad else ''}")
        for label, lhs, rhs in identities(vals):
            diff = _scaled_diff(lhs, rhs)
            bad = diff > CLOSED_TOL
            failures += bad
            print(f"   identity {label:26s} diff {mp.nstr(diff, 3):>9s}"
                  f"{'  FAIL' if bad else ''}")
        if args.no_scipy:
            continue
        names = [k for k, v in vals.items()
                 if not mp.isinf(v) and abs(v) < 1e300]
        dbl = double_values(case, names)
        for name in names:
            diff = float(_scaled_diff(vals[name], mp.mpf(dbl[name])))
            worst_double = max(worst_double, diff)
            bad = diff > DOUBLE_TOL
            failures += bad
            print(f"   scipy    {name:16s} diff {diff:9.2e}"
                  f"{'  FAIL' if bad else ''}")
        if not mp.isinf(vals["w1"]):
            qw = quantile_w1(case)
            if qw is not None:
                diff = float(_scaled_diff(vals["w1"], mp.mpf(qw)))
                bad = diff > 1e-9
                failures += bad
                print(f"   quantile w1               diff {diff:9.2e}"
                      f"{'  FAIL' if bad else ''}")
    print(f"worst scipy difference {worst_double:.2e}; failures: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
