"""The mixture-of-Gaussians generator (training/mixture.py): its density, its two samplers and
its gradients, each against an independent reference (scipy.stats, closed forms)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st
import torch

import gan_theory as gt
from gan_theory.training.mixture import INIT_COMPONENT_SCALE, MIN_SCALE, MixtureGenerator

F64 = torch.float64


def _member(dim: int, k: int, n: int = 3, seed: int = 0) -> MixtureGenerator:
    """A float64 generator with random means, stds and (unequal) weights."""
    g = MixtureGenerator(n, dim, k, dtype=F64)
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        g.loc.copy_(3 * torch.randn(n, k, dim, generator=rng, dtype=F64))
        g.log_scale.copy_(torch.randn(n, k, dim, generator=rng, dtype=F64) * 0.5 - 0.5)
        g.logits.copy_(torch.randn(n, k, generator=rng, dtype=F64))
    return g


def _scipy_logpdf(g: MixtureGenerator, i: int, x: np.ndarray) -> np.ndarray:
    """log p of member i by scipy.stats (independent of torch.distributions)."""
    mu = g.loc[i].detach().numpy()
    sd = g.scale()[i].detach().numpy()
    w = np.exp(g.logits[i].detach().numpy())
    w = w / w.sum()
    dens = sum(w[k] * np.prod(st.norm(mu[k], sd[k]).pdf(x.reshape(-1, g.dim)), axis=-1) for k in range(g.n_components))
    return np.log(dens)


@pytest.mark.parametrize("dim", [1, 2])
def test_log_prob_and_member_density_equal_scipy(dim):
    g = _member(dim, 5)
    x = torch.randn(3, 40, dim, generator=torch.Generator().manual_seed(1), dtype=F64) * 3
    lp = g.log_prob(x)
    for i in range(3):
        ref = _scipy_logpdf(g, i, x[i].numpy())
        # float64 rounding only: scipy and torch evaluate the same sums in other orders
        np.testing.assert_allclose(lp[i].numpy(), ref, rtol=1e-12, atol=1e-12)
        pts = x[i, :, 0] if dim == 1 else x[i]
        np.testing.assert_allclose(g.member_density(i).log_prob(pts).numpy(), ref, rtol=1e-12, atol=1e-12)


def test_log_prob_is_detached_from_parameters():
    g = _member(2, 3)
    x = torch.randn(3, 7, 2, dtype=F64, requires_grad=True)
    lp = g.log_prob(x)
    assert not lp.requires_grad or all(p.grad is None for p in g.parameters())
    lp.sum().backward()
    assert x.grad is not None and all(p.grad is None for p in g.parameters())


def _poly_expectation(mu: torch.Tensor, sd: torch.Tensor) -> torch.Tensor:
    """E f(x) for x ~ N(mu, diag sd^2), f = x1^2 + x1 x2 + x2^3 (closed form: Gaussian moments)."""
    m1, m2, s1, s2 = mu[..., 0], mu[..., 1], sd[..., 0], sd[..., 1]
    return m1 ** 2 + s1 ** 2 + m1 * m2 + m2 ** 3 + 3 * m2 * s2 ** 2


def _poly(x: torch.Tensor) -> torch.Tensor:
    return x[..., 0] ** 2 + x[..., 0] * x[..., 1] + x[..., 1] ** 3


def test_weighted_sample_is_unbiased_for_a_polynomial():
    # K = 3 with B = 300001 (not a multiple of K: the strata have unequal counts) and very
    # unequal weights. The estimate sum_b w_b f(x_b) is compared with the closed form
    # sum_k w_k E f(mu_k + sigma_k z) within 5 standard errors, the standard error estimated
    # from the within-stratum sample variances: a false alarm has probability 5.7e-7 under the
    # CLT (and the seed is fixed, so the test is deterministic). Equal weights instead of w_k,
    # or w_k / (B/K) instead of w_k / n_k, move the estimate by far more than that.
    g = _member(2, 3, n=1, seed=4)
    with torch.no_grad():
        g.logits.copy_(torch.tensor([[2.0, 0.0, -1.5]], dtype=F64))
        g.loc.copy_(torch.tensor([[[0.5, -1.0], [1.5, 0.3], [-0.7, 1.2]]], dtype=F64))
        g.log_scale.copy_(torch.log(torch.tensor([[[0.3, 0.5], [0.2, 0.4], [0.6, 0.25]]], dtype=F64) - MIN_SCALE))
    b = 300_001
    z = torch.randn(1, b, 3, generator=torch.Generator().manual_seed(7), dtype=F64)
    x, w = g.weighted_sample(z)
    assert x.shape == (1, b, 2) and w.shape == (1, b)
    assert abs(float(w.detach().sum()) - 1.0) < 1e-12
    with torch.no_grad():
        fx = _poly(x[0])
        est = float((w[0] * fx).sum())
        wk = torch.softmax(g.logits[0], -1)
        exact = float((wk * _poly_expectation(g.loc[0], g.scale()[0])).sum())
        comp = torch.arange(b) % 3
        var = sum(float(wk[k] ** 2 * fx[comp == k].var() / (comp == k).sum()) for k in range(3))
    assert abs(est - exact) <= 5 * math.sqrt(var), (est, exact, math.sqrt(var))


def test_weighted_sample_strata_and_weights():
    g = _member(2, 4, n=2)
    z = torch.randn(2, 10, 3, dtype=F64)
    x, w = g.weighted_sample(z)
    wk = torch.softmax(g.logits.detach(), -1)
    counts = torch.tensor([3, 3, 2, 2], dtype=F64)  # b mod 4 for b = 0..9
    for b in range(10):
        k = b % 4
        torch.testing.assert_close(x[:, b].detach(), g.loc[:, k].detach() + g.scale()[:, k].detach() * z[:, b, :2],
                                   rtol=0, atol=1e-14)
        torch.testing.assert_close(w[:, b].detach(), wk[:, k] / counts[k], rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="B >= K"):
        g.weighted_sample(torch.randn(2, 3, 3, dtype=F64))


def test_weighted_sample_gradients_reach_means_stds_and_weight_logits():
    # d/dl_j sum_k w_k F_k = w_j (F_j - sum_k w_k F_k), with F_k the stratum mean of f: the
    # softmax derivative, computed here by hand from the samples.
    g = _member(2, 4, n=2, seed=3)
    z = torch.randn(2, 64, 3, generator=torch.Generator().manual_seed(5), dtype=F64)
    x, w = g.weighted_sample(z)
    est = (w * _poly(x)).sum(-1)
    est.sum().backward()
    assert g.loc.grad.abs().sum() > 0 and g.log_scale.grad.abs().sum() > 0
    with torch.no_grad():
        comp = torch.arange(64) % 4
        fx = _poly(x)
        f_k = torch.stack([fx[:, comp == k].mean(-1) for k in range(4)], -1)  # (2, 4)
        wk = torch.softmax(g.logits, -1)
        expected = wk * (f_k - (wk * f_k).sum(-1, keepdim=True))
    torch.testing.assert_close(g.logits.grad, expected, rtol=1e-12, atol=1e-12)


def test_forward_samples_follow_the_mixture():
    # The component picked by Phi(z_last) against the cumulative weights: the fraction of
    # samples nearest each of K = 3 well-separated components (stds 0.1, means 10 apart) is
    # w_k within 5 binomial standard errors (false-alarm rate 5.7e-7 per component, CLT).
    g = MixtureGenerator(1, 2, 3, dtype=F64)
    with torch.no_grad():
        g.loc.copy_(torch.tensor([[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]], dtype=F64))
        g.log_scale.fill_(math.log(0.1 - MIN_SCALE))
        g.logits.copy_(torch.log(torch.tensor([[0.6, 0.3, 0.1]], dtype=F64)))
    n = 100_000
    x = g(torch.randn(1, n, 3, generator=torch.Generator().manual_seed(2), dtype=F64))[0]
    nearest = torch.cdist(x, g.loc[0].detach()).argmin(1)
    for k, wk in enumerate((0.6, 0.3, 0.1)):
        frac = float((nearest == k).double().mean())
        assert abs(frac - wk) <= 5 * math.sqrt(wk * (1 - wk) / n), (k, frac)


def test_reset_parameters_uses_each_members_generator():
    gens = [torch.Generator().manual_seed(s) for s in (11, 12, 13)]
    g = MixtureGenerator(3, 2, 5, dtype=F64)
    g.reset_parameters(gens, init_loc=1.0, init_scale=2.0)
    alone = MixtureGenerator(1, 2, 5, dtype=F64)
    alone.reset_parameters([torch.Generator().manual_seed(12)], init_loc=1.0, init_scale=2.0)
    torch.testing.assert_close(g.loc[1], alone.loc[0], rtol=0, atol=0)
    expected = 1.0 + 2.0 * torch.randn(5, 2, generator=torch.Generator().manual_seed(12), dtype=F64)
    torch.testing.assert_close(alone.loc[0].detach(), expected, rtol=0, atol=0)
    assert torch.all(g.logits == 0)
    assert torch.allclose(g.scale(), torch.full_like(g.scale(), 2.0 * INIT_COMPONENT_SCALE))


def _two_mixtures(narrow: float):
    """Two 2-D mixtures on the same three components (one of them narrow), far apart (10
    units, >= 50 stds), with different weights a and b."""
    mu = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], dtype=F64)
    sd = torch.tensor([[0.2, 0.3], [narrow, narrow], [0.25, 0.15]], dtype=F64)
    a = torch.tensor([0.5, 0.3, 0.2], dtype=F64)
    b = torch.tensor([0.2, 0.45, 0.35], dtype=F64)
    g = MixtureGenerator(1, 2, 3, dtype=F64)
    with torch.no_grad():
        g.loc.copy_(mu[None])
        g.log_scale.copy_(torch.log(sd - MIN_SCALE)[None])
        g.logits.copy_(torch.log(b)[None])
    p = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(probs=a),
                                              torch.distributions.Independent(torch.distributions.Normal(mu, sd), 1))
    return p, g.member_density(0), a, b


@pytest.mark.parametrize("narrow", [0.1, 5e-3])
def test_engine_jsd_and_criterion_on_member_density_match_closed_form(narrow):
    # With components > 30 stds apart the overlap is below 1e-190, so
    # JSD(p, q) = sum_k [a_k/2 log(2 a_k/(a_k + b_k)) + b_k/2 log(2 b_k/(a_k + b_k))]
    # (the JSD of the two weight vectors) to far below double precision, and
    # C(G) = -log 4 + 2 JSD (Goodfellow et al. 2014, Thm. 1). The engine must find the narrow
    # component (std 5e-3 at (10, 0)) through its hints to get this right.
    p, q, a, b = _two_mixtures(narrow)
    m = (a + b) / 2
    exact = float((a / 2 * torch.log(a / m) + b / 2 * torch.log(b / m)).sum())
    js = gt.jsd(p, q, atol=1e-10, rtol=0.0)
    assert abs(js.value - exact) <= js.error + 1e-13, (js.value, exact, js.error)
    c = gt.criterion(p, q, atol=1e-10, rtol=0.0)
    assert abs(c.value - (-gt.LOG4 + 2 * exact)) <= c.error + 1e-13, (c.value, c.error)


def test_member_density_hints_find_every_component():
    _, q, _, _ = _two_mixtures(5e-3)
    h = gt.as_density(q, "p_g").hints
    centers, scales = np.asarray(h.centers), np.asarray(h.scales)
    for mu, sd in (([10.0, 0.0], 5e-3), ([0.0, 0.0], 0.2), ([0.0, 10.0], 0.15)):
        hit = np.all(np.isclose(centers, mu, atol=1e-12), axis=1)
        assert hit.any(), (mu, centers)
        assert np.min(scales[hit]) <= sd + 1e-12  # a scale no wider than the component's narrowest std


def test_one_dimensional_member_density_is_a_normal_mixture():
    g = _member(1, 4, n=1)
    d = g.member_density(0)
    assert isinstance(d.component_distribution, torch.distributions.Normal)
    x = torch.linspace(-8, 8, 33, dtype=F64)
    np.testing.assert_allclose(d.log_prob(x).numpy(), _scipy_logpdf(g, 0, x.numpy()), rtol=1e-12, atol=1e-12)
    assert abs(gt.jsd(d, d).value) < 1e-12


# ---------------------------------------------------------------------- entropy bonus (issue 10)
def test_log_prob_undetached_has_the_density_of_torch_distributions_and_its_gradients():
    """``log_prob(x, detach=False)``: the values of the detached form, and parameter gradients
    equal to autograd's through an independently built torch.distributions mixture (float64
    rounding: 1e-10 relative)."""
    g = _member(2, 4)
    x = torch.randn(3, 9, 2, generator=torch.Generator().manual_seed(5), dtype=F64) * 2
    lp = g.log_prob(x, detach=False)
    np.testing.assert_allclose(lp.detach().numpy(), g.log_prob(x).numpy(), rtol=0, atol=0)
    ours = torch.autograd.grad(lp.sum(), list(g.parameters()))
    import torch.distributions as td
    loc, log_scale, logits = (p.detach().clone().requires_grad_(True) for p in (g.loc, g.log_scale, g.logits))
    mix = td.MixtureSameFamily(td.Categorical(logits=logits),
                               td.Independent(td.Normal(loc, MIN_SCALE + torch.exp(log_scale)), 1))
    ref = torch.autograd.grad(mix.log_prob(x.transpose(0, 1)).sum(), [loc, log_scale, logits])
    by_name = dict(zip([n for n, _ in g.named_parameters()], ours))
    for name, r in zip(("loc", "log_scale", "logits"), ref):
        np.testing.assert_allclose(by_name[name].numpy(), r.numpy(), rtol=1e-10, atol=1e-12)


def test_entropy_bonus_is_lambda_times_the_weighted_log_density():
    """The generator loss with ``entropy_weight = lambda`` is the loss without it plus
    ``lambda * sum_b w_b log p_g(x_b)``, with ``log p_g`` from scipy.stats (float64: 1e-12)."""
    from gan_theory.training.ensemble import EnsembleMLP
    from gan_theory.training.steps import generate, generator_losses

    g = _member(2, 5)
    disc = EnsembleMLP(3, (2, 8, 1), "leaky_relu", dtype=F64)
    disc.reset_parameters([torch.Generator().manual_seed(i) for i in range(3)])
    z = torch.randn(3, 20, 3, generator=torch.Generator().manual_seed(2), dtype=F64)
    lam = torch.tensor(0.37, dtype=F64)
    base = generator_losses(g, disc, z, "non_saturating", None, 1.0, 0.0)
    with_bonus = generator_losses(g, disc, z, "non_saturating", None, 1.0, 0.0, lam)
    x, w = generate(g, z)
    for i in range(3):
        ref = 0.37 * float((w[i].detach().numpy() * _scipy_logpdf(g, i, x[i].detach().numpy())).sum())
        assert abs(float((with_bonus[i] - base[i]).detach()) - ref) <= 1e-12 * max(1.0, abs(ref))


def test_entropy_estimate_is_unbiased():
    """``sum_b w_b log p_g(x_b)`` over the stratified sample estimates ``E_{p_g} log p_g =
    -H(p_g)``: the mean of 400 batches of 512 against H by scipy's quadrature (1-D, three
    components), within 5 standard errors of the mean (false-alarm rate < 1e-6 by the CLT)."""
    from scipy import integrate

    g = _member(1, 3, n=1, seed=3)
    rng = torch.Generator().manual_seed(11)
    est = []
    with torch.no_grad():
        for _ in range(400):
            x, w = g.weighted_sample(torch.randn(1, 512, 2, generator=rng, dtype=F64))
            est.append(float((w * g.log_prob(x)).sum()))
    est = np.array(est)
    loc, sd = g.loc.detach(), g.scale().detach()
    lo, hi = float(loc.min() - 12 * sd.max()), float(loc.max() + 12 * sd.max())

    def f(t):
        lp = float(_scipy_logpdf(g, 0, np.array([t]))[0])
        return math.exp(lp) * lp

    minus_h, _ = integrate.quad(f, lo, hi, points=loc[0, :, 0].tolist(), limit=500, epsabs=1e-11)
    se = est.std(ddof=1) / math.sqrt(len(est))
    assert abs(est.mean() - minus_h) <= 5 * se, (est.mean(), minus_h, se)


def test_component_scale_sets_the_initial_std():
    g = MixtureGenerator(2, 2, 3, component_scale=0.05, dtype=F64)
    g.reset_parameters([torch.Generator().manual_seed(i) for i in range(2)], 0.0, 3.5)
    np.testing.assert_allclose(g.scale().detach().numpy(), 0.175, rtol=1e-14)
    with pytest.raises(ValueError, match="component_scale"):
        MixtureGenerator(2, 2, 3, component_scale=0.0)


def test_the_trainer_applies_the_decaying_entropy_bonus():
    """Three steps with ``entropy_weight`` move the generator differently from three without, and
    the trainer's weight at each step is ``entropy_weight_at(step)``, from ``entropy_weight`` down."""
    from gan_theory.training.run import Trainer

    def run(lam):
        cfg = gt.TrainConfig(generator="mixture", mixture_components=4, steps=3, batch_size=32, d_hidden=(8,),
                             ensemble=2, log_every=10 ** 6, device="cpu", dtype="float64", entropy_weight=lam)
        tr = Trainer(gt.toys.ring(k=4, std=0.3), cfg)
        seen = []
        for _ in range(3):
            tr.step()
            seen.append(None if tr._entropy_weight is None else float(tr._entropy_weight))
        return tr, seen

    with_bonus, seen = run(0.3)
    without, none = run(0.0)
    assert none == [None] * 3
    assert seen == [with_bonus.config.entropy_weight_at(t) for t in range(3)] and seen[0] == 0.3
    p1 = torch.cat([p.detach().reshape(2, -1) for p in with_bonus.chunks[0].generator.parameters()], 1)
    p0 = torch.cat([p.detach().reshape(2, -1) for p in without.chunks[0].generator.parameters()], 1)
    assert (p1 - p0).abs().max() > 1e-6


def test_entropy_bonus_gradient_is_exact_for_one_component():
    """With one component, ``sum_b w_b log p_g(x_b)`` with ``x_b = mu + sigma z_b`` is
    ``-sum_d log sigma_d - |z|^2/2 - log 2 pi`` per sample, so its gradient is ``-1/sigma_d`` in
    ``sigma_d`` (``-exp(s_d)/sigma_d`` in the log-std ``s_d``) and 0 in the mean, for any ``z``:
    the bonus widens the component through the samples and the density together (a gradient
    through the density alone has expectation 0). Closed form, float64: 1e-12."""
    from gan_theory.training.ensemble import EnsembleMLP
    from gan_theory.training.steps import generator_losses

    g = _member(2, 1)
    disc = EnsembleMLP(3, (2, 4, 1), "leaky_relu", dtype=F64)
    disc.reset_parameters([torch.Generator().manual_seed(i) for i in range(3)])
    z = torch.randn(3, 16, 3, generator=torch.Generator().manual_seed(4), dtype=F64)
    lam = torch.tensor(0.5, dtype=F64)
    bonus = (generator_losses(g, disc, z, "non_saturating", None, 1.0, 0.0, lam)
             - generator_losses(g, disc, z, "non_saturating", None, 1.0, 0.0)).sum()
    d_loc, d_log_scale = torch.autograd.grad(bonus, [g.loc, g.log_scale])
    expected = -0.5 * torch.exp(g.log_scale.detach()) / g.scale().detach()
    np.testing.assert_allclose(d_log_scale.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d_loc.numpy(), 0.0, atol=1e-12)
