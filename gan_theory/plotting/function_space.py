"""``function_space``: Proposition 2 of Goodfellow et al. (2014), convergence in function space.

The generator is a density on a fine grid (``generator="grid"``), moved by mirror-descent steps
on the criterion with the exact discriminator D* at every step (``discriminator="optimal"``):
the setting of Proposition 2, where C(G) is convex in p_g. The density snapshots converge to
p_data (the two-mode ``mixture2``), and C(G), computed by the exact engine from each snapshot,
falls at every step to -log 4.

References
----------
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Proposition 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import gan_theory as gt

from .snapshots import F64, density_on, train_observed
from .style import COLORS, new_figure

__all__ = ["FunctionSpaceData", "function_space_data", "plot_function_space"]

#: (steps, grid points); the configuration of claim G3's grid route otherwise (SGD, step 0.5).
SIZES = {False: (60, 2001), True: (30, 1001)}
LR = 0.5
START = (-3.0, 2.0)


@dataclass(frozen=True)
class FunctionSpaceData:
    x: np.ndarray                # the generator's grid
    p_data: np.ndarray           # p_data on x (exact density)
    a: np.ndarray                # p_data as a probability vector on the grid (what the run uses)
    snapshot_steps: tuple[int, ...]
    snapshots: np.ndarray        # (len(snapshot_steps), len(x)): p_g on x, b_j / spacing
    final_b: np.ndarray          # the last probability vector b
    steps: np.ndarray            # every step 0..S
    criterion: np.ndarray        # C(b) at every step, the run's discrete criterion


def function_space_data(*, quick: bool = False, device: str = "cpu", seed: int = 0) -> FunctionSpaceData:
    """Run the grid generator with the exact D* and record C at every step and some densities.

    Each step's member density is ``member.density()`` (the probability vector ``b`` spread over
    the grid's cells, :class:`gan_theory.training.grid.GridDensity`). C is the criterion of the
    grid densities, ``C(b) = sum_j a_j log(a_j/(a_j + b_j)) + b_j log(b_j/(a_j + b_j)) = -log 4
    + 2 JSD(a || b)`` with ``a`` p_data at the grid points, normalised
    (:mod:`gan_theory.training.grid`): the quantity the steps descend, and what
    ``gt.criterion`` gives for the two grid densities.
    """
    steps, points = SIZES[bool(quick)]
    p_data = gt.toys.mixture2()
    shown = tuple(s for s in (0, 1, 2, 4, 8, 16, steps) if s <= steps)
    config = gt.TrainConfig(generator="grid", discriminator="optimal", optimizer="sgd", lr_g=LR, steps=steps,
                            grid_points=points, init_loc=START[0], init_scale=START[1], dtype="float64",
                            seed=seed, device=device)

    def observe(trainer, step):
        return trainer.member(0).density()  # a GridDensity: the probability vector b on the grid's cells

    _, snaps = train_observed(p_data, config, range(steps + 1), observe)
    x = snaps[0].axes[0]  # the grid (fixed by the target and the size)
    with torch.no_grad():
        log_a = p_data.log_prob(torch.as_tensor(x)).to(F64).numpy()
    log_a = log_a - np.logaddexp.reduce(log_a)
    log_b = {s: snap.log_weights.numpy() for s, snap in snaps.items()}
    h = float(x[1] - x[0])
    order = np.arange(steps + 1)
    return FunctionSpaceData(x, density_on(p_data, torch.as_tensor(x)), np.exp(log_a), shown,
                             np.array([np.exp(log_b[s]) / h for s in shown]), np.exp(log_b[steps]), order,
                             np.array([discrete_criterion(log_a, log_b[s]) for s in order]))


def discrete_criterion(log_a: np.ndarray, log_b: np.ndarray) -> float:
    """``C(b) = sum_j a_j log(a_j/(a_j + b_j)) + b_j log(b_j/(a_j + b_j))`` from log-probabilities
    (the criterion of two densities on the same grid cells, where D* is constant on each cell)."""
    log_m = np.logaddexp(log_a, log_b)
    return float(np.sum(np.exp(log_a) * (log_a - log_m)) + np.sum(np.exp(log_b) * (log_b - log_m)))


def plot_function_space(data: FunctionSpaceData):
    import matplotlib

    fig = new_figure(3.5)
    left, right = fig.subplots(1, 2, width_ratios=(1.25, 1.0))
    cmap = matplotlib.colormaps["viridis"]
    n = len(data.snapshot_steps)
    for k, (s, dens) in enumerate(zip(data.snapshot_steps, data.snapshots)):
        left.plot(data.x, dens, "-", color=cmap(0.9 * k / max(n - 1, 1)), lw=1.6, label=f"step {s}")
    left.plot(data.x, data.p_data, ":", color=COLORS["data"], lw=2.4, label=r"$p_{data}$")
    left.set_xlabel("x (data units)")
    left.set_ylabel("density")
    left.set_title(r"$p_g$ on a grid, moved with the exact $D^*$")
    left.set_ylim(0, 1.05 * max(float(data.snapshots.max()), float(data.p_data.max())))
    left.legend(loc="upper left", fontsize=7.5, ncol=1, handlelength=1.5)
    left.set_xlim(data.x[0], data.x[-1])

    right.plot(data.steps, data.criterion, "o-", color=COLORS["generator"], ms=3, lw=1.4,
               label="C(G) of the grid density")
    right.axhline(-gt.LOG4, color=COLORS["disc"], lw=1.2, ls="--", label="-log 4")
    right.set_xlabel("step")
    right.set_ylabel("C(G) (nats)")
    right.set_title("C(G) falls at every step to -log 4")
    right.legend(loc="upper right", fontsize=8)
    inset = right.inset_axes((0.4, 0.22, 0.55, 0.45))
    gap = np.maximum(data.criterion + gt.LOG4, 1e-17)
    inset.semilogy(data.steps, gap, "-", color=COLORS["generator"], lw=1.2)
    inset.set_title("C(G) + log 4 (log scale)", fontsize=8)
    inset.tick_params(labelsize=7.5)
    return fig
