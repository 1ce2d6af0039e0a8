"""Sampling from densities with an explicit ``torch.Generator``: see
:func:`gan_theory.densities.sampler` (the family table's samplers)."""

from ..densities import batch_sampler, sampler, standard_draws

__all__ = ["batch_sampler", "sampler", "standard_draws"]
