"""Hostile but fair inputs (issue 9): each case is a right number or a clear error.

Expected numbers come from closed forms evaluated in mpmath at 40 digits (said at each test),
expected errors from the error type and a fragment of the message naming the argument. Every
test here failed on the code before the fixes of issue 9 (checked against commit 53f467a),
except the one marked as a guard (a finite case the new checks must leave alone).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
import torch.distributions as td
from torch.distributions import constraints

import gan_theory as gt
from gan_theory import montecarlo, toys

F = torch.float64
mpmath.mp.dps = 40


def _n(loc: float, scale: float) -> td.Normal:
    return td.Normal(torch.tensor(loc, dtype=F), torch.tensor(scale, dtype=F))


def _kl_normal_mp(mp_: float, sp: float, mq: float, sq: float) -> mpmath.mpf:
    """KL(N(mp, sp^2) || N(mq, sq^2)) = log(sq/sp) + (sp^2 + (mp - mq)^2) / (2 sq^2) - 1/2, in mpmath."""
    mp_, sp, mq, sq = (mpmath.mpf(v) for v in (mp_, sp, mq, sq))
    return mpmath.log(sq / sp) + (sp ** 2 + (mp_ - mq) ** 2) / (2 * sq ** 2) - mpmath.mpf(1) / 2


def _chi2_normal_mp(mp_: float, sp: float, mq: float, sq: float) -> mpmath.mpf:
    """Pearson chi^2(N(mp, sp^2) || N(mq, sq^2)), in mpmath:
    sq^2 / (sp sqrt(2 sq^2 - sp^2)) e^{(mp - mq)^2 / (2 sq^2 - sp^2)} - 1."""
    with mpmath.workdps(40):  # whatever another test module left mp.dps at (the - 1 cancels)
        mp_, sp, mq, sq = (mpmath.mpf(v) for v in (mp_, sp, mq, sq))
        c = 2 * sq ** 2 - sp ** 2
        return +(sq ** 2 / (sp * mpmath.sqrt(c)) * mpmath.exp((mp_ - mq) ** 2 / c) - 1)


def _within(result, exact) -> bool:
    return abs(mpmath.mpf(float(result.value)) - exact) <= result.error


# --- 2. closed-form Gaussian KL when sigma_p << sigma_q ---------------------------------------

@pytest.mark.parametrize("sp,sq", [(1e-12, 1.0), (1e-200, 1.0), (1e-300, 1e300)])
def test_kl_normal_closed_form_at_extreme_scale_ratios(sp, sq):
    # expected: the closed form in mpmath (40 digits); the old log1p((sp - sq)/sq) lost s
    r = gt.kl(_n(0.0, sp), _n(0.5 * sq, sq))
    assert r.method == "closed form"
    assert _within(r, _kl_normal_mp(0.0, sp, 0.5 * sq, sq)), (r, _kl_normal_mp(0.0, sp, 0.5 * sq, sq))


def test_kl_independent_normal_tiny_scale():
    # expected: the sum of the two per-axis Normal KLs, each in mpmath
    p = td.Independent(td.Normal(torch.zeros(2, dtype=F), torch.tensor([1e-12, 1.0], dtype=F)), 1)
    q = td.Independent(td.Normal(torch.zeros(2, dtype=F), torch.tensor([1.0, 2.0], dtype=F)), 1)
    r = gt.kl(p, q)
    exact = _kl_normal_mp(0, 1e-12, 0, 1) + _kl_normal_mp(0, 1, 0, 2)
    assert _within(r, exact), (r, exact)


def test_kl_mvn_with_tiny_eigenvalue_is_finite_and_right():
    # covariance diag(1e-24, 1) against the identity: KL = 27.1310... (was inf +- inf); mpmath
    # on the Cholesky factors torch stores: [tr(Sq^-1 Sp) - 2 - log det Sp / det Sq] / 2
    p = td.MultivariateNormal(torch.zeros(2, dtype=F), torch.diag(torch.tensor([1e-24, 1.0], dtype=F)))
    q = td.MultivariateNormal(torch.zeros(2, dtype=F), torch.eye(2, dtype=F))
    r = gt.kl(p, q)
    lp = mpmath.matrix(p.scale_tril.tolist())
    sp = lp * lp.T
    exact = (sp[0, 0] + sp[1, 1] - 2 - mpmath.log(mpmath.det(sp))) / 2
    assert math.isfinite(r.value) and _within(r, exact), (r, exact)


def test_kl_normal_overflow_raises_with_its_log():
    # KL(N(0, 1e200) || N(0, 1e-200)) = e^{2 log(1e400)}/2 - ...: finite, beyond float64
    with pytest.raises(gt.AccuracyError, match="finite but exceeds the largest float64") as info:
        gt.kl(_n(0.0, 1e200), _n(0.0, 1e-200))
    exact = mpmath.log(_kl_normal_mp(0, 1e200, 0, 1e-200))
    assert abs(info.value.log_estimate - exact) <= 1e-12 * abs(exact)


# --- 6. tolerances of closed forms --------------------------------------------------------------

def test_closed_form_honours_an_unreachable_tolerance():
    p, q = _n(0.0, 1.0), _n(1.0, 1.0)
    with pytest.raises(gt.AccuracyError, match="atol, rtol: the closed form for KL has error bound"):
        gt.kl(p, q, method="closed_form", atol=1e-300, rtol=1e-300)
    with pytest.raises(gt.AccuracyError):  # "auto" falls back to quadrature, which cannot either
        gt.kl(p, q, atol=1e-300, rtol=1e-300)
    with pytest.raises(gt.AccuracyError, match="atol, rtol"):
        gt.wasserstein1(p, _n(1.0, 2.0), method="closed_form", atol=1e-300, rtol=1e-300)


# --- 7. overflow is not infinity ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["auto", "quadrature"])
def test_pearson_overflow_is_an_error_with_the_log(method):
    # chi^2(N(0,1) || N(m,1)) = e^{m^2} - 1 (mpmath), finite; m = 30 gives e^900
    for m in (30.0, 26.7):
        with pytest.raises(gt.AccuracyError, match="finite but exceeds the largest float64") as info:
            gt.f_divergence(_n(0.0, 1.0), _n(m, 1.0), "pearson", method=method)
        exact = mpmath.log(_chi2_normal_mp(0, 1, m, 1))
        assert abs(info.value.log_estimate - exact) <= 1e-12 * exact
        with pytest.raises(gt.AccuracyError, match="finite but exceeds"):
            gt.f_divergence(_n(m, 1.0), _n(0.0, 1.0), "neyman", method=method)
    # a truly infinite chi^2 (2 s_q^2 < s_p^2; heavy tails) stays inf +- 0
    for p, q in [(_n(0.0, 1.0), _n(0.0, 0.5)), (td.Cauchy(torch.tensor(0.0, dtype=F), torch.tensor(1.0, dtype=F)),
                                                 _n(0.0, 1.0))]:
        r = gt.f_divergence(p, q, "pearson", method=method)
        assert r.value == math.inf and r.error == 0.0


@pytest.mark.parametrize("a", [(0, 1e-12, 0, 1), (0, 1, 0, 1 + 1e-9), (0, 1, 0, 0.7072), (2, 0.3, -1, 3)])
def test_pearson_normal_closed_form(a):
    # expected: the chi^2 closed form in mpmath; these are the cases quadrature got wrong or
    # could not do (a spike of width 1e-12; a chi^2 of 2e-18; rho^2 = 1.9995)
    r = gt.f_divergence(_n(a[0], a[1]), _n(a[2], a[3]), "pearson", rtol=1e-8)
    assert r.method == "closed form" and _within(r, _chi2_normal_mp(*a)), (r, _chi2_normal_mp(*a))


# --- 5. the logits flag -----------------------------------------------------------------------------

def test_logits_flag_does_not_misread_a_discriminator_with_logits():
    # D* itself: ||D* - D*|| = 0, V(D*, G) = C(G), whatever the flag
    p, q = _n(0.0, 1.0), _n(1.0, 1.0)
    star = gt.optimal_discriminator(p, q)
    r = gt.discriminator_error(star, p, q, logits=True)
    assert r.value <= r.error
    v, c = gt.value_function(star, p, q, logits=True), gt.criterion(p, q)
    assert abs(v.value - c.value) <= v.error + c.error
    assert gt.discriminator_sup_error(star, p, q, logits=True) == 0.0


@pytest.mark.parametrize("call", [
    lambda d, p, q: gt.value_function(d, p, q, logits="no"),
    lambda d, p, q: gt.discriminator_error(d, p, q, logits="no"),
    lambda d, p, q: gt.discriminator_sup_error(d, p, q, logits=1),
    lambda d, p, q: montecarlo.value_function(d, p, q, logits="yes", n=10, generator=torch.Generator().manual_seed(0)),
])
def test_logits_flag_must_be_a_bool(call):
    p, q = _n(0.0, 1.0), _n(1.0, 1.0)
    with pytest.raises(TypeError, match="logits: expected True or False, got"):
        call(lambda x: torch.sigmoid(x), p, q)


# --- 8. probabilities that round to 0 or 1 ------------------------------------------------------------

def test_value_function_probability_rounding_to_one_is_an_error():
    p, q = _n(0.0, 1.0), _n(1.0, 1.0)
    with pytest.raises(gt.AccuracyError, match=r"d: returned exactly 1 at x = .* where p_g > 0.*logits"):
        gt.value_function(lambda x: torch.sigmoid(5 * x), p, q)
    with pytest.raises(gt.AccuracyError, match=r"d: returned exactly 1 at x = .* where p_g > 0"):
        montecarlo.value_function(lambda x: torch.sigmoid(50 * x), p, q, n=1000,
                                  generator=torch.Generator().manual_seed(0))
    # through logits the value is finite: V = int N(0,1) log s(5x) + N(1,1) log s(-5x), mpmath
    v = gt.value_function(lambda x: 5 * x, p, q, logits=True)

    def integrand(x):
        return (mpmath.npdf(x, 0, 1) * -mpmath.log1p(mpmath.exp(-5 * x))
                + mpmath.npdf(x, 1, 1) * -mpmath.log1p(mpmath.exp(5 * x)))

    exact = mpmath.quad(integrand, [-mpmath.inf, -5, 0, 1, 6, mpmath.inf])
    assert _within(v, exact), (v, exact)


# --- 9. D* of a ring of spikes; Monte Carlo KL of an infinite KL ------------------------------------

def test_optimal_discriminator_of_a_ring_with_tiny_std():
    # at the mode (2, 0) only the first component of ring(std=1e-300) counts: log p =
    # log(1/8) - log(2 pi 1e-600); log q is the 8-component mixture of std 0.5, both in mpmath
    p, q = toys.ring(std=1e-300), toys.ring(std=0.5)
    star = gt.optimal_discriminator(p, q)
    x = torch.tensor([[2.0, 0.0], [0.0, 0.0]], dtype=F)
    d, logit = star(x), star.logits(x)
    assert not torch.isnan(d).any() and not torch.isnan(logit).any()
    centres = toys.ring_modes(8, 2.0).tolist()
    two_pi = 2 * mpmath.pi
    log_p = mpmath.log(mpmath.mpf(1) / 8) - mpmath.log(two_pi * mpmath.mpf(1e-300) ** 2)
    log_q = mpmath.log(sum(mpmath.exp(-((2 - cx) ** 2 + cy ** 2) / (2 * mpmath.mpf(0.25))) / (two_pi * 0.25)
                           for cx, cy in centres) / 8)
    assert abs(logit[0].item() - (log_p - log_q)) <= 1e-13 * abs(log_p - log_q)
    assert d[0].item() == 1.0 and d[1].item() == 0.0 and logit[1].item() == -math.inf


def test_montecarlo_kl_of_an_infinite_kl_is_an_error():
    gen = torch.Generator().manual_seed(0)
    cauchy = td.Cauchy(torch.tensor(0.0, dtype=F), torch.tensor(1.0, dtype=F))
    with pytest.raises(gt.AccuracyError, match="almost surely infinite"):
        montecarlo.kl(cauchy, _n(0.0, 1.0), n=10_000, generator=gen)
    uniform = td.Uniform(torch.tensor(-1.0, dtype=F), torch.tensor(1.0, dtype=F))
    with pytest.raises(gt.AccuracyError, match="is infinite"):
        montecarlo.kl(_n(0.0, 1.0), uniform, n=1000, generator=gen)


def test_montecarlo_kl_of_a_finite_laplace_normal_kl_passes_quietly(recwarn):
    # guard for the tail check (passes before and after): KL(Laplace(0,1) || N(0,1)) is finite
    # (torch's closed form), light tails: no error, no warning, and the interval covers it
    lap = td.Laplace(torch.tensor(0.0, dtype=F), torch.tensor(1.0, dtype=F))
    r = montecarlo.kl(lap, _n(0.0, 1.0), n=10_000, generator=torch.Generator().manual_seed(3))
    exact = float(gt.kl(lap, _n(0.0, 1.0)))
    assert abs(r.value - exact) <= r.error and not [w for w in recwarn if "Pareto" in str(w.message)]


# --- obscure errors ------------------------------------------------------------------------------------

def test_normal_with_scale_1e_minus_200():
    # was ZeroDivisionError; KL by quadrature against the closed form in mpmath, and the JSD
    # is log 2 (the two overlap in mass below 1e-199, far below float64 resolution)
    p, q = _n(0.0, 1e-200), _n(0.0, 1.0)
    r = gt.kl(p, q, method="quadrature")
    assert _within(r, _kl_normal_mp(0, 1e-200, 0, 1)), r
    j = gt.jsd(p, q)
    assert abs(j.value - math.log(2.0)) <= j.error


class _OnlyLogProb(td.Distribution):
    arg_constraints: dict = {}

    def __init__(self):
        super().__init__(torch.Size(), torch.Size(), validate_args=False)

    def log_prob(self, x):
        return -0.5 * x ** 2 - 0.5 * math.log(2 * math.pi)


class _NoSampler(_OnlyLogProb):
    support = constraints.real


def test_distribution_with_only_log_prob_gets_a_clear_error():
    with pytest.raises(TypeError, match=r"p: _OnlyLogProb does not define `support`"):
        gt.jsd(_OnlyLogProb(), _n(0.0, 1.0))
    with pytest.raises(TypeError, match=r"p: cannot tell where the mass of _NoSampler lies.*quadrature_hints"):
        gt.jsd(_NoSampler(), _n(0.0, 1.0))


def test_module_expecting_column_input_in_1d():
    # an nn.Module starting with Linear(1, 1): D's logit is 2x - 1; V from mpmath
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 1)).to(F)
    with torch.no_grad():
        net[0].weight.fill_(2.0)
        net[0].bias.fill_(-1.0)
    p, q = _n(0.0, 1.0), _n(1.0, 1.0)
    v = gt.value_function(net, p, q, logits=True)

    def integrand(x):
        z = 2 * x - 1
        return (mpmath.npdf(x, 0, 1) * -mpmath.log1p(mpmath.exp(-z))
                + mpmath.npdf(x, 1, 1) * -mpmath.log1p(mpmath.exp(z)))

    exact = mpmath.quad(integrand, [-mpmath.inf, 0, 0.5, 1, mpmath.inf])
    assert _within(v, exact), (v, exact)
    bad = torch.nn.Linear(3, 1).to(F)
    with pytest.raises(RuntimeError, match=r"d: calling the discriminator failed on 1-D points of shape \(\d+,\) "
                                           r"and of shape \(\d+, 1\)"):
        gt.value_function(bad, p, q, logits=True)


@pytest.mark.parametrize("points", [1, 2, 0])
def test_discriminator_sup_error_points(points):
    p, q = _n(0.0, 1.0), _n(1.0, 1.0)
    with pytest.raises(ValueError, match="points: expected an integer >= 3"):
        gt.discriminator_sup_error(gt.optimal_discriminator(p, q), p, q, points=points)
    np.testing.assert_equal(gt.discriminator_sup_error(gt.optimal_discriminator(p, q), p, q, points=3), 0.0)


def test_kl_laplace_normal_with_tiny_laplace_scale():
    # torch's formula squares the Laplace scale and gave inf; expected: the closed form
    # log(s/b) + log(pi/2)/2 - 1 + (b/s)^2 + (mu_p - mu_q)^2/(2 s^2), in mpmath
    lap = td.Laplace(torch.tensor(0.5, dtype=F), torch.tensor(1e-200, dtype=F))
    r = gt.kl(lap, _n(0.0, 1.0))
    b = mpmath.mpf(1e-200)
    exact = -mpmath.log(2 * b) - 1 + mpmath.log(mpmath.sqrt(2 * mpmath.pi)) + (2 * b ** 2 + mpmath.mpf(0.25)) / 2
    assert _within(r, exact), (r, exact)


def test_subnormal_scale_is_refused():
    # N(0, 1e-310) has a peak density of 4e309, beyond float64: the JSD came back inf
    with pytest.raises(ValueError, match=r"p: parameter 'scale' of Normal must be at least 2.225e-308"):
        gt.jsd(_n(0.0, 1e-310), _n(0.0, 1.0))


def test_montecarlo_kl_warns_when_the_variance_is_infinite():
    # KL(StudentT(2.5) || N(0,1)) is finite (E x^2 exists for df > 2) but the log-ratio ~ x^2/2
    # has no variance (E x^4 needs df > 4): tail shape 2/df = 0.8, so the CLT interval is unreliable
    t = td.StudentT(torch.tensor(2.5, dtype=F))
    with pytest.warns(UserWarning, match=r"montecarlo.kl: the sample log-ratios have a tail of Pareto shape"):
        r = montecarlo.kl(t, _n(0.0, 1.0), n=100_000, generator=torch.Generator().manual_seed(0))
    assert math.isfinite(r.value)


def test_pearson_overflow_in_a_batch_is_an_error():
    # element 0 is e^900 (finite, mpmath as above), element 1 e - 1: by quadrature the batch
    # cannot return element 0, and must not return inf for it
    p = td.Normal(torch.zeros(2, dtype=F), torch.ones(2, dtype=F))
    q = td.Normal(torch.tensor([30.0, 1.0], dtype=F), torch.ones(2, dtype=F))
    with pytest.raises(gt.AccuracyError, match="batch element 0 is inf and the integrand overflows"):
        gt.f_divergence(p, q, "pearson", method="quadrature")
    with pytest.raises(gt.AccuracyError, match=r"\(batch element 0\): its natural log is 900"):
        gt.f_divergence(p, q, "pearson")
