"""Standard random draws, one row per ``torch.Generator``.

Every sampler of the family table (:mod:`.families`) and :func:`gan_theory.densities.sampler`
draws its random numbers here. Row ``i`` comes from ``generators[i]`` alone, filled in place by
``Tensor.normal_`` or ``Tensor.uniform_``, which give the numbers ``torch.randn`` and
``torch.rand`` give for the same generator, shape and dtype (tests/test_sampling_rows.py): so a
row is the same whether it is drawn alone or with others, and the transformation that follows
(a family's location-scale map) runs once over all rows instead of once per generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..checks import check_int
from ..constants import F64 as _F64

__all__ = ["check_generators", "standard_draws"]

_KINDS = {"normal": torch.Tensor.normal_, "uniform": torch.Tensor.uniform_}


def check_generators(generators: Sequence[torch.Generator]) -> list[torch.Generator]:
    """``generators`` as a list of CPU ``torch.Generator`` objects, else a ``TypeError`` naming
    the argument (one Generator in place of a sequence included)."""
    if isinstance(generators, torch.Generator):
        raise TypeError("generators: expected a sequence of torch.Generator objects, got one Generator (pass [g])")
    generators = list(generators)
    for g in generators:
        if not isinstance(g, torch.Generator) or g.device.type != "cpu":
            raise TypeError(f"generators: expected CPU torch.Generator objects, got {g!r}")
    return generators


def standard_draws(kind: str, shape: Sequence[int], generators: Sequence[torch.Generator],
                   dtype: torch.dtype = _F64) -> torch.Tensor:
    """Standard normal (``kind="normal"``) or U[0, 1) (``"uniform"``) draws, one row per
    generator.

    Parameters
    ----------
    kind : {"normal", "uniform"}
    shape : sequence of int
        The shape of one row.
    generators : sequence of torch.Generator
        CPU generators; row ``i`` draws from ``generators[i]`` only.
    dtype : torch.dtype
        float64 unless told.

    Returns
    -------
    torch.Tensor
        Shape ``(len(generators), *shape)``, on CPU; row ``i`` equals ``torch.randn(*shape,
        generator=generators[i], dtype=dtype)`` (``torch.rand`` for uniform) bit for bit, and
        leaves the generator in the same state.

    Raises
    ------
    ValueError
        ``kind`` unknown, or a negative entry of ``shape``.
    TypeError
        ``shape`` not a sequence of integers, ``generators`` not a sequence of CPU generators.
    """
    fill = _KINDS.get(kind)
    if fill is None:
        raise ValueError(f"kind: expected 'normal' or 'uniform', got {kind!r}")
    if not isinstance(shape, (tuple, list, torch.Size)):
        raise TypeError(f"shape: expected a tuple of integers (the shape of one row), got {shape!r}")
    shape = tuple(check_int("shape", s, lower=0) for s in shape)
    generators = check_generators(generators)
    out = torch.empty((len(generators), *shape), dtype=dtype)
    for row, g in zip(out, generators):
        fill(row, generator=g)
    return out
