"""Pointwise integrands of the theory quantities, computed from log-densities.

Every function here takes ``lp = log p(x)`` and ``lq = log q(x)`` (NumPy float64 arrays, ``-inf``
where a density vanishes) and returns ``(value, noise)``: the integrand and a bound on its
floating-point error, which the quadrature adds to its error bound. They are pure, vectorised
and never return NaN: the conventions ``0 log 0 = 0`` and "a point where both densities
vanish contributes 0" are applied explicitly.

The identities used
-------------------
With ``r = lp - lq`` and ``u = r / 2``, ``m = (p + q) / 2``:

* JSD: ``p log(p/m)/2 + q log(q/m)/2 = m g(u)`` with ``g(u) = u tanh u - log cosh u >= 0``
  (``g(u) = u^2/2 - u^4/4 + ...`` near 0, ``g(±inf) = log 2``). Each term is non-negative and
  ``g`` is evaluated to a few ulps, so a tiny JSD is computed to full relative accuracy.
* KL: ``p log(p/q) = p phi(r) + (p - q)`` with ``phi(r) = e^{-r} - 1 + r >= 0``; the ``p - q``
  part integrates to zero for normalised densities, so KL is integrated as ``p phi(r)`` (equal
  to ``q`` where ``p = 0``), again non-negative.
* C(G) = V(D*, G): ``p log D* + q log(1 - D*)`` with ``log D* = log_sigmoid(r)`` and
  ``log(1 - D*) = log_sigmoid(-r)``, the stable form of ``log(1 - sigmoid(r))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .constants import LOG2

__all__ = ["F_DIVERGENCES", "criterion_terms", "g_jsd", "jsd_terms", "kl_terms", "label_logit", "log_density_error",
           "log_sigmoid", "magnitude", "phi_kl"]

_EPS = float(np.finfo(np.float64).eps)

# phi(r) = e^{-r} - 1 + r = sum_{k>=2} (-r)^k / k!, k = 2..19.
_PHI_SERIES = tuple((-1) ** k / math.factorial(k) for k in range(2, 20))


def _poly(x: np.ndarray, coeffs: tuple[float, ...]) -> np.ndarray:
    out = np.zeros_like(x)
    for c in reversed(coeffs):
        out = out * x + c
    return out


def g_jsd(a: np.ndarray, e: np.ndarray | None = None, log1p_e: np.ndarray | None = None) -> np.ndarray:
    """``g(a) = a tanh(a) - log cosh(a)`` for an array ``a = |u| >= 0``, to a few ulps (``g(inf) = log 2``).

    Two forms, each free of cancellation where it is used:

    * ``a < 1``: ``a tanh a - log1p(2 sinh^2(a/2))``. Both terms are computed to full relative
      accuracy and, as ``a -> 0``, they are ``a^2`` and ``a^2/2``, so no series is needed;
    * ``a >= 1``: ``log 2 - 2a e^{-2a}/(1 + e^{-2a}) - log1p(e^{-2a})``, whose correction
      terms are small beside ``log 2``.

    ``e = exp(-2a)`` and ``log1p(e)`` may be passed when the caller has them already.
    """
    a = np.atleast_1d(np.asarray(a, dtype=np.float64))
    e = np.exp(-2.0 * a) if e is None else e
    log1p_e = np.log1p(e) if log1p_e is None else log1p_e
    return _g_jsd(a, e, log1p_e, 1.0 + e)


def _g_jsd(a: np.ndarray, e: np.ndarray, log1p_e: np.ndarray, one_e: np.ndarray) -> np.ndarray:
    """:func:`g_jsd` on a float64 array ``a`` with ``e = exp(-2a)``, ``log1p(e)`` and ``1 + e``
    given (the JSD integrand has them all; one pass per call of the integrand)."""
    # (a capped at 400: beyond it e = exp(-2a) < exp(-800) is 0 in float64 and the term is 0;
    # the cap only keeps a = inf, where one density vanishes, from giving inf * 0 = NaN)
    g = LOG2 - 2.0 * np.minimum(a, 400.0) * e / one_e - log1p_e
    near = a < 1.0
    an = a[near]
    if an.size:  # the near form only where it is used
        g[near] = an * np.tanh(an) - np.log1p(2.0 * np.sinh(0.5 * an) ** 2)
    return g


def phi_kl(r: np.ndarray) -> np.ndarray:
    """``phi(r) = e^{-r} - 1 + r >= 0`` (series for ``|r| < 1/2``); ``phi(±inf) = inf``."""
    r = np.asarray(r, dtype=np.float64)
    out = np.empty_like(r)
    small = np.abs(r) < 0.5
    rs = r[small]
    out[small] = rs * rs * _poly(rs, _PHI_SERIES)
    rb = r[~small]
    with np.errstate(over="ignore"):
        out[~small] = np.expm1(-rb) + rb
    return out


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """``log(sigmoid(z)) = -log(1 + e^{-z})``, stable for all z (``-inf`` at ``z = -inf``)."""
    z = np.asarray(z, dtype=np.float64)
    return -np.logaddexp(0.0, -z)


def magnitude(log_density: np.ndarray) -> np.ndarray:
    """``|log p|`` capped at 1e300, so that ``0 * magnitude`` is 0 where ``p = 0``."""
    return np.minimum(np.abs(log_density), 1e300)


def log_density_error(l: np.ndarray, eps: float) -> np.ndarray:
    """Absolute error of a log-density ``l`` computed to a few ulps of its magnitude,
    ``4 eps (|l| + 1)`` (0 where ``l = -inf``, which is exact): the noise term every integrand
    of log-densities carries (a log-density is a sum of a few terms as large as ``|l| + 1``,
    each rounded to ``eps`` relative)."""
    return np.where(l == -np.inf, 0.0, 4.0 * eps * (magnitude(l) + 1.0))


def label_logit(lp, lq, real_label: float = 1.0, fake_label: float = 0.0):
    """The logit of the optimal discriminator for labels ``(a, b) = (real_label, fake_label)``.

    The binary cross-entropy with targets ``a`` on ``p`` and ``b`` on ``q`` is minimised
    pointwise by ``D* = (a p + b q) / (p + q)`` (Goodfellow et al. 2014, Prop. 1, for
    ``a = 1, b = 0``), whose logit is

    .. math::

        \\log(a p + b q) - \\log((1 - a) p + (1 - b) q),

    computed from ``lp = log p`` and ``lq = log q`` with ``logaddexp`` (``lp - lq`` for the
    default labels). The one formula for NumPy arrays (the theory layer) and torch tensors
    (the trainer); where both densities vanish the result is NaN (``-inf - -inf``), which
    the callers resolve.
    """
    a, b = real_label, fake_label
    if a == 1.0 and b == 0.0:
        return lp - lq
    if isinstance(lp, np.ndarray) or np.isscalar(lp):
        lae = np.logaddexp
    else:
        import torch

        lae = torch.logaddexp
    num = lae(lp + math.log(a) if a > 0 else lp - math.inf, lq + math.log(b) if b > 0 else lq - math.inf)
    den = lae(lp + math.log1p(-a) if a < 1 else lp - math.inf, lq + math.log1p(-b) if b < 1 else lq - math.inf)
    return num - den


def jsd_terms(lp: np.ndarray, lq: np.ndarray, eps: tuple[float, float] = (_EPS, _EPS)):
    """Pointwise JSD integrand ``m g(u)`` and its error bound.

    Parameters
    ----------
    lp, lq : ndarray
        Log-densities of p and q at the same points.
    eps : (float, float)
        Relative precision of ``lp`` and ``lq`` (float64 epsilon unless a density is float32).

    Returns
    -------
    value, noise : ndarray
        ``value`` is 0 where both densities vanish and ``p log(2)/2`` where only ``q`` does.
        ``noise`` bounds the error from rounding in ``lp - lq`` (``m |g'(u)| du`` with
        ``g'(u) = u sech^2 u``) and in ``m`` and ``g``.
    """
    # |u| = |lp - lq| / 2 with -inf replaced by -1e308: 0 where both densities vanish (m = 0
    # there anyway), ~1e308 (g = log 2) where one does, and no inf - inf.
    lpc, lqc = np.maximum(lp, -1e308), np.maximum(lq, -1e308)
    hi = np.maximum(lpc, lqc)
    d = np.abs(lpc - lqc)
    e = np.exp(-d)  # min(p, q) / max(p, q), shared by m, g and g'
    l1 = np.log1p(e)
    lm = hi + l1 - LOG2  # log m
    m = np.exp(lm)
    a = 0.5 * d
    one_e = 1.0 + e
    value = m * _g_jsd(a, e, l1, one_e)
    eps_max = max(eps)
    du = (2.0 * eps_max) * (np.minimum(np.abs(lp) + np.abs(lq), 1e300) + 2.0)
    # g'(u) = u sech^2 u, with sech^2 a = 4 e / (1 + e)^2
    sech2 = 4.0 * e / one_e ** 2
    # log_density_error(lm, eps_max) written out: lm >= -1e308 - log 2 is never -inf here
    noise = m * (a * sech2) * du + value * (8.0 * _EPS + 4.0 * eps_max * (magnitude(lm) + 1.0))
    return value, noise


def kl_terms(lp: np.ndarray, lq: np.ndarray, eps: tuple[float, float] = (_EPS, _EPS)):
    """Pointwise KL(p||q) integrand ``p phi(r)`` (``q`` where ``p = 0``, ``inf`` where
    ``q = 0 < p``) and its error bound."""
    p_zero = lp == -np.inf
    q_zero = lq == -np.inf
    with np.errstate(invalid="ignore"):
        r = lp - lq
    r = np.where(p_zero | q_zero, 0.0, r)
    p = np.exp(lp)
    q = np.exp(lq)
    low = r < -1.0  # p << q: p phi(r) = p (r - 1) + q, no overflow
    value = np.where(low, p * (r - 1.0) + q, p * phi_kl(np.where(low, 0.0, r)))
    value = np.where(p_zero, q, value)
    value = np.where(q_zero & ~p_zero, np.inf, value)
    # d value / d lp = value + (p - q), d value / d lq = q - p
    fv = np.where(np.isfinite(value), value, 0.0)
    noise = np.abs(fv + p - q) * log_density_error(lp, eps[0]) + np.abs(p - q) * log_density_error(lq, eps[1]) + 8.0 * _EPS * fv
    return value, noise


def criterion_terms(lp: np.ndarray, lq: np.ndarray, eps: tuple[float, float] = (_EPS, _EPS)):
    """Pointwise ``p log D*(x) + q log(1 - D*(x))`` with ``D* = p / (p + q)`` (the integrand
    of C(G) = V(D*, G)) and its error bound; 0 where both densities vanish."""
    p_zero = lp == -np.inf
    q_zero = lq == -np.inf
    with np.errstate(invalid="ignore"):
        r = lp - lq
    r = np.where(p_zero & q_zero, 0.0, r)
    p = np.exp(lp)
    q = np.exp(lq)
    with np.errstate(invalid="ignore"):
        a = np.where(p_zero, 0.0, p * log_sigmoid(r))
        b = np.where(q_zero, 0.0, q * log_sigmoid(-r))
    value = a + b
    # d/d(lp) of the integrand is p log_sigmoid(r) (the terms from D* cancel at the optimum),
    # so an error of a few ulps of |lp| in lp moves it by |a| times that.
    with np.errstate(invalid="ignore"):
        dp = np.where(p_zero, 0.0, log_density_error(lp, eps[0]))
        dq = np.where(q_zero, 0.0, log_density_error(lq, eps[1]))
    noise = (8.0 * _EPS + dp) * np.abs(a) + (8.0 * _EPS + dq) * np.abs(b)
    return value, noise


# --------------------------------------------------------------------------------------------
# f-divergences: D_f(p || q) = integral of q f(p/q)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FDivergence:
    """A named f-divergence: the generator ``f`` (on u = p/q) and its stable log-space integrand."""

    name: str
    formula: str
    f: Callable[[np.ndarray], np.ndarray]
    terms: Callable[..., tuple[np.ndarray, np.ndarray]]


def _lmax_r(lp, lq):
    lmax = np.maximum(lp, lq)
    with np.errstate(invalid="ignore"):
        ar = np.abs(lp - lq)
    return lmax, np.where(np.isnan(ar), 0.0, ar)


def _reverse_kl_terms(lp, lq, eps=(_EPS, _EPS)):
    return kl_terms(lq, lp, eps[::-1])


def _pearson_terms(lp, lq, eps=(_EPS, _EPS)):
    # (p - q)^2 / q = q expm1(r)^2 where p <= q, and p e^{r} expm1(-r)^2 where p > q
    # (the second may overflow to inf, correctly: the integral is then infinite).
    q_zero, p_zero = lq == -np.inf, lp == -np.inf
    with np.errstate(invalid="ignore"):
        r = np.where(p_zero | q_zero, 0.0, lp - lq)
    neg = r <= 0
    with np.errstate(over="ignore"):
        value = np.where(neg, np.exp(lq) * np.expm1(np.minimum(r, 0.0)) ** 2,
                         np.exp(lp + np.maximum(r, 0.0)) * np.expm1(-np.maximum(r, 0.0)) ** 2)
    value = np.where(p_zero, np.exp(lq), value)
    value = np.where(q_zero & ~p_zero, np.inf, value)
    # value = (p - q)^2 / q: d/dlp = 2 p (p - q)/q, d/dlq = -(p - q)(p + q)/q
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = np.abs(np.expm1(r))  # |p - q| / q
        noise = ratio * (2.0 * np.exp(lp) * log_density_error(lp, eps[0]) + (np.exp(lp) + np.exp(lq)) * log_density_error(lq, eps[1]))
        # where p > q, relative to the value (ratio * p overflows before the value does):
        # 2 p (p - q)/q = 2 value p/(p - q), (p - q)(p + q)/q = value (p + q)/(p - q)
        rp = np.maximum(r, 1.0)
        rel = (2.0 * log_density_error(lp, eps[0]) + (1.0 + np.exp(-rp)) * log_density_error(lq, eps[1])) / -np.expm1(-rp)
        noise = np.where(r > 1.0, value * rel, noise)
    noise = np.where(np.isfinite(value) & np.isfinite(noise), noise + 8.0 * _EPS * value, 0.0)
    return value, noise


def _neyman_terms(lp, lq, eps=(_EPS, _EPS)):
    return _pearson_terms(lq, lp, eps[::-1])


def _hellinger_terms(lp, lq, eps=(_EPS, _EPS)):
    # (sqrt p - sqrt q)^2 = max(p, q) expm1(-|r|/2)^2
    lmax, ar = _lmax_r(lp, lq)
    value = np.exp(lmax) * np.expm1(-0.5 * ar) ** 2
    value = np.where(lmax == -np.inf, 0.0, value)
    # d/dlp = (sqrt p - sqrt q) sqrt p, d/dlq = -(sqrt p - sqrt q) sqrt q
    diff = np.sqrt(value)
    noise = diff * (np.exp(0.5 * lp) * log_density_error(lp, eps[0]) + np.exp(0.5 * lq) * log_density_error(lq, eps[1])) + 8.0 * _EPS * value
    return value, noise


def _tv_terms(lp, lq, eps=(_EPS, _EPS)):
    # |p - q| / 2 = max(p, q) (1 - e^{-|r|}) / 2
    lmax, ar = _lmax_r(lp, lq)
    value = -0.5 * np.exp(lmax) * np.expm1(-ar)
    value = np.where(lmax == -np.inf, 0.0, value)
    noise = 0.5 * (np.exp(lp) * log_density_error(lp, eps[0]) + np.exp(lq) * log_density_error(lq, eps[1])) + 8.0 * _EPS * value
    # |p - q| has a kink where p = q: the sign of lp - lq marks it for the quadrature
    with np.errstate(invalid="ignore"):
        kink = np.nan_to_num(lp - lq, nan=0.0)
    return value, noise, kink


def _js_terms(lp, lq, eps=(_EPS, _EPS)):
    value, noise = jsd_terms(lp, lq, eps)
    return 2.0 * value, 2.0 * noise


def _f_kl(u):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(u == 0, 0.0, u * np.log(u))


def _f_js(u):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f_kl(u) - (u + 1) * np.log((u + 1) / 2)


def _f_gan(u):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f_kl(u) - (u + 1) * np.log(u + 1)


F_DIVERGENCES: dict[str, FDivergence] = {
    fd.name: fd for fd in (
        FDivergence("kl", "u log u", _f_kl, kl_terms),
        FDivergence("reverse_kl", "-log u", lambda u: -np.log(u), _reverse_kl_terms),
        FDivergence("pearson", "(u - 1)^2", lambda u: (u - 1) ** 2, _pearson_terms),
        FDivergence("neyman", "(1 - u)^2 / u", lambda u: (1 - u) ** 2 / u, _neyman_terms),
        FDivergence("hellinger", "(sqrt(u) - 1)^2", lambda u: (np.sqrt(u) - 1) ** 2, _hellinger_terms),
        FDivergence("jensen_shannon", "u log u - (u + 1) log((u + 1) / 2)", _f_js, _js_terms),
        FDivergence("total_variation", "|u - 1| / 2", lambda u: 0.5 * np.abs(u - 1), _tv_terms),
        FDivergence("gan", "u log u - (u + 1) log(u + 1)", _f_gan, criterion_terms),
    )
}
