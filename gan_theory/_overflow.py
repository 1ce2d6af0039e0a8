"""Quadrature of f-divergence integrands that may overflow float64 (the chi^2 pair).

A finite divergence whose integrand (or the quadrature's sum) exceeds the largest float64 must
not come back as ``inf``, which means infinite. See :func:`overflow_checked`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .integrate import pair_integral, tolerances
from .densities import Density, recentred
from .results import AccuracyError, IntegralResult

__all__ = ["overflow_checked"]


def overflow_checked(dp: Density, dq: Density, terms: Callable, label: str, atol: float | None,
                      rtol: float | None) -> IntegralResult:
    """Quadrature of a chi^2 integrand that tells overflow from infinity.

    ``(p - q)^2 / q`` overflows float64 where ``p^2 / q > 1.8e308`` (or the quadrature sum
    does) although its integral may be finite (N(0, 1) against N(30, 1): e^900). Every
    f-divergence integrand ``q f(p/q)`` is homogeneous of degree 1 in ``(p, q)``, so when the
    result is ``inf`` with no point where ``q = 0 < p`` the integral is redone with
    ``log p - S`` and ``log q - S``, ``S`` the largest log of the integrand seen: that integral
    times ``e^S`` is the divergence. If it is finite and above the largest float64,
    AccuracyError gives its log (``log_estimate``); if it is finite below, it is returned.
    Where the largest log-integrand lies at the outermost point the quadrature evaluated, or
    the rescaled integrand overflows again, the integrand grows without bound and ``inf``
    (error 0) is returned, as it is where ``q = 0 < p``. A batch with such an element raises
    AccuracyError (its elements are integrated together; compute them one at a time).
    """
    eps = (dp.eps, dq.eps)
    seen = {"log": -math.inf, "inf": False}

    def watched(shift: float) -> Callable:
        def t(x, lp, lq):
            out = terms(lp - shift, lq - shift, eps)
            v = out[0]
            with np.errstate(invalid="ignore"):
                both = np.isfinite(lp) & np.isfinite(lq)
            seen["inf"] |= bool(np.any(np.isinf(v) & ~both))
            xs = x.reshape(x.shape[0], -1)
            seen["lo"] = np.minimum(seen.get("lo", np.inf), xs.min(axis=0))
            seen["hi"] = np.maximum(seen.get("hi", -np.inf), xs.max(axis=0))
            if both.any():  # the sum may overflow although no value does
                bound = np.where(both, np.maximum(lp, lq) + np.abs(lp - lq), -np.inf)  # >= log of the integrand
                bound = bound.reshape(x.shape[0], -1).max(axis=1)
                i = int(np.argmax(bound))
                if bound[i] > seen["log"]:
                    seen["log"], seen["at"] = float(bound[i]), xs[i]
            return out

        return t

    res = pair_integral(*recentred(dp, dq), watched(0.0), atol=atol, rtol=rtol, label=label)
    if not np.any(np.isinf(res.value)) or seen["log"] < 700.0:  # every inf is a point where q = 0 < p
        return res
    if np.ndim(res.value) != 0:  # the points are not told apart by element
        i = int(np.flatnonzero(np.isinf(res.value))[0])
        raise AccuracyError(f"{label}: batch element {i} is inf and the integrand overflows float64 where both "
                            f"densities are positive, so its divergence may be infinite or finite but beyond "
                            f"float64; compute the elements one at a time to tell which", estimate=math.inf)
    if seen["inf"]:  # a point where q = 0 < p: truly infinite
        return res
    if np.any((seen["at"] == seen["lo"]) | (seen["at"] == seen["hi"])):
        # the largest log-integrand sits at the outermost point evaluated: it grows towards
        # infinity (heavy tails of p against q) and so does the integral
        return res
    shift = seen["log"]
    first = seen["log"]
    a, r = tolerances(dp.dim, atol, rtol)
    try:
        res2 = pair_integral(*recentred(dp, dq), watched(shift), atol=max(a * math.exp(-min(shift, 700.0)), 1e-300), rtol=r,
                             label=label)
    except AccuracyError as exc:
        if seen["log"] > first + 700.0:  # the log of the integrand grows without bound: infinite
            return res
        raise AccuracyError(f"{label}: the integrand overflows float64 (its log reaches {first:.6g}) and the "
                            f"integral rescaled by e^-{first:.6g} could not be computed either ({exc}); the "
                            f"divergence is infinite or larger than float64 can hold", estimate=math.inf) from exc
    if math.isinf(res2.value):
        if seen["log"] > first:  # overflow again, further out: the log of the integrand grows without bound
            return res
        raise AccuracyError(f"{label}: the integrand overflows float64 even divided by e^{shift:.6g}; the divergence "
                            f"is infinite or larger than float64 can hold", estimate=math.inf)
    log_value = shift + math.log(res2.value) if res2.value > 0 else -math.inf
    if log_value < math.log(np.finfo(np.float64).max):
        scale = math.exp(shift)
        return IntegralResult(res2.value * scale, res2.error * scale, res2.method, res.evaluations + res2.evaluations,
                              res2.cells)
    raise AccuracyError(f"{label} is finite but exceeds the largest float64 ({np.finfo(np.float64).max:.4g}): its "
                        f"natural log is {log_value:.17g} +- {res2.error / res2.value:.2g} (also in the error's "
                        f"log_estimate)", estimate=math.inf, error=math.inf, log_estimate=log_value)
