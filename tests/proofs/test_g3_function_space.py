"""G3 (Prop. 2): C convex in p_g; grid generator with D* converges monotonically to -log 4."""

from _util import assert_claim_passes
from gan_theory import criterion
from gan_theory.claims import CheckContext
from gan_theory.claims import g3_function_space as g3
from gan_theory.results import IntegralResult


def test_g3_passes():
    assert_claim_passes("G3")


def test_g3_fails_on_a_concave_criterion():
    def flipped(p, q):
        c = criterion(p, q)
        return IntegralResult(-c.value, c.error)

    assert not g3.convexity_route(criterion_fn=flipped).passed


def test_g3_grid_route_fails_when_the_steps_are_too_few():
    assert not g3.grid_route(CheckContext(), steps=3).passed
