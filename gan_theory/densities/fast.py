"""Fast views: NumPy log-densities and hints of the families with a NumPy log-density.

The quadrature evaluates log-densities on a few hundred points per call, where the cost of
``torch.distributions`` is dominated by per-operation overhead (a 1-D JSD must take well under a
millisecond). For the families of the table (:mod:`.families`) with a ``log_prob`` the
parameters are read once into float64 NumPy arrays, the log-density is evaluated with the
table's formulas in NumPy, and the quadrature hints come from the same arrays
(``tests/test_families.py`` checks every formula against ``log_prob`` of the distribution):

* 1-D: the table's families with a ``log_prob`` (Normal, Laplace, Cauchy, StudentT, Uniform);
* 2-D: MultivariateNormal (its formula is here), Independent over a batch of two of them;
* MixtureSameFamily of any of these (log-sum-exp over components).

Exact types only (a subclass may change the density). Other families go through
``log_prob`` and the hints of :mod:`.hints`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributions as td

from .families import Family, family, read_params
from .hints import Hints

__all__ = ["FastView", "fast_view"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_EMPTY = np.empty(0)
_EMPTY.flags.writeable = False
LogProb = Callable[[np.ndarray], np.ndarray]
LogProbAt = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FastView:
    """A NumPy log-density and the hints of a distribution of a known family.

    For a 1-D batch, ``log_prob_at(x, member)`` is the log-density of batch element
    ``member[i]`` at ``x[i]`` (shape (n,)): each element evaluated at its own points.
    """

    log_prob: LogProb
    hints: Hints
    log_prob_at: LogProbAt | None = None


def _fast(t: type) -> Family | None:
    """The table's entry for exactly ``t`` if it has a NumPy log-density."""
    fam = family(t)
    return fam if fam is not None and fam.log_prob is not None else None


def _event(d: td.Distribution, name: str, path: str, points_last: bool = False):
    """(log_prob over the event, centres (k, dim), scales, per-axis breaks, lower (dim,),
    upper (dim,)) or None.

    The log_prob takes x of shape (n, [K,] event...) and returns (n, [K]); with
    ``points_last`` (mixture components) it takes x of shape (n, event...) and returns
    (..., K, n), the batch first, so that sums over components run along contiguous rows.
    """
    t = type(d)
    fam = _fast(t)

    def col(v):
        return np.asarray(v, dtype=np.float64)[..., None] if points_last else v

    if fam is not None:
        p = read_params(d, fam, name, path)
        c, s, b = fam.hints(**p)
        lo, hi = fam.bounds(**p) if fam.bounds else (-math.inf, math.inf)
        breaks = (_EMPTY if b is None else np.ravel(b),)
        log_prob = fam.log_prob(**{k: col(v) for k, v in p.items()})
        if isinstance(c, float):
            return log_prob, np.array([[c]]), np.array([[s]]), breaks, np.array([lo]), np.array([hi])
        return (log_prob, np.reshape(c, (-1, 1)), np.reshape(s, (-1, 1)), breaks,
                np.array([np.min(lo)]), np.array([np.max(hi)]))
    if t is td.MultivariateNormal and d.event_shape == (2,):
        loc = d.loc.detach().to("cpu", torch.float64).numpy()
        tril = d.scale_tril.detach().to("cpu", torch.float64).numpy()
        if not (np.all(np.isfinite(loc)) and np.all(np.isfinite(tril))):
            raise ValueError(f"{name}: parameters {path}loc and {path}scale_tril of MultivariateNormal must be "
                             f"finite, found loc={loc.tolist()}, scale_tril={tril.tolist()}")
        l00, l10, l11 = tril[..., 0, 0], tril[..., 1, 0], tril[..., 1, 1]
        if not (np.all(l00 > 0) and np.all(l11 > 0)):
            raise ValueError(f"{name}: the covariance of MultivariateNormal must be positive definite")
        c0 = -np.log(l00 * l11) - 2 * _HALF_LOG_2PI
        m0, m1, a00, a10, a11, k0 = (col(v) for v in (loc[..., 0], loc[..., 1], l00, l10, l11, c0))

        def mvn(x):
            z0 = (x[..., 0] - m0) / a00
            z1 = (x[..., 1] - m1 - a10 * z0) / a11
            z0 *= z0
            z1 *= z1
            z0 += z1
            z0 *= -0.5
            z0 += k0
            return z0

        sd = np.stack([l00, np.hypot(l10, l11)], -1)
        inf = np.full(2, np.inf)
        return mvn, loc.reshape(-1, 2), sd.reshape(-1, 2), (np.empty(0), np.empty(0)), -inf, inf
    if t is td.Independent and d.reinterpreted_batch_ndims == 1 and d.event_shape == (2,) \
            and d.base_dist.event_shape == () and _fast(type(d.base_dist)) is not None:
        base = d.base_dist
        fam = _fast(type(base))
        p = read_params(base, fam, name, path + "base_dist.")
        # One closure per axis, on (n, [K]) columns: no (n, K, 2) temporaries.
        shape = tuple(base.batch_shape)
        f0, f1 = (fam.log_prob(**{k: col(np.broadcast_to(v, shape)[..., j]) for k, v in p.items()}) for j in range(2))
        c, s, b = fam.hints(**p)
        c, s = np.broadcast_to(c, base.batch_shape), np.broadcast_to(s, base.batch_shape)
        if fam.bounds:
            lo, hi = (np.broadcast_to(v, base.batch_shape).reshape(-1, 2) for v in fam.bounds(**p))
            lower, upper = lo.min(axis=0), hi.max(axis=0)
        else:
            lower, upper = np.full(2, -np.inf), np.full(2, np.inf)
        if b is None:
            breaks = (np.empty(0), np.empty(0))
        else:
            b = np.broadcast_to(b, tuple(base.batch_shape) + b.shape[-1:]).reshape(-1, 2, b.shape[-1])
            breaks = (b[:, 0].ravel(), b[:, 1].ravel())

        def independent(x):
            out = f0(x[..., 0])
            out += f1(x[..., 1])
            return out

        return independent, c.reshape(-1, 2), s.reshape(-1, 2), breaks, lower, upper
    return None


def fast_view(d: td.Distribution, name: str) -> FastView | None:
    """The fast view of ``d`` (batch_shape ``()`` or ``(B,)``), or ``None`` if its family has
    none. For a batch, ``log_prob(x)`` has shape (n, B) and the hints cover every element.

    Raises
    ------
    ValueError
        If a parameter is NaN, infinite or outside its constraint (naming ``name``).
    """
    two_d = d.event_shape == (2,)
    batched = len(d.batch_shape) == 1

    def expand(x: np.ndarray, axes: int) -> np.ndarray:
        """Add ``axes`` axes after the points' axis (before the event axis in 2-D)."""
        idx = (slice(None),) + (None,) * axes
        return x[idx + (slice(None),)] if two_d else x[idx]

    if type(d) is td.MixtureSameFamily:
        ev = _event(d.component_distribution, name, "component_distribution.", points_last=True)
        if ev is None:
            return None
        comp, c, s, breaks, lower, upper = ev
        logits = d.mixture_distribution.logits.detach().to("cpu", torch.float64).numpy()
        if not np.all(np.isfinite(logits) | (logits == -np.inf)) or np.any(np.all(logits == -np.inf, axis=-1)):
            raise ValueError(f"{name}: the mixture weights must be finite and not all zero, found "
                             f"probs={d.mixture_distribution.probs.tolist()}")
        logw = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        logw_col = logw[..., None]

        def mixture(x):
            v = comp(x)  # (..., K, n)
            v += logw_col
            out = _log_sum_exp(v, axis=-2)
            return out.T if batched else out  # (n,) or (n, B)

        keep = np.exp(logw).reshape(-1) > 0
        if batched and not two_d:
            size = d.batch_shape[0]
            members = (np.repeat(np.arange(size), logw.shape[-1])[keep], _members(breaks[0], size))
            return FastView(mixture, Hints(lower, upper, c[keep], s[keep], breaks, members),
                            _mixture_at(d.component_distribution, logw, name))
        return FastView(mixture, Hints(lower, upper, c[keep], s[keep], tuple(np.unique(b) for b in breaks)))
    ev = _event(d, name, "")
    if ev is None:
        return None
    fn, c, s, breaks, lower, upper = ev
    if batched and not two_d:
        size = d.batch_shape[0]
        hints = Hints(lower, upper, c, s, breaks, (np.arange(size), _members(breaks[0], size)))
        return FastView(lambda x: fn(expand(x, 1)), hints, _family_at(d, name))
    hints = Hints(lower, upper, c, s, tuple(np.unique(b) if b.size > 1 else b for b in breaks))
    if batched:
        return FastView(lambda x: fn(expand(x, 1)), hints)
    return FastView(fn, hints)


def _members(flat: np.ndarray, size: int) -> np.ndarray:
    """Batch element of each entry of a per-element array raveled from shape (size, ...)."""
    return np.repeat(np.arange(size), flat.size // size)


def _log_sum_exp(v: np.ndarray, axis: int) -> np.ndarray:
    """``m + log sum exp(v - m)`` over ``axis``, with ``m`` the maximum (0 where it is not
    finite, so that all ``-inf`` gives ``-inf``). Works in place: ``v`` is overwritten."""
    m = v.max(axis=axis)
    m[~np.isfinite(m)] = 0.0
    v -= np.expand_dims(m, axis)
    np.exp(v, out=v)
    out = v.sum(axis=axis)
    with np.errstate(divide="ignore"):
        np.log(out, out=out)
    out += m
    return out


def _gathered(d: td.Distribution, fam: Family, name: str, path: str) -> Callable[[np.ndarray], dict]:
    """A function ``member -> parameters of those batch elements`` (checked, float64)."""
    p = read_params(d, fam, name, path)
    shape = tuple(d.batch_shape)
    full = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), shape) for k, v in p.items()}
    return lambda member: {k: v[member] for k, v in full.items()}


def _family_at(d: td.Distribution, name: str) -> LogProbAt:
    """``log_prob_at`` of a 1-D batch of a family: its parameters gathered per point."""
    fam = _fast(type(d))
    gather = _gathered(d, fam, name, "")
    return lambda x, member: fam.log_prob(**gather(member))(x)


def _mixture_at(comp: td.Distribution, logw: np.ndarray, name: str) -> LogProbAt:
    """``log_prob_at`` of a 1-D batch of mixtures: components (n, K) per point, log-sum-exp."""
    fam = _fast(type(comp))
    gather = _gathered(comp, fam, name, "component_distribution.")

    def log_prob_at(x, member):
        v = fam.log_prob(**gather(member))(x[:, None])  # (n, K)
        v += logw[member]
        return _log_sum_exp(v, axis=1)

    return log_prob_at
