"""The configuration of a training run: a frozen dataclass, validated on creation."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._checks import check_choice, check_int, check_real

__all__ = ["GENERATORS", "DISCRIMINATORS", "LOSSES", "OPTIMIZERS", "TrainConfig"]

GENERATORS = ("affine", "flow", "mlp", "grid")
DISCRIMINATORS = ("mlp", "optimal")
LOSSES = ("non_saturating", "minimax")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "float64")
ACTIVATIONS = ("silu", "tanh", "relu", "leaky_relu", "softplus")


def _per_member(name: str, value: Any, n: int, *, lower: float, lower_open: bool) -> tuple[float, ...]:
    """A scalar or one value per member, as a tuple of n floats."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        values = (value,) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
        if len(values) != n:
            raise ValueError(f"{name}: expected one value or {n} (one per member), got {len(values)}")
    else:
        raise TypeError(f"{name}: expected a number or a sequence of {n} numbers, got {type(value).__name__}")
    return tuple(check_real(name, v, lower=lower, lower_open=lower_open) for v in values)


def lr_factor(schedule: str, final: float, step: int, steps: int) -> float:
    """Learning-rate multiplier: 1 (constant) or ``final + (1 - final)(1 + cos(pi t/T))/2``."""
    if schedule == "constant" or steps <= 1:
        return 1.0
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a toy-GAN training run (Goodfellow et al. 2014, Algorithm 1).

    Attributes
    ----------
    generator : {"affine", "flow", "mlp", "grid"}
        ``affine``: x = a z + b (1-D; x = A z + b in 2-D), exact density. ``flow``: a
        rational-quadratic spline flow, exact density. ``mlp``: the usual implicit generator;
        its density is computed from the latent by change of variables over all preimages in
        1-D and estimated by a kernel density estimate in 2-D. ``grid``: a density on a fine grid
        moved by gradient steps on the criterion with the exact D* (Prop. 2); requires
        ``discriminator="optimal"``.
    discriminator : {"mlp", "optimal"}
        An MLP producing logits, or the exact D* (needs an exact generator density).
    loss : {"non_saturating", "minimax"}
        Generator loss: minimise ``-log D(G(z))`` or ``log(1 - D(G(z)))``.
    steps : int
        Generator steps.
    d_steps : int
        Discriminator steps per generator step (``k`` in Algorithm 1).
    batch_size : int
        Minibatch size ``m`` (real and generated samples each).
    ensemble : int
        Number of independent GANs trained in one batched computation.
    seed : int
        Member ``i`` uses seed ``seed + i`` unless ``seeds`` is given.
    seeds : tuple of int, optional
        One seed per member.
    lr_g, lr_d : float or tuple of float
        Learning rates (one, or one per member).
    optimizer : {"adam", "sgd"}
    betas : (float, float)
        Adam's betas; (0.5, 0.999) by default (PERF-NOTES: 16 seeds settled with it, not with
        0.9).
    momentum : float
        SGD momentum.
    lr_schedule : {"constant", "cosine"}
        Learning-rate schedule over the run: constant, or cosine decay from ``lr`` to
        ``lr * lr_final`` (damps the minibatch noise at the end, so that the players settle).
    lr_final : float
        Final learning rate as a fraction of the initial one (cosine schedule).
    real_label, fake_label : float
        Discriminator targets (label smoothing; swapped labels with 0 and 1).
    d_hidden, g_hidden : tuple of int
        Hidden widths of the MLP discriminator and of the MLP generator.
    d_activation, g_activation : str
        Activations of the discriminator (LeakyReLU(0.2) by default: on the 2-D rings the smooth
        activations stayed at D = 1/2 in our runs) and of the MLP generator (SiLU: a smooth G
        has a smooth pushforward density).
    latent_dim : int, optional
        Latent dimension of the MLP generator (default: the data dimension).
    flow_bins, flow_layers : int
        Spline bins and layers of the flow generator.
    init_loc, init_scale : float
        Initial location and scale of the affine or flow generator (N(0, 1) by default).
    grid_points : int
        Points per axis of the grid generator.
    dim : int, optional
        The dimension the models are built for (1 or 2); default: the target's. A value that
        differs from the target's dimension is an error.
    dtype : {"float32", "float64"}
    device : str
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    log_every : int
        Metrics are computed every this many generator steps (and at the first and last).
    checkpoint_every : int
        A checkpoint is written atomically every this many steps (0: only at the end).
    chunk : int
        On CPU, members are processed in chunks of at most this many (memory locality); 0: no
        chunking.
    quadrature_atol : float
        Absolute tolerance of the metrics' quadratures of smooth integrands (C(G), JSD).
    network_quadrature_atol : float
        Absolute tolerance of the quadratures that involve the trained discriminator
        (``||D - D*||_m^2``, V(D, G)). A LeakyReLU network has kinks along lines in 2-D, which
        the quadrature resolves at a cost that grows quickly below 1e-7; 1e-6 is far below the
        minibatch noise these numbers are compared with.
    """

    generator: str = "affine"
    discriminator: str = "mlp"
    loss: str = "non_saturating"
    steps: int = 2000
    d_steps: int = 1
    batch_size: int = 256
    ensemble: int = 1
    seed: int = 0
    seeds: tuple[int, ...] | None = None
    lr_g: float | tuple[float, ...] = 1e-3
    lr_d: float | tuple[float, ...] = 1e-3
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.5, 0.999)
    momentum: float = 0.0
    lr_schedule: str = "constant"
    lr_final: float = 0.1
    real_label: float = 1.0
    fake_label: float = 0.0
    d_hidden: tuple[int, ...] = (64, 64)
    g_hidden: tuple[int, ...] = (64, 64)
    d_activation: str = "leaky_relu"
    g_activation: str = "silu"
    latent_dim: int | None = None
    flow_bins: int = 16
    flow_layers: int = 2
    init_loc: float = 0.0
    init_scale: float = 1.0
    grid_points: int = 2001
    dim: int | None = None
    dtype: str = "float32"
    device: str = "auto"
    log_every: int = 100
    checkpoint_every: int = 0
    chunk: int = 64
    quadrature_atol: float = 1e-9
    network_quadrature_atol: float = 1e-6

    def __post_init__(self) -> None:
        check_choice("generator", self.generator, GENERATORS)
        check_choice("discriminator", self.discriminator, DISCRIMINATORS)
        check_choice("loss", self.loss, LOSSES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("dtype", self.dtype, DTYPES)
        check_choice("d_activation", self.d_activation, ACTIVATIONS)
        check_choice("g_activation", self.g_activation, ACTIVATIONS)
        check_int("steps", self.steps, lower=0)
        check_int("d_steps", self.d_steps, lower=1)
        check_int("batch_size", self.batch_size, lower=1)
        n = check_int("ensemble", self.ensemble, lower=1)
        check_int("seed", self.seed, lower=0)
        if self.seeds is not None:
            seeds = tuple(check_int("seeds", s, lower=0) for s in self.seeds)
            if len(seeds) != n:
                raise ValueError(f"seeds: expected {n} seeds (one per member), got {len(seeds)}")
            object.__setattr__(self, "seeds", seeds)
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            _per_member(name, value, n, lower=0.0, lower_open=False)  # validates
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if len(self.betas) != 2:
            raise ValueError(f"betas: expected two numbers, got {self.betas}")
        object.__setattr__(self, "betas", tuple(check_real("betas", b, lower=0.0, upper=1.0, upper_open=True)
                                                for b in self.betas))
        check_real("momentum", self.momentum, lower=0.0, upper=1.0, upper_open=True)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_real("lr_final", self.lr_final, lower=0.0, upper=1.0)
        check_real("real_label", self.real_label, lower=0.0, upper=1.0)
        check_real("fake_label", self.fake_label, lower=0.0, upper=1.0)
        if self.real_label == self.fake_label:
            raise ValueError(f"real_label, fake_label: the labels must differ, got {self.real_label} for both")
        for name in ("d_hidden", "g_hidden"):
            widths = tuple(getattr(self, name))
            for w in widths:
                check_int(name, w, lower=1)
            object.__setattr__(self, name, widths)
        if self.latent_dim is not None:
            check_int("latent_dim", self.latent_dim, lower=1)
        check_int("flow_bins", self.flow_bins, lower=2)
        check_int("flow_layers", self.flow_layers, lower=1)
        check_real("init_loc", self.init_loc)
        check_real("init_scale", self.init_scale, lower=0.0, lower_open=True)
        check_int("grid_points", self.grid_points, lower=16)
        if self.dim is not None:
            check_int("dim", self.dim, lower=1, upper=2)
        if not isinstance(self.device, str) or not (self.device in ("auto", "cpu", "cuda")
                                                    or self.device.startswith("cuda:")):
            raise ValueError(f"device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        check_int("log_every", self.log_every, lower=1)
        check_int("checkpoint_every", self.checkpoint_every, lower=0)
        check_int("chunk", self.chunk, lower=0)
        check_real("quadrature_atol", self.quadrature_atol, lower=0.0, lower_open=True)
        check_real("network_quadrature_atol", self.network_quadrature_atol, lower=0.0, lower_open=True)
        if self.generator == "grid" and self.discriminator != "optimal":
            raise ValueError("discriminator: the grid generator moves by gradient steps on the criterion with the "
                             "exact D* (Prop. 2); use discriminator='optimal'")

    @property
    def member_lr_g(self) -> tuple[float, ...]:
        """The generator's learning rate of each member."""
        return _per_member("lr_g", self.lr_g, self.ensemble, lower=0.0, lower_open=False)

    @property
    def member_lr_d(self) -> tuple[float, ...]:
        """The discriminator's learning rate of each member."""
        return _per_member("lr_d", self.lr_d, self.ensemble, lower=0.0, lower_open=False)

    @property
    def member_seeds(self) -> tuple[int, ...]:
        """The seed of each member."""
        return self.seeds if self.seeds is not None else tuple(self.seed + i for i in range(self.ensemble))

    def lr_factor(self, step: int) -> float:
        """The learning-rate multiplier at generator step ``step`` (0-based)."""
        return lr_factor(self.lr_schedule, self.lr_final, step, self.steps)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        d = dataclasses.asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"config: unknown field(s) {sorted(unknown)}; expected some of {sorted(names)}")
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
        return cls(**kw)
