"""Checks of the mpmath references of the hostile-range property test (tests/references/hostile.py).

Three independent kinds of evidence that the references are right:

* on benign pairs the package is accurate, so reference and package agree within the
  package's error bound (plus 1e-25 for the reference);
* the references' two routes agree: each closed form against mpmath quadrature of the same
  integral, C(G) integrated directly against -log 4 + 2 JSD (Theorem 1), total variation from
  CDFs at the crossings against quadrature of |p - q| / 2;
* exact invariances and known values: translating a pair by an exact float and scaling by a
  power of two leave every quantity unchanged (this checks the relative coordinates at 2^66
  with scales 2^-40); JSD of disjoint supports is log 2; TV of N(0,1), N(d,1) is
  2 Phi(d/2) - 1; W1 of a location shift is the shift; the infinite-KL rules.
"""

from __future__ import annotations

import math

import mpmath as mp
import pytest

import gan_theory as gt
from references import hostile as H
from references.hostile import Dist

@pytest.fixture(autouse=True)
def _mp_digits():
    """Arithmetic on the references (differences, sums) at 50 digits, not mpmath's default 15."""
    with mp.workdps(50):
        yield


TINY = mp.mpf("1e-21")  # the references' own accuracy is below this (checked in _quad)


def _close(a, b, tol=mp.mpf("1e-24")):
    return abs(mp.mpf(a) - mp.mpf(b)) <= tol * (1 + abs(mp.mpf(b)))


N01 = Dist("normal", (0.0, 1.0))
BENIGN = [
    (N01, Dist("normal", (1.0, 1.5))),
    (Dist("laplace", (0.0, 1.0)), Dist("cauchy", (0.5, 2.0))),
    (Dist("gamma", (2.0, 1.0)), Dist("beta", (2.0, 3.0))),
    (Dist("mixture", (0.3, 0.7), (Dist("normal", (-1.0, 0.5)), Dist("normal", (2.0, 1.0)))),
     Dist("laplace", (0.0, 1.0))),
    (Dist("uniform", (0.0, 1.0)), Dist("uniform", (0.5, 2.0))),
]
PACKAGE = {
    "jsd": (gt.jsd, H.jsd),
    "kl": (gt.kl, H.kl),
    "criterion": (gt.criterion, H.criterion),
    "hellinger": (lambda p, q: gt.f_divergence(p, q, "hellinger"), H.hellinger),
    "total_variation": (lambda p, q: gt.f_divergence(p, q, "total_variation"), H.total_variation),
    "wasserstein1": (gt.wasserstein1, H.wasserstein1),
}


@pytest.mark.parametrize("i", range(len(BENIGN)))
@pytest.mark.parametrize("name", sorted(PACKAGE))
def test_reference_matches_package_on_benign_pairs(name, i):
    p, q = BENIGN[i]
    call, ref = PACKAGE[name]
    truth = ref(p, q)
    if truth == mp.inf:  # W1 of Laplace and Cauchy: the package raises (documented) or says inf
        try:
            res = call(p.torch(), q.torch())
        except gt.AccuracyError:
            return
        assert res.value == math.inf
    else:
        res = call(p.torch(), q.torch())
        assert abs(mp.mpf(res.value) - truth) <= mp.mpf(res.error) + TINY, (res.value, res.error, truth)


@pytest.mark.parametrize("p, q", [
    (Dist("normal", (0.3, 0.7)), Dist("normal", (-1.0, 2.0))),
    (Dist("normal", (0.0, 1e-3)), Dist("normal", (0.0, 1.0))),
    (Dist("laplace", (0.3, 0.7)), Dist("laplace", (-1.0, 2.0))),
    (Dist("cauchy", (0.3, 0.7)), Dist("cauchy", (-1.0, 2.0))),
    (Dist("gamma", (2.5, 3.0)), Dist("gamma", (1.5, 0.5))),
    (Dist("beta", (2.5, 3.0)), Dist("beta", (1.5, 4.0))),
    (Dist("uniform", (0.2, 0.7)), Dist("uniform", (-1.0, 2.0))),
])
def test_kl_closed_forms_match_quadrature(p, q):
    assert _close(H.kl(p, q), H.kl(p, q, closed_form=False))


def test_other_closed_forms_match_quadrature():
    p, q = Dist("normal", (0.3, 1.0)), Dist("normal", (-1.0, 1.2))  # both chi^2 finite
    assert _close(H.hellinger(p, q), H.hellinger(p, q, closed_form=False))
    assert _close(H.wasserstein1(p, q), H.wasserstein1(p, q, closed_form=False))
    assert _close(H.pearson(p, q), H.pearson_quadrature(p, q))
    assert _close(H.neyman(p, q), H.pearson_quadrature(q, p))
    u, v = Dist("uniform", (0.2, 0.7)), Dist("uniform", (-1.0, 2.0))
    assert _close(H.pearson(u, v), H.pearson_quadrature(u, v))
    w = Dist("uniform", (0.5, 2.5))
    assert _close(H.jsd(u, w), H.jsd(u, w, closed_form=False))
    assert _close(H.criterion(u, w), -mp.log(4) + 2 * H.jsd(u, w, closed_form=False))


@pytest.mark.parametrize("p, q", [
    (Dist("laplace", (0.0, 1.0)), Dist("cauchy", (0.5, 2.0))),
    (Dist("mixture", (0.3, 0.7), (Dist("normal", (-1.0, 0.5)), Dist("normal", (2.0, 1.0)))), N01),
    # p is infinite at 0 (a < 1): the densities cross at x = 7.9e-4, next to the support's end
    (Dist("beta", (0.8057740456650868, 3.926465271257734)), Dist("beta", (1.0777892499063577, 13.990192976556912))),
    (Dist("gamma", (0.5, 1.0)), Dist("gamma", (2.0, 30.0))),
])
def test_criterion_is_theorem_1_and_tv_two_routes(p, q):
    # Theorem 1 (Goodfellow et al. 2014): C(G) = -log 4 + 2 JSD, from two different integrands
    assert _close(H.criterion(p, q), -mp.log(4) + 2 * H.jsd(p, q))
    assert _close(H.total_variation(p, q), H.total_variation_quadrature(p, q))


def test_translation_and_scaling_are_exact():
    # Exact: x -> 2^66 + 2^-40 x maps the unit pair onto one at 1e20 with scales ~1e-12.
    big, small = 2.0 ** 66, 2.0 ** -40
    unit = (Dist("laplace", (0.0, 1.0)), Dist("normal", (0.0, 2.0)))
    moved = (Dist("laplace", (big, small)), Dist("normal", (big, 2 * small)))
    for fn in (H.jsd, H.criterion, H.hellinger, H.kl):
        assert _close(fn(*moved), fn(*unit)), fn.__name__
    assert _close(H.wasserstein1(Dist("normal", (big, small)), Dist("normal", (big, 3 * small))),
                  small * H.wasserstein1(N01, Dist("normal", (0.0, 3.0))))
    # a shifted pair at -1e20 (offset of a few float steps, exact)
    step = 16384.0  # float spacing at 1e20
    a, b = -1e20, -1e20 + 3 * step
    assert _close(H.jsd(Dist("normal", (a, step)), Dist("laplace", (b, 2 * step))),
                  H.jsd(N01, Dist("laplace", (3.0, 2.0))))


def test_known_values():
    log2 = mp.log(2)
    u, v = Dist("uniform", (0.0, 1.0)), Dist("uniform", (2.0, 3.0))
    assert _close(H.jsd(u, v), log2) and _close(H.criterion(u, v), 0)
    # JSD(U(0,1), U(a, 1 + a)) = a log 2
    assert _close(H.jsd(u, Dist("uniform", (0.25, 1.25))), log2 / 4)
    # TV(N(0,1), N(d,1)) = 2 Phi(d/2) - 1
    d = 1.3
    assert _close(H.total_variation(N01, Dist("normal", (d, 1.0))), 2 * mp.ncdf(mp.mpf(d) / 2) - 1)
    # W1 of a location shift is the shift, for any family
    assert _close(H.wasserstein1(Dist("laplace", (0.0, 1.0)), Dist("laplace", (2.5, 1.0))), 2.5)
    assert _close(H.wasserstein1(Dist("cauchy", (0.0, 1.0)), Dist("cauchy", (2.5, 1.0))), 2.5)
    assert H.wasserstein1(Dist("cauchy", (0.0, 1.0)), Dist("cauchy", (0.0, 2.0))) == mp.inf
    assert H.wasserstein1(Dist("cauchy", (0.0, 1.0)), N01) == mp.inf


def test_infinite_kl_rules():
    cauchy, laplace = Dist("cauchy", (0.0, 1.0)), Dist("laplace", (0.0, 1.0))
    t15, t3 = Dist("studentt", (1.5, 0.0, 1.0)), Dist("studentt", (3.0, 0.0, 1.0))
    assert H.kl(cauchy, N01) == mp.inf and H.kl(cauchy, laplace) == mp.inf
    assert H.kl(t15, N01) == mp.inf and not H.kl_is_infinite(t15, laplace)
    assert not H.kl_is_infinite(t3, N01) and not H.kl_is_infinite(N01, cauchy)
    mix = Dist("mixture", (0.5, 0.5), (Dist("normal", (0.0, 1.0)), Dist("normal", (3.0, 1.0))))
    assert not H.kl_is_infinite(N01, mix) and H.kl_is_infinite(t15, mix)
    assert H.kl(N01, Dist("gamma", (2.0, 1.0))) == mp.inf
    assert H.kl(Dist("uniform", (0.0, 1.0)), Dist("uniform", (0.0, 0.5))) == mp.inf
    assert H.pearson(N01, Dist("normal", (0.0, 0.7))) == mp.inf  # 2 s_q^2 < s_p^2
    # chi^2 of N(0,1) against N(30,1) is e^900 - 1: finite, beyond float64
    assert _close(H.pearson(N01, Dist("normal", (30.0, 1.0))), mp.exp(900) - 1)


def test_zero_truths_are_exactly_zero():
    # p = q: every integrand is exactly 0 (no reference noise that a correct 0 ± 0 would miss)
    mix = Dist("mixture", (0.3, 0.7), (Dist("laplace", (1e20, 1e-12)), Dist("laplace", (1e20, 1.0))))
    t = Dist("studentt", (2.5, -3.0, 1e-6))
    for d in (mix, t):
        for fn in (H.jsd, H.kl, H.hellinger, H.total_variation, H.wasserstein1):
            assert fn(d, d) == 0, fn.__name__
        assert _close(H.criterion(d, d), -mp.log(4))


def test_criterion_follows_a_gamma_tail_far_beyond_its_sd():
    # C(G) of Gamma(0.5, rate 1e10) against Gamma(3, rate 1e-3): the integrand q log(q/p) follows
    # p's exponential tail (scale 1/rate) out to where p falls below q, ~200 sd beyond the mean;
    # the reference's break points stopped at 80 sd and missed a third of it (-1.2032e-33).
    # Expected: mpmath (40 digits) of -p softplus(lq - lp) - q softplus(lp - lq) over [0, inf),
    # split at every quarter decade from 1e-35 to 1e-8, at every 1/rate out to 1000/rate and at
    # every decade to 1e5 (a split independent of the reference's grid); the package gives
    # -1.7800717325893577e-33 +- 1.85e-35.
    p, q = Dist("gamma", (0.5, 1e10)), Dist("gamma", (3.0, 1e-3))
    expected = mp.mpf("-1.781602526292922552e-33")
    assert abs(H.criterion(p, q) - expected) <= mp.mpf("1e-12") * abs(expected)
    res = gt.criterion(p.torch(), q.torch())
    assert abs(res.value - expected) <= res.error
