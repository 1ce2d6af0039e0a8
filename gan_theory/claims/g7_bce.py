"""G7: binary cross-entropy is the value function.

With targets 1 for real and 0 for generated samples, the discriminator's BCE (from logits)
equals minus V's minibatch estimate, and the non-saturating generator loss equals BCE with
target 1 on generated samples. Checked on tensors, against torch's own
``binary_cross_entropy_with_logits``, to float64 precision, including extreme logits.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from ..training.losses import discriminator_loss, generator_loss, minibatch_value
from .base import CheckContext, Route

__all__ = ["check", "bce_route"]

F64 = torch.float64


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


def check(ctx: CheckContext) -> list[Route]:
    ctx.note("G7 BCE and V")
    return [bce_route(ctx)]
