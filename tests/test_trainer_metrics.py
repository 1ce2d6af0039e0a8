"""The trainer's recorded metrics against independent computations.

Expected values:
- grid generator: the discrete JSD of the data and generator probability vectors, summed directly
  in float64 from ``p_data``'s own log-density on the grid (not through the trainer's criterion),
  and Theorem 1 of Goodfellow et al. (2014), ``C = -log 4 + 2 JSD``;
- MLP discriminator: ``||D - D*||_m`` by scipy's adaptive quadrature (QUADPACK, a second method)
  of ``m (D - D*)^2`` with ``D*`` from scipy.stats densities, and the sup of ``|D - D*|`` over the
  central 99% of ``m`` on a grid of 200001 points between quantiles of ``m`` found by root
  finding on its exact cdf.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, optimize, stats
from scipy.special import expit

import gan_theory as gt
from gan_theory.training.config import TrainConfig
from gan_theory.training.run import Trainer

F = torch.float64
LOG4 = math.log(4.0)


def test_grid_generator_records_jsd_and_criterion_of_its_density():
    target = gt.toys.mixture2()
    cfg = TrainConfig(generator="grid", discriminator="optimal", optimizer="sgd", lr_g=0.3, steps=4, log_every=2,
                      init_loc=-2.0, init_scale=1.5, device="cpu", dtype="float64", ensemble=2, grid_points=801)
    tr = Trainer(target, cfg)
    r = tr.run(progress=False)
    gen = tr.chunks[0].generator
    x = gen.x.numpy()
    la = target.log_prob(torch.from_numpy(x)).numpy()
    la = la - np.logaddexp.reduce(la)
    a = np.exp(la)
    lb = gen.log_b().detach().numpy()
    for rec in r.final:
        b = np.exp(lb[rec["member"]])
        mix = 0.5 * (a + b)
        js = 0.5 * np.sum(a * (la - np.log(mix))) + 0.5 * np.sum(b * (lb[rec["member"]] - np.log(mix)))
        c = np.sum(a * (la - np.log(a + b))) + np.sum(b * (lb[rec["member"]] - np.log(a + b)))
        assert js > 1e-3  # not yet converged: the check is not 0 == 0
        # 801 terms of size <= 1, float64 rounding: 1e-13
        assert abs(rec["jsd"] - js) <= 1e-13, (rec["jsd"], js)
        assert abs(rec["criterion"] - c) <= 1e-13, (rec["criterion"], c)
        assert abs(rec["jsd"] - (rec["criterion"] + LOG4) / 2) <= 1e-14  # Theorem 1
    # every logged record, not only the last, satisfies Theorem 1 and lies in [0, log 2]
    for rec in r.history:
        assert 0 <= rec["jsd"] <= math.log(2) and abs(rec["jsd"] - (rec["criterion"] + LOG4) / 2) <= 1e-14


def _mixture_quantile(p, q, u):
    """The u-quantile of m = (p + q)/2 for two scipy frozen distributions (root of the exact cdf)."""
    f = lambda x: 0.5 * (p.cdf(x) + q.cdf(x)) - u  # noqa: E731
    return optimize.brentq(f, -100.0, 100.0, xtol=1e-14, rtol=1e-15)


def _dstar(p, q):
    return lambda x: expit(p.logpdf(x) - q.logpdf(x))


def _d_of(d):
    return lambda x: d(torch.as_tensor(np.atleast_1d(x), dtype=F)).numpy()


def _independent_error(d, p, q):
    """||D - D*||_m by QUADPACK."""
    dstar, D = _dstar(p, q), _d_of(d)

    def f(x):
        return 0.5 * (p.pdf(x) + q.pdf(x)) * (D(x)[0] - dstar(x)) ** 2

    cuts = [-np.inf, -30.0, -8.0, -4.0, -2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 8.0, 30.0, np.inf]
    parts = [integrate.quad(f, a, b, epsabs=1e-15, epsrel=1e-10, limit=200) for a, b in zip(cuts[:-1], cuts[1:])]
    total, err = sum(v for v, _ in parts), sum(e for _, e in parts)
    assert err <= 1e-10 * total  # QUADPACK's own estimate
    return math.sqrt(total)


def _independent_sup(d, p, q, mass):
    """sup |D - D*| over [Q((1 - mass)/2), Q((1 + mass)/2)] of m, on 200001 points."""
    dstar, D = _dstar(p, q), _d_of(d)
    lo, hi = _mixture_quantile(p, q, (1 - mass) / 2), _mixture_quantile(p, q, (1 + mass) / 2)
    xs = np.linspace(lo, hi, 200001)
    return float(np.max(np.abs(D(xs) - dstar(xs))))


def test_trainer_d_error_and_d_sup_error_match_independent_computations():
    target = (2.0, 0.5)
    # a smooth (silu) discriminator, so that QUADPACK meets its tolerance without knowing kinks
    cfg = TrainConfig(generator="affine", discriminator="mlp", steps=20, log_every=20, ensemble=2, seed=3,
                      init_loc=0.0, init_scale=1.5, device="cpu", dtype="float64", d_hidden=(16, 16), d_activation="silu",
                      lr_d=0.02, lr_g=0.01)
    tr = Trainer(gt.toys.gaussian(*target), cfg)
    r = tr.run(progress=False)
    p = stats.norm(*target)
    for rec in r.final:
        i = rec["member"]
        dens = r.generators[i].density()
        q = stats.norm(float(dens.loc), float(dens.scale))
        d = r.discriminators[i]
        err = _independent_error(d, p, q)
        assert err > 1e-2  # a discriminator still far from D*
        # the record's own error bound (network_quadrature_atol: ~3e-6 here), plus QUADPACK's 1e-10
        # relative (halved by the square root); weighting by p + q instead of m is a factor sqrt(2)
        assert abs(rec["d_error"] - err) <= rec["d_error_bound"] + 1e-10 * err, (rec["d_error"], err)
        # the sup lies at an end of the region here, where |D - D*| has slope ~0.4: the package's
        # grid (spacing 0.005) places the ends to within ~2e-4 of mass, so the record must lie
        # between the sups over the central 98.95% and 99.05% of m (grid maxima: 1e-4)
        inner, outer = _independent_sup(d, p, q, 0.9895), _independent_sup(d, p, q, 0.9905)
        assert inner > 0.1 and _independent_sup(d, p, q, 0.5) < inner - 0.05  # a shrunk region is seen
        assert inner - 1e-4 <= rec["d_sup_error"] <= outer + 1e-4, (inner, rec["d_sup_error"], outer)


def _tanh_d(x):
    x = torch.as_tensor(x, dtype=F)
    return 0.5 + 0.15 * torch.tanh(x / 2)


def test_discriminator_sup_error_is_over_the_central_99_percent():
    """D = 1/2 + 0.15 tanh(x/2) against D* = 1/2 (p = q = N(0, 1)): |D - D*| grows with |x|, so
    its sup over the central 99% of m is at the region's ends +-z_{0.995} = +-2.5758:
    0.15 tanh(1.2879) = 0.12884 (0.0490 over the central 50%). Closed form, scipy's quantile."""
    p = gt.toys.gaussian(0.0, 1.0)
    z = stats.norm.ppf(0.995)
    exact = 0.15 * math.tanh(z / 2)
    got = gt.discriminator_sup_error(_tanh_d, p, p)
    # grid spacing 16/4000 = 0.004 times the slope 0.075 sech^2(1.29) = 0.021: 1e-4
    assert abs(got - exact) <= 1e-4, (got, exact)
    # over the central 50%: 0.15 tanh(z_{0.75}/2) = 0.04875, slope 0.067 there: 3e-4
    half = gt.discriminator_sup_error(_tanh_d, p, p, mass=0.5)
    assert abs(half - 0.15 * math.tanh(stats.norm.ppf(0.75) / 2)) <= 4e-4


def test_discriminator_sup_error_sees_a_bump_in_the_tails():
    """p = N(0, 1), q = N(1, 1.5^2); D = D* + a bump at x = 3.2 (between the 75% and 99.5% quantiles
    of m), so shrinking the region misses it. The sup of |D - D*| over the central 99% of m on a
    dense grid between the exact quantiles."""
    p, q = stats.norm(0, 1), stats.norm(1, 1.5)
    star = gt.optimal_discriminator(gt.toys.gaussian(0.0, 1.0), gt.toys.gaussian(1.0, 1.5))

    def d(x):
        x = torch.as_tensor(x, dtype=F)
        s = star(x)
        return s + 0.3 * torch.exp(-(((x - 3.2) / 0.3) ** 2)) + 0.02 * s * (1 - s)

    assert _mixture_quantile(p, q, 0.75) < 3.2 - 0.6 and 3.2 + 0.6 < _mixture_quantile(p, q, 0.995)
    ref = _independent_sup(d, p, q, 0.99)
    got = gt.discriminator_sup_error(d, gt.toys.gaussian(0.0, 1.0), gt.toys.gaussian(1.0, 1.5))
    # the package's grid spacing ~0.006 near a maximum of curvature ~ 0.2/0.3^2: 0.5 * 2 * 0.003^2 ~ 1e-5
    assert ref > 0.1
    assert abs(got - ref) <= 1e-4, (got, ref)


@pytest.mark.parametrize("logits", [False, True])
def test_discriminator_error_against_mpmath(logits):
    """||D - D*||_m for p = N(0, 1), q = N(1, 1.5^2) and (i) D = 1/2, (ii) D = sigmoid(0.7 x - 0.2),
    against the integral of m (D - D*)^2 with m = (p + q)/2 in mpmath at 30 digits. Weighting by
    p + q instead of m gives sqrt(2) times the value."""
    import mpmath as mp

    mp.mp.dps = 30

    def npdf(x, mu, s):
        return mp.exp(-((x - mu) / s) ** 2 / 2) / (s * mp.sqrt(2 * mp.pi))

    def ref(dfun):
        def f(x):
            a, b = npdf(x, 0, 1), npdf(x, 1, mp.mpf("1.5"))
            return (a + b) / 2 * (dfun(x) - a / (a + b)) ** 2
        return mp.sqrt(mp.quad(f, [-mp.inf, -5, 0, 1, 6, mp.inf]))

    p, q = gt.toys.gaussian(0.0, 1.0), gt.toys.gaussian(1.0, 1.5)
    cases = [(lambda x: mp.mpf(1) / 2, lambda x: torch.full_like(torch.as_tensor(x, dtype=F), 0.0 if logits else 0.5)),
             (lambda x: 1 / (1 + mp.exp(-(mp.mpf("0.7") * x - mp.mpf("0.2")))),
              lambda x: (0.7 * torch.as_tensor(x, dtype=F) - 0.2) if logits
              else torch.sigmoid(0.7 * torch.as_tensor(x, dtype=F) - 0.2))]
    for mp_d, d in cases:
        exact = float(ref(mp_d))
        r = gt.discriminator_error(d, p, q, logits=logits, atol=1e-12, rtol=0.0)
        assert exact > 0.05
        assert abs(r.value - exact) <= r.error + 1e-15, (r.value, exact, r.error)
        assert r.error < 1e-6


def test_mode_coverage_is_recorded_for_targets_with_known_modes():
    """Every member's record on a target with known modes carries the mode-coverage metrics,
    equal to gan_theory.coverage applied by hand to the member's generator (its own seeded
    samples) and exact density; a target without known modes gets none."""
    import torch

    from gan_theory import coverage
    from gan_theory.training.metrics import COVERAGE_SAMPLES

    target = gt.toys.ring(std=0.2)
    cfg = gt.TrainConfig(generator="affine", steps=3, ensemble=2, seed=5, log_every=3,
                         network_quadrature_atol=1e-3)
    r = gt.train(target, cfg, progress=False)
    modes = coverage.target_modes(target)
    for rec in r.final:
        m = r.member(rec["member"])
        draws = torch.Generator().manual_seed(cfg.member_seeds[rec["member"]])
        cov = coverage.mode_coverage(m.generator.sample(COVERAGE_SAMPLES, draws), modes)
        assert rec["modes_total"] == 8
        assert rec["modes_captured"] == cov.modes_captured
        assert rec["high_quality"] == cov.high_quality
        assert rec["reverse_kl_modes"] == cov.reverse_kl
        mass = coverage.mode_mass(m.density(), modes)
        assert abs(rec["mass_near_modes"] - mass.mass_near_modes) <= 2 * rec["mass_near_modes_error"] + 1e-15
    r = gt.train("uniform", gt.TrainConfig(generator="affine", steps=2, log_every=2), progress=False)
    assert "modes_captured" not in r.final[0]


def test_mode_coverage_without_an_exact_density_has_only_sample_metrics():
    """A p_g that is not the generator's exact density (the 2-D MLP generator's kernel estimate)
    gives the sample metrics only: no exact masses are claimed for an estimate."""
    from gan_theory.densities import as_density
    from gan_theory.training.metrics import extra_member_metrics

    target = gt.toys.ring(std=0.2)
    cfg = gt.TrainConfig(generator="affine", steps=1, log_every=1, network_quadrature_atol=1e-3)
    r = gt.train(target, cfg, progress=False)
    m = r.member(0)
    p_data, p_g = as_density(target, "p_data"), as_density(m.density(), "p_g")
    exact = extra_member_metrics(p_data, p_g, r.config, m.generator, exact=True)
    estimate = extra_member_metrics(p_data, p_g, r.config, m.generator, exact=False)
    assert "mass_near_modes" in exact and "mass_near_modes" not in estimate
    assert {k: exact[k] for k in estimate} == estimate


def test_log_every_changes_the_cost_not_the_training():
    """The metrics (coverage samples included) never draw from the members' random streams:
    measuring every step or only at the end gives bit-identical generators (CPU)."""
    import torch

    target = gt.toys.ring(std=0.3)
    base = dict(generator="mixture", mixture_components=4, steps=4, ensemble=2, d_hidden=(8,), batch_size=16,
                network_quadrature_atol=1e-2, quadrature_atol=1e-6)
    every = gt.train(target, gt.TrainConfig(**base, log_every=1), progress=False)
    end = gt.train(target, gt.TrainConfig(**base, log_every=4), progress=False)
    for i in range(2):
        a, b = every.member(i).density(), end.member(i).density()
        assert torch.equal(a.component_distribution.base_dist.loc, b.component_distribution.base_dist.loc)
        assert torch.equal(a.mixture_distribution.logits, b.mixture_distribution.logits)
