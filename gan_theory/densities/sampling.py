"""Sampling from densities with an explicit ``torch.Generator``.

``torch.distributions`` samples from the global generator. The trainer draws every random
number of member ``i`` from member ``i``'s own generator, so that a member is trained the same
way alone or in an ensemble. :func:`sampler` returns a function ``(n, generator) -> samples``
(float64, CPU) built from uniform and normal draws for the families with a sampler in the
family table (Normal, Laplace, Uniform, MultivariateNormal), Independent products of two of
them and mixtures of these; other 1-D
families go through the inverse CDF when torch has one, and anything else through
:meth:`gan_theory.densities.Density.sample` (the global RNG forked and seeded from the
generator, and restored). :func:`batch_sampler` does the same for a list of generators at
once, one row each (the ensemble's data), with the same numbers row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.distributions as td

from ..checks import check_int
from ..constants import F64 as _F64
from .density import Density
from .draws import check_generators, standard_draws
from .families import Components, family

__all__ = ["batch_sampler", "sampler"]

Sampler = Callable[[int, torch.Generator], torch.Tensor]
BatchSampler = Callable[[int, Sequence[torch.Generator]], torch.Tensor]


def _p(v: torch.Tensor, batched: bool) -> torch.Tensor:
    """A parameter as float64 on CPU with a leading component dimension."""
    v = v.detach().to("cpu", _F64)
    return v if batched else v.unsqueeze(0)


def _components(d: td.Distribution, batched: bool) -> Components | None:
    """``(idx, generators) -> x`` with ``x[i, j]`` drawn from component ``idx[i, j]`` (a
    mixture's component batch), or from ``d`` itself when ``batched`` is False (``idx`` all
    zeros): the family table's sampler (exact type), also for an ``Independent`` over a batch
    of two."""
    if type(d) is td.Independent and d.reinterpreted_batch_ndims == 1 and d.event_shape == (2,):
        d = d.base_dist
    fam = family(type(d))
    if fam is None or fam.sampler is None:
        return None
    comp = fam.sampler(**{k: _p(getattr(d, k), batched) for k in fam.params})
    what = f"Family.sampler of {fam.type.__name__}"

    def rows(idx: torch.Tensor, generators: Sequence[torch.Generator]) -> torch.Tensor:
        try:
            x = comp(idx, generators)
        except TypeError as exc:  # a sampler written for (idx, generator), before issue 12
            raise TypeError(f"{what}: expected a function (idx of shape (G, n), generators) -> samples of shape "
                            f"(G, n, ...) that draws with gan_theory.densities.standard_draws; calling it "
                            f"failed: {exc}") from exc
        if not isinstance(x, torch.Tensor) or tuple(x.shape[:2]) != tuple(idx.shape):
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{what}: expected samples of shape (G, n, ...) with (G, n) = {tuple(idx.shape)}, "
                             f"got {got}")
        return x

    return rows


def batch_sampler(p: Density) -> BatchSampler:
    """Samples of ``p`` for several generators at once, one row per generator.

    Parameters
    ----------
    p : Density

    Returns
    -------
    callable
        ``(n, generators) -> samples`` of shape (G, n) (1-D) or (G, n, 2), float64 on CPU, with
        G = ``len(generators)``. Row ``i`` draws only from ``generators[i]`` and equals
        ``sampler(p)(n, generators[i])`` bit for bit. For the family table's samplers the
        per-generator work is the random draws alone (the transformation, arithmetic and the
        Laplace's ``log1p``, runs once over all rows); the inverse CDF runs row by row.
        It raises ``TypeError``/``ValueError`` naming ``n`` or ``generators`` for an ``n`` that
        is not a non-negative integer or generators that are not CPU ``torch.Generator``
        objects.
    """
    draw = _batch_sampler(p)
    event = () if p.dim == 1 else (p.dim,)

    def sample(n: int, generators: Sequence[torch.Generator]) -> torch.Tensor:
        n = check_int("n", n, lower=0)
        generators = check_generators(generators)
        if n == 0 or not generators:
            return torch.empty((len(generators), n, *event), dtype=_F64)
        return draw(n, generators)

    return sample


def _batch_sampler(p: Density) -> BatchSampler:
    dist = p.dist
    if isinstance(dist, td.MixtureSameFamily):
        comp = _components(dist.component_distribution, batched=True)
        if comp is not None:
            probs = dist.mixture_distribution.probs.detach().to("cpu", _F64)

            def mixture(n: int, generators: Sequence[torch.Generator]) -> torch.Tensor:
                idx = torch.empty((len(generators), n), dtype=torch.long)
                for row, g in zip(idx, generators):  # each generator: its components, then its draws
                    torch.multinomial(probs, n, replacement=True, generator=g, out=row)
                return comp(idx, generators)

            return mixture
    elif dist is not None:
        comp = _components(dist, batched=False)
        if comp is not None:
            return lambda n, generators: comp(torch.zeros((len(generators), n), dtype=torch.long), generators)
        if p.dim == 1 and _has_icdf(dist):
            def inverse_cdf(n: int, generators: Sequence[torch.Generator]) -> torch.Tensor:
                u = standard_draws("uniform", (n,), generators).clamp(2.0 ** -60, 1 - 2.0 ** -53)
                # row by row: a quantile function of transcendental kernels (pow, exp) can round
                # an entry differently at another offset of a longer tensor (their vectorised
                # and scalar loops), and a row must be the same drawn alone
                return torch.stack([dist.icdf(row).to(_F64) for row in u])

            return inverse_cdf
    return lambda n, generators: torch.stack([p.sample(n, g) for g in generators])


def sampler(p: Density) -> Sampler:
    """A function ``(n, generator) -> samples`` of shape (n,) (1-D) or (n, 2), float64 on CPU,
    that draws only from ``generator`` (row 0 of :func:`batch_sampler`)."""
    many = batch_sampler(p)
    return lambda n, g: many(n, (g,))[0]


def _has_icdf(dist: td.Distribution) -> bool:
    try:
        return bool(torch.isfinite(dist.icdf(torch.tensor(0.5, dtype=_F64))))
    except (NotImplementedError, AttributeError):
        return False
