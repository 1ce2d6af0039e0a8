"""Closed-form divergences, in a registry keyed by (quantity, type of p, type of q).

The same pattern as ``torch.distributions.kl.register_kl``: :func:`register_closed_form`
adds a function for a pair of distribution types, lookup follows the method resolution order
of both types, and the divergence functions fall back to quadrature when nothing is
registered. torch's own KL registry is not used as such (its formulas cancel large terms, so
an error bound proportional to the value is not a bound): the pairs taken from it are
registered here, recentred, with bounds that follow the size of the cancelling terms.

Registered here (numerically stable forms, so that tiny divergences keep their relative
accuracy):

* ``kl``: Normal-Normal, MultivariateNormal-MultivariateNormal (2-D), Independent pairs of
  registered bases, Laplace-Normal, Laplace-Laplace, Exponential-Exponential, Gumbel-Gumbel,
  Normal-Gumbel, Uniform-Normal, Gamma-Gamma, Beta-Beta;
* ``pearson``, ``neyman``: Normal-Normal chi^2 divergences;
* ``wasserstein1``: Normal-Normal (the mean of a folded normal).

A value that is finite but larger than the largest float64 raises
:class:`~gan_theory.AccuracyError` with its natural log in ``log_estimate`` (a truly infinite
value is returned as ``inf`` with error 0).
"""

from . import families, gaussian  # noqa: F401  (their closed forms register themselves)
from .registry import check_closed_tolerance, closed_form, has_closed_forms, register_closed_form

__all__ = ["check_closed_tolerance", "closed_form", "has_closed_forms", "register_closed_form"]
