"""One discriminator step and one generator step of Algorithm 1, over a whole ensemble.

Goodfellow et al. (2014), Algorithm 1: the discriminator ascends the minibatch estimate of
V(D, G) (here: descends the binary cross-entropy from logits, with targets ``real_label`` and
``fake_label``), the generator descends its loss (``log(1 - D(G(z)))`` or ``-log D(G(z))``).
Every function here is plain tensor code over an ensemble of N members (leading dimension N):
no ``.item()``, no ``float(tensor)``, no Python branch on a tensor's value. The only Python
branches are on settings fixed for a run (the loss, the labels, ``r1_gamma > 0``, whether the
generator has ``weighted_sample``, which optimizer), so that ``torch.compile`` traces each
piece into one graph, and a member that stops does not change the graph.

The pieces:

* :func:`discriminator_losses` and :func:`generator_losses`: per-member losses (the forward
  pass);
* :func:`guarded_update`: the non-finite guard and the optimizer update; the gradients between
  the two are taken with ``torch.autograd.grad`` of the sum of the members' losses (each
  member's gradient is that of its own loss);
* :func:`discriminator_update` and :func:`generator_update`: the three in a row, one player's
  whole step; compiled when ``TrainConfig.compile`` is set, each as one graph where it can be
  (:meth:`StepFunctions.build`);
* :func:`discriminator_step` and :func:`generator_step`: the two steps as functions of the
  models, the optimizer, the minibatch and the per-member ``active`` mask;
* :func:`update_stops`: the mask and the stop records (step, reason code, loss value) as
  tensors, updated with ``torch.where``; they become "member i stopped because ..." text only
  when a record is written (:func:`stop_reason`).

The weighted expectation (shared design of issue 10): a generator with a method
``weighted_sample(z) -> (x, w)`` (``w`` of shape (N, B), each row summing to 1) is used by both
steps with ``E_{p_g} f ~= sum_b w_b f(x_b)``; without it ``x = G(z)`` and the plain mean over
the batch is taken (exactly the mean, not a sum with weights 1/B, so that the numbers do not
change by a rounding).

The R1 penalty (Mescheder, Geiger and Nowozin 2018, "Which training methods for GANs do actually
converge?", eq. 9): with ``r1_gamma > 0`` the discriminator's loss of each member gains
``gamma/2 * mean_b ||grad_x l(x_b)||^2`` over its real minibatch, with ``l`` the logit. The
input gradient is computed explicitly by :meth:`EnsembleMLP.logits_and_input_grad` (the chain
rule through the layers), so the parameter gradient is one ordinary backward pass: no double
backward, which ``torch.compile`` would not compile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch

from ..constants import F64 as _F64
from ..logspace import label_logit
from .config import COMPILE_MODES
from .ensemble import EnsembleMLP
from .losses import discriminator_loss, generator_loss, minibatch_value
from .optim import EnsembleSGD

__all__ = ["COMPILE_MODES", "StepFunctions", "StepOutput", "discriminator_losses", "discriminator_step",
           "discriminator_update", "generate", "generator_losses", "generator_step", "generator_update", "guarded_update",
           "optimal_logits", "stop_reason", "update_stops"]


#: Why a member stopped, as the codes :func:`update_stops` records (0: it did not).
_REASONS = {1: "non-finite discriminator loss or gradient", 2: "non-finite discriminator parameters after the update",
            3: "non-finite generator loss or gradient", 4: "non-finite generator parameters after the update"}
_CODES = {"discriminator": (1, 2), "generator": (3, 4)}


@dataclass(frozen=True)
class StepOutput:
    """What one step returns, per member (tensors of shape (N,), on the models' device).

    Attributes
    ----------
    loss : the member's loss (detached).
    grad_norm : the norm of the member's gradient (float64; non-finite if the gradient was).
    finite : whether the loss and the gradient were finite (else the member is not updated).
    params_ok : whether the parameters are finite after the update (SGD can overflow; Adam's
        step is bounded by the learning rate, so it is always true there).
    value : the minibatch estimate of V(D, G) (discriminator step only, else None).
    """

    loss: torch.Tensor
    grad_norm: torch.Tensor
    finite: torch.Tensor
    params_ok: torch.Tensor
    value: torch.Tensor | None = None


def generate(generator: torch.nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Samples ``x`` (N, B, dim) and their weights ``w`` (N, B): ``generator.weighted_sample(z)``
    when the generator has it, else ``(generator(z), None)`` (None: the plain mean)."""
    weighted = getattr(generator, "weighted_sample", None)
    if weighted is not None:
        return weighted(z)
    return generator(z), None


def _generate_detached(generator: torch.nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    with torch.no_grad():
        return generate(generator, z)


def optimal_logits(log_p_data: torch.Tensor, log_p_g: torch.Tensor, real_label: float = 1.0,
                   fake_label: float = 0.0) -> torch.Tensor:
    """The logit of the optimal discriminator for the labels ``(a, b) = (real_label, fake_label)``.

    The BCE with targets ``a`` on ``p_data`` and ``b`` on ``p_g`` is minimised pointwise by
    ``D* = (a p + b q) / (p + q)`` (Goodfellow et al. 2014, Prop. 1, for ``a = 1, b = 0``), whose
    logit is ``log(a p + b q) - log((1 - a) p + (1 - b) q)``, here from the log-densities with
    ``logaddexp`` (``log p - log q`` for ``a = 1, b = 0``).
    """
    return label_logit(log_p_data, log_p_g, real_label, fake_label)  # one formula with the theory layer's D*


def discriminator_losses(disc: EnsembleMLP, real: torch.Tensor, fake: torch.Tensor, fake_weight: torch.Tensor | None,
                         real_label: float, fake_label: float, r1_gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-member discriminator loss (BCE, plus the R1 penalty when ``r1_gamma > 0``) and
    minibatch V, each of shape (N,)."""
    if r1_gamma > 0:
        real_logits, grad_x = disc.logits_and_input_grad(real)
    else:
        real_logits = disc(real)[..., 0]
    fake_logits = disc(fake)[..., 0]
    loss = discriminator_loss(real_logits, fake_logits, real_label, fake_label, fake_weight=fake_weight)
    if r1_gamma > 0:
        loss = loss + (0.5 * r1_gamma) * grad_x.square().sum(-1).mean(-1)
    return loss, minibatch_value(real_logits, fake_logits, fake_weight=fake_weight)


def generator_losses(generator: torch.nn.Module, disc: EnsembleMLP | None, z: torch.Tensor, loss: str,
                     data_log_prob: Callable[[torch.Tensor], torch.Tensor] | None, real_label: float,
                     fake_label: float, entropy_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member generator loss (N,) on samples ``G(z)``, against the network ``disc`` or, when
    it is None, the exact D* (``data_log_prob(x)`` and the generator's ``log_prob(x)``, whose
    parameters are detached: D* is the other player, held fixed).

    With ``entropy_weight`` (a tensor ``lambda``; the mixture generator) the loss gains
    ``lambda * sum_b w_b log p_g(x_b)``, an unbiased estimate of ``-lambda H(p_g)`` (the sample
    weights ``w_b``, or ``1/B``), differentiable in the generator's parameters through both the
    samples and the density: an entropy bonus (Dieng et al. 2019, PresGAN, eq. 5), see
    ``TrainConfig.entropy_weight``.
    """
    x, w = generate(generator, z)
    if disc is not None:
        logits = disc(x)[..., 0]
    else:
        logits = optimal_logits(data_log_prob(x), generator.log_prob(x), real_label, fake_label)
    out = generator_loss(logits, loss, weight=w)
    if entropy_weight is not None:
        log_q = generator.log_prob(x, detach=False)
        out = out + entropy_weight * ((w * log_q).sum(-1) if w is not None else log_q.mean(-1))
    return out


def guarded_update(opt: Any, params: list[torch.Tensor], grads: list[torch.Tensor | None], loss: torch.Tensor,
                   active: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The non-finite guard and one optimizer update of the active members.

    A member whose loss or squared gradient norm (one float64 reduction per parameter tensor:
    a NaN or infinity anywhere shows there) is not finite is not updated; its non-finite
    gradient entries are zeroed so that they cannot reach the others through the batched
    arithmetic. With SGD an update can overflow: the parameters are kept before it and put back
    for a member whose parameters are then not finite (Adam's step is bounded by its learning
    rate). Returns ``(grad_norm, finite, params_ok)``, each of shape (N,).
    """
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
    sq = sum(g.detach().reshape(g.shape[0], -1).square().sum(1, dtype=_F64) for g in grads)
    finite = torch.isfinite(sq) & torch.isfinite(loss.detach())
    grads = [torch.where(torch.isfinite(g), g, torch.zeros_like(g)) for g in grads]
    go = active & finite
    sgd = isinstance(opt, EnsembleSGD)
    before = [p.detach().clone() for p in params] if sgd else None
    opt.step(go, grads=grads)
    if before is None:
        return torch.sqrt(sq), finite, torch.ones_like(finite)
    ok = torch.isfinite(sum(p.detach().reshape(p.shape[0], -1).sum(1, dtype=_F64) for p in params))
    with torch.no_grad():
        for p, b in zip(params, before):
            p.copy_(torch.where((~ok).reshape((-1,) + (1,) * (p.dim() - 1)), b, p))
    return torch.sqrt(sq), finite, ok


def discriminator_update(disc: EnsembleMLP, opt: Any, real: torch.Tensor, fake: torch.Tensor,
                         fake_weight: torch.Tensor | None, active: torch.Tensor, real_label: float, fake_label: float,
                         r1_gamma: float, *, losses: Callable = discriminator_losses,
                         update: Callable = guarded_update) -> tuple[torch.Tensor, ...]:
    """One discriminator step's computation: the losses, their gradients and the guarded update.

    Returns ``(loss, value, grad_norm, finite, params_ok)`` (see :class:`StepOutput`).
    ``losses`` and ``update`` are the pieces (compiled ones when the step is compiled piece by
    piece, :meth:`StepFunctions.build`).
    """
    loss, value = losses(disc, real, fake, fake_weight, real_label, fake_label, r1_gamma)
    params = list(disc.parameters())
    grads = torch.autograd.grad(loss.sum(), params, allow_unused=True)
    norm, finite, ok = update(opt, params, list(grads), loss, active)
    return loss.detach(), value.detach(), norm, finite, ok


def generator_update(generator: torch.nn.Module, disc: EnsembleMLP | None, opt: Any, z: torch.Tensor,
                     active: torch.Tensor, loss: str, data_log_prob: Callable | None, real_label: float,
                     fake_label: float, entropy_weight: torch.Tensor | None = None, *,
                     losses: Callable = generator_losses,
                     update: Callable = guarded_update) -> tuple[torch.Tensor, ...]:
    """One generator step's computation (the discriminator's parameters already out of the
    graph, :func:`generator_step`): ``(loss, grad_norm, finite, params_ok)``."""
    loss_g = losses(generator, disc, z, loss, data_log_prob, real_label, fake_label, entropy_weight)
    params = list(generator.parameters())
    grads = torch.autograd.grad(loss_g.sum(), params, allow_unused=True)
    norm, finite, ok = update(opt, params, list(grads), loss_g, active)
    return loss_g.detach(), norm, finite, ok


def _one_graph(fn: Callable, mode: str | None) -> Callable:
    """``fn`` compiled with ``torch.autograd.grad`` traced into its graph (Dynamo's
    ``trace_autograd_ops``, set while it traces, which is inside the calls): forward, backward
    and update become one Inductor graph, with no autograd engine or AOTAutograd wrapper around
    the pieces at run time."""
    compiled = torch.compile(fn, mode=mode, dynamic=False)

    def call(*args):
        with torch._dynamo.config.patch(trace_autograd_ops=True):
            return compiled(*args)

    call.__wrapped__ = fn
    return call


#: The ``torch.compile`` modes that capture CUDA graphs: a graph that updates the optimizer's
#: state (tensors that are not parameters) in place is not captured, so in these modes the step
#: is compiled piece by piece (the forward and backward passes captured, the update not).
_CUDAGRAPH_MODES = ("reduce-overhead", "max-autotune")


def _compiles_as_one_graph(mode: str | None) -> bool:
    """Whether :meth:`StepFunctions.build` compiles each player's step as one graph in ``mode``."""
    return mode not in _CUDAGRAPH_MODES and hasattr(torch._dynamo.config, "trace_autograd_ops")


@dataclass(frozen=True)
class StepFunctions:
    """The two players' step computations and the sampling, eager or compiled (see :meth:`build`)."""

    discriminator_update: Callable = discriminator_update
    generator_update: Callable = generator_update
    sample: Callable = _generate_detached
    mode: str | bool = False
    discriminator_one_graph: bool = False
    generator_one_graph: bool = False

    @classmethod
    def build(cls, compile: bool | str = False, *, r1: bool = False) -> StepFunctions:
        """Eager functions (``compile=False``), or the step compiled with ``torch.compile``
        (``True``: its default mode, or one of :data:`COMPILE_MODES`); ``r1``: whether the
        discriminator's loss has the R1 penalty.

        * **One graph per player step** (default mode and ``"max-autotune-no-cudagraphs"``,
          where the torch has Dynamo's ``trace_autograd_ops``, which appeared in 2.11): the
          losses, the gradients and the update of the player in one graph. On 2 CPU cores, 64
          members of the throughput suite, the pieces' step took x1.08 its time
          (``benchmarks/bench_traced_forms.py``, ``benchmarks/results/traced_forms_cpu.json``).
        * **Piece by piece** (the CUDA-graph modes, :data:`_CUDAGRAPH_MODES`, an older torch, and
          the discriminator step with R1): the losses compiled with their backward
          (AOTAutograd), the update compiled apart, the gradients between them taken by the
          autograd engine. With R1 (the explicit input gradient) the discriminator's step in
          one graph is slower: on the 2-D recipe (32 members, ring(8), 1 thread), both players
          in one graph took x1.27 the pieces' time, the generator's alone in one graph x1.00
          (``benchmarks/bench_r1_routes.py``, ``benchmarks/results/r1_routes_cpu.json``).

        The sampling is compiled too. The same on every device.
        """
        if compile is False:
            return cls()
        mode = None if compile is True else compile

        def c(fn):
            return torch.compile(fn, mode=mode, dynamic=False)

        one = _compiles_as_one_graph(mode)
        update = c(guarded_update)
        d_one, g_one = one and not r1, one
        d = (_one_graph(discriminator_update, mode) if d_one
             else partial(discriminator_update, losses=c(discriminator_losses), update=update))
        g = _one_graph(generator_update, mode) if g_one else partial(generator_update, losses=c(generator_losses),
                                                                      update=update)
        return cls(d, g, c(_generate_detached), compile, d_one, g_one)


_EAGER = StepFunctions()


def discriminator_step(disc: EnsembleMLP, opt: Any, real: torch.Tensor, fake: torch.Tensor,
                       fake_weight: torch.Tensor | None, active: torch.Tensor, *, real_label: float = 1.0,
                       fake_label: float = 0.0, r1_gamma: float = 0.0, fns: StepFunctions = _EAGER) -> StepOutput:
    """One discriminator step of every active member on the minibatches ``real`` and ``fake``
    (N, B, dim), ``fake`` weighted by ``fake_weight`` (N, B) when given.

    The same function serves :func:`gan_theory.train` and
    :func:`gan_theory.fit_discriminator`.
    """
    loss, value, norm, finite, ok = fns.discriminator_update(disc, opt, real, fake, fake_weight, active, real_label,
                                                             fake_label, r1_gamma)
    return StepOutput(loss, norm, finite, ok, value)


def generator_step(generator: torch.nn.Module, disc: EnsembleMLP | None, opt: Any, z: torch.Tensor,
                   active: torch.Tensor, *, loss: str, data_log_prob: Callable | None = None,
                   real_label: float = 1.0, fake_label: float = 0.0, entropy_weight: torch.Tensor | None = None,
                   fns: StepFunctions = _EAGER) -> StepOutput:
    """One generator step of every active member on the latent draws ``z`` (N, B, latent_dim),
    against the network ``disc`` or (``disc=None``) the exact D* of ``data_log_prob``; with
    ``entropy_weight`` (a tensor) the entropy bonus of :func:`generator_losses`."""
    # The discriminator is held fixed here: its parameters leave the graph, so that no backward
    # function computes their gradients (autograd.grad would drop them; a custom autograd
    # Function such as the ensemble's one-output layer would compute them all the same).
    frozen = [p for p in disc.parameters() if p.requires_grad] if disc is not None else []
    for p in frozen:
        p.requires_grad_(False)
    try:
        loss_g, norm, finite, ok = fns.generator_update(generator, disc, opt, z, active, loss, data_log_prob,
                                                        real_label, fake_label, entropy_weight)
    finally:
        for p in frozen:
            p.requires_grad_(True)
    return StepOutput(loss_g, norm, finite, ok)


def update_stops(active: torch.Tensor, stop_step: torch.Tensor, stop_code: torch.Tensor, stop_value: torch.Tensor,
                 out: StepOutput, step: int, what: str) -> tuple[torch.Tensor, ...]:
    """The mask and the stop records after a step: a member active before it whose loss or
    gradient was not finite (or, then, whose parameters were not) is stopped, with the step
    number, the reason code and its loss value. Tensor code only (``torch.where``).

    Returns the new ``(active, stop_step, stop_code, stop_value)``.
    """
    loss_code, params_code = _CODES[what]
    value = out.loss.to(_F64)
    bad_loss = active & ~out.finite
    active = active & out.finite
    bad_params = active & ~out.params_ok
    active = active & out.params_ok
    newly = bad_loss | bad_params
    stop_step = torch.where(newly, step, stop_step)
    stop_code = torch.where(bad_loss, loss_code, torch.where(bad_params, params_code, stop_code))
    stop_value = torch.where(bad_loss, value, stop_value)
    return active, stop_step, stop_code, stop_value


def stop_reason(member: int, step: int, code: int, value: float) -> str:
    """The text recorded for a stopped member (``TrainResult.stopped``, the records' status)."""
    what = _REASONS[code]
    return f"step {step}, member {member}: {what}" + (f" ({value})" if code in (1, 3) else "")
