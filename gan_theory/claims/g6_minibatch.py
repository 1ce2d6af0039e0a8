"""G6: minibatch estimates.

The minibatch average of log D(x_i) + log(1 - D(G(z_i))) is an unbiased estimate of V(D, G),
and its gradient of the gradient of V; the error shrinks like 1/sqrt(m). Checked against
quadrature with CLT bounds at a stated false-alarm rate.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from scipy.special import ndtri

from ..constants import F64
from .. import toys
from ..discriminator import optimal_discriminator
from ..training.losses import softplus
from ..value import value_function
from .base import CheckContext, Route

__all__ = ["check", "unbiased_route", "rate_route", "gradient_route"]

ALPHA = 1e-6  # false-alarm rate of each CLT check
Z = float(ndtri(1 - ALPHA / 2))  # two-sided


def _setup():
    p, q = toys.gaussian(0.0, 1.0), toys.gaussian(1.0, 1.5)
    # a fixed discriminator that is not D*: the logit of D* plus a smooth perturbation
    star = optimal_discriminator(p, q)

    def logits(x):
        return star.logits(x) + 0.3 * torch.sin(x)

    return p, q, logits


def minibatch_estimates(m: int, batches: int, seed: int, estimator=None) -> np.ndarray:
    """``batches`` minibatch estimates of V with minibatches of size ``m`` (independent draws)."""
    p, q, logits = _setup()
    g = torch.Generator().manual_seed(seed)
    x = p.loc + p.scale * torch.randn(batches, m, generator=g, dtype=F64)
    y = q.loc + q.scale * torch.randn(batches, m, generator=g, dtype=F64)
    if estimator is not None:
        return estimator(logits(x), logits(y)).numpy()
    return (-softplus(-logits(x)).mean(1) - softplus(logits(y)).mean(1)).numpy()


def unbiased_route(ctx: CheckContext, m: int = 64, batches: int = 20000, estimator=None) -> Route:
    t0 = time.perf_counter()
    p, q, logits = _setup()
    v = value_function(logits, p, q, logits=True, atol=1e-12)
    est = minibatch_estimates(m, batches, ctx.seed, estimator)
    mean, se = float(est.mean()), float(est.std(ddof=1) / math.sqrt(batches))
    return Route("Monte Carlo vs quadrature", f"|mean of {batches} minibatch estimates (m = {m}) - V(D, G)| for a "
                 "fixed D that is not D*", abs(mean - v.value), "value <= tolerance",
                 Z * se + v.error, f"CLT interval, false-alarm rate {ALPHA:g} (z = {Z:.2f})",
                 abs(mean - v.value) <= Z * se + v.error, {"mean": mean, "stderr": se, "V": v.value},
                 time.perf_counter() - t0)


def rate_route(ctx: CheckContext, sizes=(16, 64, 256, 1024), batches: int = 4000) -> Route:
    """Standard deviation of the estimate against m: log-log slope -1/2."""
    t0 = time.perf_counter()
    sds = [float(minibatch_estimates(m, batches, ctx.seed + k).std(ddof=1)) for k, m in enumerate(sizes)]
    logm = np.log(sizes)
    slope = float(np.polyfit(logm, np.log(sds), 1)[0])
    # log of a sample sd from n draws has standard deviation ~ 1/sqrt(2 (n - 1)); a least-squares
    # slope over the points log m has standard deviation that over sqrt(sum (log m - mean)^2)
    tol = Z / math.sqrt(2 * (batches - 1)) / math.sqrt(float(np.sum((logm - logm.mean()) ** 2)))
    return Route("Monte Carlo", f"log-log slope of the estimate's standard deviation over m in {list(sizes)}",
                 abs(slope + 0.5), "|slope + 1/2| <= tolerance", tol,
                 f"sampling error of the sds ({batches} minibatches each), z = {Z:.2f}", abs(slope + 0.5) <= tol,
                 {"sizes": list(sizes), "sd": sds, "slope": slope}, time.perf_counter() - t0)


def gradient_route(ctx: CheckContext, m: int = 64, batches: int = 20000) -> Route:
    """The minibatch gradient of mean log(1 - D(G(z))) in the affine generator's (scale, loc) is
    unbiased for d/dtheta of E log(1 - D(G(z))) (Gauss-Hermite quadrature, 200 nodes)."""
    t0 = time.perf_counter()
    _, _, logits = _setup()
    theta = (1.5, 1.0)
    z, w = np.polynomial.hermite_e.hermegauss(200)
    th = torch.tensor(theta, dtype=F64, requires_grad=True)
    zz = torch.tensor(z, dtype=F64)
    ww = torch.tensor(w / math.sqrt(2 * math.pi), dtype=F64)
    (exact,) = torch.autograd.grad((ww * -softplus(logits(th[0] * zz + th[1]))).sum(), th)
    g = torch.Generator().manual_seed(ctx.seed + 100)
    zb = torch.randn(batches, m, generator=g, dtype=F64)
    # per-minibatch gradients in one backward pass: with x = scale z + loc, the gradient of the
    # minibatch mean of f(x) is (mean f'(x) z, mean f'(x))
    x = (theta[0] * zb + theta[1]).requires_grad_(True)
    (fx,) = torch.autograd.grad(-softplus(logits(x)).sum(), x)
    jac = torch.stack([(fx * zb).mean(1), fx.mean(1)], dim=1).numpy()
    mean, se = jac.mean(0), jac.std(0, ddof=1) / math.sqrt(jac.shape[0])
    dev = np.abs(mean - exact.numpy())
    ok = bool(np.all(dev <= Z * se + 1e-12))
    return Route("Monte Carlo vs quadrature", f"max over (scale, loc) of |mean minibatch gradient - exact gradient| "
                 f"({jac.shape[0]} minibatches of m = {m})", float((dev / (Z * se)).max()),
                 "value <= 1 (in units of the CLT half-width)", 1.0, f"CLT, false-alarm rate {ALPHA:g} per component",
                 ok, {"mean": mean.tolist(), "stderr": se.tolist(), "exact": exact.tolist()}, time.perf_counter() - t0)


def check(ctx: CheckContext) -> list[Route]:
    ctx.note("G6 minibatch estimates")
    return [unbiased_route(ctx), rate_route(ctx), gradient_route(ctx)]
