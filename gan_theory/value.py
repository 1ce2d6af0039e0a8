"""The GAN value function V(D, G) and the training criterion C(G) = max_D V(D, G).

.. math::

    V(D, G) = E_{x \\sim p_{data}}[\\log D(x)] + E_{x \\sim p_g}[\\log(1 - D(x))],
    \\qquad C(G) = V(D^*, G) = -\\log 4 + 2\\,\\mathrm{JSD}(p_{data} \\| p_g)

(Goodfellow et al. 2014, eq. 1 and Theorem 1). Both are computed by quadrature with an error
bound; :func:`criterion` integrates ``V(D*, G)`` directly, so the identity with the JSD (computed
by :func:`gan_theory.jsd` from a different integrand) is a check, not an assumption.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ._pairwise import pair_integral
from .densities import DensityLike, as_pair
from .logspace import criterion_terms, log_sigmoid
from .results import IntegralResult

__all__ = ["DiscriminatorView", "criterion", "read_discriminator", "value_function"]

_EPS64 = float(np.finfo(np.float64).eps)


def _module_dtype(module: torch.nn.Module) -> torch.dtype | None:
    for prm in module.parameters():
        return prm.dtype
    return None


@dataclass(frozen=True)
class DiscriminatorView:
    """How the engine reads a discriminator: ``values(x) -> (array (n,), relative precision)``,
    whether those are logits, and, for piecewise-smooth networks, ``kinks(x) -> (n, h)``
    (pre-activations whose sign changes mark where the function is not smooth)."""

    values: Callable[[np.ndarray], tuple[np.ndarray, float]]
    logits: bool
    kinks: Callable[[np.ndarray], np.ndarray] | None = None


def read_discriminator(d: Callable, dim: int, *, logits: bool, name: str = "d") -> DiscriminatorView:
    """Wrap a user discriminator for the engine.

    ``d`` is called on a float64 tensor of shape (n,) (1-D) or (n, 2) (2-D) and may return a
    tensor or array of shape (n,) or (n, 1). A ``d`` with a ``logits`` method (an
    :class:`~gan_theory.OptimalDiscriminator`, a trained discriminator) is read through its
    logits; one with a ``kinks`` method gives the quadrature the places where it is not smooth.
    A ``torch.nn.Module`` with float32 weights is evaluated through a float64 copy (the same
    function, without float32 rounding). Outputs are checked: NaN is an error, and so are
    probabilities outside [0, 1].
    """
    if not callable(d):
        raise TypeError(f"{name}: expected a callable discriminator x -> D(x), got {type(d).__name__}")
    kinks = getattr(d, "kinks", None)
    kinks = kinks if callable(kinks) else None
    if not logits and callable(getattr(d, "logits", None)):
        d, logits = d.logits, True
    fn = d
    if isinstance(d, torch.nn.Module) and _module_dtype(d) not in (None, torch.float64):
        fn = copy.deepcopy(d).double()

    def values(x: np.ndarray) -> tuple[np.ndarray, float]:
        xt = torch.from_numpy(np.ascontiguousarray(x))
        with torch.no_grad():
            out = fn(xt)
        if isinstance(out, torch.Tensor):
            eps = float(torch.finfo(out.dtype).eps) if out.is_floating_point() else _EPS64
            arr = out.detach().to("cpu", torch.float64).numpy()
        else:
            arr = np.asarray(out)
            eps = float(np.finfo(arr.dtype).eps) if np.issubdtype(arr.dtype, np.floating) else _EPS64
            arr = arr.astype(np.float64)
        n = x.shape[0]
        if arr.shape not in ((n,), (n, 1)):
            raise ValueError(f"{name}: expected an output of shape ({n},) for {n} points, got shape {arr.shape}")
        arr = arr.reshape(n)
        if np.isnan(arr).any():
            i = int(np.flatnonzero(np.isnan(arr))[0])
            raise ValueError(f"{name}: returned NaN at x = {x[i]}")
        if not logits and (arr.min() < 0.0 or arr.max() > 1.0):
            i = int(np.argmax((arr < 0) | (arr > 1)))
            raise ValueError(f"{name}: returned {arr[i]} at x = {x[i]}, outside [0, 1]; a discriminator "
                             f"returns probabilities (pass logits=True if it returns logits)")
        return arr, eps

    return DiscriminatorView(values, bool(logits), kinks)


def value_function(d: Callable, p_data: DensityLike, p_g: DensityLike, logits: bool = False, *,
                   atol: float | None = None, rtol: float | None = None) -> IntegralResult:
    """The GAN value function ``V(D, G)`` for any discriminator ``d``, by quadrature.

    .. math::  V(D, G) = \\int p_{data} \\log D + p_g \\log(1 - D)\\, dx

    With ``logits=True``, ``d`` returns logits ``l`` and ``log D = log_sigmoid(l)``,
    ``log(1 - D) = log_sigmoid(-l)`` (the stable forms). A ``d`` with a ``logits`` method (an
    :class:`~gan_theory.OptimalDiscriminator`, a trained discriminator) is evaluated through it.
    Points where a density vanishes contribute nothing (0 log 0 = 0); if ``D = 0`` where
    ``p_data > 0`` (or ``D = 1`` where ``p_g > 0``) the value is ``-inf``, also when a
    probability underflows to 0 in the tails: pass logits to avoid that.

    Parameters
    ----------
    d : callable
        ``x -> D(x)``: a tensor of shape (n,) (1-D) or (n, 2) (2-D) in, shape (n,) out. A
        ``torch.nn.Module``, an :class:`~gan_theory.OptimalDiscriminator` or any function.
    p_data, p_g : density
        The data and generator densities.
    logits : bool
        Whether ``d`` returns logits instead of probabilities.
    atol, rtol : float, optional
        Tolerance ``error <= max(atol, rtol |V|)``; defaults 1e-13/1e-11 (1-D), 1e-11/1e-10 (2-D).

    Returns
    -------
    IntegralResult
        ``.value`` and ``.error``.

    Raises
    ------
    ValueError
        If ``d`` returns NaN or (without ``logits``) values outside [0, 1].
    AccuracyError
        If the tolerance cannot be met (e.g. ``d`` computes in float32: loosen ``rtol``).

    References
    ----------
    I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, eq. (1).
    """
    dp, dq = as_pair(p_data, p_g, ("p_data", "p_g"))
    # An OptimalDiscriminator (or a trained discriminator of gan_theory) is read through its
    # logits, so that D underflowing to 0 or 1 in the tails does not turn V into -inf.
    view = read_discriminator(d, dp.dim, logits=bool(logits))
    logits = view.logits

    def terms(x, lp, lq):
        v, eps_d = view.values(x)
        if logits:
            log_d, log_1md = log_sigmoid(v), log_sigmoid(-v)
            with np.errstate(over="ignore"):
                dl = eps_d * (np.abs(v) + 1.0)
            err_d, err_1md = dl * (1 - np.exp(log_d)), dl * np.exp(log_d)
        else:
            with np.errstate(divide="ignore"):
                log_d, log_1md = np.log(v), np.log1p(-v)
            err_d = np.full_like(v, 2 * eps_d)
            with np.errstate(divide="ignore", invalid="ignore"):
                err_1md = 2 * eps_d * v / (1 - v)
        p, q = np.exp(lp), np.exp(lq)
        p_zero, q_zero = p == 0.0, q == 0.0  # 0 log 0 = 0, also where exp underflows
        with np.errstate(invalid="ignore"):
            a = np.where(p_zero, 0.0, p * log_d)
            b = np.where(q_zero, 0.0, q * log_1md)
            dp_ = np.where(p_zero, 0.0, 4 * dp.eps * (np.abs(lp) + 1))
            dq_ = np.where(q_zero, 0.0, 4 * dq.eps * (np.abs(lq) + 1))
            noise = (np.abs(a) * (dp_ + 8 * _EPS64) + np.where(p_zero, 0.0, p * err_d)
                     + np.abs(b) * (dq_ + 8 * _EPS64) + np.where(q_zero, 0.0, q * err_1md))
        out = (a + b, np.where(np.isfinite(noise), noise, 0.0))
        return out + (view.kinks(x),) if view.kinks is not None else out

    return pair_integral(dp, dq, terms, atol=atol, rtol=rtol, label="V(D, G)")


def criterion(p_data: DensityLike, p_g: DensityLike, *, atol: float | None = None,
              rtol: float | None = None) -> IntegralResult:
    """The training criterion ``C(G) = max_D V(D, G) = V(D*, G)``, by quadrature.

    .. math::  C(G) = \\int p_{data} \\log \\frac{p_{data}}{p_{data} + p_g}
                      + p_g \\log \\frac{p_g}{p_{data} + p_g}\\, dx
                    = -\\log 4 + 2\\,\\mathrm{JSD}(p_{data} \\| p_g)

    The integrand is ``p log_sigmoid(r) + q log_sigmoid(-r)`` with ``r = log p_data - log p_g``.
    ``C(G) >= -log 4`` with equality iff ``p_g = p_data``; ``C(G) = 0`` for disjoint supports.

    Parameters
    ----------
    p_data, p_g : density
        The data and generator densities (same dimension); either may be a batch, as in
        :func:`gan_theory.jsd`.
    atol, rtol : float, optional
        Tolerance; defaults as in :func:`value_function`.

    Returns
    -------
    IntegralResult

    References
    ----------
    I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Theorem 1.
    """
    dp, dq = as_pair(p_data, p_g, ("p_data", "p_g"), batch=True)
    eps = (dp.eps, dq.eps)
    return pair_integral(dp, dq, lambda x, lp, lq: criterion_terms(lp, lq, eps), atol=atol, rtol=rtol,
                         label="C(G)", shift_invariant=True)
