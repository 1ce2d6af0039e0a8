"""G8: label conventions.

With real labelled 0 and generated 1, the optimal discriminator is p_g/(p_data + p_g) = 1 - D*
and the game is otherwise the same. Targets alpha (real) and beta (generated) give the
optimum (alpha p_data + beta p_g)/(p_data + p_g) (one- and two-sided label smoothing), and a
trained D approaches it. Erratum: "with swapped labels, D* = p_data/(p_data + p_g)" fails.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from ..constants import F64
from .. import toys
from ..discriminator import discriminator_error, optimal_discriminator
from ..training.fit import fit_discriminator
from ..value import criterion, value_function
from .base import CheckContext, Erratum, Route, within

__all__ = ["check", "swapped_route", "smoothing_route", "trained_route"]



def _pair():
    return toys.mixture2(), toys.gaussian(0.5, 2.0)


def _points():
    return torch.linspace(-8.0, 8.0, 801, dtype=F64)


def swapped_route(formula=None) -> Route:
    """The maximiser of E_p[log(1 - D)] + E_q[log D] pointwise, against 1 - D* (or ``formula``)."""
    t0 = time.perf_counter()
    p, q = _pair()
    x = _points()
    d = optimal_discriminator(p, q)
    lp, lq = d.log_densities(x.numpy())
    target = formula(x) if formula is not None else 1 - d(x)
    worst = 0.0
    for a, b, t in zip(np.exp(lp), np.exp(lq), target.numpy()):
        # pointwise objective with swapped labels: p log(1 - y) + q log y, maximised in the log-odds
        res = minimize_scalar(lambda z: a * np.logaddexp(0, z) + b * np.logaddexp(0, -z), bracket=(-1.0, 1.0),
                              method="brent", tol=1e-12)
        worst = max(worst, abs(1 / (1 + math.exp(-res.x)) - t))
    return within("optimiser vs formula", "swapped labels: max over 801 points of |pointwise argmax - (1 - D*)|",
                  worst, 1e-7, "Brent in the log-odds (flat maximum: ~sqrt(eps))", seconds=time.perf_counter() - t0)


def smoothing_route(alpha: float = 0.9, beta: float = 0.1, formula=None) -> Route:
    t0 = time.perf_counter()
    p, q = _pair()
    x = _points()
    d = optimal_discriminator(p, q, real_label=alpha, fake_label=beta)
    lp, lq = d.log_densities(x.numpy())
    target = formula(x) if formula is not None else d(x)
    worst = 0.0
    for a, b, t in zip(np.exp(lp), np.exp(lq), target.numpy()):
        wa, wb = alpha * a + beta * b, (1 - alpha) * a + (1 - beta) * b  # weights of log y and log(1 - y)
        res = minimize_scalar(lambda z: wa * np.logaddexp(0, -z) + wb * np.logaddexp(0, z), bracket=(-1.0, 1.0),
                              method="brent", tol=1e-12)
        worst = max(worst, abs(1 / (1 + math.exp(-res.x)) - t))
    return within("optimiser vs formula", f"targets alpha = {alpha}, beta = {beta}: max over 801 points of "
                  "|pointwise argmax of the expected BCE - (alpha p + beta q)/(p + q)|", worst, 1e-7,
                  "Brent in the log-odds (flat maximum: ~sqrt(eps))", seconds=time.perf_counter() - t0)


def same_game_route() -> Route:
    """With swapped labels the value of the game at its optimum is C(G) again."""
    p, q = _pair()
    c = criterion(p, q)
    swapped = optimal_discriminator(p, q, real_label=0.0, fake_label=1.0)
    # V with swapped roles: E_p[log(1 - D)] + E_q[log D] = value_function(1 - D, p, q)
    v = value_function(lambda x: -swapped.logits(x), p, q, logits=True)
    return within("quadrature", "|E_p log(1 - D_s) + E_q log D_s - C(G)| at the swapped-label optimum D_s",
                  abs(v.value - c.value), v.error + c.error, "the integrators' error bounds")


def trained_route(ctx: CheckContext, alpha: float = 0.9, beta: float = 0.0) -> Route:
    """A discriminator trained with smoothed labels approaches the smoothed optimum (and not D*)."""
    t0 = time.perf_counter()
    p, q = toys.gaussian(0.0, 1.0), toys.gaussian(1.0, 1.5)
    steps = 3000 if ctx.full else 1500
    r = fit_discriminator(p, q, steps=steps, seed=ctx.seed, ensemble=2, real_label=alpha, fake_label=beta,
                          log_every=steps, device=ctx.device, progress=False)
    to_plain = [discriminator_error(d, p, q, atol=1e-7).value for d in r.discriminators]
    ok = max(r.d_error) <= 0.01 and min(to_plain) > 5 * max(r.d_error)
    return Route("trained network", f"one-sided smoothing (alpha = {alpha}): max over 2 seeds of ||D - D*_smoothed||_m "
                 f"after {steps} steps (distance to the unsmoothed D*: {min(to_plain):.3f})", max(r.d_error),
                 "value <= tolerance and the unsmoothed D* is at least 5 times farther", 0.01,
                 "issue 3's bar for D-only training", ok, {"to_smoothed": r.d_error, "to_plain": to_plain},
                 time.perf_counter() - t0)


def erratum() -> Erratum:
    p, q = _pair()
    x = _points()
    d, swapped = optimal_discriminator(p, q), optimal_discriminator(p, q, real_label=0.0, fake_label=1.0)
    wrong = float(torch.max(torch.abs(swapped(x) - d(x))))
    right = float(torch.max(torch.abs(swapped(x) - (1 - d(x)))))
    stated = within("closed form", "swapped labels: max |D_s - p/(p + q)| over 801 points", wrong, 1e-12, "rounding")
    corrected = within("closed form", "swapped labels: max |D_s - (1 - p/(p + q))| over 801 points", right, 1e-15,
                       "rounding")
    return Erratum("with real labelled 0 and generated 1, the optimal discriminator is still p_data/(p_data + p_g)",
                   "it is p_g/(p_data + p_g) = 1 - D*", stated, corrected)


def check(ctx: CheckContext) -> list[Route | Erratum]:
    ctx.note("G8 label conventions")
    out: list[Route | Erratum] = [swapped_route(), smoothing_route(), same_game_route()]
    ctx.note("G8 trained discriminator with smoothed labels")
    out.append(trained_route(ctx))
    out.append(erratum())
    return out
