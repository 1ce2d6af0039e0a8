"""``goodfellow_fig1``: the 1-D picture of Goodfellow et al. (2014), Figure 1, from an actual run.

Four moments of one training run on p_data = N(0, 1) with the recommended 1-D generator (a
spline flow, ``generator="auto"``), started at about N(-1.5, 0.6^2):

(a) the initial state; (b) the discriminator trained against the fixed initial generator
(:func:`gan_theory.fit_discriminator`): D approaches D* = p_data / (p_data + p_g)
(Prop. 1); (c) after some generator updates of Algorithm 1: p_g moves toward p_data;
(d) at convergence: p_g = p_data and D = D* = 1/2.

Each panel shows p_data (dotted), p_g (solid), the trained D (dashed), the exact D* (thin) and
arrows x = G(z) from a line of latent values z (quantiles of N(0, 1)).

References
----------
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Figure 1 and Proposition 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtri

import gan_theory as gt

from .snapshots import F64, density_on, train_observed
from .style import COLORS, new_figure

__all__ = ["Fig1Data", "Fig1Panel", "goodfellow_fig1_data", "plot_goodfellow_fig1"]

#: Run sizes: (generator steps, discriminator-fit steps, minibatch size; None: the recipe's).
SIZES = {False: (1500, 1000, None), True: (600, 300, 256)}
DATA = (0.0, 1.0)          # p_data = N(0, 1)
START = (-1.5, 0.6)        # the generator's initial location and scale (init_loc, init_scale)


@dataclass(frozen=True)
class Fig1Panel:
    """One moment: densities and discriminators on the grid ``x``, the latent arrows, C(G)."""

    title: str
    step: int
    p_g: np.ndarray
    d: np.ndarray
    d_star: np.ndarray
    z: np.ndarray
    gz: np.ndarray
    gap: float      # C(G) + log 4 (exact engine)


@dataclass(frozen=True)
class Fig1Data:
    x: np.ndarray
    p_data: np.ndarray
    panels: tuple[Fig1Panel, ...]
    steps: int
    bulk: tuple[float, float]   # the central interval of p_data where D = 1/2 is read
    d_dev_final: float          # max |D - 1/2| over the bulk at convergence (trained D)
    d_star_dev_final: float     # max |D* - 1/2| over the bulk at convergence (exact)


def goodfellow_fig1_data(*, quick: bool = False, device: str = "cpu", seed: int = 0) -> Fig1Data:
    """Run Algorithm 1 on N(0, 1) from N(-2, 0.5^2) and take the four moments of Figure 1."""
    steps, fit_steps, batch = SIZES[bool(quick)]
    p_data = gt.toys.gaussian(*DATA)
    x = torch.linspace(-4.5, 4.5, 451, dtype=F64)
    z = ndtri((np.arange(15) + 0.5) / 15)
    config = gt.TrainConfig(steps=steps, batch_size=batch, init_loc=START[0], init_scale=START[1], seed=seed,
                            device=device)

    def observe(trainer, step):
        m = trainer.member(0)
        p_g = m.density()
        return p_g, m.discriminator(x).numpy(), m.generator(torch.as_tensor(z[:, None], dtype=F64)).numpy()

    middle = max(1, steps // 12)
    _, snaps = train_observed(p_data, config, (0, middle, steps), observe)

    def panel(title, step, p_g, d, gz):
        return Fig1Panel(title, step, density_on(p_g, x), d, gt.optimal_discriminator(p_data, p_g)(x).numpy(),
                         z, gz, float(gt.criterion(p_data, p_g).value + gt.LOG4))

    p0, d0, g0 = snaps[0]
    fit = gt.fit_discriminator(p_data, p0, steps=fit_steps, seed=seed, log_every=fit_steps, device=device,
                               progress=False)
    panels = (
        panel("(a) initial state", 0, p0, d0, g0),
        panel(f"(b) D trained, G fixed ({fit_steps} D steps)", 0, p0, fit.discriminator(x).numpy(), g0),
        panel(f"(c) after {middle} generator steps", middle, *snaps[middle]),
        panel(f"(d) convergence ({steps} steps)", steps, *snaps[steps]),
    )
    bulk = (DATA[0] - 1.5 * DATA[1], DATA[0] + 1.5 * DATA[1])
    inside = (x.numpy() >= bulk[0]) & (x.numpy() <= bulk[1])
    last = panels[-1]
    return Fig1Data(x.numpy(), density_on(p_data, x), panels, steps, bulk,
                    float(np.max(np.abs(last.d[inside] - 0.5))), float(np.max(np.abs(last.d_star[inside] - 0.5))))


def plot_goodfellow_fig1(data: Fig1Data):
    """Four panels in a row pair, in the layout of the paper's Figure 1."""
    fig = new_figure(5.6)
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    z_y, x_y = -0.42, -0.1
    for ax, p in zip(axes.ravel(), data.panels):
        ax.plot(data.x, data.p_data, ":", color=COLORS["data"], lw=2.0, label=r"$p_{data}$")
        ax.plot(data.x, p.p_g, "-", color=COLORS["generator"], lw=2.0, label=r"$p_g$")
        ax.plot(data.x, p.d, "--", color=COLORS["disc"], lw=2.0, label="trained D")
        ax.plot(data.x, p.d_star, "-", color=COLORS["optimal"], lw=1.0, label=r"exact $D^*$")
        ax.axhline(0.5, color=COLORS["grey"], lw=0.6, ls=(0, (1, 3)))
        # the latent line z and the data line x, with arrows x = G(z)
        ax.axhline(x_y, color="0.3", lw=0.8)
        ax.axhline(z_y, color="0.3", lw=0.8)
        for zi, xi in zip(p.z, p.gz):
            ax.annotate("", xy=(xi, x_y), xytext=(zi, z_y),
                        arrowprops={"arrowstyle": "-|>", "lw": 0.7, "color": COLORS["generator"],
                                    "shrinkA": 0, "shrinkB": 0, "mutation_scale": 7})
        ax.text(data.x[-1] - 0.1, x_y - 0.03, "x", fontsize=9, va="top", ha="right", style="italic")
        ax.text(data.x[-1] - 0.1, z_y + 0.03, "z", fontsize=9, va="bottom", ha="right", style="italic")
        ax.set_title(f"{p.title}\nC(G) + log 4 = {p.gap:.3f}", fontsize=9.5)
        ax.set_ylim(-0.5, 1.05)
        ax.set_xlim(data.x[0], data.x[-1])
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    for ax in axes[1]:
        ax.set_xlabel("x (and latent z below)")
    for ax in axes[:, 0]:
        ax.set_ylabel("density, D(x)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4)
    fig.suptitle("Goodfellow et al. (2014), Fig. 1, from a run: p_data = N(0, 1), generator = spline flow",
                 fontsize=10.5)
    return fig
