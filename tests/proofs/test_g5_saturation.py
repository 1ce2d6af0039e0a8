"""G5: the minimax loss saturates, the non-saturating one does not (erratum: who maximises what)."""

from _util import assert_claim_passes
from gan_theory.claims import CheckContext
from gan_theory.claims import g5_saturation as g5


def test_g5_passes():
    res = assert_claim_passes("G5")
    assert not res.errata[0].stated_route.passed


def test_g5_fails_when_the_losses_are_mislabelled():
    swapped = {"minimax": g5.LOSSES["non_saturating"], "non_saturating": g5.LOSSES["minimax"]}
    assert not g5.gradient_route(losses=swapped).passed


def test_g5_stationary_point_fails_at_the_wrong_parameters():
    assert not g5.stationary_route(stationary=(0.5, 2.2)).passed


def test_g5_rejection_route_fails_without_a_budget():
    assert not g5.rejection_route(CheckContext(), budget=10).passed


def test_g5_routes_use_the_trainers_losses(monkeypatch):
    """The gradient route measures gan_theory.training.losses.generator_loss: a trainer loss
    that ignores ``kind`` (always non-saturating) makes it fail."""
    real = g5.generator_loss
    monkeypatch.setattr(g5, "generator_loss", lambda logits, kind: real(logits, "non_saturating"))
    assert not g5.gradient_route(losses={k: g5.trainer_loss(k) for k in ("minimax", "non_saturating")}).passed
