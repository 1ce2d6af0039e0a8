"""Mode coverage from samples of p_g (high-quality fraction, captured modes, reverse KL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import check_int, check_real
from .modes import TargetModes, _check_modes, mahalanobis


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
