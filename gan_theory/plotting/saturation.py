"""``saturation``: why the generator's loss log(1 - D(G(z))) saturates, and what the
non-saturating loss does instead (Goodfellow et al. 2014, Section 3).

Left: with ``D = sigmoid(l)`` (l the discriminator's logit at a generated sample), the gradients
with respect to l of the trainer's generator losses
(:func:`gan_theory.training.losses.generator_loss`, differentiated by autograd):

* minimax, ``log(1 - sigmoid(l))``: ``d/dl = -sigmoid(l) = -D``, which vanishes as D -> 0,
  exactly where D rejects the generator;
* non-saturating, ``-log sigmoid(l)``: ``d/dl = sigmoid(l) - 1 = -(1 - D)``, which tends to -1.

Right: C(G) + log 4 (exact engine) of Algorithm 1 runs with either loss (same seeds, recipe
otherwise) from N(-2, 0.5^2) against p_data = N(2, 0.5^2), where the discriminator quickly
rejects every generated sample: both start on the plateau 2 log 2 (disjoint in effect), and the
non-saturating run leaves it first. Once off the plateau, where D no longer rejects G, the
minimax gradient is back and that run may then go faster: the figure shows what happens, the
legend the step at which each leaves the plateau.

References
----------
I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Section 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import gan_theory as gt

from .snapshots import F64, logspace_steps, train_observed
from .style import COLORS, new_figure

__all__ = ["SaturationData", "loss_gradients", "plateau_exit", "plot_saturation", "saturation_data"]

#: (generator steps, members per loss, minibatch size; None: the recipe's).
SIZES = {False: (500, 3, None), True: (200, 2, None)}
DATA = (2.0, 0.5)       # p_data = N(2, 0.5^2)
START = (-2.0, 0.5)     # the generator starts near N(-2, 0.5^2)
LOSSES = ("minimax", "non_saturating")


@dataclass(frozen=True)
class SaturationData:
    logits: np.ndarray
    d: np.ndarray                  # sigmoid(logits)
    grad: dict                     # loss -> d loss / d logit (autograd of the trainer's loss)
    steps: np.ndarray
    gap: dict                      # loss -> (members, steps): C(G) + log 4
    seeds: tuple[int, ...]


def plateau_exit(steps: np.ndarray, gap: np.ndarray, fraction: float = 0.95) -> int | None:
    """The first observed step where the median C(G) + log 4 over members falls below
    ``fraction * 2 log 2`` (it starts at the top, 2 log 2: D* rejects every sample), or None."""
    med = np.median(gap, axis=0)
    below = np.nonzero(med < fraction * 2 * np.log(2.0))[0]
    return int(steps[below[0]]) if below.size else None


def loss_gradients(logits: np.ndarray) -> dict[str, np.ndarray]:
    """d/dl of the trainer's generator loss per logit, for each loss (float64 autograd)."""
    from gan_theory.training.losses import generator_loss

    out = {}
    for kind in LOSSES:
        l = torch.as_tensor(logits, dtype=F64).reshape(-1, 1).clone().requires_grad_(True)
        (g,) = torch.autograd.grad(generator_loss(l, kind).sum(), l)
        out[kind] = g.reshape(-1).numpy()
    return out


def saturation_data(*, quick: bool = False, device: str = "cpu", seed: int = 0) -> SaturationData:
    steps, members, batch = SIZES[bool(quick)]
    logits = np.linspace(-14.0, 8.0, 441)
    at = logspace_steps(steps, per_decade=8)
    p_data = gt.toys.gaussian(*DATA)
    gaps = {}
    for kind in LOSSES:
        config = gt.TrainConfig(loss=kind, steps=steps, batch_size=batch, ensemble=members, seed=seed,
                                init_loc=START[0], init_scale=START[1], device=device)

        def observe(trainer, step):
            return [gt.criterion(p_data, trainer.member(i).density()).value + gt.LOG4 for i in range(members)]

        _, snaps = train_observed(p_data, config, at, observe)
        gaps[kind] = np.array([snaps[s] for s in at]).T
    return SaturationData(logits, 1.0 / (1.0 + np.exp(-logits)), loss_gradients(logits), at, gaps,
                          tuple(range(seed, seed + members)))


def plot_saturation(data: SaturationData):
    fig = new_figure(3.5)
    left, right = fig.subplots(1, 2)
    names = {"minimax": "minimax: log(1 - D)", "non_saturating": "non-saturating: -log D"}
    for kind, ls in (("minimax", "-"), ("non_saturating", "--")):
        left.plot(data.d, data.grad[kind], ls, color=COLORS[kind], lw=2.2, label=names[kind])
    left.set_xscale("log")
    left.set_xlabel("D(G(z)) (log scale; left: D rejects the sample)")
    left.set_ylabel("d loss / d logit")
    left.set_ylim(-1.08, 0.05)
    left.axhline(0, color=COLORS["grey"], lw=0.6)
    left.axvspan(data.d[0], 1e-2, color=COLORS["accent"], alpha=0.12, lw=0)
    left.text(1.5e-6, -0.12, "saturation: the minimax\ngradient -D vanishes", fontsize=8.5, color="0.25", va="top")
    left.set_title("generator-loss gradient in the logit")
    left.legend(loc="center left", fontsize=8)

    x = np.maximum(data.steps, 0.5)  # step 0 drawn at 0.5 on the log axis
    for kind, ls in (("minimax", "-"), ("non_saturating", "--")):
        g = data.gap[kind]
        for row in g:
            right.plot(x, row, ls, color=COLORS[kind], lw=0.8, alpha=0.45)
        exit_step = plateau_exit(data.steps, g)
        left_at = f"off the plateau at step {exit_step}" if exit_step is not None else "still on the plateau"
        right.plot(x, np.median(g, axis=0), ls, color=COLORS[kind], lw=2.2,
                   label=f"{kind.replace('_', '-')}, median of {g.shape[0]}\n{left_at}")
    right.set_xscale("log")
    right.axhline(2 * np.log(2.0), color=COLORS["grey"], lw=0.8, ls=":")
    right.text(x[-1], 2 * np.log(2.0) + 0.02, "2 log 2: disjoint supports", ha="right", va="bottom", fontsize=8,
               color="0.3")
    right.set_ylim(0, 1.55)
    right.set_xlabel("generator step (log scale; step 0 at 0.5)")
    right.set_ylabel("C(G) + log 4 = 2 JSD (nats)")
    right.set_title(f"from a rejected start: $p_g$ near N({START[0]:g}, {START[1]:g}$^2$),\n"
                    f"$p_{{data}}$ = N({DATA[0]:g}, {DATA[1]:g}$^2$)")
    right.legend(loc="lower left", fontsize=8)
    return fig
