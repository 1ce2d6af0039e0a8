"""G1 (Prop. 1): D* maximises V. The check passes, and fails on a wrong D* formula."""

import pytest
import torch

from _util import assert_claim_passes
from gan_theory import optimal_discriminator, toys
from gan_theory.claims import CheckContext
from gan_theory.claims import g1_optimal_discriminator as g1


def test_g1_passes():
    res = assert_claim_passes("G1")
    assert any(r.name == "trained network" for r in res.routes)  # the default run trains a discriminator


def test_g1_fails_on_a_wrong_d_star():
    p, q = toys.gaussian(0.0, 1.0), toys.gaussian(1.0, 1.5)
    star = optimal_discriminator(p, q)

    def wrong(x):  # p / (p + 2q), a plausible-looking mistake
        return torch.sigmoid(star.logits(x) - torch.log(torch.tensor(2.0, dtype=torch.float64)))

    routes = g1.variation_routes(d_star=wrong)
    assert not routes[0].passed  # the first variation no longer vanishes
    assert not g1.lemma_route(maximiser=lambda a, b: a / (a + 2 * b)).passed
    assert not g1.lemma_route(maximiser=lambda a, b: 0.5).passed


def test_g1_trained_route_fails_when_training_is_too_short():
    r = g1.trained_route(CheckContext(), steps=5)
    assert not r.passed


@pytest.mark.slow
def test_g1_full():
    assert_claim_passes("G1", full=True)


def test_g1_lemma_route_measures_the_package_d_star(monkeypatch):
    """The lemma route's maximiser is the package's D*: a D* off by a factor 1.01 in the density
    ratio (p / (p + 1.01 q)) makes it fail."""
    real = g1.optimal_discriminator

    class Off:
        def __init__(self, p, q):
            self.star = real(p, q)

        def __call__(self, x):
            return torch.sigmoid(self.star.logits(x) - 0.01)

    monkeypatch.setattr(g1, "optimal_discriminator", Off)
    assert not g1.lemma_route().passed
