"""G9: the derivative, its root and the plug-in identity (sympy and quadrature)."""

from _util import assert_claim_passes
from gan_theory.claims import g9_calculus as g9


def test_g9_passes():
    assert_claim_passes("G9")


def test_g9_fails_on_a_wrong_derivative():
    assert not g9.symbolic_route(claimed_derivative=lambda a, b, y: (a - b * y) / (y * (1 - y))).passed


def test_g9_package_route_fails_on_a_wrong_derivative():
    assert not g9.package_route(claimed_derivative=lambda a, b, y: (a - b * y) / (y * (1 - y))).passed


def test_g9_package_route_measures_the_engines_integrand(monkeypatch):
    """The route compares sympy with logspace.criterion_terms: an integrand off by 1e-9 relative fails it."""
    from gan_theory import logspace

    real = logspace.criterion_terms

    def off(lp, lq, *args):
        v, n = real(lp, lq, *args)
        return v * (1 + 1e-9), n

    monkeypatch.setattr(logspace, "criterion_terms", off)
    assert not g9.package_route().passed
