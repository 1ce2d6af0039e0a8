"""Exact-density generators: ensembles of rational-quadratic spline flows in 1-D and 2-D.

A flow generator is ``x = T(z)`` with ``z ~ N(0, I)`` and ``T`` a bijection whose inverse and
Jacobian are known in closed form, so the generator's density is exact:

.. math::

    \\log p_g(x) = \\log \\mathcal N(T^{-1}(x); 0, I) + \\log |\\det J_{T^{-1}}(x)|.

That is what lets the theory engine compute ``C(G)``, ``D*`` and the divergences of a trained
generator by quadrature instead of by sampling.

As in :mod:`gan_theory.training.ensemble`, every parameter has the ensemble as its leading
dimension N and one forward pass serves all members (inputs (N, B) in 1-D, (N, B, 2) in 2-D).
Member ``i`` is initialised from its own ``torch.Generator`` and its init does not depend on
N, so a member is the same flow whether built alone or inside an ensemble.

:class:`~gan_theory.training.flow_generator.FlowDensity` wraps one member as a float64
``torch.distributions.Distribution`` with ``quadrature_hints()``, the form in which the engine
accepts it, and :class:`~gan_theory.training.flow_generator.FlowGenerator` makes the flows a
generator family of the trainer (module :mod:`gan_theory.training.flow_generator`). What the
1-D and 2-D flows share (the log-density by change of variables, sampling, member copies,
argument checks) is in :mod:`gan_theory.training.flow_base`.

Smoothness and the quadrature
-----------------------------
An RQ spline is C^1, not C^2, so a flow's density is continuous but its derivative jumps
wherever a layer's input crosses one of that layer's knots. Gauss-Kronrod rules converge
slowly across such kinks, and their ``|K - G|`` error estimate is then not reliable. In 1-D
the kinks are points, the images of the knots: :class:`FlowDensity` hands them to the
quadrature as break points (cell edges), and the density integrates to machine precision in
a few hundred cells. In 2-D, with the spline heights computed by the conditioner (the
Neural Spline Flows coupling, ``heights="conditioned"``, the default), the kinks lie on curves
that depend on the other coordinate and no cell edges can follow them: tolerances of 1e-5 are
cheap, but at 1e-9 the quadrature is slow and its error estimate too small (measured on a
near-identity 4-layer flow: 115 s and a mass error of 1.7e-8 against a reported 9e-10; and
``gan_theory.jsd`` at its default 2-D tolerance rejects the density after 42 s as integrating
to 1.00000002 +- 4e-11). With free heights
(``heights="free"``) the kinks of the last layer transforming each axis are lines
``x_a = const``, given as breaks; with ``n_layers=2`` that is every kink, and the engine
reaches 1e-9 (measured errors below 1e-11) at the cost of resolving the density's features.

References
----------
C. Durkan, A. Bekasov, I. Murray, G. Papamakarios, "Neural Spline Flows", NeurIPS 2019.

L. Dinh, J. Sohl-Dickstein, S. Bengio, "Density estimation using Real NVP", ICLR 2017
(coupling layers).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..checks import check_choice, check_int, check_real
from .ensemble import EnsembleMLP
from .flow_base import _affine_values, _check_generators, _check_input, _FlowBase
from .splines import rq_spline

__all__ = ["EnsembleFlow1D", "EnsembleFlow2D"]


class EnsembleFlow1D(_FlowBase):
    """N independent 1-D spline flows ``x = loc + exp(log_scale) * S_L(...S_1(z))``.

    Each ``S_l`` is a monotone rational-quadratic spline on ``[-bound, bound]`` with ``n_bins``
    bins and linear (identity) tails, with free parameters per member and layer (there is no
    conditioner in 1-D). The log-Jacobian of the forward map is

    .. math::

        \\log \\frac{dx}{dz} = \\text{log\\_scale} + \\sum_l \\log S_l'(u_{l-1}).

    Parameters
    ----------
    n_members : int
        N.
    n_bins : int
        Bins per spline (>= 2).
    n_layers : int
        Number of spline layers (>= 1).
    bound : float
        Half-width of the splines' interval, in latent units (> 0).
    dtype, device
        Of the parameters.

    Attributes
    ----------
    widths, heights : Parameter, shape (N, n_layers, n_bins)
    derivatives : Parameter, shape (N, n_layers, n_bins - 1)
        Unconstrained spline parameters (all zero: the identity).
    loc, log_scale : Parameter, shape (N,)
    """

    dim = 1

    def __init__(self, n_members: int, *, n_bins: int = 16, n_layers: int = 2, bound: float = 5.0,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> None:
        super().__init__(n_members, n_bins, n_layers, bound)
        kw = {"dtype": dtype, "device": device}
        n, k, nl = self.n_members, self.n_bins, self.n_layers
        self.widths = torch.nn.Parameter(torch.zeros(n, nl, k, **kw))
        self.heights = torch.nn.Parameter(torch.zeros(n, nl, k, **kw))
        self.derivatives = torch.nn.Parameter(torch.zeros(n, nl, k - 1, **kw))
        self.loc = torch.nn.Parameter(torch.zeros(n, **kw))
        self.log_scale = torch.nn.Parameter(torch.zeros(n, **kw))

    def reset_parameters(self, generators: Sequence[torch.Generator], loc: float = 0.0, scale: float = 1.0, *,
                         init_scale: float = 1e-2) -> None:
        """Initialise member ``i`` from ``generators[i]``, near ``N(loc, scale^2)``.

        The unconstrained spline parameters are drawn as ``init_scale * N(0, 1)`` (on CPU, in
        float64, then cast: widths, then heights, then slopes, each of shape
        (n_layers, n_bins[-1])), so each spline is close to the identity; ``loc`` and
        ``log_scale = log(scale)`` are set exactly. Member ``i`` depends on ``generators[i]``
        only, not on N.
        """
        _check_generators(generators, self.n_members)
        loc_v = _affine_values("loc", loc, 1, False)
        scale_v = _affine_values("scale", scale, 1, True)
        init_scale = check_real("init_scale", init_scale, lower=0.0)
        nl, k = self.n_layers, self.n_bins
        with torch.no_grad():
            for i, g in enumerate(generators):
                for p, shape in ((self.widths, (nl, k)), (self.heights, (nl, k)), (self.derivatives, (nl, k - 1))):
                    p[i].copy_(init_scale * torch.randn(shape, generator=g, dtype=torch.float64))
            self.loc.copy_(loc_v.expand(self.n_members))
            self.log_scale.copy_(torch.log(scale_v).expand(self.n_members))

    def _spline(self, u: torch.Tensor, layer: int, inverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
        return rq_spline(u, self.widths[:, layer, None, :], self.heights[:, layer, None, :],
                         self.derivatives[:, layer, None, :], self.bound, inverse=inverse)

    def forward_and_log_det(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x = T(z)`` and ``log|dx/dz|``, both of shape (N, B), for ``z`` of shape (N, B)."""
        _check_input("z", z, self.n_members, 1)
        u, logdet = z, torch.zeros_like(z)
        for layer in range(self.n_layers):
            u, ld = self._spline(u, layer, False)
            logdet = logdet + ld
        x = self.loc[:, None] + torch.exp(self.log_scale)[:, None] * u
        return x, logdet + self.log_scale[:, None]

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``z = T^{-1}(x)`` and ``log|dz/dx|`` (the inverse map's log-Jacobian), shape (N, B)."""
        _check_input("x", x, self.n_members, 1)
        u = (x - self.loc[:, None]) * torch.exp(-self.log_scale)[:, None]
        logdet = (-self.log_scale[:, None]).expand_as(u)
        for layer in reversed(range(self.n_layers)):
            u, ld = self._spline(u, layer, True)
            logdet = logdet + ld
        return u, logdet

    def _single(self, dtype: torch.dtype, device: torch.device | str) -> EnsembleFlow1D:
        return EnsembleFlow1D(1, n_bins=self.n_bins, n_layers=self.n_layers, bound=self.bound, dtype=dtype,
                              device=device)


class EnsembleFlow2D(_FlowBase):
    """N independent 2-D coupling flows with rational-quadratic splines.

    ``x = loc + exp(log_scale) * C_L(...C_1(z))`` (per-axis ``loc`` and ``log_scale``), where
    coupling layer ``l`` (0-based) transforms coordinate ``c = l mod 2`` with a spline whose
    parameters are computed from the other coordinate by a per-member MLP (the conditioner):

    .. math::

        u'_c = S(u_c;\\ \\theta_l(u_{1-c})), \\qquad u'_{1-c} = u_{1-c}, \\qquad
        \\log|\\det J_l| = \\log S'(u_c;\\ \\theta_l(u_{1-c})).

    Parameters
    ----------
    n_members : int
        N.
    n_bins : int
        Bins per spline (>= 2).
    n_layers : int
        Number of coupling layers (>= 1; an even number transforms both coordinates equally
        often).
    bound : float
        Half-width of the splines' interval, in latent units (> 0).
    hidden : sequence of int
        Hidden widths of each conditioner ``1 -> hidden... -> outputs``.
    activation : str
        Conditioner activation (see :data:`gan_theory.training.ensemble.ACTIVATIONS`); a
        smooth one keeps the density smooth away from the knots, which the quadrature needs.
    heights : {"conditioned", "free"}
        ``"conditioned"`` (RealNVP / Neural Spline Flows): the conditioner outputs the bin
        widths, heights and slopes (``3 K - 1`` values). ``"free"``: the bin heights are free
        per-member parameters and the conditioner outputs widths and slopes (``2 K - 1``). A
        spline's density is not smooth where its output crosses a ``y`` knot; with free heights
        those sets are lines ``x_c = const`` for the last layer transforming each coordinate,
        which :class:`FlowDensity` hands to the quadrature as break points. With
        ``n_layers <= 2`` and free heights every kink of the density is such a line, and the
        engine integrates the density to near machine precision; otherwise the kinks lie on
        curves and tight tolerances cost many cells (see the module notes).
    dtype, device
        Of the parameters.

    Attributes
    ----------
    conditioners : ModuleList of EnsembleMLP
    heights : Parameter, shape (N, n_layers, n_bins), or None
        The free bin heights (``heights="free"`` only).
    loc, log_scale : Parameter, shape (N, 2)
    """

    dim = 2

    def __init__(self, n_members: int, *, n_bins: int = 16, n_layers: int = 4, bound: float = 5.0,
                 hidden: Sequence[int] = (32, 32), activation: str = "silu", heights: str = "conditioned",
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> None:
        super().__init__(n_members, n_bins, n_layers, bound)
        if isinstance(hidden, (int, str)) or not isinstance(hidden, Sequence):
            raise TypeError(f"hidden: expected a sequence of layer widths, got {type(hidden).__name__} {hidden!r}")
        self.hidden = tuple(check_int("hidden", h, lower=1) for h in hidden)
        self.height_mode = check_choice("heights", heights, ("conditioned", "free"))
        k = self.n_bins
        sizes = (1, *self.hidden, (3 * k - 1) if self.height_mode == "conditioned" else (2 * k - 1))
        self.conditioners = torch.nn.ModuleList(
            EnsembleMLP(self.n_members, sizes, activation, dtype=dtype, device=device) for _ in range(self.n_layers))
        self.activation = self.conditioners[0].activation
        self.heights = None
        if self.height_mode == "free":
            self.heights = torch.nn.Parameter(torch.zeros(self.n_members, self.n_layers, k, dtype=dtype,
                                                          device=device))
        self.loc = torch.nn.Parameter(torch.zeros(self.n_members, 2, dtype=dtype, device=device))
        self.log_scale = torch.nn.Parameter(torch.zeros(self.n_members, 2, dtype=dtype, device=device))

    def reset_parameters(self, generators: Sequence[torch.Generator], loc: float | Sequence[float] = 0.0,
                         scale: float | Sequence[float] = 1.0, *, init_scale: float = 1e-2) -> None:
        """Initialise member ``i`` from ``generators[i]``, near ``N(loc, diag(scale)^2)``.

        Each conditioner gets the ``torch.nn.Linear`` init of :class:`EnsembleMLP` (layer by
        layer, conditioner by conditioner), then its last layer's weights and biases are
        multiplied by ``init_scale`` so that every spline starts close to the identity (the
        spline parameterisation maps zero to the identity exactly). Free heights are drawn
        last, as ``init_scale * N(0, 1)`` (on CPU in float64, then cast). ``loc`` and ``scale``
        are a number or one per axis. Member ``i`` depends on ``generators[i]`` only, not on N.
        """
        _check_generators(generators, self.n_members)
        loc_v = _affine_values("loc", loc, 2, False)
        scale_v = _affine_values("scale", scale, 2, True)
        init_scale = check_real("init_scale", init_scale, lower=0.0)
        with torch.no_grad():
            for cond in self.conditioners:
                cond.reset_parameters(generators)
                cond.layers[-1].weight.mul_(init_scale)
                cond.layers[-1].bias.mul_(init_scale)
            if self.heights is not None:
                for i, g in enumerate(generators):
                    self.heights[i].copy_(init_scale * torch.randn(self.n_layers, self.n_bins, generator=g,
                                                                   dtype=torch.float64))
            self.loc.copy_(loc_v.expand(self.n_members, 2))
            self.log_scale.copy_(torch.log(scale_v).expand(self.n_members, 2))

    def _coupling(self, u: torch.Tensor, layer: int, inverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
        c = layer % 2
        other = u[..., 1 - c]
        theta = self.conditioners[layer](other.unsqueeze(-1))
        k = self.n_bins
        if self.heights is None:
            widths, heights, slopes = theta[..., :k], theta[..., k:2 * k], theta[..., 2 * k:]
        else:
            widths, heights, slopes = theta[..., :k], self.heights[:, layer, None, :], theta[..., k:]
        new, ld = rq_spline(u[..., c], widths, heights, slopes, self.bound, inverse=inverse)
        u = torch.stack([new, other] if c == 0 else [other, new], dim=-1)
        return u, ld

    def forward_and_log_det(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x = T(z)`` of shape (N, B, 2) and ``log|det dx/dz|`` of shape (N, B)."""
        _check_input("z", z, self.n_members, 2)
        u, logdet = z, torch.zeros_like(z[..., 0])
        for layer in range(self.n_layers):
            u, ld = self._coupling(u, layer, False)
            logdet = logdet + ld
        x = self.loc[:, None, :] + torch.exp(self.log_scale)[:, None, :] * u
        return x, logdet + self.log_scale.sum(-1)[:, None]

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``z = T^{-1}(x)`` of shape (N, B, 2) and ``log|det dz/dx|`` of shape (N, B)."""
        _check_input("x", x, self.n_members, 2)
        u = (x - self.loc[:, None, :]) * torch.exp(-self.log_scale)[:, None, :]
        logdet = (-self.log_scale.sum(-1)[:, None]).expand(u.shape[:-1])
        for layer in reversed(range(self.n_layers)):
            u, ld = self._coupling(u, layer, True)
            logdet = logdet + ld
        return u, logdet

    def _single(self, dtype: torch.dtype, device: torch.device | str) -> EnsembleFlow2D:
        return EnsembleFlow2D(1, n_bins=self.n_bins, n_layers=self.n_layers, bound=self.bound, hidden=self.hidden,
                              activation=self.activation, heights=self.height_mode, dtype=dtype, device=device)
