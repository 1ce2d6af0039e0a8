"""Divergences against closed forms, second methods and scipy.

Expected values and where they come from:
* JSD(U(0,1) || U(a,1+a)) = a log 2 (closed form: the densities agree on [a, 1] and each is
  alone on a set of length a, where the integrand is p log(2)/2);
* disjoint supports: JSD = log 2, C(G) = 0; identical densities: JSD = 0, C = -log 4, D* = 1/2;
* Gaussian KL: log(s_q/s_p) + (s_p^2 + (m_p - m_q)^2)/(2 s_q^2) - 1/2, written out here;
* squared Hellinger of Gaussians: 2 - 2 BC with the Bhattacharyya coefficient
  BC = sqrt(2 s_p s_q / (s_p^2 + s_q^2)) exp(-(m_p - m_q)^2 / (4 (s_p^2 + s_q^2)));
* scipy.spatial.distance.jensenshannon on discretised densities (it returns sqrt(JSD));
* closed forms registered in gan_theory vs the same quantity by quadrature.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy.spatial.distance import jensenshannon

import gan_theory as gt

F = torch.float64
LOG2 = math.log(2.0)


def t(x):
    return torch.as_tensor(x, dtype=F)


def N(m, s):
    return td.Normal(t(m), t(s))


@pytest.mark.parametrize("a", [0.0, 1e-6, 0.1, 0.5, 0.999, 1.0, 3.0])
def test_jsd_of_shifted_uniforms_is_a_log_2(a):
    r = gt.jsd(td.Uniform(t(0.0), t(1.0)), td.Uniform(t(a), t(1.0 + a)))
    # a log 2 for the real numbers; for the doubles a and fl(1 + a) the second uniform has width
    # w = fl(1 + a) - a (not exactly 1), and each density alone contributes (its mass there) log(2)/2:
    # a from p on [0, a), (fl(1 + a) - 1) / w from q on [1, fl(1 + a)) (the overlap adds ~(log w)^2).
    lo, hi = Fraction(a), Fraction(1.0 + a)
    exact = float(min(lo, 1) + (hi - max(lo, 1)) / (hi - lo)) * LOG2 / 2
    assert abs(exact - min(a, 1.0) * LOG2) <= 1e-10 * LOG2
    assert abs(r.value - exact) <= r.error
    assert r.error <= 1e-13
    assert gt.jsd(td.Uniform(t(0.0), t(1.0)), td.Uniform(t(a), t(1.0 + a)), base=2).value == pytest.approx(min(a, 1.0), abs=1e-13)


@pytest.mark.parametrize("gap", [0.0, 0.5, 100.0])
def test_disjoint_supports_give_log_2_and_zero_criterion(gap):
    p, q = gt.toys.disjoint_pair(gap=gap)
    j, c = gt.jsd(p, q), gt.criterion(p, q)
    assert abs(j.value - LOG2) <= j.error <= 1e-13
    assert abs(c.value - 0.0) <= c.error + 1e-300
    assert abs(c.value) <= 1e-13
    # D* is 1 on the data's support, 0 on the generator's, and 1/2 between (both vanish there)
    d = gt.optimal_discriminator(p, q)
    np.testing.assert_array_equal(d(torch.tensor([0.5, 1.5 + gap, 1.0 + gap / 2])), [1.0, 0.0, 0.5] if gap > 0 else [1.0, 0.0, 0.0])


@pytest.mark.parametrize("p", [N(0.3, 2.0), gt.toys.mixture3(), td.Laplace(t(0.0), t(1.0)), gt.toys.ring(), gt.toys.uniform_square()],
                         ids=["normal", "mixture3", "laplace", "ring", "uniform_square"])
def test_identical_densities(p):
    j, c = gt.jsd(p, p), gt.criterion(p, p)
    assert j.value == 0.0  # blind by construction (the integrand is exactly 0): see the near-equal pairs below
    assert abs(c.value + math.log(4.0)) <= c.error
    x = torch.as_tensor(gt.montecarlo._draw(gt.as_density(p), 50, torch.Generator().manual_seed(0)))
    assert torch.all(gt.optimal_discriminator(p, p)(x) == 0.5)


GAUSS = [(0.0, 1.0, 1.0, 1.5), (0.0, 1.0, 0.0, 0.3), (2.0, 0.5, -1.0, 3.0), (0.0, 1.0, 1e-4, 1.0)]


@pytest.mark.parametrize("mp_,sp,mq,sq", GAUSS)
def test_gaussian_kl_closed_form_and_quadrature(mp_, sp, mq, sq):
    exact = math.log(sq / sp) + (sp ** 2 + (mp_ - mq) ** 2) / (2 * sq ** 2) - 0.5
    closed = gt.kl(N(mp_, sp), N(mq, sq))
    quad = gt.kl(N(mp_, sp), N(mq, sq), method="quadrature")
    assert closed.method == "closed form" and quad.method == "quadrature"
    assert abs(closed.value - exact) <= max(closed.error, 1e-15 * exact) + 4e-16 * (abs(math.log(sq / sp)) + 1)
    assert abs(quad.value - closed.value) <= quad.error + closed.error
    assert gt.kl(N(mp_, sp), N(mq, sq), base=2).value == pytest.approx(closed.value / LOG2, rel=1e-15)


def test_mvn_kl_closed_form_and_quadrature():
    p = td.MultivariateNormal(t([0.5, -0.2]), covariance_matrix=t([[1.0, 0.6], [0.6, 2.0]]))
    q = td.MultivariateNormal(t([0.0, 0.3]), covariance_matrix=t([[1.5, -0.2], [-0.2, 0.8]]))
    closed = gt.kl(p, q)
    ref = float(td.kl_divergence(p, q))  # torch's formula, a second closed form
    assert abs(closed.value - ref) <= 1e-14
    quad = gt.kl(p, q, method="quadrature")
    assert abs(quad.value - closed.value) <= quad.error + closed.error


def test_torch_registry_closed_forms_agree_with_quadrature():
    pairs = [(td.Laplace(t(0.0), t(1.0)), td.Laplace(t(0.5), t(2.0))), (td.Gamma(t(2.0), t(1.0)), td.Gamma(t(3.0), t(2.0))),
             (td.Beta(t(2.0), t(5.0)), td.Beta(t(5.0), t(2.0))), (td.Uniform(t(0.0), t(1.0)), td.Normal(t(0.5), t(0.25)))]
    for p, q in pairs:
        closed, quad = gt.kl(p, q), gt.kl(p, q, method="quadrature")
        assert closed.method.startswith("closed form")
        assert abs(quad.value - closed.value) <= quad.error + closed.error, (p, q, quad, closed)


def test_kl_is_infinite_where_q_vanishes():
    assert gt.kl(N(0.0, 1.0), td.Uniform(t(-1.0), t(1.0)), method="quadrature").value == math.inf
    assert gt.kl(td.Uniform(t(0.0), t(1.0)), td.Uniform(t(0.5), t(1.5)), method="quadrature").value == math.inf


@pytest.mark.parametrize("mp_,sp,mq,sq", GAUSS)
def test_squared_hellinger_of_gaussians_from_bhattacharyya(mp_, sp, mq, sq):
    bc = math.sqrt(2 * sp * sq / (sp ** 2 + sq ** 2)) * math.exp(-(mp_ - mq) ** 2 / (4 * (sp ** 2 + sq ** 2)))
    r = gt.f_divergence(N(mp_, sp), N(mq, sq), "hellinger")
    assert abs(r.value - (2 - 2 * bc)) <= r.error + 4e-16


@pytest.mark.parametrize("mp_,sp,mq,sq", GAUSS + [(0.0, 1.0, 3.0, 1.0)])
def test_wasserstein1_closed_form_and_quadrature(mp_, sp, mq, sq):
    closed = gt.wasserstein1(N(mp_, sp), N(mq, sq))
    quad = gt.wasserstein1(N(mp_, sp), N(mq, sq), method="quadrature")
    assert closed.method == "closed form"
    assert abs(quad.value - closed.value) <= quad.error + closed.error
    if sp == sq:
        assert closed.value == pytest.approx(abs(mp_ - mq), rel=1e-15)


def test_f_divergence_relations():
    p, q = gt.toys.mixture2(), N(0.5, 2.0)
    j, c = gt.jsd(p, q), gt.criterion(p, q)
    js = gt.f_divergence(p, q, "jensen_shannon")
    assert abs(js.value - 2 * j.value) <= js.error + 2 * j.error  # the f-GAN generator gives 2 JSD
    gan = gt.f_divergence(p, q, "gan")
    assert abs(gan.value - c.value) <= gan.error + c.error  # the gan row is C(G) = 2 JSD - log 4
    assert abs(gt.f_divergence(p, q, "kl").value - gt.kl(p, q).value) <= 1e-12
    assert abs(gt.f_divergence(p, q, "reverse_kl").value - gt.kl(q, p).value) <= 1e-12
    # a callable generator agrees with the named one
    for name, fn in [("hellinger", lambda u: (torch.sqrt(u) - 1) ** 2), ("pearson", lambda u: (u - 1) ** 2),
                     ("total_variation", lambda u: 0.5 * torch.abs(u - 1))]:
        named = gt.f_divergence(p, q, name)
        call = gt.f_divergence(p, q, fn, atol=1e-10, rtol=1e-9)
        assert abs(named.value - call.value) <= named.error + call.error, name


def test_callable_f_where_q_vanishes_uses_the_slope_at_infinity():
    # p = U(0, 1), q = U(0.5, 1.5): TV = 1/2, via the limit f(u)/u -> 1/2 where q = 0
    r = gt.f_divergence(td.Uniform(t(0.0), t(1.0)), td.Uniform(t(0.5), t(1.5)), lambda u: 0.5 * torch.abs(u - 1))
    assert abs(r.value - 0.5) <= r.error


def test_jsd_agrees_with_scipy_on_discretised_pairs():
    """scipy's jensenshannon returns sqrt(JSD) of two probability vectors; a fine midpoint
    discretisation of two smooth densities converges to the continuous JSD."""
    p, q = N(0.0, 1.0), N(1.0, 1.5)
    x = np.linspace(-15, 15, 300001)
    dx = x[1] - x[0]
    pv = np.exp(gt.as_density(p).log_prob(x)) * dx
    qv = np.exp(gt.as_density(q).log_prob(x)) * dx
    scipy_jsd = jensenshannon(pv, qv) ** 2  # nats (natural log by default)
    r = gt.jsd(p, q)
    assert abs(scipy_jsd - r.value) <= 1e-9  # the discretisation is good to ~1e-10 at this spacing
    # and on genuinely discrete vectors the package's pointwise integrand (m g(u), what jsd
    # integrates), summed over the atoms, is the discrete JSD, including near-equal vectors
    from gan_theory.logspace import jsd_terms

    for a, b in [([0.1, 0.6, 0.3], [0.5, 0.25, 0.25]), ([0.2, 0.3, 0.5], [0.2 + 1e-3, 0.3, 0.5 - 1e-3])]:
        a, b = np.array(a), np.array(b)
        ours = float(np.sum(jsd_terms(np.log(a), np.log(b))[0]))
        assert ours == pytest.approx(jensenshannon(a, b) ** 2, rel=1e-9)  # scipy's sqrt loses ~1e-10 near 0


def test_bad_options():
    p, q = N(0.0, 1.0), N(1.0, 1.0)
    with pytest.raises(ValueError, match="f: unknown option 'chi2'; expected one of 'kl', 'reverse_kl'"):
        gt.f_divergence(p, q, "chi2")
    with pytest.raises(ValueError, match="method: unknown option 'exact'"):
        gt.jsd(p, q, method="exact")
    with pytest.raises(ValueError, match="method: no closed form is registered for JSD"):
        gt.jsd(p, q, method="closed_form")
    with pytest.raises(ValueError, match="base: a logarithm base must differ from 1"):
        gt.jsd(p, q, base=1)
    with pytest.raises(ValueError, match="base: expected a number > 0.0, got -2.0"):
        gt.kl(p, q, base=-2)
    with pytest.raises(ValueError, match="atol: expected a number >= 0.0, got -1.0"):
        gt.jsd(p, q, atol=-1.0)
    with pytest.raises(ValueError, match="at least one tolerance must be positive"):
        gt.jsd(p, q, atol=0.0, rtol=0.0)
    with pytest.raises(TypeError, match="f: expected one of"):
        gt.f_divergence(p, q, 3)
    with pytest.raises(ValueError, match="wasserstein1 is implemented for 1-D densities"):
        gt.wasserstein1(gt.toys.ring(), gt.toys.grid())


def test_unreachable_accuracy_raises():
    p, q = N(0.0, 1.0), N(1.0, 1.5)
    # the reason is the rounding floor, not only "cannot be met" (which every AccuracyError says)
    with pytest.raises(gt.AccuracyError, match="floating-point error of the integrand alone .* loosen atol/rtol") as info:
        gt.jsd(p, q, atol=0.0, rtol=1e-18)
    assert info.value.error > info.value.tolerance
    with pytest.raises(gt.AccuracyError, match="floating-point error of the integrand alone"):
        gt.kl(p, q, method="quadrature", atol=1e-30, rtol=0.0)


def test_error_bound_is_honest_across_tolerances():
    p, q = gt.toys.mixture3(), N(0.2, 1.3)
    ref = gt.jsd(p, q, atol=1e-14, rtol=1e-13)
    for atol in [1e-4, 1e-7, 1e-10]:
        r = gt.jsd(p, q, atol=atol, rtol=0.0)
        assert r.error <= atol
        assert abs(r.value - ref.value) <= r.error + ref.error


def _mp_jsd_criterion(logp, logq, points):
    """JSD(p||q) and C = -log 4 + 2 JSD in mpmath at 40 digits (the defining integral
    (p log(2p/(p+q)) + q log(2q/(p+q)))/2, with breakpoints at kinks)."""
    import mpmath as mp

    with mp.workdps(40):
        def f(x):
            lp, lq = logp(x), logq(x)
            p, q = mp.exp(lp), mp.exp(lq)
            lm = mp.log((p + q) / 2)
            return (p * (lp - lm) + q * (lq - lm)) / 2

        return float(mp.quad(f, [-mp.inf] + points + [mp.inf]))


def _mp_normal(mu, s):
    import mpmath as mp

    mu, s = mp.mpf(mu), mp.mpf(s)
    return lambda x: -((x - mu) / s) ** 2 / 2 - mp.log(s * mp.sqrt(2 * mp.pi))


def _mp_laplace(mu, b):
    import mpmath as mp

    mu, b = mp.mpf(mu), mp.mpf(b)
    return lambda x: -abs(x - mu) / b - mp.log(2 * b)


NEAR_EQUAL = [
    # (name, p, q, mpmath log p, mpmath log q, breakpoints)
    ("normal shift 1e-4", N(0.0, 1.0), N(1e-4, 1.0), _mp_normal(0, 1), _mp_normal("1e-4", 1), [-8, 0, 8]),
    ("normal scale 1+1e-3", N(0.0, 1.0), N(0.0, 1.001), _mp_normal(0, 1), _mp_normal(0, "1.001"), [-8, 0, 8]),
    ("laplace shift 1e-3", td.Laplace(t(0.0), t(1.0)), td.Laplace(t(1e-3), t(1.0)), _mp_laplace(0, 1),
     _mp_laplace("1e-3", 1), [-40, 0, 1e-3, 40]),
]


@pytest.mark.parametrize("name,p,q,lp,lq,pts", NEAR_EQUAL, ids=[c[0] for c in NEAR_EQUAL])
def test_jsd_and_criterion_of_near_equal_pairs_against_mpmath(name, p, q, lp, lq, pts):
    """Near-equal pairs (JSD ~ 1e-9 to 1e-7): a broken integrand cannot hide behind an exactly
    zero one as with jsd(p, p). Expected: mpmath at 40 digits; for the shifted Normals also the
    series JSD = d^2/8 - d^4/64 + O(d^6) with d = 1e-4 (d^2/8 = Fisher information / 8; the d^4
    coefficient fitted to mpmath at d = 1e-2 and 1e-3 to 7 digits)."""
    ref = _mp_jsd_criterion(lp, lq, pts)
    if name.startswith("normal shift"):
        d = 1e-4
        assert abs(ref - (d ** 2 / 8 - d ** 4 / 64)) <= 1e-22  # the series' next term is O(d^6)
    j = gt.jsd(p, q, atol=1e-14, rtol=0.0)
    assert ref > 1e-10 and j.value > 0
    assert abs(j.value - ref) <= j.error + 1e-20, (j.value, ref, j.error)
    assert j.error <= 1e-3 * ref  # and the bound is tight enough to tell the value from 0
    c = gt.criterion(p, q, atol=1e-14, rtol=0.0)
    assert abs((c.value + math.log(4.0)) - 2 * ref) <= c.error + 1e-15, (c.value + math.log(4.0), 2 * ref, c.error)
