"""mpmath references for the hostile-range property test (tests/test_hostile_property.py).

Every quantity is computed from the exact float64 parameters that the torch distributions
hold, in mpmath at ``DPS = 40`` digits, independently of gan_theory:

* closed forms evaluated in mpmath where they exist (KL of Normal, Laplace, Cauchy, Uniform,
  Gamma and Beta pairs; Pearson/Neyman chi^2 of Normal and Uniform pairs; W1 of Normal pairs);
* otherwise ``mpmath.quad`` (tanh-sinh) over intervals split at every density's mode, at
  multiples of its scale, at its support ends and (for |p - q| and |F_p - F_q|) at the points
  where the two cross, found by bracketing and bisection in mpmath.

Large locations with tiny scales (1e20 with 1e-12 needs ~32 digits just to write ``x``) are
handled by integrating in relative coordinates ``x = c + S t``: ``c`` is a float location of
the pair and ``S`` its largest scale; each density is evaluated through
``z = ((c - loc) + S t) / scale``, where ``c - loc`` is exact in mpmath arithmetic.

Infinite truths are decided by rule, not by integration: ``KL(p || q) = inf`` when ``p`` has
mass where ``q`` vanishes or when ``E_p[-log q]`` diverges (``p`` of tail ``|x|^-(nu+1)`` with
``nu <= 2`` against Gaussian tails of ``q``, ``nu <= 1`` against exponential ones);
chi^2 Pearson of Normals is infinite when ``2 s_q^2 <= s_p^2``.

Functions return ``mpmath.mpf`` (``mpmath.inf`` for an infinite truth). Each quadrature checks
its own error estimate and raises :class:`ReferenceAccuracyError` when it is not far below any
tolerance the package could be asked for (so a bad reference is never mistaken for a
package bug).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath as mp
import torch
import torch.distributions as td

DPS = 40
F64 = torch.float64
LOCATION_FAMILIES = ("normal", "laplace", "cauchy", "studentt")
_REF_RTOL = mp.mpf("1e-22")
_REF_FLOOR = mp.mpf("1e-40")  # times _REF_RTOL: an absolute floor of 1e-62
_MAXDEGREE = 6
_GL_DEGREE = 4


class ReferenceAccuracyError(RuntimeError):
    """The mpmath reference could not certify its own accuracy (a bug in the reference)."""


@dataclass(frozen=True)
class Dist:
    """A 1-D distribution given by exact float parameters.

    ``family`` and ``params``:

    * ``normal``, ``laplace``, ``cauchy``: ``(loc, scale)``;
    * ``studentt``: ``(df, loc, scale)``;
    * ``uniform``: ``(low, high)``;
    * ``gamma``: ``(concentration, rate)``;
    * ``beta``: ``(a, b)``;
    * ``mixture``: ``(w0, w1)`` with ``components`` two ``Dist`` of one location family.
    """

    family: str
    params: tuple
    components: tuple = ()

    # --- torch -----------------------------------------------------------------------------
    def torch(self) -> td.Distribution:
        return to_torch([self])

    def loc_scale(self) -> list[tuple[float, float]]:
        """(location, scale) of each component: where the mass is."""
        f, pr = self.family, self.params
        if f in ("normal", "laplace", "cauchy"):
            return [(pr[0], pr[1])]
        if f == "studentt":
            return [(pr[1], pr[2])]
        if f == "uniform":
            return [((pr[0] + pr[1]) / 2, pr[1] - pr[0])]
        if f == "gamma":
            return [(pr[0] / pr[1], max(pr[0], 1.0) ** 0.5 / pr[1])]
        if f == "beta":
            return [(0.5, 0.5)]
        return [ls for c in self.components for ls in c.loc_scale()]

    def tail_df(self) -> float:
        """Tail index nu (density ~ |x|^-(nu+1)); inf for lighter tails."""
        if self.family == "cauchy":
            return 1.0
        if self.family == "studentt":
            return self.params[0]
        if self.family == "mixture":
            return min(c.tail_df() for c in self.components)
        return mp.inf

    def log_growth(self) -> int:
        """How -log q grows in the tails where q > 0: 2 (x^2), 1 (|x|), 0 (log|x| or bounded)."""
        if self.family == "normal":
            return 2
        if self.family in ("laplace", "gamma"):
            return 1
        if self.family == "mixture":
            return min(c.log_growth() for c in self.components)
        return 0

    def support(self) -> tuple:
        if self.family == "uniform":
            return (mp.mpf(self.params[0]), mp.mpf(self.params[1]))
        if self.family == "gamma":
            return (mp.mpf(0), mp.inf)
        if self.family == "beta":
            return (mp.mpf(0), mp.mpf(1))
        return (-mp.inf, mp.inf)


def _dps(*dists: Dist) -> int:
    """Working digits: DPS plus the digits a point needs to resolve the smallest scale of the
    pair anywhere in its span (1e20 with 1e-12 needs 32 more)."""
    ls = [x for d in dists for x in d.loc_scale()]
    span = max([abs(loc) + s for loc, s in ls] + [1.0])
    smin = min(s for _, s in ls)
    return DPS + 5 + max(0, int(mp.ceil(mp.log10(mp.mpf(span) / mp.mpf(smin)))))


def to_torch(dists: list[Dist]) -> td.Distribution:
    """A float64 torch distribution: one element for one ``Dist``, a batch (B,) for several of
    one family (``batch_shape (B,)``)."""
    fam = dists[0].family
    if any(d.family != fam for d in dists):
        raise ValueError("a batch needs one family")
    single = len(dists) == 1

    def col(i):
        t = torch.tensor([d.params[i] for d in dists], dtype=F64)
        return t[0] if single else t

    if fam == "normal":
        return td.Normal(col(0), col(1))
    if fam == "laplace":
        return td.Laplace(col(0), col(1))
    if fam == "cauchy":
        return td.Cauchy(col(0), col(1))
    if fam == "studentt":
        return td.StudentT(col(0), col(1), col(2))
    if fam == "uniform":
        return td.Uniform(col(0), col(1))
    if fam == "gamma":
        return td.Gamma(col(0), col(1))
    if fam == "beta":
        return td.Beta(col(0), col(1))
    if fam == "mixture":
        cf = dists[0].components[0].family
        if any(c.family != cf for d in dists for c in d.components):
            raise ValueError("a batch of mixtures needs one component family")
        probs = torch.tensor([list(d.params) for d in dists], dtype=F64)
        locs = torch.tensor([[c.params[-2] for c in d.components] for d in dists], dtype=F64)
        scales = torch.tensor([[c.params[-1] for c in d.components] for d in dists], dtype=F64)
        if single:
            probs, locs, scales = probs[0], locs[0], scales[0]
        if cf == "normal":
            comp = td.Normal(locs, scales)
        elif cf == "laplace":
            comp = td.Laplace(locs, scales)
        elif cf == "cauchy":
            comp = td.Cauchy(locs, scales)
        else:
            raise ValueError(f"mixture components: {cf} not supported here")
        return td.MixtureSameFamily(td.Categorical(probs=probs), comp)
    raise ValueError(f"unknown family {fam}")


# --- densities and CDFs in relative coordinates ----------------------------------------------
class _Frame:
    """Coordinates ``x = c + S t`` for a pair; all evaluation happens in ``t``."""

    def __init__(self, dists: list[Dist]):
        ls = [x for d in dists for x in d.loc_scale()]
        locs = [d for d in dists if d.family in LOCATION_FAMILIES + ("mixture", "uniform")]
        # centre: a location of the pair (exact float); 0 for gamma/beta-only pairs
        if locs:
            self.c = mp.mpf(locs[0].loc_scale()[0][0]) if locs[0].family != "uniform" else mp.mpf(locs[0].params[0])
        else:
            self.c = mp.mpf(0)
        self.S = mp.mpf(max(s for _, s in ls))

    def t_of(self, x) -> mp.mpf:
        return (mp.mpf(x) - self.c) / self.S


class _Eval:
    """Log-density, CDF and SF of one ``Dist`` as functions of ``t`` in a frame."""

    def __init__(self, d: Dist, fr: _Frame):
        self.d, self.fr = d, fr
        f, pr = d.family, d.params
        S, c = fr.S, fr.c
        if f == "mixture":
            tot = mp.mpf(pr[0]) + mp.mpf(pr[1])
            self.w = [mp.mpf(pr[0]) / tot, mp.mpf(pr[1]) / tot]
            self.parts = [_Eval(comp, fr) for comp in d.components]
            return
        if f in LOCATION_FAMILIES:
            loc, scale = mp.mpf(pr[-2]), mp.mpf(pr[-1])
            self.off = (c - loc) / scale  # exact numerator in mpmath arithmetic
            self.k = S / scale
            self.log_scale = mp.log(scale)
            if f == "normal":
                self.const = -self.log_scale - mp.log(2 * mp.pi) / 2
            elif f == "laplace":
                self.const = -self.log_scale - mp.log(2)
            elif f == "cauchy":
                self.const = -self.log_scale - mp.log(mp.pi)
            else:
                nu = mp.mpf(pr[0])
                self.nu = nu
                self.const = (mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(nu * mp.pi) / 2
                              - self.log_scale)
        elif f == "uniform":
            self.lo, self.hi = fr.t_of(pr[0]), fr.t_of(pr[1])
            self.const = -mp.log(mp.mpf(pr[1]) - mp.mpf(pr[0]))
        elif f == "gamma":
            a, rate = mp.mpf(pr[0]), mp.mpf(pr[1])
            self.a, self.rate = a, rate
            self.const = a * mp.log(rate) - mp.loggamma(a)
        elif f == "beta":
            a, b = mp.mpf(pr[0]), mp.mpf(pr[1])
            self.a, self.b = a, b
            self.const = -(mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b))

    def x_of(self, t):
        return self.fr.c + self.fr.S * t

    def z(self, t):
        return self.off + self.k * t

    def logpdf(self, t):
        """log of the density in x at x = c + S t (``-inf`` off the support)."""
        f = self.d.family
        if f == "mixture":
            return mp.log(sum(w * mp.exp(p.logpdf(t)) for w, p in zip(self.w, self.parts)))
        if f == "normal":
            z = self.z(t)
            return self.const - z * z / 2
        if f == "laplace":
            return self.const - abs(self.z(t))
        if f == "cauchy":
            z = self.z(t)
            return self.const - mp.log1p(z * z)
        if f == "studentt":
            z = self.z(t)
            return self.const - (self.nu + 1) / 2 * mp.log1p(z * z / self.nu)
        if f == "uniform":
            return self.const if self.lo <= t <= self.hi else -mp.inf
        x = self.x_of(t)
        if f == "gamma":
            if x <= 0:
                return -mp.inf
            return self.const + (self.a - 1) * mp.log(x) - self.rate * x
        if x <= 0 or x >= 1:
            return -mp.inf
        return self.const + (self.a - 1) * mp.log(x) + (self.b - 1) * mp.log1p(-x)

    def pdf(self, t):
        return mp.exp(self.logpdf(t))

    def cdf(self, t, upper=False):
        """``F(x)`` (``upper=False``) or ``1 - F(x)`` (``upper=True``), each computed directly."""
        f = self.d.family
        if f == "mixture":
            return sum(w * p.cdf(t, upper) for w, p in zip(self.w, self.parts))
        if f in LOCATION_FAMILIES:
            z = self.z(t)
            if upper:
                z = -z
            if f == "normal":
                return mp.ncdf(z)
            if f == "laplace":
                return mp.exp(z) / 2 if z < 0 else 1 - mp.exp(-z) / 2
            if f == "cauchy":
                return mp.atan2(1, -z) / mp.pi
            if z == 0:
                return mp.mpf(1) / 2
            lower = mp.betainc(self.nu / 2, mp.mpf(1) / 2, 0, self.nu / (self.nu + z * z), regularized=True) / 2
            return lower if z < 0 else 1 - lower
        if f == "uniform":
            w = self.hi - self.lo
            frac = min(max((t - self.lo) / w, mp.mpf(0)), mp.mpf(1))
            return 1 - frac if upper else frac
        x = self.x_of(t)
        if f == "gamma":
            y = self.rate * max(x, mp.mpf(0))
            return mp.gammainc(self.a, y, mp.inf, regularized=True) if upper else \
                mp.gammainc(self.a, 0, y, regularized=True)
        x = min(max(x, mp.mpf(0)), mp.mpf(1))
        return mp.betainc(self.a, self.b, x, 1, regularized=True) if upper else \
            mp.betainc(self.a, self.b, 0, x, regularized=True)


def _breaks(d: Dist, fr: _Frame) -> list:
    """Points in t: modes, support ends, and multiples of each scale around each centre."""
    pts = []
    lo, hi = d.support()
    for end in (lo, hi):
        if mp.isfinite(end):
            pts.append(fr.t_of(end))
    if d.family == "mixture":
        for comp in d.components:
            pts += _breaks(comp, fr)
        return pts
    if d.family in LOCATION_FAMILIES:
        # beyond the last point the tail must be negligible (1e-31 of the mass) or the interval
        # that follows would have to find a narrow component's tail at its very end
        loc, scale = d.params[-2], d.params[-1]
        c = (mp.mpf(loc) - fr.c) / fr.S
        s = mp.mpf(scale) / fr.S
        if d.family == "normal":
            mults = [0, 1, 4, 12]  # e^-72
        elif d.family == "laplace":
            mults = [0, 1, 4, 12, 40, 72]  # e^-72
        else:  # algebraic tails: every decade out to 1e8 of the pair's largest scale
            top = int(mp.ceil(mp.log10(mp.mpf(10) ** 8 / s))) if s < 1 else 8
            mults = [0, 1, 4, 12, 40] + [mp.mpf(10) ** k for k in range(2, max(top, 2) + 1)]
        pts += [c + sgn * m * s for m in mults for sgn in (-1, 1)]
    elif d.family == "gamma":
        a, rate = mp.mpf(d.params[0]), mp.mpf(d.params[1])
        sd = mp.sqrt(a) / rate
        mean = a / rate
        pts += [fr.t_of(mean + m * sd) for m in (-3, -1, 0, 1, 4, 12, 40, 80) if mean + m * sd > 0]
        pts += [fr.t_of(v / rate) for v in (mp.mpf("1e-6"), mp.mpf("0.01"), 1)]
        # the exponential tail decays on the scale 1/rate, not sd: where the other density is
        # much wider, q log(q/p) follows p's tail out to where p falls below q, hundreds of
        # 1/rate beyond the mean (C(G) of Gamma(0.5, 1e10), Gamma(3, 1e-3) lost a third of its
        # -1.78e-33 inside an interval from 80 sd to 1e-3)
        pts += [fr.t_of(mean + v / rate) for v in (100, 200, 400, 800)]
    elif d.family == "beta":
        pts += [fr.t_of(v) for v in (mp.mpf("0.01"), mp.mpf("0.5"), mp.mpf("0.99"))]
    return pts


def _grid(dists: list[Dist], fr: _Frame, lo, hi) -> list:
    pts = {p for d in dists for p in _breaks(d, fr)}
    pts = sorted(p for p in pts if lo < p < hi)
    return [lo] + pts + [hi]


def _support_t(dists: list[Dist], fr: _Frame, union: bool):
    sup = [d.support() for d in dists]
    los = [fr.t_of(s[0]) if mp.isfinite(s[0]) else -mp.inf for s in sup]
    his = [fr.t_of(s[1]) if mp.isfinite(s[1]) else mp.inf for s in sup]
    return (min(los), max(his)) if union else (max(los), min(his))


def _crossings(g, grid: list) -> list:
    """Points where ``g`` changes sign, bracketed on a refinement of ``grid`` and bisected."""
    pts = []
    for a, b in zip(grid[:-1], grid[1:]):
        if not (mp.isfinite(a) and mp.isfinite(b)):
            continue
        sub = [a + (b - a) * mp.mpf(i) / 8 for i in range(9)]
        vals = [g(x) for x in sub]
        for (x0, v0), (x1, v1) in zip(zip(sub, vals), zip(sub[1:], vals[1:])):
            if v0 == 0:
                pts.append(x0)
            elif v0 * v1 < 0:
                lo, hi, vlo = x0, x1, v0
                for _ in range(200):
                    mid = (lo + hi) / 2
                    vm = g(mid)
                    if vm == 0 or mid in (lo, hi):
                        break
                    if (vm < 0) == (vlo < 0):
                        lo, vlo = mid, vm
                    else:
                        hi = mid
                pts.append((lo + hi) / 2)
    return pts


def _quad1(fn, a, b):
    """One interval: Gauss-Legendre first (few points on the smooth pieces that make most of
    the work), tanh-sinh where that does not converge (end singularities, infinite ends)."""
    if mp.isfinite(a) and mp.isfinite(b):
        v, e = mp.quad(fn, [a, b], error=True, method="gauss-legendre", maxdegree=_GL_DEGREE)
        if e <= _REF_RTOL * 1e-3 * (abs(v) + _REF_FLOOR):
            return v, e
    return mp.quad(fn, [a, b], error=True, maxdegree=_MAXDEGREE)


def _quad(fn, pts: list, scale=1):
    """``scale * integral of fn`` over consecutive ``pts``, with its own accuracy checked.

    An interval whose mpmath error estimate is not small is bisected (a feature the
    breakpoints missed), down to a fixed depth; then :class:`ReferenceAccuracyError`.
    """
    pts = sorted(set(pts))
    pieces = []
    for a, b in zip(pts[:-1], pts[1:]):
        v, e = _quad1(fn, a, b)
        pieces.append((a, b, v, e, 0))
    for _ in range(400):
        total = sum(p[2] for p in pieces)
        target = _REF_RTOL * (abs(total) + _REF_FLOOR)
        worst = max(range(len(pieces)), key=lambda i: pieces[i][3])
        a, b, v, e, depth = pieces[worst]
        if e <= target / len(pieces):
            break
        if depth >= 40:
            break
        if mp.isinf(b):
            m = a + 2 * (abs(a) + 1)
        elif mp.isinf(a):
            m = b - 2 * (abs(b) + 1)
        else:
            m = (a + b) / 2
        halves = []
        for lo, hi in ((a, m), (m, b)):
            hv, he = _quad1(fn, lo, hi)
            halves.append((lo, hi, hv, he, depth + 1))
        pieces[worst:worst + 1] = halves
    total = sum(p[2] for p in pieces)
    err = sum(p[3] for p in pieces)
    if not err <= _REF_RTOL * (abs(total) + _REF_FLOOR):
        raise ReferenceAccuracyError(f"mpmath quadrature error estimate {mp.nstr(err * scale, 3)} for value "
                             f"{mp.nstr(total * scale, 10)}")
    return total * scale


# --- the quantities ---------------------------------------------------------------------------
def _pair_integral(p: Dist, q: Dist, integrand):
    """integral over the union of the supports of ``integrand(log p, log q)``."""
    with mp.workdps(_dps(p, q)):
        fr = _Frame([p, q])
        ep, eq = _Eval(p, fr), _Eval(q, fr)
        lo, hi = _support_t([p, q], fr, True)
        grid = _grid([p, q], fr, lo, hi)

        def fn(t):
            return integrand(ep.logpdf(t), eq.logpdf(t))

        return _quad(fn, grid, fr.S)


def _g_jsd(u):
    """``g(u) = u tanh(u) - log cosh(u) >= 0`` (``= u^2/2 + O(u^4)``), with enough extra bits
    that the cancellation for small ``u`` costs nothing; exactly 0 at ``u = 0``."""
    if u == 0:
        return mp.mpf(0)
    u = abs(u)
    if u > 40:
        return u * (mp.tanh(u) - 1) + mp.log(2) - mp.log1p(mp.exp(-2 * u))
    extra = min(4000, max(0, int(-2 * mp.log(u, 2))) + 20)
    with mp.extraprec(extra):
        return +(u * mp.tanh(u) - mp.log(mp.cosh(u)))


def _jsd_terms(lp, lq):
    """JSD integrand ``m g((log p - log q) / 2)``, ``m = (p + q) / 2`` (equal to
    ``(p log(2p/(p+q)) + q log(2q/(p+q))) / 2``): non-negative, exactly 0 where ``p = q``."""
    if lp == -mp.inf and lq == -mp.inf:
        return mp.mpf(0)
    m = (mp.exp(lp) + mp.exp(lq)) / 2
    if lp == -mp.inf or lq == -mp.inf:
        return m * mp.log(2)
    return m * _g_jsd((lp - lq) / 2)


def _softplus(z):
    """``log(1 + e^z)`` without cancellation."""
    return mp.log1p(mp.exp(z)) if z < 0 else z + mp.log1p(mp.exp(-z))


def _criterion_terms(lp, lq):
    """``p log(p/(p+q)) + q log(q/(p+q)) = -p softplus(lq - lp) - q softplus(lp - lq)``:
    both terms <= 0, no cancellation."""
    out = mp.mpf(0)
    if lp != -mp.inf:
        out -= mp.exp(lp) * (_softplus(lq - lp) if lq != -mp.inf else 0)
    if lq != -mp.inf:
        out -= mp.exp(lq) * (_softplus(lp - lq) if lp != -mp.inf else 0)
    return out


def jsd(p: Dist, q: Dist, closed_form: bool = True):
    """JSD(p || q) in nats (uniform pairs: closed form)."""
    if closed_form and p.family == q.family == "uniform":
        return _jsd_uniform(p, q)
    return _pair_integral(p, q, _jsd_terms)


def jensen_shannon(p: Dist, q: Dist):
    """The f-GAN table's jensen_shannon generator: 2 JSD(p || q)."""
    v = jsd(p, q)
    with mp.workdps(DPS):
        return 2 * v


def _jsd_uniform(p: Dist, q: Dist):
    """Uniforms of lengths Lp, Lq overlapping on a length o: on the overlap the integrand is
    constant, elsewhere only one density lives (contributing its mass times log 2 / 2)."""
    with mp.workdps(_dps(p, q)):
        a1, b1 = mp.mpf(p.params[0]), mp.mpf(p.params[1])
        a2, b2 = mp.mpf(q.params[0]), mp.mpf(q.params[1])
        lp, lq = b1 - a1, b2 - a2
        o = max(mp.mpf(0), min(b1, b2) - max(a1, a2))
        u, v = 1 / lp, 1 / lq
        m = (u + v) / 2
        on = o * (u * mp.log(u / m) + v * mp.log(v / m)) / 2
        off = ((1 - o * u) + (1 - o * v)) * mp.log(2) / 2
        return on + off


def criterion(p: Dist, q: Dist):
    """C(G) = integral of p log(p/(p+q)) + q log(q/(p+q)) (both terms <= 0, no cancellation
    near C = 0); uniform pairs: -log 4 + 2 JSD in closed form (Goodfellow et al. 2014,
    Theorem 1)."""
    with mp.workdps(_dps(p, q)):
        if p.family == q.family == "uniform":
            return -mp.log(4) + 2 * _jsd_uniform(p, q)

    return _pair_integral(p, q, _criterion_terms)


def kl_is_infinite(p: Dist, q: Dist) -> bool:
    """Whether KL(p || q) = inf: mass of p where q vanishes, or E_p[-log q] divergent."""
    ps, qs = p.support(), q.support()
    if p.family == "mixture":
        return any(kl_is_infinite(c, q) for c in p.components)
    if ps[0] < qs[0] or ps[1] > qs[1]:
        return True
    growth, nu = q.log_growth(), p.tail_df()
    if not (mp.isinf(qs[0]) or mp.isinf(qs[1])):
        return False
    if growth == 2 and nu <= 2:
        return True
    if growth == 1 and nu <= 1:
        return True
    return False


def kl(p: Dist, q: Dist, closed_form: bool = True):
    """KL(p || q) in nats: closed forms for same-family pairs, quadrature otherwise (or always,
    with ``closed_form=False``)."""
    if kl_is_infinite(p, q):
        return mp.inf
    with mp.workdps(_dps(p, q)):
        closed = _kl_closed(p, q) if closed_form else None
        if closed is not None:
            return closed

        def integrand(lp, lq):
            if lp == -mp.inf:
                return mp.mpf(0)
            return mp.exp(lp) * (lp - lq)

        with mp.workdps(_dps(p, q)):
            fr = _Frame([p, q])
            ep, eq = _Eval(p, fr), _Eval(q, fr)
            lo, hi = _support_t([p], fr, True)
            grid = _grid([p, q], fr, lo, hi)
            return _quad(lambda t: integrand(ep.logpdf(t), eq.logpdf(t)), grid, fr.S)


def _kl_closed(p: Dist, q: Dist):
    if p.family != q.family:
        return None
    f = p.family
    P = [mp.mpf(v) for v in p.params] if f != "mixture" else None
    Q = [mp.mpf(v) for v in q.params] if f != "mixture" else None
    if f == "normal":
        r = P[1] / Q[1]
        return (r * r - 1 - 2 * mp.log(r) + ((P[0] - Q[0]) / Q[1]) ** 2) / 2
    if f == "laplace":
        d = abs(P[0] - Q[0])
        return mp.log(Q[1] / P[1]) + d / Q[1] + P[1] / Q[1] * mp.exp(-d / P[1]) - 1
    if f == "cauchy":
        return mp.log(((P[1] + Q[1]) ** 2 + (P[0] - Q[0]) ** 2) / (4 * P[1] * Q[1]))
    if f == "uniform":
        return mp.log((Q[1] - Q[0]) / (P[1] - P[0]))  # support inclusion checked by the caller
    if f == "gamma":
        ap, bp, aq, bq = P[0], P[1], Q[0], Q[1]
        return ((ap - aq) * mp.digamma(ap) - mp.loggamma(ap) + mp.loggamma(aq)
                + aq * (mp.log(bp) - mp.log(bq)) + ap * (bq - bp) / bp)
    if f == "beta":
        a1, b1, a2, b2 = P[0], P[1], Q[0], Q[1]

        def lbeta(a, b):
            return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)

        return (lbeta(a2, b2) - lbeta(a1, b1) + (a1 - a2) * mp.digamma(a1) + (b1 - b2) * mp.digamma(b1)
                + (a2 - a1 + b2 - b1) * mp.digamma(a1 + b1))
    return None


def hellinger(p: Dist, q: Dist, closed_form: bool = True):
    """integral of (sqrt p - sqrt q)^2 (Normal pairs: 2 - 2 BC, BC the Bhattacharyya
    coefficient sqrt(2 s_p s_q / (s_p^2 + s_q^2)) exp(-(m_p - m_q)^2 / (4 (s_p^2 + s_q^2))))."""
    if closed_form and p.family == q.family == "normal":
        with mp.workdps(_dps(p, q)):
            m1, s1 = (mp.mpf(v) for v in p.params)
            m2, s2 = (mp.mpf(v) for v in q.params)
            v = s1 * s1 + s2 * s2
            bc = mp.sqrt(2 * s1 * s2 / v) * mp.exp(-(m1 - m2) ** 2 / (4 * v))
            return 2 - 2 * bc

    def integrand(lp, lq):
        return (mp.exp(lp / 2) - mp.exp(lq / 2)) ** 2

    return _pair_integral(p, q, integrand)


def total_variation(p: Dist, q: Dist):
    """sup_A |P(A) - Q(A)| = sum over the intervals where p > q of (P - Q)(interval), from the
    CDFs at the crossings of the densities (found in mpmath)."""
    with mp.workdps(_dps(p, q)):
        fr = _Frame([p, q])
        ep, eq = _Eval(p, fr), _Eval(q, fr)
        lo, hi = _support_t([p, q], fr, True)
        grid = _grid([p, q], fr, lo, hi)

        # At a finite end of the support a density is a limit (+inf for Beta or Gamma with a < 1)
        # that logpdf does not give (-inf there): the signs at the ends are taken 1e-30 of the
        # neighbouring grid interval inside, or a crossing next to the end is missed
        # (TV of Beta(0.806, 3.93), Beta(1.078, 13.99) lost the crossing at x = 7.9e-4: 0.0025 off).
        inside = {grid[0]: grid[0] + (grid[1] - grid[0]) * mp.mpf("1e-30"),
                  grid[-1]: grid[-1] - (grid[-1] - grid[-2]) * mp.mpf("1e-30")}

        def diff(t):
            t = inside.get(t, t)
            a, b = ep.logpdf(t), eq.logpdf(t)
            if a == -mp.inf and b == -mp.inf:
                return mp.mpf(0)
            if a == -mp.inf:
                return -mp.mpf(1)
            if b == -mp.inf:
                return mp.mpf(1)
            return a - b

        cuts = sorted(set([x for x in grid if mp.isfinite(x)] + _crossings(diff, grid)))
        # (P - Q) of each piece between consecutive cuts (and the two infinite ends), kept if > 0
        edges = [-mp.inf] + cuts + [mp.inf]
        tot = mp.mpf(0)
        for a, b in zip(edges[:-1], edges[1:]):
            if a == b:
                continue
            if mp.isinf(a):
                mass = ep.cdf(b) - eq.cdf(b)
            elif mp.isinf(b):
                mass = ep.cdf(a, True) - eq.cdf(a, True)
            else:
                mass = (ep.cdf(b) - ep.cdf(a)) - (eq.cdf(b) - eq.cdf(a))
            if mass > 0:
                tot += mass
        return tot


def pearson_quadrature(p: Dist, q: Dist):
    """integral of p^2/q - 1 by quadrature over supp q (for cross-checks; finite cases only)."""
    def integrand(lp, lq):
        if lq == -mp.inf:
            return mp.mpf(0)
        return mp.exp(2 * lp - lq) - mp.exp(lq)  # p^2/q - q integrates to chi^2 over supp q

    with mp.workdps(_dps(p, q)):
        fr = _Frame([p, q])
        ep, eq = _Eval(p, fr), _Eval(q, fr)
        lo, hi = _support_t([q], fr, True)
        grid = _grid([p, q], fr, lo, hi)
        return _quad(lambda t: integrand(ep.logpdf(t), eq.logpdf(t)), grid, fr.S)


def total_variation_quadrature(p: Dist, q: Dist):
    """integral of |p - q| / 2 by quadrature split at the crossings (for cross-checks)."""
    with mp.workdps(_dps(p, q)):
        fr = _Frame([p, q])
        ep, eq = _Eval(p, fr), _Eval(q, fr)
        lo, hi = _support_t([p, q], fr, True)
        grid = _grid([p, q], fr, lo, hi)
        cuts = sorted(set(grid + _crossings(lambda t: ep.pdf(t) - eq.pdf(t), grid)))
        return _quad(lambda t: abs(ep.pdf(t) - eq.pdf(t)) / 2, cuts, fr.S)


def pearson(p: Dist, q: Dist):
    """chi^2 Pearson integral p^2/q - 1: Normal pairs (s_q^2 / (s_p sqrt(2 s_q^2 - s_p^2)))
    exp((m_p - m_q)^2 / (2 s_q^2 - s_p^2)) - 1, inf if 2 s_q^2 <= s_p^2; Uniform pairs
    L_q / L_p - 1 when supp p is inside supp q, inf otherwise."""
    with mp.workdps(_dps(p, q)):
        if p.family == q.family == "normal":
            m1, s1 = (mp.mpf(v) for v in p.params)
            m2, s2 = (mp.mpf(v) for v in q.params)
            den = 2 * s2 * s2 - s1 * s1
            if den <= 0:
                return mp.inf
            return s2 * s2 / (s1 * mp.sqrt(den)) * mp.exp((m1 - m2) ** 2 / den) - 1
        if p.family == q.family == "uniform":
            a1, b1 = (mp.mpf(v) for v in p.params)
            a2, b2 = (mp.mpf(v) for v in q.params)
            if a1 < a2 or b1 > b2:
                return mp.inf
            return (b2 - a2) / (b1 - a1) - 1
    raise ValueError("pearson reference: Normal or Uniform pairs only")


def neyman(p: Dist, q: Dist):
    """chi^2 Neyman integral q^2/p - 1 = Pearson(q || p)."""
    return pearson(q, p)


def _tail_constant(d: Dist, nu):
    """Sum over the components of tail index ``nu`` of ``w s^nu`` (the leading term of
    F(x) ~ K(nu) C |x|^-nu in both tails, K the same for one nu)."""
    if d.family == "mixture":
        tot = mp.mpf(d.params[0]) + mp.mpf(d.params[1])
        return sum(mp.mpf(w) / tot * _tail_constant(c, nu) for w, c in zip(d.params, d.components))
    return mp.mpf(d.params[-1]) ** nu if d.tail_df() == nu else mp.mpf(0)


def wasserstein1_is_infinite(p: Dist, q: Dist) -> bool:
    """W1 = integral |F_p - F_q| diverges when a tail index nu <= 1 is not matched by the
    other distribution with the same leading tail constant."""
    nu_p, nu_q = p.tail_df(), q.tail_df()
    if min(nu_p, nu_q) > 1:
        return False
    if nu_p != nu_q:
        return True
    with mp.workdps(DPS):
        return _tail_constant(p, nu_p) != _tail_constant(q, nu_q)


def wasserstein1(p: Dist, q: Dist, closed_form: bool = True):
    """W1 = integral |F_p - F_q| (Normal pairs: mean of a folded normal,
    a (1 - 2 Phi(-a/b)) + 2 b phi(a/b), a = m_p - m_q, b = |s_p - s_q|)."""
    with mp.workdps(_dps(p, q)):
        if closed_form and p.family == q.family == "normal":
            a = mp.mpf(p.params[0]) - mp.mpf(q.params[0])
            b = abs(mp.mpf(p.params[1]) - mp.mpf(q.params[1]))
            if b == 0:
                return abs(a)
            return a * (1 - 2 * mp.ncdf(-a / b)) + 2 * b * mp.npdf(a / b)
        if wasserstein1_is_infinite(p, q):
            return mp.inf
        fr = _Frame([p, q])
        ep, eq = _Eval(p, fr), _Eval(q, fr)
        lo, hi = _support_t([p, q], fr, True)
        grid = _grid([p, q], fr, lo, hi)

        def diff(t):
            if t <= 0:
                return ep.cdf(t) - eq.cdf(t)
            return eq.cdf(t, True) - ep.cdf(t, True)

        cuts = sorted(set(grid + _crossings(diff, grid)))
        return _quad(lambda t: abs(diff(t)), cuts, fr.S)
