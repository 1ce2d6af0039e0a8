"""Density adapters: what gan-theory accepts wherever a density is expected, and how it reads it.

Accepted inputs: any ``torch.distributions.Distribution`` with ``event_shape`` ``()`` (a density
on R) or ``(2,)`` (on R^2) and a continuous support; any frozen 1-D continuous ``scipy.stats``
distribution; the name of a toy target from :mod:`gan_theory.toys`. :func:`as_density` validates
one (errors name the argument) and returns :class:`Density`, the float64 NumPy view the theory
layer computes with: its log-density, where its mass lies (:class:`Hints`, handed to the
integrator as :class:`~gan_theory.integrate.Landmarks`), a sampler taking a
``torch.Generator`` and, for 1-D families with a scipy equivalent, a CDF and survival function.

Everything known about one distribution family is one entry of the family table
(:mod:`.families`: parameters and checks, NumPy log-density, hints, support, sampler, scipy
equivalent, float64 rebuild); add one with :func:`register_family`, or only hints with
:func:`register_hints` or a ``quadrature_hints()`` method on the distribution class.

Modules: :mod:`.families` (the table), :mod:`.density` (the view, validation), :mod:`.hints`
(where the mass lies, and its wrappers), :mod:`.fast` (NumPy log-densities of the common families), :mod:`.torchconv`
(float64 rebuilds, parameter checks), :mod:`.scipybridge` (scipy.stats equivalents),
:mod:`.sampling` (generator-driven samplers), :mod:`.recentre` (pairs far from 0).
"""

from .density import Density, DensityLike, as_density, as_pair, batch_size, sample_torch
from .families import FAMILIES, GENERIC, Family, family, read_params, register_family
from .fast import FastView, fast_view
from .hints import IQR_PER_SD, FamilyHints, Hints, family_hints, register_hints, to_landmarks, torch_hints
from .recentre import oblique, recentre, recentred
from .draws import standard_draws
from .sampling import batch_sampler, sampler
from .scipybridge import is_scipy_frozen, scipy_cdf_sf, scipy_loc_scale
from .torchconv import check_parameters, parameters, rebuild, to_float64

__all__ = ["FAMILIES", "GENERIC", "IQR_PER_SD", "Density", "DensityLike", "Family", "FamilyHints", "FastView", "Hints", "as_density", "as_pair", "batch_sampler", "batch_size",
           "check_parameters", "fast_view", "family_hints", "is_scipy_frozen", "family", "oblique", "parameters", "read_params", "rebuild", "register_family",
           "recentre", "recentred", "register_hints", "sample_torch", "sampler", "scipy_cdf_sf", "scipy_loc_scale",
           "standard_draws", "to_float64", "to_landmarks", "torch_hints"]
