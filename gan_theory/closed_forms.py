"""Closed-form divergences, in a registry keyed by (quantity, type of p, type of q).

The same pattern as ``torch.distributions.kl.register_kl``: :func:`register_closed_form`
adds a function for a pair of distribution types, lookup follows the method resolution order
of both types, and the divergence functions fall back to quadrature when nothing is
registered. KL divergences not registered here come from torch's own registry.

Registered here (numerically stable forms, so that tiny divergences keep their relative
accuracy):

* ``kl``: Normal-Normal, MultivariateNormal-MultivariateNormal (2-D), Independent(Normal)
  pairs;
* ``wasserstein1``: Normal-Normal (the mean of a folded normal).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.distributions as td
from scipy.special import ndtr

from .logspace import phi_kl

__all__ = ["closed_form", "has_closed_forms", "register_closed_form"]

_EPS = float(np.finfo(np.float64).eps)
_REGISTRY: dict[tuple[str, type, type], Callable] = {}


def register_closed_form(quantity: str, type_p: type, type_q: type) -> Callable:
    """Register ``fn(p, q) -> (value, error)`` for ``quantity`` on a pair of types.

    ``p`` and ``q`` are float64 torch distributions; ``error`` bounds the absolute error of
    ``value``.
    """

    def decorator(fn: Callable) -> Callable:
        _REGISTRY[(quantity, type_p, type_q)] = fn
        return fn

    return decorator


def has_closed_forms(quantity: str) -> bool:
    """Whether any closed form can exist for ``quantity`` (torch's registry covers ``kl``)."""
    return quantity == "kl" or any(key[0] == quantity for key in _REGISTRY)


def _as_values(value, error) -> tuple:
    v, e = np.asarray(value, dtype=np.float64), np.asarray(error, dtype=np.float64)
    if v.ndim == 0:
        return float(v), float(e)
    return v, np.broadcast_to(e, v.shape).copy()


def closed_form(quantity: str, p: object, q: object) -> tuple | None:
    """``(value, error, source)`` of a registered closed form, or ``None``.

    ``value`` and ``error`` are floats, or arrays of shape (B,) when ``p`` or ``q`` is a batch
    (``batch_shape (B,)``).
    """
    for tp in type(p).__mro__:
        for tq in type(q).__mro__:
            fn = _REGISTRY.get((quantity, tp, tq))
            if fn is not None:
                try:
                    value, error = fn(p, q)
                except NotImplementedError:
                    return None
                return (*_as_values(value, error), "closed form")
    if quantity == "kl" and isinstance(p, td.Distribution) and isinstance(q, td.Distribution):
        try:
            v = _torch_kl(p, q)
        except NotImplementedError:
            return None
        if np.isnan(v).any():
            return None
        return (*_as_values(v, _torch_kl_error(v)), "closed form (torch.distributions)")
    return None


def _torch_kl(p: td.Distribution, q: td.Distribution) -> np.ndarray:
    return td.kl_divergence(p, q).detach().to(torch.float64).numpy()


def _torch_kl_error(v: np.ndarray) -> np.ndarray:
    """A generous bound for torch's (not specially stabilised) KL formulas; 0 for an exact inf."""
    return np.where(np.isinf(v), 0.0, 256 * _EPS * (1.0 + np.abs(np.where(np.isinf(v), 0.0, v))))


def _stable_gauss_kl(dmu2_over_var_q: np.ndarray, log_ratio: np.ndarray) -> np.ndarray:
    """Per-axis KL of Gaussians: ``(phi(-2 s) + t) / 2`` with ``s = log(sigma_p / sigma_q)``."""
    return 0.5 * (phi_kl(-2.0 * log_ratio) + dmu2_over_var_q)


@register_closed_form("kl", td.Normal, td.Normal)
def _kl_normal_normal(p: td.Normal, q: td.Normal):
    """KL(N(mu_p, s_p^2) || N(mu_q, s_q^2)) = [e^{2s} - 1 - 2s + (mu_p - mu_q)^2 / s_q^2] / 2,
    s = log(s_p / s_q) = log1p((s_p - s_q) / s_q)."""
    v = _kl_normal_terms(p, q)
    return v, 32 * _EPS * v


def _kl_normal_terms(p: td.Normal, q: td.Normal) -> np.ndarray:
    """Element-wise stable Normal KL (broadcast over the batch)."""
    sp, sq = p.scale.numpy(), q.scale.numpy()
    s = np.log1p((sp - sq) / sq)
    t = ((p.loc.numpy() - q.loc.numpy()) / sq) ** 2
    return _stable_gauss_kl(t, s)


@register_closed_form("kl", td.Independent, td.Independent)
def _kl_independent(p: td.Independent, q: td.Independent):
    if isinstance(p.base_dist, td.Normal) and isinstance(q.base_dist, td.Normal) \
            and p.reinterpreted_batch_ndims == q.reinterpreted_batch_ndims:
        terms = _kl_normal_terms(p.base_dist, q.base_dist)
        v = np.sum(terms, axis=tuple(range(-p.reinterpreted_batch_ndims, 0)))
        return v, 32 * _EPS * v
    v = _torch_kl(p, q)
    return v, _torch_kl_error(v)


@register_closed_form("kl", td.MultivariateNormal, td.MultivariateNormal)
def _kl_mvn_mvn(p: td.MultivariateNormal, q: td.MultivariateNormal):
    """KL = [sum_i (mu_i - log1p(mu_i)) + d^T S_q^{-1} d] / 2, mu_i the eigenvalues of
    L^{-1}(S_p - S_q)L^{-T} with S_q = L L^T (eigenvalues of S_q^{-1} S_p, minus one)."""
    lq = q.scale_tril
    diff = p.covariance_matrix - q.covariance_matrix
    a = torch.linalg.solve_triangular(lq, diff, upper=False)
    m = torch.linalg.solve_triangular(lq, a.mT, upper=False)
    mu = torch.linalg.eigvalsh(0.5 * (m + m.mT)).numpy()
    # mu - log1p(mu) = phi(-log1p(mu)) with phi(r) = e^{-r} - 1 + r
    trace_term = np.sum(phi_kl(-np.log1p(mu)), axis=-1)
    d = (p.loc - q.loc).unsqueeze(-1)
    z = torch.linalg.solve_triangular(lq, d, upper=False)
    maha = (z ** 2).sum(dim=(-2, -1)).numpy()
    v = 0.5 * (trace_term + maha)
    return v, 64 * _EPS * v


@register_closed_form("wasserstein1", td.Normal, td.Normal)
def _w1_normal_normal(p: td.Normal, q: td.Normal):
    """W1 = E|a + b Z| = a (1 - 2 Phi(-a/b)) + 2 b phi(a/b), a = mu_p - mu_q, b = |s_p - s_q|
    (the quantile coupling; the mean of a folded normal)."""
    a = (p.loc - q.loc).numpy()
    b = np.abs((p.scale - q.scale).numpy())
    a, b = np.broadcast_arrays(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = a / b
        folded = a * (1.0 - 2.0 * ndtr(-z)) + 2.0 * b * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    v = np.where(b == 0.0, np.abs(a), folded)
    return v, np.where(b == 0.0, 4 * _EPS * np.abs(a), 32 * _EPS * (np.abs(a) + b))
