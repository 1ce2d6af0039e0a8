"""Mode coverage of an exact p_g by quadrature: the mass of each mode's region, with error bounds;
and the metrics of a run (:func:`coverage_metrics`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import check_int, check_real
from ..densities import Density, DensityLike, as_density
from ..integrate import EXTENT, RESOLUTION, AxisMap, Domain, integrate, split_cells
from ..logspace import log_density_error
from ..results import AccuracyError
from .modes import _EPS, TargetModes, _check_modes, _whiten
from .samples import _reverse_kl, mode_coverage


@dataclass(frozen=True)
class ModeMass:
    """Exact p_g-mass near each mode, with error bounds (see :func:`mode_mass`)."""

    masses: tuple[float, ...]
    errors: tuple[float, ...]
    captured: tuple[bool, ...]
    modes_captured: int
    mass_near_modes: float
    mass_near_modes_error: float
    reverse_kl: float
    reverse_kl_error: float
    regions_separated: bool
    radius: float
    capture_fraction: float
    evaluations: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (per-mode lists included)."""
        return {"mode_mass_captured": self.modes_captured, "mass_near_modes": self.mass_near_modes,
                "mass_near_modes_error": self.mass_near_modes_error, "reverse_kl_mass": self.reverse_kl,
                "reverse_kl_mass_error": self.reverse_kl_error, "mode_masses": list(self.masses),
                "mode_mass_errors": list(self.errors), "mode_regions_separated": self.regions_separated,
                "radius": self.radius, "capture_fraction": self.capture_fraction}


def _phi_range(lo: np.ndarray, hi: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of the convex ``phi(q) = q log(q / w)`` over ``[lo, hi]`` (``phi(0) = 0``;
    its minimum ``-w/e`` is at ``q = w/e``)."""
    def phi(q):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(q > 0, q * np.log(q / w), 0.0)
    ends = np.stack([phi(lo), phi(hi)])
    inside = (lo <= w / math.e) & (w / math.e <= hi)
    return np.where(inside, -w / math.e, ends.min(axis=0)), ends.max(axis=0)


def _kl_bound(m: np.ndarray, e: np.ndarray, w: np.ndarray, kl: float) -> float:
    """A bound on ``|KL(m / sum m || w) - kl|`` for true masses within ``m +- e``: every ``q_i``
    lies in ``[(m_i - e_i)_+ / (S + E), (m_i + e_i) / (S - E)]`` (``S = sum m``, ``E = sum e``),
    and each term ``phi(q_i)`` in its range over that interval. The reverse KL lies in
    ``[0, max log(1/w)]`` whatever the masses, so the bound is at most that width."""
    s, big_e = float(m.sum()), float(e.sum())
    width = float(-np.log(w.min()))
    if not s - big_e > 0:
        return width
    lo = np.maximum(m - e, 0.0) / (s + big_e)
    hi = np.minimum((m + e) / (s - big_e), 1.0)
    pmin, pmax = _phi_range(lo, hi, w)
    rounding = 16 * _EPS * (abs(kl) + float(np.sum(np.abs(m) / s * np.abs(np.log(np.maximum(m / s, 1e-300) / w)))))
    return min(width, max(kl - max(0.0, float(pmin.sum())), float(pmax.sum()) - kl, 0.0) + rounding)


def _initial_cells(dp: Density, modes: TargetModes, radius: float, max_cells: int) -> tuple[np.ndarray, ...]:
    """Initial cells in the whitened polar (2-D) or whitened (1-D) coordinates of every mode:
    a coarse grid, bisected where a component of ``p_g`` (its hints, whitened) meets a cell
    until the cell is at most the engine's resolution (:data:`gan_theory.integrate.RESOLUTION`,
    2 scales in 1-D, 8 in 2-D) wide within :data:`gan_theory.integrate.EXTENT` scales of it."""
    resolution = RESOLUTION[modes.dim - 1]
    d, m_modes = modes.dim, modes.n_modes
    norms = np.linalg.norm(modes.scale_trils, ord=2, axis=(1, 2))  # the largest stretch of each L_i
    u = _whiten(dp.hints.centers, modes)  # (K, M, d)
    sig = dp.hints.scales.min(axis=1)[:, None] / norms[None, :]  # (K, M): whitened scale, conservative
    if d == 1:
        edges = np.linspace(-radius, radius, 3)
        lo = np.tile(edges[:-1], m_modes)[:, None]
        hi = np.tile(edges[1:], m_modes)[:, None]
    else:
        r_edges, t_edges = np.array([0.0, radius]), np.linspace(0.0, 2 * math.pi, 5)
        rr, tt = np.meshgrid(np.arange(1), np.arange(4), indexing="ij")
        base_lo = np.stack([r_edges[rr.ravel()], t_edges[tt.ravel()]], axis=1)
        base_hi = np.stack([r_edges[rr.ravel() + 1], t_edges[tt.ravel() + 1]], axis=1)
        lo, hi = np.tile(base_lo, (m_modes, 1)), np.tile(base_hi, (m_modes, 1))
        rho_k, th_k = np.linalg.norm(u, axis=2), np.mod(np.arctan2(u[..., 1], u[..., 0]), 2 * math.pi)
    owner = np.repeat(np.arange(m_modes), lo.shape[0] // m_modes)
    for _ in range(64):
        s = sig[:, owner].T  # (m, K)
        reach = EXTENT * s
        if d == 1:
            c = u[:, owner, 0].T
            meets = (c + reach >= lo) & (c - reach <= hi)
            split = np.any(meets & (hi - lo > resolution * s), axis=1)[:, None]
        else:
            rk, tk = rho_k[:, owner].T, th_k[:, owner].T
            r0, r1, t0, t1 = lo[:, :1], hi[:, :1], lo[:, 1:], hi[:, 1:]
            dr = np.maximum(np.maximum(r0 - rk, rk - r1), 0.0)
            dt = np.minimum(np.mod(t0 - tk, 2 * math.pi), np.mod(tk - t1, 2 * math.pi))
            dt = np.where((tk >= t0) & (tk <= t1), 0.0, np.minimum(dt, math.pi / 2))
            meets = (dr <= reach) & (rk * np.sin(dt) <= reach)
            split = np.stack([np.any(meets & (r1 - r0 > resolution * s), axis=1),
                              np.any(meets & (r1 * (t1 - t0) > resolution * s), axis=1)], axis=1)
        rows = split.any(axis=1)
        if not rows.any():
            break
        if lo.shape[0] + rows.sum() * (2 ** d - 1) > max_cells * m_modes:
            raise AccuracyError(f"the requested accuracy cannot be met for the p_g-mass near the modes: p_g has "
                                f"components much narrower than the modes (whitened scale {float(sig.min()):.3g}); "
                                f"more than {max_cells} cells per mode would be needed to resolve them")
        lo, hi, parent = split_cells(lo, hi, split)
        owner = owner[parent]
    return lo, hi, owner


def mode_mass(p_g: DensityLike, modes: TargetModes, *, radius: float = 3.0, capture_fraction: float = 0.1,
              atol: float = 1e-6, max_cells: int | None = None) -> ModeMass:
    """The exact p_g-mass of each mode's region ``E_i = {x : d_i(x) <= radius}``, with bounds.

    .. math::

        m_i = \\int_{E_i} p_g(x)\\,dx = |\\det L_i| \\int_0^{r} \\int_0^{2\\pi}
        p_g\\big(c_i + L_i (\\rho\\cos t, \\rho\\sin t)\\big)\\, \\rho \\; dt\\, d\\rho

    in 2-D (the ellipse mapped to a rectangle, a smooth integrand), and
    ``m_i = s_i \\int_{-r}^{r} p_g(c_i + s_i u) du`` in 1-D, all modes integrated in one
    error-controlled pass of :func:`gan_theory.integrate.integrate` (each on cells of its
    own), so that ``|m_i - exact| <= errors[i] <= atol``.

    Parameters
    ----------
    p_g : density
        A density of the same dimension (torch distribution, ``Density`` view, ...).
    modes : TargetModes
    radius : float
        The regions' Mahalanobis radius (3).
    capture_fraction : float
        Mode ``i`` is captured by mass when ``m_i >= capture_fraction * w_i`` (0.1: a tenth of
        the target's weight there; p_data itself puts ``w_i (1 - exp(-r^2/2)) = 0.989 w_i``
        there in 2-D). With the sample rule (one high-quality sample of ``n``), a mode holding
        ``0.1 w_i`` is missed with probability ``(1 - 0.1 w_i)^n``: ``e^{-31}`` for ``w = 1/8``,
        ``n = 2500``; the sample rule also counts modes with far less mass (about ``1/n``).
    atol : float
        Error bound per mode (1e-6: the masses are read beside sample fractions whose noise is
        about 1e-2; the quadrature's error estimates exceed the true errors by orders of
        magnitude on smooth integrands). A 2-D mixture ``p_g`` costs tens of ms even at 1e-9; a
        2-D spline flow, whose density has kinks on curves, about 0.1-0.6 s at 1e-6 and
        10-100 s at 1e-9.
    max_cells : int, optional
        Cell budget per mode (the integrator's default).

    Returns
    -------
    ModeMass
        ``mass_near_modes = sum m_i`` is the probability that a p_g sample is high quality
        when the regions are disjoint (``regions_separated``); where regions overlap it counts
        the overlap twice. ``reverse_kl`` is ``KL(q || w)`` for ``q = m / sum m``, with an
        enclosure-based bound (see :func:`_kl_bound`).

    Raises
    ------
    AccuracyError
        If the bound cannot be met (e.g. ``p_g`` has a jump inside a 2-D region).
    ValueError
        If ``p_g`` and the modes differ in dimension.
    """
    modes = _check_modes(modes)
    radius = check_real("radius", radius, lower=0.0, lower_open=True)
    capture_fraction = check_real("capture_fraction", capture_fraction, lower=0.0)
    atol = check_real("atol", atol, lower=0.0, lower_open=True)
    dp = as_density(p_g, "p_g")
    if dp.dim != modes.dim:
        raise ValueError(f"p_g: expected a {modes.dim}-D density like the modes, got a {dp.dim}-D one")
    budget = (20000 if dp.dim == 1 else 60000) if max_cells is None else check_int("max_cells", max_cells, lower=1)
    lo, hi, owner = _initial_cells(dp, modes, radius, budget)
    c, trils, d = modes.centres, modes.scale_trils, modes.dim
    det = np.prod(np.diagonal(trils, axis1=1, axis2=2), axis=1)
    # rounding of the mapped points: |dx| <= 4 eps (|c| + r ||L||); |grad log p_g| is bounded by
    # ~ sqrt(2 (log peak - log p)) / s for a Gaussian of scale s (the hints' smallest scale)
    dx = 4 * _EPS * (np.abs(c).max(axis=1) + radius * np.linalg.norm(trils, ord=2, axis=(1, 2)))
    s_min = float(dp.hints.scales.min())
    log_peak = -d * math.log(s_min) - 0.5 * d * math.log(2 * math.pi)
    breaks = dp.hints.breaks  # where p_g is not smooth: kink indicators for the integrator

    def f(t: np.ndarray, own: np.ndarray):
        if d == 1:
            x = c[own] + trils[own, 0, 0, None] * t[:, None]
            jac = trils[own, 0, 0]
        else:
            uu = t[:, :1] * np.stack([np.cos(t[:, 1]), np.sin(t[:, 1])], axis=1)
            x = c[own] + np.einsum("nij,nj->ni", trils[own], uu)
            jac = det[own] * t[:, 0]
        lp = dp.log_prob(x[:, 0] if d == 1 else x)
        val = np.exp(lp) * jac
        with np.errstate(invalid="ignore", over="ignore"):
            grad = (np.sqrt(2 * np.maximum(log_peak - lp, 0.0)) + 1.0) / s_min
            noise = val * (log_density_error(lp, dp.eps) + 16 * _EPS + dx[own] * grad)
        noise = np.where(val > 0, noise, 0.0)
        out = (val[:, None], noise[:, None])
        cols = [x[:, j, None] - b[None, :] for j, b in enumerate(breaks) if b.size]
        return out + ((np.concatenate(cols, axis=1),) if cols else ())

    axes = (AxisMap("core", -radius, radius),) if d == 1 else (AxisMap("core", 0.0, radius),
                                                                AxisMap("core", 0.0, 2 * math.pi))
    domain = Domain(axes, lo[:, 0] if d == 1 else lo, hi[:, 0] if d == 1 else hi, owner, modes.n_modes)
    labels = [f"the p_g-mass near mode {i} (centre {c[i].tolist()})" for i in range(modes.n_modes)]
    res = integrate(f, domain, atol=atol, rtol=0.0, max_cells=budget, labels=labels)
    m = np.maximum(res.value, 0.0)
    e = res.error
    w = modes.weights
    captured = m >= capture_fraction * w
    total = float(m.sum())
    kl = _reverse_kl(m, w)
    return ModeMass(tuple(float(v) for v in m), tuple(float(v) for v in e), tuple(bool(v) for v in captured),
                    int(captured.sum()), total, float(e.sum()) + 4 * _EPS * modes.n_modes * total, kl,
                    _kl_bound(m, e, w, kl), modes.regions_separated(radius), radius, capture_fraction,
                    int(res.evaluations))


def coverage_metrics(modes: TargetModes, p_g: DensityLike | None, samples: Any, *, radius: float = 3.0,
                     threshold: int = 1, capture_fraction: float = 0.1, atol: float = 1e-6) -> dict[str, Any]:
    """The coverage metrics of one generator at one log step, as flat JSON-ready scalars.

    Keys: ``modes_total``, ``modes_captured``, ``high_quality``, ``reverse_kl_modes``,
    ``n_samples`` (from ``samples``, :func:`mode_coverage`), and when ``p_g`` is an exact
    density (not ``None``): ``mode_mass_captured``, ``mass_near_modes``,
    ``mass_near_modes_error``, ``reverse_kl_mass``, ``reverse_kl_mass_error`` and
    ``mode_mass_ratio_min`` (``min_i m_i / w_i``: how close the worst-covered mode is to being
    dropped), from :func:`mode_mass`. If the exact masses cannot be computed to ``atol``
    (:class:`AccuracyError`), those keys are absent and ``coverage_exact_error`` holds the
    message; the sample metrics are kept.
    """
    cov = mode_coverage(samples, modes, radius=radius, threshold=threshold)
    out: dict[str, Any] = {"modes_total": modes.n_modes, "modes_captured": cov.modes_captured,
                           "high_quality": cov.high_quality, "reverse_kl_modes": cov.reverse_kl,
                           "n_samples": cov.n_samples}
    if p_g is None:
        return out
    try:
        mm = mode_mass(p_g, modes, radius=radius, capture_fraction=capture_fraction, atol=atol)
    except AccuracyError as exc:
        out["coverage_exact_error"] = f"AccuracyError: {exc}"
        return out
    out.update(mode_mass_captured=mm.modes_captured, mass_near_modes=mm.mass_near_modes,
               mass_near_modes_error=mm.mass_near_modes_error, reverse_kl_mass=mm.reverse_kl,
               reverse_kl_mass_error=mm.reverse_kl_error,
               mode_mass_ratio_min=float(np.min(np.asarray(mm.masses) / modes.weights)))
    return out
