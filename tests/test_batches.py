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
    assert kl_closed.method == "closed form (torch.distributions)"
    assert np.all(np.abs(kl_quad.value - kl_closed.value) <= kl_quad.error + kl_closed.error)
    for i in range(3):
        single = gt.jsd(td.Gamma(shape[i], rate), q)
        assert abs(js.value[i] - single.value) <= js.error[i] + single.error
