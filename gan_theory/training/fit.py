"""Training a discriminator against a fixed generator: Proposition 1 with a network.

For a fixed ``p_g``, the discriminator that maximises V(D, G) is D* (Goodfellow et al. 2014,
Prop. 1). :func:`fit_discriminator` trains an MLP discriminator on minibatches from ``p_data``
and ``p_g`` (binary cross-entropy from logits, Adam) with the discriminator step of the trainer
(:func:`gan_theory.training.steps.discriminator_step`, non-finite guard included) and tracks
``||D - D*||_m`` by quadrature.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..constants import F64 as _F64
from ..checks import check_choice, check_flag, check_int, check_real
from ..densities import DensityLike, as_pair
from ..discriminator import discriminator_error, discriminator_sup_error
from .config import ACTIVATIONS, DTYPES, SCHEDULES, TrainConfig, check_betas, check_seeds, check_widths, lr_factor
from .device import resolve_device
from .ensemble import EnsembleMLP
from .members import MemberDiscriminator
from .optim import EnsembleAdam
from .sampling import sampler
from .recipes import FALLBACK
from .steps import discriminator_step

__all__ = ["FitResult", "fit_discriminator"]


# The discriminator's architecture and labels have one home: TrainConfig's defaults (a field a
# recipe sets, d_hidden, defaults to None there: its value without a recipe is FALLBACK's).
_TRAIN = {f.name: FALLBACK.get(f.name, f.default) if f.default is None else f.default
          for f in dataclasses.fields(TrainConfig)}


@dataclass
class FitResult:
    """What :func:`fit_discriminator` returns.

    Attributes
    ----------
    discriminator : MemberDiscriminator
        The trained discriminator of the first member: ``x -> D(x)`` (probabilities),
        ``.logits(x)``.
    discriminators : list of MemberDiscriminator
        One per member.
    history : list of dict
        ``step``, ``member``, ``d_error`` (with ``d_error_bound``), ``d_sup_error``,
        ``wall_time``.
    d_error : list of float
        The final ``||D - D*||_m`` of each member.
    """

    discriminator: MemberDiscriminator
    discriminators: list[MemberDiscriminator]
    history: list[dict[str, Any]]
    d_error: list[float]


def fit_discriminator(p_data: DensityLike, p_g: DensityLike, steps: int = 2000, seed: int = 0, *,
                      ensemble: int = 1, seeds: Sequence[int] | None = None, batch_size: int = 512,
                      lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), lr_schedule: str = "cosine",
                      lr_final: float = 0.01, hidden: Sequence[int] = _TRAIN["d_hidden"],
                      activation: str = _TRAIN["d_activation"], real_label: float = _TRAIN["real_label"],
                      fake_label: float = _TRAIN["fake_label"], log_every: int = 250,
                      dtype: str = "float32", device: str = "auto", atol: float = 1e-7,
                      progress: bool | None = None) -> FitResult:
    """Train an MLP discriminator against fixed ``p_data`` and ``p_g`` and measure it against D*.

    Parameters
    ----------
    p_data, p_g : density
        The two densities (torch, scipy.stats or toy names).
    steps : int
        Adam steps (one minibatch of ``batch_size`` from each density per step).
    seed : int
        Seed of the first member (member ``i`` uses ``seed + i`` unless ``seeds`` is given);
        every draw comes from the member's own ``torch.Generator``.
    ensemble : int
        Independent discriminators trained in one batched computation.
    hidden, activation
        The network: by default ``TrainConfig``'s ``d_hidden`` and ``d_activation`` (one home
        for both), so that the network fitted here is the one :func:`gan_theory.train` trains.
    batch_size, lr, betas, lr_schedule, lr_final
        Optimisation. These differ from ``train``'s on purpose: fitting D against a fixed
        ``p_g`` is a supervised problem run to convergence (Adam's usual betas (0.9, 0.999),
        larger batches, cosine decay to ``lr * lr_final``, which damps the minibatch noise at
        the end), while in the game the generator moves under D (beta1 = 0.5 there).
    real_label, fake_label : float
        BCE targets (default: ``TrainConfig``'s); the optimum is then
        ``(a p_data + b p_g)/(p_data + p_g)``.
    log_every : int
        ``||D - D*||_m`` is computed every this many steps (and at the end).
    dtype, device : str
    atol : float
        Tolerance of the quadrature of ``||D - D*||_m^2`` (1e-7: ``||D - D*||_m`` of 0.01 is
        then known to 5e-6; tighter tolerances cost much more in 2-D, where a LeakyReLU network
        has kinks along lines).
    progress : bool, optional
        tqdm progress bar (default: when stderr is a terminal).

    Returns
    -------
    FitResult
    """
    dp, dq = as_pair(p_data, p_g, ("p_data", "p_g"))
    steps = check_int("steps", steps, lower=1)
    n = check_int("ensemble", ensemble, lower=1)
    seeds = check_seeds(seed, seeds, n)
    batch_size = check_int("batch_size", batch_size, lower=1)
    lr = check_real("lr", lr, lower=0.0, lower_open=True)
    betas = check_betas("betas", betas)
    check_choice("lr_schedule", lr_schedule, SCHEDULES)
    lr_final = check_real("lr_final", lr_final, lower=0.0, upper=1.0)
    hidden = check_widths("hidden", hidden)
    check_choice("activation", activation, ACTIVATIONS)
    real_label = check_real("real_label", real_label, lower=0.0, upper=1.0)
    fake_label = check_real("fake_label", fake_label, lower=0.0, upper=1.0)
    if real_label == fake_label:
        raise ValueError(f"real_label, fake_label: the labels must differ, got {real_label} for both")
    log_every = check_int("log_every", log_every, lower=1)
    check_choice("dtype", dtype, DTYPES)
    atol = check_real("atol", atol, lower=0.0, lower_open=True)
    check_flag("progress", progress, none_ok=True)
    dev = resolve_device(device)
    tdtype = torch.float32 if dtype == "float32" else torch.float64
    dim = dp.dim
    rngs = [torch.Generator().manual_seed(s) for s in seeds]
    net = EnsembleMLP(n, (dim, *hidden, 1), activation, dtype=tdtype, device=dev)
    net.reset_parameters(rngs)
    opt = EnsembleAdam(list(net.parameters()), lr, betas=betas)
    base_lr = opt.lr.clone()
    sample_p, sample_q = sampler(dp), sampler(dq)

    def batch(sample):
        x = torch.stack([sample(batch_size, g) for g in rngs]).reshape(n, batch_size, dim)
        return x.to(dev, tdtype)

    def measure(step: int, t: float) -> list[dict[str, Any]]:
        out = []
        for i in range(n):
            d = MemberDiscriminator(net.member(i, dtype=_F64).cpu(), dim)
            e = discriminator_error(d, dp, dq, real_label=real_label, fake_label=fake_label, atol=atol, rtol=0.0)
            sup = discriminator_sup_error(d, dp, dq, real_label=real_label, fake_label=fake_label)
            out.append({"step": step, "member": i, "seed": seeds[i], "d_error": e.value, "d_error_bound": e.error,
                        "d_sup_error": sup, "wall_time": t})
        return out

    from tqdm.auto import tqdm

    history = measure(0, 0.0)
    start = time.perf_counter()
    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    active = torch.ones(n, dtype=torch.bool, device=dev)
    for step in tqdm(range(1, steps + 1), disable=disable, desc="fit D", unit="step"):
        opt.lr = base_lr * lr_factor(lr_schedule, lr_final, step - 1, steps)
        real, fake = batch(sample_p), batch(sample_q)
        # the discriminator step of train(), guard included (a member with a non-finite loss or
        # gradient stops moving; its d_error is then that of its last finite network)
        out = discriminator_step(net, opt, real, fake, None, active, real_label=real_label, fake_label=fake_label)
        active = active & out.finite & out.params_ok
        if step % log_every == 0 or step == steps:
            history.extend(measure(step, time.perf_counter() - start))
    discriminators = [MemberDiscriminator(net.member(i, dtype=_F64).cpu(), dim) for i in range(n)]
    final = [r["d_error"] for r in history if r["step"] == steps]
    return FitResult(discriminators[0], discriminators, history, final)
