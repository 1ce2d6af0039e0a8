"""What the engine accepts as a density, how it reads it, and what it rejects.

Expected values: ``log_prob`` of the same torch distribution in float64 (for the NumPy fast
paths), ``scipy.stats`` logpdf (for frozen scipy distributions); error messages must name the
argument.
"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy import stats

import gan_theory as gt
from gan_theory.densities import as_density, as_pair

F = torch.float64


def t(x):
    return torch.as_tensor(x, dtype=F)


FAST = [
    td.Normal(t(0.3), t(1.7)),
    td.Laplace(t(-1.0), t(0.5)),
    td.Cauchy(t(2.0), t(0.3)),
    td.StudentT(t(2.5), t(0.1), t(2.0)),
    td.Uniform(t(-1.0), t(3.0)),
    td.MixtureSameFamily(td.Categorical(probs=t([0.2, 0.3, 0.5])), td.Normal(t([-2.0, 0.0, 5.0]), t([0.1, 1.0, 2.0]))),
    td.MixtureSameFamily(td.Categorical(probs=t([0.5, 0.5])), td.Laplace(t([-1.0, 1.0]), t([0.5, 0.5]))),
    td.MultivariateNormal(t([0.5, -1.0]), covariance_matrix=t([[2.0, 0.7], [0.7, 1.0]])),
    td.Independent(td.Normal(t([0.0, 1.0]), t([1.0, 0.2])), 1),
    td.Independent(td.Uniform(t([-1.0, 0.0]), t([1.0, 2.0])), 1),
    gt.toys.ring(8, 2.0, 0.05),
    gt.toys.grid(3, 2.0, 0.1),
    td.MixtureSameFamily(td.Categorical(probs=t([0.4, 0.6])),
                         td.MultivariateNormal(t([[0.0, 0.0], [2.0, 1.0]]), covariance_matrix=t([[[1.0, 0.5], [0.5, 1.0]],
                                                                                              [[0.3, 0.0], [0.0, 2.0]]]))),
]


@pytest.mark.parametrize("dist", FAST, ids=lambda d: type(d).__name__)
def test_fast_log_density_matches_torch(dist):
    d = as_density(dist)
    assert d.normalised
    gen = torch.Generator().manual_seed(1)
    x = 4.0 * torch.randn((500,) + tuple(dist.event_shape), generator=gen, dtype=F)
    ours = d.log_prob(x.numpy())
    support = dist.support.check(x) if not isinstance(dist, td.MixtureSameFamily) else torch.ones(500, dtype=torch.bool)
    ref = torch.where(support, dist.log_prob(torch.where(support.reshape(support.shape + (1,) * len(dist.event_shape)), x, dist.mean)),
                      -math.inf).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-13)


def test_float32_parameters_are_read_in_float64():
    d32 = td.Normal(torch.tensor(0.1), torch.tensor(0.3))  # float32 parameters
    d = as_density(d32)
    x = np.array([0.7])
    # the float64 density of the float32-rounded parameters, not a float32 evaluation
    ref = stats.norm(float(torch.tensor(0.1)), float(torch.tensor(0.3))).logpdf(x)
    np.testing.assert_allclose(d.log_prob(x), ref, rtol=1e-15)


def test_torch_fallback_families_and_support():
    g = as_density(td.Gamma(t(2.0), t(3.0)))
    assert not g.normalised
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    lp = g.log_prob(x)
    assert lp[0] == -np.inf  # off the support: -inf, not NaN or an error
    np.testing.assert_allclose(lp[2:], stats.gamma(2.0, scale=1 / 3.0).logpdf(x[2:]), rtol=1e-14)


def test_scipy_frozen_is_accepted():
    d = as_density(stats.t(3.0, loc=1.0, scale=2.0), "p_g")
    x = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(d.log_prob(x), stats.t(3.0, loc=1.0, scale=2.0).logpdf(x), rtol=1e-15)
    assert d.dim == 1 and d.name == "p_g"
    r = gt.jsd(stats.norm(0, 1), td.Normal(t(0.0), t(1.0)))
    assert r.value == pytest.approx(0.0, abs=1e-15)


def test_toy_names_are_accepted():
    assert as_density("ring").dim == 2
    assert as_density("gaussian").dim == 1


@pytest.mark.parametrize("bad, error, match", [
    ([0.0, 1.0], TypeError, "p_data: expected a density"),
    (td.Bernoulli(t(0.5)), TypeError, "p_data: Bernoulli is a discrete distribution"),
    (stats.poisson(3.0), TypeError, "p_data: expected a continuous scipy.stats distribution"),
    (stats.multivariate_normal([0, 0]), TypeError, "p_data: multivariate scipy.stats"),
    (td.MultivariateNormal(torch.zeros(3, dtype=F), torch.eye(3, dtype=F)), ValueError, r"p_data: expected event_shape \(\) .* got event_shape \(3,\)"),
    (td.Normal(torch.zeros(3, dtype=F), 1.0), ValueError, r"p_data: expected a single density \(batch_shape \(\)\), got batch_shape \(3,\)"),
    (td.Normal(t(math.inf), t(1.0)), ValueError, "p_data: parameter 'loc' of Normal must be finite, found inf"),
    (td.Normal(t(math.nan), t(1.0), validate_args=False), ValueError, "p_data: parameter 'loc' of Normal must be finite, found nan"),
    (td.Normal(t(0.0), t(-1.0), validate_args=False), ValueError, "p_data: parameter 'scale' of Normal must be positive"),
    (td.Gamma(t(math.nan), t(1.0), validate_args=False), ValueError, "p_data: parameter 'concentration' of Gamma must be finite"),
    (td.Gamma(t(-1.0), t(1.0), validate_args=False), ValueError, "p_data: parameter 'concentration' of Gamma must satisfy"),
    (td.Uniform(t(1.0), t(0.0), validate_args=False), ValueError, "low < high"),
    (td.MixtureSameFamily(td.Categorical(probs=t([0.5, 0.5])), td.Normal(t([0.0, math.inf]), t([1.0, 1.0]))),
     ValueError, "p_data: parameter 'component_distribution.loc' of Normal must be finite"),
    (stats.norm(math.nan, 1.0), ValueError, "p_data: parameters of scipy.stats.norm must be finite"),
])
def test_bad_densities_get_clear_errors(bad, error, match):
    with pytest.raises(error, match=match):
        as_density(bad, "p_data")


def test_mismatched_dimensions_are_rejected():
    with pytest.raises(ValueError, match="p_data and p_g: densities must have the same dimension; p_data is 1-D, p_g is 2-D"):
        as_pair(td.Normal(t(0.0), t(1.0)), gt.toys.ring(), ("p_data", "p_g"))
    with pytest.raises(ValueError, match="same dimension"):
        gt.jsd(td.Normal(t(0.0), t(1.0)), gt.toys.ring())


def test_unknown_toy_name():
    with pytest.raises(ValueError, match="target: unknown toy 'rnig'"):
        as_density("rnig")


class Unnormalised(td.Distribution):
    """A Normal whose log-density is off by log 2 (integrates to 2)."""

    arg_constraints = {}
    support = td.constraints.real

    def __init__(self):
        super().__init__(validate_args=False)

    @property
    def mean(self):
        return t(0.0)

    @property
    def stddev(self):
        return t(1.0)

    def log_prob(self, x):
        return td.Normal(t(0.0), t(1.0)).log_prob(x) + math.log(2.0)


def test_unnormalised_density_is_rejected_by_the_mass_check():
    with pytest.raises(ValueError, match="p: the density integrates to 2"):
        gt.jsd(Unnormalised(), td.Normal(t(0.0), t(1.0)))


def test_generic_family_goes_through_log_prob_and_mass_check():
    # LogNormal has no fast path: hints come from its transform, the mass is checked.
    d = td.LogNormal(t(0.0), t(0.5))
    r = gt.kl(d, d, method="quadrature")
    assert r.value == pytest.approx(0.0, abs=1e-14)
    # Gumbel: registered hints; JSD with itself is exactly 0
    assert gt.jsd(td.Gumbel(t(1.0), t(2.0)), td.Gumbel(t(1.0), t(2.0))).value == 0.0
    # which is blind (the integrand is exactly 0): a near-equal pair through the same path,
    # against the defining integral in mpmath at 40 digits
    import mpmath as mp

    def lg(mu, beta):
        mu, beta = mp.mpf(mu), mp.mpf(beta)
        return lambda x: -(x - mu) / beta - mp.exp(-(x - mu) / beta) - mp.log(beta)

    with mp.workdps(40):
        lp, lq = lg(1, 2), lg("1.001", 2)

        def f(x):
            a, b = mp.exp(lp(x)), mp.exp(lq(x))
            lm = mp.log((a + b) / 2)
            return (a * (lp(x) - lm) + b * (lq(x) - lm)) / 2

        # the left tail below -12 holds < exp(-e^6.5) of mass (the density is exp(-x' - e^{-x'}))
        ref = float(mp.quad(f, [-12, 1, 10, 40, mp.inf]))
    r = gt.jsd(td.Gumbel(t(1.0), t(2.0)), td.Gumbel(t(1.001), t(2.0)), atol=1e-14, rtol=0.0)
    assert ref > 1e-8 and abs(r.value - ref) <= r.error + 1e-20 and r.error <= 1e-3 * ref, (r, ref)


def test_float32_only_density_warns_and_limits_accuracy():
    class Float32Normal(Unnormalised):
        def log_prob(self, x):
            return td.Normal(torch.tensor(0.0), torch.tensor(1.0)).log_prob(x.float())

    with pytest.warns(UserWarning, match="float32"):
        d = as_density(Float32Normal())
    assert d.eps == np.finfo(np.float32).eps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(gt.AccuracyError, match="floating-point error of the integrand alone .* loosen atol/rtol"):
            gt.jsd(Float32Normal(), td.Normal(t(0.1), t(1.0)))
        r = gt.jsd(Float32Normal(), td.Normal(t(0.1), t(1.0)), atol=1e-5, rtol=1e-5)
    ref = gt.jsd(td.Normal(t(0.0), t(1.0)), td.Normal(t(0.1), t(1.0)))
    assert abs(r.value - ref.value) <= r.error


def test_sampling_is_reproducible_and_leaves_global_rng_alone():
    d = as_density(gt.toys.ring())
    state = torch.random.get_rng_state()
    a = d.sample(1000, torch.Generator().manual_seed(5))
    b = d.sample(1000, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.shape == (1000, 2) and a.dtype == F
    assert torch.equal(state, torch.random.get_rng_state())
    s = as_density(stats.norm(0, 1)).sample(10, torch.Generator().manual_seed(1))
    assert torch.equal(s, as_density(stats.norm(0, 1)).sample(10, torch.Generator().manual_seed(1)))
