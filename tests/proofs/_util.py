"""Shared assertions for the proof-check tests."""

from gan_theory.claims import CLAIMS, CheckContext, run_one


def assert_claim_passes(claim_id: str, full: bool = False):
    res = run_one(CLAIMS[claim_id], CheckContext(full=full))
    bad = [f"{r.name}: {r.measured} = {r.value} (tolerance {r.tolerance})" for r in res.routes if not r.passed]
    bad += [f"erratum {e.stated!r}: stated passed={e.stated_route.passed}, corrected passed={e.corrected_route.passed}"
            for e in res.errata if not e.passed]
    assert res.error is None, res.error
    assert res.passed, "\n".join(bad)
    assert res.routes, "a claim needs at least one route"
    return res
