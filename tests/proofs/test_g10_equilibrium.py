"""G10: (p_data, 1/2) is a saddle point; the best-response map is set-valued (erratum); the
Dirac-GAN shows that existence does not give convergence."""

import torch

from _util import assert_claim_passes
from gan_theory.claims import g10_equilibrium as g10


def test_g10_passes():
    res = assert_claim_passes("G10")
    assert not res.errata[0].stated_route.passed


def test_g10_fails_for_a_discriminator_that_is_not_one_half():
    routes = g10.saddle_routes(d_best=lambda x: torch.full(x.shape[:1], 0.4, dtype=torch.float64))
    assert not all(r.passed for r in routes)
