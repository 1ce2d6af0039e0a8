"""Fast views of the families the engine evaluates most: NumPy log-densities and hints.

The quadrature evaluates log-densities on a few hundred points per call, where the cost of
``torch.distributions`` is dominated by per-operation overhead (a 1-D JSD must take well under a
millisecond). For these families the parameters are read once into float64 NumPy arrays, the
log-density is evaluated with the same formulas in NumPy, and the quadrature hints come from
the same arrays (tests check every formula against ``log_prob`` of the float64 distribution):

* 1-D: Normal, Laplace, Cauchy, StudentT, Uniform;
* 2-D: MultivariateNormal, Independent over a batch of two Normals or Uniforms;
* MixtureSameFamily of any of these (log-sum-exp over components).

Exact types only (a subclass may change the density). Other families go through
``log_prob`` and the hint registry of :mod:`gan_theory._hints`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributions as td
from scipy.special import gammaln

from ._hints import Hints

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


@dataclass(frozen=True)
class _Family:
    """Per-family formulas on NumPy parameter arrays (any batch shape)."""

    names: tuple[str, ...]  # parameter attributes, in constructor order
    positive: tuple[str, ...]  # parameters that must be > 0
    log_prob: Callable[..., LogProb]
    hints: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray | None]]  # centre, scale, breaks
    bounds: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None  # support (lower, upper)


def _normal(loc, scale):
    c = -np.log(scale) - _HALF_LOG_2PI

    def log_prob(x):
        # c - ((x - loc) / scale)^2 / 2, in place (these arrays are large in 2-D mixtures);
        # dividing first keeps scales below 1e-154 (whose square underflows) working
        d = x - loc
        with np.errstate(over="ignore"):  # -inf where (x - loc) / scale overflows: exact
            d /= scale
            d *= d
        d *= -0.5
        d += c
        return d

    return log_prob


def _laplace(loc, scale):
    c = -np.log(2 * scale)
    return lambda x: c - np.abs(x - loc) / scale


def _cauchy(loc, scale):
    c = -np.log(np.pi * scale)
    return lambda x: c - np.log1p(((x - loc) / scale) ** 2)


def _student_t(df, loc, scale):
    c = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * np.log(df * np.pi) - np.log(scale)
    return lambda x: c - (df + 1) / 2 * np.log1p(((x - loc) / scale) ** 2 / df)


def _uniform(low, high):
    c = -np.log(high - low)
    # torch's convention: the support is [low, high)
    return lambda x: np.where((x >= low) & (x < high), c, -np.inf)


_FAMILIES: dict[type, _Family] = {
    td.Normal: _Family(("loc", "scale"), ("scale",), _normal, lambda loc, scale: (loc, scale, None)),
    td.Laplace: _Family(("loc", "scale"), ("scale",), _laplace,
                        lambda loc, scale: (loc, scale, np.asarray(loc)[..., None])),
    td.Cauchy: _Family(("loc", "scale"), ("scale",), _cauchy, lambda loc, scale: (loc, scale, None)),
    td.StudentT: _Family(("df", "loc", "scale"), ("df", "scale"), _student_t,
                         lambda df, loc, scale: (loc, scale, None)),
    td.Uniform: _Family(("low", "high"), (), _uniform,
                        lambda low, high: ((low + high) / 2, (high - low) / 2, np.stack(np.broadcast_arrays(low, high), -1)),
                        lambda low, high: (low, high)),
}


_TINY = float(np.finfo(np.float64).tiny)


def _params(d: td.Distribution, fam: _Family, name: str, path: str) -> dict[str, np.ndarray | float]:
    """The parameters as float64 (Python floats for scalars), checked."""
    out = {}
    for k in fam.names:
        v = getattr(d, k)
        if isinstance(v, torch.Tensor) and v.dim() == 0:
            a = float(v)
            ok_finite, ok_pos = math.isfinite(a), a > 0
        else:
            a = v.detach().to("cpu", torch.float64).numpy() if isinstance(v, torch.Tensor) else np.asarray(v, np.float64)
            ok_finite, ok_pos = bool(np.all(np.isfinite(a))), bool(np.all(a > 0))
        if not ok_finite:
            bad = a if isinstance(a, float) else a[~np.isfinite(a)].ravel()[0]
            raise ValueError(f"{name}: parameter {path + k!r} of {type(d).__name__} must be finite, found {bad}")
        if k in fam.positive and not ok_pos:
            bad = a if isinstance(a, float) else a[~(a > 0)].ravel()[0]
            raise ValueError(f"{name}: parameter {path + k!r} of {type(d).__name__} must be positive, found {bad}")
        if k == "scale" and np.min(a) < _TINY:  # the density's peak would overflow float64
            raise ValueError(f"{name}: parameter {path + k!r} of {type(d).__name__} must be at least {_TINY:.4g} "
                             f"(the smallest normal float64), found {np.min(a):.4g}")
        out[k] = a
    if type(d) is td.Uniform and not np.all(np.asarray(out["low"]) < np.asarray(out["high"])):
        raise ValueError(f"{name}: parameters {path}low and {path}high of Uniform must satisfy low < high, "
                         f"found low={np.asarray(out['low']).tolist()}, high={np.asarray(out['high']).tolist()}")
    return out


def _event(d: td.Distribution, name: str, path: str, points_last: bool = False):
    """(log_prob over the event, centres (k, dim), scales, per-axis breaks, lower (dim,),
    upper (dim,)) or None.

    The log_prob takes x of shape (n, [K,] event...) and returns (n, [K]); with
    ``points_last`` (mixture components) it takes x of shape (n, event...) and returns
    (..., K, n), the batch first, so that sums over components run along contiguous rows.
    """
    t = type(d)
    fam = _FAMILIES.get(t)

    def col(v):
        return np.asarray(v, dtype=np.float64)[..., None] if points_last else v

    if fam is not None:
        p = _params(d, fam, name, path)
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
            and type(d.base_dist) in (td.Normal, td.Uniform):
        base = d.base_dist
        fam = _FAMILIES[type(base)]
        p = _params(base, fam, name, path + "base_dist.")
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


def _gathered(d: td.Distribution, fam: _Family, name: str, path: str) -> Callable[[np.ndarray], dict]:
    """A function ``member -> parameters of those batch elements`` (checked, float64)."""
    p = _params(d, fam, name, path)
    shape = tuple(d.batch_shape)
    full = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), shape) for k, v in p.items()}
    return lambda member: {k: v[member] for k, v in full.items()}


def _family_at(d: td.Distribution, name: str) -> LogProbAt:
    """``log_prob_at`` of a 1-D batch of a family: its parameters gathered per point."""
    fam = _FAMILIES[type(d)]
    gather = _gathered(d, fam, name, "")
    return lambda x, member: fam.log_prob(**gather(member))(x)


def _mixture_at(comp: td.Distribution, logw: np.ndarray, name: str) -> LogProbAt:
    """``log_prob_at`` of a 1-D batch of mixtures: components (n, K) per point, log-sum-exp."""
    fam = _FAMILIES[type(comp)]
    gather = _gathered(comp, fam, name, "component_distribution.")

    def log_prob_at(x, member):
        v = fam.log_prob(**gather(member))(x[:, None])  # (n, K)
        v += logw[member]
        return _log_sum_exp(v, axis=1)

    return log_prob_at
