"""G7: BCE with logits is -V's minibatch estimate; the non-saturating loss is BCE with target 1."""

from _util import assert_claim_passes
from gan_theory.claims import CheckContext
from gan_theory.claims import g7_bce as g7
from gan_theory.training.losses import discriminator_loss


def test_g7_passes():
    assert_claim_passes("G7")


def test_g7_fails_on_swapped_targets():
    def swapped(real, fake):
        return discriminator_loss(real, fake, real_label=0.0, fake_label=1.0)

    assert not g7.bce_route(CheckContext(), d_loss=swapped).passed
