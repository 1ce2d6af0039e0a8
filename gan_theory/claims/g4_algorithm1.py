"""G4: Algorithm 1 works on toys.

Alternating k discriminator steps with one generator step, on minibatches, drives C(G) to
-log 4 on 1-D and 2-D targets when p_g is exactly computable (affine generators, flows); a
larger k keeps D closer to D* just before each generator step.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..constants import LOG4
from .. import toys
from ..discriminator import discriminator_error
from ..training.config import TrainConfig
from ..training.run import Trainer, train
from .base import CheckContext, Route

__all__ = ["check", "training_route", "k_route"]



def _gaps(result, step=None) -> list[float]:
    step = max(h["step"] for h in result.history) if step is None else step
    return [h["criterion"] + LOG4 for h in result.history if h["step"] == step and isinstance(h.get("criterion"), float)]


def training_route(ctx: CheckContext, target, label: str, config: TrainConfig, tolerance: float,
                   tolerance_source: str) -> Route:
    """Train an ensemble; the median over members of the final C(G) + log 4 must meet the bar.

    The details record the configuration the run resolved (the recipe's values where the
    config left them to it), each member's start and end, and, on a target with known modes,
    each member's modes captured (out of the target's), by samples and by exact mass."""
    t0 = time.perf_counter()
    r = train(target, config.replace(device=ctx.device), progress=False)
    start, end = _gaps(r, 0), _gaps(r)
    med = float(np.median(end)) if end else math.inf
    resolved = r.config
    details = {"final": end, "start": start, "spread": [float(np.min(end)), float(np.max(end))] if end else None,
               "train_time_s": r.train_time, "stopped": r.stopped, "config": resolved.to_dict()}
    last = max(h["step"] for h in r.history)
    finals = [h for h in r.history if h["step"] == last and "modes_captured" in h]
    if finals:  # sample counts (>= 1 of 2500 samples within 3 std) and exact masses (>= 10% of the weight)
        details["modes_total"] = finals[0]["modes_total"]
        details["modes_captured"] = [h["modes_captured"] for h in finals]
        details["modes_captured_by_mass"] = [h.get("mode_mass_captured") for h in finals]
    return Route("trained network", f"{label}: median over {resolved.ensemble} seeds of C(G) + log 4 after "
                 f"{resolved.steps} steps", med, "median <= tolerance", tolerance, tolerance_source, med <= tolerance,
                 details, time.perf_counter() - t0)


def affine_1d(ctx: CheckContext) -> tuple:
    n, steps = (16, 3000) if ctx.full else (4, 2500)
    cfg = TrainConfig(generator="affine", discriminator="mlp", loss="non_saturating", steps=steps, ensemble=n,
                      seed=ctx.seed, lr_g=2e-3, lr_d=2e-3, log_every=steps)
    return toys.gaussian(2.0, 0.5), "affine G on N(2, 0.5^2), non-saturating, MLP D", cfg


def affine_2d(ctx: CheckContext) -> tuple:
    n, steps = (8, 3000) if ctx.full else (2, 2000)
    cfg = TrainConfig(generator="affine", discriminator="mlp", steps=steps, ensemble=n, seed=ctx.seed, lr_g=2e-3,
                      lr_d=2e-3, log_every=steps, lr_schedule="cosine", lr_final=0.1)
    return toys.correlated_gaussian(0.8, 1.0), "2-D affine G on N(0, [[1, .8], [.8, 1]])", cfg


def asymmetric_mixture():
    """0.3 N(-1.2, 0.35^2) + 0.7 N(1, 0.7^2): an asymmetric two-component mixture that is not
    one of the toys (weights, stds and a separation of 3.1 larger stds inside the family of
    issue 10's random targets) and on which no recipe was tuned."""
    import torch
    import torch.distributions as td

    f64 = torch.float64
    return td.MixtureSameFamily(td.Categorical(probs=torch.tensor([0.3, 0.7], dtype=f64)),
                                td.Normal(torch.tensor([-1.2, 1.0], dtype=f64), torch.tensor([0.35, 0.7], dtype=f64)))


def flow_1d(ctx: CheckContext) -> tuple:
    # The defaults: only the generator, the ensemble and the seed are set, so the run uses the
    # 1-D flow recipe of gan_theory/training/recipes.py (measured over random mixtures by
    # benchmarks/sweeps/sweep_1d.py; its history is in the recipe's comments).
    cfg = TrainConfig(generator="flow", ensemble=4, seed=ctx.seed, log_every=100_000)
    return asymmetric_mixture(), "flow G (defaults) on 0.3 N(-1.2, 0.35^2) + 0.7 N(1, 0.7^2)", cfg


def mixture_2d(ctx: CheckContext) -> tuple:
    # The defaults (generator="auto": the 2-D mixture generator and its recipe in
    # gan_theory/training/recipes.py, measured by benchmarks/sweeps/sweep_2d.py and steps_2d.py;
    # the recipe's entropy bonus decays towards 0 over the run, so the last steps are
    # Algorithm 1's: issue 10 asks for this route to be the defaults'). The trained D
    # is measured only at the first and last steps, to 1e-4: this route reports C(G), which is
    # computed to quadrature_atol whatever the D's tolerance.
    cfg = TrainConfig(ensemble=8, seed=ctx.seed, log_every=100_000, network_quadrature_atol=1e-4)
    return toys.ring(std=0.1), "mixture G (defaults, generator='auto') on ring(8, std 0.1)", cfg


def k_route(ctx: CheckContext, ks=(1, 5), steps: int | None = None, n: int | None = None) -> Route:
    """||D - D*||_m just before each generator step, averaged over the second half of training,
    for k discriminator steps per generator step: smaller for larger k."""
    t0 = time.perf_counter()
    steps = steps or (1200 if ctx.full else 600)
    n = n or (4 if ctx.full else 2)
    target = toys.gaussian(2.0, 0.5)
    means = {}
    for k in ks:
        cfg = TrainConfig(generator="affine", discriminator="mlp", steps=steps, d_steps=k, ensemble=n, seed=ctx.seed,
                          lr_g=2e-3, lr_d=2e-3, log_every=steps, device=ctx.device)
        tr = Trainer(target, cfg)
        errors = []

        def measure(trainer, errors=errors):
            if trainer.step_count >= steps // 2 and trainer.step_count % 50 == 0:
                for i in range(trainer.n_members):
                    member = trainer.member(i)
                    errors.append(discriminator_error(member.discriminator, target, member.density(), atol=1e-7).value)

        for _ in range(steps):
            tr.step(before_generator_step=measure)
        means[k] = float(np.mean(errors))
    k_lo, k_hi = min(ks), max(ks)
    return Route("trained network", f"mean ||D - D*||_m just before the generator step (second half of {steps} "
                 f"steps, {n} seeds) for k = {k_hi} over k = {k_lo}", means[k_hi] / means[k_lo],
                 "value < 1 (more discriminator steps, D closer to D*)", 1.0,
                 "the direction the claim states", means[k_hi] < means[k_lo], {"mean_d_error": means},
                 time.perf_counter() - t0)


def check(ctx: CheckContext) -> list[Route]:
    ctx.note("G4 Algorithm 1: affine generator, 1-D")
    target, label, cfg = affine_1d(ctx)
    out = [training_route(ctx, target, label, cfg, 1e-3, "issue 3's bar (median over 16 seeds; 4 seeds without --full)")]
    ctx.note("G4 Algorithm 1: affine generator, 2-D")
    target, label, cfg = affine_2d(ctx)
    out.append(training_route(ctx, target, label, cfg, 1e-2, "1e-2, the issue's bar for flows, applied to 2-D"))
    ctx.note("G4 k discriminator steps")
    out.append(k_route(ctx))
    if ctx.full:
        ctx.note("G4 Algorithm 1: flow generator, 1-D asymmetric mixture")
        target, label, cfg = flow_1d(ctx)
        out.append(training_route(ctx, target, label, cfg, 1e-2, "issue 10's 1-D bar (median over 4 seeds)"))
        ctx.note("G4 Algorithm 1: mixture generator, 2-D ring")
        target, label, cfg = mixture_2d(ctx)
        out.append(training_route(ctx, target, label, cfg, 0.05, "issue 10's 2-D bar for the ring (median over 8 "
                                  "seeds)"))
    return out
