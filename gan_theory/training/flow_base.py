"""What every ensemble flow shares: the base density, members, sampling and argument checks.

:class:`_FlowBase` is the common part of :class:`~gan_theory.training.flows.EnsembleFlow1D` and
:class:`~gan_theory.training.flows.EnsembleFlow2D`: the exact log-density by change of
variables from their ``inverse``,

.. math:: \\log p(x) = \\log \\mathcal N(z; 0, I) + \\log|\\det \\partial z / \\partial x|,
          \\quad z = T^{-1}(x),

sampling ``x = T(z)`` from a given ``torch.Generator``, and a member copied out of, or into, the
ensemble; plus the argument checks of the flows (generators, inputs, ``loc``/``scale``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from ..checks import check_int, check_real

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _check_generators(generators: Sequence[torch.Generator], n: int) -> None:
    if isinstance(generators, torch.Generator) or not isinstance(generators, Sequence):
        raise TypeError(f"generators: expected a sequence of {n} torch.Generator, got {type(generators).__name__}")
    if len(generators) != n:
        raise ValueError(f"generators: expected {n} generators (one per member), got {len(generators)}")
    for g in generators:
        if not isinstance(g, torch.Generator):
            raise TypeError(f"generators: expected torch.Generator entries, got {type(g).__name__}")


def _check_input(name: str, x: Any, n: int, dim: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    want = "(N, B)" if dim == 1 else "(N, B, 2)"
    ok = x.dim() == 2 if dim == 1 else (x.dim() == 3 and x.shape[-1] == 2)
    if not ok or x.shape[0] != n:
        raise ValueError(f"{name}: expected shape {want} with N = {n} members, got {tuple(x.shape)}")


def _affine_values(name: str, value: Any, dim: int, positive: bool) -> torch.Tensor:
    """``loc``/``scale`` (a number, or one per axis in 2-D) as a float64 tensor of shape (dim,)."""
    v = torch.as_tensor(value, dtype=torch.float64).detach().cpu()
    if v.dim() == 0:
        v = v.expand(dim)
    if v.shape != (dim,):
        raise ValueError(f"{name}: expected a number{' or 2 numbers' if dim == 2 else ''}, got shape {tuple(v.shape)}")
    if not bool(torch.isfinite(v).all()) or (positive and not bool((v > 0).all())):
        raise ValueError(f"{name}: expected finite{' positive' if positive else ''} values, got {v.tolist()}")
    return v.clone()


def _log_normal(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * z * z - _HALF_LOG_2PI


class _FlowBase(torch.nn.Module):
    """Shared argument checks and the log-density of the base distribution."""

    dim: int

    def __init__(self, n_members: int, n_bins: int, n_layers: int, bound: float) -> None:
        super().__init__()
        self.n_members = check_int("n_members", n_members, lower=1)
        self.n_bins = check_int("n_bins", n_bins, lower=2)
        self.n_layers = check_int("n_layers", n_layers, lower=1)
        self.bound = check_real("bound", bound, lower=0.0, lower_open=True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``x = T(z)``; differentiable in the parameters."""
        return self.forward_and_log_det(z)[0]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density of each member at its points: shape (N, B).

        .. math:: \\log p(x) = \\log \\mathcal N(z; 0, I) + \\log|\\det \\partial z / \\partial x|,
                  \\quad z = T^{-1}(x).
        """
        z, logdet = self.inverse(x)
        lp = _log_normal(z)
        return (lp if self.dim == 1 else lp.sum(-1)) + logdet

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples per member, shape (N, n) or (N, n, 2), with ``z`` drawn from
        ``generator`` (default: the global RNG); differentiable in the parameters."""
        n = check_int("n", n, lower=1)
        p = self.loc
        shape = (self.n_members, n) if self.dim == 1 else (self.n_members, n, 2)
        z = torch.randn(shape, generator=generator, dtype=p.dtype, device=p.device)
        return self.forward(z)

    def _check_member(self, i: int) -> int:
        i = check_int("i", i)
        if not -self.n_members <= i < self.n_members:
            raise ValueError(f"i: expected a member index in [0, {self.n_members}), got {i}")
        return i % self.n_members

    def _single(self, dtype: torch.dtype, device: torch.device | str) -> _FlowBase:
        """A new ensemble of one with this flow's architecture."""
        raise NotImplementedError

    def member(self, i: int, *, dtype: torch.dtype | None = None,
               device: torch.device | str | None = None) -> _FlowBase:
        """A detached copy of member ``i`` as an ensemble of one (optionally in another dtype
        or on another device)."""
        i = self._check_member(i)
        out = self._single(dtype or self.loc.dtype, device or self.loc.device)
        with torch.no_grad():
            src = dict(self.named_parameters())
            for name, p in out.named_parameters():
                p.copy_(src[name][i:i + 1])
        out.requires_grad_(False)
        return out

    def set_member(self, i: int, source: _FlowBase) -> None:
        """Copy the parameters of a 1-member flow ``source`` into member ``i`` (in place)."""
        i = self._check_member(i)
        _check_source(self, source)
        with torch.no_grad():
            src = dict(source.named_parameters())
            for name, p in self.named_parameters():
                p[i:i + 1].copy_(src[name])


def _check_source(flow: _FlowBase, source: Any) -> None:
    if type(source) is not type(flow):
        raise TypeError(f"source: expected a {type(flow).__name__}, got {type(source).__name__}")
    if source.n_members != 1:
        raise ValueError(f"source: expected a flow with 1 member, got {source.n_members}")
    mine = {k: v.shape[1:] for k, v in flow.named_parameters()}
    theirs = {k: v.shape[1:] for k, v in source.named_parameters()}
    if mine != theirs or flow.bound != source.bound:
        raise ValueError("source: its architecture (bins, layers, hidden widths, bound) differs from the flow's")
