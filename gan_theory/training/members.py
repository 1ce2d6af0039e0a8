"""Public access to the members of a trained (or training) ensemble.

``Trainer.member(i)`` and ``TrainResult.member(i)`` return a :class:`Member`: member ``i``'s
generator (a callable from latent draws to samples, with its ensemble module), its density
``p_g`` (a float64 ``torch.distributions`` object the theory engine integrates) and its
discriminator (a float64 copy of its network, or None when the discriminator is the exact
D*). The claims and the command line read the models through these objects only.

>>> import gan_theory as gt                                            # doctest: +SKIP
>>> r = gt.train("gaussian", steps=50, ensemble=2)                     # doctest: +SKIP
>>> m = r.member(1)                                                    # doctest: +SKIP
>>> gt.criterion("gaussian", m.density()).value + gt.LOG4              # doctest: +SKIP
>>> m.discriminator(torch.zeros(5))       # D(x) in [0, 1]             # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..constants import F64 as _F64
from .ensemble import LEAKY_SLOPE, EnsembleMLP

if TYPE_CHECKING:
    from .trainer import EnsembleTrainer

__all__ = ["Member", "MemberDiscriminator", "MemberGenerator", "TrainResult"]



class MemberGenerator:
    """Member ``i``'s generator as a callable: latent ``z`` (n, latent_dim) to samples (n,) in
    1-D or (n, 2) in 2-D (float64, detached), with ``density()`` giving its density.

    It reads the live ensemble module: after more training steps it gives the new generator.

    Attributes
    ----------
    member : int
        The member's index in the ensemble.
    module : torch.nn.Module
        The ensemble-batched generator module that holds this member (with others: its
        parameters have the members as leading dimension; ``forward`` takes (N, B,
        latent_dim)). Its parameters are the trained ones, not copies.
    slot : int
        This member's index inside ``module``.
    """

    def __init__(self, module: torch.nn.Module, slot: int, member: int, dim: int, device: torch.device,
                 dtype: torch.dtype) -> None:
        self.module, self.slot, self.member = module, slot, member
        self._dim, self._device, self._dtype = dim, device, dtype

    @property
    def latent_dim(self) -> int:
        return self.module.latent_dim

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        gen = self.module
        if not hasattr(gen, "latent_dim"):
            raise TypeError("the grid generator is a density on a grid, not a map from a latent space")
        z = torch.as_tensor(z).to(self._device, self._dtype).reshape(-1, gen.latent_dim)
        zz = torch.zeros((gen.n_members,) + tuple(z.shape), dtype=z.dtype, device=z.device)
        zz[self.slot] = z
        with torch.no_grad():
            x = gen(zz)[self.slot].to("cpu", _F64)
        return x[:, 0] if self._dim == 1 else x

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` samples, drawing the latent from ``generator``."""
        return self(torch.randn(n, self.latent_dim, generator=generator, dtype=_F64))

    def density(self):
        """The member's density (float64 torch distribution; for the MLP generator in 2-D, a
        kernel density estimate; for the grid generator, its probability vector spread over the
        grid's cells, :class:`~gan_theory.training.grid.GridDensity`)."""
        return self.module.member_density(self.slot)


class MemberDiscriminator:
    """Member ``i``'s trained discriminator: ``x -> D(x)`` in [0, 1] (float64), ``logits(x)``,
    and, for a piecewise-linear network, ``kinks(x)``: its hidden pre-activations (n, h), whose
    sign changes are where it is not smooth (the quadrature splits cells there).

    ``net`` is a float64 copy of the member's network (an ensemble of one), taken when the
    object was made."""

    def __init__(self, net: EnsembleMLP, dim: int) -> None:
        self.net, self.dim = net, dim
        self.kinks = self._kinks if net.piecewise_linear else None
        self._pieces_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def kink_points(self) -> np.ndarray:
        """Every kink of a 1-D piecewise-linear network, computed from its weights (sorted).

        The network is ``l(x) = a_L(x)`` with ``a_1(x) = x w_1 + b_1`` and
        ``a_k(x) = act(a_{k-1}(x)) W_k + b_k``; ``act`` is linear with slope ``s`` on each side
        of 0 (1 and 0.2 for LeakyReLU, 1 and 0 for ReLU). It is not smooth only where a hidden
        pre-activation changes sign. The first layer's units change sign at ``x = -b/w``. Between
        consecutive kinks found so far every unit's slope ``s`` is fixed (read at a point inside
        the region), so the next layer's pre-activations are affine there,
        ``a_k(x) = A x + c`` with ``A = (s A_{k-1}) W_k`` and ``c = (s c_{k-1}) W_k + b_k``, and
        their zeros ``-c/A`` inside the region are its kinks; layer by layer this finds all of
        them, exactly up to rounding (a zero computed a few ulps off its true place leaves a
        sliver of that width where the integrand's slope is off, an error far below any
        tolerance).

        Raises
        ------
        ValueError
            For a 2-D network (its kinks are lines) or a smooth activation (no kinks).
        """
        return self._pieces()[0]

    def _pieces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(kinks, slope, intercept)``: the kinks (:meth:`kink_points`) and, on each of the
        ``len(kinks) + 1`` regions they bound, the logit as ``slope x + intercept``."""
        if self._pieces_cache is not None:
            return self._pieces_cache
        net = self.net
        if self.dim != 1 or not net.piecewise_linear:
            raise ValueError(f"kink_points: needs a 1-D piecewise-linear network, got a {self.dim}-D "
                             f"{net.activation} network")
        neg = LEAKY_SLOPE if net.activation == "leaky_relu" else 0.0
        ws = [layer.weight[0].detach().to("cpu", _F64).numpy() for layer in net.layers]
        bs = [layer.bias[0, 0].detach().to("cpu", _F64).numpy() for layer in net.layers]
        with np.errstate(divide="ignore", invalid="ignore"):
            first = -bs[0] / ws[0][0]
        kinks = np.unique(first[np.isfinite(first)])

        def affine(kinks: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            """Layer ``depth``'s pre-activations as ``A x + c`` on each region between ``kinks``."""
            lo = np.concatenate(([-np.inf], kinks))
            hi = np.concatenate((kinks, [np.inf]))
            inside = np.zeros(kinks.size + 1)  # a point inside each region
            if kinks.size:
                inside[0] = kinks[0] - (1.0 + abs(kinks[0]))
                inside[-1] = kinks[-1] + (1.0 + abs(kinks[-1]))
                inside[1:-1] = 0.5 * kinks[:-1] + 0.5 * kinks[1:]
            slope = np.broadcast_to(ws[0][0], (inside.size, ws[0].shape[1]))
            icept = np.broadcast_to(bs[0], slope.shape)
            for k in range(1, depth + 1):
                s = np.where(slope * inside[:, None] + icept > 0, 1.0, neg)
                slope, icept = (s * slope) @ ws[k], (s * icept) @ ws[k] + bs[k]
            return lo, hi, slope, icept

        for depth in range(1, len(ws) - 1):
            lo, hi, slope, icept = affine(kinks, depth)
            with np.errstate(divide="ignore", invalid="ignore"):
                zeros = -icept / slope
            keep = np.isfinite(zeros) & (zeros > lo[:, None]) & (zeros < hi[:, None])
            kinks = np.unique(np.concatenate((kinks, zeros[keep])))
        _, _, slope, icept = affine(kinks, len(ws) - 1)
        self._pieces_cache = (kinks, slope[:, 0].copy(), icept[:, 0].copy())
        return self._pieces_cache

    def piecewise_logits(self, x) -> torch.Tensor:
        """The logits of a 1-D piecewise-linear network from its pieces (:meth:`_pieces`):
        ``slope_r x + intercept_r`` on the region ``r`` holding ``x``; the same function as
        :meth:`logits`, to rounding, at a cost that does not grow with the width."""
        kinks, slope, icept = self._pieces()
        x = torch.as_tensor(x, dtype=_F64)
        flat = x.detach().cpu().numpy().reshape(-1)
        r = np.searchsorted(kinks, flat, side="right")
        return torch.from_numpy(slope[r] * flat + icept[r]).reshape(x.shape)

    def between_kinks(self) -> _Smooth:
        """This discriminator without its ``kinks`` indicator and evaluated from its affine
        pieces: for an integrand whose quadrature already has every kink as a break point
        (:meth:`kink_points`), so that the cells are not searched for kinks again."""
        return _Smooth(self)

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


class _Smooth:
    """A 1-D piecewise-linear :class:`MemberDiscriminator` read through its pieces
    (:meth:`MemberDiscriminator.piecewise_logits`), without a kink indicator."""

    def __init__(self, d: MemberDiscriminator) -> None:
        self._d = d

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self._d.piecewise_logits(x)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._d(x)


@dataclass(frozen=True)
class Member:
    """One member of an ensemble (``Trainer.member(i)``, ``TrainResult.member(i)``).

    Attributes
    ----------
    index : int
        Its index in the ensemble.
    seed : int
        Its seed (every random number it used came from a generator seeded with it).
    generator : MemberGenerator
        Its generator: ``generator(z)`` samples, ``generator.module`` / ``generator.slot`` the
        ensemble module that holds it (live).
    discriminator : MemberDiscriminator or None
        A float64 copy of its discriminator network, taken when the Member was made; None when
        the discriminator is the exact D* (``discriminator="optimal"``).
    """

    index: int
    seed: int
    generator: MemberGenerator
    discriminator: MemberDiscriminator | None

    def density(self):
        """Its density ``p_g`` now (float64 torch distribution; a kernel density estimate for the
        MLP generator in 2-D), as the trainer's metrics use it."""
        return self.generator.density()


class TrainResult:
    """What :func:`gan_theory.train` returns.

    Attributes
    ----------
    config : TrainConfig
    history : list of dict
        Every metrics record, in order (``step``, ``member``, ``criterion``, ``jsd``,
        ``d_error``, ``wall_time``, ...), exactly as in ``metrics.jsonl``: JSON values, with
        ``None`` for a NaN or infinite number (a diverged member's loss or gradient norm).
    final : list of dict
        The last record of each member.
    stopped : dict
        ``member -> reason`` for members stopped on a non-finite value.
    generators : list of MemberGenerator
    discriminators : list of MemberDiscriminator or None
        ``None`` entries when the discriminator is the exact D*.
    out : Path or None
        The run directory.

    ``member(i)`` gives member ``i``'s generator, density and discriminator together.
    """

    def __init__(self, trainer: EnsembleTrainer) -> None:
        self.config = trainer.config
        self.history = list(trainer.history)
        last: dict[int, dict[str, Any]] = {}
        for rec in self.history:
            last[rec["member"]] = rec
        self.final = [last[i] for i in sorted(last)]
        self.stopped = dict(trainer.stopped)
        self.out = trainer.out
        self.device = str(trainer.device)
        self.train_time = trainer.train_time
        self._members = [trainer.member(i) for i in range(trainer.n_members)]
        self.generators = [m.generator for m in self._members]
        self.discriminators = [m.discriminator for m in self._members]
        self._trainer = trainer

    def member(self, i: int) -> Member:
        """Member ``i`` (0 <= i < ensemble): its generator, density and discriminator."""
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(self._members):
            raise IndexError(f"member: expected an integer 0 <= member < {len(self._members)}, got {i!r}")
        return self._members[int(i)]

    def __repr__(self) -> str:
        return (f"TrainResult({self.config.ensemble} member(s), {len(self.history)} records, "
                f"stopped={self.stopped}, out={str(self.out) if self.out else None!r})")
