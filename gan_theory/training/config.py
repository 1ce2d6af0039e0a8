"""The configuration of a training run: a frozen dataclass, validated on creation.

Every field is checked when a :class:`TrainConfig` is made, with an error that names the field,
what was expected and what came: a bool is not an integer or a number here (``steps=True`` is
refused), floats must be finite, counts non-negative, seeds within torch's range. The checks of
seeds, betas, widths, device names and compile modes are functions of
:mod:`gan_theory.training.validate` (re-exported here), so that
:func:`gan_theory.training.fit.fit_discriminator` validates its arguments the same way.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..checks import check_choice, check_int, check_real
from .validate import (COMPILE_MODES, DEVICE_NAMES, SEED_BOUND, check_betas, check_compile, check_device_name,
                       check_lr, check_seeds, check_widths, per_member)

__all__ = ["COMPILE_MODES", "DEVICE_NAMES", "GENERATORS", "DISCRIMINATORS", "LOSSES", "OPTIMIZERS", "SEED_BOUND",
           "TrainConfig", "check_betas", "check_compile", "check_device_name", "check_seeds", "check_widths"]

GENERATORS = ("auto", "affine", "flow", "mlp", "grid", "mixture")
DISCRIMINATORS = ("mlp", "optimal")
LOSSES = ("non_saturating", "minimax")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "float64")
ACTIVATIONS = ("silu", "tanh", "relu", "leaky_relu", "softplus")

#: The fields a recipe may set (gan_theory/training/recipes.py): None by default, filled by
#: TrainConfig.resolve once the data dimension is known.
RECIPE_FIELDS = ("steps", "d_steps", "batch_size", "lr_g", "lr_d", "lr_schedule", "lr_final", "init_scale",
                 "d_hidden", "r1_gamma", "mixture_components", "init_component_scale", "entropy_weight", "log_every")
#: Recipe fields that only the mixture generator has: left None for the other families.
MIXTURE_FIELDS = ("mixture_components", "init_component_scale", "entropy_weight")


def entropy_factor(step: int, steps: int) -> float:
    """Multiplier of the entropy bonus at generator step ``step``: ``(1 + cos(pi t/T))/2``, from 1
    at t = 0 towards 0 at t = T whatever the learning rates' schedule (the last step, t = T - 1,
    has ``~ pi^2 / (4 T^2)``: the last steps are Algorithm 1's up to that)."""
    if steps <= 1:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))


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
    generator : {"auto", "affine", "flow", "mlp", "grid", "mixture"}
        ``auto`` (the default): the recommended exact-density family for the data's dimension,
        ``flow`` in 1-D and ``mixture`` in 2-D (:data:`gan_theory.training.recipes.AUTO`); the
        run's ``config.json`` records the family picked. ``mixture``: K Gaussians with learned
        means, stds and weights, exact density (:mod:`gan_theory.training.mixture`).
        ``affine``: x = a z + b (1-D; x = A z + b in 2-D), exact density. ``flow``: a
        rational-quadratic spline flow, exact density. ``mlp``: the usual implicit generator;
        its density is computed from the latent by change of variables over all preimages in
        1-D and estimated by a kernel density estimate in 2-D. ``grid``: a density on a fine grid
        moved by gradient steps on the criterion with the exact D* (Prop. 2); requires
        ``discriminator="optimal"``.
    Fields marked *recipe* default to ``None``: :meth:`resolve` fills them, once the data's
    dimension is known, from the generator family's measured recipe
    (:mod:`gan_theory.training.recipes`, where each value's source is written), or for a
    family without a recipe from the package defaults (steps 2000, d_steps 1, batch 256,
    lr 1e-3 both, constant schedule, lr_final 0.1, init_scale 1, D 64x64, no R1, metrics every
    100 steps).

    discriminator : {"mlp", "optimal"}
        An MLP producing logits, or the exact D* (needs an exact generator density).
    loss : {"non_saturating", "minimax"}
        Generator loss: minimise ``-log D(G(z))`` or ``log(1 - D(G(z)))``.
    steps : int, *recipe*
        Generator steps.
    d_steps : int, *recipe*
        Discriminator steps per generator step (``k`` in Algorithm 1).
    batch_size : int, *recipe*
        Minibatch size ``m`` (real and generated samples each).
    ensemble : int
        Number of independent GANs trained in one batched computation.
    seed : int
        Member ``i`` uses seed ``seed + i`` unless ``seeds`` is given; every member seed must be
        below 2**64 (torch's range), so ``0 <= seed <= 2**64 - ensemble``.
    seeds : tuple of int, optional
        One seed per member, each in ``[0, 2**64)``.
    lr_g, lr_d : float or tuple of float, *recipe*
        Learning rates (one, or one per member).
    optimizer : {"adam", "sgd"}
    betas : (float, float)
        Adam's betas; (0.5, 0.999) by default (in the runs behind the recipes, 16 seeds settled
        with it, not with 0.9).
    momentum : float
        SGD momentum.
    lr_schedule : {"constant", "cosine"}, *recipe*
        Learning-rate schedule over the run: constant, or cosine decay from ``lr`` to
        ``lr * lr_final`` (damps the minibatch noise at the end, so that the players settle).
    lr_final : float, *recipe*
        Final learning rate as a fraction of the initial one (cosine schedule).
    real_label, fake_label : float
        Discriminator targets (label smoothing; swapped labels with 0 and 1).
    d_hidden, g_hidden : tuple of int
        d_hidden: *recipe*.
        Hidden widths of the MLP discriminator and of the MLP generator (at least one layer).
    d_activation, g_activation : str
        Activations of the discriminator (LeakyReLU(0.2) by default: on the 2-D rings the smooth
        activations stayed at D = 1/2 in our runs) and of the MLP generator (SiLU: a smooth G
        has a smooth pushforward density).
    latent_dim : int, optional
        Latent dimension of the MLP generator (default: the data dimension).
    flow_bins, flow_layers : int
        Spline bins and layers of the flow generator.
    init_loc, init_scale : float
        Initial location and scale of the affine or flow generator (N(0, 1) by default); for
        the mixture generator, the means are drawn from N(init_loc, init_scale^2 I).
        init_scale: *recipe*.
    mixture_components : int, optional
        K, the number of components of the mixture generator, *recipe*.
    init_component_scale : float, optional
        The mixture generator's initial component std as a fraction of ``init_scale``, *recipe*
        (:mod:`gan_theory.training.mixture`).
    entropy_weight : float, optional
        ``lambda_0 >= 0``, the mixture generator's entropy bonus, *recipe*: its loss gains
        ``lambda(t) E_{p_g} log p_g = -lambda(t) H(p_g)`` (estimated on its weighted sample, exact
        density; Dieng et al. 2019's PresGAN entropy regulariser), with ``lambda(t)`` decayed
        from ``lambda_0`` towards 0 on a cosine over the run (:func:`entropy_factor`), so that the
        last steps are Algorithm 1's (up to ``lambda_0 pi^2 / (4 T^2)``) and the game they play
        has the fixed point ``p_g = p_data``. The logged generator loss includes the term. It keeps
        components from narrowing below the data's modes (issue 10's 5x5 grid,
        :mod:`gan_theory.training.recipes`). 0: none. A value > 0 needs the mixture generator.
    grid_points : int
        Points per axis of the grid generator.
    dim : int, optional
        The dimension the models are built for (1 or 2); default: the target's. A value that
        differs from the target's dimension is an error.
    dtype : {"float32", "float64"}
    device : str
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    log_every : int, *recipe*
        Metrics are computed every this many generator steps (and at the first and last). The
        metrics never draw from the members' random streams, so this changes the cost of a
        run, not its training; in 2-D a network D's metrics take seconds per member.
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
    r1_gamma : float, *recipe*
        Weight of the R1 penalty (Mescheder, Geiger and Nowozin 2018, eq. 9): the network
        discriminator's loss gains ``gamma/2 * E_{x ~ p_data} ||grad_x logit(x)||^2`` (on each
        real minibatch). 0: no penalty (the default of families without a recipe, and always with
        the exact D*). A value > 0 needs ``discriminator="mlp"``.
    compile : bool or str
        Compile the discriminator and generator steps with ``torch.compile``: False (the
        default: eager), True (torch's default mode) or a mode, one of ``"default"``,
        ``"reduce-overhead"`` (CUDA graphs on a GPU), ``"max-autotune"``,
        ``"max-autotune-no-cudagraphs"``. The numbers equal the eager ones to float rounding
        (compiled kernels may fuse and reorder operations).
    """

    generator: str = "auto"
    discriminator: str = "mlp"
    loss: str = "non_saturating"
    steps: int | None = None
    d_steps: int | None = None
    batch_size: int | None = None
    ensemble: int = 1
    seed: int = 0
    seeds: tuple[int, ...] | None = None
    lr_g: float | tuple[float, ...] | None = None
    lr_d: float | tuple[float, ...] | None = None
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.5, 0.999)
    momentum: float = 0.0
    lr_schedule: str | None = None
    lr_final: float | None = None
    real_label: float = 1.0
    fake_label: float = 0.0
    d_hidden: tuple[int, ...] | None = None
    g_hidden: tuple[int, ...] = (64, 64)
    d_activation: str = "leaky_relu"
    g_activation: str = "silu"
    latent_dim: int | None = None
    flow_bins: int = 16
    flow_layers: int = 2
    init_loc: float = 0.0
    init_scale: float | None = None
    grid_points: int = 2001
    mixture_components: int | None = None
    init_component_scale: float | None = None
    entropy_weight: float | None = None
    dim: int | None = None
    dtype: str = "float32"
    device: str = "auto"
    log_every: int | None = None
    checkpoint_every: int = 0
    chunk: int = 64
    quadrature_atol: float = 1e-9
    network_quadrature_atol: float = 1e-6
    r1_gamma: float | None = None
    compile: bool | str = False

    def __post_init__(self) -> None:
        # Every field is checked and stored as a plain Python value (int, float, str, tuple),
        # so that a numpy or torch scalar cannot reach config.json or the checkpoint.
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        # Fields a recipe sets (RECIPE_FIELDS) may be None: resolve() fills them.
        for name, choices in (("generator", GENERATORS), ("discriminator", DISCRIMINATORS), ("loss", LOSSES),
                              ("optimizer", OPTIMIZERS), ("lr_schedule", SCHEDULES), ("dtype", DTYPES),
                              ("d_activation", ACTIVATIONS), ("g_activation", ACTIVATIONS)):
            if getattr(self, name) is not None or name not in RECIPE_FIELDS:
                check_choice(name, getattr(self, name), choices)
        for name, lower in (("steps", 0), ("d_steps", 1), ("batch_size", 1), ("ensemble", 1), ("flow_bins", 2),
                            ("flow_layers", 1), ("grid_points", 16), ("log_every", 1), ("checkpoint_every", 0),
                            ("chunk", 0)):
            if getattr(self, name) is not None or name not in RECIPE_FIELDS:
                put(name, check_int(name, getattr(self, name), lower=lower))
        n = self.ensemble
        member_seeds = check_seeds(self.seed, self.seeds, n)
        put("seed", int(self.seed))
        if self.seeds is not None:
            put("seeds", member_seeds)
        put("_member_seeds", member_seeds)  # not a field: kept for member_seeds, not compared or saved
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) is not None:
                put(name, check_lr(name, getattr(self, name), n))
        put("betas", check_betas("betas", self.betas))
        put("momentum", check_real("momentum", self.momentum, lower=0.0, upper=1.0, upper_open=True))
        if self.lr_final is not None:
            put("lr_final", check_real("lr_final", self.lr_final, lower=0.0, upper=1.0))
        put("real_label", check_real("real_label", self.real_label, lower=0.0, upper=1.0))
        put("fake_label", check_real("fake_label", self.fake_label, lower=0.0, upper=1.0))
        if self.real_label == self.fake_label:
            raise ValueError(f"real_label, fake_label: the labels must differ, got {self.real_label} for both")
        if self.d_hidden is not None:
            put("d_hidden", check_widths("d_hidden", self.d_hidden))
        put("g_hidden", check_widths("g_hidden", self.g_hidden))
        if self.latent_dim is not None:
            put("latent_dim", check_int("latent_dim", self.latent_dim, lower=1))
        put("init_loc", check_real("init_loc", self.init_loc))
        if self.init_scale is not None:
            put("init_scale", check_real("init_scale", self.init_scale, lower=0.0, lower_open=True))
        if self.mixture_components is not None:
            put("mixture_components", check_int("mixture_components", self.mixture_components, lower=1))
        if self.init_component_scale is not None:
            put("init_component_scale", check_real("init_component_scale", self.init_component_scale, lower=0.0,
                                                   lower_open=True))
        if self.entropy_weight is not None:
            put("entropy_weight", check_real("entropy_weight", self.entropy_weight, lower=0.0))
        for name in MIXTURE_FIELDS:
            if getattr(self, name) is not None and self.generator not in ("mixture", "auto"):
                raise ValueError(f"{name}: a field of the mixture generator, and the generator is "
                                 f"{self.generator!r}; leave {name} unset or use generator='mixture', got "
                                 f"{name}={getattr(self, name)}")
        if self.dim is not None:
            put("dim", check_int("dim", self.dim, lower=1, upper=2))
        check_device_name("device", self.device)
        put("quadrature_atol", check_real("quadrature_atol", self.quadrature_atol, lower=0.0, lower_open=True))
        put("network_quadrature_atol", check_real("network_quadrature_atol", self.network_quadrature_atol,
                                                  lower=0.0, lower_open=True))
        if self.r1_gamma is not None:
            put("r1_gamma", check_real("r1_gamma", self.r1_gamma, lower=0.0))
        if self.r1_gamma is not None and self.r1_gamma > 0 and self.discriminator != "mlp":
            raise ValueError(f"r1_gamma: the R1 penalty regularises a network discriminator, and the discriminator "
                             f"is {self.discriminator!r} (the exact D*); set r1_gamma=0 or discriminator='mlp', got "
                             f"r1_gamma={self.r1_gamma}")
        put("compile", check_compile("compile", self.compile))
        if self.generator == "grid" and self.discriminator != "optimal":
            raise ValueError("discriminator: the grid generator moves by gradient steps on the criterion with the "
                             "exact D* (Prop. 2); use discriminator='optimal'")

    def resolve(self, dim: int) -> TrainConfig:
        """The concrete configuration for ``dim``-dimensional data: ``generator="auto"``
        becomes the recommended family for ``dim`` (:data:`~gan_theory.training.recipes.AUTO`),
        and every recipe field left at ``None`` takes the family's recipe value
        (:data:`~gan_theory.training.recipes.RECIPES`) or, without one, the package default
        (:data:`~gan_theory.training.recipes.FALLBACK`). Fields set by the user are kept.
        Resolving a resolved configuration returns it unchanged. The trainer runs with, and
        writes to ``config.json``, the resolved configuration."""
        from .mixture import MIN_SCALE
        from .recipes import AUTO, FALLBACK, MIXTURE_FALLBACK, recipe

        dim = check_int("dim", dim, lower=1, upper=2)
        generator = AUTO[dim] if self.generator == "auto" else self.generator
        rec = recipe(generator, dim)
        names = {f.name for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {"generator": generator}
        for name in RECIPE_FIELDS:
            if name in names and getattr(self, name) is None:
                if name in MIXTURE_FIELDS:
                    if generator == "mixture":
                        changes[name] = rec.get(name, MIXTURE_FALLBACK[name])
                elif name == "r1_gamma" and self.discriminator != "mlp":
                    changes[name] = 0.0  # R1 regularises a network D; the exact D* has none
                else:
                    changes[name] = rec.get(name, FALLBACK[name])
        if generator != "mixture":
            for name in MIXTURE_FIELDS:
                if getattr(self, name) is not None:
                    raise ValueError(f"{name}: a field of the mixture generator, and generator='auto' picks "
                                     f"{generator!r} for {dim}-D data; leave {name} unset or use "
                                     f"generator='mixture', got {name}={getattr(self, name)}")
        resolved = self.replace(**changes)
        if generator == "mixture" and not resolved.init_component_scale * resolved.init_scale > MIN_SCALE:
            raise ValueError(f"init_component_scale, init_scale: the mixture's components start with std "
                             f"init_component_scale * init_scale, which must exceed its floor MIN_SCALE = "
                             f"{MIN_SCALE}; got {resolved.init_component_scale} * {resolved.init_scale}")
        if generator == "mixture" and resolved.batch_size < resolved.mixture_components:
            raise ValueError(f"batch_size: the mixture generator samples every component in each minibatch (a "
                             f"stratified sample), so it needs batch_size >= mixture_components = "
                             f"{resolved.mixture_components}; got batch_size = {resolved.batch_size}")
        return resolved

    @property
    def member_lr_g(self) -> tuple[float, ...]:
        """The generator's learning rate of each member."""
        return per_member("lr_g", self.lr_g, self.ensemble, lower=0.0, lower_open=False)

    @property
    def member_lr_d(self) -> tuple[float, ...]:
        """The discriminator's learning rate of each member."""
        return per_member("lr_d", self.lr_d, self.ensemble, lower=0.0, lower_open=False)

    @property
    def member_seeds(self) -> tuple[int, ...]:
        """The seed of each member."""
        return self._member_seeds

    def lr_factor(self, step: int) -> float:
        """The learning-rate multiplier at generator step ``step`` (0-based)."""
        return lr_factor(self.lr_schedule, self.lr_final, step, self.steps)

    def entropy_weight_at(self, step: int) -> float:
        """The entropy bonus's weight at generator step ``step`` (0-based): ``entropy_weight``
        times :func:`entropy_factor` (0 without a bonus)."""
        if not self.entropy_weight:
            return 0.0
        return self.entropy_weight * entropy_factor(step, self.steps)

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
        if not isinstance(data, Mapping):
            raise TypeError(f"config: expected a mapping of field names to values, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"config: unknown field(s) {sorted(unknown)}; expected some of {sorted(names)}")
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
        return cls(**kw)
