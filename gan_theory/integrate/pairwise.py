"""Quadrature of integrands built from a pair of densities, with a normalisation check.

Every theory quantity (JSD, KL, f-divergences, V(D, G), C(G)) is the integral of a pointwise
function of ``x``, ``log p(x)`` and ``log q(x)``. :func:`pair_integral` integrates such a
function. Unless both densities are known to be normalised, it integrates the densities
themselves on the same nodes: their masses prove that both are normalised, and an
unnormalised density (or a mode the integrator could not locate) is reported as an error
instead of giving a wrong number. In 2-D the masses are also checked for normalised densities
that say so (``verify_mass``: a Gaussian ridge at an angle to the axes, :data:`CHECK_MASS_2D`):
mass the cells missed is then an :class:`AccuracyError`.

The densities are read through the small protocol :class:`PairDensity` (what
:class:`gan_theory.densities.Density` provides); nothing here knows a distribution family.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from ..checks import check_tolerances
from ..logspace import log_density_error
from ..results import AccuracyError, IntegralResult
from .batch import make_batch_domain
from .partition import Landmarks, make_domain
from .refine import integrate

__all__ = ["CHECK_MASS_2D", "DEFAULT_TOLERANCES", "MASS_TOLERANCE", "PairDensity", "check_mass", "pair_integral",
           "tolerances"]

#: Default (atol, rtol) by dimension: error <= max(atol, rtol * |value|).
DEFAULT_TOLERANCES = {1: (1e-13, 1e-11), 2: (1e-11, 1e-10)}
#: A density whose mass differs from 1 by more than this (plus the quadrature error) is rejected.
MASS_TOLERANCE = 1e-9
#: Whether 2-D integrals also integrate both densities and check that each has mass 1, even for
#: densities known to be normalised, where a density says so (``verify_mass``): the cells are
#: products of per-axis intervals, and a ridge thin across a direction at an angle to the axes
#: can pass between every node of a cell, with no error estimate to show it. A mass that is not
#: 1 within its error is then reported. The check costs about as much as the integral itself.
CHECK_MASS_2D = True

Terms = Callable[[np.ndarray, np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]


class PairDensity(Protocol):
    """What :func:`pair_integral` reads from a density (:class:`gan_theory.densities.Density`).

    ``log_prob(x)``: log-density at points (n,) or (n, 2), shape (n,) or (n, B) for a batch of
    ``batch`` densities; ``log_prob_at(x, member)`` (or ``None``): element ``member[i]`` at
    ``x[i]``; ``landmarks``: where the mass lies; ``normalised``: known to have mass 1;
    ``verify_mass``: check the mass even so (2-D); ``eps``: relative precision of ``log_prob``.
    """

    name: str
    dim: int
    eps: float
    normalised: bool
    batch: int | None
    landmarks: Landmarks
    verify_mass: bool
    log_prob_at: Callable[[np.ndarray, np.ndarray], np.ndarray] | None

    def log_prob(self, x: np.ndarray) -> np.ndarray: ...


def _batch_size(p: PairDensity, q: PairDensity) -> int | None:
    sizes = {d.batch for d in (p, q) if d.batch is not None}
    return sizes.pop() if sizes else None


def tolerances(dim: int, atol: float | None, rtol: float | None) -> tuple[float, float]:
    """Resolve ``None`` to the defaults for ``dim`` and validate."""
    d_atol, d_rtol = DEFAULT_TOLERANCES[dim]
    return check_tolerances(d_atol if atol is None else atol, d_rtol if rtol is None else rtol)


def pair_integral(p: PairDensity, q: PairDensity, terms: Terms, *, atol: float | None, rtol: float | None,
                  label: str) -> IntegralResult:
    """Integrate ``terms(x, log p, log q)`` over the whole space and check both masses.

    Parameters
    ----------
    p, q : PairDensity
        The two densities (e.g. from :func:`gan_theory.densities.as_pair`) (same dimension); either may be a batch (``log_prob`` of shape
        (n, B)), and then the result has one value per element. A 1-D batch with
        ``log_prob_at`` (the fast-path families) is integrated element by element on cells of
        its own; other batches share the union of the cells their elements need.
    terms : callable
        ``terms(x, lp, lq) -> (value, noise)`` or ``(value, noise, kink)``, vectorised over
        points (and broadcasting over a batch; see :func:`gan_theory.integrate.integrate`).
    atol, rtol : float or None
        Tolerance on the result (``None``: :data:`DEFAULT_TOLERANCES`).
    label : str
        Name of the quantity, for error messages.
        (A quantity that depends on the log-densities alone can first move a pair far from 0
        near it: :func:`gan_theory.densities.recentre`.)

    Returns
    -------
    IntegralResult
        With float ``value``/``error``, or arrays of shape (B,) for a batch.

    Raises
    ------
    ValueError
        If ``p`` or ``q`` does not integrate to 1.
    AccuracyError
        If the tolerance cannot be met, or a density known to be normalised does not integrate
        to 1 on the quadrature's nodes (mass the integrator missed; checked in 2-D for thin
        Gaussians, :data:`CHECK_MASS_2D`).
    """
    atol, rtol = tolerances(p.dim, atol, rtol)
    batch = _batch_size(p, q)
    if batch is not None and p.normalised and q.normalised and all(
            d.batch is None or d.log_prob_at is not None for d in (p, q)):
        return _batch_integral(p, q, terms, batch, atol, rtol, label)
    domain = make_domain([p.landmarks, q.landmarks])
    width = 1 if batch is None else batch

    def columns(a: np.ndarray, n: int) -> np.ndarray:
        return a[:, None] if a.ndim == 1 and batch is None else np.broadcast_to(a.reshape(n, -1), (n, width))

    def log_probs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lp, lq = p.log_prob(x), q.log_prob(x)
        if batch is not None:  # (n, B) against (n, 1) for a single density
            lp, lq = lp.reshape(x.shape[0], -1), lq.reshape(x.shape[0], -1)
        return lp, lq

    def result(res) -> IntegralResult:
        if batch is None:
            return IntegralResult(float(res.value[0]), float(res.error[0]), "quadrature", res.evaluations, res.cells)
        return IntegralResult(res.value[:width].copy(), res.error[:width].copy(), "quadrature", res.evaluations,
                              res.cells)

    if p.normalised and q.normalised and not (CHECK_MASS_2D and p.dim == 2 and (p.verify_mass or q.verify_mass)):
        def f(x: np.ndarray):
            out = terms(x, *log_probs(x))
            n = x.shape[0]
            return (columns(out[0], n), columns(out[1], n)) + tuple(out[2:])

        res = integrate(f, domain, atol=atol, rtol=rtol, labels=(label,) * width)
        return result(res)

    # The masses only need to be good enough to tell a normalised density from one that is not,
    # and no better than the result itself.
    mass_atol = max(MASS_TOLERANCE / 10, 1e3 * max(p.eps, q.eps), atol, rtol)
    kp, kq = p.batch or 1, q.batch or 1

    def f_mass(x: np.ndarray):
        lp, lq = log_probs(x)
        out = terms(x, lp, lq)
        n = x.shape[0]
        ep, eq = np.exp(lp).reshape(n, kp), np.exp(lq).reshape(n, kq)
        np_ = log_density_error(lp, p.eps).reshape(n, kp) * ep
        nq_ = log_density_error(lq, q.eps).reshape(n, kq) * eq
        return ((np.concatenate([columns(out[0], n), ep, eq], axis=1),
                 np.concatenate([columns(out[1], n), np_, nq_], axis=1)) + tuple(out[2:]))

    k_atol = np.concatenate([np.full(width, atol), np.full(kp + kq, mass_atol)])
    k_rtol = np.concatenate([np.full(width, rtol), np.zeros(kp + kq)])
    labels = (label,) * width + (f"the mass of {p.name}",) * kp + (f"the mass of {q.name}",) * kq
    res = integrate(f_mass, domain, atol=k_atol, rtol=k_rtol, labels=labels)
    for i in range(kp):
        check_mass(p, res.value[width + i], res.error[width + i], mass_atol)
    for i in range(kq):
        check_mass(q, res.value[width + kp + i], res.error[width + kp + i], mass_atol)
    return result(res)


def _batch_integral(p: PairDensity, q: PairDensity, terms: Terms, batch: int, atol: float, rtol: float,
                    label: str) -> IntegralResult:
    """A 1-D batch, each element integrated on cells of its own (:func:`make_batch_domain`):
    the work grows with the sum of the elements' cells, not with batch size times their union."""
    domain = make_batch_domain([p.landmarks, q.landmarks], batch)

    def log_prob(d: PairDensity, x: np.ndarray, member: np.ndarray) -> np.ndarray:
        return d.log_prob(x) if d.batch is None else d.log_prob_at(x, member)

    def f(x: np.ndarray, member: np.ndarray):
        out = terms(x, log_prob(p, x, member), log_prob(q, x, member))
        return (out[0][:, None], out[1][:, None]) + tuple(out[2:])

    labels = tuple(f"{label} (batch element {b})" for b in range(batch))
    res = integrate(f, domain, atol=atol, rtol=rtol, labels=labels)
    return IntegralResult(res.value, res.error, "quadrature", res.evaluations, res.cells)


def check_mass(d: PairDensity, mass: float, error: float, atol: float = 0.0) -> None:
    """Raise a ValueError if a density's integral is not 1 within tolerance."""
    tol = max(MASS_TOLERANCE, 1e3 * d.eps, 10 * atol) + 2 * error
    # a family known to have mass 1: any difference beyond the mass's own error bound (and the
    # rounding of the sum) is mass the integrator missed
    if d.normalised and not abs(mass - 1.0) <= 2 * error + 1e3 * d.eps:
        raise AccuracyError(f"the requested accuracy cannot be met: {d.name} integrates to {mass:.12g} "
                            f"(+- {error:.1g}) on the quadrature's nodes, but has mass 1; the integrator missed "
                            f"part of its mass (a ridge thin across a direction at an angle to the axes, e.g. a "
                            f"correlation close to +-1, not aligned with the other density's)")
    if not abs(mass - 1.0) <= tol:
        raise ValueError(f"{d.name}: the density integrates to {mass:.12g} (+- {error:.1g}), not 1; "
                         f"it is not normalised (or has mass the integrator could not locate)")
