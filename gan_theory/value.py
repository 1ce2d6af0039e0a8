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

from .checks import check_flag
from .integrate import pair_integral
from .densities import DensityLike, as_pair, recentred
from .logspace import criterion_terms, log_density_error, log_sigmoid
from .results import AccuracyError, IntegralResult

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


_SHAPE_WORDS = ("shape", "size", "dimension", "dim ", "mat1", "mat2", "broadcast", "expected input", "ndim")


def _is_shape_error(exc: BaseException) -> bool:
    """Whether an exception from a discriminator's first call reads as a complaint about the
    input's shape (torch's and NumPy's messages say shape, size, dimension, mat1/mat2...)."""
    text = str(exc).lower()
    return any(w in text for w in _SHAPE_WORDS)


def read_discriminator(d: Callable, dim: int, *, logits: bool, name: str = "d") -> DiscriminatorView:
    """Wrap a user discriminator for the engine.

    ``d`` is called on a float64 tensor of shape (n,) (1-D) or (n, 2) (2-D) and may return a
    tensor or array of shape (n,) or (n, 1). A 1-D ``d`` whose first call fails on shape (n,)
    with a shape error (a ``torch.nn.Module`` starting with ``Linear(1, h)``, say) is called
    with shape (n, 1) from then on; if it fails on both, the error names both shapes and the
    first failure. Any other error, and any error after the first call, is the user's and
    propagates unchanged. A ``d``
    with a ``logits`` method (an :class:`~gan_theory.OptimalDiscriminator`, a trained
    discriminator) is read through its logits; one with a ``kinks`` method gives the quadrature the places where it is not smooth.
    A ``torch.nn.Module`` with float32 weights is evaluated through a float64 copy (the same
    function, without float32 rounding). Outputs are checked: NaN is an error, and so are
    probabilities outside [0, 1]. ``logits`` must be a bool (a ``TypeError`` otherwise); it is
    ignored for a ``d`` with a ``logits`` method, which is always read through that method.
    """
    logits = check_flag("logits", logits)
    if not callable(d):
        raise TypeError(f"{name}: expected a callable discriminator x -> D(x), got {type(d).__name__}")
    kinks = getattr(d, "kinks", None)
    kinks = kinks if callable(kinks) else None
    # A d with a logits method is read through it whatever the flag: with logits=True its
    # probabilities would otherwise be taken for logits.
    if callable(getattr(d, "logits", None)):
        d, logits = d.logits, True
    fn = d
    if isinstance(d, torch.nn.Module) and _module_dtype(d) not in (None, torch.float64):
        fn = copy.deepcopy(d).double()

    mode = {}  # a 1-D d's input shape, decided on the first call: "flat" (n,) or "column" (n, 1)

    def call(xt: torch.Tensor):
        if dim != 1 or mode.get("shape") == "flat":
            return fn(xt)
        if mode.get("shape") == "column":
            return fn(xt[:, None])
        # first call: shape (n,); only a shape error (a RuntimeError, ValueError or IndexError
        # that speaks of shapes or sizes) is retried with (n, 1), and the choice is then kept.
        # Any other error is the user's and propagates unchanged, on this call and every later one.
        try:
            out = fn(xt)
        except (RuntimeError, ValueError, IndexError) as exc:
            if not _is_shape_error(exc):
                raise
            try:
                out = fn(xt[:, None])
            except Exception:
                raise RuntimeError(f"{name}: calling the discriminator failed on 1-D points of shape "
                                   f"({xt.shape[0]},) and of shape ({xt.shape[0]}, 1); the error with shape "
                                   f"({xt.shape[0]},) was: {type(exc).__name__}: {exc}") from exc
            mode["shape"] = "column"
            return out
        mode["shape"] = "flat"
        return out

    def values(x: np.ndarray) -> tuple[np.ndarray, float]:
        xt = torch.from_numpy(np.ascontiguousarray(x))
        with torch.no_grad():
            out = call(xt)
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


def check_saturated(v: np.ndarray, x: np.ndarray, p_pos: np.ndarray, q_pos: np.ndarray,
                    name: str = "d") -> None:
    """Raise :class:`~gan_theory.AccuracyError` where a probability-valued ``D`` is exactly 0 where
    ``p_data > 0`` or exactly 1 where ``p_g > 0`` (``log D`` or ``log(1 - D)`` is ``-inf`` there).

    From probabilities alone, a ``D`` that is 1 by construction cannot be told from a sigmoid
    that rounded to 1 in its tail (``sigmoid(5x)`` at ``x = 8``), where ``V`` is finite; so
    neither is turned into ``-inf``. Logits tell them apart: an infinite logit is exact.
    """
    p_pos, q_pos = np.broadcast_to(p_pos, v.shape), np.broadcast_to(q_pos, v.shape)
    bad0, bad1 = p_pos & (v == 0.0), q_pos & (v == 1.0)
    if not (bad0.any() or bad1.any()):
        return
    zero = bool(bad0.any())
    i = int(np.flatnonzero(bad0 if zero else bad1)[0])
    which, dens, term = ("0", "p_data", "log D") if zero else ("1", "p_g", "log(1 - D)")
    raise AccuracyError(f"{name}: returned exactly {which} at x = {x[i]} where {dens} > 0, so {term} = -inf there. "
                        f"If D is exactly {which} there by construction, V(D, G) = -inf; if the probability only "
                        f"rounded to {which} (a sigmoid in its tail), V is finite and float64 probabilities cannot "
                        f"give it. Pass logits instead (logits=True with a d returning logits, or a d with a "
                        f"`logits` method): an infinite logit then gives -inf, a finite one the finite value",
                        estimate=-np.inf)


def value_function(d: Callable, p_data: DensityLike, p_g: DensityLike, logits: bool = False, *,
                   atol: float | None = None, rtol: float | None = None) -> IntegralResult:
    """The GAN value function ``V(D, G)`` for any discriminator ``d``, by quadrature.

    .. math::  V(D, G) = \\int p_{data} \\log D + p_g \\log(1 - D)\\, dx

    With ``logits=True``, ``d`` returns logits ``l`` and ``log D = log_sigmoid(l)``,
    ``log(1 - D) = log_sigmoid(-l)`` (the stable forms). A ``d`` with a ``logits`` method (an
    :class:`~gan_theory.OptimalDiscriminator`, a trained discriminator) is evaluated through it.
    Points where a density vanishes contribute nothing (0 log 0 = 0). Probabilities that are
    exactly 0 where ``p_data > 0`` (or exactly 1 where ``p_g > 0``) raise ``AccuracyError``
    naming the point: from probabilities alone, a ``D`` that is 1 there by construction (then
    ``V = -inf``) cannot be told from a sigmoid that rounded to 1 in its tail (then ``V`` is
    finite), so neither returns ``-inf``. Pass logits: a logit of ``+inf`` where
    ``p_g > 0`` (or ``-inf`` where ``p_data > 0``) gives ``V = -inf`` (the true value), and
    finite logits the finite one. ``D*`` is read through its logits, which are infinite only
    where a density vanishes.

    Parameters
    ----------
    d : callable
        ``x -> D(x)``: a tensor of shape (n,) (1-D) or (n, 2) (2-D) in, shape (n,) out. A
        ``torch.nn.Module``, an :class:`~gan_theory.OptimalDiscriminator` or any function.
    p_data, p_g : density
        The data and generator densities.
    logits : bool
        Whether ``d`` returns logits instead of probabilities (``True`` or ``False``; other
        types are a ``TypeError``). Ignored when ``d`` has a ``logits`` method.
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
        If the tolerance cannot be met (e.g. ``d`` computes in float32: loosen ``rtol``), or
        if probabilities are exactly 0 or 1 where they make ``V`` infinite (see above).

    References
    ----------
    I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, eq. (1).
    """
    dp, dq = as_pair(p_data, p_g, ("p_data", "p_g"))
    # An OptimalDiscriminator (or a trained discriminator of gan_theory) is read through its
    # logits, so that D underflowing to 0 or 1 in the tails does not turn V into -inf.
    view = read_discriminator(d, dp.dim, logits=logits)
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
        if not logits:
            check_saturated(v, x, ~p_zero, ~q_zero)
        with np.errstate(invalid="ignore"):
            a = np.where(p_zero, 0.0, p * log_d)
            b = np.where(q_zero, 0.0, q * log_1md)
            dp_ = np.where(p_zero, 0.0, log_density_error(lp, dp.eps))
            dq_ = np.where(q_zero, 0.0, log_density_error(lq, dq.eps))
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
    return pair_integral(*recentred(dp, dq), lambda x, lp, lq: criterion_terms(lp, lq, eps), atol=atol, rtol=rtol,
                         label="C(G)")
