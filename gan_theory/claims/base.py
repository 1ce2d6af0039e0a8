"""The vocabulary of the proof-check suite: claims, routes, errata and results.

A *claim* (``G1`` ... ``G10``, from ``shared/CLAIMS.md``) is checked by one or more *routes*:
independent ways of measuring it (closed form or quadrature, a trained network, Monte Carlo,
sympy), each with the quantity measured, its value, the tolerance it must meet, where that
tolerance comes from, and a verdict. An *erratum* shows a commonly stated form of a claim
failing and the corrected form holding, with numbers. A claim passes when every route passes
and every erratum behaves as stated (the wrong form fails, the corrected form holds).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CheckContext", "Claim", "ClaimResult", "Erratum", "Route", "within"]


@dataclass(frozen=True)
class Route:
    """One measurement of a claim.

    Attributes
    ----------
    name : str
        The route ("quadrature", "closed form", "trained network", "Monte Carlo", "sympy", ...).
    measured : str
        What was measured, in words.
    value : float
        The measured quantity (usually a discrepancy).
    condition : str
        The pass condition, in words (``"value <= tolerance"`` unless stated otherwise).
    tolerance : float
        The bound in the condition.
    tolerance_source : str
        Where the tolerance comes from (integrator error bound, CLT at a false-alarm rate,
        the issue's bar, measured training noise over seeds).
    passed : bool
    details : dict
        Further numbers for the JSON report.
    seconds : float
        Time taken.
    """

    name: str
    measured: str
    value: float
    condition: str
    tolerance: float
    tolerance_source: str
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Erratum:
    """A commonly stated form of the claim, shown failing, and the corrected form, shown holding."""

    stated: str
    corrected: str
    stated_route: Route
    corrected_route: Route

    @property
    def passed(self) -> bool:
        return (not self.stated_route.passed) and self.corrected_route.passed


@dataclass(frozen=True)
class CheckContext:
    """Options of a proof-check run."""

    full: bool = False
    device: str = "cpu"
    seed: int = 0
    progress: Callable[[str], None] | None = None

    def note(self, what: str) -> None:
        if self.progress is not None:
            self.progress(what)


@dataclass(frozen=True)
class Claim:
    """A registered claim: its id, statement, source and check."""

    id: str
    title: str
    statement: str
    source: str
    check: Callable[[CheckContext], list[Route | Erratum]]
    errata: bool = False


@dataclass
class ClaimResult:
    """The outcome of checking a claim."""

    id: str
    title: str
    statement: str
    source: str
    routes: list[Route]
    errata: list[Erratum]
    seconds: float
    full: bool
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.passed for r in self.routes) and all(e.passed for e in self.errata)

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "ERROR"
        return "PASS" if self.passed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        d = {"id": self.id, "title": self.title, "statement": self.statement, "source": self.source,
             "verdict": self.verdict, "seconds": self.seconds, "full": self.full, "error": self.error,
             "routes": [asdict(r) for r in self.routes],
             "errata": [{"stated": e.stated, "corrected": e.corrected, "passed": e.passed,
                         "stated_route": asdict(e.stated_route), "corrected_route": asdict(e.corrected_route)}
                        for e in self.errata]}
        return _finite(d)


def within(name: str, measured: str, value: float, tolerance: float, tolerance_source: str, *,
           condition: str = "value <= tolerance", details: dict[str, Any] | None = None, seconds: float = 0.0) -> Route:
    """A route that passes when ``value <= tolerance`` (NaN fails)."""
    passed = bool(value <= tolerance) and not math.isnan(value)
    return Route(name, measured, float(value), condition, float(tolerance), tolerance_source, passed,
                 details or {}, seconds)


def _finite(obj: Any) -> Any:
    """JSON-safe: infinities and NaN as strings."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
