"""Sampling from densities with an explicit ``torch.Generator``: see
:func:`gan_theory.densities.sampler` (the family table's samplers)."""

from ..densities import sampler

__all__ = ["sampler"]
