"""G10: (p_data, 1/2) is a saddle point; the best-response map is set-valued (erratum); the
Dirac-GAN shows that existence does not give convergence."""

import pytest

import gan_theory as gt
import torch

from _util import assert_claim_passes
from gan_theory.claims import g10_equilibrium as g10


def test_g10_passes():
    res = assert_claim_passes("G10")
    assert not res.errata[0].stated_route.passed


def test_g10_fails_for_a_discriminator_that_is_not_one_half():
    routes = g10.saddle_routes(d_best=lambda x: torch.full(x.shape[:1], 0.4, dtype=torch.float64))
    assert not all(r.passed for r in routes)


def test_g10_logit_routes_fail_for_a_discriminator_that_is_not_one_half():
    routes = g10.saddle_routes(d_best=lambda x: torch.full(x.shape[:1], 0.1, dtype=torch.float64), logits=True)
    assert not all(r.passed for r in routes)


def test_g10_logit_routes_read_logits_as_logits():
    """Logit 0 is D = 1/2; read as a probability it is D = 0 where p_data > 0, so log D = -inf:
    value_function refuses it (issue 9: a probability of exactly 0 is never silently -inf)."""
    with pytest.raises(gt.AccuracyError, match="returned exactly 0"):
        g10.saddle_routes(d_best=g10._zero_logit, logits=False)


def test_g10_dirac_route_uses_the_trainers_losses_and_fails_for_a_frozen_discriminator():
    """With a discriminator loss that never moves psi, G stays at theta = 1: the distance does not grow."""
    assert g10.dirac_route().value == pytest.approx(1.755772780915215, rel=1e-12)  # the closed-form gradients' run
    assert not g10.dirac_route(d_loss=lambda real, fake: 0.0 * fake.sum(-1)).passed
