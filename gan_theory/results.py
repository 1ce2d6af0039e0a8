"""Result objects returned by the integrators, the closed forms and the Monte Carlo estimators.

Every computed quantity carries its error: ``result.value`` and ``result.error`` with
``|value - truth| <= error`` (deterministic methods) or with the stated confidence (Monte
Carlo). ``float(result)`` gives the value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


class AccuracyError(ArithmeticError):
    """Raised when a requested accuracy cannot be met; never a silently wrong number.

    Attributes
    ----------
    estimate : float
        The best estimate reached before giving up (do not use it as a result).
    error : float
        Its error bound, which exceeds the requested tolerance.
    tolerance : float
        The tolerance that was asked for.
    log_estimate : float
        The natural log of the estimate where the quantity is finite but larger than the
        largest float64 (about 1.8e308), so that its value cannot be returned: for example the
        Pearson chi^2 of N(0, 1) against N(30, 1), e^900. ``nan`` otherwise. A quantity that
        is truly infinite is not an error: it is returned as ``inf`` with error 0.
    """

    def __init__(self, message: str, *, estimate: float = math.nan, error: float = math.inf,
                 tolerance: float = math.nan, log_estimate: float = math.nan) -> None:
        super().__init__(message)
        self.estimate = estimate
        self.error = error
        self.tolerance = tolerance
        self.log_estimate = log_estimate


@dataclass(frozen=True)
class IntegralResult:
    """A deterministic result with an error bound.

    Attributes
    ----------
    value : float or ndarray
        The computed value (may be ``inf`` when the quantity is infinite, e.g. a KL
        divergence where ``p`` has mass on which ``q`` vanishes); an array of shape (B,) when
        the densities were a batch of ``B``. ``inf`` always means infinite: a finite value too
        large for float64 raises :class:`AccuracyError` with its log in ``log_estimate``.
    error : float or ndarray
        A bound on ``|value - exact|``: the quadrature error estimate (sum over cells of
        ``|Kronrod - Gauss|``), plus the floating-point error of evaluating and summing the
        integrand. Zero for an exact infinity.
    method : str
        ``"quadrature"`` or ``"closed form"``.
    evaluations : int
        Number of integrand evaluations (0 for closed forms).
    cells : int
        Number of quadrature cells (panels in 1-D, rectangles in 2-D) in the final partition.
    """

    value: Any
    error: Any
    method: str = "quadrature"
    evaluations: int = 0
    cells: int = 0

    def __float__(self) -> float:
        if getattr(self.value, "ndim", 0) != 0:
            raise TypeError(f"float(): this result holds a batch of {len(self.value)} values; "
                            "use result.value (an array) instead")
        return float(self.value)

    def __repr__(self) -> str:
        err = f"{self.error:.3g}" if isinstance(self.error, float) else repr(self.error)
        return (f"IntegralResult(value={self.value!r}, error={err}, method={self.method!r}, "
                f"evaluations={self.evaluations}, cells={self.cells})")


@dataclass(frozen=True)
class MonteCarloResult:
    """A Monte Carlo estimate with a central-limit-theorem confidence interval.

    Attributes
    ----------
    value : float
        The sample-mean estimate.
    stderr : float
        Its estimated standard error (sample standard deviation over sqrt(n)).
    n_samples : int
        Number of samples drawn from each density.
    confidence : float
        Confidence level of ``interval`` and ``error`` (e.g. 0.99).
    """

    value: float
    stderr: float
    n_samples: int
    confidence: float = 0.99

    @property
    def z(self) -> float:
        """Two-sided normal quantile for ``confidence``."""
        from scipy.special import ndtri

        return float(ndtri(0.5 + self.confidence / 2.0))

    @property
    def error(self) -> float:
        """Half-width of the CLT interval: ``z * stderr``."""
        return self.z * self.stderr

    @property
    def interval(self) -> tuple[float, float]:
        """The CLT confidence interval ``value -+ error``."""
        return (self.value - self.error, self.value + self.error)

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        return (f"MonteCarloResult(value={self.value!r}, stderr={self.stderr:.3g}, "
                f"n_samples={self.n_samples}, confidence={self.confidence})")
