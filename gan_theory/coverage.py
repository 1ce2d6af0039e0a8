"""Mode coverage of a generator on a target with known modes, as the 2-D GAN papers report it.

The target is a mixture of ``M`` Gaussian components (the toys ``ring`` and ``grid``); each
component is a *mode*, with centre ``c_i``, covariance ``Sigma_i = L_i L_i^T`` and weight
``w_i``. The Mahalanobis distance of ``x`` to mode ``i`` is
``d_i(x) = ||L_i^{-1} (x - c_i)||``, and the *region* of mode ``i`` is the ellipse (interval in
1-D) ``E_i = {x : d_i(x) <= r}``, ``r = 3`` by default.

From samples of ``p_g`` (:func:`mode_coverage`), following the synthetic-data experiments of
Srivastava et al. (2017) and Lin et al. (2018), whose reference code assigns each sample to the
mode with the smallest (per-axis) Mahalanobis distance:

* a sample ``x`` is *high quality* when ``min_i d_i(x) <= r``, and then counts for its nearest
  mode ``argmin_i d_i(x)``. For isotropic modes, ``Sigma_i = s_i^2 I``, this is the papers'
  "within three standard deviations of the nearest mode"; here it is stated for any
  covariance;
* a mode is *captured* when at least ``threshold`` high-quality samples count for it (both
  papers: one sample, the default);
* the *high-quality fraction* is the number of high-quality samples over the number of samples;
* the *reverse KL* of the mode histogram is ``KL(q || w) = sum_i q_i log(q_i / w_i)``, ``q`` the
  high-quality counts normalised to 1 (Lin et al. 2018, synthetic data), with ``0 log 0 = 0``: a
  target mode without samples adds nothing (the forward ``KL(w || q)`` would be infinite), so
  dropping ``k`` of ``M`` equal modes costs ``log(M / (M - k))``, and collapsing onto one mode
  ``log(1 / w_i)``. Without any high-quality sample ``q``
  does not exist; the value is then defined as ``max_i log(1 / w_i)``, the largest value the
  reverse KL takes over all histograms (that of a generator collapsed onto the lightest mode).

For an exact density ``p_g`` (:func:`mode_mass`) the same quantities without sampling noise:
the mass ``m_i = P_{p_g}(E_i)`` of each region, by error-controlled quadrature (a sample is high
quality with probability ``sum_i m_i`` when the regions are disjoint); a mode is captured by mass
when ``m_i >= capture_fraction * w_i``; the reverse KL of ``q_i = m_i / sum_j m_j``.

Metz et al. (2017) used the ring of eight Gaussians to show mode collapse, and its cure by
unrolling the discriminator; the later papers made the counts above the standard report.

References
----------
L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein, "Unrolled generative adversarial networks",
ICLR 2017.
A. Srivastava, L. Valkov, C. Russell, M. U. Gutmann, C. Sutton, "VEEGAN: Reducing mode collapse
in GANs using implicit variational learning", NeurIPS 2017.
Z. Lin, A. Khetan, G. Fanti, S. Oh, "PacGAN: The power of two samples in generative adversarial
networks", NeurIPS 2018.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributions as td

from .checks import check_int, check_real
from .densities import Density, DensityLike, as_density
from .integrate import EXTENT, RESOLUTION, AxisMap, Domain, integrate, split_cells
from .results import AccuracyError

__all__ = ["ModeCoverage", "ModeMass", "TargetModes", "coverage_metrics", "mahalanobis", "mode_coverage",
           "mode_mass", "target_modes"]

_EPS = float(np.finfo(np.float64).eps)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class TargetModes:
    """The modes of a Gaussian-mixture target (float64, read-only arrays).

    Attributes
    ----------
    centres : ndarray, shape (M, d)
    scale_trils : ndarray, shape (M, d, d)
        Lower Cholesky factors ``L_i`` of the covariances (``[[s_i]]`` in 1-D).
    weights : ndarray, shape (M,)
        Mixture weights, summing to 1 (zero-weight components are not modes and are dropped).
    """

    centres: np.ndarray
    scale_trils: np.ndarray
    weights: np.ndarray

    @property
    def n_modes(self) -> int:
        return int(self.centres.shape[0])

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])

    @property
    def covariances(self) -> np.ndarray:
        """``Sigma_i = L_i L_i^T``, shape (M, d, d)."""
        return self.scale_trils @ np.swapaxes(self.scale_trils, 1, 2)

    @property
    def stds(self) -> np.ndarray:
        """Per-axis standard deviations ``sqrt(diag Sigma_i)``, shape (M, d)."""
        return np.sqrt(np.diagonal(self.covariances, axis1=1, axis2=2))

    def regions_separated(self, radius: float = 3.0) -> bool:
        """Whether the regions ``d_i(x) <= radius`` are certainly pairwise disjoint:
        ``||c_i - c_j|| > radius (||L_i|| + ||L_j||)`` (spectral norms) for every pair; exact
        for isotropic modes, sufficient otherwise. ``ring(8, std=0.1)``: 1.53 > 0.6."""
        norms = np.linalg.norm(self.scale_trils, ord=2, axis=(1, 2))
        gap = np.linalg.norm(self.centres[:, None, :] - self.centres[None, :, :], axis=2)
        reach = radius * (norms[:, None] + norms[None, :])
        off = ~np.eye(self.n_modes, dtype=bool)
        return bool(np.all(gap[off] > reach[off]))


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def _gaussian_parts(comp: td.Distribution, d: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Centres (K, d) and Cholesky factors (K, d, d) of a (batch of) Gaussian(s) of an exact
    supported type, or None."""
    t = type(comp)
    if d == 1 and t is td.Normal:
        loc, scale = _numpy(comp.loc).reshape(-1, 1), _numpy(comp.scale).reshape(-1, 1, 1)
        return loc, scale
    if d == 2 and t is td.MultivariateNormal:
        return _numpy(comp.loc).reshape(-1, 2), _numpy(comp.scale_tril).reshape(-1, 2, 2)
    if d == 2 and t is td.Independent and comp.reinterpreted_batch_ndims == 1 and type(comp.base_dist) is td.Normal:
        loc = _numpy(comp.base_dist.loc).reshape(-1, 2)
        scale = _numpy(comp.base_dist.scale).reshape(-1, 2)
        tril = np.zeros((loc.shape[0], 2, 2))
        tril[:, 0, 0], tril[:, 1, 1] = scale[:, 0], scale[:, 1]
        return loc, tril
    return None


def target_modes(p_data: DensityLike) -> TargetModes | None:
    """The modes of a target with known modes, or ``None``.

    Known modes: a single Gaussian (``Normal``, 2-D ``MultivariateNormal``, ``Independent``
    over two ``Normal``; one mode) or a ``MixtureSameFamily`` of such components (one mode per
    component of positive weight), 1-D or 2-D, ``batch_shape ()``, exact types (as the toys
    ``ring``, ``grid``, ``mixture2``, ``mixture3``). A toy name is looked up in
    :mod:`gan_theory.toys`. Anything else (other families, subclasses, flows, batches) returns
    ``None``: its modes are not known in closed form.

    Raises
    ------
    ValueError
        If a supported target has non-finite parameters or a non-positive scale.
    """
    if isinstance(p_data, Density):
        p_data = p_data.source
    if isinstance(p_data, str):
        from . import toys

        p_data = toys.make(p_data)
    if not isinstance(p_data, td.Distribution) or tuple(p_data.batch_shape) != ():
        return None
    if tuple(p_data.event_shape) not in ((), (2,)):
        return None
    d = 1 if tuple(p_data.event_shape) == () else 2
    if type(p_data) is td.MixtureSameFamily:
        parts = _gaussian_parts(p_data.component_distribution, d)
        weights = _numpy(p_data.mixture_distribution.probs).reshape(-1)  # as given (logits: softmax)
    else:
        parts = _gaussian_parts(p_data, d)
        weights = np.ones(1)
    if parts is None:
        return None
    centres, trils = parts
    diag = np.diagonal(trils, axis1=1, axis2=2)
    if not (np.all(np.isfinite(centres)) and np.all(np.isfinite(trils)) and np.all(np.isfinite(weights))):
        raise ValueError(f"p_data: the modes must have finite centres, scales and weights; got centres "
                         f"{centres.tolist()}, scales {trils.tolist()}, weights {weights.tolist()}")
    if not (np.all(diag > 0) and np.all(weights >= 0) and weights.sum() > 0):
        raise ValueError(f"p_data: every mode needs a positive-definite covariance and a weight >= 0 (not all 0); got "
                         f"scale factors {trils.tolist()}, weights {weights.tolist()}")
    keep = weights > 0
    return TargetModes(_readonly(centres[keep]), _readonly(trils[keep]), _readonly(weights[keep] / weights[keep].sum()))


def _check_modes(modes: Any) -> TargetModes:
    if not isinstance(modes, TargetModes):
        raise TypeError(f"modes: expected a TargetModes (from target_modes(p_data)), got {type(modes).__name__}")
    return modes


def _check_samples(samples: Any, dim: int) -> np.ndarray:
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().to("cpu", torch.float64).numpy()
    try:
        x = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"samples: expected an array of points, got {type(samples).__name__}") from None
    if dim == 1 and x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != dim:
        want = "(n,) or (n, 1)" if dim == 1 else f"(n, {dim})"
        raise ValueError(f"samples: expected shape {want} for {dim}-D modes, got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("samples: expected at least one sample, got 0")
    if not np.all(np.isfinite(x)):
        i = int(np.flatnonzero(~np.all(np.isfinite(x), axis=1))[0])
        raise ValueError(f"samples: expected finite points, got {x[i].tolist()} at row {i}")
    return x


def _whiten(x: np.ndarray, modes: TargetModes) -> np.ndarray:
    """``L_i^{-1} (x - c_i)`` for every point and mode, shape (n, M, d)."""
    diff = x[:, None, :] - modes.centres[None]
    trils = modes.scale_trils
    z0 = diff[..., 0] / trils[:, 0, 0]
    if modes.dim == 1:
        return z0[..., None]
    z1 = (diff[..., 1] - trils[:, 1, 0] * z0) / trils[:, 1, 1]
    return np.stack([z0, z1], axis=-1)


def mahalanobis(samples: Any, modes: TargetModes) -> np.ndarray:
    """Mahalanobis distances ``d_i(x) = ||L_i^{-1}(x - c_i)||`` of each sample to each mode,
    shape (n, M)."""
    modes = _check_modes(modes)
    return np.linalg.norm(_whiten(_check_samples(samples, modes.dim), modes), axis=2)


def _reverse_kl(q: np.ndarray, w: np.ndarray) -> float:
    """``sum_i q_i log(q_i / w_i)`` with ``0 log 0 = 0``; ``max_i log(1/w_i)`` if ``q`` is all 0."""
    total = q.sum()
    if not total > 0:
        return float(-np.log(w.min()))
    q = q / total
    pos = q > 0
    return float(max(0.0, np.sum(q[pos] * np.log(q[pos] / w[pos]))))


@dataclass(frozen=True)
class ModeCoverage:
    """Sample-based mode coverage (see the module docstring for the definitions)."""

    counts: tuple[int, ...]
    n_samples: int
    n_high_quality: int
    modes_captured: int
    high_quality: float
    reverse_kl: float
    radius: float
    threshold: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (ints, floats and the list of counts per mode)."""
        return {"modes_total": len(self.counts), "modes_captured": self.modes_captured,
                "high_quality": self.high_quality, "reverse_kl_modes": self.reverse_kl,
                "n_samples": self.n_samples, "n_high_quality": self.n_high_quality,
                "mode_counts": list(self.counts), "radius": self.radius, "threshold": self.threshold}


def mode_coverage(samples: Any, modes: TargetModes, *, radius: float = 3.0, threshold: int = 1) -> ModeCoverage:
    """Modes captured, high-quality fraction and reverse KL of the mode histogram of samples.

    Parameters
    ----------
    samples : array or tensor, shape (n, d) (or (n,) in 1-D)
        Points drawn from the generator.
    modes : TargetModes
    radius : float
        A sample is high quality when its Mahalanobis distance to its nearest mode is
        ``<= radius`` (3, the papers' three standard deviations).
    threshold : int
        A mode is captured when at least this many high-quality samples count for it (1, as in
        Srivastava et al. 2017 and the reference code of Lin et al. 2018).

    Returns
    -------
    ModeCoverage
    """
    modes = _check_modes(modes)
    radius = check_real("radius", radius, lower=0.0, lower_open=True)
    threshold = check_int("threshold", threshold, lower=1)
    dist = mahalanobis(samples, modes)
    nearest = np.argmin(dist, axis=1)
    good = dist[np.arange(dist.shape[0]), nearest] <= radius
    counts = np.bincount(nearest[good], minlength=modes.n_modes)
    n, n_good = int(dist.shape[0]), int(good.sum())
    return ModeCoverage(tuple(int(c) for c in counts), n, n_good, int(np.sum(counts >= threshold)), n_good / n,
                        _reverse_kl(counts.astype(np.float64), modes.weights), radius, threshold)


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
            noise = val * (4 * dp.eps * (np.abs(lp) + 1) + 16 * _EPS + dx[own] * grad)
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
