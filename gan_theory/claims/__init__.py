"""The proof-check suite: every claim of ``shared/CLAIMS.md`` (G1 to G10) as a registered check.

>>> from gan_theory.claims import CLAIMS, run
>>> results = run(["G7"])                                        # doctest: +SKIP
>>> results[0].verdict                                           # doctest: +SKIP
'PASS'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from . import (g1_optimal_discriminator, g2_global_optimum, g3_function_space, g4_algorithm1, g5_saturation,
               g6_minibatch, g7_bce, g8_labels, g9_calculus, g10_equilibrium)
from .base import CheckContext, Claim, ClaimResult, Erratum, Route

__all__ = ["CLAIMS", "CheckContext", "Claim", "ClaimResult", "Erratum", "Route", "run", "run_one"]

GOODFELLOW = 'I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014'

CLAIMS: Mapping[str, Claim] = MappingProxyType({c.id: c for c in (
    Claim("G1", "Optimal discriminator",
          "For G fixed, V(D, G) over all D: X -> [0, 1] is maximised by D* = p_data / (p_data + p_g).",
          f"{GOODFELLOW}, Proposition 1", g1_optimal_discriminator.check),
    Claim("G2", "Global optimum",
          "C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g) >= -log 4, with equality iff p_g = p_data, "
          "where D* = 1/2; JSD lies in [0, log 2] nats, log 2 iff the supports are disjoint (then C(G) = 0).",
          f"{GOODFELLOW}, Theorem 1", g2_global_optimum.check, errata=True),
    Claim("G3", "Convergence in function space",
          "If D is optimal at every step and p_g is moved to improve the criterion, p_g converges to p_data "
          "(C is convex in p_g); with a parametric G the guarantee does not carry over.",
          f"{GOODFELLOW}, Proposition 2", g3_function_space.check),
    Claim("G4", "Algorithm 1 works on toys",
          "Alternating k discriminator steps with one generator step, on minibatches, drives C(G) to -log 4 on "
          "1-D and 2-D targets when p_g is exactly computable; larger k keeps D closer to D*.",
          f"{GOODFELLOW}, Algorithm 1", g4_algorithm1.check),
    Claim("G5", "Saturation and the non-saturating loss",
          "d/dl log(1 - sigmoid(l)) -> 0 as D(G(z)) -> 0 while d/dl[-log sigmoid(l)] -> -1; both losses share "
          "the stationary point p_g = p_data; the non-saturating loss trains faster from a rejected start.",
          f"{GOODFELLOW}, Section 3", g5_saturation.check, errata=True),
    Claim("G6", "Minibatch estimates",
          "The minibatch average of log D(x_i) + log(1 - D(G(z_i))) is unbiased for V(D, G), and its gradient "
          "for the gradient of V; the error shrinks like 1/sqrt(m).", f"{GOODFELLOW}, Algorithm 1", g6_minibatch.check),
    Claim("G7", "BCE is the value function",
          "With targets 1 (real) and 0 (generated) the discriminator's BCE from logits is -V's minibatch "
          "estimate; the non-saturating generator loss is BCE with target 1 on generated samples.",
          f"{GOODFELLOW}, eq. (1)", g7_bce.check),
    Claim("G8", "Label conventions",
          "With real labelled 0 and generated 1 the optimal discriminator is 1 - D*; targets alpha, beta give "
          "(alpha p_data + beta p_g)/(p_data + p_g), and a trained D approaches it.",
          f"{GOODFELLOW}, Proposition 1 with other targets", g8_labels.check, errata=True),
    Claim("G9", "Optimal-D derivation by calculus",
          "d/dy[a log y + b log(1 - y)] = (a - (a + b) y)/(y(1 - y)), zero at a/(a + b); plugging D* into V "
          "gives -log 4 + KL(p_data || m) + KL(p_g || m).", f"{GOODFELLOW}, proofs of Prop. 1 and Thm. 1",
          g9_calculus.check),
    Claim("G10", "Equilibrium",
          "(p_g = p_data, D = 1/2) is a saddle point of V: max_D V(D, G*) = V(1/2, G*) = -log 4 = min_G V(1/2, G); "
          "the best-response map to D = 1/2 is set-valued; existence does not mean gradient play converges.",
          f"{GOODFELLOW}, Section 4; L. Mescheder et al., ICML 2018 (Dirac-GAN)", g10_equilibrium.check, errata=True),
)})


def run_one(claim: Claim, ctx: CheckContext) -> ClaimResult:
    """Check one claim; an exception becomes an ERROR verdict with its message."""
    t0 = time.perf_counter()
    routes, errata, error = [], [], None
    try:
        for item in claim.check(ctx):
            (errata if isinstance(item, Erratum) else routes).append(item)
    except Exception as exc:  # a check that crashes is reported, never silently passed
        error = f"{type(exc).__name__}: {exc}"
    return ClaimResult(claim.id, claim.title, claim.statement, claim.source, routes, errata,
                       time.perf_counter() - t0, ctx.full, error)


def run(ids: Iterable[str] | None = None, ctx: CheckContext | None = None,
        on_result: Callable[[ClaimResult], None] | None = None) -> list[ClaimResult]:
    """Check the claims ``ids`` (all by default) in order."""
    ctx = ctx or CheckContext()
    ids = list(ids) if ids is not None else list(CLAIMS)
    unknown = [i for i in ids if i not in CLAIMS]
    if unknown:
        raise ValueError(f"only: unknown claim id(s) {unknown}; expected some of {', '.join(CLAIMS)}")
    out = []
    for i in ids:
        res = run_one(CLAIMS[i], ctx)
        out.append(res)
        if on_result is not None:
            on_result(res)
    return out
