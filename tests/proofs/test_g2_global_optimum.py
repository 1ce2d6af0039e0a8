"""G2 (Thm. 1): C = -log 4 + 2 JSD, minimal at p_g = p_data; JSD in [0, log 2] (erratum: [0, 1] in bits)."""

import math

from _util import assert_claim_passes
from gan_theory import criterion, toys
from gan_theory.claims import g2_global_optimum as g2
from gan_theory.results import IntegralResult


def test_g2_passes():
    res = assert_claim_passes("G2")
    assert len(res.errata) == 1 and not res.errata[0].stated_route.passed


def test_g2_fails_on_a_wrong_criterion():
    def off(p, q):
        c = criterion(p, q)
        return IntegralResult(c.value + 1e-9, c.error)

    assert not g2.identity_route(criterion_fn=off).passed


def test_g2_fails_on_a_generator_family_at_the_wrong_parameters():
    # the family is shifted by 0.1: its argmin is not at the data's (mu, sigma)
    r = g2.parametric_minimum_route(family=lambda th: toys.gaussian(th[0] + 0.1, math.exp(th[1])))
    assert not r.passed
