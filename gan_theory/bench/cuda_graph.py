"""The trainer's GAN step captured by hand in a CUDA graph (``torch.cuda.graphs``).

:class:`CapturedStep` wraps an :class:`~gan_theory.training.trainer.EnsembleTrainer` on CUDA and
replays one captured GAN step per call: the data and noise are drawn on the CPU from the
members' own generators exactly as the trainer draws them (per member: the real batch, the
discriminator step's noise, the generator step's noise), copied into static device buffers,
and the graph runs the trainer's public step functions
(:func:`~gan_theory.training.steps.discriminator_step`,
:func:`~gan_theory.training.steps.generator_step`) on them. Capturing runs nothing, and the
warm-up steps that capture needs (on a side stream, with noise from a throw-away generator)
are undone by restoring the parameters and optimizer state, so the first replay is the
trainer's first step and the numbers equal the eager step's to float rounding (the GPU tests
and the throughput suite compare them).

Scope, kept small on purpose (it cannot be tested without a GPU): one chunk, ``d_steps = 1``,
no R1 penalty, Adam, a network discriminator, a constant learning rate. Anything else is
refused with a ``ValueError`` naming the setting. Members stopped on a non-finite value are
kept out of the updates through a static mask (the trainer's stop records are not written).
Which form of the step (eager, ``torch.compile(mode="reduce-overhead")`` or this one) becomes
the trainer's default on CUDA awaits the GPU run of ``benchmarks/gpu_run.sh``; the trainer
stays eager until then.
"""

from __future__ import annotations

import torch

__all__ = ["CapturedStep"]


class CapturedStep:
    """One GAN step of ``trainer``'s ensemble per call, replayed from a CUDA graph.

    Parameters
    ----------
    trainer : EnsembleTrainer
        On a CUDA device, configured as the module docstring says.
    warmup : int
        Eager steps run on a side stream before capture (then undone).
    """

    def __init__(self, trainer, warmup: int = 3) -> None:
        from ..training.optim import EnsembleAdam

        cfg = trainer.config
        if trainer.device.type != "cuda":
            raise ValueError(f"trainer: a CUDA graph needs a CUDA device, the trainer is on {trainer.device}")
        checks = [("chunks", len(trainer.chunks), 1), ("d_steps", cfg.d_steps, 1), ("r1_gamma", cfg.r1_gamma, 0.0),
                  ("lr_schedule", cfg.lr_schedule, "constant"), ("discriminator", cfg.discriminator, "mlp"),
                  ("entropy_weight", cfg.entropy_weight or 0.0, 0.0)]
        for name, got, want in checks:
            if got != want:
                raise ValueError(f"{name}: the captured step supports {want!r} only, got {got!r}")
        chunk = trainer.chunks[0]
        if not isinstance(chunk.opt_g, EnsembleAdam) or not isinstance(chunk.opt_d, EnsembleAdam):
            raise ValueError(f"optimizer: the captured step supports 'adam' only, got {cfg.optimizer!r}")
        self.trainer, self.chunk = trainer, chunk
        n, b, dev, dt = trainer.n_members, cfg.batch_size, trainer.device, trainer.dtype
        latent = chunk.generator.latent_dim
        self.real = torch.zeros(n, b, trainer.dim, device=dev, dtype=dt)
        self.z_d = torch.zeros(n, b, latent, device=dev, dtype=dt)
        self.z_g = torch.zeros(n, b, latent, device=dev, dtype=dt)
        self.active = trainer.active.clone()
        state = self._state()
        saved = [t.detach().clone() for t in state]
        throwaway = torch.Generator(device=dev).manual_seed(12345)
        side = torch.cuda.Stream(device=dev)
        side.wait_stream(torch.cuda.current_stream(dev))
        with torch.cuda.stream(side):
            for _ in range(warmup):
                for buf in (self.real, self.z_d, self.z_g):
                    buf.normal_(generator=throwaway)
                self._body()
        torch.cuda.current_stream(dev).wait_stream(side)
        torch.cuda.synchronize(dev)
        with torch.no_grad():
            for t, s in zip(state, saved):
                t.copy_(s)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self._body()
        torch.cuda.synchronize(dev)

    def _state(self) -> list[torch.Tensor]:
        """Every tensor a step changes in place: parameters, Adam's moments and step counts."""
        c = self.chunk
        out = list(c.generator.parameters()) + list(c.discriminator.parameters())
        for opt in (c.opt_g, c.opt_d):
            out += list(opt.exp_avg) + list(opt.exp_avg_sq) + [opt.step_count]
        return out + [self.active]

    def _body(self) -> None:
        from ..training.steps import discriminator_step, generate, generator_step

        cfg, c = self.trainer.config, self.chunk
        with torch.no_grad():
            fake, weight = generate(c.generator, self.z_d)
        res = discriminator_step(c.discriminator, c.opt_d, self.real, fake, weight, self.active,
                                 real_label=cfg.real_label, fake_label=cfg.fake_label)
        self.active.copy_(self.active & res.finite & res.params_ok)
        res = generator_step(c.generator, c.discriminator, c.opt_g, self.z_g, self.active, loss=cfg.loss,
                             real_label=cfg.real_label, fake_label=cfg.fake_label)
        self.active.copy_(self.active & res.finite & res.params_ok)

    def __call__(self) -> None:
        """Draw this step's data and noise as the trainer does, and replay the graph."""
        from ..densities import standard_draws

        tr, cfg = self.trainer, self.trainer.config
        b, latent, dt = cfg.batch_size, self.chunk.generator.latent_dim, tr.dtype
        self.real.copy_(tr.sample_batch(b, tr.rngs).reshape(len(tr.rngs), b, tr.dim).to(dt))
        self.z_d.copy_(standard_draws("normal", (b, latent), tr.rngs, dt))
        self.z_g.copy_(standard_draws("normal", (b, latent), tr.rngs, dt))
        self.graph.replay()
        tr.step_count += 1
