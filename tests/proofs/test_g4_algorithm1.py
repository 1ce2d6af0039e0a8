"""G4: Algorithm 1 drives C(G) to -log 4 on toys (trained networks; flows with --slow)."""

import pytest

from _util import assert_claim_passes
from gan_theory.claims import CheckContext
from gan_theory.claims import g4_algorithm1 as g4


def test_g4_passes():
    res = assert_claim_passes("G4")
    assert res.routes[0].value <= 1e-3


def test_g4_fails_for_a_generator_that_does_not_move():
    ctx = CheckContext()
    target, label, cfg = g4.affine_1d(ctx)
    r = g4.training_route(ctx, target, label, cfg.replace(lr_g=0.0, ensemble=2, steps=200), 1e-3, "test")
    assert not r.passed  # the generator stays at N(0, 1): C + log 4 ~ 0.95


@pytest.mark.slow
def test_g4_full():
    assert_claim_passes("G4", full=True)
