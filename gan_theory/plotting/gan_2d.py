"""``gan_2d``: 2-D training in the visual vocabulary of GAN Lab, on ``ring(8)`` and the 5x5 ``grid``.

For each target, Algorithm 1 with the recommended 2-D generator (``generator="auto"``: a mixture
of Gaussians with learned means, stds and weights, exact density) and its recipe, seen at a few
moments of training. Each row is one moment:

* left: the trained discriminator D as a heatmap, with real samples (white) and generated
  samples (orange); the title gives the modes captured (exact p_g-mass of at least a tenth of
  the mode's weight within 3 std of it, :func:`gan_theory.coverage.mode_mass`) and
  C(G) + log 4 = 2 JSD (exact engine);
* middle: the exact D* = p_data / (p_data + p_g) for the same p_g, with contours of the exact
  p_g (white) and the data's mode centres (x);
* right: D - D*, on a diverging colour map centred at 0, faded where the mixture
  m = (p_data + p_g)/2 has almost no mass (there neither D nor D* is seen by V).

References
----------
M. Kahng, N. Thorat, D. H. Chau, F. Viegas, M. Wattenberg, "GAN Lab: Understanding complex deep
generative models using interactive visual experimentation", IEEE VIS 2018.
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Algorithm 1, Proposition 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import gan_theory as gt
from gan_theory import coverage

from .snapshots import grid_points, train_observed
from .style import COLORS, new_figure

__all__ = ["Gan2dData", "Gan2dMoment", "Gan2dTarget", "gan_2d_data", "plot_gan_2d"]

#: (generator steps, heatmap points per axis, samples shown).
SIZES = {False: (2500, 121, 400), True: (250, 61, 200)}
#: Targets: (name, toy parameters, half-width of the box shown). std 0.1: the recipe's targets.
TARGETS = (("ring", {"k": 8, "std": 0.1}, 3.2), ("grid", {"n": 5, "std": 0.1}, 5.6))
#: Fraction of the run at each moment shown.
MOMENTS = (0.0, 0.2, 1.0)
#: Where m = (p_data + p_g)/2 is below this fraction of its maximum on the box, D - D* is faded.
FADE = 1e-3


@dataclass(frozen=True)
class Gan2dMoment:
    step: int
    d: np.ndarray          # (n, n) trained D on the grid (rows: y)
    d_star: np.ndarray     # (n, n) exact D*
    p_g: np.ndarray        # (n, n) exact p_g
    fake: np.ndarray       # (k, 2) generated samples
    gap: float             # C(G) + log 4
    gap_error: float
    modes_captured: int


@dataclass(frozen=True)
class Gan2dTarget:
    name: str
    params: dict
    axis: np.ndarray
    p_data: np.ndarray     # (n, n)
    real: np.ndarray       # (k, 2)
    centres: np.ndarray    # (M, 2)
    moments: tuple[Gan2dMoment, ...]
    steps: int


@dataclass(frozen=True)
class Gan2dData:
    targets: tuple[Gan2dTarget, ...]


def _target_data(name: str, params: dict, half: float, steps: int, n: int, k: int, device: str,
                 seed: int) -> Gan2dTarget:
    p_data = gt.toys.make(name, **params)
    modes = coverage.target_modes(p_data)
    axis, pts = grid_points(-half, half, n)
    config = gt.TrainConfig(steps=steps, seed=seed, device=device)
    at = tuple(int(round(f * steps)) for f in MOMENTS)

    def observe(trainer, step):
        m = trainer.member(0)
        p_g = m.density()
        with torch.no_grad():
            d = m.discriminator(pts).numpy().reshape(n, n)
            d_star = gt.optimal_discriminator(p_data, p_g)(pts).numpy().reshape(n, n)
            dens = torch.exp(p_g.log_prob(pts)).numpy().reshape(n, n)
        fake = m.generator.sample(k, torch.Generator().manual_seed(seed + 1)).numpy()
        c = gt.criterion(p_data, p_g)
        captured = coverage.mode_mass(p_g, modes).modes_captured
        return Gan2dMoment(step, d, d_star, dens, fake, float(c.value + gt.LOG4), float(c.error), int(captured))

    _, snaps = train_observed(p_data, config, at, observe)
    with torch.random.fork_rng(devices=[]):  # the data's sample without touching the global stream
        torch.manual_seed(seed)
        real = p_data.sample((k,)).numpy()
    p = torch.exp(p_data.log_prob(pts)).numpy().reshape(n, n)
    return Gan2dTarget(name, dict(params), axis, p, real, np.asarray(modes.centres), tuple(snaps[s] for s in at),
                       steps)


def gan_2d_data(*, quick: bool = False, device: str = "cpu", seed: int = 0) -> Gan2dData:
    steps, n, k = SIZES[bool(quick)]
    return Gan2dData(tuple(_target_data(name, params, half, steps, n, k, device, seed)
                           for name, params, half in TARGETS))


def _plot_target(t: Gan2dTarget):
    from matplotlib.colors import Normalize, TwoSlopeNorm

    rows = len(t.moments)
    fig = new_figure(2.55 * rows + 0.5)
    axes = fig.subplots(rows, 3, sharex=True, sharey=True, squeeze=False)
    ext = (t.axis[0], t.axis[-1], t.axis[0], t.axis[-1])
    dnorm, diffnorm = Normalize(0.0, 1.0), TwoSlopeNorm(0.0, -1.0, 1.0)
    n_modes = len(t.centres)
    for r, mo in enumerate(t.moments):
        a0, a1, a2 = axes[r]
        im = a0.imshow(mo.d, origin="lower", extent=ext, cmap="viridis", norm=dnorm, interpolation="bilinear")
        a0.scatter(t.real[:, 0], t.real[:, 1], s=5, c="white", edgecolors="black", linewidths=0.3, label="real")
        a0.scatter(mo.fake[:, 0], mo.fake[:, 1], s=5, c=COLORS["accent"], edgecolors="black", linewidths=0.3,
                   label="generated")
        a0.set_title(f"step {mo.step}: trained D\nmodes {mo.modes_captured}/{n_modes}, C(G)+log 4 = {mo.gap:.3f}",
                     fontsize=8.5)
        a1.imshow(mo.d_star, origin="lower", extent=ext, cmap="viridis", norm=dnorm, interpolation="bilinear")
        pmax = float(mo.p_g.max())
        if pmax > 0:
            a1.contour(t.axis, t.axis, mo.p_g, levels=pmax * np.array([0.05, 0.3, 0.7]), colors="white",
                       linewidths=0.7)
        a1.plot(t.centres[:, 0], t.centres[:, 1], "x", color="black", ms=4, mew=1.0)
        a1.set_title(r"exact $D^*$, contours of exact $p_g$", fontsize=8.5)
        diff = mo.d - mo.d_star
        di = a2.imshow(diff, origin="lower", extent=ext, cmap="PuOr", norm=diffnorm, interpolation="bilinear")
        m = 0.5 * (t.p_data + mo.p_g)
        faded = np.where(m < FADE * m.max(), 1.0, np.nan)
        a2.imshow(faded, origin="lower", extent=ext, cmap="Greys", vmin=0, vmax=3, alpha=0.75,
                  interpolation="nearest")
        inside = m >= FADE * m.max()
        a2.set_title(f"D - D*\nmax |D - D*| = {np.max(np.abs(diff[inside])):.2f} (unfaded)", fontsize=8.5)
        for a in (a0, a1, a2):
            a.set_xlim(ext[0], ext[1])
            a.set_ylim(ext[2], ext[3])
            a.set_aspect("equal")
        a0.set_ylabel("y")
    for a in axes[-1]:
        a.set_xlabel("x")
    cb = fig.colorbar(im, ax=axes[:, :2], location="bottom", shrink=0.7, aspect=40, pad=0.01)
    cb.set_label("D(x) and D*(x) (viridis)")
    cb2 = fig.colorbar(di, ax=axes[:, 2], location="bottom", shrink=0.95, aspect=20, pad=0.01)
    cb2.set_label("D - D* (grey: m < 1e-3 max m)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, markerscale=3)
    what = ", ".join(f"{k}={v}" for k, v in t.params.items())
    fig.suptitle(f"{t.name}({what}): mixture generator (recipe), {t.steps} steps", fontsize=10)
    return fig


def plot_gan_2d(data: Gan2dData):
    """One figure per target: ``gan_2d_ring``, ``gan_2d_grid``."""
    return {t.name: _plot_target(t) for t in data.targets}
