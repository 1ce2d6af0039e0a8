"""Divergences between two densities: JSD, KL, f-divergences and the 1-D Wasserstein-1 distance.

Each function returns an :class:`~gan_theory.IntegralResult` (``.value``, ``.error``,
``float(result)``). ``method="auto"`` uses a registered closed form when there is one
(:mod:`gan_theory.closed_forms`) and error-controlled quadrature otherwise;
``method="quadrature"`` and ``method="closed_form"`` force one route. Results are in nats
unless ``base`` is given.

Closed forms meet the same tolerance rule as the quadrature, ``error <= max(atol, rtol |value|)``:
under "auto" one that cannot falls back to quadrature, under "closed_form" it raises
:class:`~gan_theory.AccuracyError`. ``inf`` means infinite: a finite value beyond the largest
float64 (a Pearson chi^2 of e^900) raises ``AccuracyError`` with its log in ``log_estimate``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .checks import check_choice, check_real
from ._overflow import overflow_checked
from .integrate import integrate, make_domain, pair_integral, tolerances
from .closed_forms import check_closed_tolerance, closed_form, has_closed_forms
from .densities import Density, DensityLike, as_pair, recentre, recentred
from .logspace import F_DIVERGENCES, jsd_terms, kl_terms, log_density_error
from .results import AccuracyError, IntegralResult

__all__ = ["f_divergence", "jsd", "kl", "wasserstein1"]

_METHODS = ("auto", "closed_form", "quadrature")
_EPS = float(np.finfo(np.float64).eps)


def _in_base(result: IntegralResult, base: float | None) -> IntegralResult:
    if base is None:
        return result
    b = check_real("base", base, lower=0.0, lower_open=True)
    if b == 1.0:
        raise ValueError("base: a logarithm base must differ from 1, got 1")
    c = math.log(b)
    return IntegralResult(result.value / c, result.error / abs(c), result.method, result.evaluations, result.cells)


def _closed_or_quad(quantity: str, dp: Density, dq: Density, method: str,
                    quad: Callable[[], IntegralResult], label: str, *, atol: float | None = None,
                    rtol: float | None = None) -> IntegralResult:
    check_choice("method", method, _METHODS)
    if method != "quadrature" and has_closed_forms(quantity):
        a, r = tolerances(dp.dim, atol, rtol)
        found = closed_form(quantity, dp.dist, dq.dist)
        if found is not None:
            value, error, source = found
            try:
                check_closed_tolerance(value, error, a, r, label)
            except AccuracyError:
                if method == "closed_form":
                    raise
            else:
                return IntegralResult(value, error, source)  # else quadrature may still meet it
    if method == "closed_form":
        raise ValueError(f"method: no closed form is registered for {label} with p = "
                         f"{type(dp.source).__name__} and q = {type(dq.source).__name__}; use method='auto'")
    return quad()


def jsd(p: DensityLike, q: DensityLike, base: float | None = None, *, method: str = "auto",
        atol: float | None = None, rtol: float | None = None) -> IntegralResult:
    """Jensen-Shannon divergence ``JSD(p || q)``, in nats unless ``base`` is given.

    .. math::

        \\mathrm{JSD}(p \\| q) = \\tfrac12 \\mathrm{KL}(p \\| m) + \\tfrac12 \\mathrm{KL}(q \\| m),
        \\quad m = \\tfrac12 (p + q)

    It lies in ``[0, log 2]`` nats (``[0, 1]`` in base 2), is 0 iff ``p = q`` and ``log 2`` iff
    the supports are disjoint. Computed as the integral of ``m g(u)``, ``u = (log p - log q)/2``,
    ``g(u) = u tanh u - log cosh u >= 0``, with a series for small ``u``: every term is
    non-negative, so a tiny JSD keeps its relative accuracy.

    Parameters
    ----------
    p, q : density
        Torch distributions (event_shape () or (2,)), frozen 1-D scipy.stats distributions, or
        toy names. Either may also be a batch of ``B`` torch distributions of one family
        (``batch_shape (B,)``): the ``B`` divergences are then computed in one adaptive pass
        and ``value``/``error`` are arrays of shape (B,). In 1-D, for the families with a
        NumPy fast path (Normal, Laplace, Cauchy, StudentT, Uniform and mixtures of them), each
        element is integrated on cells of its own, so a batch costs about what its elements
        cost alone, less the per-call overhead. Otherwise (2-D, other families) the elements
        share the union of the cells they need, which pays only when they share location and
        scale.
    base : float, optional
        Logarithm base (2 for bits). Default: nats.
    method : {"auto", "quadrature", "closed_form"}
        No closed form is registered for the JSD; "auto" means quadrature.
    atol, rtol : float, optional
        Tolerance ``error <= max(atol, rtol |JSD|)`` in nats; defaults 1e-13/1e-11 (1-D) and
        1e-11/1e-10 (2-D).

    Returns
    -------
    IntegralResult

    References
    ----------
    J. Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. Inf. Theory 37 (1991).
    """
    dp, dq = as_pair(p, q, batch=True)
    eps = (dp.eps, dq.eps)
    res = _closed_or_quad("jsd", dp, dq, method, lambda: pair_integral(
        *recentred(dp, dq), lambda x, lp, lq: jsd_terms(lp, lq, eps), atol=atol, rtol=rtol, label="JSD"), "JSD",
        atol=atol, rtol=rtol)
    return _in_base(res, base)


def kl(p: DensityLike, q: DensityLike, base: float | None = None, *, method: str = "auto",
       atol: float | None = None, rtol: float | None = None) -> IntegralResult:
    """Kullback-Leibler divergence ``KL(p || q) = E_p[log p/q]``, in nats unless ``base`` is given.

    ``inf`` when ``p`` has mass where ``q`` vanishes. Closed forms: Gaussian pairs (stable forms),
    and any pair in ``torch.distributions``' KL registry. Quadrature integrates the non-negative
    ``p phi(log p - log q)``, ``phi(r) = e^{-r} - 1 + r``, which equals ``p log(p/q)`` plus
    ``q - p`` (which integrates to 0).

    Parameters
    ----------
    p, q : density
        As in :func:`jsd` (batches included).
    base : float, optional
    method : {"auto", "quadrature", "closed_form"}
    atol, rtol : float, optional

    Returns
    -------
    IntegralResult

    References
    ----------
    S. Kullback and R. A. Leibler, "On information and sufficiency", Ann. Math. Stat. 22 (1951).
    """
    dp, dq = as_pair(p, q, batch=True)
    eps = (dp.eps, dq.eps)
    res = _closed_or_quad("kl", dp, dq, method, lambda: pair_integral(
        *recentred(dp, dq), lambda x, lp, lq: kl_terms(lp, lq, eps), atol=atol, rtol=rtol, label="KL"), "KL",
        atol=atol, rtol=rtol)
    return _in_base(res, base)


def f_divergence(p: DensityLike, q: DensityLike, f: str | Callable, *, method: str = "auto",
                 atol: float | None = None, rtol: float | None = None) -> IntegralResult:
    """f-divergence ``D_f(p || q) = integral of q f(p / q)``, in nats.

    Named generators (the f-GAN table, Nowozin et al. 2016, Table 1), with ``u = p/q``:

    ===================  =====================================  ===========================
    name                 f(u)                                   D_f(p || q)
    ===================  =====================================  ===========================
    ``kl``               u log u                                KL(p || q)
    ``reverse_kl``       -log u                                 KL(q || p)
    ``pearson``          (u - 1)^2                              chi^2 Pearson
    ``neyman``           (1 - u)^2 / u                          chi^2 Neyman
    ``hellinger``        (sqrt(u) - 1)^2                        integral (sqrt p - sqrt q)^2
    ``jensen_shannon``   u log u - (u + 1) log((u + 1) / 2)     **2 JSD(p || q)**
    ``total_variation``  |u - 1| / 2                            sup_A |P(A) - Q(A)|
    ``gan``              u log u - (u + 1) log(u + 1)           2 JSD(p || q) - log 4 = C(G)
    ===================  =====================================  ===========================

    The ``jensen_shannon`` generator is the one printed in the f-GAN table; it gives twice the
    JSD (the table's formula column carries a factor 1/2 that this generator does not).
    Each name is integrated through a stable log-space form (no ``p/q`` overflow). Where
    ``q = 0 < p`` the integrand is ``p lim_{u->inf} f(u)/u`` and where ``p = 0 < q`` it is ``q f(0)``.

    Parameters
    ----------
    p, q : density
        As in :func:`jsd`; batches only with a named ``f``.
    f : str or callable
        A name from the table, or a convex function (``f(1) = 0`` for a divergence; otherwise
        ``D_f(p || p) = f(1)``, as for the ``gan`` row), called with a float64 tensor of ratios
        ``u`` and returning values of the same shape. It must be smooth except possibly at
        ``u = 1`` (where the quadrature locates the kink): the error bound assumes so.
    method : {"auto", "quadrature", "closed_form"}
        ``kl`` and ``reverse_kl`` use the KL closed forms under "auto".
    atol, rtol : float, optional

    Returns
    -------
    IntegralResult

    References
    ----------
    I. Csiszar, "Information-type measures of difference of probability distributions", 1967.
    S. Nowozin, B. Cseke, R. Tomioka, "f-GAN", NeurIPS 2016, Table 1.
    """
    if isinstance(f, str):
        check_choice("f", f, F_DIVERGENCES)
        if f == "kl":
            return kl(p, q, method=method, atol=atol, rtol=rtol)
        if f == "reverse_kl":
            return kl(q, p, method=method, atol=atol, rtol=rtol)
        dp, dq = as_pair(p, q, batch=True)
        terms = F_DIVERGENCES[f].terms
        eps = (dp.eps, dq.eps)
        if f in ("pearson", "neyman"):  # integrands that can overflow float64
            return _closed_or_quad(f, dp, dq, method, lambda: overflow_checked(dp, dq, terms, f"D_{f}", atol, rtol),
                                   f"D_{f}", atol=atol, rtol=rtol)
        return _closed_or_quad(f, dp, dq, method, lambda: pair_integral(
            *recentred(dp, dq), lambda x, lp, lq: terms(lp, lq, eps), atol=atol, rtol=rtol, label=f"D_{f}"), f"D_{f}",
            atol=atol, rtol=rtol)
    if not callable(f):
        raise TypeError(f"f: expected one of {', '.join(F_DIVERGENCES)} or a callable, got {type(f).__name__}")
    dp, dq = as_pair(p, q)
    check_choice("method", method, ("auto", "quadrature"))
    fn = _user_f(f)
    slope = {}

    def slope_at_infinity() -> float:
        if "v" not in slope:
            t = np.array([1e100, 1e200, 1e300])
            with np.errstate(all="ignore"):
                s = fn(t) / t
            if np.all(np.isinf(s)) and np.all(s > 0):
                slope["v"] = math.inf
            elif np.all(np.isfinite(s)) and abs(s[2] - s[1]) <= 1e-6 * max(1.0, abs(s[2])):
                slope["v"] = float(s[2])
            else:
                raise ValueError("f: the integrand needs lim f(u)/u as u -> inf where q = 0 < p, and it "
                                 f"could not be determined (f(u)/u = {s.tolist()} at u = 1e100, 1e200, 1e300)")
        return slope["v"]

    def terms(x, lp, lq):
        p_zero, q_zero = lp == -np.inf, lq == -np.inf
        both_pos = ~p_zero & ~q_zero
        r = np.where(both_pos, lp - lq, 0.0)
        with np.errstate(over="ignore"):
            u = np.exp(r)
        value = np.zeros_like(lp)
        q = np.exp(lq)
        # q f(u) with u = p/q = inf (q underflows, p does not): the limit p lim f(u)/u, not 0 * inf;
        # where u > 1 otherwise, the same product as p f(u)/u (q may have underflowed to 0 while
        # p has not)
        big = both_pos & (u > 1.0)
        ovf = big & np.isinf(u)
        fin = big & ~ovf
        small = both_pos & ~big
        if small.any():
            value[small] = q[small] * fn(u[small])
        if fin.any():
            value[fin] = np.exp(lp[fin]) * (fn(u[fin]) / u[fin])
        if ovf.any():
            value[ovf] = np.exp(lp[ovf]) * slope_at_infinity()
        zp = p_zero & ~q_zero
        if zp.any():
            value[zp] = q[zp] * float(fn(np.array([0.0]))[0])
        zq = q_zero & ~p_zero
        if zq.any():
            value[zq] = np.exp(lp[zq]) * slope_at_infinity()
        dr = np.where(both_pos, log_density_error(lp, dp.eps) + log_density_error(lq, dq.eps), 0.0)
        noise = np.where(np.isfinite(value), np.abs(value) * (16 * _EPS + 2 * dr), 0.0)
        # f may have a kink at u = 1 (|u - 1|, max(u, 1), ...): mark where p = q
        return value, noise, r

    return pair_integral(*recentred(dp, dq), terms, atol=atol, rtol=rtol, label="D_f")


def _user_f(f: Callable) -> Callable[[np.ndarray], np.ndarray]:
    def fn(u: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = f(torch.from_numpy(np.ascontiguousarray(u, dtype=np.float64)))
        arr = out.detach().to(torch.float64).numpy() if isinstance(out, torch.Tensor) else np.asarray(out, np.float64)
        if arr.shape != u.shape:
            raise ValueError(f"f: expected an output of shape {u.shape}, got {arr.shape}")
        if np.isnan(arr).any():
            raise ValueError(f"f: returned NaN at u = {u[np.isnan(arr)][0]}")
        return arr

    return fn


def wasserstein1(p: DensityLike, q: DensityLike, *, method: str = "auto", atol: float | None = None,
                 rtol: float | None = None) -> IntegralResult:
    """Wasserstein-1 distance between two 1-D densities, from their CDFs.

    .. math::  W_1(p, q) = \\int_{-\\infty}^{\\infty} |F_p(x) - F_q(x)|\\, dx

    The difference of CDFs is used left of the centre and the difference of survival
    functions right of it, so neither tail loses precision. Closed form for two Gaussians.
    CDFs are available for scipy.stats distributions and for the torch families that have a
    scipy equivalent (Normal, Laplace, Cauchy, StudentT, Gamma, Exponential, Beta, Uniform,
    Gumbel, LogNormal, HalfNormal, HalfCauchy) and mixtures of them.

    Parameters
    ----------
    p, q : density
        1-D densities.
    method : {"auto", "quadrature", "closed_form"}
    atol, rtol : float, optional

    Returns
    -------
    IntegralResult

    References
    ----------
    C. Villani, *Optimal Transport: Old and New*, Springer 2009, Remark 2.19 (the 1-D formula).
    """
    dp, dq = as_pair(p, q)
    if dp.dim != 1:
        raise ValueError(f"p, q: wasserstein1 is implemented for 1-D densities; got {dp.dim}-D densities")

    def quad() -> IntegralResult:
        a, r = tolerances(1, atol, rtol)
        rp, rq = recentre(dp, dq)  # W1 depends on relative positions only
        domain = make_domain([rp.landmarks, rq.landmarks])
        centre = float(np.median(np.concatenate([rp.hints.centers[:, 0], rq.hints.centers[:, 0]])))

        def f(x):
            fp, sp = rp.cdf_sf(x)
            fq, sq = rq.cdf_sf(x)
            left = x <= centre
            diff = np.where(left, fp - fq, sq - sp)  # F_p - F_q, from the accurate tail
            noise = 4 * _EPS * np.where(left, fp + fq, sp + sq)
            return np.abs(diff)[:, None], noise[:, None], diff  # kinks where the CDFs cross

        res = integrate(f, domain, atol=a, rtol=r, labels=("W1",))
        return IntegralResult(float(res.value[0]), float(res.error[0]), "quadrature", res.evaluations, res.cells)

    return _closed_or_quad("wasserstein1", dp, dq, method, quad, "W1", atol=atol, rtol=rtol)
