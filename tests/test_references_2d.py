"""2-D accuracy against converged references (tests/references/references_2d.json).

The references were computed by tests/references/make_references_2d.py with mpmath (25
digits; composite Gauss-Legendre on cells graded towards the modes, in polar or Cartesian
coordinates, using the pairs' symmetries), each with its own error estimate. The engine's
values must lie within their reported error of the reference and within 1e-8 (relative for
values above 1).
"""

from __future__ import annotations

import math

import pytest

import gan_theory as gt
from refdata import load_references
from specs import build, number

REFS = load_references("references_2d.json")
CASES = {c["id"]: c for c in REFS["cases"]}
QUANTITIES = ["jsd", "criterion", "kl_pq", "kl_qp"]
PARAMS = [(cid, q) for cid in CASES for q in QUANTITIES]


def compute(quantity, p, q):
    if quantity == "jsd":
        return gt.jsd(p, q)
    if quantity == "criterion":
        return gt.criterion(p, q)
    if quantity == "kl_pq":
        return gt.kl(p, q, method="quadrature")
    return gt.kl(q, p, method="quadrature")


@pytest.mark.parametrize("cid,quantity", PARAMS, ids=[f"{c}-{q}" for c, q in PARAMS])
def test_against_converged_reference(cid, quantity):
    case = CASES[cid]
    p, q = build(case["p"]), build(case["q"])
    ref, ref_err = number(case["values"][quantity]), float(case["errors"][quantity])
    r = compute(quantity, p, q)
    if math.isinf(ref):
        assert r.value == math.inf
        return
    err = abs(r.value - ref)
    assert err <= r.error + ref_err, f"{cid} {quantity}: true error {err:.3g} > reported {r.error:.3g}"
    assert err <= 1e-8 * max(1.0, abs(ref)), f"{cid} {quantity}: error {err:.3g}"


def test_mvn_kl_closed_form_matches_reference():
    case = CASES["correlated_vs_shifted_gaussian"]
    p, q = build(case["p"]), build(case["q"])
    for quantity, (a, b) in (("kl_pq", (p, q)), ("kl_qp", (q, p))):
        r = gt.kl(a, b)
        assert r.method == "closed form"
        assert abs(r.value - number(case["values"][quantity])) <= r.error + 1e-15
