"""G6: minibatch estimates are unbiased for V and its gradient; error ~ 1/sqrt(m)."""

from _util import assert_claim_passes
from gan_theory.claims import CheckContext
from gan_theory.claims import g6_minibatch as g6
from gan_theory.training.losses import softplus


def test_g6_passes():
    assert_claim_passes("G6")


def test_g6_fails_on_a_biased_estimator():
    # the discriminator term weighted 0.99: biased by ~0.01 V's first term
    def biased(a, b):
        return -0.99 * softplus(-a).mean(1) - softplus(b).mean(1)

    assert not g6.unbiased_route(CheckContext(), estimator=biased).passed
