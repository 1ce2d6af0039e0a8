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

References
----------
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Proposition 2.
"""

from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F

from ..constants import LOG4  # noqa: F401 (re-exported: metrics and run import it from here)
from ..densities import Density

__all__ = ["GridGenerator"]



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
        self.register_buffer("x", torch.as_tensor(x, dtype=dtype, device=device))
        self.register_buffer("log_a", torch.as_tensor(la, dtype=dtype, device=device))
        self.logits = torch.nn.Parameter(torch.as_tensor(l0, dtype=dtype, device=device).repeat(n_members, 1))

    def reset_parameters(self, generators=None, init_loc: float = 0.0, init_scale: float = 1.0) -> None:
        """The initial density is set at construction; nothing random to draw."""

    def log_b(self) -> torch.Tensor:
        """Log-probabilities of the generator on the grid, (N, G)."""
        return F.log_softmax(self.logits, dim=-1)

    def criterion(self) -> torch.Tensor:
        """The discrete criterion ``C(b)`` per member, (N,)."""
        la, lb = self.log_a, self.log_b()
        return (torch.exp(la) * F.logsigmoid(la - lb) + torch.exp(lb) * F.logsigmoid(lb - la)).sum(-1)

    def functional_gradient(self) -> torch.Tensor:
        """``dC/db = log(1 - D*) = log_sigmoid(log b - log a)``, centred, per member (N, G)."""
        with torch.no_grad():
            g = F.logsigmoid(self.log_b() - self.log_a)
            return g - (torch.exp(self.log_b()) * g).sum(-1, keepdim=True)
