"""Generator families for ensembles: affine and MLP (spline flows: :mod:`.flow_generator`;
Gaussian mixtures: :mod:`.mixture`).

Every family is a module whose parameters have the ensemble as leading dimension, with

* ``forward(z)``: latent ``(N, B, latent_dim)`` to samples ``(N, B, dim)``;
* ``log_prob(x)``: the exact log-density of each member at ``x`` (N, B, dim), with the
  parameters detached and gradients flowing through ``x`` only (what the optimal
  discriminator needs: D* is the other player, held fixed during the generator's step);
* ``member_density(i)``: member ``i``'s density as a float64 ``torch.distributions`` object
  for the theory engine, and ``exact_density`` saying whether it is exact.

The MLP generator has no closed-form density. In 1-D with a 1-D latent it is computed exactly,
up to root-finding tolerance, by change of variables over all preimages
(:class:`PushforwardDensity1D`). Otherwise it is estimated by a Gaussian kernel density
estimate of generated samples (:func:`kde_density`), and metrics computed from it are marked
as estimates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.distributions as td
from torch.distributions import constraints

from ..constants import F64 as _F64
from ..densities import Hints
from .ensemble import EnsembleMLP

__all__ = ["AffineGenerator", "MLPGenerator", "PushforwardDensity1D", "kde_density"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class AffineGenerator(torch.nn.Module):
    """``x = a z + b`` (1-D) or ``x = A z + b`` (2-D), ``z ~ N(0, I)``: ``p_g = N(b, A A^T)``.

    Starts at ``N(init_loc, init_scale^2 I)``.
    """

    exact_density = True

    def __init__(self, n_members: int, dim: int, *, dtype: torch.dtype, device: torch.device | str) -> None:
        super().__init__()
        self.dim = self.latent_dim = dim
        self.n_members = n_members
        self.weight = torch.nn.Parameter(torch.zeros(n_members, dim, dim, dtype=dtype, device=device))
        self.bias = torch.nn.Parameter(torch.zeros(n_members, 1, dim, dtype=dtype, device=device))

    def reset_parameters(self, generators: Sequence[torch.Generator], init_loc: float = 0.0,
                         init_scale: float = 1.0) -> None:
        with torch.no_grad():
            self.weight.copy_(init_scale * torch.eye(self.dim, dtype=_F64).expand(self.n_members, -1, -1))
            self.bias.fill_(init_loc)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, z, self.weight.transpose(1, 2))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.weight.detach(), self.bias.detach()
        if self.dim == 1:
            a = w[:, :, 0]  # (N, 1)
            return -0.5 * ((x[..., 0] - b[:, :, 0]) / a) ** 2 - torch.log(a.abs()) - _HALF_LOG_2PI
        # z = A^{-1}(x - b); log p = log N(z) - log|det A|
        z = torch.linalg.solve(w.unsqueeze(1), (x - b).unsqueeze(-1)).squeeze(-1)
        return -0.5 * (z * z).sum(-1) - torch.log(torch.linalg.det(w).abs()).unsqueeze(-1) - 2 * _HALF_LOG_2PI

    def member_density(self, i: int) -> td.Distribution:
        w = self.weight[i].detach().to("cpu", _F64)
        b = self.bias[i, 0].detach().to("cpu", _F64)
        if self.dim == 1:
            return td.Normal(b[0], w[0, 0].abs())
        return td.MultivariateNormal(b, covariance_matrix=w @ w.T)

    def summary(self, i: int) -> dict[str, float | list[float]]:
        """The member's parameters, for the metrics log."""
        w = self.weight[i].detach().to("cpu", _F64)
        b = self.bias[i, 0].detach().to("cpu", _F64)
        if self.dim == 1:
            return {"scale": abs(float(w[0, 0])), "loc": float(b[0])}
        return {"weight": w.tolist(), "loc": b.tolist()}


class MLPGenerator(torch.nn.Module):
    """The implicit generator ``x = G(z)``, an MLP ``latent_dim -> hidden -> dim``."""

    def __init__(self, n_members: int, dim: int, latent_dim: int, hidden: Sequence[int], activation: str, *,
                 dtype: torch.dtype, device: torch.device | str) -> None:
        super().__init__()
        self.dim, self.latent_dim, self.n_members = dim, latent_dim, n_members
        self.net = EnsembleMLP(n_members, (latent_dim, *hidden, dim), activation, dtype=dtype, device=device)

    @property
    def exact_density(self) -> bool:
        return self.dim == 1 and self.latent_dim == 1

    def reset_parameters(self, generators: Sequence[torch.Generator], init_loc: float = 0.0,
                         init_scale: float = 1.0) -> None:
        self.net.reset_parameters(generators)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError("discriminator: the optimal discriminator needs an exact generator density "
                         "(generator 'affine', 'flow' or 'grid'), not an MLP generator")

    def member_density(self, i: int, generator: torch.Generator | None = None) -> td.Distribution:
        net = self.net.member(i, dtype=_F64).cpu()
        if self.exact_density:
            return PushforwardDensity1D(lambda z: net(z.reshape(1, -1, 1)).reshape(-1))
        g = generator if generator is not None else torch.Generator().manual_seed(i)
        z = torch.randn(1, 1024, self.latent_dim, generator=g, dtype=_F64)
        return kde_density(net(z)[0])


class PushforwardDensity1D(td.Distribution):
    """Density of ``x = g(z)``, ``z ~ N(0, 1)``, for a smooth ``g: R -> R``, by change of variables
    over every preimage:

    .. math::  p_g(x) = \\sum_{z:\\, g(z) = x} \\frac{\\varphi(z)}{|g'(z)|}.

    Preimages are bracketed on a grid of ``grid`` latent points in ``[-z_max, z_max]`` (the
    latent mass outside is ``2 Phi(-z_max) = 1e-17`` for the default 8.5) and refined by
    bisection to double precision; ``g'`` comes from autograd. A preimage pair closer than the
    grid spacing (a fold narrower than 17/4096) would be missed; the engine's mass check would
    then report a mass below 1. Where ``g' = 0`` the density is infinite (an integrable
    singularity); those critical values are given to the quadrature as break points.
    """

    arg_constraints: dict = {}
    support = constraints.real
    has_rsample = False

    def __init__(self, g, z_max: float = 8.5, grid: int = 4097) -> None:
        super().__init__(validate_args=False)
        self.g = g
        self.z = torch.linspace(-z_max, z_max, grid, dtype=_F64)
        with torch.no_grad():
            self.gz = g(self.z)
        zr = self.z.clone().requires_grad_(True)
        gz = g(zr)
        (self.dgz,) = torch.autograd.grad(gz.sum(), zr)
        self.dgz = self.dgz.detach()

    def _roots(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All (query index, latent root) pairs with g(root) = x[query]."""
        d = self.gz.unsqueeze(0) - x.unsqueeze(1)  # (n, M)
        change = (d[:, :-1] == 0) | (d[:, :-1] * d[:, 1:] < 0)  # one root per half-open [z_k, z_k+1)
        qi, ki = torch.nonzero(change, as_tuple=True)
        lo, hi = self.z[ki].clone(), self.z[ki + 1].clone()
        flo = d[qi, ki]
        target = x[qi]
        with torch.no_grad():
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                fm = self.g(mid) - target
                left = fm * flo <= 0
                hi = torch.where(left, mid, hi)
                lo = torch.where(left, lo, mid)
                flo = torch.where(left, flo, fm)
        return qi, 0.5 * (lo + hi)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        x = value.to(_F64).reshape(-1)
        qi, z = self._roots(x)
        zr = z.clone().requires_grad_(True)
        with torch.enable_grad():
            (dg,) = torch.autograd.grad(self.g(zr).sum(), zr)
        contrib = torch.exp(-0.5 * z * z - _HALF_LOG_2PI) / dg.abs()
        dens = torch.zeros_like(x).index_add_(0, qi, contrib.detach())
        return torch.log(dens).reshape(value.shape)

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        with torch.no_grad():
            z = torch.randn(torch.Size(sample_shape).numel(), dtype=_F64)
            return self.g(z).reshape(sample_shape)

    def quadrature_hints(self) -> Hints:
        zc = torch.arange(-6.0, 6.01, 0.5, dtype=_F64)
        with torch.no_grad():
            xc = self.g(zc)
        spread = torch.maximum((xc[1:] - xc[:-1]).abs()[:-1], (xc[1:] - xc[:-1]).abs()[1:])
        scales = torch.cat([spread[:1], spread, spread[-1:]]).clamp_min(1e-9 + 1e-9 * xc.abs().max())
        sign = torch.sign(self.dgz)
        crit = torch.nonzero(sign[1:] * sign[:-1] < 0).flatten()
        breaks = self.gz[crit].numpy()
        return Hints(np.array([-np.inf]), np.array([np.inf]), xc.numpy()[:, None], scales.numpy()[:, None],
                     (np.unique(breaks),))


def kde_density(samples: torch.Tensor) -> td.MixtureSameFamily:
    """Gaussian kernel density estimate of 2-D (or 1-D) samples, Scott's bandwidth per axis,
    ``h = sigma_hat n^{-1/(d + 4)}``. Its bias is O(h^2) and its variance O(1/(n h^d)); the
    theory quantities of an estimate are estimates, and are marked so by the trainer."""
    x = samples.detach().to("cpu", _F64)
    n = x.shape[0]
    dim = 1 if x.dim() == 1 else x.shape[1]
    h = x.std(dim=0) * n ** (-1.0 / (dim + 4))
    probs = torch.full((n,), 1.0 / n, dtype=_F64)
    if dim == 1:
        return td.MixtureSameFamily(td.Categorical(probs=probs), td.Normal(x, h.expand(n)))
    return td.MixtureSameFamily(td.Categorical(probs=probs), td.Independent(td.Normal(x, h.expand(n, dim)), 1))
