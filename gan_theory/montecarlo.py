"""Monte Carlo estimators of the theory quantities, with CLT confidence intervals.

Cross-checks for the quadrature, and estimators for densities known only through samples
(``value_function`` accepts sample tensors). Every estimator draws with an explicit
``torch.Generator``; the same generator state gives the same result bit for bit.

For an estimator that averages ``n`` i.i.d. terms with sample variance ``s^2``, the reported
``stderr`` is ``s / sqrt(n)`` and the interval is ``value -+ z stderr`` with ``z`` the two-sided
normal quantile of ``confidence``. Measured when the estimators were written: for the JSD,
``RMSE * sqrt(n)`` stays between 0.3 and 0.5 from n = 1e3 to 1e6, so the CLT interval is
reliable there. Never use these as ground truth.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import torch

from .checks import check_int, check_real
from .densities import Density, DensityLike, as_density, as_pair
from .logspace import LOG2, log_sigmoid
from .closed_forms import closed_form
from .results import AccuracyError, MonteCarloResult
from .value import check_saturated, read_discriminator

__all__ = ["criterion", "jsd", "kl", "value_function"]


def _check_generator(generator: torch.Generator) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator (e.g. torch.Generator().manual_seed(0)), "
                        f"got {type(generator).__name__}")
    return generator


def _combine(parts: list[np.ndarray], weights: list[float], n: int, confidence: float) -> MonteCarloResult:
    value = sum(w * float(np.mean(a)) for w, a in zip(weights, parts))
    var = sum(w * w * float(np.var(a, ddof=1)) / a.shape[0] for w, a in zip(weights, parts))
    return MonteCarloResult(value, float(np.sqrt(var)), n, confidence)


def _draw(d: Density, n: int, generator: torch.Generator) -> np.ndarray:
    x = d.sample(n, generator).numpy()
    return x


def _validate(n: int, confidence: float) -> tuple[int, float]:
    return check_int("n", n, lower=2), check_real("confidence", confidence, lower=0.0, upper=1.0,
                                                   lower_open=True, upper_open=True)


def jsd(p: DensityLike, q: DensityLike, *, n: int, generator: torch.Generator,
        confidence: float = 0.99) -> MonteCarloResult:
    """JSD(p || q) = E_p[log p/m]/2 + E_q[log q/m]/2 from ``n`` samples of each density."""
    n, confidence = _validate(n, confidence)
    dp, dq = as_pair(p, q)
    generator = _check_generator(generator)
    xp, xq = _draw(dp, n, generator), _draw(dq, n, generator)
    a = _log_ratio_to_m(dp.log_prob(xp), dq.log_prob(xp))
    b = _log_ratio_to_m(dq.log_prob(xq), dp.log_prob(xq))
    return _combine([a, b], [0.5, 0.5], n, confidence)


def _log_ratio_to_m(la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """log(a / m) = log 2 - log(1 + b/a) = log 2 + log_sigmoid(la - lb), at points where a > 0."""
    with np.errstate(invalid="ignore"):
        return LOG2 + log_sigmoid(la - lb)


#: Tail-shape thresholds of :func:`kl` (see there), and the fewest samples it judges tails from.
HEAVY_TAIL_WARN, HEAVY_TAIL_RAISE, TAIL_MIN_SAMPLES = 0.7, 1.2, 1000


def kl(p: DensityLike, q: DensityLike, *, n: int, generator: torch.Generator,
       confidence: float = 0.99) -> MonteCarloResult:
    """KL(p || q) = E_p[log p - log q] from ``n`` samples of ``p``.

    The mean of ``log p - log q`` need not exist (``KL = inf``, e.g. Cauchy against Normal),
    and then a sample mean is a finite number that means nothing. Two checks:

    * a registered closed form (:mod:`gan_theory.closed_forms`) that says the KL is infinite
      raises ``AccuracyError``;
    * with ``n >= 1000``, the shape ``k`` of a generalised Pareto distribution fitted to each
      tail of the sample log-ratios (the ``min(n/5, 3 sqrt(n))`` most extreme, the estimator of
      Zhang and Stephens 2009 used by Pareto-smoothed importance sampling) is checked: a
      tail with ``k >= 1`` has no mean and one with ``k >= 1/2`` no variance. ``k >= 1.2``
      raises ``AccuracyError`` (the KL is then almost surely infinite: Cauchy against Normal
      gives k = 2); ``0.7 < k < 1.2`` warns that the variance is probably infinite and the
      confidence interval unreliable. This is a diagnostic, measured, not a proof: at
      n = 1e3-1e5 finite-variance pairs (Normal, Laplace, Student-t(5) against Normal or each
      other) gave k <= 0.56, Student-t(1.5) against Normal (infinite KL) k >= 1.21 from n = 1e4.

    Raises
    ------
    AccuracyError
        If the KL is infinite, or its sample log-ratios have a tail too heavy for a mean.

    References
    ----------
    J. Zhang and M. A. Stephens, "A new and efficient estimation method for the generalized
    Pareto distribution", Technometrics 51 (2009). A. Vehtari et al., "Pareto smoothed
    importance sampling", JMLR 25 (2024).
    """
    n, confidence = _validate(n, confidence)
    dp, dq = as_pair(p, q)
    generator = _check_generator(generator)
    try:
        found = closed_form("kl", dp.dist, dq.dist) if isinstance(dp.dist, torch.distributions.Distribution) else None
    except AccuracyError:  # finite, beyond float64: the estimate will say so itself
        found = None
    if found is not None and np.isinf(found[0]):
        raise AccuracyError(f"p, q: KL(p || q) is infinite ({found[2]}); a Monte Carlo estimate of it is "
                            f"meaningless", estimate=math.inf, error=0.0)
    x = _draw(dp, n, generator)
    t = dp.log_prob(x) - dq.log_prob(x)
    if np.isinf(t).any():  # a sample of p where q = 0: exactly infinite
        raise AccuracyError(f"p, q: q vanishes at the sample x = {x[np.isinf(t)][0]} of p, so KL(p || q) is "
                            f"infinite", estimate=math.inf, error=0.0)
    res = _combine([t], [1.0], n, confidence)
    if n >= TAIL_MIN_SAMPLES:
        k = tail_shape(t)
        if k >= HEAVY_TAIL_RAISE:
            raise AccuracyError(f"p, q: the sample log-ratios log p - log q have a tail of Pareto shape "
                                f"k = {k:.2f} >= {HEAVY_TAIL_RAISE} (no mean for k >= 1): KL(p || q) is almost "
                                f"surely infinite (heavy tails of p against q) and the estimate "
                                f"{res.value:.6g} is meaningless", estimate=res.value, error=math.inf)
        if k > HEAVY_TAIL_WARN:
            warnings.warn(f"montecarlo.kl: the sample log-ratios have a tail of Pareto shape k = {k:.2f} > "
                          f"{HEAVY_TAIL_WARN} (no variance for k >= 1/2): the confidence interval is not "
                          f"reliable and KL(p || q) may be infinite", UserWarning, stacklevel=2)
    return res


def _gpd_shape(z: np.ndarray) -> float:
    """Shape ``k`` of a generalised Pareto distribution fitted to exceedances ``z > 0`` (``k > 0``
    for a heavy tail, ``1/k`` its tail index), by the profile-likelihood estimator of Zhang and
    Stephens (2009): the posterior mean of ``theta = -k / sigma`` over a grid of ``m`` values,
    then ``k = -mean(log(1 - theta z))``, in the sign convention where a Pareto tail has
    ``k > 0``."""
    z = np.sort(z)
    n = z.shape[0]
    m = 30 + int(math.sqrt(n))
    j = np.arange(1, m + 1, dtype=np.float64)
    q1 = z[max(int(n / 4 + 0.5) - 1, 0)]
    theta = 1.0 / z[-1] + (1.0 - np.sqrt(m / (j - 0.5))) / (3.0 * q1)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        kk = np.mean(np.log1p(-theta[:, None] * z[None, :]), axis=1)
        loglik = n * (np.log(-theta / kk) - kk - 1.0)
        w = 1.0 / np.sum(np.exp(loglik[None, :] - loglik[:, None]), axis=1)
    w = np.where(np.isfinite(w), w, 0.0)
    th = float(np.sum(theta * w) / np.sum(w))
    return float(np.mean(np.log1p(-th * z)))


def tail_shape(t: np.ndarray) -> float:
    """The larger generalised-Pareto shape ``k`` of the two tails of a sample (see :func:`kl`):
    fitted to the ``min(n/5, 3 sqrt(n))`` largest exceedances of each tail over the next value."""
    n = t.shape[0]
    m = int(min(0.2 * n, 3.0 * math.sqrt(n)))
    shapes = []
    for s in (np.sort(t), np.sort(-t)):
        z = s[-m:] - s[-m - 1]
        z = z[z > 0]
        shapes.append(_gpd_shape(z) if z.size >= 5 else 0.0)
    return max(shapes)


def criterion(p_data: DensityLike, p_g: DensityLike, *, n: int, generator: torch.Generator,
              confidence: float = 0.99) -> MonteCarloResult:
    """C(G) = E_{p_data}[log D*] + E_{p_g}[log(1 - D*)] from ``n`` samples of each."""
    n, confidence = _validate(n, confidence)
    dp, dq = as_pair(p_data, p_g, ("p_data", "p_g"))
    generator = _check_generator(generator)
    xp, xq = _draw(dp, n, generator), _draw(dq, n, generator)
    a = log_sigmoid(dp.log_prob(xp) - dq.log_prob(xp))
    b = log_sigmoid(dq.log_prob(xq) - dp.log_prob(xq))
    return _combine([a, b], [1.0, 1.0], n, confidence)


def value_function(d: Callable, p_data: DensityLike | torch.Tensor, p_g: DensityLike | torch.Tensor,
                   logits: bool = False, *, n: int | None = None, generator: torch.Generator | None = None,
                   confidence: float = 0.99) -> MonteCarloResult:
    """Minibatch estimate of V(D, G) = E_{p_data}[log D] + E_{p_g}[log(1 - D)].

    ``p_data`` and ``p_g`` are densities (then ``n`` samples of each are drawn with
    ``generator``) or tensors of finite samples (shape (n,) or (n, 2)), for densities known only
    through samples; ``n`` is refused when both are tensors (their lengths are the sample sizes). A probability that is exactly 0 at a sample of ``p_data`` (or 1 at a
    sample of ``p_g``) raises ``AccuracyError``, as in :func:`gan_theory.value_function`; pass
    logits instead.
    """
    confidence = check_real("confidence", confidence, lower=0.0, upper=1.0, lower_open=True, upper_open=True)
    if n is not None and isinstance(p_data, torch.Tensor) and isinstance(p_g, torch.Tensor):
        raise ValueError(f"n: both p_data and p_g are sample tensors (of {p_data.shape[0]} and {p_g.shape[0]} "
                         f"points), which fix the sample sizes; n = {n!r} would be ignored. Leave n out, or "
                         f"pass a density to draw n samples from")
    xs = []
    dim = None
    for name, src in (("p_data", p_data), ("p_g", p_g)):
        if isinstance(src, torch.Tensor):
            x = src.detach().to("cpu", torch.float64).numpy()
            d_here = 1 if x.ndim == 1 else 2
            if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[1] != 2) or x.shape[0] < 2:
                raise ValueError(f"{name}: expected samples of shape (n,) or (n, 2) with n >= 2, got {tuple(x.shape)}")
            bad = ~np.isfinite(x).reshape(x.shape[0], -1).all(axis=1)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{name}: the samples must be finite; sample {i} is {x[i].tolist()} "
                                 f"({int(bad.sum())} of {x.shape[0]} samples are not finite)")
        else:
            if n is None or generator is None:
                raise ValueError(f"n, generator: both are needed to sample from the density {name}")
            dens = as_density(src, name)
            d_here = dens.dim
            x = _draw(dens, check_int("n", n, lower=2), _check_generator(generator))
        if dim is not None and d_here != dim:
            raise ValueError("p_data and p_g: samples or densities must have the same dimension")
        dim = d_here
        xs.append(x)
    view = read_discriminator(d, dim, logits=logits)
    logits = view.logits
    vp, _ = view.values(xs[0])
    vq, _ = view.values(xs[1])
    if logits:
        a, b = log_sigmoid(vp), log_sigmoid(-vq)
    else:
        # D = 0 at a sample of p_data (or 1 at one of p_g): -inf, or a rounded probability
        check_saturated(vp, xs[0], np.True_, np.False_)
        check_saturated(vq, xs[1], np.False_, np.True_)
        with np.errstate(divide="ignore"):
            a, b = np.log(vp), np.log1p(-vq)
    return _combine([a, b], [1.0, 1.0], max(xs[0].shape[0], xs[1].shape[0]), confidence)
