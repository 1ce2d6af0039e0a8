"""G9: the derivative, its root and the plug-in identity (sympy and quadrature)."""

from _util import assert_claim_passes
from gan_theory.claims import g9_calculus as g9


def test_g9_passes():
    assert_claim_passes("G9")


def test_g9_fails_on_a_wrong_derivative():
    assert not g9.symbolic_route(claimed_derivative=lambda a, b, y: (a - b * y) / (y * (1 - y))).passed
