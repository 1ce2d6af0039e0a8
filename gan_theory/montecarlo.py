"""Monte Carlo estimators of the theory quantities, with CLT confidence intervals.

Cross-checks for the quadrature, and estimators for densities known only through samples
(``value_function`` accepts sample tensors). Every estimator draws with an explicit
``torch.Generator``; the same generator state gives the same result bit for bit.

For an estimator that averages ``n`` i.i.d. terms with sample variance ``s^2``, the reported
``stderr`` is ``s / sqrt(n)`` and the interval is ``value -+ z stderr`` with ``z`` the two-sided
normal quantile of ``confidence``. Measured facts (PERF-NOTES): for the JSD,
``RMSE * sqrt(n)`` stays between 0.3 and 0.5 from n = 1e3 to 1e6, so the CLT interval is
reliable there. Never use these as ground truth.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ._checks import check_int, check_real
from .densities import Density, DensityLike, as_density, as_pair
from .logspace import LOG2, log_sigmoid
from .results import MonteCarloResult
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


def kl(p: DensityLike, q: DensityLike, *, n: int, generator: torch.Generator,
       confidence: float = 0.99) -> MonteCarloResult:
    """KL(p || q) = E_p[log p - log q] from ``n`` samples of ``p``."""
    n, confidence = _validate(n, confidence)
    dp, dq = as_pair(p, q)
    generator = _check_generator(generator)
    x = _draw(dp, n, generator)
    return _combine([dp.log_prob(x) - dq.log_prob(x)], [1.0], n, confidence)


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
    ``generator``) or tensors of samples (shape (n,) or (n, 2)), for densities known only
    through samples. A probability that is exactly 0 at a sample of ``p_data`` (or 1 at a
    sample of ``p_g``) raises ``AccuracyError``, as in :func:`gan_theory.value_function`; pass
    logits instead.
    """
    confidence = check_real("confidence", confidence, lower=0.0, upper=1.0, lower_open=True, upper_open=True)
    xs = []
    dim = None
    for name, src in (("p_data", p_data), ("p_g", p_g)):
        if isinstance(src, torch.Tensor):
            x = src.detach().to("cpu", torch.float64).numpy()
            d_here = 1 if x.ndim == 1 else 2
            if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[1] != 2) or x.shape[0] < 2:
                raise ValueError(f"{name}: expected samples of shape (n,) or (n, 2) with n >= 2, got {tuple(x.shape)}")
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
