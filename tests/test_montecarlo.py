"""Monte Carlo estimators against quadrature, with CLT intervals and fixed seeds.

Each check asks the quadrature value to lie in the estimator's interval at confidence
1 - 1e-4 (z = 3.89): a false-alarm rate of 1e-4 per check for a random seed. The seeds are
fixed, so the outcome is the same on every run.
"""

import math

import pytest
import torch
import torch.distributions as td

import gan_theory as gt
from gan_theory import montecarlo as mc

F = torch.float64
CONF = 1 - 1e-4


def gen(seed):
    return torch.Generator().manual_seed(seed)


PAIRS = [(td.Normal(torch.tensor(0.0, dtype=F), torch.tensor(1.0, dtype=F)), gt.toys.mixture2()),
         (gt.toys.ring(std=0.1), gt.toys.correlated_gaussian(0.0, 1.5))]


@pytest.mark.parametrize("p,q", PAIRS, ids=["1d", "2d"])
def test_mc_agrees_with_quadrature(p, q):
    for name, quad in [("jsd", gt.jsd), ("kl", gt.kl), ("criterion", gt.criterion)]:
        est = getattr(mc, name)(p, q, n=20000, generator=gen(1), confidence=CONF)
        exact = quad(p, q)
        lo, hi = est.interval
        assert lo - exact.error <= exact.value <= hi + exact.error, (name, est, exact)
        assert est.stderr < 0.05  # 20000 samples: a few hundredths at most for these pairs


def test_value_function_from_samples_and_from_densities():
    p, q = PAIRS[0]
    d = gt.optimal_discriminator(p, q)
    exact = gt.value_function(d, p, q)
    est = mc.value_function(d.logits, p, q, logits=True, n=20000, generator=gen(2), confidence=CONF)
    assert est.interval[0] <= exact.value <= est.interval[1]
    xs = gt.as_density(p).sample(20000, gen(3))
    ys = gt.as_density(q).sample(20000, gen(4))
    est2 = mc.value_function(d, xs, ys, confidence=CONF)
    assert est2.interval[0] <= exact.value <= est2.interval[1]


def test_error_shrinks_like_one_over_sqrt_n():
    p, q = PAIRS[0]
    small = mc.jsd(p, q, n=2000, generator=gen(5))
    large = mc.jsd(p, q, n=200000, generator=gen(5))
    assert large.stderr == pytest.approx(small.stderr / 10, rel=0.2)


def test_same_seed_same_result_bit_for_bit_and_global_rng_untouched():
    p, q = PAIRS[1]
    state = torch.random.get_rng_state()
    a = mc.jsd(p, q, n=5000, generator=gen(7))
    b = mc.jsd(p, q, n=5000, generator=gen(7))
    assert a.value == b.value and a.stderr == b.stderr
    assert torch.equal(state, torch.random.get_rng_state())
    assert mc.jsd(p, q, n=5000, generator=gen(8)).value != a.value


def test_interval_and_z():
    r = gt.MonteCarloResult(1.0, 0.1, 100, confidence=0.95)
    assert r.z == pytest.approx(1.959963984540054, rel=1e-12)
    assert r.interval == pytest.approx((1.0 - 0.1959963984540054, 1.0 + 0.1959963984540054))
    assert float(r) == 1.0


def test_bad_arguments():
    p, q = PAIRS[0]
    with pytest.raises(TypeError, match="generator: expected a torch.Generator"):
        mc.jsd(p, q, n=100, generator=0)
    with pytest.raises(ValueError, match="n: expected an integer >= 2, got 1"):
        mc.jsd(p, q, n=1, generator=gen(0))
    with pytest.raises(ValueError, match="confidence: expected a number < 1.0"):
        mc.jsd(p, q, n=100, generator=gen(0), confidence=1.0)
    with pytest.raises(ValueError, match="n, generator: both are needed"):
        mc.value_function(lambda x: x * 0 + 0.5, p, q)
    assert math.isfinite(mc.kl(p, q, n=100, generator=gen(0)).value)
