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

from .checks import check_int, check_real
from .densities import DensityLike, as_pair
from .integrate import EXTENT
from .logspace import label_logit

#: The absolute rounding error of a probability in [0, 1] after the few operations that make it
#: (``expit``, ``b + (a - b) s``, the difference of two such), each rounding by at most half an
#: ulp of 1 (2^-53 = 1.1e-16): 8e-16 covers seven of them.
_ROUND_01 = 8e-16

__all__ = ["OptimalDiscriminator", "as_points", "discriminator_error", "discriminator_sup_error", "optimal_discriminator"]


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
            out = label_logit(lp, lq, a, b)  # the trainer's D* logit is the same function
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


def discriminator_error(d: Any, p_data: DensityLike, p_g: DensityLike, logits: bool = False, *,
                        real_label: float = 1.0, fake_label: float = 0.0, atol: float | None = None,
                        rtol: float | None = None):
    """Distance of a discriminator from the optimum, weighted by the mixture ``m``.

    .. math::  \\| D - D^* \\|_m = \\Big( \\int m(x)\\, (D(x) - D^*(x))^2\\, dx \\Big)^{1/2},
               \\quad m = \\tfrac12 (p_{data} + p_g)

    by quadrature, with ``D*`` for the given labels. The result's error bounds the square
    root: if the integral is ``I +- e``, the error is the larger distance from ``sqrt(I)`` to
    ``sqrt(I - e)`` and ``sqrt(I + e)``.

    Parameters
    ----------
    d : callable
        ``x -> D(x)`` (probabilities), or logits with ``logits=True``; a ``d`` with a
        ``logits`` method is evaluated through it.
    p_data, p_g : density
    logits : bool
        Whether ``d`` returns logits (``True`` or ``False``; other types are a ``TypeError``).
        Ignored when ``d`` has a ``logits`` method.
    real_label, fake_label : float
        The labels that define ``D*`` (see :func:`optimal_discriminator`).
    atol, rtol : float, optional
        Tolerance on the integral ``I`` (defaults as for :func:`gan_theory.value_function`).

    Returns
    -------
    IntegralResult
    """
    from .integrate import pair_integral
    from .results import IntegralResult
    from .value import read_discriminator

    star = OptimalDiscriminator(p_data, p_g, real_label, fake_label)
    view = read_discriminator(d, star.dim, logits=logits)
    logits = view.logits
    a, b = star.real_label, star.fake_label

    def terms(x, lp, lq):
        v, eps_d = view.values(x)
        dd = expit(v) if logits else v
        with np.errstate(invalid="ignore"):
            r = np.where((lp == -np.inf) & (lq == -np.inf), 0.0, lp - lq)
        ds = b + (a - b) * expit(r)
        m = 0.5 * np.exp(np.logaddexp(lp, lq))
        diff = dd - ds
        value = m * diff * diff
        err_d = eps_d * (np.abs(v) + 1.0) * dd * (1 - dd) if logits else eps_d * np.abs(dd)
        noise = 2 * m * np.abs(diff) * (err_d + _ROUND_01) + _ROUND_01 * value
        return (value, noise) + ((view.kinks(x),) if view.kinks is not None else ())

    res = pair_integral(star.p_data, star.p_g, terms, atol=atol, rtol=rtol, label="||D - D*||_m^2")
    s = math.sqrt(max(res.value, 0.0))
    err = max(s - math.sqrt(max(res.value - res.error, 0.0)), math.sqrt(max(res.value, 0.0) + res.error) - s)
    return IntegralResult(s, err, "quadrature", res.evaluations, res.cells)


def discriminator_sup_error(d: Any, p_data: DensityLike, p_g: DensityLike, logits: bool = False, *,
                            real_label: float = 1.0, fake_label: float = 0.0, mass: float = 0.99,
                            points: int | None = None) -> float:
    """Largest ``|D - D*|`` over the central region holding ``mass`` of ``m = (p_data + p_g)/2``.

    An estimate, not a bound: the maximum over a grid (``points`` per axis; 4001 in 1-D, 301
    in 2-D) of the region. In 1-D the region is the interval between the ``(1 - mass)/2`` and
    ``(1 + mass)/2`` quantiles of ``m``; in 2-D it is the smallest set of grid cells of highest
    ``m`` that holds ``mass`` of it. Quantiles and masses come from the grid (trapezoid rule
    in 1-D, cell sums in 2-D) over a box holding every mode's +-8 scales. ``points`` must be
    an integer >= 3, and the grid must put at least one point inside the region (a
    ``ValueError`` naming ``points`` otherwise).
    """
    star = OptimalDiscriminator(p_data, p_g, real_label, fake_label)
    mass = check_real("mass", mass, lower=0.0, upper=1.0, lower_open=True, upper_open=True)
    if points is not None:
        points = check_int("points", points, lower=3)
    from .value import read_discriminator

    view = read_discriminator(d, star.dim, logits=logits)
    logits, values = view.logits, view.values
    h = [star.p_data.hints, star.p_g.hints]
    centers = np.concatenate([x.centers for x in h])
    scales = np.concatenate([x.scales for x in h])
    # the boxes the quadrature refines up front (EXTENT scales around every mode)
    lo = np.maximum((centers - EXTENT * scales).min(axis=0), np.minimum(h[0].lower, h[1].lower))
    hi = np.minimum((centers + EXTENT * scales).max(axis=0), np.maximum(h[0].upper, h[1].upper))
    n = points if points is not None else (4001 if star.dim == 1 else 301)
    if star.dim == 1:
        x = np.linspace(lo[0], hi[0], n)
        lp, lq = star.log_densities(x)
        m = 0.5 * np.exp(np.logaddexp(lp, lq))
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (m[1:] + m[:-1]) * np.diff(x))])
        cdf /= cdf[-1]
        inside = (cdf >= (1 - mass) / 2) & (cdf <= (1 + mass) / 2)
    else:
        g0, g1 = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
        xx, yy = np.meshgrid(g0, g1, indexing="ij")
        x = np.stack([xx.ravel(), yy.ravel()], axis=1)
        lp, lq = star.log_densities(x)
        m = 0.5 * np.exp(np.logaddexp(lp, lq))
        order = np.argsort(-m)
        cum = np.cumsum(m[order]) / m.sum()
        keep = order[: int(np.searchsorted(cum, mass)) + 1]
        inside = np.zeros(m.shape[0], dtype=bool)
        inside[keep] = True
    if not inside.any():
        raise ValueError(f"points: a grid of {n} points per axis has no point inside the region holding "
                         f"mass={mass} of m; use more points (the default is {4001 if star.dim == 1 else 301})")
    v, _ = values(x[inside])
    dd = expit(v) if logits else v
    return float(np.max(np.abs(dd - star.probabilities(x[inside]))))
