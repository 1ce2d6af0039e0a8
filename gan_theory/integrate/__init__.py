"""Error-controlled adaptive quadrature on R and R^2; it knows nothing of densities.

The method
----------
Each axis is written in a coordinate ``t`` (:class:`AxisMap`, :mod:`.axes`): the smooth map
``x = c + s t / (1 - t^2)``, ``t in (-1, 1)``, for the whole line when the integrand has no
break point; otherwise the identity on a core interval holding every mode and break (so breaks
are cell edges exactly), with rational tails ``x = b + L tau / (1 - tau)`` where the support is
unbounded. Infinite ranges are therefore integrated without truncation: no mass is lost, and
heavy tails (Cauchy, Student-t) are handled like any other part of the integrand.

The initial cells (:mod:`.partition`) come from plain data, :class:`Landmarks`: the support
box, the centres and scales of the modes and the break points. Edges lie at every break, the
cells are small near every mode (no wider than :data:`RESOLUTION` scales across the box of
:data:`EXTENT` scales around it) and grow geometrically beyond it. A mode narrower than
:data:`MIN_ULPS_PER_SCALE` float spacings at its location cannot be resolved:
:class:`~gan_theory.results.AccuracyError`.

Each cell is integrated (:mod:`.evaluate`) with the 21-point Gauss-Kronrod rule (1-D) or the
tensor product of 15-point Gauss-Kronrod rules (2-D) (:mod:`.rules`). The cell's error estimate
is ``|K - G|``, the difference between the Kronrod result and the embedded Gauss result, which
overestimates the Kronrod result's true error by orders of magnitude on smooth integrands.
Cells are bisected (:mod:`.refine`), all together in vectorised rounds, until

.. math::

    \\sum_{cells} |K - G| + \\text{evaluation error} \\le \\max(\\mathrm{atol}, \\mathrm{rtol}\\,|I|)

for every component of a vector-valued integrand. The evaluation error is the floating-point
uncertainty of the integrand values (supplied by the integrand), the rounding of the nodes'
positions (:meth:`AxisMap.position_error`) and the rounding of the sums. Kinks are located and
made cell edges (:mod:`.kinks`); infinite values make a component infinite (:mod:`.infinities`).
If the tolerance cannot be met, :class:`~gan_theory.results.AccuracyError` is raised; no wrong
number is returned.

A batch of integrals can be computed in one pass, each on cells of its own
(:func:`make_batch_domain`): every cell carries its owner, the rounds are shared, and each
integral meets its own tolerance. :func:`pair_integral` integrates a pointwise function of two
log-densities (any objects with the small :class:`PairDensity` protocol) and checks their masses.

Layering: this package imports only :mod:`gan_theory.results`, :mod:`gan_theory.checks` and
:mod:`gan_theory.logspace`; the density adapters (:mod:`gan_theory.densities`) translate their
hints into :class:`Landmarks` (``tests/test_layers.py`` enforces it).

References
----------
R. Piessens, E. de Doncker-Kapenga, C. W. Ueberhuber, D. K. Kahaner, *QUADPACK: A Subroutine
Package for Automatic Integration*, Springer, 1983 (Gauss-Kronrod error estimation, rational
maps for infinite ranges).
"""

from .axes import AxisMap
from .evaluate import MAX_POINTS_PER_CALL, Integrand
from .pairwise import (CHECK_MASS_2D, DEFAULT_TOLERANCES, MASS_TOLERANCE, PairDensity, check_mass, pair_integral,
                       tolerances)
from .batch import make_batch_domain
from .partition import EXTENT, GRADING, MIN_ULPS_PER_SCALE, RESOLUTION, Domain, Landmarks, make_domain, split_cells
from .refine import VectorResult, integrate
from .rules import Rule, gauss_kronrod

__all__ = ["AxisMap", "CHECK_MASS_2D", "DEFAULT_TOLERANCES", "Domain", "EXTENT", "GRADING", "Integrand", "Landmarks",
           "MASS_TOLERANCE", "MAX_POINTS_PER_CALL", "MIN_ULPS_PER_SCALE", "PairDensity", "RESOLUTION", "Rule",
           "VectorResult", "check_mass", "gauss_kronrod", "integrate", "make_batch_domain", "make_domain",
           "pair_integral", "split_cells", "tolerances"]
