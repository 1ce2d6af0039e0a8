"""Named toy targets used across the toolkit and on the command line (``--target NAME``).

Every toy is a float64 ``torch.distributions`` object with ``batch_shape ()``:

=====================  ====  ================================================================
name                   dim   distribution (defaults)
=====================  ====  ================================================================
``gaussian``           1     N(loc=0, scale=1)
``mixture2``           1     1/2 N(-2, 0.5^2) + 1/2 N(2, 0.5^2)
``mixture3``           1     1/4 N(-3, 0.5^2) + 1/2 N(0, 0.5^2) + 1/4 N(3, 0.5^2)
``uniform``            1     U(0, 1)
``ring``               2     k = 8 equal-weight N(c_i, std^2 I), c_i = radius (cos 2 pi i/k, sin 2 pi i/k)
``grid``               2     n x n = 25 equal-weight N(c_ij, std^2 I) on a grid with spacing 2
``correlated_gaussian`` 2    N(0, scale^2 [[1, rho], [rho, 1]]), rho = 0.8
``uniform_square``     2     U([-1, 1]^2)
=====================  ====  ================================================================

and named pairs (:data:`PAIRS`), among them :func:`disjoint_pair` (two uniforms with disjoint
supports).

The ring's angles are ``2 pi i / k`` for ``i = 0, ..., k - 1`` (not ``linspace(0, 2 pi, k)``,
which puts the last mode on the first).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import torch
import torch.distributions as td

from .constants import F64 as _F64
from .checks import check_int, check_real

__all__ = ["PAIRS", "TOYS", "Toy", "pair", "correlated_gaussian", "disjoint_pair", "gaussian", "grid", "make", "mixture2",
           "mixture3", "names", "ring", "ring_modes", "grid_modes", "uniform", "uniform_square"]



def _t(x: Any) -> torch.Tensor:
    return torch.as_tensor(x, dtype=_F64)


def _mixture(weights: torch.Tensor, locs: torch.Tensor, scales: torch.Tensor) -> td.Distribution:
    if locs.dim() == 1:
        comp = td.Normal(locs, scales)
    else:
        comp = td.Independent(td.Normal(locs, scales), 1)
    return td.MixtureSameFamily(td.Categorical(probs=weights), comp)


def gaussian(loc: float = 0.0, scale: float = 1.0) -> td.Normal:
    """N(loc, scale^2) on R."""
    loc = check_real("loc", loc)
    scale = check_real("scale", scale, lower=0.0, lower_open=True)
    return td.Normal(_t(loc), _t(scale))


def mixture2(separation: float = 4.0, std: float = 0.5, weight: float = 0.5) -> td.MixtureSameFamily:
    """``weight N(-separation/2, std^2) + (1 - weight) N(separation/2, std^2)`` on R."""
    separation = check_real("separation", separation, lower=0.0)
    std = check_real("std", std, lower=0.0, lower_open=True)
    weight = check_real("weight", weight, lower=0.0, upper=1.0, lower_open=True, upper_open=True)
    return _mixture(_t([weight, 1 - weight]), _t([-separation / 2, separation / 2]), _t([std, std]))


def mixture3(spacing: float = 3.0, std: float = 0.5) -> td.MixtureSameFamily:
    """``1/4 N(-spacing, std^2) + 1/2 N(0, std^2) + 1/4 N(spacing, std^2)`` on R."""
    spacing = check_real("spacing", spacing, lower=0.0)
    std = check_real("std", std, lower=0.0, lower_open=True)
    return _mixture(_t([0.25, 0.5, 0.25]), _t([-spacing, 0.0, spacing]), _t([std] * 3))


def uniform(low: float = 0.0, high: float = 1.0) -> td.Uniform:
    """U(low, high) on R."""
    low = check_real("low", low)
    high = check_real("high", high)
    if not high > low:
        raise ValueError(f"high: expected high > low, got low={low}, high={high}")
    return td.Uniform(_t(low), _t(high))


def disjoint_pair(gap: float = 1.0, width: float = 1.0) -> tuple[td.Uniform, td.Uniform]:
    """Two uniforms with disjoint supports: ``U(0, width)`` and ``U(width + gap, 2 width + gap)``.

    ``JSD = log 2`` and ``C(G) = 0`` for every ``gap > 0`` (and ``gap = 0``: the supports
    touch in one point only).
    """
    gap = check_real("gap", gap, lower=0.0)
    width = check_real("width", width, lower=0.0, lower_open=True)
    return uniform(0.0, width), uniform(width + gap, 2 * width + gap)


def ring_modes(k: int = 8, radius: float = 2.0, phase: float = 0.0) -> torch.Tensor:
    """The ``k`` mode centres of :func:`ring`, shape (k, 2): angles ``phase + 2 pi i / k``."""
    angles = phase + 2 * math.pi * torch.arange(k, dtype=_F64) / k
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def ring(k: int = 8, radius: float = 2.0, std: float = 0.02, phase: float = 0.0) -> td.MixtureSameFamily:
    """Equal-weight mixture of ``k`` isotropic Gaussians on a circle in R^2.

    Mode ``i`` is at ``radius (cos(phase + 2 pi i/k), sin(phase + 2 pi i/k))``; all ``k``
    modes are distinct.
    """
    k = check_int("k", k, lower=1)
    radius = check_real("radius", radius, lower=0.0, lower_open=True)
    std = check_real("std", std, lower=0.0, lower_open=True)
    phase = check_real("phase", phase)
    centres = ring_modes(k, radius, phase)
    return _mixture(torch.full((k,), 1.0 / k, dtype=_F64), centres, torch.full((k, 2), std, dtype=_F64))


def grid_modes(n: int = 5, spacing: float = 2.0) -> torch.Tensor:
    """The ``n^2`` mode centres of :func:`grid`, shape (n^2, 2), centred on the origin."""
    c = (torch.arange(n, dtype=_F64) - (n - 1) / 2) * spacing
    xx, yy = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)


def grid(n: int = 5, spacing: float = 2.0, std: float = 0.05) -> td.MixtureSameFamily:
    """Equal-weight mixture of ``n x n`` isotropic Gaussians on a square grid centred at 0."""
    n = check_int("n", n, lower=1)
    spacing = check_real("spacing", spacing, lower=0.0, lower_open=True)
    std = check_real("std", std, lower=0.0, lower_open=True)
    centres = grid_modes(n, spacing)
    return _mixture(torch.full((n * n,), 1.0 / (n * n), dtype=_F64), centres,
                    torch.full((n * n, 2), std, dtype=_F64))


def correlated_gaussian(rho: float = 0.8, scale: float = 1.0) -> td.MultivariateNormal:
    """N(0, scale^2 [[1, rho], [rho, 1]]) on R^2."""
    rho = check_real("rho", rho, lower=-1.0, upper=1.0, lower_open=True, upper_open=True)
    scale = check_real("scale", scale, lower=0.0, lower_open=True)
    cov = scale ** 2 * _t([[1.0, rho], [rho, 1.0]])
    return td.MultivariateNormal(torch.zeros(2, dtype=_F64), covariance_matrix=cov)


def uniform_square(low: float = -1.0, high: float = 1.0) -> td.Independent:
    """U([low, high]^2)."""
    low = check_real("low", low)
    high = check_real("high", high)
    if not high > low:
        raise ValueError(f"high: expected high > low, got low={low}, high={high}")
    return td.Independent(td.Uniform(_t([low, low]), _t([high, high])), 1)


@dataclass(frozen=True)
class Toy:
    """A registry entry: the constructor, its dimension and its default parameters."""

    name: str
    dim: int
    factory: Callable[..., td.Distribution]
    description: str

    @property
    def defaults(self) -> dict[str, Any]:
        return {k: p.default for k, p in inspect.signature(self.factory).parameters.items()}


TOYS: Mapping[str, Toy] = MappingProxyType({t.name: t for t in (
    Toy("gaussian", 1, gaussian, "N(loc, scale^2)"),
    Toy("mixture2", 1, mixture2, "two-component Gaussian mixture"),
    Toy("mixture3", 1, mixture3, "three-component Gaussian mixture"),
    Toy("uniform", 1, uniform, "U(low, high)"),
    Toy("ring", 2, ring, "k Gaussians on a circle"),
    Toy("grid", 2, grid, "n x n Gaussians on a grid"),
    Toy("correlated_gaussian", 2, correlated_gaussian, "correlated 2-D Gaussian"),
    Toy("uniform_square", 2, uniform_square, "uniform on a square"),
)})


def _pairs() -> dict[str, tuple[str, Callable[[], tuple[td.Distribution, td.Distribution]]]]:
    return {
        "identical": ("N(0,1) vs N(0,1)", lambda: (gaussian(), gaussian())),
        "shifted_gaussians": ("N(0,1) vs N(1,1.5^2)", lambda: (gaussian(), gaussian(1.0, 1.5))),
        "uniform_shift": ("U(0,1) vs U(0.25,1.25)", lambda: (uniform(), uniform(0.25, 1.25))),
        "disjoint": ("U(0,1) vs U(2,3)", lambda: disjoint_pair()),
        "mixture_vs_gaussian": ("mixture2 vs N(0,2^2)", lambda: (mixture2(), gaussian(0.0, 2.0))),
        "ring_vs_gaussian": ("ring(8, std 0.05) vs N(0,1.5^2 I)",
                             lambda: (ring(std=0.05), correlated_gaussian(0.0, 1.5))),
        "rotated_ring": ("ring(8, std 0.1) vs ring rotated by 0.05 rad",
                         lambda: (ring(std=0.1), ring(std=0.1, phase=0.05))),
        "grid_vs_gaussian": ("grid(5, std 0.05) vs N(0,3^2 I)", lambda: (grid(), correlated_gaussian(0.0, 3.0))),
    }


#: Named (p_data, p_g) pairs: name -> (description, constructor). Used by ``gan-theory table``.
PAIRS: Mapping[str, tuple[str, Callable[[], tuple[td.Distribution, td.Distribution]]]] = MappingProxyType(_pairs())


def pair(name: str) -> tuple[td.Distribution, td.Distribution]:
    """The named pair ``(p_data, p_g)`` from :data:`PAIRS`."""
    if name not in PAIRS:
        raise ValueError(f"pair: unknown pair {name!r}; expected one of {', '.join(map(repr, PAIRS))}")
    return PAIRS[name][1]()


def names(dim: int | None = None) -> list[str]:
    """Names of the toy targets (of one dimension if ``dim`` is given)."""
    return [n for n, t in TOYS.items() if dim is None or t.dim == dim]


def make(name: str, **params: Any) -> td.Distribution:
    """Build the toy ``name`` with ``params`` overriding its defaults.

    Raises
    ------
    ValueError
        If the name or a parameter name is unknown.
    """
    if name not in TOYS:
        raise ValueError(f"target: unknown toy {name!r}; expected one of {', '.join(map(repr, TOYS))}")
    toy = TOYS[name]
    unknown = set(params) - set(toy.defaults)
    if unknown:
        raise ValueError(f"{name}: unknown parameter(s) {sorted(unknown)}; expected some of {sorted(toy.defaults)}")
    return toy.factory(**params)
