"""G9: the optimal discriminator by calculus.

d/dy [a log y + b log(1 - y)] = (a - (a + b) y)/(y (1 - y)), zero exactly at a/(a + b), a
maximum (second derivative -(a + b)^3/(a b) < 0); plugging D* into V gives
-log 4 + KL(p_data || m) + KL(p_g || m). Checked symbolically (sympy), the sympy results
against the package's D* and C(G) integrand, and numerically.
"""

from __future__ import annotations

import math
import time

import sympy as sp
import torch
import torch.distributions as td

from ..constants import LOG4, F64
from .. import toys
from ..divergences import kl
from ..value import criterion
from .base import CheckContext, Route, within

__all__ = ["check", "symbolic_route", "package_route", "plug_in_route"]



def symbolic_route(claimed_derivative=None) -> Route:
    t0 = time.perf_counter()
    a, b, y = sp.symbols("a b y", positive=True)
    f = a * sp.log(y) + b * sp.log(1 - y)
    claimed = claimed_derivative(a, b, y) if claimed_derivative is not None else (a - (a + b) * y) / (y * (1 - y))
    diff = sp.simplify(sp.diff(f, y) - claimed)
    roots = sp.solve(sp.Eq(sp.diff(f, y), 0), y)
    second = sp.simplify(sp.diff(f, y, 2).subs(y, a / (a + b)) + (a + b) ** 3 / (a * b))
    ok = diff == 0 and roots == [a / (a + b)] and second == 0
    return Route("sympy", "f'(y) - (a - (a+b)y)/(y(1-y)), the roots of f', and f''(a/(a+b)) + (a+b)^3/(ab)",
                 0.0 if ok else 1.0, "all three simplify to the stated forms (0, [a/(a+b)], 0)", 0.0, "exact algebra",
                 ok, {"difference": str(diff), "roots": [str(r) for r in roots], "second": str(second)},
                 time.perf_counter() - t0)


def package_route(claimed_derivative=None) -> Route:
    """The sympy results evaluated against the package's code at the same points: the root of
    f' (sympy's solve of the claimed derivative) against the package's D*, and f at that root
    against the pointwise integrand of C(G) that the engine integrates
    (``logspace.criterion_terms``), with a = p_data(x), b = p_g(x) from the engine's densities."""
    import mpmath
    import numpy as np

    from ..densities import as_density
    from ..discriminator import optimal_discriminator
    from ..logspace import criterion_terms

    t0 = time.perf_counter()
    a, b, y = sp.symbols("a b y", positive=True)
    f = a * sp.log(y) + b * sp.log(1 - y)
    deriv = claimed_derivative(a, b, y) if claimed_derivative is not None else sp.diff(f, y)
    roots = sp.solve(sp.Eq(deriv, 0), y)
    # sympy's expressions evaluated in mpmath at 30 digits (the naive float64 form of
    # a log(a/(a+b)) loses ~1e-16/(b/a) relative accuracy where b << a)
    root = sp.lambdify((a, b), roots[0] if len(roots) == 1 else sp.nan, "mpmath")
    plug = sp.lambdify((a, b), f.subs(y, roots[0]) if len(roots) == 1 else sp.nan, "mpmath")
    p, q = toys.mixture2(), toys.gaussian(0.5, 2.0)
    x = np.linspace(-6.0, 6.0, 241)
    lp, lq = as_density(p).log_prob(x), as_density(q).log_prob(x)
    pa, qb = np.exp(lp), np.exp(lq)
    d_pkg = optimal_discriminator(p, q)(torch.from_numpy(x)).numpy()
    c_pkg = criterion_terms(lp, lq)[0]
    with mpmath.workdps(30):
        def real(v):  # a complex value (log of a negative number) is no value: NaN, which fails
            return float(v) if isinstance(v, mpmath.mpf) else math.nan

        ref_d = np.array([real(root(mpmath.mpf(u), mpmath.mpf(v))) for u, v in zip(pa, qb)])
        ref_c = np.array([real(plug(mpmath.mpf(u), mpmath.mpf(v))) for u, v in zip(pa, qb)])
    with np.errstate(all="ignore"):
        dev_d = float(np.max(np.abs(ref_d - d_pkg) / np.abs(d_pkg)))
        dev_c = float(np.max(np.abs(ref_c - c_pkg) / np.abs(c_pkg)))
    dev = math.inf if math.isnan(dev_d) or math.isnan(dev_c) else max(dev_d, dev_c)
    return within("sympy vs package", "max relative difference, at 241 points of [-6, 6] (mixture2 vs N(0.5, 2^2)), "
                  "between sympy's root of f' and the package's D*, and between f at that root and the engine's "
                  "pointwise C(G) integrand (logspace.criterion_terms)", dev, 1e-12,
                  "float64 rounding (sympy's forms in mpmath at 30 digits, at the same float64 densities)",
                  details={"d_star": dev_d, "integrand": dev_c}, seconds=time.perf_counter() - t0)


def _mixture_of(p: td.Distribution, q: td.Distribution) -> td.MixtureSameFamily:
    """m = (p + q)/2 for Gaussians and Gaussian mixtures, as one mixture."""
    def parts(d):
        if isinstance(d, td.MixtureSameFamily):
            return d.mixture_distribution.probs, d.component_distribution.loc, d.component_distribution.scale
        return torch.ones(1, dtype=F64), d.loc.reshape(1), d.scale.reshape(1)

    (wp, lp, sp_), (wq, lq, sq) = parts(p), parts(q)
    return td.MixtureSameFamily(td.Categorical(probs=torch.cat([wp, wq]) / 2),
                                td.Normal(torch.cat([lp, lq]), torch.cat([sp_, sq])))


def plug_in_route() -> Route:
    t0 = time.perf_counter()
    pairs = [(toys.gaussian(0.0, 1.0), toys.gaussian(1.0, 1.5)), (toys.mixture2(), toys.gaussian(0.5, 2.0)),
             (toys.mixture3(), toys.mixture2())]
    ratios = []
    for p, q in pairs:
        m = _mixture_of(p, q)
        c, k1, k2 = criterion(p, q), kl(p, m), kl(q, m)
        ratios.append(abs(c.value - (-LOG4 + k1.value + k2.value)) / (c.error + k1.error + k2.error))
    return within("quadrature", "max over 3 pairs of |V(D*, G) - (-log 4 + KL(p||m) + KL(q||m))| / (error bounds), "
                  "the KLs integrated against m built as a mixture", max(ratios), 1.0, "the integrators' error bounds",
                  seconds=time.perf_counter() - t0)


def check(ctx: CheckContext) -> list[Route]:
    ctx.note("G9 derivation")
    return [symbolic_route(), package_route(), plug_in_route()]
