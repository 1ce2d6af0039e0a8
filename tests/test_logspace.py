"""Pointwise integrands in log space (gan_theory.logspace).

Expected values: mpmath at 50 digits for g(u) = u tanh u - log cosh u and
phi(r) = e^{-r} - 1 + r; the defining formulas p log(p/m) etc. evaluated with mpmath for the
integrands; the conventions 0 log 0 = 0 for the edge cases.
"""

import math

import mpmath as mp
import numpy as np
import pytest

from gan_theory import logspace
from gan_theory.logspace import F_DIVERGENCES, criterion_terms, g_jsd, jsd_terms, kl_terms, phi_kl

mp.mp.dps = 50
U = np.concatenate([[0.0, 1e-300, 1e-160, 1e-20, 1e-8, 1e-4], np.geomspace(1e-3, 40.0, 400), [0.999999, 1.0, 20.0, 1e3]])


def g_ref(u):
    u = mp.mpf(u)
    if abs(u) < 1e-3:  # the series, since log cosh u needs ~2 log10(1/u) digits to resolve
        return u ** 2 / 2 - u ** 4 / 4 + u ** 6 / 9 - 17 * u ** 8 / 360
    return u * mp.tanh(u) - mp.log(mp.cosh(u))


def test_g_jsd_relative_accuracy_against_mpmath():
    got = g_jsd(U)
    for u, g in zip(U, got):
        ref = g_ref(u)
        # relative accuracy of 4 ulps; below the smallest normal double, g underflows
        assert abs(g - ref) <= 4 * np.finfo(float).eps * abs(ref) + np.finfo(float).tiny, (u, g, ref)


def test_g_jsd_limits():
    assert g_jsd(np.array([np.inf]))[0] == math.log(2.0)
    assert g_jsd(np.array([0.0]))[0] == 0.0


def test_phi_kl_relative_accuracy_against_mpmath():
    r = np.concatenate([-np.geomspace(1e-12, 30, 40), [0.0], np.geomspace(1e-12, 700, 40)])
    got = phi_kl(r)
    for ri, v in zip(r, got):
        with mp.workdps(50):  # whatever another test module left mp.dps at (e^-r - 1 + r cancels)
            ref = +(mp.exp(-mp.mpf(ri)) - 1 + mp.mpf(ri))
        if ref == 0:
            assert v == 0.0
        else:
            assert abs(v - ref) <= 8 * np.finfo(float).eps * abs(ref), (ri, v, ref)


def _jsd_point_ref(lp, lq):
    # at 50 digits whatever another test module set mp.dps to (at 40, the cancellation in
    # (-0.1, -0.1 - 1e-14) leaves the reference itself wrong in the 13th digit)
    with mp.workdps(50):
        p, q = mp.exp(mp.mpf(lp)), mp.exp(mp.mpf(lq))
        m = (p + q) / 2
        out = mp.mpf(0)
        if p > 0:
            out += p * mp.log(p / m) / 2
        if q > 0:
            out += q * mp.log(q / m) / 2
        return +out


@pytest.mark.parametrize("lp,lq", [(-1.0, -1.0), (-1.0, -1.0 + 1e-9), (-3.0, 2.0), (0.5, -40.0),
                                   (-700.0, -1.0), (-0.1, -0.1 - 1e-14)])
def test_jsd_terms_match_definition(lp, lq):
    v, noise = jsd_terms(np.array([lp]), np.array([lq]))
    ref = _jsd_point_ref(lp, lq)
    assert abs(v[0] - ref) <= max(noise[0], 1e-300), (v[0], ref, noise[0])
    assert abs(v[0] - ref) <= 1e-14 * abs(ref) + 1e-300


def test_jsd_terms_where_densities_vanish():
    lp = np.array([-np.inf, -np.inf, 0.0])
    lq = np.array([-np.inf, 0.0, -np.inf])
    v, noise = jsd_terms(lp, lq)
    # both vanish: 0; one vanishes: the other's density times log(2)/2 (0 log 0 = 0)
    np.testing.assert_array_equal(v, [0.0, math.log(2) / 2, math.log(2) / 2])
    assert np.all(np.isfinite(noise))


def test_kl_terms_match_definition_and_edges():
    lp = np.array([-1.0, -2.0, -1.0, -np.inf, -np.inf, 0.0])
    lq = np.array([-1.0, -1.0, -2.0, 0.0, -np.inf, -np.inf])
    v, _ = kl_terms(lp, lq)
    for i in range(3):
        p, q = mp.exp(lp[i]), mp.exp(lq[i])
        # the integrand is p log(p/q) + q - p (the q - p part integrates to 0)
        ref = p * mp.log(p / q) + q - p
        assert abs(v[i] - ref) <= 1e-15 * abs(ref) + 1e-300
    assert v[3] == 1.0  # p = 0: q
    assert v[4] == 0.0  # both vanish
    assert v[5] == np.inf  # q = 0 < p


def test_criterion_terms_match_definition():
    lp = np.array([-1.0, -3.0, 0.2, -np.inf, 0.0, -np.inf])
    lq = np.array([-1.0, 0.5, -0.3, 0.0, -np.inf, -np.inf])
    v, _ = criterion_terms(lp, lq)
    for i in range(3):
        p, q = mp.exp(lp[i]), mp.exp(lq[i])
        ref = p * mp.log(p / (p + q)) + q * mp.log(q / (p + q))
        assert abs(v[i] - ref) <= 1e-15 * abs(ref)
    np.testing.assert_array_equal(v[3:], [0.0, 0.0, 0.0])


@pytest.mark.parametrize("name", sorted(F_DIVERGENCES))
def test_f_generators_at_one_and_integrands_match_q_f_of_ratio(name):
    fd = F_DIVERGENCES[name]
    # f(1) = 0 for every generator but the GAN one, whose f(1) = -log 4 (D_gan = 2 JSD - log 4)
    expected = -math.log(4.0) if name == "gan" else 0.0
    assert abs(float(fd.f(np.array([1.0]))[0]) - expected) < 1e-15
    lp = np.array([-1.3, 0.4, -2.0])
    lq = np.array([-0.7, -0.9, -2.0])
    v = fd.terms(lp, lq)[0]
    u = np.exp(lp - lq)
    ref = np.exp(lq) * fd.f(u)
    if name == "kl":  # integrated as p phi(r) = q f(u) + (q - p)
        ref = ref + np.exp(lq) - np.exp(lp)
    if name == "reverse_kl":
        ref = ref + np.exp(lp) - np.exp(lq)
    np.testing.assert_allclose(v, ref, rtol=1e-13, atol=0)


def test_log_sigmoid_is_stable():
    z = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    np.testing.assert_allclose(logspace.log_sigmoid(z), [-800.0, -30.0 - math.log1p(math.exp(-30)), -math.log(2),
                                                         -math.log1p(math.exp(-30)), 0.0], rtol=1e-15)


@pytest.mark.parametrize("a, b", [(1.0, 0.0), (0.9, 0.0), (0.0, 1.0), (0.8, 0.3), (1.0, 0.2)])
def test_label_logit_one_formula_for_numpy_and_torch(a, b):
    # The D* logit with labels (issue 13: written once for discriminator.py and the trainer):
    # NumPy and torch give the same numbers, and both match log((a p + b q) / ((1-a) p + (1-b) q))
    # at 50 digits (mpmath).
    import torch

    from gan_theory.logspace import label_logit

    lp = np.array([-0.3, -5.0, -40.0, 2.0])
    lq = np.array([-1.2, -0.1, -1.0, 2.0])
    got_np = label_logit(lp, lq, a, b)
    got_t = label_logit(torch.from_numpy(lp), torch.from_numpy(lq), a, b).numpy()
    assert np.array_equal(got_np, got_t)
    with mp.workdps(50):
        for i in range(lp.size):
            p, q = mp.exp(mp.mpf(lp[i])), mp.exp(mp.mpf(lq[i]))
            ref = mp.log((a * p + b * q) / ((1 - a) * p + (1 - b) * q)) if (a, b) != (1.0, 0.0) else mp.log(p / q)
            assert abs(got_np[i] - ref) <= 1e-14 * (1 + abs(ref)), (i, got_np[i], ref)
