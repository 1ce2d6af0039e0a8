"""Every entry of the family table (gan_theory/densities/families.py), walked with its examples.

For each registered family and each of its example distributions (float64):

* the NumPy log-density (where the entry has one) against torch's ``log_prob``;
* the scipy equivalent (where it has one) against torch's ``log_prob``;
* the sampler the engine uses for it (:func:`gan_theory.densities.sampler`: the table's own, or
  the generic route) against the distribution's CDF, by a Kolmogorov-Smirnov test at a stated
  false-alarm rate (per check, 1e-3; the seeds are fixed, so the outcome is deterministic);
* the hints (:attr:`Density.hints`) against the mass they claim: the boxes of 8 scales around
  the centres hold at least 80% of the mass (a Student-t with 0.7 degrees of freedom: 86%), a
  scale is not 16 times too wide (the box of an eighth of a scale holds at most half of it),
  the support box is the support, and the Laplace cusp is a break;
* the float64 rebuild gives the same log-density.

The CDFs come from scipy.stats (independent of the table's entries: written out here), or from
closed forms where scipy has none. A new entry without examples fails the first test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy import stats

from gan_theory.densities import FAMILIES, GENERIC, as_density, read_params, rebuild, sampler

F64 = torch.float64
#: Per-check false-alarm rate of the Kolmogorov-Smirnov tests of the samplers.
ALPHA = 1e-3
N_SAMPLES = 4000


def _v(t):
    return t.detach().to(F64).numpy()


def reference_cdf(d: td.Distribution):
    """The CDF of a 1-D example, written independently of the table (scipy.stats or a closed
    form); for a 2-D Gaussian, the CDFs of its two marginals."""
    t = type(d)
    if t is td.Normal:
        return stats.norm(_v(d.loc), _v(d.scale)).cdf
    if t is td.Laplace:
        return stats.laplace(_v(d.loc), _v(d.scale)).cdf
    if t is td.Cauchy:
        return stats.cauchy(_v(d.loc), _v(d.scale)).cdf
    if t is td.StudentT:
        return stats.t(_v(d.df), _v(d.loc), _v(d.scale)).cdf
    if t is td.Uniform:
        return stats.uniform(_v(d.low), _v(d.high) - _v(d.low)).cdf
    if t is td.Gumbel:
        return stats.gumbel_r(_v(d.loc), _v(d.scale)).cdf
    if t in (td.Gamma, td.Chi2):
        return stats.gamma(_v(d.concentration), scale=1 / _v(d.rate)).cdf
    if t is td.Exponential:
        return stats.expon(scale=1 / _v(d.rate)).cdf
    if t is td.Beta:
        return stats.beta(_v(d.concentration1), _v(d.concentration0)).cdf
    if t is td.Kumaraswamy:  # F(x) = 1 - (1 - x^a)^b (Kumaraswamy 1980)
        a, b = float(d.concentration1), float(d.concentration0)
        return lambda x: 1 - (1 - np.clip(x, 0, 1) ** a) ** b
    if t is td.HalfNormal:
        return stats.halfnorm(scale=_v(d.scale)).cdf
    if t is td.HalfCauchy:
        return stats.halfcauchy(scale=_v(d.scale)).cdf
    if t is td.LogNormal:
        return stats.lognorm(_v(d.scale), scale=np.exp(_v(d.loc))).cdf
    if t is td.FisherSnedecor:
        return stats.f(_v(d.df1), _v(d.df2)).cdf
    if t is td.MultivariateNormal:
        sd = np.sqrt(np.diag(_v(d.covariance_matrix)))
        return [stats.norm(_v(d.loc)[j], sd[j]).cdf for j in range(2)]
    if t is td.MixtureSameFamily and type(d.component_distribution) is td.Normal:
        w, m, s = _v(d.mixture_distribution.probs), _v(d.component_distribution.loc), _v(d.component_distribution.scale)
        return lambda x: np.sum(w * stats.norm.cdf((np.asarray(x)[..., None] - m) / s), axis=-1)
    if t is td.Independent:  # the marginals of a product of two
        return [reference_cdf(type(d.base_dist)(*[getattr(d.base_dist, k)[j] for k in d.base_dist.arg_constraints]))
                for j in range(2)]
    raise AssertionError(f"no reference CDF for {t.__name__}: add one to tests/test_families.py")


def cases():
    out = []
    for t, fam in FAMILIES.items():
        if fam.examples is None:
            continue
        for i, d in enumerate(fam.examples()):
            out.append(pytest.param(fam, d, id=f"{t.__name__}-{i}"))
    return out


CASES = cases()


def inside_points(d: td.Distribution, n: int = 64) -> torch.Tensor:
    """Points inside the support of an example: evenly spaced strictly between the smallest and
    largest of 4n samples (1-D; over all elements of a batch), or n samples (2-D)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        x = d.sample((n if d.event_shape == (2,) else 4 * n,)).to(F64)
    if d.event_shape == (2,):
        return x
    return torch.linspace(float(x.min()), float(x.max()), n, dtype=F64)[1:-1]


def test_every_entry_has_examples():
    # The walk below covers every entry but the user's own (the generic one included).
    missing = [t.__name__ for t, fam in FAMILIES.items() if fam.examples is None and fam.hints_of is None]
    assert not missing, missing
    assert GENERIC.type is td.Distribution and FAMILIES[td.Distribution] is GENERIC


@pytest.mark.parametrize("fam, d", [c for c in CASES if c.values[0].log_prob is not None])
def test_numpy_log_density_matches_torch(fam, d):
    x = inside_points(d)
    xb = x.unsqueeze(-1) if d.batch_shape else x  # (n, 1) against a batch's (B,) parameters
    ours = fam.log_prob(**read_params(d, fam, "p"))(_v(xb))
    ref = _v(d.log_prob(xb))
    assert ours.shape == ref.shape
    assert np.all(np.abs(ours - ref) <= 1e-13 * (1 + np.abs(ref))), np.max(np.abs(ours - ref))


@pytest.mark.parametrize("fam, d", [c for c in CASES if c.values[0].scipy is not None])
def test_scipy_equivalent_matches_torch(fam, d):
    x = inside_points(d)
    xb = x.unsqueeze(-1) if d.batch_shape else x
    frozen = fam.scipy(**{k: _v(getattr(d, k)) for k in fam.params})
    ours = frozen.logpdf(_v(xb))
    ref = _v(d.log_prob(xb))
    assert np.all(np.abs(ours - ref) <= 1e-11 * (1 + np.abs(ref))), np.max(np.abs(ours - ref))


@pytest.mark.parametrize("fam, d", [c for c in CASES if not c.values[1].batch_shape])
def test_sampler_against_the_distribution(fam, d):
    # KS test of the engine's sampler for this family (the table's own, or the generic route)
    # against the reference CDF, at false-alarm rate ALPHA; fixed seed.
    x = _v(sampler(as_density(d))(N_SAMPLES, torch.Generator().manual_seed(20261201)))
    cdf = reference_cdf(d)
    for j, c in enumerate(cdf if isinstance(cdf, list) else [cdf]):
        col = x[:, j] if x.ndim == 2 else x
        p = stats.kstest(col, c).pvalue
        assert p > ALPHA, (type(d).__name__, j, p)


@pytest.mark.parametrize("fam, d", [c for c in CASES if not c.values[1].batch_shape])
def test_hints_hold_the_mass_they_claim(fam, d):
    h = as_density(d).hints
    cdf = reference_cdf(d)
    cdfs = cdf if isinstance(cdf, list) else [cdf]
    for j, c in enumerate(cdfs):
        lo, hi = h.centers[:, j] - 8 * h.scales[:, j], h.centers[:, j] + 8 * h.scales[:, j]
        # the boxes of 8 scales around the centres hold at least 80% of the mass (Cauchy: 92%)
        mass, end = 0.0, -np.inf
        for a, b in sorted(zip(lo, hi)):  # the mass of their union
            if b > end:
                mass += float(c(b) - c(max(a, end)))
                end = b
        assert mass >= 0.8, (type(d).__name__, j, mass)
        # and no scale is 16 times too wide: an eighth of a scale around a centre holds at most half
        near = max(float(c(m + s / 8) - c(m - s / 8)) for m, s in zip(h.centers[:, j], h.scales[:, j]))
        assert near <= 0.5, (type(d).__name__, j, near)
        # the support box is the support: all the mass inside, none of it beyond a finite end
        assert c(h.lower[j]) == 0.0 and c(h.upper[j]) == 1.0, (type(d).__name__, j, h.lower[j], h.upper[j])
        for end, step in ((h.lower[j], 1e-3), (h.upper[j], -1e-3)):
            if math.isfinite(end):
                assert 0.0 < c(end + step * (1 + abs(end))) < 1.0, (type(d).__name__, j, end)
    if type(d) is td.Laplace:  # the cusp
        assert np.any(h.breaks[0] == float(d.loc))


@pytest.mark.parametrize("fam, d", CASES)
def test_float64_rebuild_keeps_the_density(fam, d):
    x = inside_points(d)
    d32 = rebuild(d, torch.float32)
    back = rebuild(d32, F64)
    for v in (back.mean,):
        assert v.dtype == F64
    # parameters rounded to float32 and back: the log-density within float32 rounding
    ref = _v(d.log_prob(x.unsqueeze(-1) if d.batch_shape else x))
    got = _v(back.log_prob(x.unsqueeze(-1) if d.batch_shape else x))
    assert np.all(np.abs(got - ref) <= 1e-5 * (1 + np.abs(ref))), np.max(np.abs(got - ref))
    same = _v(rebuild(d, F64).log_prob(x.unsqueeze(-1) if d.batch_shape else x))
    assert np.array_equal(same, ref)


def test_register_family_for_a_users_distribution():
    # A user's class, registered once with its NumPy log-density and hints: as_density takes
    # the table's fast path (normalised, the stated hints), and the JSD against itself shifted
    # matches the same pair written as torch Normals (closed form not needed: both quadrature).
    from gan_theory.densities import Family, register_family
    import gan_theory as gt

    class MyNormal(td.Normal):  # a subclass: the parent's entry is not used for it (exact types)
        pass

    with pytest.raises(TypeError, match="entry"):
        register_family("not a family")
    fam = FAMILIES[td.Normal]
    try:
        register_family(Family(MyNormal, fam.params, fam.positive, log_prob=fam.log_prob, hints=fam.hints))
        d = as_density(MyNormal(*[torch.tensor(v, dtype=F64) for v in (0.5, 2.0)]))
        assert d.normalised and d.hints.centers[0, 0] == 0.5 and d.hints.scales[0, 0] == 2.0
        mine = gt.jsd(MyNormal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64)),
                      MyNormal(torch.tensor(1.0, dtype=F64), torch.tensor(0.3, dtype=F64)))
        ref = gt.jsd(td.Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64)),
                     td.Normal(torch.tensor(1.0, dtype=F64), torch.tensor(0.3, dtype=F64)))
        assert mine.value == ref.value and mine.error == ref.error
    finally:
        FAMILIES.pop(MyNormal, None)
    # unregistered, the subclass goes the generic way (torch's log_prob, its mass checked)
    assert not as_density(MyNormal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))).normalised
