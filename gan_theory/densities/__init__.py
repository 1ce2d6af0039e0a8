"""Density adapters: what gan-theory accepts wherever a density is expected, and how it reads it.

Accepted inputs: any ``torch.distributions.Distribution`` with ``event_shape`` ``()`` (a density
on R) or ``(2,)`` (on R^2) and a continuous support; any frozen 1-D continuous ``scipy.stats``
distribution; the name of a toy target from :mod:`gan_theory.toys`. :func:`as_density` validates
one (errors name the argument) and returns :class:`Density`, the float64 NumPy view the theory
layer computes with: its log-density, where its mass lies (:class:`Hints`, handed to the
integrator as :class:`~gan_theory.integrate.Landmarks`), a sampler taking a
``torch.Generator`` and, for 1-D families with a scipy equivalent, a CDF and survival function.

Modules: :mod:`.density` (the view, validation), :mod:`.hints` (where the mass lies, the hint
registry), :mod:`.fast` (NumPy log-densities of the common families), :mod:`.torchconv`
(float64 rebuilds, parameter checks), :mod:`.scipybridge` (scipy.stats equivalents),
:mod:`.sampling` (generator-driven samplers), :mod:`.recentre` (pairs far from 0).
"""

from .density import Density, DensityLike, as_density, as_pair, batch_size, sample_torch
from .fast import FastView, fast_view
from .hints import FamilyHints, Hints, family_hints, register_hints, to_landmarks, torch_hints
from .recentre import oblique, recentre, recentred
from .sampling import sampler
from .scipybridge import is_scipy_frozen, scipy_cdf_sf, scipy_loc_scale
from .torchconv import check_parameters, parameters, rebuild, to_float64

__all__ = ["Density", "DensityLike", "FamilyHints", "FastView", "Hints", "as_density", "as_pair", "batch_size",
           "check_parameters", "fast_view", "family_hints", "is_scipy_frozen", "oblique", "parameters", "rebuild",
           "recentre", "recentred", "register_hints", "sample_torch", "sampler", "scipy_cdf_sf", "scipy_loc_scale",
           "to_float64", "to_landmarks", "torch_hints"]
