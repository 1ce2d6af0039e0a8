"""G4: Algorithm 1 works on toys.

Alternating k discriminator steps with one generator step, on minibatches, drives C(G) to
-log 4 on 1-D and 2-D targets when p_g is exactly computable (affine generators, flows); a
larger k keeps D closer to D* just before each generator step.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .. import toys
from ..discriminator import discriminator_error
from ..training.config import TrainConfig
from ..training.run import Trainer, train
from .base import CheckContext, Route

__all__ = ["check", "training_route", "k_route"]

LOG4 = math.log(4.0)


def _gaps(result, step=None) -> list[float]:
    step = max(h["step"] for h in result.history) if step is None else step
    return [h["criterion"] + LOG4 for h in result.history if h["step"] == step and isinstance(h.get("criterion"), float)]


def training_route(ctx: CheckContext, target, label: str, config: TrainConfig, tolerance: float,
                   tolerance_source: str, require_progress_only: bool = False) -> Route:
    """Train an ensemble; the median over members of the final C(G) + log 4 must meet the bar
    (or, for report-only targets, fall below its starting value)."""
    t0 = time.perf_counter()
    r = train(target, config.replace(device=ctx.device), progress=False)
    start, end = _gaps(r, 0), _gaps(r)
    med = float(np.median(end)) if end else math.inf
    if require_progress_only:
        passed = bool(end) and med < float(np.median(start))
        condition = "median falls below its start (the issue asks to report it)"
        tolerance = float(np.median(start))
    else:
        passed = med <= tolerance
        condition = "median <= tolerance"
    return Route("trained network", f"{label}: median over {config.ensemble} seeds of C(G) + log 4 after "
                 f"{config.steps} steps", med, condition, tolerance, tolerance_source, passed,
                 {"final": end, "start": start, "spread": [float(np.min(end)), float(np.max(end))] if end else None,
                  "train_time_s": r.train_time, "stopped": r.stopped, "config": config.to_dict()},
                 time.perf_counter() - t0)


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


def flow_1d(ctx: CheckContext) -> tuple:
    # Measured over seeds 0-7 (median C(G) + log 4 after 4000 steps): 0.046 with N(0,1) init, k = 1,
    # batch 256; 0.021 with init N(0, 2^2); 0.011 adding k = 5 and lr_final 0.01; 0.0097 with batch
    # 1024. Wider flows (32 bins, 3 layers) or D (128x128) did not help. Two time scales did: lr_d =
    # 4 lr_g gave 0.0077 (8 lr_g: 0.0090), and 6000 steps 0.0061 (spread 0.0055-0.0088). Maximum
    # likelihood with the same flow and lr reaches 0.002 in 4000 steps, so the flow family is not
    # the limit. Two time-scale rule: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
    # Converge to a Local Nash Equilibrium", NeurIPS 2017.
    cfg = TrainConfig(generator="flow", discriminator="mlp", steps=6000, ensemble=8, seed=ctx.seed, lr_g=2e-3,
                      lr_d=8e-3, log_every=6000, lr_schedule="cosine", lr_final=0.01, init_scale=2.0, d_steps=5,
                      batch_size=1024)
    return toys.mixture2(), "spline-flow G on mixture2", cfg


def flow_2d(ctx: CheckContext) -> tuple:
    cfg = TrainConfig(generator="flow", discriminator="mlp", steps=4000, ensemble=4, seed=ctx.seed, lr_g=1e-3,
                      lr_d=1e-3, log_every=4000, lr_schedule="cosine", lr_final=0.1, flow_layers=2,
                      d_hidden=(128, 128), network_quadrature_atol=1e-4)
    # ||D - D*|| of a trained 128x128 ReLU-type D against a sharp 2-D flow needs tens of thousands
    # of cells at 1e-6 (the D's 256 kink lines); this route reports C(G), so 1e-4 suffices there.
    return toys.ring(std=0.1), "2-D spline-flow G on ring(8, std 0.1)", cfg


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
        ctx.note("G4 Algorithm 1: flow generator, 1-D mixture")
        target, label, cfg = flow_1d(ctx)
        out.append(training_route(ctx, target, label, cfg, 1e-2, "issue 3's bar for the 1-D mixture"))
        ctx.note("G4 Algorithm 1: flow generator, 2-D ring")
        target, label, cfg = flow_2d(ctx)
        out.append(training_route(ctx, target, label, cfg, math.inf, "reported", require_progress_only=True))
    return out
