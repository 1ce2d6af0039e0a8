"""A mixture-of-Gaussians generator with an exact density, for ensembles.

Member ``i`` of a :class:`MixtureGenerator` is the density

.. math::  p_g(x) = \\sum_{k=1}^{K} w_k\\, \\mathcal N(x;\\ \\mu_k, \\operatorname{diag} \\sigma_k^2),
           \\qquad w = \\operatorname{softmax}(\\ell),

with learned means ``mu`` (N, K, d), log-stds (N, K, d) and weight logits ``l`` (N, K). Its
density is exact (a float64 ``MixtureSameFamily`` for the engine), so C(G) stays exact during
training, and the engine's hints place one quadrature feature on every component.

Two ways to draw from it:

* ``forward(z)`` with ``z ~ N(0, I_{d+1})``: the last latent coordinate picks the component
  (``u = Phi(z_{d+1})`` against the cumulative weights), the first ``d`` move it,
  ``x = mu_k + sigma_k z_{1:d}``. The samples are distributed as ``p_g`` exactly;
  gradients reach the means and stds (reparameterisation), not the weights (the choice of
  ``k`` is a step function of the weights).
* ``weighted_sample(z)``: stratified over the components. Sample ``b`` of ``B`` belongs to
  component ``k = b mod K`` and carries the weight ``w_k / n_k`` (``n_k`` the number of
  samples of component ``k``), so that for any ``f``

  .. math::  \\mathbb E \\sum_b \\omega_b f(x_b) = \\sum_k w_k\\, \\mathbb E_z f(\\mu_k + \\sigma_k z)
             = \\mathbb E_{p_g} f,

  unbiased, with every component sampled at every step, and differentiable in the means, the
  stds and the weight logits. Components that D calls fake lose weight through ``l``; that is
  what lets a mixture with more components than the target has modes empty its spare ones.

The stds are ``sigma = MIN_SCALE + exp(s)``: a floor (1e-3, in data units) keeps a component
from collapsing onto a point, where its density (and the quadrature's work to resolve it)
would grow without bound and the gradient in ``s`` would vanish; the exp keeps the
parameterisation smooth above the floor. 1e-3 is 100 times below the narrowest target std of
the standard toys (0.1 for ring(8, std=0.1) and the 5x5 grid), so it never binds near a
solution of those.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.distributions as td

from ..constants import F64 as _F64
from ..checks import check_int, check_real

__all__ = ["MixtureGenerator", "MIN_SCALE", "INIT_COMPONENT_SCALE"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

#: Lower bound on every component std (data units); see the module docstring.
MIN_SCALE = 1e-3
#: Initial std of every component, as a fraction of ``init_scale`` (the spread of the initial
#: means). Measured on ring(8, std 0.1) (benchmarks/sweeps/sweep_2d.py, 4 seeds): with 0.5
#: (stds starting at 1 to 1.25) the log-stds still had to travel ln 10 when the learning rate
#: had decayed, and C(G) + log 4 stayed at 0.6 after 3000 steps; with 0.25 the components
#: start at a quarter of the spread of their means (together still covering it for K >= 16)
#: and reach the target's std within 500 steps. This is the default of the family without a
#: recipe (1-D); the 2-D recipe starts at 0.05 with an entropy bonus that widens the components
#: (``TrainConfig.init_component_scale``, ``entropy_weight``; :mod:`gan_theory.training.recipes`).
INIT_COMPONENT_SCALE = 0.25


class MixtureGenerator(torch.nn.Module):
    """``N`` members, each a mixture of ``K`` Gaussians with diagonal covariances in ``dim`` = 1
    or 2 dimensions (see the module docstring for the density and the two samplers).

    Parameters
    ----------
    n_members : int
    dim : int
        1 or 2.
    n_components : int
        ``K`` >= 1.
    component_scale : float
        Every component's initial std as a fraction of ``init_scale`` (default
        :data:`INIT_COMPONENT_SCALE`; ``TrainConfig.init_component_scale``).
    dtype, device : torch dtype and device of the parameters.

    Attributes
    ----------
    loc : Parameter (N, K, dim)
    log_scale : Parameter (N, K, dim)
        ``sigma = MIN_SCALE + exp(log_scale)``.
    logits : Parameter (N, K)
        Weight logits, ``w = softmax(logits)``.
    """

    exact_density = True

    def __init__(self, n_members: int, dim: int, n_components: int, *, component_scale: float = INIT_COMPONENT_SCALE,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.n_members = check_int("n_members", n_members, lower=1)
        self.dim = check_int("dim", dim, lower=1, upper=2)
        self.n_components = check_int("n_components", n_components, lower=1)
        self.component_scale = check_real("component_scale", component_scale, lower=0.0, lower_open=True)
        self.latent_dim = self.dim + 1
        k = self.n_components
        self.loc = torch.nn.Parameter(torch.zeros(n_members, k, dim, dtype=dtype, device=device))
        self.log_scale = torch.nn.Parameter(torch.zeros(n_members, k, dim, dtype=dtype, device=device))
        self.logits = torch.nn.Parameter(torch.zeros(n_members, k, dtype=dtype, device=device))

    # ------------------------------------------------------------------ parameters
    def reset_parameters(self, generators: Sequence[torch.Generator], init_loc: float = 0.0,
                         init_scale: float = 1.0) -> None:
        """Means from ``N(init_loc, init_scale^2 I)``, drawn with member ``i``'s own generator
        (float64 on CPU, then cast: the start does not depend on the device or the ensemble);
        every std ``component_scale * init_scale``; equal weights."""
        if len(generators) != self.n_members:
            raise ValueError(f"generators: expected one torch.Generator per member ({self.n_members}), "
                             f"got {len(generators)}")
        std0 = self.component_scale * init_scale
        if not std0 > MIN_SCALE:
            raise ValueError(f"init_scale: expected a value with {self.component_scale} * init_scale > MIN_SCALE = "
                             f"{MIN_SCALE} (the initial component std), got {init_scale}")
        with torch.no_grad():
            for i, g in enumerate(generators):
                mu = init_loc + init_scale * torch.randn(self.n_components, self.dim, generator=g, dtype=_F64)
                self.loc[i].copy_(mu)
            self.log_scale.fill_(math.log(std0 - MIN_SCALE))
            self.logits.zero_()

    def scale(self) -> torch.Tensor:
        """Component stds (N, K, dim), differentiable."""
        return MIN_SCALE + torch.exp(self.log_scale)

    def weights(self) -> torch.Tensor:
        """Component weights (N, K), differentiable."""
        return torch.softmax(self.logits, dim=-1)

    # ------------------------------------------------------------------ sampling
    def _check_latent(self, z: torch.Tensor) -> None:
        if z.dim() != 3 or z.shape[0] != self.n_members or z.shape[2] != self.latent_dim:
            raise ValueError(f"z: expected a latent of shape (N={self.n_members}, B, latent_dim={self.latent_dim}), "
                             f"got {tuple(z.shape)}")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Samples of ``p_g``: the component is picked by ``Phi(z[..., -1])`` against the
        cumulative weights, then ``x = mu_k + sigma_k z[..., :dim]``."""
        self._check_latent(z)
        u = 0.5 * torch.erfc(-z[..., -1] / math.sqrt(2.0))  # Phi(z), accurate in both tails
        cw = torch.cumsum(self.weights().detach(), dim=-1)
        k = torch.searchsorted(cw.contiguous(), u.contiguous()).clamp_(max=self.n_components - 1)  # (N, B)
        idx = k.unsqueeze(-1).expand(-1, -1, self.dim)
        mu = torch.gather(self.loc, 1, idx)
        sigma = torch.gather(self.scale(), 1, idx)
        return mu + sigma * z[..., :self.dim]

    def weighted_sample(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stratified samples and weights ``(x, w)``: sample ``b`` belongs to component
        ``b mod K``, ``x_b = mu_k + sigma_k z_b[:dim]``, ``w_b = w_k / n_k``.

        ``sum_b w_b f(x_b)`` is an unbiased estimate of ``E_{p_g} f`` (module docstring),
        differentiable in the means, stds and weight logits; every row of ``w`` sums to 1.
        The last latent coordinate is not used. Needs ``B >= K`` (every component sampled).
        """
        self._check_latent(z)
        b, k = z.shape[1], self.n_components
        if b < k:
            raise ValueError(f"z: the stratified sample needs at least one sample per component, B >= K = {k}; "
                             f"got B = {b} (raise batch_size or lower mixture_components)")
        comp = torch.arange(b, device=z.device) % k  # (B,)
        # n_k = B // K, plus one for the first B mod K components (what bincount(comp) gives; written
        # from the shapes alone, so that torch.compile traces it without a data-dependent size)
        counts = (b // k + (torch.arange(k, device=z.device) < b % k)).to(z.dtype)  # (K,)
        x = self.loc[:, comp] + self.scale()[:, comp] * z[..., :self.dim]
        w = (self.weights() / counts)[:, comp]
        return x, w

    # ------------------------------------------------------------------ density
    def log_prob(self, x: torch.Tensor, *, detach: bool = True) -> torch.Tensor:
        """``log p_g(x)`` of each member at ``x`` (N, B, dim) -> (N, B):
        ``logsumexp_k (log w_k + log N(x; mu_k, diag sigma_k^2))``. With ``detach`` (the
        default: D* as the other player) the parameters are held fixed; with ``detach=False``
        it is differentiable in them too (the entropy bonus of ``TrainConfig.entropy_weight``)."""
        mu, sigma, logits = self.loc, self.scale(), self.logits
        if detach:
            mu, sigma, logits = mu.detach(), sigma.detach(), logits.detach()
        logw = torch.log_softmax(logits, dim=-1)  # (N, K)
        d = (x.unsqueeze(2) - mu.unsqueeze(1)) / sigma.unsqueeze(1)  # (N, B, K, dim)
        comp = -0.5 * (d * d).sum(-1) - torch.log(sigma).sum(-1).unsqueeze(1) - self.dim * _HALF_LOG_2PI
        return torch.logsumexp(comp + logw.unsqueeze(1), dim=-1)

    def member_density(self, i: int) -> td.Distribution:
        """Member ``i``'s exact density in float64 on the CPU:
        ``MixtureSameFamily(Categorical(logits), Independent(Normal(mu, sigma), 1))`` (1-D:
        ``Normal`` components)."""
        mu = self.loc[i].detach().to("cpu", _F64)
        sigma = self.scale()[i].detach().to("cpu", _F64)
        cat = td.Categorical(logits=self.logits[i].detach().to("cpu", _F64))
        if self.dim == 1:
            return td.MixtureSameFamily(cat, td.Normal(mu[:, 0], sigma[:, 0]))
        return td.MixtureSameFamily(cat, td.Independent(td.Normal(mu, sigma), 1))

    def summary(self, i: int) -> dict[str, list]:
        """Member ``i``'s weights, means and stds, for the metrics log."""
        return {"weights": self.weights()[i].detach().to("cpu", _F64).tolist(),
                "loc": self.loc[i].detach().to("cpu", _F64).tolist(),
                "scale": self.scale()[i].detach().to("cpu", _F64).tolist()}
