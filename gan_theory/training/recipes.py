"""Per-family defaults ("recipes"): the measured best training recipe of each generator family
in each dimension, in one table.

A :class:`~gan_theory.training.config.TrainConfig` field that a recipe sets defaults to
``None``; :meth:`TrainConfig.resolve` fills it, once the target's dimension is known, from
``RECIPES[(generator, dim)]`` and otherwise from ``FALLBACK`` (the defaults the package had
before recipes, so that runs of the unrecipe'd families, affine, mlp, grid, and every claim
that sets its fields, keep their numbers). ``generator="auto"`` becomes ``AUTO[dim]``. A field
the user sets is never changed.

Where each value comes from is written beside it. The sweeps are kept in the repository:
``benchmarks/sweeps/sweep_2d.py`` (results: ``benchmarks/results/sweep_2d.json``; the 2-D
defaults on the ring and the grid: ``benchmarks/sweeps/steps_2d.py``, ``steps_2d_*_6000.json``)
and ``benchmarks/sweeps/sweep_1d.py``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from .mixture import INIT_COMPONENT_SCALE

__all__ = ["AUTO", "FALLBACK", "MIXTURE_FALLBACK", "RECIPES", "recipe"]

#: The generator ``generator="auto"`` picks for each data dimension: the exact-density family
#: whose recipe converges on the standard toys of that dimension.
AUTO = MappingProxyType({1: "flow", 2: "mixture"})

#: Values of the recipe'd fields for families without a recipe: the package's defaults before
#: recipes existed (so that their runs do not move).
FALLBACK = MappingProxyType({
    "steps": 2000, "d_steps": 1, "batch_size": 256, "lr_g": 1e-3, "lr_d": 1e-3, "lr_schedule": "constant",
    "lr_final": 0.1, "init_scale": 1.0, "d_hidden": (64, 64), "r1_gamma": 0.0,
    "log_every": 100,
})

#: Values of the mixture generator's own recipe fields where it has no recipe (1-D): 8
#: components (not measured), the module's initial component std, no entropy bonus.
MIXTURE_FALLBACK = MappingProxyType({"mixture_components": 8, "init_component_scale": INIT_COMPONENT_SCALE,
                                     "entropy_weight": 0.0})

_FLOW_1D = MappingProxyType({
    # Found on mixture2 by claim G4's search (each step below: median C(G) + log 4 over seeds
    # 0-7), then checked on 10 random mixtures of issue 10's family that no value was tuned on
    # (benchmarks/sweeps/sweep_1d.py, draw seed 2026; benchmarks/results/sweep_1d.json): the
    # median over 4 seeds was 9.2e-4 to 4.9e-3 (bar 1e-2) on every target, and below 1e-2 on
    # every target from step 1000 of the 6000 on; about 6.5 CPU-minutes per target on 1 thread.
    "steps": 6000,          # G4: 0.0061 after 6000 steps against 0.0077 after 4000
    "lr_g": 2e-3,           # G4
    "lr_d": 8e-3,           # G4: two time scales (Heusel et al. 2017): 0.0077 with lr_d = 4 lr_g
    "lr_schedule": "cosine",  # G4: the decay damps the minibatch noise at the end
    "lr_final": 0.01,       # G4: 0.011 with lr_final 0.01 and k = 5, against 0.021
    "init_scale": 2.0,      # G4: 0.021 from N(0, 2^2) against 0.046 from N(0, 1)
    "d_steps": 5,           # G4: k = 5 (with lr_final, above)
    "batch_size": 1024,     # G4: 0.0097 with batch 1024 against 0.011 with 256
    "log_every": 500,       # metrics cost, not training: 13 measurements of a 6000-step run
})

_MIXTURE_2D = MappingProxyType({
    # Measured with the runs of benchmarks/sweeps/sweep_2d.py on ring(8, std 0.1) and the 5x5
    # grid (std 0.1), 2-4 seeds each, median C(G) + log 4 (exact) after 3000 steps, then the
    # step count from 8-seed runs with these defaults (benchmarks/sweeps/steps_2d.py, results
    # steps_2d_*_6000.json; also claim G4 --full), then the grid's narrow components
    # (benchmarks/sweeps/grid_diagnose.py, grid_probe*.py): init_component_scale and
    # entropy_weight. With 6000 steps, 8 seeds: ring(8, std 0.1) median 0.035 (0.033-0.038),
    # all 8 modes captured by exact mass in 8 of 8 seeds; 5x5 grid (std 0.1) median 0.040
    # (0.038-0.045), all 25 modes captured in 8 of 8 seeds (before the bonus: 0.021 and 0.166).
    # Random 2-D targets: benchmarks/results/sweep_2d.json, recipe "mixture_2d_entropy". The
    # numbers beside the other fields were measured before the bonus and the narrow start.
    "mixture_components": 80,  # grid: K = 80 0.20 against 0.25 with K = 50 (both init_scale 3.5; more
    #                            components than modes: the spare ones lose weight through the logits)
    "steps": 6000,           # with the entropy bonus C(G) falls late, as the bonus decays (8 seeds): ring
    #                          0.29/0.11/0.035 at 2000/4000/6000, grid 0.37/0.14/0.040; the ring after 3000
    #                          steps of 3000: 0.062 (4 seeds). Before the bonus: ring 0.048/0.031/0.021, grid
    #                          0.185/0.179/0.166
    "lr_g": 5e-3,            # grid: 0.29 with lr_g 5e-3, lr_d 1e-2 against 0.37 with 1e-2 both (3000 steps);
    "lr_d": 1e-2,            # ring: 2e-3 left the log-stds short of ln 10 of travel (0.6 after 3000 steps)
    "lr_schedule": "cosine",  # decay to the end: the players settle (C(G) still falling at the end)
    "lr_final": 0.01,        # grid (grid_probe.json, 4 seeds, 3000 steps): 0.05/0.1/0.3 gave 0.225/0.154/0.190
    #                          against 0.193, not monotone: seed noise; 0.1 over 8 seeds and 6000 steps: 0.154
    #                          against 0.166, within the spread; not adopted
    "init_scale": 3.5,       # means from N(0, 3.5^2 I): grid 0.25 against 0.29 with 2.5 (K = 50; corner
    #                          modes lie 5.7 from 0)
    "d_steps": 2,            # grid: 0.34 with k = 2 against 0.43 with k = 1 at step 2000 (R1 0.1 vs 0.3)
    "batch_size": 512,       # grid, benchmarks/sweeps/grid_probe.py (results/grid_probe.json): 2048 gives
    #                          0.125 after 3000 steps (2 seeds) and 0.116 (0.094-0.142) after 6000 (4 seeds),
    #                          against 0.164 with 512 (before the bonus): better, still above the bar of 0.1, at
    #                          4 times the training cost (which claim G4 --full pays on the ring). 1024: 0.151
    "d_hidden": (128, 128),  # 25 modes need D's resolution (the sweep's starting value, kept)
    "r1_gamma": 0.1,         # R1 (Mescheder et al. 2018) on real data; grid: 0.1 with k = 2 best of
    #                          0.05 (0.51), 0.1 (0.34 at step 2000), 0.3 (0.37); ring: 0.045 with 0.3;
    #                          grid_probe: 0.02 gives 0.19 after 3000 steps
    "init_component_scale": 0.05,  # components start with std 0.05 init_scale = 0.175 (with the entropy bonus,
    #                          below): grid (grid_probe.json, 4 seeds, 3000 steps) 0.075 against 0.250 with the
    #                          module default 0.25; alone (no bonus) 0.183 against 0.193: a component that starts
    #                          narrower than the spacing of the modes does not stretch into a bridge between two
    "entropy_weight": 0.05,  # entropy bonus decayed to 0 over the run (PresGAN's regulariser): without it the
    #                          components near the grid's modes end at std 0.075-0.084 against the target's 0.1,
    #                          and with their stds set to 0.1 the gap falls from 0.16-0.24 to 0.06-0.14
    #                          (benchmarks/sweeps/grid_diagnose.py, results/grid_diagnosis.json); grid (4 seeds,
    #                          3000 steps, init_component_scale 0.05): 0.075 with 0.05, against 0.183 with 0; 0.02
    #                          and 0.2 (init_component_scale 0.25): 0.247, 0.457
    "log_every": 2000,       # metrics cost, not training: a 128x128 D's ||D - D*|| and V take ~16 s per
    #                          member in 2-D, C(G) of an 80-component p_g a few more (4 measurements)
})

#: ``{(generator, dim): {field: value}}``: the recipes.
RECIPES = MappingProxyType({
    ("flow", 1): _FLOW_1D,
    ("mixture", 2): _MIXTURE_2D,
})


def recipe(generator: str, dim: int) -> dict[str, Any]:
    """The recipe of ``generator`` in ``dim`` dimensions (an empty dict when there is none)."""
    return dict(RECIPES.get((generator, dim), {}))
