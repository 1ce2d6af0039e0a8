"""scipy.stats in the engine: frozen 1-D distributions as densities, and CDFs for torch families.

``torch.distributions`` has no survival function and no CDF for several families (StudentT,
Beta); the Wasserstein-1 distance needs both, each accurate in its own tail. For the torch
families with a scipy equivalent in the family table (:mod:`.families`) the same distribution is
built in scipy.stats.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.distributions as td

from .families import family

__all__ = ["is_scipy_frozen", "scipy_cdf_sf", "scipy_loc_scale"]

CdfSf = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def is_scipy_frozen(obj: Any) -> bool:
    """Whether ``obj`` looks like a frozen scipy.stats distribution."""
    return hasattr(obj, "dist") and hasattr(obj, "rvs") and hasattr(obj, "args") and hasattr(obj, "kwds")


def scipy_loc_scale(obj: Any) -> tuple[tuple[float, ...], float, float]:
    """The shape parameters, ``loc`` and ``scale`` of a frozen continuous scipy.stats distribution.

    Every ``rv_continuous`` is a location-scale family, ``pdf(x) = pdf_0((x - loc) / scale) / scale``
    with ``pdf_0`` its standard form ``obj.dist(*shapes)``; the parameters are read the way
    scipy reads them (positional or keyword).
    """
    shapes, loc, scale = obj.dist._parse_args(*obj.args, **obj.kwds)
    return tuple(float(s) for s in shapes), float(loc), float(scale)


def _p(v: torch.Tensor) -> np.ndarray:
    return v.detach().to(torch.float64).numpy()


def _frozen(d: td.Distribution) -> Any | None:
    """The scipy.stats equivalent of ``d`` from the family table (exact type), or ``None``."""
    fam = family(type(d))
    if fam is None or fam.scipy is None:
        return None
    return fam.scipy(**{k: _p(getattr(d, k)) for k in fam.params})


def scipy_cdf_sf(d: td.Distribution) -> CdfSf | None:
    """``x -> (cdf(x), sf(x))`` computed with scipy.stats for a 1-D torch distribution whose
    family has a scipy equivalent in the family table (Normal, Laplace, Cauchy, StudentT,
    Gamma, Chi2, Exponential, Beta, Uniform, Gumbel, LogNormal, HalfNormal, HalfCauchy) or a
    MixtureSameFamily of one; else ``None``."""
    if type(d) is td.MixtureSameFamily:
        inner = _frozen(d.component_distribution)
        if inner is None:
            return None
        w = _p(d.mixture_distribution.probs)

        def mixture(x: np.ndarray):
            xx = np.asarray(x, dtype=np.float64)[..., None]
            return inner.cdf(xx) @ w, inner.sf(xx) @ w

        return mixture
    frozen = _frozen(d)
    if frozen is None:
        return None
    return lambda x: (np.asarray(frozen.cdf(x), dtype=np.float64), np.asarray(frozen.sf(x), dtype=np.float64))
