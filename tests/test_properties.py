"""Property tests (hypothesis, derandomized: the same examples every run).

Properties from the theory (Goodfellow et al. 2014, Prop. 1 and Thm. 1): JSD is symmetric and
lies in [0, log 2]; C(G) >= -log 4 with equality iff p_g = p_data; D* takes values in [0, 1];
swapped labels give 1 - D*; y -> a log y + b log(1 - y) is maximal at a/(a + b).
Each comparison allows the reported error bounds and nothing more.
"""

import math

import numpy as np
import torch
import torch.distributions as td
from hypothesis import given
from hypothesis import strategies as st

import gan_theory as gt

F = torch.float64
LOG2, LOG4 = math.log(2.0), math.log(4.0)

locs = st.floats(-5.0, 5.0)
scales = st.floats(0.05, 5.0)
weights = st.floats(0.05, 0.95)


@st.composite
def densities(draw):
    kind = draw(st.sampled_from(["normal", "laplace", "mixture", "uniform"]))
    if kind == "normal":
        return td.Normal(torch.tensor(draw(locs), dtype=F), torch.tensor(draw(scales), dtype=F))
    if kind == "laplace":
        return td.Laplace(torch.tensor(draw(locs), dtype=F), torch.tensor(draw(scales), dtype=F))
    if kind == "uniform":
        a = draw(locs)
        return td.Uniform(torch.tensor(a, dtype=F), torch.tensor(a + draw(scales), dtype=F))
    w = draw(weights)
    return td.MixtureSameFamily(td.Categorical(probs=torch.tensor([w, 1 - w], dtype=F)),
                                td.Normal(torch.tensor([draw(locs), draw(locs)], dtype=F),
                                          torch.tensor([draw(scales), draw(scales)], dtype=F)))


@given(densities(), densities())
def test_jsd_symmetric_and_bounded(p, q):
    a, b = gt.jsd(p, q), gt.jsd(q, p)
    assert abs(a.value - b.value) <= a.error + b.error
    assert -a.error <= a.value <= LOG2 + a.error


@given(densities(), densities())
def test_criterion_at_least_minus_log4(p, q):
    c = gt.criterion(p, q)
    assert c.value >= -LOG4 - c.error
    j = gt.jsd(p, q)
    if j.value > 10 * j.error + 1e-12:  # different densities: strictly above the minimum
        assert c.value > -LOG4 + c.error


@given(densities())
def test_criterion_equals_minus_log4_for_identical(p):
    c = gt.criterion(p, p)
    assert abs(c.value + LOG4) <= c.error


@given(densities(), densities(), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.lists(st.floats(-30, 30), min_size=1, max_size=20))
def test_d_star_in_unit_interval_and_swapped_labels(p, q, alpha, beta, xs):
    x = torch.tensor(xs, dtype=F)
    d = gt.optimal_discriminator(p, q, alpha, beta)(x)
    assert torch.all((d >= min(alpha, beta) - 1e-15) & (d <= max(alpha, beta) + 1e-15))
    plain = gt.optimal_discriminator(p, q)(x)
    swapped = gt.optimal_discriminator(p, q, 0.0, 1.0)(x)
    assert torch.all((plain >= 0) & (plain <= 1))
    np.testing.assert_allclose(swapped.numpy(), 1 - plain.numpy(), atol=1e-15, rtol=0)


@given(locs, scales, locs, scales, st.floats(-6.0, 6.0), st.sampled_from([(1.0, 0.0), (0.0, 1.0), (0.9, 0.0), (0.8, 0.3)]),
       st.floats(1e-6, 1 - 1e-6))
def test_pointwise_lemma_at_the_package_d_star(mp_, sp, mq, sq, x, labels, y):
    """At each x, the package's D*(x) maximises y -> a log y + b log(1 - y) with the label-weighted
    a = alpha p(x) + beta q(x), b = (1 - alpha) p(x) + (1 - beta) q(x) (the pointwise integrand of
    V): it equals a/(a + b), with p(x), q(x) from scipy.stats (independent of the engine), to
    1e-12 relative, and no y in (0, 1) does better."""
    from scipy import stats

    alpha, beta = labels
    pa, qb = stats.norm(mp_, sp).pdf(x), stats.norm(mq, sq).pdf(x)
    a, b = alpha * pa + beta * qb, (1 - alpha) * pa + (1 - beta) * qb
    if not pa + qb > 1e-250:  # both underflow: D* is the midpoint by convention (tested elsewhere)
        return
    d = gt.optimal_discriminator(td.Normal(torch.tensor(mp_, dtype=F), torch.tensor(sp, dtype=F)),
                                 td.Normal(torch.tensor(mq, dtype=F), torch.tensor(sq, dtype=F)),
                                 real_label=alpha, fake_label=beta)
    xt = torch.tensor([x], dtype=F)
    y_star, l_star = float(d(xt)[0]), float(d.logits(xt)[0])
    # probabilities to rounding of 1 (1 - sigmoid cancels for swapped labels), logits relatively
    assert abs(y_star - a / (a + b)) <= 1e-12 * (a / (a + b)) + 4e-16, (y_star, a / (a + b))
    if a > 0 and b > 0:
        assert abs(l_star - (math.log(a) - math.log(b))) <= 1e-12 * (abs(l_star) + 1), (l_star, math.log(a / b))
    # f at D*, from its logit (D* may round to 1 where b is tiny): log D* = -log(1 + e^-l)
    f_star = (a * -np.logaddexp(0.0, -l_star) if a > 0 else 0.0) + (b * -np.logaddexp(0.0, l_star) if b > 0 else 0.0)

    def f(v):
        out = 0.0
        if a > 0:
            out += a * math.log(v) if v > 0 else -math.inf
        if b > 0:
            out += b * math.log1p(-v) if v < 1 else -math.inf
        return out

    assert f_star >= f(y) - 1e-12 * (a + b)
    if 0 < y_star < 1 and abs(y - y_star) > 1e-6:  # the maximum is unique
        assert f_star > f(y)


@st.composite
def batches(draw):
    """A batch of 1 to 6 densities of one family, and a single density to compare it with."""
    kind = draw(st.sampled_from(["normal", "laplace", "uniform", "mixture"]))
    n = draw(st.integers(1, 6))
    loc = torch.tensor(draw(st.lists(locs, min_size=n, max_size=n)), dtype=F)
    scale = torch.tensor(draw(st.lists(scales, min_size=n, max_size=n)), dtype=F)
    if kind == "normal":
        batch = td.Normal(loc, scale)
    elif kind == "laplace":
        batch = td.Laplace(loc, scale)
    elif kind == "uniform":
        batch = td.Uniform(loc, loc + scale)
    else:
        w = torch.tensor(draw(st.lists(weights, min_size=n, max_size=n)), dtype=F)
        batch = td.MixtureSameFamily(td.Categorical(probs=torch.stack([w, 1 - w], 1)),
                                     td.Normal(torch.stack([loc, loc.flip(0) + 1.0], 1), torch.stack([scale, scale.flip(0)], 1)))
    return batch, draw(densities())


def _element(batch, i):
    if isinstance(batch, td.MixtureSameFamily):
        comp = batch.component_distribution
        return td.MixtureSameFamily(td.Categorical(probs=batch.mixture_distribution.probs[i]),
                                    td.Normal(comp.loc[i], comp.scale[i]))
    if isinstance(batch, td.Uniform):
        return td.Uniform(batch.low[i], batch.high[i])
    return type(batch)(batch.loc[i], batch.scale[i])


@given(batches())
def test_batch_equals_each_element_alone(case):
    # Each element of a batch is integrated on cells of its own; the result must equal the
    # element's own call within the two reported bounds (JSD and C(G), p and q swapped too).
    batch, q = case
    for fn in (gt.jsd, lambda a, b: gt.criterion(b, a)):
        res = fn(batch, q)
        for i in range(batch.batch_shape[0]):
            single = fn(_element(batch, i), q)
            assert abs(res.value[i] - single.value) <= res.error[i] + single.error, (i, res.value[i], single.value)
