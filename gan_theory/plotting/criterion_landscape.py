"""``criterion_landscape``: C(G) over a family of generators, and JSD against shift.

Left: C(G) = max_D V(D, G) for every Gaussian generator N(mu, sigma^2) of a grid, against
p_data = N(0, 1), from one batched call of :func:`gan_theory.criterion` (each element with its
own error bound). Theorem 1: C(G) = -log 4 + 2 JSD(p_data || p_g) >= -log 4, with equality
exactly at p_g = p_data, here (mu, sigma) = (0, 1), a grid point.

Right: JSD(p || q_s) against the shift s, for the uniform pair p = U(0, 1), q_s = U(s, s + 1),
whose exact value is s log 2 for s <= 1 and log 2 (the top of the range, disjoint supports) for
s >= 1, and for the Gaussian pair N(0, 1), N(s, 1), which approaches log 2 only as s grows.

References
----------
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Theorem 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.distributions import Normal, Uniform

import gan_theory as gt

from .snapshots import F64
from .style import COLORS, new_figure

__all__ = ["LandscapeData", "criterion_landscape_data", "plot_criterion_landscape", "uniform_jsd_exact"]

#: Grid sizes (points per axis of the (mu, sigma) grid, points of the shift axis); odd, so that
#: the data's parameters (0, 1) are grid points.
SIZES = {False: (61, 81), True: (21, 41)}


@dataclass(frozen=True)
class LandscapeData:
    mu: np.ndarray            # (n,)
    sigma: np.ndarray         # (n,), log-spaced, sigma[n // 2] == 1
    criterion: np.ndarray     # (n_sigma, n_mu): C(G) for N(mu, sigma^2)
    criterion_error: np.ndarray
    shift: np.ndarray
    jsd_uniform: np.ndarray   # engine
    jsd_uniform_error: np.ndarray
    jsd_uniform_exact: np.ndarray
    jsd_gauss: np.ndarray
    jsd_gauss_error: np.ndarray
    argmin: tuple[float, float]   # (mu, sigma) of the grid minimum
    minimum: float


def uniform_jsd_exact(shift: np.ndarray) -> np.ndarray:
    """JSD(U(0, 1) || U(s, s + 1)) in nats: ``min(|s|, 1) log 2``.

    Where the supports overlap the densities agree and add nothing; on the two pieces of length
    ``min(|s|, 1)`` where one density is 1 and the other 0, the mixture is 1/2, so each KL to
    the mixture is ``min(|s|, 1) log 2``, and so is their average.
    """
    return np.minimum(np.abs(shift), 1.0) * math.log(2.0)


def criterion_landscape_data(*, quick: bool = False, device: str = "cpu", seed: int = 0) -> LandscapeData:
    """C(G) on the (mu, sigma) grid and the two JSD-against-shift lines (exact engine; no randomness)."""
    n, n_shift = SIZES[bool(quick)]
    mu = np.linspace(-2.0, 2.0, n)
    sigma = np.exp(np.linspace(-math.log(3.0), math.log(3.0), n))
    sigma[n // 2] = 1.0
    mm, ss = np.meshgrid(mu, sigma)
    p_data = Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    c = gt.criterion(p_data, Normal(torch.as_tensor(mm.ravel(), dtype=F64), torch.as_tensor(ss.ravel(), dtype=F64)))
    crit, err = np.asarray(c.value).reshape(mm.shape), np.asarray(c.error).reshape(mm.shape)
    k = np.unravel_index(np.argmin(crit), crit.shape)
    shift = np.linspace(0.0, 6.0, n_shift)
    s = torch.as_tensor(shift, dtype=F64)
    ju = gt.jsd(Uniform(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64)), Uniform(s, s + 1.0))
    jg = gt.jsd(p_data, Normal(s, torch.ones_like(s)))
    return LandscapeData(mu, sigma, crit, err, shift, np.asarray(ju.value), np.asarray(ju.error),
                         uniform_jsd_exact(shift), np.asarray(jg.value), np.asarray(jg.error),
                         (float(mm[k]), float(ss[k])), float(crit[k]))


def plot_criterion_landscape(data: LandscapeData):
    from matplotlib.colors import LogNorm

    fig = new_figure(3.6)
    left, right = fig.subplots(1, 2, width_ratios=(1.15, 1.0))
    gap = np.maximum(data.criterion + gt.LOG4, 1e-4)  # C(G) + log 4 >= 0; floor for the log colour scale
    levels = np.geomspace(1e-3, float(gap.max()), 13)
    cs = left.contourf(data.mu, data.sigma, gap, levels=levels, norm=LogNorm(), cmap="viridis", extend="min")
    left.contour(data.mu, data.sigma, gap, levels=levels[::2], colors="white", linewidths=0.5, alpha=0.6)
    left.set_yscale("log")
    left.set_yticks([1 / 3, 0.5, 1, 2, 3], ["1/3", "0.5", "1", "2", "3"])
    left.minorticks_off()
    left.plot([0.0], [1.0], marker="*", ms=13, color=COLORS["accent"], mec="black", ls="none",
              label=r"data: $\mu = 0, \sigma = 1$")
    left.plot([data.argmin[0]], [data.argmin[1]], marker="o", ms=10, mfc="none", mec="white", mew=1.5,
              ls="none", label=f"grid minimum: C = {data.minimum:.12f}\n(-log 4 = {-gt.LOG4:.12f})")
    left.set_xlabel(r"generator mean $\mu$ (data units)")
    left.set_ylabel(r"generator std $\sigma$ (log scale)")
    left.set_title(r"C(G) + log 4 for $p_g = N(\mu, \sigma^2)$, $p_{data} = N(0, 1)$")
    left.legend(loc="upper left", fontsize=8)
    cb = fig.colorbar(cs, ax=left, shrink=0.95, pad=0.02)
    cb.set_label("C(G) + log 4 (nats, log scale)")
    cb.set_ticks([1e-3, 1e-2, 1e-1, 1.0])

    right.axhline(math.log(2.0), color=COLORS["grey"], lw=1.0, ls="--")
    right.text(1.15, math.log(2.0) - 0.015, "log 2 (disjoint supports)", ha="left", va="top",
               fontsize=8.5, color="0.3")
    right.plot(data.shift, data.jsd_uniform_exact, "-", color=COLORS["accent"], lw=3.5, alpha=0.55,
               label="U(0,1) vs U(s,s+1): exact min(s,1) log 2")
    right.plot(data.shift, data.jsd_uniform, ".", color=COLORS["disc"], ms=4.5, label="  same, engine")
    right.plot(data.shift, data.jsd_gauss, "-", color=COLORS["generator"], lw=1.8, label="N(0,1) vs N(s,1), engine")
    right.set_xlabel("shift s (data units)")
    right.set_ylabel("JSD (nats)")
    right.set_ylim(0, 1.02)
    right.set_xlim(0, data.shift[-1])
    right.set_title("JSD against shift")
    right.legend(loc="upper right", fontsize=8)
    return fig
