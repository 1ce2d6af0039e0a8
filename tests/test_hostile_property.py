"""Property test over the hostile ranges (issue 9, "What it must show", second item).

Pairs of 1-D distributions are drawn on log scales: locations up to +-1e20, scales from 1e-12
to 1e12, scale ratios up to 1e12, offsets between the two from 1e-4 to 1e5 of the larger scale
(and shared locations); families Normal, Laplace, StudentT, Cauchy, Uniform (down to a few
float steps wide), Gamma, Beta and two-component mixtures (``MixtureSameFamily``). Each example
computes one of ``jsd``, ``kl`` (auto and quadrature), ``criterion``,
``value_function(optimal_discriminator(p, q), p, q)``, ``f_divergence`` (jensen_shannon, gan,
hellinger, total_variation; pearson and neyman for Normal and Uniform pairs) and
``wasserstein1``, for one pair or for a batch (``batch_shape (3,)``) where the function takes
batches.

The expected values come from tests/references/hostile.py (mpmath at 40 digits:
closed forms where they exist, otherwise mpmath quadrature in relative coordinates, split at the
modes, scales, support ends and crossings). Each example must

* raise :class:`gan_theory.AccuracyError`, or
* for a finite truth: return a finite ``value`` and ``error`` with ``|value - truth| <= error``,
  and never ``0 ± 0`` when the truth is not 0 (checked separately, so the failure names it);
* for an infinite truth (KL with mass of p where q vanishes, or tails of p too heavy for q;
  chi^2 with q too narrow; W1 with tails of index <= 1): return ``inf``.

The comparison allows, beyond ``error``, only the reference's own accuracy (relative 1e-21,
absolute 1e-60) and the distance from the truth to the nearest float. Any other exception
(a ValueError for a valid density, say) fails the example. A draw whose reference cannot
certify its own accuracy is replaced (``reject()``); on today's code that was 8 of 500.

Failures are expected until the fixes of issue 9 are merged: on the base commit, 97 of 500
examples fail (69 wrong values or 0 ± 0, 28 ValueErrors for valid densities; listed by class in
the report on issue 9). ``tests/references/hostile_survey.py``
runs N examples without stopping at the first failure and writes each one as a JSON line.

The default run draws 50 examples; ``pytest --slow`` runs 500 more (both derandomised by the
profile in tests/conftest.py).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

import gan_theory as gt
from references import hostile as H
from references.hostile import Dist

FAMILIES = ("normal", "laplace", "studentt", "cauchy", "uniform", "gamma", "beta", "mixture")
MIXTURE_COMPONENTS = ("normal", "laplace", "cauchy")

# function name -> (package call, reference, accepts batches)
FUNCTIONS = {
    "jsd": (gt.jsd, H.jsd, True),
    "kl": (gt.kl, H.kl, True),
    "kl_quadrature": (lambda p, q: gt.kl(p, q, method="quadrature"), H.kl, True),
    "criterion": (gt.criterion, H.criterion, True),
    "value_function": (lambda p, q: gt.value_function(gt.optimal_discriminator(p, q), p, q), H.criterion, False),
    "jensen_shannon": (lambda p, q: gt.f_divergence(p, q, "jensen_shannon"), H.jensen_shannon, True),
    "gan": (lambda p, q: gt.f_divergence(p, q, "gan"), H.criterion, True),
    "hellinger": (lambda p, q: gt.f_divergence(p, q, "hellinger"), H.hellinger, True),
    "total_variation": (lambda p, q: gt.f_divergence(p, q, "total_variation"), H.total_variation, True),
    "pearson": (lambda p, q: gt.f_divergence(p, q, "pearson"), H.pearson, True),
    "neyman": (lambda p, q: gt.f_divergence(p, q, "neyman"), H.neyman, True),
    "wasserstein1": (gt.wasserstein1, H.wasserstein1, False),
}
CHI2 = ("pearson", "neyman")  # references for Normal and Uniform pairs only


# --- strategies -------------------------------------------------------------------------------
def _pow10(lo: float, hi: float):
    return st.floats(lo, hi).map(lambda e: 10.0 ** e)


def _signed(s):
    return st.tuples(st.sampled_from((-1.0, 1.0)), s).map(lambda t: t[0] * t[1])


_EXPONENT = st.one_of(st.floats(-12.0, 12.0), st.sampled_from((-12.0, -6.0, 0.0, 6.0, 12.0)))
_CENTRE = st.one_of(st.just(0.0), _signed(_pow10(-3.0, 20.0)),
                    st.sampled_from((1e20, -1e20, 1e16, 12345.678)))
_RATIO = st.one_of(st.floats(-12.0, 12.0), st.sampled_from((-12.0, -9.0, -6.0, 0.0, 6.0, 9.0, 12.0)))
_OFFSET = st.one_of(st.just(0.0), _signed(_pow10(-4.0, 5.0)))


@st.composite
def geometry(draw, benign=False):
    """(centre, scale_p, location of q, scale_q): the hostile shape of a pair."""
    if benign:
        c = draw(st.floats(-2.0, 2.0))
        sp = draw(_pow10(-0.5, 0.5))
        sq = sp * draw(_pow10(-0.5, 0.5))
        return c, sp, c + draw(st.floats(-2.0, 2.0)), sq
    c = draw(_CENTRE)
    ep = draw(_EXPONENT)
    eq = min(12.0, max(-12.0, ep + draw(_RATIO)))
    sp, sq = 10.0 ** ep, 10.0 ** eq
    return c, sp, c + draw(_OFFSET) * max(sp, sq), sq


def _uniform(loc: float, scale: float, steps: int) -> Dist:
    lo, hi = loc - scale / 2, loc + scale / 2
    if hi <= lo:  # narrower than the float spacing at loc: a few float steps wide
        lo = loc
        hi = loc
        for _ in range(steps):
            hi = float(np.nextafter(hi, np.inf))
    return Dist("uniform", (lo, hi))


@st.composite
def distribution(draw, family: str, loc: float, scale: float, component: str | None = None):
    if family in ("normal", "laplace", "cauchy"):
        return Dist(family, (loc, scale))
    if family == "studentt":
        return Dist("studentt", (draw(st.sampled_from((0.7, 1.0, 1.5, 2.0, 2.5, 4.0, 9.0))), loc, scale))
    if family == "uniform":
        return _uniform(loc, scale, draw(st.integers(1, 6)))
    if family == "gamma":
        return Dist("gamma", (draw(_pow10(-0.25, 1.7)), 1.0 / scale))
    if family == "beta":
        return Dist("beta", (draw(_pow10(-0.25, 1.5)), draw(_pow10(-0.25, 1.5))))
    comp = component or draw(st.sampled_from(MIXTURE_COMPONENTS))
    w0 = draw(st.floats(0.05, 0.95))
    loc1 = loc + draw(_OFFSET) * scale
    scale1 = min(1e12, max(1e-12, scale * draw(_pow10(-3.0, 3.0))))
    return Dist("mixture", (w0, 1.0 - w0), (Dist(comp, (loc, scale)), Dist(comp, (loc1, scale1))))


@st.composite
def cases(draw):
    """(function name, list of (p, q) pairs, batched?)."""
    name = draw(st.sampled_from(sorted(FUNCTIONS)))
    batched = FUNCTIONS[name][2] and draw(st.booleans())
    families = ("normal", "uniform") if name in CHI2 else FAMILIES
    if batched:
        fam = draw(st.sampled_from(families))
        fam_p = fam_q = fam
        comp = draw(st.sampled_from(MIXTURE_COMPONENTS))
        n = 3
    else:
        fam_p = draw(st.sampled_from(families))
        fam_q = fam_p if name in CHI2 else draw(st.sampled_from(families))
        comp = None
        n = 1
    pairs = []
    for i in range(n):
        # in a batch, some elements are benign: one hostile element must not spoil the others
        benign = batched and draw(st.booleans())
        c, sp, lq, sq = draw(geometry(benign=benign))
        p = draw(distribution(fam_p, c, sp, comp))
        q = draw(distribution(fam_q, lq, sq, comp))
        pairs.append((p, q))
    return name, pairs, batched


# --- the check --------------------------------------------------------------------------------
# The references' own accuracy (tests/references/hostile.py checks its quadratures against
# this): relative 1e-22 with an absolute floor of 1e-62; the slack allowed below is wider.
REF_RTOL, REF_ATOL = mp.mpf("1e-21"), mp.mpf("1e-60")


def _problems(value: float, error: float, truth) -> list[str]:
    """What is wrong with ``value ± error`` for the exact ``truth`` (an mpf or mp.inf).

    The slack beyond ``error`` is the reference's own accuracy plus the distance from the
    truth to the nearest float (a truth of 1e-400 can only come back as 0).
    """
    out = []
    if truth == mp.inf:
        if value != math.inf:
            out.append(f"infinite truth returned as {value!r} ± {error!r} (expected inf or AccuracyError)")
        return out
    if not (math.isfinite(value) and math.isfinite(error)):
        out.append(f"finite truth {mp.nstr(truth, 17)} returned as {value!r} ± {error!r}")
        return out
    with mp.workdps(60):  # differences at full precision (mpmath's default is 15 digits)
        nearest = float(truth)
        slack = REF_RTOL * abs(truth) + REF_ATOL
        if math.isfinite(nearest):
            slack += abs(truth - mp.mpf(nearest))
        if abs(truth) > slack and nearest != 0.0 and value == 0.0 and error == 0.0:
            out.append(f"non-zero truth {mp.nstr(truth, 17)} returned as 0 ± 0")
        miss = abs(mp.mpf(value) - truth)
        bad = not miss <= mp.mpf(error) + slack
    if bad:
        out.append(f"|value - truth| = {mp.nstr(miss, 3)} > error {error:.3g} "
                   f"(value {value!r}, truth {mp.nstr(truth, 17)}, miss/error "
                   f"{mp.nstr(miss / mp.mpf(error), 3) if error else 'inf'})")
    return out


def evaluate(name: str, pairs: list, batched: bool) -> tuple[str, list[str], list]:
    """Run the package and the references on one case.

    Returns ``(outcome, problems, truths)``: outcome ``"accuracy_error"``, ``"ok"`` or
    ``"fail"``; ``problems`` says what failed, element by element.
    """
    call, reference, _ = FUNCTIONS[name]
    truths = [reference(p, q) for p, q in pairs]
    if batched:
        tp, tq = H.to_torch([p for p, _ in pairs]), H.to_torch([q for _, q in pairs])
    else:
        tp, tq = pairs[0][0].torch(), pairs[0][1].torch()
    try:
        res = call(tp, tq)
    except gt.AccuracyError:
        return "accuracy_error", [], truths
    values = np.atleast_1d(np.asarray(res.value, dtype=np.float64))
    errors = np.broadcast_to(np.asarray(res.error, dtype=np.float64), values.shape)
    if values.shape != (len(pairs),):
        return "fail", [f"expected {len(pairs)} values, got shape {values.shape}"], truths
    problems = [f"[{i}] {msg}" for i, (v, e, t) in enumerate(zip(values, errors, truths))
                for msg in _problems(float(v), float(e), t)]
    return ("fail" if problems else "ok"), problems, truths


def _describe(name: str, pairs: list, batched: bool) -> str:
    return f"{name}{' (batch)' if batched else ''}: " + "; ".join(f"p={p} q={q}" for p, q in pairs)


def _check(case) -> None:
    name, pairs, batched = case
    note(_describe(name, pairs, batched))
    try:
        outcome, problems, truths = evaluate(name, pairs, batched)
    except H.ReferenceAccuracyError:
        # the mpmath reference could not certify its own accuracy (8 of 500 draws of the survey,
        # all with heavy tails): such a draw judges nothing, so hypothesis replaces it
        reject()
    note(f"truths: {[mp.nstr(t, 17) for t in truths]}; outcome {outcome}")
    assert not problems, _describe(name, pairs, batched) + "\n" + "\n".join(problems)


_SETTINGS = dict(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=50, **_SETTINGS)
@given(case=cases())
def test_hostile_ranges(case):
    _check(case)


@pytest.mark.slow
@settings(max_examples=500, **_SETTINGS)
@given(case=cases())
def test_hostile_ranges_slow(case):
    _check(case)
