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

from ..constants import LOG4, F64
from .. import toys
from ..discriminator import optimal_discriminator
from ..training.losses import discriminator_loss, generator_loss
from ..training.optim import EnsembleSGD
from ..value import value_function
from .base import CheckContext, Erratum, Route, within

__all__ = ["check", "saddle_routes", "optimal_logits_route", "dirac_route"]



def _half(x):
    return torch.full(x.shape[:1], 0.5, dtype=F64)


def _zero_logit(x):
    return torch.zeros(x.shape[:1], dtype=F64)


def saddle_routes(d_best=_half, logits: bool = False) -> list[Route]:
    """V(D, G) around (1/2, G*): ``d_best`` gives probabilities, or logits with ``logits=True``
    (then every D, the deviations included, is passed to value_function as logits)."""
    t0 = time.perf_counter()
    p = toys.mixture3()
    v0 = value_function(d_best, p, p, logits=logits)
    # deviations of D from 1/2 lower V(D, G*)
    drops = []
    for h in (torch.sin, torch.cos, lambda x: torch.ones_like(x)):
        for eps in (0.01, 0.1):
            def dev(x, h=h, eps=eps):
                d = 0.5 + eps * 0.5 * h(x) / (1 + h(x).abs())
                return torch.log(d) - torch.log1p(-d) if logits else d

            v = value_function(dev, p, p, logits=logits)
            drops.append(v0.value - v.value - v.error - v0.error)
    gens = [toys.gaussian(5.0, 3.0), toys.mixture2(), toys.uniform(-1.0, 4.0), p]
    vals = [value_function(d_best, p, g, logits=logits) for g in gens]
    spread = max(abs(v.value + LOG4) / max(v.error, 1e-300) for v in vals)
    secs = time.perf_counter() - t0
    how = "quadrature (logits)" if logits else "quadrature"
    return [
        within(how, "|V(1/2, G*) + log 4| with G* = p_data (mixture3)", abs(v0.value + LOG4), v0.error,
               "the integrator's error bound", seconds=secs),
        Route(how, "min over 6 deviations D = 1/2 + eps h of V(1/2, G*) - V(D, G*) (less the error bounds)",
              min(drops), "value > 0: every deviation of D lowers V", 0.0, "the integrators' error bounds",
              min(drops) > 0, {"drops": drops}),
        within(how, "max over 4 generators G (including G*) of |V(1/2, G) + log 4| / error: no deviation of "
               "G changes V against D = 1/2", spread, 1.0, "the integrator's error bound",
               details={"V": [v.value for v in vals]}),
    ]


def optimal_logits_route(p=None) -> Route:
    """V(D*, G*) with G* = p_data through the package's D* object, which value_function reads
    through its ``logits`` (D* = 1/2 exactly, logit 0): -log 4."""
    t0 = time.perf_counter()
    p = p if p is not None else toys.mixture3()
    star = optimal_discriminator(toys.mixture3(), p)
    v = value_function(star, toys.mixture3(), p)
    return within("quadrature (D*.logits)", "|V(D*, G*) + log 4| with D* = optimal_discriminator(p_data, G*) read "
                  "through its logits (mixture3)", abs(v.value + LOG4), v.error, "the integrator's error bound",
                  seconds=time.perf_counter() - t0)


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


def dirac_route(steps: int = 500, lr: float = 0.1, d_loss=discriminator_loss, g_loss: str = "minimax") -> Route:
    """Dirac-GAN (Mescheder et al. 2018): data at 0, G = delta_theta, D(x) = sigmoid(psi x); the
    equilibrium (0, 0) exists, yet simultaneous gradient steps spiral away from it. The steps
    are the trainer's: its losses (``training.losses``: D minimises BCE = -V, G minimises
    log(1 - D(G(z))), the minimax loss) differentiated by autograd, and its SGD optimizer, with
    both gradients taken at the same point (simultaneous play)."""
    theta = torch.ones(1, 1, dtype=F64, requires_grad=True)
    psi = torch.zeros(1, 1, dtype=F64, requires_grad=True)
    opt_g, opt_d = EnsembleSGD([theta], lr), EnsembleSGD([psi], lr)
    r0 = math.hypot(float(theta.detach()), float(psi.detach()))
    for _ in range(steps):
        real_logits = psi * torch.zeros(1, 1, dtype=F64)  # D's logit at the data point x = 0
        fake_logits = psi * theta  # D's logit at G's point x = theta
        (g_psi,) = torch.autograd.grad(d_loss(real_logits, fake_logits).sum(), [psi], retain_graph=True)
        (g_theta,) = torch.autograd.grad(generator_loss(fake_logits, g_loss).sum(), [theta])
        psi.grad, theta.grad = g_psi, g_theta
        opt_d.step()
        opt_g.step()
    theta, psi = float(theta.detach()), float(psi.detach())
    r = math.hypot(theta, psi)
    return Route("simulation", f"Dirac-GAN, {steps} simultaneous steps of the trainer's losses and SGD (lr {lr}) from "
                 "(theta, psi) = (1, 0): "
                 "distance to the equilibrium, final over initial", r / r0, "value > 1: existence does not imply "
                 "convergence of gradient play", 1.0, "the direction the caveat states", r / r0 > 1.0,
                 {"final": [theta, psi]})


def check(ctx: CheckContext) -> list[Route | Erratum]:
    ctx.note("G10 saddle point")
    out: list[Route | Erratum] = saddle_routes()
    ctx.note("G10 saddle point through logits")
    out += saddle_routes(d_best=_zero_logit, logits=True)
    out.append(optimal_logits_route())
    out.append(dirac_route())
    out.append(erratum())
    return out
