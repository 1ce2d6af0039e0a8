"""G8: swapped labels give 1 - D*; targets alpha, beta give the smoothed optimum (erratum)."""

from _util import assert_claim_passes
from gan_theory import optimal_discriminator
from gan_theory.claims import g8_labels as g8


def test_g8_passes():
    res = assert_claim_passes("G8")
    assert not res.errata[0].stated_route.passed


def test_g8_fails_on_the_unswapped_formula():
    p, q = g8._pair()
    assert not g8.swapped_route(formula=optimal_discriminator(p, q)).passed


def test_g8_fails_on_unsmoothed_optimum():
    p, q = g8._pair()
    assert not g8.smoothing_route(formula=optimal_discriminator(p, q)).passed
