"""G7: binary cross-entropy is the value function.

With targets 1 for real and 0 for generated samples, the discriminator's BCE (from logits)
equals minus V's minibatch estimate, and the non-saturating generator loss equals BCE with
target 1 on generated samples. Checked on tensors, against torch's own
``binary_cross_entropy_with_logits``, to float64 precision, including extreme logits; and in
the trainer: the gradient its generator step applies (read from an SGD step) equals the
gradient of the configured loss, written here from its formula, for each loss.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from ..constants import F64
from .. import toys
from ..training.config import TrainConfig
from ..training.run import Trainer
from ..training.losses import discriminator_loss, generator_loss, minibatch_value
from .base import CheckContext, Route

# the generator's losses from their definitions (Goodfellow et al. 2014, eq. 1 and Sec. 3),
# per sample, as functions of the logit l of D(G(z)): minimise log(1 - D) or -log D
LOSS_FORMULAS = {"minimax": lambda l: F.logsigmoid(-l), "non_saturating": lambda l: -F.logsigmoid(l)}

__all__ = ["check", "bce_route", "trainer_route", "LOSS_FORMULAS"]



def _logits(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    real = torch.cat([3 * torch.randn(4, 256, generator=g, dtype=F64), torch.tensor([[-700.0, -40.0, 40.0, 700.0]] * 4,
                                                                                     dtype=F64)], 1)
    fake = torch.cat([3 * torch.randn(4, 256, generator=g, dtype=F64), torch.tensor([[700.0, 40.0, -40.0, -700.0]] * 4,
                                                                                     dtype=F64)], 1)
    return real, fake


def bce_route(ctx: CheckContext, d_loss=discriminator_loss, value=minibatch_value, g_loss=generator_loss) -> Route:
    t0 = time.perf_counter()
    real, fake = _logits(ctx.seed)
    ref_d = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real), reduction="none").mean(1)
             + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake), reduction="none").mean(1))
    ref_g = F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake), reduction="none").mean(1)
    ours_d, ours_v, ours_g = d_loss(real, fake), value(real, fake), g_loss(fake, "non_saturating")
    dev = max(float(torch.max(torch.abs(ours_d - ref_d) / ref_d.abs())),
              float(torch.max(torch.abs(-ours_v - ref_d) / ref_d.abs())),
              float(torch.max(torch.abs(ours_g - ref_g) / ref_g.abs())))
    finite = bool(torch.isfinite(ours_d).all() and torch.isfinite(ours_g).all())
    naive = (torch.log(torch.sigmoid(real)).mean(1) + torch.log(1 - torch.sigmoid(fake)).mean(1))
    return Route("tensors vs torch", "max relative difference of BCE(real, 1) + BCE(fake, 0) from -V's minibatch "
                 "estimate and from our loss, and of the non-saturating loss from BCE(fake, 1); logits include "
                 f"+-40 and +-700 (where log(sigmoid) gives {float(naive[0]):.3g})", dev,
                 "value <= tolerance and all finite", 1e-14, "float64 rounding of a 260-term mean",
                 dev <= 1e-14 and finite, {"bce": ref_d.tolist()}, time.perf_counter() - t0)


def _applied_generator_gradient(ctx: CheckContext, loss: str, formula) -> tuple[float, float]:
    """One trainer step (exact D*, affine generator, plain SGD): the gradient it applied,
    ``(theta_before - theta_after) / lr``, against the autograd gradient of ``formula`` at the
    same latent draws. Returns (max relative difference, gradient norm)."""
    lr = 0.1
    cfg = TrainConfig(generator="affine", discriminator="optimal", loss=loss, optimizer="sgd", momentum=0.0,
                      steps=1, ensemble=2, seed=ctx.seed, lr_g=lr, init_loc=0.5, init_scale=0.8, batch_size=64,
                      device="cpu", dtype="float64", log_every=10 ** 9)
    target = toys.gaussian(2.0, 0.5)
    tr = Trainer(target, cfg)
    gen = tr.member(0).generator.module  # the ensemble module holding both members (live parameters)
    states = [g.get_state() for g in tr.rngs]
    before = [p.detach().clone() for p in gen.parameters()]
    tr.step()
    applied = [(b - p.detach()) / lr for b, p in zip(before, gen.parameters())]
    # the same draws, the same generator state, the loss from its formula
    rngs = [torch.Generator().manual_seed(0) for _ in states]
    for g, st in zip(rngs, states):
        g.set_state(st)
    z = torch.stack([torch.randn(cfg.batch_size, gen.latent_dim, generator=g, dtype=F64) for g in rngs])
    with torch.no_grad():
        for p, b in zip(gen.parameters(), before):
            p.copy_(b)
    x = gen(z)
    # D* of the generator before the step, held fixed: logit = log p_data - log p_g (Prop. 1),
    # with log_prob's parameters detached (the generator module's documented contract)
    logits = target.log_prob(x[..., 0]) - gen.log_prob(x)
    expected = torch.autograd.grad(formula(logits).mean(-1).sum(), list(gen.parameters()))
    num = max(float(torch.max(torch.abs(a - e))) for a, e in zip(applied, expected))
    scale = max(float(torch.max(torch.abs(e))) for e in expected)
    return num / scale, scale


def trainer_route(ctx: CheckContext, formulas=LOSS_FORMULAS) -> Route:
    """The trainer's generator step follows the configured loss: for each loss, the gradient it
    applies equals that loss's gradient from the formula (and differs from the other loss's)."""
    t0 = time.perf_counter()
    devs, cross = {}, {}
    for loss in ("minimax", "non_saturating"):
        devs[loss], _ = _applied_generator_gradient(ctx, loss, formulas[loss])
        other = "non_saturating" if loss == "minimax" else "minimax"
        cross[loss], _ = _applied_generator_gradient(ctx, loss, formulas[other])
    dev = max(devs.values())
    # the SGD update rounds to a few ulps of the parameters (~1): / lr = 0.1 gives ~1e-14 of
    # gradients of size ~1; the other loss's gradient differs by order 1
    return Route("trainer vs formula", "max relative difference between the generator gradient the trainer applies "
                 "(one SGD step, exact D*, affine generator on N(2, 0.5^2), 2 seeds) and the gradient of the "
                 "configured loss, log(1 - D(G(z))) or -log D(G(z)), from its formula", dev,
                 "value <= tolerance, and > 0.1 against the other loss's formula", 1e-10,
                 "float64 rounding of an SGD step divided by lr = 0.1",
                 dev <= 1e-10 and min(cross.values()) > 0.1, {"deviation": devs, "against_other_loss": cross},
                 time.perf_counter() - t0)


def check(ctx: CheckContext) -> list[Route]:
    ctx.note("G7 BCE and V")
    return [bce_route(ctx), trainer_route(ctx)]
