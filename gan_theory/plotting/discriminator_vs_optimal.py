"""``discriminator_vs_optimal``: a network discriminator against the exact D* (Proposition 1).

Top: ``||D - D*||_m`` (the distance weighted by m = (p_data + p_g)/2, by quadrature,
:func:`gan_theory.discriminator_error`) against the discriminator's steps, for networks trained
against a fixed generator (:func:`gan_theory.fit_discriminator`): Proposition 1 says the
maximiser of V(., G) is D* = p_data / (p_data + p_g), and the trained networks approach it.

Bottom: the trained D (dashed) and the exact D* (solid) of the current p_g at a few moments of
an Algorithm 1 run on the same target (``generator="auto"``, recipe), with
``||D - D*||_m`` in each title.

References
----------
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Proposition 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import gan_theory as gt

from .snapshots import F64, density_on, train_observed
from .style import COLORS, new_figure

__all__ = ["DvoData", "DvoMoment", "discriminator_vs_optimal_data", "plot_discriminator_vs_optimal"]

#: (D-fit steps, D-fit members, training steps, training minibatch size; None: the recipe's).
SIZES = {False: (1000, 3, 600, None), True: (300, 2, 150, 256)}
TARGET = "mixture2"
FIXED_G = (0.0, 1.5)    # the fixed generator of the top panel: N(0, 1.5^2)
MOMENTS = (0.0, 0.1, 0.3, 1.0)


@dataclass(frozen=True)
class DvoMoment:
    step: int
    d: np.ndarray
    d_star: np.ndarray
    p_g: np.ndarray
    d_error: float      # ||D - D*||_m, quadrature
    d_error_bound: float


@dataclass(frozen=True)
class DvoData:
    fit_steps: np.ndarray          # D steps at which the fit was measured
    fit_error: np.ndarray          # (members, len(fit_steps)): ||D - D*||_m
    fit_error_bound: np.ndarray
    fixed_g: tuple[float, float]
    x: np.ndarray
    p_data: np.ndarray
    moments: tuple[DvoMoment, ...]
    train_steps: int


def discriminator_vs_optimal_data(*, quick: bool = False, device: str = "cpu", seed: int = 0) -> DvoData:
    fit_steps, members, steps, batch = SIZES[bool(quick)]
    p_data = gt.toys.make(TARGET)
    fit = gt.fit_discriminator(p_data, gt.toys.gaussian(*FIXED_G), steps=fit_steps, seed=seed, ensemble=members,
                               log_every=max(1, fit_steps // 30), device=device, progress=False)
    at = sorted({r["step"] for r in fit.history})
    err = np.full((members, len(at)), np.nan)
    bound = np.full((members, len(at)), np.nan)
    for r in fit.history:
        err[r["member"], at.index(r["step"])] = r["d_error"]
        bound[r["member"], at.index(r["step"])] = r["d_error_bound"]

    x = torch.linspace(-5.0, 5.0, 401, dtype=F64)
    config = gt.TrainConfig(steps=steps, batch_size=batch, seed=seed, device=device)
    moments = tuple(int(round(f * steps)) for f in MOMENTS)

    def observe(trainer, step):
        m = trainer.member(0)
        p_g = m.density()
        e = gt.discriminator_error(m.discriminator, p_data, p_g, atol=1e-7)
        return DvoMoment(step, m.discriminator(x).numpy(), gt.optimal_discriminator(p_data, p_g)(x).numpy(),
                         density_on(p_g, x), float(e.value), float(e.error))

    _, snaps = train_observed(p_data, config, moments, observe)
    return DvoData(np.array(at), err, bound, FIXED_G, x.numpy(), density_on(p_data, x),
                   tuple(snaps[s] for s in moments), steps)


def plot_discriminator_vs_optimal(data: DvoData):
    fig = new_figure(5.8)
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 1.05))
    ax = top.subplots()
    for row in data.fit_error:
        ax.plot(data.fit_steps, row, "-", color=COLORS["disc"], lw=0.8, alpha=0.5)
    ax.plot(data.fit_steps, np.median(data.fit_error, axis=0), "-", color=COLORS["disc"], lw=2.2,
            label=f"median of {data.fit_error.shape[0]} networks (thin: each)")
    ax.set_yscale("log")
    ax.set_xlabel("discriminator steps (G fixed)")
    ax.set_ylabel(r"$\|D - D^*\|_m$ (log scale)")
    ax.set_title(rf"D trained against a fixed $p_g$ = N({data.fixed_g[0]:g}, {data.fixed_g[1]:g}$^2$) on "
                 r"mixture2 approaches $D^*$ (Prop. 1)")
    ax.legend(loc="upper right", fontsize=8)
    axes = bottom.subplots(1, len(data.moments), sharey=True)
    for a, mo in zip(axes, data.moments):
        a.fill_between(data.x, 0, data.p_data, color=COLORS["grey"], alpha=0.25, lw=0, label=r"$p_{data}$")
        a.plot(data.x, mo.p_g, "-", color=COLORS["generator"], lw=1.0, label=r"$p_g$")
        a.plot(data.x, mo.d_star, "-", color=COLORS["optimal"], lw=2.0, label=r"exact $D^*$")
        a.plot(data.x, mo.d, "--", color=COLORS["disc"], lw=2.0, label="trained D")
        a.set_title(f"step {mo.step}\n" + rf"$\|D - D^*\|_m$ = {mo.d_error:.3f}", fontsize=9)
        a.set_xlabel("x")
        a.set_ylim(-0.02, 1.05)
        a.set_xlim(data.x[0], data.x[-1])
    axes[0].set_ylabel("D(x), density")
    handles, labels = axes[0].get_legend_handles_labels()
    bottom.legend(handles, labels, loc="outside lower center", ncol=4)
    bottom.suptitle(f"during Algorithm 1 on mixture2 (spline-flow generator, {data.train_steps} steps)",
                    fontsize=10)
    return fig
