"""The spline flows as a generator family: exact densities the theory engine integrates.

:class:`FlowGenerator` adapts the ensemble flows of :mod:`gan_theory.training.flows` to the
trainer's generator protocol, and :class:`FlowDensity` wraps one member as a float64
``torch.distributions.Distribution`` with ``quadrature_hints()`` (where the density's
features and kinks lie), the form in which the engine accepts it. The smoothness of a flow's
density, and what it means for the quadrature, is described in :mod:`gan_theory.training.flows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.distributions as td
from torch.distributions import constraints

from ..checks import check_int
from ..densities import Hints
from .flows import EnsembleFlow1D, EnsembleFlow2D, _FlowBase
from .splines import spline_knots

__all__ = ["FlowDensity", "FlowGenerator"]

#: Latent grid on which :meth:`FlowDensity.quadrature_hints` maps centres (per axis).
HINT_GRID_1D = np.arange(-6.0, 6.0 + 0.25, 0.5)
HINT_GRID_2D = np.linspace(-6.0, 6.0, 13)


class FlowDensity(td.Distribution):
    """One member of a flow generator as a density the theory engine accepts.

    Holds a detached copy of member ``member`` (in ``dtype``, on ``device``): later training
    steps do not change it. ``event_shape`` is ``()`` for an :class:`EnsembleFlow1D` and
    ``(2,)`` for an :class:`EnsembleFlow2D`; ``batch_shape`` is ``()``.

    Parameters
    ----------
    flow : EnsembleFlow1D or EnsembleFlow2D
    member : int
        Which member.
    dtype : torch.dtype
        Of the copy (float64 for the engine).
    device
        Of the copy (CPU for the engine, which evaluates on NumPy arrays).
    validate_args : bool, optional
        Check that ``log_prob``'s argument is real.

    Notes
    -----
    ``mean`` and ``stddev`` have no closed form and raise ``NotImplementedError``; the engine
    locates the mass with :meth:`quadrature_hints` instead.
    """

    arg_constraints: dict = {}
    has_rsample = True

    def __init__(self, flow: EnsembleFlow1D | EnsembleFlow2D, member: int = 0, dtype: torch.dtype = torch.float64,
                 device: torch.device | str = "cpu", validate_args: bool | None = None) -> None:
        if not isinstance(flow, (EnsembleFlow1D, EnsembleFlow2D)):
            raise TypeError(f"flow: expected an EnsembleFlow1D or EnsembleFlow2D, got {type(flow).__name__}")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype: expected a floating-point torch.dtype, got {dtype!r}")
        self.member = flow._check_member(member)
        self.flow = flow.member(self.member, dtype=dtype, device=device)
        self.dim = flow.dim
        super().__init__(torch.Size(), torch.Size(() if self.dim == 1 else (2,)), validate_args=validate_args)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.real if self.dim == 1 else constraints.real_vector

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """Exact log-density at ``value`` of shape ``(...)`` (1-D) or ``(..., 2)`` (2-D), in the
        copy's dtype."""
        if self._validate_args:
            self._validate_sample(value)
        p = self.flow.loc
        value = torch.as_tensor(value).to(dtype=p.dtype, device=p.device)
        batch = value.shape if self.dim == 1 else value.shape[:-1]
        if self.dim == 2 and (value.dim() < 1 or value.shape[-1] != 2):
            raise ValueError(f"value: expected shape (..., 2) for a 2-D flow, got {tuple(value.shape)}")
        x = value.reshape((1, -1) if self.dim == 1 else (1, -1, 2))
        with torch.no_grad():
            lp = self.flow.log_prob(x)
        return lp.reshape(batch)

    def rsample(self, sample_shape: torch.Size | Sequence[int] = torch.Size()) -> torch.Tensor:
        """Samples ``T(z)``, ``z`` from the global RNG; shape ``sample_shape + event_shape``."""
        shape = self._extended_shape(torch.Size(sample_shape))
        p = self.flow.loc
        z = torch.randn(shape, dtype=p.dtype, device=p.device)
        x = self.flow(z.reshape((1, -1) if self.dim == 1 else (1, -1, 2)))
        return x.reshape(shape)

    def sample(self, sample_shape: torch.Size | Sequence[int] = torch.Size()) -> torch.Tensor:
        with torch.no_grad():
            return self.rsample(sample_shape)

    def quadrature_hints(self) -> Hints:
        """Where the mass lies, and where the density is not smooth.

        The support is all of R or R^2. The centres are images ``T(z)`` of latent points, each
        with a per-axis scale for the local spread of the mass (floored at
        ``1e-9 (1 + |centre|)`` so that it is positive):

        * 1-D: ``z`` on :data:`HINT_GRID_1D` (-6 to 6 by 0.5) together with the latent
          preimages of every layer's knots; then, up to 12 rounds, the latent midpoint of every
          neighbour pair whose ``log|dx/dz|`` differ by more than 1 (so a narrow feature between
          grid points is not stepped over). A centre's scale is half the larger distance to the
          images of its neighbours. The breaks are the images of every layer's knots (including
          the ends +-bound), where the density's derivative jumps.
        * 2-D: the 13 x 13 grid :data:`HINT_GRID_2D` squared; each latent grid square whose
          corners and centre disagree on ``log|det J|`` by more than 1 is split in four, up to
          4 times (at most 4096 points). The scale along axis ``a`` is half the grid step times
          the norm of row ``a`` of the Jacobian (from autograd), which is small where the flow
          compresses. With free heights (``EnsembleFlow2D(heights="free")``) the breaks are the
          images of the ``y`` knots of the last layer transforming each axis (lines
          ``x_a = const``); with conditioned heights the kinks lie on curves and no breaks are
          given.

        Building the hints costs a few hundred to a few thousand flow evaluations (about 10 to
        40 ms on one CPU thread).
        """
        with torch.no_grad():
            return _hints_1d(self.flow) if self.dim == 1 else _hints_2d(self.flow)

    def __repr__(self) -> str:
        return f"FlowDensity({type(self.flow).__name__}, member={self.member}, dtype={self.flow.loc.dtype})"


class FlowGenerator(torch.nn.Module):
    """A flow as a generator family of the trainer (:mod:`gan_theory.training.generators`).

    Adapts :class:`EnsembleFlow1D` / :class:`EnsembleFlow2D` to the generator protocol:
    latents and samples carry a trailing feature dimension ((N, B, 1) in 1-D), ``log_prob``
    holds the parameters fixed (gradients flow through ``x`` only, as the optimal
    discriminator needs), and ``member_density(i)`` is a :class:`FlowDensity`. In 2-D the
    flow has free heights (``heights="free"``), so that with the trainer's default of 2 layers
    every kink of the density is a break point the quadrature knows.

    Parameters
    ----------
    n_members : int
    dim : {1, 2}
    n_bins, n_layers : int
    dtype, device
    **options
        Further keyword arguments of the flow (``bound``, ``hidden``, ...).
    """

    exact_density = True

    def __init__(self, n_members: int, dim: int, *, n_bins: int = 16, n_layers: int = 2,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu", **options: Any) -> None:
        super().__init__()
        dim = check_int("dim", dim, lower=1, upper=2)
        self.dim = self.latent_dim = dim
        self.n_members = n_members
        if dim == 1:
            self.flow = EnsembleFlow1D(n_members, n_bins=n_bins, n_layers=n_layers, dtype=dtype, device=device,
                                       **options)
        else:
            options.setdefault("heights", "free")
            self.flow = EnsembleFlow2D(n_members, n_bins=n_bins, n_layers=n_layers, dtype=dtype, device=device,
                                       **options)

    def reset_parameters(self, generators: Sequence[torch.Generator], init_loc: float = 0.0,
                         init_scale: float = 1.0) -> None:
        self.flow.reset_parameters(generators, init_loc, init_scale)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.dim == 1:
            return self.flow(z[..., 0]).unsqueeze(-1)
        return self.flow(z)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-density (N, B) at ``x`` (N, B, dim), parameters held fixed."""
        params = {name: p.detach() for name, p in self.flow.named_parameters()}
        return torch.func.functional_call(_LogProb(self.flow), {"flow." + k: v for k, v in params.items()},
                                          (x[..., 0] if self.dim == 1 else x,))

    def member_density(self, i: int) -> FlowDensity:
        return FlowDensity(self.flow, i)

    def summary(self, i: int) -> dict[str, float | list[float]]:
        """The member's affine part, for the metrics log."""
        loc = self.flow.loc[i].detach().to("cpu", torch.float64)
        scale = torch.exp(self.flow.log_scale[i].detach().to("cpu", torch.float64))
        if self.dim == 1:
            return {"loc": float(loc), "scale": float(scale)}
        return {"loc": loc.tolist(), "scale": scale.tolist()}


class _LogProb(torch.nn.Module):
    """``flow.log_prob`` as a module's forward, for ``torch.func.functional_call``."""

    def __init__(self, flow: _FlowBase) -> None:
        super().__init__()
        self.flow = flow

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flow.log_prob(x)


def _half_gaps(x: np.ndarray) -> np.ndarray:
    """Half the larger distance from each of the sorted points ``x`` to its neighbours."""
    gap = np.diff(x)
    return 0.5 * np.maximum(np.concatenate((gap[:1], gap)), np.concatenate((gap, gap[-1:])))


def _hints_1d(flow: EnsembleFlow1D, max_rounds: int = 12, max_points: int = 4096) -> Hints:
    """Hints of a 1-member 1-D flow (see :meth:`FlowDensity.quadrature_hints`)."""
    p = flow.loc
    nl = flow.n_layers
    # each layer's knots (with the ends +-B) in that layer's input coordinate
    knots = [spline_knots(flow.widths[0, l], flow.heights[0, l], flow.derivatives[0, l], flow.bound)[0][None]
             for l in range(nl)]
    pre, post = [], []
    for l, k in enumerate(knots):
        u = k
        for j in reversed(range(l)):
            u = flow._spline(u, j, True)[0]
        pre.append(u.reshape(-1))
        v = k
        for j in range(l, nl):
            v = flow._spline(v, j, False)[0]
        post.append((flow.loc[:, None] + torch.exp(flow.log_scale)[:, None] * v).reshape(-1))
    grid = torch.as_tensor(HINT_GRID_1D, dtype=p.dtype, device=p.device)
    z = torch.unique(torch.cat([grid, *pre]))
    for _ in range(max_rounds):
        x, logdet = flow.forward_and_log_det(z[None])
        # a neighbour pair between which the density changes by more than a factor e gets its
        # latent midpoint (narrow features between grid points are not stepped over)
        coarse = (logdet[0].diff().abs() > 1.0) & (z.diff() > 1e-6)
        if not bool(coarse.any()) or z.numel() >= max_points:
            break
        mid = 0.5 * (z[:-1] + z[1:])[coarse]
        z = torch.unique(torch.cat([z, mid[:max_points - z.numel()]]))
    x = flow(z[None]).reshape(-1).to("cpu", torch.float64).numpy()
    x = np.unique(x)
    breaks = np.unique(torch.cat(post).to("cpu", torch.float64).numpy())
    scales = np.maximum(_half_gaps(x), 1e-9 * (1.0 + np.abs(x)))
    return Hints(np.array([-np.inf]), np.array([np.inf]), x[:, None], scales[:, None], (breaks,))


def _hints_2d(flow: EnsembleFlow2D, max_depth: int = 4, max_points: int = 4096) -> Hints:
    """Hints of a 1-member 2-D flow (see :meth:`FlowDensity.quadrature_hints`)."""
    p = flow.loc
    g = torch.as_tensor(HINT_GRID_2D, dtype=p.dtype, device=p.device)
    step = float(HINT_GRID_2D[1] - HINT_GRID_2D[0])
    # latent squares (centre, half-width) between neighbouring grid points; a square whose
    # corners and centre disagree on log|det J| by more than 1 is split in four
    mid = 0.5 * (g[:-1] + g[1:])
    sq = torch.stack(torch.meshgrid(mid, mid, indexing="ij"), dim=-1).reshape(-1, 2)
    half = torch.full((sq.shape[0],), 0.5 * step, dtype=p.dtype, device=p.device)
    corners = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [0.0, 0.0]], dtype=p.dtype,
                           device=p.device)
    leaves: list[torch.Tensor] = []  # (m, 5, 2): corners and centre of finished squares
    n_leaves = 0
    for depth in range(max_depth + 1):
        pts = sq[:, None, :] + half[:, None, None] * corners  # (m, 5, 2)
        logdet = flow.forward_and_log_det(pts.reshape(1, -1, 2))[1].reshape(-1, 5)
        split = (logdet.amax(1) - logdet.amin(1)) > 1.0
        if depth == max_depth or 5 * (n_leaves + sq.shape[0] + 3 * int(split.sum())) > max_points:
            split = torch.zeros_like(split)
        leaves.append(pts[~split])
        n_leaves += int((~split).sum())
        if not bool(split.any()):
            break
        sq = (sq[split][:, None, :] + 0.5 * half[split][:, None, None] * corners[:4]).reshape(-1, 2)
        half = (0.5 * half[split]).repeat_interleave(4)
    z = torch.cat(leaves).reshape(-1, 2)
    z = torch.as_tensor(np.unique(z.to("cpu", torch.float64).numpy(), axis=0), dtype=p.dtype, device=p.device)
    # the local spread per axis: half the grid step times the norm of the Jacobian's row (from
    # autograd): small where the flow compresses, whatever the distance to the neighbours
    with torch.enable_grad():
        zr = z[None].clone().requires_grad_(True)
        x = flow(zr)[0]
        rows = [torch.autograd.grad(x[:, a].sum(), zr, retain_graph=a == 0)[0][0] for a in (0, 1)]
    jac_norm = torch.stack([torch.linalg.vector_norm(r, dim=-1) for r in rows], dim=-1)  # (n, 2)
    centers = x.detach().to("cpu", torch.float64).numpy()
    scales = (0.5 * step * jac_norm).to("cpu", torch.float64).numpy()
    scales = np.maximum(scales, 1e-9 * (1.0 + np.abs(centers)))
    breaks = [np.empty(0), np.empty(0)]
    if flow.heights is not None:
        # the last layer transforming axis c has its y knots on the lines x_c = const
        for layer in range(max(0, flow.n_layers - 2), flow.n_layers):
            c = layer % 2
            h = flow.heights[0, layer]
            ky = spline_knots(h, h, torch.zeros_like(h[1:]), flow.bound)[1]
            breaks[c] = (flow.loc[0, c] + torch.exp(flow.log_scale[0, c]) * ky).to("cpu", torch.float64).numpy()
    return Hints(np.full(2, -np.inf), np.full(2, np.inf), centers, scales, tuple(np.unique(b) for b in breaks))
