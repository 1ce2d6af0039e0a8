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

    C is the criterion of the grid densities, ``C(b) = sum_j a_j log(a_j/(a_j + b_j)) +
    b_j log(b_j/(a_j + b_j)) = -log 4 + 2 JSD(a || b)`` (:mod:`gan_theory.training.grid`), the
    quantity the steps descend.
    """
    steps, points = SIZES[bool(quick)]
    p_data = gt.toys.mixture2()
    shown = tuple(s for s in (0, 1, 2, 4, 8, 16, steps) if s <= steps)
    config = gt.TrainConfig(generator="grid", discriminator="optimal", optimizer="sgd", lr_g=LR, steps=steps,
                            grid_points=points, init_loc=START[0], init_scale=START[1], dtype="float64",
                            seed=seed, device=device)

    def observe(trainer, step):
        grid = trainer.member(0).generator.module  # the grid generator: probability vectors on a grid
        with torch.no_grad():
            b = torch.exp(grid.log_b()[0]).to("cpu", F64).numpy()
            c = float(grid.criterion()[0])
        return c, b

    _, snaps = train_observed(p_data, config, range(steps + 1), observe)
    from gan_theory.training.run import Trainer  # the grid itself (fixed by the target and the size)

    grid = Trainer(p_data, config).member(0).generator.module
    x = grid.x.to("cpu", F64).numpy()
    a = torch.exp(grid.log_a).to("cpu", F64).numpy()
    h = float(x[1] - x[0])
    order = np.arange(steps + 1)
    return FunctionSpaceData(x, density_on(p_data, torch.as_tensor(x)), a, shown,
                             np.array([snaps[s][1] / h for s in shown]), snaps[steps][1], order,
                             np.array([snaps[s][0] for s in order]))


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
