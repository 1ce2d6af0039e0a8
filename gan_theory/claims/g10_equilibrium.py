"""G10: the equilibrium.

(p_g = p_data, D = 1/2) is a saddle point of V: max_D V(D, G*) = V(1/2, G*) = -log 4 =
min_G V(1/2, G); no unilateral deviation improves either player. Caveat as data: against
D = 1/2 every generator is a best response (V(1/2, G) = -log 4 for all G), so the
best-response map is set-valued, and an existence argument by Brouwer's theorem on "the
best-response map" needs Kakutani's theorem or the minimax theorem; and existence does not
mean that gradient play converges (the Dirac-GAN).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from .. import toys
from ..value import value_function
from .base import CheckContext, Erratum, Route, within

__all__ = ["check", "saddle_routes", "dirac_route"]

LOG4 = math.log(4.0)
F64 = torch.float64


def _half(x):
    return torch.full(x.shape[:1], 0.5, dtype=F64)


def saddle_routes(d_best=_half) -> list[Route]:
    t0 = time.perf_counter()
    p = toys.mixture3()
    v0 = value_function(d_best, p, p)
    # deviations of D from 1/2 lower V(D, G*)
    drops = []
    for h in (torch.sin, torch.cos, lambda x: torch.ones_like(x)):
        for eps in (0.01, 0.1):
            v = value_function(lambda x, h=h, eps=eps: 0.5 + eps * 0.5 * h(x) / (1 + h(x).abs()), p, p)
            drops.append(v0.value - v.value - v.error - v0.error)
    gens = [toys.gaussian(5.0, 3.0), toys.mixture2(), toys.uniform(-1.0, 4.0), p]
    vals = [value_function(d_best, p, g) for g in gens]
    spread = max(abs(v.value + LOG4) / max(v.error, 1e-300) for v in vals)
    secs = time.perf_counter() - t0
    return [
        within("quadrature", "|V(1/2, G*) + log 4| with G* = p_data (mixture3)", abs(v0.value + LOG4), v0.error,
               "the integrator's error bound", seconds=secs),
        Route("quadrature", "min over 6 deviations D = 1/2 + eps h of V(1/2, G*) - V(D, G*) (less the error bounds)",
              min(drops), "value > 0: every deviation of D lowers V", 0.0, "the integrators' error bounds",
              min(drops) > 0, {"drops": drops}),
        within("quadrature", "max over 4 generators G (including G*) of |V(1/2, G) + log 4| / error: no deviation of "
               "G changes V against D = 1/2", spread, 1.0, "the integrator's error bound",
               details={"V": [v.value for v in vals]}),
    ]


def erratum() -> Erratum:
    """The best response to D = 1/2 is not unique: several very different G attain min_G V(1/2, G)."""
    p = toys.mixture3()
    gens = {"N(5, 3^2)": toys.gaussian(5.0, 3.0), "mixture2": toys.mixture2(), "U(-1, 4)": toys.uniform(-1.0, 4.0),
            "G* = p_data": p}
    vals = {k: value_function(_half, p, g) for k, g in gens.items()}
    best = min(v.value for v in vals.values())
    argmin = [k for k, v in vals.items() if v.value <= best + v.error + 1e-15]
    stated = Route("quadrature", f"number of generators attaining min_G V(1/2, G) among {len(gens)} (a best-response "
                   f"map would have one): {len(argmin)}", float(len(argmin)), "value == 1", 1.0, "the definition of a map",
                   len(argmin) == 1, {"argmin": argmin})
    # corrected: the saddle value exists as max_D min_G V = min_G max_D V = -log 4 (minimax); for
    # constant D = c, min_G V(c, G) = log c + log(1 - c), maximal at c = 1/2
    cs = np.linspace(0.05, 0.95, 19)
    maxmin = max(math.log(c) + math.log1p(-c) for c in cs)
    corrected = within("closed form", "|max_c min_G V(c, G) - min_G max_D V(D, G)| = |max_c log c(1-c) - (-log 4)|",
                       abs(maxmin + LOG4), 1e-15, "rounding", details={"argmax_c": float(cs[np.argmax(np.log(cs * (1 - cs)))])})
    return Erratum("Brouwer's theorem applied to the best-response map gives the equilibrium",
                   "the best response is set-valued (Kakutani), or use the minimax theorem: max min = min max = -log 4",
                   stated, corrected)


def dirac_route(steps: int = 500, lr: float = 0.1) -> Route:
    """Dirac-GAN (Mescheder et al. 2018): data at 0, G = delta_theta, D(x) = sigmoid(psi x); the
    equilibrium (0, 0) exists, yet simultaneous gradient steps spiral away from it."""
    theta, psi = 1.0, 0.0
    r0 = math.hypot(theta, psi)
    for _ in range(steps):
        # V(psi, theta) = log sigmoid(0) + log(1 - sigmoid(psi theta)); D ascends, G descends
        s = 1 / (1 + math.exp(-psi * theta))
        g_psi, g_theta = -s * theta, -s * psi
        theta, psi = theta - lr * g_theta, psi + lr * g_psi
    r = math.hypot(theta, psi)
    return Route("simulation", f"Dirac-GAN, {steps} simultaneous gradient steps (lr {lr}) from (theta, psi) = (1, 0): "
                 "distance to the equilibrium, final over initial", r / r0, "value > 1: existence does not imply "
                 "convergence of gradient play", 1.0, "the direction the caveat states", r / r0 > 1.0,
                 {"final": [theta, psi]})


def check(ctx: CheckContext) -> list[Route | Erratum]:
    ctx.note("G10 saddle point")
    out: list[Route | Erratum] = saddle_routes()
    out.append(dirac_route())
    out.append(erratum())
    return out
