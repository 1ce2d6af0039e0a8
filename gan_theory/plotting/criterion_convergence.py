"""``criterion_convergence``: C(G) + log 4 of an ensemble against the step, minimax against
non-saturating.

Two ensembles of Algorithm 1 runs, one per generator loss and the same seeds for both, on the
1-D convergence benchmark of ``gan-theory bench``: p_data = N(2, 0.5^2), an affine generator
G(z) = a z + b (whose p_g is Gaussian, so that p_g = p_data is reachable and the run can show
C(G) reaching -log 4 rather than a generator's capacity floor) and the package defaults of that
family (MLP discriminator 64x64, Adam 1e-3, batch 256). C(G) of every member is computed by the
exact engine at log-spaced steps; the figure shows the median and the interquartile band of
C(G) + log 4, which Theorem 1 says is 2 JSD(p_data || p_g) >= 0, zero exactly at
p_g = p_data. The full run is long enough for both losses to pass 1e-3 (the bench measured the
median crossing it near step 2300 for minimax and 3750 for non-saturating).

References
----------
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Algorithm 1, Theorem 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import gan_theory as gt

from .snapshots import train_observed
from .style import COLORS, new_figure

__all__ = ["ConvergenceData", "criterion_convergence_data", "plot_criterion_convergence"]

#: (generator steps, members per loss).
SIZES = {False: (4000, 8), True: (1200, 2)}
#: The target: N(TARGET_LOC, TARGET_SCALE^2), the bench's affine convergence benchmark.
TARGET_LOC, TARGET_SCALE = 2.0, 0.5
TARGET = f"N({TARGET_LOC:g}, {TARGET_SCALE:g}^2)"
LOSSES = ("minimax", "non_saturating")


@dataclass(frozen=True)
class ConvergenceData:
    steps: np.ndarray
    criterion: dict          # loss -> (members, steps): C(G) (exact engine)
    criterion_error: dict    # loss -> (members, steps): its error bounds
    target: str
    seeds: tuple[int, ...]


def criterion_convergence_data(*, quick: bool = False, device: str = "cpu", seed: int = 0) -> ConvergenceData:
    steps, members = SIZES[bool(quick)]
    at = np.unique(np.concatenate(([0], np.linspace(0, steps, 81).round().astype(int))))
    p_data = gt.toys.gaussian(TARGET_LOC, TARGET_SCALE)
    crit, errs = {}, {}
    for kind in LOSSES:
        config = gt.TrainConfig(generator="affine", loss=kind, steps=steps, ensemble=members, seed=seed,
                                device=device)

        def observe(trainer, step):
            res = [gt.criterion(p_data, trainer.member(i).density()) for i in range(members)]
            return [r.value for r in res], [r.error for r in res]

        _, snaps = train_observed(p_data, config, at, observe)
        crit[kind] = np.array([snaps[s][0] for s in at]).T
        errs[kind] = np.array([snaps[s][1] for s in at]).T
    return ConvergenceData(at, crit, errs, TARGET, tuple(range(seed, seed + members)))


def plot_criterion_convergence(data: ConvergenceData):
    fig = new_figure(4.4, width=6.4)
    ax = fig.subplots()
    x = data.steps
    names = {"minimax": "minimax: G minimises log(1 - D)", "non_saturating": "non-saturating: G minimises -log D"}
    inset = ax.inset_axes((0.1, 0.1, 0.36, 0.34))  # bottom left: the curves there are still at the top
    for kind, ls in (("minimax", "-"), ("non_saturating", "--")):
        gap = np.maximum(data.criterion[kind] + gt.LOG4, 1e-16)
        q1, med, q3 = np.percentile(gap, [25, 50, 75], axis=0)
        ax.fill_between(x, q1, q3, color=COLORS[kind], alpha=0.22, lw=0)
        ax.plot(x, med, ls, color=COLORS[kind], lw=2.2, label=f"{names[kind]}: median, IQR band")
        c_med = np.median(data.criterion[kind], axis=0)
        inset.plot(x, c_med, ls, color=COLORS[kind], lw=1.4)
    ax.set_yscale("log")
    ax.set_xlabel("generator step")
    ax.set_ylabel("C(G) + log 4 = 2 JSD (nats, log scale)")
    n = data.criterion[LOSSES[0]].shape[0]
    ax.set_title(f"Algorithm 1 on {data.target}, affine generator, {n} seeds per loss")
    fig.legend(loc="outside lower center", ncol=1, fontsize=8)
    inset.axhline(-gt.LOG4, color=COLORS["grey"], lw=1.0, ls=":")
    inset.text(x[0], -gt.LOG4 + 0.02, "-log 4", ha="left", va="bottom", fontsize=7.5)
    inset.set_title("median C(G), linear", fontsize=7.5)
    inset.tick_params(labelsize=7)
    return fig
