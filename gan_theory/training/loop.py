"""The training loop: Algorithm 1 of Goodfellow et al. (2014) for an ensemble of toy GANs.

One :class:`Trainer` trains ``config.ensemble`` independent GANs in one batched computation
(weights with the ensemble as leading dimension; on CPU, members are processed in chunks of
``config.chunk``). Member ``i`` draws every random number (initialisation, data, latent noise)
from its own generator seeded with ``config.member_seeds[i]``, so its run does not depend on
the other members: trained alone with the same seed, it follows the same trajectory (to
rounding).

Every ``log_every`` steps each member is measured against the theory with the exact engine:
C(G) and JSD (exact when the generator's density is), ``||D - D*||_m`` and the sup of
``|D - D*|`` on the central 99% region, the minibatch estimate of V beside its quadrature
value, and the gradient norms. Records go to ``metrics.jsonl`` as they are made; checkpoints
are written atomically, and a resumed run reaches the same numbers as an uninterrupted one.
A member whose loss, gradients or parameters become non-finite is stopped (its parameters
keep their last finite values) with a recorded reason; the others go on.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from .._torchconv import rebuild
from ..densities import Density, DensityLike, as_density
from ..discriminator import discriminator_error, discriminator_sup_error
from ..divergences import jsd
from ..results import AccuracyError
from ..value import criterion, value_function
from .config import TrainConfig
from .ensemble import EnsembleMLP
from .generators import AffineGenerator, MLPGenerator
from .grid import LOG4, GridGenerator
from .losses import discriminator_loss, generator_loss, minibatch_value
from .optim import EnsembleAdam, EnsembleSGD
from .sampling import sampler

__all__ = ["Trainer", "TrainResult", "train", "resolve_device"]

_F64 = torch.float64


def resolve_device(device: str | torch.device, name: str = "device") -> torch.device:
    """The torch device for ``device``: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``,
    ``"cuda"`` or ``"cuda:N"``.

    Anything else (``"tpu"``, ``"mps"``, ``"garbage"``), or a CUDA device that this machine does
    not have, is a ``ValueError`` naming the argument (``name``: ``"--device"`` from the command
    line) and the accepted values.
    """
    from .config import DEVICE_NAMES, check_device_name

    if isinstance(device, torch.device):
        device = str(device)
    check_device_name(name, device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}: {device!r} was asked for, but CUDA is not available on this machine; "
                             f"use 'auto' or 'cpu' (accepted values: {DEVICE_NAMES})")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"{name}: {device!r} was asked for, but this machine has {count} CUDA device(s) "
                             f"(cuda:0 to cuda:{count - 1}); use one of them (accepted values: {DEVICE_NAMES})")
    return dev


def versions() -> dict[str, str]:
    """Library versions, for reproducing a run or a report."""
    import scipy

    return {"gan_theory": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


class _Chunk(torch.nn.Module):
    """A sub-ensemble: members ``start .. start + size - 1``, with their own modules and
    optimizers (chunking keeps CPU working sets small without slicing parameters)."""

    def __init__(self, start: int, size: int, generator: torch.nn.Module, discriminator: EnsembleMLP | None,
                 opt_g, opt_d) -> None:
        super().__init__()
        self.start, self.size = start, size
        self.generator, self.discriminator = generator, discriminator
        self.opt_g, self.opt_d = opt_g, opt_d


class MemberGenerator:
    """Member ``i``'s trained generator as a callable: latent ``z`` (n, latent_dim) to samples
    (n,) in 1-D or (n, 2) in 2-D (float64, detached), with ``density()`` giving its density."""

    def __init__(self, trainer: Trainer, i: int) -> None:
        self._trainer, self.member = trainer, i
        self._chunk, self._j = trainer._locate(i)

    @property
    def latent_dim(self) -> int:
        return self._chunk.generator.latent_dim

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        gen = self._chunk.generator
        if isinstance(gen, GridGenerator):
            raise TypeError("the grid generator is a density on a grid, not a map from a latent space")
        z = torch.as_tensor(z).to(self._trainer.device, self._trainer.dtype).reshape(-1, gen.latent_dim)
        zz = torch.zeros((self._chunk.size,) + tuple(z.shape), dtype=z.dtype, device=z.device)
        zz[self._j] = z
        with torch.no_grad():
            x = gen(zz)[self._j].to("cpu", _F64)
        return x[:, 0] if self._trainer.dim == 1 else x

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` samples, drawing the latent from ``generator``."""
        return self(torch.randn(n, self.latent_dim, generator=generator, dtype=_F64))

    def density(self):
        """The member's density (float64 torch distribution; for the MLP generator in 2-D, a
        kernel density estimate)."""
        return self._chunk.generator.member_density(self._j)


class MemberDiscriminator:
    """Member ``i``'s trained discriminator: ``x -> D(x)`` in [0, 1] (float64), ``logits(x)``,
    and, for a piecewise-linear network, ``kinks(x)``: its hidden pre-activations (n, h), whose
    sign changes are where it is not smooth (the quadrature splits cells there)."""

    def __init__(self, net: EnsembleMLP, dim: int) -> None:
        self.net, self.dim = net, dim
        self.kinks = self._kinks if net.piecewise_linear else None

    def _kinks(self, x) -> np.ndarray:
        x = torch.as_tensor(x, dtype=_F64)
        with torch.no_grad():
            return self.net.preactivations(x.reshape(1, -1, self.dim))[0].numpy()

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=_F64)
        shape = x.shape if self.dim == 1 else x.shape[:-1]
        with torch.no_grad():
            out = self.net(x.reshape(1, -1, self.dim))
        return out.reshape(shape)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    config : TrainConfig
    history : list of dict
        Every metrics record, in order (``step``, ``member``, ``criterion``, ``jsd``,
        ``d_error``, ``wall_time``, ...).
    final : list of dict
        The last record of each member.
    stopped : dict
        ``member -> reason`` for members stopped on a non-finite value.
    generators : list of MemberGenerator
    discriminators : list of MemberDiscriminator or None
        ``None`` entries when the discriminator is the exact D*.
    out : Path or None
        The run directory.
    """

    def __init__(self, trainer: Trainer) -> None:
        self.config = trainer.config
        self.history = list(trainer.history)
        last: dict[int, dict] = {}
        for rec in self.history:
            last[rec["member"]] = rec
        self.final = [last[i] for i in sorted(last)]
        self.stopped = dict(trainer.stopped)
        self.out = trainer.out
        self.device = str(trainer.device)
        self.train_time = trainer.train_time
        self.generators = [MemberGenerator(trainer, i) for i in range(trainer.n_members)]
        self.discriminators = [trainer.member_discriminator(i) for i in range(trainer.n_members)]
        self._trainer = trainer

    def __repr__(self) -> str:
        return (f"TrainResult({self.config.ensemble} member(s), {len(self.history)} records, "
                f"stopped={self.stopped}, out={str(self.out) if self.out else None!r})")


class Trainer:
    """Trains ``config.ensemble`` toy GANs on ``p_data`` in one batched computation.

    Parameters
    ----------
    p_data : density
        Any density the engine accepts, or a toy name.
    config : TrainConfig
    out : path, optional
        Run directory: ``config.json``, ``metrics.jsonl``, ``checkpoint.pt``.
    target : dict, optional
        How ``p_data`` was named (``{"name": "ring", "params": {...}}``), stored in
        ``config.json`` so that ``--resume`` can rebuild it.
    """

    def __init__(self, p_data: DensityLike, config: TrainConfig, *, out: str | Path | None = None,
                 target: dict | None = None) -> None:
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config: expected a gan_theory.TrainConfig, got {type(config).__name__}")
        if isinstance(p_data, str):
            from .. import toys

            target = target or {"name": p_data, "params": {}}
            p_data = toys.make(p_data)
        self.p_data: Density = as_density(p_data, "p_data")
        self.config = config
        self.dim = self.p_data.dim
        if config.dim is not None and config.dim != self.dim:
            raise ValueError(f"dim: the models are configured for {config.dim}-D data but the target is "
                             f"{self.dim}-D (a {config.dim}-D {config.generator} generator cannot model it)")
        if config.discriminator == "optimal" and config.generator == "mlp":
            raise ValueError("discriminator: the optimal discriminator needs an exact generator density; use "
                             "generator 'affine', 'flow' or 'grid' with it, or an 'mlp' discriminator")
        self.device = resolve_device(config.device)
        self.dtype = torch.float32 if config.dtype == "float32" else torch.float64
        self.target = target
        self.n_members = config.ensemble
        self.rngs = [torch.Generator().manual_seed(s) for s in config.member_seeds]
        self.sample_data = sampler(self.p_data)
        self.data_dist = None
        if config.discriminator == "optimal" and config.generator != "grid":
            self.data_dist = rebuild(self.p_data.dist, self.dtype, self.device)
        chunk = config.chunk if (config.chunk and self.device.type == "cpu") else self.n_members
        self.chunks = [self._build_chunk(s, min(chunk, self.n_members - s)) for s in range(0, self.n_members, chunk)]
        self.step_count = 0
        self.active = torch.ones(self.n_members, dtype=torch.bool)
        self.stopped: dict[int, str] = {}
        self.history: list[dict[str, Any]] = []
        self.train_time = 0.0
        self._last: dict[str, torch.Tensor] = {}
        self.out = Path(out) if out is not None else None

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
            from .flows import FlowGenerator

            gen = FlowGenerator(size, dim, n_bins=cfg.flow_bins, n_layers=cfg.flow_layers, **kw)
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

    def _locate(self, i: int) -> tuple[_Chunk, int]:
        for c in self.chunks:
            if c.start <= i < c.start + c.size:
                return c, i - c.start
        raise IndexError(f"member: expected 0 <= member < {self.n_members}, got {i}")

    def member_discriminator(self, i: int) -> MemberDiscriminator | None:
        chunk, j = self._locate(i)
        if chunk.discriminator is None:
            return None
        return MemberDiscriminator(chunk.discriminator.member(j, dtype=_F64).cpu(), self.dim)

    # ------------------------------------------------------------------ one step
    def _noise(self, chunk: _Chunk, n: int, latent: int) -> torch.Tensor:
        z = torch.stack([torch.randn(n, latent, generator=g, dtype=self.dtype)
                         for g in self.rngs[chunk.start:chunk.start + chunk.size]])
        return z.to(self.device)

    def _real(self, chunk: _Chunk, n: int) -> torch.Tensor:
        x = torch.stack([self.sample_data(n, g) for g in self.rngs[chunk.start:chunk.start + chunk.size]])
        return x.reshape(chunk.size, n, self.dim).to(self.device, self.dtype)

    def _optimal_logits(self, chunk: _Chunk, x: torch.Tensor) -> torch.Tensor:
        lp = self.data_dist.log_prob(x[..., 0] if self.dim == 1 else x)
        lq = chunk.generator.log_prob(x)
        a, b = self.config.real_label, self.config.fake_label
        if (a, b) == (1.0, 0.0):
            return lp - lq
        num = torch.logaddexp(lp + math.log(a) if a > 0 else lp - math.inf, lq + math.log(b) if b > 0 else lq - math.inf)
        den = torch.logaddexp(lp + math.log1p(-a) if a < 1 else lp - math.inf,
                              lq + math.log1p(-b) if b < 1 else lq - math.inf)
        return num - den

    def _apply(self, chunk: _Chunk, opt, params: list[torch.Tensor], loss: torch.Tensor, what: str) -> torch.Tensor:
        """Backpropagate the sum of member losses, stop members with non-finite values, step;
        returns the members' gradient norms.

        The checks cost one reduction per parameter tensor: a non-finite loss or gradient shows
        in the member's squared gradient norm. An update can only overflow with SGD, so only
        then are the parameters kept to be restored.
        """
        grads = torch.autograd.grad(loss.sum(), params, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
        sl = slice(chunk.start, chunk.start + chunk.size)
        sq = sum(g.detach().reshape(g.shape[0], -1).square().sum(1, dtype=torch.float64) for g in grads)
        finite = (torch.isfinite(sq) & torch.isfinite(loss.detach())).cpu()
        if not bool(finite.all()):
            for j in torch.nonzero(~finite & self.active[sl]).flatten().tolist():
                self._stop(chunk.start + j, f"non-finite {what} loss or gradient ({float(loss[j].detach())})")
            grads = [torch.where(torch.isfinite(g), g, torch.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g
        active = self.active[sl]
        before = [p.detach().clone() for p in params] if isinstance(opt, EnsembleSGD) else None
        opt.step(None if bool(active.all()) else active.to(self.device))
        opt.zero_grad()
        if before is not None:
            ok = torch.isfinite(sum(p.detach().reshape(p.shape[0], -1).sum(1, dtype=torch.float64) for p in params)).cpu()
            if not bool(ok.all()):
                with torch.no_grad():
                    for p, b in zip(params, before):
                        bad = (~ok).to(self.device).reshape((-1,) + (1,) * (p.dim() - 1))
                        p.copy_(torch.where(bad, b, p))
                for j in torch.nonzero(~ok & self.active[sl]).flatten().tolist():
                    self._stop(chunk.start + j, f"non-finite {what} parameters after the update")
        return torch.sqrt(sq).cpu()

    def _stop(self, member: int, reason: str) -> None:
        self.active[member] = False
        self.stopped[member] = f"step {self.step_count + 1}, member {member}: {reason}"

    def _schedule(self) -> None:
        factor = self.config.lr_factor(self.step_count)
        for c in self.chunks:
            c.opt_g.lr = c.base_lr_g * factor
            if c.opt_d is not None:
                c.opt_d.lr = c.base_lr_d * factor

    def step(self, before_generator_step: Callable[[Trainer], None] | None = None) -> None:
        """One generator step, preceded by ``d_steps`` discriminator steps (Algorithm 1).

        ``before_generator_step(trainer)``, if given, is called after the discriminator steps
        of every member and before the generator steps (to measure D just before G moves).
        Otherwise each chunk's generator step follows its own discriminator steps.
        """
        self._schedule()
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
            with torch.no_grad():
                fake = gen(self._noise(chunk, b, gen.latent_dim))
            lr_, lf = disc(real)[..., 0], disc(fake)[..., 0]
            loss_d = discriminator_loss(lr_, lf, cfg.real_label, cfg.fake_label)
            norms = self._apply(chunk, chunk.opt_d, list(disc.parameters()), loss_d, "discriminator")
        out["loss_d"].append(loss_d.detach().cpu())
        out["v_minibatch"].append(minibatch_value(lr_, lf).detach().cpu())
        out["grad_norm_d"].append(norms)

    def _g_chunk(self, chunk: _Chunk, out: dict[str, list]) -> None:
        """One generator step of one chunk (a functional-gradient step for the grid generator)."""
        gen, disc = chunk.generator, chunk.discriminator
        if isinstance(gen, GridGenerator):
            gen.logits.grad = gen.functional_gradient()
            chunk.opt_g.step(self.active[chunk.start:chunk.start + chunk.size].to(self.device))
            chunk.opt_g.zero_grad()
            return
        x = gen(self._noise(chunk, self.config.batch_size, gen.latent_dim))
        logits = disc(x)[..., 0] if disc is not None else self._optimal_logits(chunk, x)
        loss_g = generator_loss(logits, self.config.loss)
        out["grad_norm_g"].append(self._apply(chunk, chunk.opt_g, list(gen.parameters()), loss_g, "generator"))
        out["loss_g"].append(loss_g.detach().cpu())

    # ------------------------------------------------------------------ metrics
    def measure(self, wall_time: float) -> list[dict[str, Any]]:
        """One record per member, computed with the exact engine."""
        records = []
        atol = self.config.quadrature_atol
        for chunk in self.chunks:
            gen = chunk.generator
            if isinstance(gen, GridGenerator):
                with torch.no_grad():
                    c = gen.criterion().to("cpu", _F64)
                for j in range(chunk.size):
                    i = chunk.start + j
                    records.append(self._record(i, wall_time, {
                        "criterion": float(c[j]), "jsd": (float(c[j]) + LOG4) / 2, "d_error": 0.0,
                        "exact": True, "note": "discrete criterion on the grid; D is the exact D*"}))
                continue
            for j in range(chunk.size):
                i = chunk.start + j
                if not bool(self.active[i]) and any(r["member"] == i and r.get("status") != "ok" for r in self.history):
                    continue
                records.append(self._measure_member(chunk, j, wall_time, atol))
        return records

    def _record(self, i: int, wall_time: float, values: dict[str, Any]) -> dict[str, Any]:
        rec = {"step": self.step_count, "member": i, "seed": self.config.member_seeds[i]}
        rec.update(values)
        for key, v in self._last.items():
            rec.setdefault(key, float(v[i]) if v.numel() > i else None)
        rec["status"] = "ok" if bool(self.active[i]) else f"stopped ({self.stopped.get(i, '')})"
        rec["wall_time"] = wall_time
        rec["train_time"] = self.train_time
        return rec

    def _measure_member(self, chunk: _Chunk, j: int, wall_time: float, atol: float) -> dict[str, Any]:
        i = chunk.start + j
        cfg = self.config
        gen = chunk.generator
        values: dict[str, Any] = {}
        try:
            p_g = gen.member_density(j)
            values["exact"] = bool(gen.exact_density)
            c = criterion(self.p_data, p_g, atol=atol, rtol=0.0)
            values.update(criterion=c.value, criterion_error=c.error)
            js = jsd(self.p_data, p_g, atol=atol, rtol=0.0)
            values.update(jsd=js.value, jsd_error=js.error)
            if chunk.discriminator is not None:
                d = self.member_discriminator(i)
                natol = cfg.network_quadrature_atol
                de = discriminator_error(d, self.p_data, p_g, real_label=cfg.real_label, fake_label=cfg.fake_label,
                                         atol=natol, rtol=0.0)
                values.update(d_error=de.value, d_error_bound=de.error)
                values["d_sup_error"] = discriminator_sup_error(d, self.p_data, p_g, real_label=cfg.real_label,
                                                                fake_label=cfg.fake_label)
                v = value_function(d, self.p_data, p_g, atol=natol, rtol=0.0)
                values.update(v_quadrature=v.value, v_quadrature_error=v.error)
            else:
                values.update(d_error=0.0, v_quadrature=c.value)
            if hasattr(gen, "summary"):
                values["generator"] = gen.summary(j)
        except (AccuracyError, ValueError) as exc:
            values["metrics_error"] = f"{type(exc).__name__}: {exc}"
        return self._record(i, wall_time, values)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step_count,
            "chunks": [c.state_dict() for c in self.chunks],
            "opt_g": [c.opt_g.state_dict() for c in self.chunks],
            "opt_d": [c.opt_d.state_dict() if c.opt_d is not None else None for c in self.chunks],
            "rngs": [g.get_state() for g in self.rngs],
            "active": self.active.clone(),
            "stopped": dict(self.stopped),
            "train_time": self.train_time,
            "last": dict(self._last),
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if TrainConfig.from_dict(state["config"]) != self.config:
            raise ValueError("resume: the checkpoint was written with a different configuration")
        self.step_count = int(state["step"])
        for c, s, og, od in zip(self.chunks, state["chunks"], state["opt_g"], state["opt_d"]):
            c.load_state_dict(s)
            c.opt_g.load_state_dict(og)
            if od is not None:
                c.opt_d.load_state_dict(od)
        for g, s in zip(self.rngs, state["rngs"]):
            g.set_state(s)
        self.active = state["active"].clone()
        self.stopped = {int(k): v for k, v in state["stopped"].items()}
        self.train_time = float(state["train_time"])
        self._last = dict(state["last"])

    def save_checkpoint(self) -> None:
        """Write ``checkpoint.pt`` atomically (a temporary file renamed over the old one)."""
        if self.out is None:
            return
        path = self.out / "checkpoint.pt"
        tmp = self.out / "checkpoint.pt.tmp"
        torch.save(self.state_dict(), tmp)
        os.replace(tmp, path)

    def _write_config(self) -> None:
        meta = {"config": self.config.to_dict(), "target": self.target,
                "p_data": repr(self.p_data.source), "versions": versions(),
                "device": describe_device(self.device)}
        tmp = self.out / "config.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2, default=str))
        os.replace(tmp, self.out / "config.json")

    # ------------------------------------------------------------------ the run
    def run(self, *, resume: bool = False, progress: bool | None = None,
            callback: Callable[[list[dict[str, Any]]], bool | None] | None = None) -> TrainResult:
        """Train to ``config.steps``; returns a :class:`TrainResult`.

        ``callback(records)`` is called after each logging step; returning ``False`` stops the
        run there (the state is checkpointed, so that it can be resumed).
        """
        cfg = self.config
        metrics_file = None
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            if resume:
                self._resume_from_disk()
            else:
                self._write_config()
                (self.out / "metrics.jsonl").write_text("")
            metrics_file = open(self.out / "metrics.jsonl", "a")
        from tqdm.auto import tqdm

        disable = (not sys.stderr.isatty()) if progress is None else (not progress)
        bar = tqdm(total=cfg.steps, initial=self.step_count, disable=disable, desc=f"{cfg.generator}/{cfg.discriminator}",
                   unit="step", dynamic_ncols=True)
        start = time.perf_counter() - (self.history[-1]["wall_time"] if self.history else 0.0)
        try:
            if self.step_count == 0 and not self.history:
                self._log(self.measure(0.0), metrics_file, bar)
            while self.step_count < cfg.steps and bool(self.active.any()):
                t0 = time.perf_counter()
                self.step()
                self.train_time += time.perf_counter() - t0
                bar.update(1)
                last = self.step_count == cfg.steps
                if self.step_count % cfg.log_every == 0 or last or not bool(self.active.any()):
                    records = self.measure(time.perf_counter() - start)
                    self._log(records, metrics_file, bar)
                    if callback is not None and callback(records) is False:
                        self.save_checkpoint()
                        break
                if cfg.checkpoint_every and self.step_count % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
            else:
                self.save_checkpoint()
        finally:
            bar.close()
            if metrics_file is not None:
                metrics_file.close()
        return TrainResult(self)

    def _log(self, records: list[dict[str, Any]], metrics_file, bar) -> None:
        self.history.extend(records)
        if metrics_file is not None:
            for rec in records:
                metrics_file.write(json.dumps(rec, default=_jsonable) + "\n")
            metrics_file.flush()
        gaps = [r["criterion"] + LOG4 for r in records if isinstance(r.get("criterion"), float)]
        if gaps:
            bar.set_postfix({"median C+log4": f"{float(np.median(gaps)):.2e}"})

    def _resume_from_disk(self) -> None:
        path = self.out / "checkpoint.pt"
        if not path.exists():
            raise ValueError(f"resume: no checkpoint in {self.out}")
        state = torch.load(path, map_location=self.device, weights_only=False)
        self.load_state_dict(state)
        kept = []
        metrics = self.out / "metrics.jsonl"
        if metrics.exists():
            for line in metrics.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    if rec["step"] <= self.step_count:
                        kept.append(rec)
        tmp = self.out / "metrics.jsonl.tmp"
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        os.replace(tmp, metrics)
        self.history = kept


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, torch.Tensor):
        return v.tolist()
    return str(v)


def train(p_data: DensityLike, config: TrainConfig | None = None, *, out: str | Path | None = None,
          resume: bool = False, progress: bool | None = None,
          callback: Callable[[list[dict[str, Any]]], bool | None] | None = None, **overrides: Any) -> TrainResult:
    """Train toy GANs on ``p_data`` (Algorithm 1) and track them against the exact theory.

    Parameters
    ----------
    p_data : density
        Any density the engine accepts (torch distribution, scipy.stats frozen distribution)
        or a toy name (``"ring"``).
    config : TrainConfig, optional
        The run's configuration; keyword ``overrides`` replace its fields (or build one).
    out : path, optional
        Run directory for ``config.json``, ``metrics.jsonl`` and ``checkpoint.pt``.
    resume : bool
        Continue the run in ``out`` from its checkpoint (same configuration); the result
        equals that of an uninterrupted run.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    callback : callable, optional
        Called with each step's records; returning ``False`` stops the run.

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> import gan_theory as gt
    >>> r = gt.train("gaussian", steps=10, log_every=5)          # doctest: +SKIP
    >>> r.final[0]["criterion"] + gt.LOG4                          # doctest: +SKIP
    """
    if config is None:
        config = TrainConfig(**overrides)
    elif overrides:
        config = config.replace(**overrides)
    if resume and out is None:
        raise ValueError("resume: a run directory `out` is needed to resume")
    trainer = Trainer(p_data, config, out=out)
    return trainer.run(resume=resume, progress=progress, callback=callback)
