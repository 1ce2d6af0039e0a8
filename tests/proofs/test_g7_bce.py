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


def test_g7_trainer_route_fails_on_swapped_loss_formulas():
    """The trainer route compares the applied gradient with the configured loss's formula: with
    the formulas swapped (as a trainer that ignored ``loss`` would look) it fails."""
    swapped = {"minimax": g7.LOSS_FORMULAS["non_saturating"], "non_saturating": g7.LOSS_FORMULAS["minimax"]}
    assert not g7.trainer_route(CheckContext(), formulas=swapped).passed


def test_g7_trainer_route_fails_for_a_trainer_that_always_uses_minimax(monkeypatch):
    from gan_theory.training import steps

    real = steps.generator_loss
    monkeypatch.setattr(steps, "generator_loss", lambda logits, kind, **kw: real(logits, "minimax", **kw))
    assert not g7.trainer_route(CheckContext()).passed
