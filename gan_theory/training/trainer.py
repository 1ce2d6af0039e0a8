"""The ensemble trainer in memory: the models, the random draws, Algorithm 1's steps, the state.

One :class:`EnsembleTrainer` trains ``config.ensemble`` independent GANs in one batched
computation (weights with the ensemble as leading dimension; on CPU, members are processed in
chunks of ``config.chunk``). Member ``i`` draws every random number (initialisation, data,
latent noise) from its own generator seeded with ``config.member_seeds[i]``, so its run does
not depend on the other members: trained alone with the same seed, it follows the same
trajectory (to rounding).

Each step is :func:`.steps.discriminator_step` (``d_steps`` times) then
:func:`.steps.generator_step` for every chunk (Goodfellow et al. 2014, Algorithm 1). A member
whose loss, gradients or parameters become non-finite is stopped by the steps' tensor guard
(its parameters keep their last finite values); the reason is recorded when the metrics are.
Every ``log_every`` steps :meth:`EnsembleTrainer.measure` measures each member with
:mod:`.metrics`. The run directory, the progress bar and ``run()`` are added by
:class:`gan_theory.training.run.Trainer`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..constants import F64 as _F64
from ..densities import rebuild
from ..densities import Density, DensityLike, as_density
from .config import TrainConfig
from .device import resolve_device
from .ensemble import EnsembleMLP
from .generators import AffineGenerator, MLPGenerator
from .grid import GridGenerator
from .members import Member, MemberDiscriminator, MemberGenerator
from .metrics import grid_metrics, member_metrics
from .optim import EnsembleAdam, EnsembleSGD
from .rundir import _CHECKPOINT_FORMAT, _CHECKPOINT_VERSION
from .sampling import batch_sampler, sampler, standard_draws
from .steps import StepFunctions, StepOutput, discriminator_step, generator_step, stop_reason, update_stops

__all__ = ["EnsembleTrainer"]



class _Chunk(torch.nn.Module):
    """A sub-ensemble: members ``start .. start + size - 1``, with their own modules and
    optimizers (chunking keeps CPU working sets small without slicing parameters)."""

    def __init__(self, start: int, size: int, generator: torch.nn.Module, discriminator: EnsembleMLP | None,
                 opt_g, opt_d) -> None:
        super().__init__()
        self.start, self.size = start, size
        self.generator, self.discriminator = generator, discriminator
        self.opt_g, self.opt_d = opt_g, opt_d

    @property
    def members(self) -> slice:
        return slice(self.start, self.start + self.size)


class EnsembleTrainer:
    """Trains ``config.ensemble`` toy GANs on ``p_data`` in one batched computation (in memory).

    Parameters
    ----------
    p_data : density
        Any density the engine accepts, or a toy name.
    config : TrainConfig
    target : dict, optional
        How ``p_data`` was named (``{"name": "ring", "params": {...}}``).

    Public: :meth:`step`, :meth:`measure`, :meth:`member`, :meth:`member_discriminator`,
    :meth:`state_dict` / :meth:`load_state_dict`, and ``config``, ``p_data``, ``dim``,
    ``device``, ``n_members``, ``step_count``, ``active`` (the per-member mask, a bool tensor),
    ``stopped`` (``member -> reason``), ``history``.
    """

    def __init__(self, p_data: DensityLike, config: TrainConfig, *, target: dict | None = None) -> None:
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config: expected a gan_theory.TrainConfig, got {type(config).__name__}")
        if isinstance(p_data, str):
            from .. import toys

            target = target or {"name": p_data, "params": {}}
            p_data = toys.make(p_data)
        self.p_data: Density = as_density(p_data, "p_data")
        self.dim = self.p_data.dim
        if config.dim is not None and config.dim != self.dim:
            raise ValueError(f"dim: the models are configured for {config.dim}-D data but the target is "
                             f"{self.dim}-D (a {config.dim}-D {config.generator} generator cannot model it)")
        # generator "auto" and the recipe fields left at None (training/recipes.py): the run
        # trains with, and writes to config.json, the resolved configuration.
        self.config = config = config.resolve(self.dim)
        if config.discriminator == "optimal" and config.generator == "mlp":
            raise ValueError("discriminator: the optimal discriminator needs an exact generator density; use "
                             "generator 'affine', 'flow', 'mixture' or 'grid' with it, or an 'mlp' discriminator")
        self.device = resolve_device(config.device)
        self.dtype = torch.float32 if config.dtype == "float32" else torch.float64
        self.target = target
        self.n_members = n = config.ensemble
        self.rngs = [torch.Generator().manual_seed(s) for s in config.member_seeds]
        self.sample_data = sampler(self.p_data)
        self.sample_batch = batch_sampler(self.p_data)
        self.data_dist = None
        if config.discriminator == "optimal" and config.generator != "grid":
            self.data_dist = rebuild(self.p_data.dist, self.dtype, self.device)
        chunk = config.chunk if (config.chunk and self.device.type == "cpu") else n
        self.chunks = [self._build_chunk(s, min(chunk, n - s)) for s in range(0, n, chunk)]
        self.step_count = 0
        self.active = torch.ones(n, dtype=torch.bool, device=self.device)
        # why members stopped, as tensors (step, reason code, loss value), read at log time
        self._stop_step = torch.full((n,), -1, dtype=torch.int64, device=self.device)
        self._stop_code = torch.zeros(n, dtype=torch.int64, device=self.device)
        self._stop_value = torch.zeros(n, dtype=_F64, device=self.device)
        self._stopped: dict[int, str] = {}
        self.history: list[dict[str, Any]] = []
        self.train_time = 0.0
        self._last: dict[str, torch.Tensor] = {}
        self.out: Path | None = None
        self._fns = StepFunctions.build(config.compile, r1=config.r1_gamma > 0)
        # the entropy bonus's weight this step (a tensor, filled in place: a compiled step sees
        # one input, not a new constant per step); None without a bonus
        self._entropy_weight = (torch.zeros((), dtype=self.dtype, device=self.device)
                                if config.entropy_weight else None)

    # ------------------------------------------------------------------ construction
    def _build_chunk(self, start: int, size: int) -> _Chunk:
        cfg, dim = self.config, self.dim
        kw = {"dtype": self.dtype, "device": self.device}
        rngs = self.rngs[start:start + size]
        if cfg.generator == "affine":
            gen = AffineGenerator(size, dim, **kw)
        elif cfg.generator == "mlp":
            gen = MLPGenerator(size, dim, cfg.latent_dim or dim, cfg.g_hidden, cfg.g_activation, **kw)
        elif cfg.generator == "flow":
            from .flow_generator import FlowGenerator

            gen = FlowGenerator(size, dim, n_bins=cfg.flow_bins, n_layers=cfg.flow_layers, **kw)
        elif cfg.generator == "mixture":
            from .mixture import MixtureGenerator

            gen = MixtureGenerator(size, dim, cfg.mixture_components, component_scale=cfg.init_component_scale, **kw)
        else:
            gen = GridGenerator(size, self.p_data, cfg.grid_points, cfg.init_loc, cfg.init_scale, **kw)
        gen.reset_parameters(rngs, cfg.init_loc, cfg.init_scale)
        disc = None
        if cfg.discriminator == "mlp":
            disc = EnsembleMLP(size, (dim, *cfg.d_hidden, 1), cfg.d_activation, **kw)
            disc.reset_parameters(rngs)
        lr_g = torch.tensor(cfg.member_lr_g[start:start + size], dtype=_F64)
        lr_d = torch.tensor(cfg.member_lr_d[start:start + size], dtype=_F64)
        opt_g = self._optimizer(list(gen.parameters()), lr_g)
        opt_d = self._optimizer(list(disc.parameters()), lr_d) if disc is not None else None
        chunk = _Chunk(start, size, gen, disc, opt_g, opt_d)
        chunk.base_lr_g, chunk.base_lr_d = opt_g.lr.clone(), (opt_d.lr.clone() if opt_d is not None else None)
        return chunk

    def _optimizer(self, params, lr):
        if self.config.optimizer == "adam":
            return EnsembleAdam(params, lr, betas=self.config.betas)
        return EnsembleSGD(params, lr, momentum=self.config.momentum)

    # ------------------------------------------------------------------ members
    def _locate(self, i: int) -> tuple[_Chunk, int]:
        for c in self.chunks:
            if c.start <= i < c.start + c.size:
                return c, i - c.start
        raise IndexError(f"member: expected 0 <= member < {self.n_members}, got {i}")

    def member(self, i: int) -> Member:
        """Member ``i``: its generator (live), density and discriminator (a float64 copy, or
        None for the exact D*); see :class:`gan_theory.training.members.Member`."""
        chunk, j = self._locate(i)
        gen = MemberGenerator(chunk.generator, j, i, self.dim, self.device, self.dtype)
        return Member(i, self.config.member_seeds[i], gen, self.member_discriminator(i))

    def member_discriminator(self, i: int) -> MemberDiscriminator | None:
        """A float64 copy of member ``i``'s discriminator network (None for the exact D*)."""
        chunk, j = self._locate(i)
        if chunk.discriminator is None:
            return None
        return MemberDiscriminator(chunk.discriminator.member(j, dtype=_F64).cpu(), self.dim)

    @property
    def stopped(self) -> dict[int, str]:
        """``member -> reason`` for the members stopped on a non-finite value (read from the
        guard's tensors: a device synchronisation)."""
        steps = self._stop_step.cpu()
        new = [i for i in torch.nonzero(steps >= 0).flatten().tolist() if i not in self._stopped]
        if new:
            codes, values = self._stop_code.cpu(), self._stop_value.cpu()
            for i in new:
                self._stopped[i] = stop_reason(i, int(steps[i]), int(codes[i]), float(values[i]))
        return dict(self._stopped)

    # ------------------------------------------------------------------ one step
    def _noise(self, chunk: _Chunk, n: int, latent: int) -> torch.Tensor:
        z = standard_draws("normal", (n, latent), self.rngs[chunk.start:chunk.start + chunk.size], self.dtype)
        return z.to(self.device)

    def _real(self, chunk: _Chunk, n: int) -> torch.Tensor:
        x = self.sample_batch(n, self.rngs[chunk.start:chunk.start + chunk.size])
        return x.reshape(chunk.size, n, self.dim).to(self.device, self.dtype)

    def _data_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p_data(x)`` on the models' device and dtype, x of shape (N, B, dim)."""
        return self.data_dist.log_prob(x[..., 0] if self.dim == 1 else x)

    def _guard(self, chunk: _Chunk, out: StepOutput, what: str) -> None:
        sl = chunk.members
        a, s, c, v = update_stops(self.active[sl], self._stop_step[sl], self._stop_code[sl], self._stop_value[sl],
                                  out, self.step_count + 1, what)
        self.active[sl], self._stop_step[sl], self._stop_code[sl], self._stop_value[sl] = a, s, c, v

    def _schedule(self) -> None:
        if self._entropy_weight is not None:
            self._entropy_weight.fill_(self.config.entropy_weight_at(self.step_count))
        factor = self.config.lr_factor(self.step_count)
        for c in self.chunks:
            c.opt_g.lr = c.base_lr_g * factor
            if c.opt_d is not None:
                c.opt_d.lr = c.base_lr_d * factor

    def step(self, before_generator_step: Callable[[EnsembleTrainer], None] | None = None) -> None:
        """One generator step, preceded by ``d_steps`` discriminator steps (Algorithm 1).

        ``before_generator_step(trainer)``, if given, is called after the discriminator steps
        of every member and before the generator steps (to measure D just before G moves).
        Otherwise each chunk's generator step follows its own discriminator steps.
        """
        self._schedule()
        if self._fns.mode is not False:
            torch.compiler.cudagraph_mark_step_begin()
        out = {"loss_d": [], "v_minibatch": [], "grad_norm_d": [], "loss_g": [], "grad_norm_g": []}
        if before_generator_step is None:
            for chunk in self.chunks:
                self._d_chunk(chunk, out)
                self._g_chunk(chunk, out)
        else:
            for chunk in self.chunks:
                self._d_chunk(chunk, out)
            before_generator_step(self)
            for chunk in self.chunks:
                self._g_chunk(chunk, out)
        self.step_count += 1
        self._last = {k: torch.cat(v) for k, v in out.items() if v}

    def _d_chunk(self, chunk: _Chunk, out: dict[str, list]) -> None:
        """``d_steps`` discriminator steps of one chunk (nothing for the exact D*)."""
        cfg, gen, disc = self.config, chunk.generator, chunk.discriminator
        if disc is None:
            return
        b = cfg.batch_size
        for _ in range(cfg.d_steps):
            real = self._real(chunk, b)
            fake, weight = self._fns.sample(gen, self._noise(chunk, b, gen.latent_dim))
            res = discriminator_step(disc, chunk.opt_d, real, fake, weight, self.active[chunk.members],
                                     real_label=cfg.real_label, fake_label=cfg.fake_label, r1_gamma=cfg.r1_gamma,
                                     fns=self._fns)
            self._guard(chunk, res, "discriminator")
        # copies: a compiled step's outputs may live in buffers that its next call overwrites
        out["loss_d"].append(res.loss.clone())
        out["v_minibatch"].append(res.value.clone())
        out["grad_norm_d"].append(res.grad_norm.clone())

    def _g_chunk(self, chunk: _Chunk, out: dict[str, list]) -> None:
        """One generator step of one chunk (a functional-gradient step for the grid generator)."""
        cfg, gen, disc = self.config, chunk.generator, chunk.discriminator
        if isinstance(gen, GridGenerator):
            chunk.opt_g.step(self.active[chunk.members], grads=[gen.functional_gradient()])
            return
        z = self._noise(chunk, cfg.batch_size, gen.latent_dim)
        res = generator_step(gen, disc, chunk.opt_g, z, self.active[chunk.members], loss=cfg.loss,
                             data_log_prob=self._data_log_prob if disc is None else None,
                             real_label=cfg.real_label, fake_label=cfg.fake_label,
                             entropy_weight=self._entropy_weight, fns=self._fns)
        self._guard(chunk, res, "generator")
        out["grad_norm_g"].append(res.grad_norm.clone())
        out["loss_g"].append(res.loss.clone())

    # ------------------------------------------------------------------ metrics
    def measure(self, wall_time: float) -> list[dict[str, Any]]:
        """One record per member, computed with the exact engine (:mod:`.metrics`)."""
        records = []
        stopped, active = self.stopped, self.active.cpu()
        last = {k: v.cpu() for k, v in self._last.items()}
        for chunk in self.chunks:
            gen = chunk.generator
            if isinstance(gen, GridGenerator):
                with torch.no_grad():
                    c = gen.criterion().to("cpu", _F64)
                for j in range(chunk.size):
                    records.append(self._record(chunk.start + j, wall_time, grid_metrics(float(c[j])), stopped,
                                                active, last))
                continue
            for j in range(chunk.size):
                i = chunk.start + j
                if not bool(active[i]) and any(r["member"] == i and r.get("status") != "ok" for r in self.history):
                    continue
                summary = (lambda j=j: gen.summary(j)) if hasattr(gen, "summary") else None
                values = member_metrics(self.p_data, lambda j=j: gen.member_density(j), gen.exact_density,
                                        self.member_discriminator(i), self.config, summary,
                                        MemberGenerator(gen, j, i, self.dim, self.device, self.dtype))
                records.append(self._record(i, wall_time, values, stopped, active, last))
        return records

    def _record(self, i: int, wall_time: float, values: dict[str, Any], stopped: dict[int, str],
                active: torch.Tensor, last: dict[str, torch.Tensor]) -> dict[str, Any]:
        rec = {"step": self.step_count, "member": i, "seed": self.config.member_seeds[i]}
        rec.update(values)
        for key, v in last.items():
            rec.setdefault(key, float(v[i]) if v.numel() > i else None)
        rec["status"] = "ok" if bool(active[i]) else f"stopped ({stopped.get(i, '')})"
        rec["wall_time"] = wall_time
        rec["train_time"] = self.train_time
        return rec

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The trainer's state: tensors, numbers, strings, lists and dicts only (what
        ``torch.load(..., weights_only=True)`` loads). The run adds its id and the length and
        SHA-256 of the metrics written so far (:meth:`gan_theory.training.run.Trainer.state_dict`)."""
        return {
            "format": _CHECKPOINT_FORMAT,
            "version": _CHECKPOINT_VERSION,
            "step": self.step_count,
            "chunks": [c.state_dict() for c in self.chunks],
            "opt_g": [c.opt_g.state_dict() for c in self.chunks],
            "opt_d": [c.opt_d.state_dict() if c.opt_d is not None else None for c in self.chunks],
            "rngs": [g.get_state() for g in self.rngs],
            "active": self.active.cpu().clone(),
            "stopped": self.stopped,
            "train_time": self.train_time,
            "last": {k: v.cpu() for k, v in self._last.items()},
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the state saved by :meth:`state_dict` (same configuration)."""
        if TrainConfig.from_dict(state["config"]) != self.config:
            raise ValueError("resume: the checkpoint was written with a different configuration")
        if len(state["chunks"]) != len(self.chunks) or len(state["rngs"]) != len(self.rngs):
            raise ValueError(f"resume: the checkpoint holds {len(state['chunks'])} chunk(s) and {len(state['rngs'])} "
                             f"member(s), this run has {len(self.chunks)} and {len(self.rngs)}")
        self.step_count = int(state["step"])
        for c, s, og, od in zip(self.chunks, state["chunks"], state["opt_g"], state["opt_d"]):
            c.load_state_dict(s)
            c.opt_g.load_state_dict(og)
            if od is not None:
                c.opt_d.load_state_dict(od)
        for g, s in zip(self.rngs, state["rngs"]):
            g.set_state(s)
        active = state["active"].clone().to(torch.bool)
        if active.shape != (self.n_members,):
            raise ValueError(f"resume: the checkpoint's mask has shape {tuple(active.shape)}, expected "
                             f"({self.n_members},)")
        self.active = active.to(self.device)
        self._stopped = {int(k): v for k, v in state["stopped"].items()}
        marked = torch.full((self.n_members,), -1, dtype=torch.int64)
        for k in self._stopped:
            marked[k] = 0  # recorded already: its text is in _stopped
        self._stop_step = marked.to(self.device)
        self._stop_code = torch.zeros_like(self._stop_step)
        self._stop_value = torch.zeros(self.n_members, dtype=_F64, device=self.device)
        self.train_time = float(state["train_time"])
        self._last = {k: v.to(self.device) for k, v in state["last"].items()}
