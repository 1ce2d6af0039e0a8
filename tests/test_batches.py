"""Batches of densities: one call, one adaptive pass, B results.

Expected values come from two independent sources: the same functions called element by
element (they must agree within the two reported error bounds), and closed forms
(JSD(U(0,1), U(a,1+a)) = a log 2; Gaussian KL).
"""

import math

import numpy as np
import pytest
import torch
import torch.distributions as td

import gan_theory as gt

F64 = torch.float64


def _normals():
    mu = torch.linspace(-1.0, 2.0, 6, dtype=F64)
    sigma = torch.linspace(0.5, 1.6, 6, dtype=F64)
    return mu, sigma, td.Normal(mu, sigma), td.Normal(torch.tensor(0.3, dtype=F64), torch.tensor(1.2, dtype=F64))


FUNCTIONS = {
    "jsd": gt.jsd,
    "jsd_swapped": lambda p, q: gt.jsd(q, p),
    "kl_quadrature": lambda p, q: gt.kl(p, q, method="quadrature"),
    "criterion": gt.criterion,
    "hellinger": lambda p, q: gt.f_divergence(p, q, "hellinger"),
    "total_variation": lambda p, q: gt.f_divergence(p, q, "total_variation"),
    "gan": lambda p, q: gt.f_divergence(p, q, "gan"),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_batch_equals_elementwise_1d(name):
    fn = FUNCTIONS[name]
    mu, sigma, batch, q = _normals()
    res = fn(batch, q)
    assert res.value.shape == (6,) and res.error.shape == (6,)
    for i in range(6):
        single = fn(td.Normal(mu[i], sigma[i]), q)
        assert abs(res.value[i] - single.value) <= res.error[i] + single.error, (i, res.value[i], single.value)


def test_batch_jsd_of_shifted_uniforms_is_a_log2():
    # Closed form: JSD(U(0,1), U(a,1+a)) = a log 2 for 0 <= a <= 1.
    a = torch.tensor([0.0, 0.1, 0.25, 0.5, 0.9, 1.0, 1.5], dtype=F64)
    res = gt.jsd(td.Uniform(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64)), td.Uniform(a, a + 1))
    expected = np.minimum(a.numpy(), 1.0) * math.log(2)
    err = np.abs(res.value - expected)
    assert np.all(err <= res.error), (err, res.error)
    assert np.all(res.error <= 1e-11)


def test_batch_kl_closed_form_and_quadrature_agree_1d():
    mu, sigma, batch, q = _normals()
    closed = gt.kl(batch, q)
    quad = gt.kl(batch, q, method="quadrature")
    assert closed.method == "closed form" and quad.method == "quadrature"
    # Textbook formula, evaluated independently: log(s_q/s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2
    textbook = np.log(1.2 / sigma.numpy()) + (sigma.numpy() ** 2 + (mu.numpy() - 0.3) ** 2) / (2 * 1.2 ** 2) - 0.5
    np.testing.assert_allclose(closed.value, textbook, rtol=1e-13, atol=0)
    assert np.all(np.abs(quad.value - closed.value) <= quad.error + closed.error)


def test_batch_2d_mvn():
    scales = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    cov = torch.eye(2, dtype=F64) * scales[:, None, None] ** 2
    p = td.MultivariateNormal(torch.zeros(3, 2, dtype=F64), cov)
    q = td.MultivariateNormal(torch.tensor([1.0, -0.5], dtype=F64), torch.eye(2, dtype=F64))
    kl_batch = gt.kl(p, q)
    jsd_batch = gt.jsd(p, q)
    for i in range(3):
        single_p = td.MultivariateNormal(torch.zeros(2, dtype=F64), cov[i])
        # KL(N(0, s^2 I) || N(m, I)) in 2-D = s^2 - 1 - 2 log s + |m|^2 / 2
        s = float(scales[i])
        assert kl_batch.value[i] == pytest.approx(s * s - 1 - 2 * math.log(s) + 1.25 / 2, rel=1e-13, abs=0)
        single = gt.jsd(single_p, q)
        assert abs(jsd_batch.value[i] - single.value) <= jsd_batch.error[i] + single.error


def test_batch_errors():
    _, _, batch, q = _normals()
    with pytest.raises(ValueError, match="batches must have the same size"):
        gt.jsd(batch, td.Normal(torch.zeros(3, dtype=F64), 1.0))
    with pytest.raises(ValueError, match="p: expected a single density"):
        gt.f_divergence(batch, q, lambda u: (u - 1) ** 2)
    with pytest.raises(ValueError, match="p: expected a single density"):
        gt.wasserstein1(batch, q)
    with pytest.raises(ValueError, match="p_data: expected a single density"):
        gt.optimal_discriminator(batch, q)
    with pytest.raises(TypeError, match="batch of 6 values"):
        float(gt.jsd(batch, q))
    with pytest.raises(ValueError, match=r"batch_shape \(2, 3\)"):
        gt.jsd(td.Normal(torch.zeros(2, 3, dtype=F64), 1.0), q)


def test_batch_through_torch_log_prob():
    # Gamma has no NumPy fast path: the batch goes through torch's log_prob, with the family's
    # hints. Expected values: the element-wise calls, and torch's closed-form Gamma KL.
    shape = torch.tensor([1.5, 2.0, 3.0], dtype=F64)
    rate = torch.tensor(1.0, dtype=F64)
    q = td.Gamma(torch.tensor(2.5, dtype=F64), torch.tensor(1.2, dtype=F64))
    batch = td.Gamma(shape, rate)
    js = gt.jsd(batch, q)
    kl_quad = gt.kl(batch, q, method="quadrature")
    kl_closed = gt.kl(batch, q)
    assert kl_closed.method == "closed form"
    assert np.all(np.abs(kl_quad.value - kl_closed.value) <= kl_quad.error + kl_closed.error)
    for i in range(3):
        single = gt.jsd(td.Gamma(shape[i], rate), q)
        assert abs(js.value[i] - single.value) <= js.error[i] + single.error


# --------------------------------------------------------------------------------------------
# 1-D batches of fast-path families: each element integrated on cells of its own
# --------------------------------------------------------------------------------------------
def _mixture_batch():
    # B = 3 two-component mixtures with different weights, locations and scales
    logits = torch.tensor([[0.0, 0.0], [0.0, 1.0], [-2.0, 0.5]], dtype=F64)
    loc = torch.tensor([[-1.0, 1.0], [-3.0, 0.5], [0.0, 4.0]], dtype=F64)
    scale = torch.tensor([[0.3, 0.5], [1.0, 0.2], [2.0, 0.05]], dtype=F64)
    return (td.MixtureSameFamily(td.Categorical(logits=logits), td.Normal(loc, scale)),
            [td.MixtureSameFamily(td.Categorical(logits=logits[i]), td.Normal(loc[i], scale[i])) for i in range(3)])


def _cases():
    f = lambda *v: torch.tensor(v if len(v) > 1 else v[0], dtype=F64)  # noqa: E731 (a scalar for one value)
    return {
        "laplace_vs_cauchy": (td.Laplace(f(-2.0, 0.0, 3.0), f(0.5, 1.0, 0.1)), td.Cauchy(f(0.5), f(1.5))),
        "student_t_vs_normal": (td.StudentT(f(3.5, 4.0, 30.0), f(0.0, 1.0, -2.0), f(1.0, 0.2, 3.0)),
                                td.Normal(f(0.0), f(1.0))),
        "uniform_vs_laplace": (td.Uniform(f(-1.0, 0.0, 2.0), f(1.0, 0.5, 6.0)), td.Laplace(f(0.2), f(0.7))),
        "mixture_vs_normal": (_mixture_batch()[0], td.Normal(f(0.5), f(2.0))),
    }


def _elements(batch):
    if isinstance(batch, td.MixtureSameFamily):
        return _mixture_batch()[1]
    names = {td.Laplace: ("loc", "scale"), td.StudentT: ("df", "loc", "scale"), td.Uniform: ("low", "high")}[type(batch)]
    return [type(batch)(*(getattr(batch, n)[i] for n in names)) for i in range(batch.batch_shape[0])]


@pytest.mark.parametrize("case", sorted(_cases()))
@pytest.mark.parametrize("name", ["jsd", "kl_quadrature", "criterion", "total_variation"])
def test_batch_of_families_equals_elementwise(case, name):
    # Expected: the same function on each element alone (its own partition, no batch code);
    # they must agree within the sum of the two reported bounds.
    fn = FUNCTIONS[name]
    batch, q = _cases()[case]
    res = fn(batch, q)
    for i, element in enumerate(_elements(batch)):
        single = fn(element, q)
        if math.isinf(single.value):
            assert res.value[i] == single.value and res.error[i] == 0.0
        else:
            assert abs(res.value[i] - single.value) <= res.error[i] + single.error, (i, res.value[i], single.value)


def test_batch_work_is_the_sum_of_the_elements_work(monkeypatch):
    # 64 Gaussians spread over [-30, 30] with scales from 0.05 to 5. Sharing one partition
    # would evaluate every element on every element's cells (about 64 times the work); with
    # cells of its own each element costs what it costs alone. Work = log-density pairs fed
    # to the JSD integrand.
    from gan_theory import divergences

    seen = []

    def counting(lp, lq, eps):
        seen.append(np.broadcast(lp, lq).size)
        return jsd_terms(lp, lq, eps)

    jsd_terms = divergences.jsd_terms
    monkeypatch.setattr(divergences, "jsd_terms", counting)
    rng = np.random.default_rng(7)
    mu, sigma = rng.uniform(-30, 30, 64), np.exp(rng.uniform(math.log(0.05), math.log(5.0), 64))
    p = td.Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    res = gt.jsd(p, td.Normal(torch.from_numpy(mu), torch.from_numpy(sigma)))
    batch_work = sum(seen)
    seen.clear()
    singles = [gt.jsd(p, td.Normal(torch.tensor(m, dtype=F64), torch.tensor(s, dtype=F64))) for m, s in zip(mu, sigma)]
    assert batch_work <= 1.5 * sum(seen), (batch_work, sum(seen))
    values = np.array([r.value for r in singles])
    assert np.all(np.abs(res.value - values) <= res.error + np.array([r.error for r in singles]))


def test_batch_with_an_infinite_element():
    # KL(U(0, b) || U(0, 1)): log(1/b) for b <= 1, infinite for b > 1 (mass where q = 0).
    b = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    res = gt.kl(td.Uniform(torch.zeros(3, dtype=F64), b), td.Uniform(torch.tensor(0.0, dtype=F64),
                                                                     torch.tensor(1.0, dtype=F64)), method="quadrature")
    assert res.value[2] == math.inf and res.error[2] == 0.0
    np.testing.assert_allclose(res.value[:2], [math.log(2.0), 0.0], rtol=0, atol=1e-13)
    assert np.all(np.abs(res.value[:2] - [math.log(2.0), 0.0]) <= res.error[:2])


def test_batch_accuracy_error_names_the_element():
    _, _, batch, q = _normals()
    with pytest.raises(gt.AccuracyError, match=r"for JSD \(batch element 0\)"):
        gt.jsd(batch, q, atol=1e-20, rtol=0.0)


def test_batch_domain_tiles_each_element():
    from gan_theory.densities import as_density
    from gan_theory.integrate import make_batch_domain

    supports = [(-1.0, 1.0), (0.137, 0.611), (2.31, 6.07)]
    batch = td.Uniform(torch.tensor([a for a, _ in supports], dtype=F64), torch.tensor([b for _, b in supports], dtype=F64))
    dp, dq = as_density(batch, batch=True), as_density(td.Laplace(torch.tensor(0.2, dtype=F64), torch.tensor(0.7, dtype=F64)))
    dom = make_batch_domain([dp.hints, dq.hints], 3)
    ax = dom.axes[0]
    t_lo, t_hi = ax.t_range
    for b, (low, high) in enumerate(supports):
        lo, hi = dom.lo[dom.owner == b], dom.hi[dom.owner == b]
        # contiguous cells from one end of the coordinate to the other
        assert lo[0] == t_lo and hi[-1] == t_hi and np.all(lo[1:] == hi[:-1]) and np.all(hi > lo)
        edges = ax.forward(np.r_[lo, hi[-1]])[0]
        # the element's own breaks (its support ends) and q's cusp are cell edges; another
        # element's are not
        for x in (low, high, 0.2):
            assert np.any(edges == x), (b, x)
        others = {x for ab in supports for x in ab} - {low, high}
        assert not any(np.any(edges == x) for x in others), b


def test_log_prob_at_equals_log_prob_columns():
    # The per-point (gathered) log-density equals the batch log-density's column for that element.
    from gan_theory.densities import as_density

    for batch, _ in _cases().values():
        d = as_density(batch, batch=True)
        x = np.linspace(-5.0, 7.0, 41)
        full = d.log_prob(x).reshape(41, -1)
        member = np.arange(41) % full.shape[1]
        np.testing.assert_array_equal(d.log_prob_at(x, member), full[np.arange(41), member])


def test_batch_cell_budget_is_per_element():
    # KL(t_1.5 || N(0, 1)) is infinite (p x^2 is not integrable), which quadrature cannot certify:
    # the element is refused on its own cells and the error names it; the finite element (t_30)
    # does not share in its budget. (Since the tails' nodes are placed exactly next to the map's
    # ends, the divergent tail is refined until double precision runs out there, which comes
    # before its budget of 20000 cells.)
    batch = td.StudentT(torch.tensor([30.0, 1.5], dtype=F64), torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    q = td.Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    with pytest.raises(gt.AccuracyError, match=r"for KL \(batch element 1\)(: the integrand needs resolving| within 20000 cells)"):
        gt.kl(batch, q, method="quadrature")
