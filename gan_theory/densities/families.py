"""The family table: everything gan-theory knows about one distribution family, in one entry.

Each :class:`Family` states, for one ``torch.distributions`` class:

* its parameters and their checks (``params``, ``positive``, ``check``);
* a NumPy log-density on float64 parameters (``log_prob``; the fast path of the quadrature);
* where its mass lies (``hints``: centre, scale and break points, the quadrature's hints) and
  the bounds of its support (``bounds``);
* a sampler drawing only from a ``torch.Generator`` (``sampler``);
* its scipy.stats equivalent (``scipy``, for CDFs and survival functions);
* how to rebuild it with float64 parameters (``rebuild``; default: the constructor called with
  the names in ``arg_constraints``).

Every field but ``type`` is optional: a missing one means "use the generic route" (torch's
``log_prob``; hints from the mean and standard deviation, the quantile function or samples;
the inverse CDF or the forked global generator for sampling; no scipy equivalent). The
generic route is itself the table's last entry, :data:`GENERIC`, for ``torch.distributions.
Distribution``. The wrappers ``MixtureSameFamily``, ``Independent`` and
``TransformedDistribution`` are combinators over these entries (:mod:`.fast`, :mod:`.hints`,
:mod:`.sampling`), and ``MultivariateNormal`` has its 2-D log-density there.

Lookups: the NumPy log-density, the sampler and the scipy equivalent are used for the exact
type only (a subclass may change the density); the hints follow the method resolution order
(a subclass has its parent's shape), as ``torch.distributions.kl.register_kl`` does.

Add a family with :func:`register_family`; ``tests/test_families.py`` walks every entry
(log-density against ``log_prob``, sampler against the density, hints against the mass).

This module holds the entries; the record type :class:`Family`, the table :data:`FAMILIES`
and its lookups are in :mod:`gan_theory.densities.table` (re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.distributions as td
from scipy.special import beta as beta_fn
from scipy.special import gammaln

from ..constants import F64 as _F64
from .draws import standard_draws
from .table import (FAMILIES, Components, Family, FamilyHints, LogProb, family, family_hints_of, read_params,
                    register_family)

__all__ = ["FAMILIES", "GENERIC", "Components", "Family", "FamilyHints", "LogProb", "family", "family_hints_of",
           "read_params", "register_family"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

# --------------------------------------------------------------------------------------------
# NumPy log-densities
# --------------------------------------------------------------------------------------------
def _normal(loc, scale):
    c = -np.log(scale) - _HALF_LOG_2PI

    def log_prob(x):
        # c - ((x - loc) / scale)^2 / 2, in place (these arrays are large in 2-D mixtures);
        # dividing first keeps scales below 1e-154 (whose square underflows) working
        d = x - loc
        with np.errstate(over="ignore"):  # -inf where (x - loc) / scale overflows: exact
            d /= scale
            d *= d
        d *= -0.5
        d += c
        return d

    return log_prob


def _laplace(loc, scale):
    c = -np.log(2 * scale)
    return lambda x: c - np.abs(x - loc) / scale


def _cauchy(loc, scale):
    c = -np.log(np.pi * scale)
    return lambda x: c - np.log1p(((x - loc) / scale) ** 2)


def _student_t(df, loc, scale):
    c = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * np.log(df * np.pi) - np.log(scale)
    return lambda x: c - (df + 1) / 2 * np.log1p(((x - loc) / scale) ** 2 / df)


def _uniform(low, high):
    c = -np.log(high - low)
    # torch's convention: the support is [low, high)
    return lambda x: np.where((x >= low) & (x < high), c, -np.inf)


def _uniform_check(low, high):
    if not np.all(np.asarray(low) < np.asarray(high)):
        return (f"parameters {{path}}low and {{path}}high of Uniform must satisfy low < high, found "
                f"low={np.asarray(low).tolist()}, high={np.asarray(high).tolist()}")
    return None


# --------------------------------------------------------------------------------------------
# Samplers (uniform and normal draws from the generator only)
# --------------------------------------------------------------------------------------------
def _draws(kind: str, idx: torch.Tensor, event: tuple, generators) -> torch.Tensor:
    """Standard draws for the components ``idx`` (G, n): shape (G, n, *event)."""
    if idx.dim() != 2 or idx.shape[0] != len(generators):
        raise ValueError(f"idx: expected shape (G, n) with G = {len(generators)} generators, got {tuple(idx.shape)}")
    return standard_draws(kind, (*idx.shape[1:], *event), generators)


def _normal_sampler(loc, scale):
    def normal(idx, generators):
        return _draws("normal", idx, loc.shape[1:], generators).mul_(scale[idx]).add_(loc[idx])

    return normal


def _uniform_sampler(low, high):
    width = high - low

    def uniform(idx, generators):
        return _draws("uniform", idx, low.shape[1:], generators).mul_(width[idx]).add_(low[idx])

    return uniform


def _laplace_sampler(loc, scale):
    def laplace(idx, generators):
        u = _draws("uniform", idx, loc.shape[1:], generators) * 2 - 1
        return loc[idx] - scale[idx] * torch.sign(u) * torch.log1p(-u.abs())

    return laplace


def _mvn_sampler(loc, scale_tril):
    def mvn(idx, generators):
        z = _draws("normal", idx, loc.shape[1:], generators)
        return loc[idx] + (scale_tril[idx] @ z.unsqueeze(-1)).squeeze(-1)

    return mvn


# --------------------------------------------------------------------------------------------
# Hints of the families without a NumPy log-density
# --------------------------------------------------------------------------------------------
def _zeros(v):
    return np.zeros_like(np.asarray(v, dtype=np.float64))


def _gamma_hints(concentration, rate):
    mode = np.maximum(concentration - 1.0, 0.0) / rate
    return mode, np.sqrt(concentration) / rate, _zeros(mode)[..., None]


def _beta_hints(concentration1, concentration0):
    a, b = np.asarray(concentration1, dtype=np.float64), np.asarray(concentration0, dtype=np.float64)
    m = a / (a + b)
    s = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return m, s, np.stack(np.broadcast_arrays(_zeros(m), _zeros(m) + 1.0), -1)


def _kumaraswamy_hints(concentration1, concentration0):
    # moments E X^k = b B(1 + k/a, b) (Kumaraswamy 1980)
    a, b = np.asarray(concentration1, dtype=np.float64), np.asarray(concentration0, dtype=np.float64)
    m1, m2 = b * beta_fn(1 + 1 / a, b), b * beta_fn(1 + 2 / a, b)
    return m1, np.sqrt(np.maximum(m2 - m1 * m1, 0.0)), np.stack(np.broadcast_arrays(_zeros(m1), _zeros(m1) + 1.0), -1)


def _half_hints(scale):
    return _zeros(scale), scale, _zeros(scale)[..., None]


def _location_scale(loc, scale):
    return loc, scale, None


def _cast_uniform(d: td.Uniform, cast: Callable) -> td.Uniform:
    return td.Uniform(cast(d.low), cast(d.high), validate_args=False)


def _cast_mvn(d: td.MultivariateNormal, cast: Callable) -> td.MultivariateNormal:
    return td.MultivariateNormal(cast(d.loc), scale_tril=cast(d.scale_tril), validate_args=False)


def _t(*v):
    return [torch.tensor(x, dtype=_F64) for x in v]


def _stats():
    from scipy import stats

    return stats


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
for _entry in [
    Family(td.Normal, ("loc", "scale"), ("scale",), log_prob=_normal, hints=_location_scale,
           sampler=_normal_sampler, scipy=lambda loc, scale: _stats().norm(loc, scale),
           examples=lambda: [td.Normal(*_t(0.3, 1.7)), td.Normal(*_t([-1.0, 2.0], [0.5, 3.0]))]),
    Family(td.Laplace, ("loc", "scale"), ("scale",), log_prob=_laplace,
           hints=lambda loc, scale: (loc, scale, np.asarray(loc)[..., None]),
           sampler=_laplace_sampler, scipy=lambda loc, scale: _stats().laplace(loc, scale),
           examples=lambda: [td.Laplace(*_t(-0.4, 0.8))]),
    Family(td.Cauchy, ("loc", "scale"), ("scale",), log_prob=_cauchy, hints=_location_scale,
           scipy=lambda loc, scale: _stats().cauchy(loc, scale), examples=lambda: [td.Cauchy(*_t(1.0, 0.5))]),
    Family(td.StudentT, ("df", "loc", "scale"), ("df", "scale"), log_prob=_student_t,
           hints=lambda df, loc, scale: (loc, scale, None),
           scipy=lambda df, loc, scale: _stats().t(df, loc, scale),
           examples=lambda: [td.StudentT(*_t(3.0, 0.2, 1.5)), td.StudentT(*_t(0.7, 0.0, 1.0))]),
    Family(td.Uniform, ("low", "high"), (), check=_uniform_check, log_prob=_uniform,
           hints=lambda low, high: ((low + high) / 2, (high - low) / 2, np.stack(np.broadcast_arrays(low, high), -1)),
           bounds=lambda low, high: (low, high), sampler=_uniform_sampler,
           scipy=lambda low, high: _stats().uniform(low, high - low), rebuild=_cast_uniform,
           examples=lambda: [td.Uniform(*_t(-1.0, 2.5))]),
    Family(td.MultivariateNormal, ("loc", "scale_tril"), sampler=_mvn_sampler, rebuild=_cast_mvn,
           examples=lambda: [td.MultivariateNormal(*_t([0.5, -1.0]), scale_tril=torch.tensor(
               [[1.0, 0.0], [0.6, 0.8]], dtype=_F64))]),
    Family(td.Gumbel, ("loc", "scale"), ("scale",), hints=_location_scale,
           scipy=lambda loc, scale: _stats().gumbel_r(loc, scale), examples=lambda: [td.Gumbel(*_t(1.0, 2.0))]),
    Family(td.Gamma, ("concentration", "rate"), ("concentration", "rate"), hints=_gamma_hints,
           scipy=lambda concentration, rate: _stats().gamma(concentration, scale=1.0 / rate),
           examples=lambda: [td.Gamma(*_t(2.5, 1.5)), td.Gamma(*_t(0.6, 2.0))]),
    Family(td.Chi2, ("concentration", "rate"), ("concentration", "rate"), hints=_gamma_hints,
           scipy=lambda concentration, rate: _stats().gamma(concentration, scale=1.0 / rate),
           examples=lambda: [td.Chi2(*_t(4.0))]),
    Family(td.Exponential, ("rate",), ("rate",), hints=lambda rate: (_zeros(rate), 1.0 / rate, _zeros(rate)[..., None]),
           scipy=lambda rate: _stats().expon(scale=1.0 / rate), examples=lambda: [td.Exponential(*_t(0.7))]),
    Family(td.Beta, ("concentration1", "concentration0"), ("concentration1", "concentration0"), hints=_beta_hints,
           scipy=lambda concentration1, concentration0: _stats().beta(concentration1, concentration0),
           examples=lambda: [td.Beta(*_t(2.0, 3.5))]),
    Family(td.Kumaraswamy, ("concentration1", "concentration0"), ("concentration1", "concentration0"),
           hints=_kumaraswamy_hints, examples=lambda: [td.Kumaraswamy(*_t(2.0, 3.0))]),
    Family(td.HalfNormal, ("scale",), ("scale",), hints=_half_hints,
           scipy=lambda scale: _stats().halfnorm(scale=scale), examples=lambda: [td.HalfNormal(*_t(1.3))]),
    Family(td.HalfCauchy, ("scale",), ("scale",), hints=_half_hints,
           scipy=lambda scale: _stats().halfcauchy(scale=scale), examples=lambda: [td.HalfCauchy(*_t(0.9))]),
    # hints from the transformed Normal (gan_theory.densities.hints), the scipy equivalent here
    Family(td.LogNormal, ("loc", "scale"), ("scale",),
           scipy=lambda loc, scale: _stats().lognorm(scale, scale=np.exp(loc)),
           examples=lambda: [td.LogNormal(*_t(0.2, 0.6))]),
]:
    register_family(_entry)

# The combinators: their facts come from their parts (:mod:`.fast`, :mod:`.hints`,
# :mod:`.sampling`, :mod:`.torchconv`); listed so that the table's self-test walks them too.
register_family(Family(td.MixtureSameFamily, examples=lambda: [td.MixtureSameFamily(
    td.Categorical(probs=torch.tensor([0.3, 0.7], dtype=_F64)), td.Normal(*_t([-2.0, 1.5], [0.5, 1.0])))]))
register_family(Family(td.Independent, examples=lambda: [td.Independent(td.Normal(*_t([0.0, 1.0], [1.0, 0.5])), 1),
                                                         td.Independent(td.Uniform(*_t([0.0, -1.0], [1.0, 2.0])), 1)]))

#: The generic entry: any other ``torch.distributions`` class (torch's ``log_prob``; hints from
#: the mean and standard deviation, the quantile function or samples; sampling through the
#: inverse CDF or the forked global generator; rebuilt from ``arg_constraints``).
GENERIC = register_family(Family(td.Distribution, examples=lambda: [td.FisherSnedecor(*_t(5.0, 12.0))]))
