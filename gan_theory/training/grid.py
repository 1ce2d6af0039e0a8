"""The non-parametric generator of Proposition 2: a density on a fine grid, moved in function
space by gradient steps on the criterion with the exact D*.

On grid points ``x_j`` the data and the generator are probability vectors ``a`` and ``b``
(``a`` is ``p_data`` at the grid points, normalised). The criterion is the discrete one,

.. math::  C(b) = \\sum_j a_j \\log\\frac{a_j}{a_j + b_j} + b_j \\log\\frac{b_j}{a_j + b_j}
               = -\\log 4 + 2\\,\\mathrm{JSD}(a \\| b),

convex in ``b`` and minimal exactly at ``b = a``. Its functional derivative is
``dC/db_j = log(1 - D*_j)`` with ``D*_j = a_j / (a_j + b_j)`` (the terms from D* cancel at the
optimum). With ``b = softmax(theta)``, a step ``theta <- theta - lr * log(1 - D*)`` is mirror
descent on the simplex; ``lr = 1`` gives ``b <- (a + b)/2``.

As a density on R or R^2, member ``i`` is :class:`GridDensity`: the probability ``b_j`` spread
evenly over the grid cell around ``x_j`` (the cells' edges are the midpoints between grid
points, and half a spacing beyond the end points), ``p_g(x) = b_j / |cell_j|``. The criterion of
two such densities on the same cells is exactly the discrete one above (D* is constant on each
cell), so ``gt.criterion(GridDensity(axes, log a), member.density())`` is the run's ``C(b)``.

References
----------
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Proposition 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.distributions as td
import torch.nn.functional as F
from torch.distributions import constraints

from ..constants import F64 as _F64
from ..constants import LOG4  # noqa: F401 (re-exported: metrics and run import it from here)
from ..densities import Density, Hints

__all__ = ["GridDensity", "GridGenerator"]


def _cell_edges(axis: np.ndarray) -> np.ndarray:
    """The edges of the cells around the points of an increasing ``axis``: the midpoints between
    neighbours, and half a spacing beyond each end point."""
    mid = 0.5 * (axis[1:] + axis[:-1])
    return np.concatenate(([axis[0] - (mid[0] - axis[0])], mid, [axis[-1] + (axis[-1] - mid[-1])]))


class GridDensity(td.Distribution):
    """A piecewise-constant density on the cells of a grid (1-D, or the product grid in 2-D).

    .. math::  p(x) = \\frac{w_j}{|C_j|} \\quad (x \\in C_j), \\qquad 0 \\text{ outside the cells},

    where ``C_j`` is the cell around grid point ``x_j`` (edges halfway between neighbouring
    points, and half a spacing beyond the end points; in 2-D the product of the axes' cells) and
    ``w`` a probability vector. A point on an edge belongs to the cell on its right. The
    density is exact as given: the engine integrates it cell by cell, with every edge a break
    point (its quadrature hints).

    Parameters
    ----------
    axes : sequence of 1 or 2 arrays
        The grid points of each axis, strictly increasing, at least 2 each.
    log_weights : array or tensor
        ``log w_j``, one per grid point (``len(axes[0])`` in 1-D; ``len(axes[0]) *
        len(axes[1])`` in 2-D, point ``(axes[0][i], axes[1][k])`` at ``i * len(axes[1]) + k``);
        normalised here (``log_softmax``), so any finite values will do.
    validate_args : bool, optional

    Attributes
    ----------
    axes : tuple of ndarray
        The grid points (float64).
    edges : tuple of ndarray
        The cell edges of each axis.
    log_weights : Tensor
        The normalised ``log w`` (float64).
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, axes: Sequence[Any], log_weights: Any, validate_args: bool | None = None) -> None:
        if isinstance(axes, (np.ndarray, torch.Tensor)) or not isinstance(axes, Sequence) or len(axes) not in (1, 2):
            raise TypeError(f"axes: expected a sequence of 1 or 2 arrays of grid points (one per axis), got "
                            f"{type(axes).__name__}")
        self.axes = tuple(np.asarray(torch.as_tensor(a, dtype=_F64).cpu(), dtype=np.float64) for a in axes)
        for k, a in enumerate(self.axes):
            if a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)) or not np.all(np.diff(a) > 0):
                raise ValueError(f"axes[{k}]: expected at least 2 finite, strictly increasing grid points, got "
                                 f"shape {a.shape}")
        self.dim = len(self.axes)
        self.edges = tuple(_cell_edges(a) for a in self.axes)
        n = math.prod(a.size for a in self.axes)
        lw = torch.as_tensor(log_weights).detach().to("cpu", _F64).reshape(-1)
        if lw.numel() != n:
            raise ValueError(f"log_weights: expected one value per grid point ({n}), got {lw.numel()}")
        if bool(torch.isnan(lw).any()) or bool(torch.isposinf(lw).any()) or not bool(torch.isfinite(lw).any()):
            raise ValueError("log_weights: expected values in [-inf, inf) with at least one finite, got NaN, +inf or "
                             "all -inf")
        self.log_weights = torch.log_softmax(lw, dim=0)
        widths = [torch.as_tensor(np.diff(e)) for e in self.edges]
        log_area = torch.log(widths[0]) if self.dim == 1 else \
            (torch.log(widths[0])[:, None] + torch.log(widths[1])[None, :]).reshape(-1)
        self._log_height = self.log_weights - log_area
        super().__init__(torch.Size(), torch.Size(() if self.dim == 1 else (2,)), validate_args=validate_args)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.real if self.dim == 1 else constraints.real_vector

    def _cell(self, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The flat cell index of each point and whether it is inside the grid's cells."""
        inside = torch.ones(value.shape[:-1] if self.dim == 2 else value.shape, dtype=torch.bool)
        flat = torch.zeros_like(inside, dtype=torch.long)
        for k, e in enumerate(self.edges):
            v = value if self.dim == 1 else value[..., k].contiguous()
            idx = torch.bucketize(v, torch.as_tensor(e), right=True) - 1
            ok = (idx >= 0) & (idx < e.size - 1)
            inside &= ok
            flat = flat * (e.size - 1) + idx.clamp(0, e.size - 2)
        return flat, inside

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """``log(w_j / |C_j|)`` in the cell of each point, ``-inf`` outside the cells (float64)."""
        if self._validate_args:
            self._validate_sample(value)
        value = torch.as_tensor(value).to("cpu", _F64)
        if self.dim == 2 and (value.dim() < 1 or value.shape[-1] != 2):
            raise ValueError(f"value: expected shape (..., 2) for a 2-D grid density, got {tuple(value.shape)}")
        flat, inside = self._cell(value)
        return torch.where(inside, self._log_height[flat], torch.tensor(-math.inf, dtype=_F64))

    def sample(self, sample_shape: torch.Size | Sequence[int] = torch.Size()) -> torch.Tensor:
        """A cell drawn with probability ``w_j``, then a uniform point in it (global RNG)."""
        shape = torch.Size(sample_shape)
        n = math.prod(shape)
        with torch.no_grad():
            cell = torch.multinomial(torch.exp(self.log_weights), max(n, 1), replacement=True)[:n]
            cols = []
            for k in reversed(range(self.dim)):
                m = self.edges[k].size - 1
                i, cell = cell % m, cell // m
                e = torch.as_tensor(self.edges[k])
                cols.append(e[i] + (e[i + 1] - e[i]) * torch.rand(n, dtype=_F64))
            x = cols[0] if self.dim == 1 else torch.stack(cols[::-1], dim=-1)
        return x.reshape(self._extended_shape(shape))

    def quadrature_hints(self) -> Hints:
        """The cells' box as the support, every cell edge as a break (the density jumps there),
        and one centre: the mean, with the standard deviation as its scale (at least a cell)."""
        w = torch.exp(self.log_weights).numpy()
        pts = self.axes[0][:, None] if self.dim == 1 else \
            np.stack([g.ravel() for g in np.meshgrid(*self.axes, indexing="ij")], axis=1)
        mean = w @ pts
        sd = np.sqrt(np.maximum(w @ (pts - mean) ** 2, 0.0))
        cell = np.array([np.diff(e).max() for e in self.edges])
        return Hints(lower=np.array([e[0] for e in self.edges]), upper=np.array([e[-1] for e in self.edges]),
                     centers=mean[None, :], scales=np.maximum(sd, cell)[None, :], breaks=tuple(self.edges))



class GridGenerator(torch.nn.Module):
    """``N`` generator densities on one grid over the data's box (+-8 scales of every mode).

    Parameters
    ----------
    n_members : int
    p_data : Density
    points : int
        Grid points per axis (``points^2`` in 2-D).
    init_loc, init_scale : float
        The initial generator is N(init_loc, init_scale^2 I) restricted to the grid.
    dtype, device
    """

    exact_density = True

    def __init__(self, n_members: int, p_data: Density, points: int, init_loc: float, init_scale: float, *,
                 dtype: torch.dtype, device: torch.device | str) -> None:
        super().__init__()
        self.n_members, self.dim = n_members, p_data.dim
        h = p_data.hints
        lo = np.maximum((h.centers - 8 * h.scales).min(axis=0), h.lower)
        hi = np.minimum((h.centers + 8 * h.scales).max(axis=0), h.upper)
        axes = [np.linspace(lo[j], hi[j], points) for j in range(self.dim)]
        if self.dim == 1:
            x = axes[0]
        else:
            xx, yy = np.meshgrid(*axes, indexing="ij")
            x = np.stack([xx.ravel(), yy.ravel()], axis=1)
        la = p_data.log_prob(x)
        la = la - np.logaddexp.reduce(la)
        z2 = ((x - init_loc) / init_scale) ** 2
        l0 = -0.5 * (z2 if self.dim == 1 else z2.sum(axis=1))
        l0 = l0 - np.logaddexp.reduce(l0)
        self.axes = tuple(axes)  # float64, for member_density (not state: fixed by p_data and points)
        self.register_buffer("x", torch.as_tensor(x, dtype=dtype, device=device))
        self.register_buffer("log_a", torch.as_tensor(la, dtype=dtype, device=device))
        self.logits = torch.nn.Parameter(torch.as_tensor(l0, dtype=dtype, device=device).repeat(n_members, 1))

    def reset_parameters(self, generators=None, init_loc: float = 0.0, init_scale: float = 1.0) -> None:
        """The initial density is set at construction; nothing random to draw."""

    def log_b(self) -> torch.Tensor:
        """Log-probabilities of the generator on the grid, (N, G)."""
        return F.log_softmax(self.logits, dim=-1)

    def member_density(self, i: int) -> GridDensity:
        """Member ``i``'s density: its probability vector ``b`` spread over the grid's cells
        (:class:`GridDensity`, float64; normalised again in float64)."""
        return GridDensity(self.axes, self.logits[i].detach())

    def criterion(self) -> torch.Tensor:
        """The discrete criterion ``C(b)`` per member, (N,)."""
        la, lb = self.log_a, self.log_b()
        return (torch.exp(la) * F.logsigmoid(la - lb) + torch.exp(lb) * F.logsigmoid(lb - la)).sum(-1)

    def functional_gradient(self) -> torch.Tensor:
        """``dC/db = log(1 - D*) = log_sigmoid(log b - log a)``, centred, per member (N, G)."""
        with torch.no_grad():
            g = F.logsigmoid(self.log_b() - self.log_a)
            return g - (torch.exp(self.log_b()) * g).sum(-1, keepdim=True)
