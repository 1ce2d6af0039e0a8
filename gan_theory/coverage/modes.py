"""Target modes: the Gaussian components of a mixture target, and Mahalanobis distances to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributions as td

from ..densities import Density, DensityLike

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
        from .. import toys

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
