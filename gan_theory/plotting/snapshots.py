"""Training runs observed at chosen steps: what the figures of training draw from.

The runs are those of :func:`gan_theory.train` (the same trainer, configuration and recipes,
``generator="auto"`` unless a figure says otherwise); only the observation differs: instead of
the trainer's logged metrics, the figure's data function looks at the live members at the steps
it names (densities on a grid, the discriminator, C(G) by the exact engine), which costs a
fraction of the trainer's full metrics in 2-D.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

import gan_theory as gt

__all__ = ["density_on", "grid_points", "logspace_steps", "train_observed"]

F64 = torch.float64


def train_observed(p_data: Any, config: gt.TrainConfig, at: Iterable[int],
                   observe: Callable[[Any, int], Any]) -> tuple[gt.TrainConfig, dict[int, Any]]:
    """Train with ``config`` and call ``observe(trainer, step)`` at each step of ``at``.

    Step 0 is the initial state (before any update); step ``s`` is after ``s`` generator steps
    (each preceded by ``d_steps`` discriminator steps, Algorithm 1). ``trainer.member(i)`` gives
    member ``i`` (generator, ``density()``, discriminator). Returns the resolved configuration
    and ``{step: observation}``.
    """
    from gan_theory.training.run import Trainer

    trainer = Trainer(p_data, config)
    steps = trainer.config.steps
    wanted = sorted({int(s) for s in at})
    if wanted and (wanted[0] < 0 or wanted[-1] > steps):
        raise ValueError(f"at: expected steps from 0 to {steps}, got {wanted}")
    out: dict[int, Any] = {}
    if wanted and wanted[0] == 0:
        out[0] = observe(trainer, 0)
    todo = [s for s in wanted if s > 0]
    while todo:
        trainer.step()
        if trainer.step_count == todo[0]:
            out[todo.pop(0)] = observe(trainer, trainer.step_count)
    return trainer.config, out


def logspace_steps(last: int, per_decade: int = 6) -> np.ndarray:
    """0, 1 and about ``per_decade`` steps per decade up to ``last`` (integers, increasing)."""
    if last < 1:
        return np.array([0])
    n = max(2, int(np.ceil(np.log10(last) * per_decade)) + 1)
    steps = np.unique(np.round(np.logspace(0, np.log10(last), n)).astype(int))
    return np.concatenate([[0], steps])


def density_on(dist: Any, x: torch.Tensor) -> np.ndarray:
    """The density ``exp(log_prob(x))`` of a float64 torch distribution at ``x``, as numpy."""
    with torch.no_grad():
        return torch.exp(dist.log_prob(x.to(F64))).numpy()


def grid_points(lo: float, hi: float, n: int) -> tuple[np.ndarray, torch.Tensor]:
    """An n x n grid on [lo, hi]^2: the axis values and the points (n*n, 2), row-major in y."""
    axis = np.linspace(lo, hi, n)
    xx, yy = np.meshgrid(axis, axis)
    pts = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=F64)
    return axis, pts
