"""The optimal discriminator D* of Goodfellow et al. (2014), Proposition 1, and label variants.

For a fixed generator, the discriminator maximising

.. math::  V(D, G) = E_{p_{data}}[\\ell(\\alpha, D)] + E_{p_g}[\\ell(\\beta, D)],
           \\quad \\ell(y, D) = y \\log D + (1 - y) \\log(1 - D)

(binary cross-entropy with target ``alpha`` for real and ``beta`` for generated samples) is,
pointwise, the maximiser of ``a log y + b log(1 - y)`` with ``a = alpha p_data + beta p_g`` and
``b = (1 - alpha) p_data + (1 - beta) p_g``, that is

.. math::  D^*(x) = \\frac{\\alpha\\, p_{data}(x) + \\beta\\, p_g(x)}{p_{data}(x) + p_g(x)}.

``alpha = 1, beta = 0`` gives ``p_data / (p_data + p_g)``; swapped labels give ``1 - D*``;
``alpha = 0.9`` is one-sided label smoothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.special import expit

from ._checks import check_real
from .densities import DensityLike, as_pair

__all__ = ["OptimalDiscriminator", "optimal_discriminator", "as_points"]


def as_points(x: Any, dim: int, name: str = "x") -> tuple[np.ndarray, tuple[int, ...], Any]:
    """Read points as a float64 array of shape (n,) (1-D) or (n, 2) (2-D).

    Returns the flat array, the batch shape to restore, and a function that converts a NumPy
    result back to the caller's type (a tensor on the caller's device, or an array).
    """
    if isinstance(x, torch.Tensor):
        device = x.device
        arr = x.detach().to("cpu", torch.float64).numpy()

        def back(a: np.ndarray):
            return torch.as_tensor(a).to(device)
    else:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: expected a tensor or array of points, got {type(x).__name__}") from exc

        def back(a: np.ndarray):
            return a
    if dim == 1:
        shape = arr.shape
        flat = arr.reshape(-1)
    else:
        if arr.ndim == 0 or arr.shape[-1] != 2:
            raise ValueError(f"{name}: expected points of shape (n, 2) for 2-D densities, got shape {arr.shape}")
        shape = arr.shape[:-1]
        flat = arr.reshape(-1, 2)
    if np.isnan(flat).any():
        raise ValueError(f"{name}: points must not be NaN")
    return flat, shape, back


class OptimalDiscriminator:
    """The optimal discriminator for fixed densities, as a callable ``x -> D*(x)``.

    .. math::  D^*(x) = \\beta + (\\alpha - \\beta)\\,\\sigma\\big(\\log p_{data}(x) - \\log p_g(x)\\big)

    computed from log-densities with a sigmoid (never as a ratio of densities).

    Where both densities vanish (``p_data(x) = p_g(x) = 0``) every value of ``D`` is optimal,
    because such points do not enter ``V``; by convention ``D*`` returns the midpoint
    ``(alpha + beta) / 2`` there (1/2 for the default labels), the limit of ``D*`` as
    ``p_data / p_g -> 1``.

    Parameters
    ----------
    p_data, p_g : density
        Torch distributions, frozen scipy.stats distributions or toy names (same dimension).
    real_label, fake_label : float
        Targets ``alpha`` (real) and ``beta`` (generated) in [0, 1].

    Examples
    --------
    >>> import torch
    >>> from torch.distributions import Normal
    >>> d = OptimalDiscriminator(Normal(0., 1.), Normal(0., 1.))
    >>> d(torch.tensor([0.0, 3.0]))
    tensor([0.5000, 0.5000], dtype=torch.float64)
    """

    def __init__(self, p_data: DensityLike, p_g: DensityLike, real_label: float = 1.0,
                 fake_label: float = 0.0) -> None:
        self.p_data, self.p_g = as_pair(p_data, p_g, ("p_data", "p_g"))
        self.real_label = check_real("real_label", real_label, lower=0.0, upper=1.0)
        self.fake_label = check_real("fake_label", fake_label, lower=0.0, upper=1.0)

    @property
    def dim(self) -> int:
        return self.p_data.dim

    def log_densities(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(log p_data(x), log p_g(x))`` for flat float64 points."""
        return self.p_data.log_prob(x), self.p_g.log_prob(x)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """D*(x) for flat float64 points (NumPy in, NumPy out)."""
        lp, lq = self.log_densities(x)
        both = (lp == -np.inf) & (lq == -np.inf)
        with np.errstate(invalid="ignore"):
            r = np.where(both, 0.0, lp - lq)
        a, b = self.real_label, self.fake_label
        return b + (a - b) * expit(r)

    def logit_values(self, x: np.ndarray) -> np.ndarray:
        """``log(D* / (1 - D*))`` for flat float64 points (NumPy in, NumPy out)."""
        lp, lq = self.log_densities(x)
        a, b = self.real_label, self.fake_label
        if a == 1.0 and b == 0.0:
            both = (lp == -np.inf) & (lq == -np.inf)
            with np.errstate(invalid="ignore"):
                return np.where(both, 0.0, lp - lq)
        with np.errstate(divide="ignore", invalid="ignore"):
            num = np.logaddexp(math.log(a) + lp if a > 0 else -np.inf, math.log(b) + lq if b > 0 else -np.inf)
            den = np.logaddexp(math.log1p(-a) + lp if a < 1 else -np.inf,
                               math.log1p(-b) + lq if b < 1 else -np.inf)
            out = num - den
        both = (lp == -np.inf) & (lq == -np.inf)
        mid = 0.5 * (a + b)
        with np.errstate(divide="ignore"):
            out = np.where(both, math.log(mid) - math.log1p(-mid) if 0 < mid < 1 else
                           (np.inf if mid == 1 else -np.inf), out)
        return np.where(np.isnan(out), 0.0, out)

    def __call__(self, x: Any) -> Any:
        """D*(x). ``x`` has shape (...,) in 1-D or (..., 2) in 2-D; the result has shape (...,)
        and the caller's type (a float64 tensor on the caller's device, or an array)."""
        flat, shape, back = as_points(x, self.dim)
        return back(self.probabilities(flat).reshape(shape))

    def logits(self, x: Any) -> Any:
        """The logit of D*, ``log D* - log(1 - D*)`` (``log p_data - log p_g`` for default labels)."""
        flat, shape, back = as_points(x, self.dim)
        return back(self.logit_values(flat).reshape(shape))

    def __repr__(self) -> str:
        return (f"OptimalDiscriminator(p_data={self.p_data.source!r}, p_g={self.p_g.source!r}, "
                f"real_label={self.real_label}, fake_label={self.fake_label})")


def optimal_discriminator(p_data: DensityLike, p_g: DensityLike, real_label: float = 1.0,
                          fake_label: float = 0.0) -> OptimalDiscriminator:
    """Return the optimal discriminator ``x -> D*(x)`` for fixed ``p_data`` and ``p_g``.

    .. math::  D^*(x) = \\frac{\\alpha\\, p_{data}(x) + \\beta\\, p_g(x)}{p_{data}(x) + p_g(x)}

    with ``alpha = real_label`` and ``beta = fake_label``: ``p_data / (p_data + p_g)`` by
    default (Goodfellow et al. 2014, Prop. 1), ``1 - D*`` for swapped labels, the
    label-smoothed optimum otherwise. Where both densities vanish it returns
    ``(alpha + beta) / 2``; see :class:`OptimalDiscriminator`.

    Parameters
    ----------
    p_data, p_g : density
        Torch distributions with event_shape () or (2,), frozen 1-D scipy.stats distributions,
        or toy names.
    real_label, fake_label : float
        Target labels in [0, 1].

    Returns
    -------
    OptimalDiscriminator
        Callable on a tensor of shape (n,) (1-D) or (n, 2) (2-D), returning probabilities;
        ``.logits(x)`` gives the logits.

    References
    ----------
    I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Proposition 1.
    """
    return OptimalDiscriminator(p_data, p_g, real_label, fake_label)
