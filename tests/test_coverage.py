"""Tests of gan_theory.coverage: mode coverage from samples and the exact p_g-mass near modes.

Every expected number comes from something independent of the module: closed forms (the
chi-square law of ||x - m||^2 / s^2 under an isotropic Gaussian), scipy.stats (the noncentral
chi-square and the normal CDF), hand-counted sample sets, and binomial sampling bounds.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy import stats

from gan_theory import toys
from gan_theory.coverage import (ModeCoverage, TargetModes, coverage_metrics, mahalanobis, mode_coverage, mode_mass,
                                 target_modes)
from gan_theory.results import AccuracyError

F64 = torch.float64
IN_3SD_2D = 1.0 - math.exp(-4.5)  # P(chi^2_2 <= 9): the mass of N(c, s^2 I) within 3 s of c


def _t(x):
    return torch.as_tensor(x, dtype=F64)


def _iso(centres, std, weights=None):
    """Equal- (or given-) weight mixture of isotropic 2-D Gaussians."""
    centres = _t(centres)
    k = centres.shape[0]
    w = torch.full((k,), 1.0 / k, dtype=F64) if weights is None else _t(weights)
    return td.MixtureSameFamily(td.Categorical(probs=w),
                                td.Independent(td.Normal(centres, torch.full_like(centres, std)), 1))


# ---------------------------------------------------------------------------------- target_modes
def test_target_modes_of_the_toys():
    m = target_modes(toys.ring(8, std=0.1))
    np.testing.assert_array_equal(m.centres, toys.ring_modes(8).numpy())
    np.testing.assert_array_equal(m.scale_trils, np.broadcast_to(0.1 * np.eye(2), (8, 2, 2)))
    np.testing.assert_allclose(m.covariances, np.broadcast_to(0.01 * np.eye(2), (8, 2, 2)), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(m.weights, np.full(8, 0.125))
    assert (m.n_modes, m.dim) == (8, 2) and m.regions_separated(3.0)
    g = target_modes("grid")  # a toy name, default std 0.05
    np.testing.assert_array_equal(g.centres, toys.grid_modes(5).numpy())
    np.testing.assert_array_equal(g.stds, np.full((25, 2), 0.05))
    m1 = target_modes(toys.mixture3())
    np.testing.assert_array_equal(m1.centres[:, 0], [-3.0, 0.0, 3.0])
    np.testing.assert_array_equal(m1.weights, [0.25, 0.5, 0.25])
    assert m1.dim == 1 and m1.scale_trils.shape == (3, 1, 1)
    with pytest.raises(ValueError):  # arrays are read-only
        m.weights[0] = 1.0


def test_target_modes_single_gaussians_and_refusals():
    one = target_modes(td.Normal(_t(1.0), _t(2.0)))
    assert one.n_modes == 1 and one.centres.tolist() == [[1.0]] and one.scale_trils.tolist() == [[[2.0]]]
    cov = [[1.0, 0.6], [0.6, 0.5]]
    mvn = target_modes(td.MultivariateNormal(_t([1.0, -1.0]), covariance_matrix=_t(cov)))
    np.testing.assert_allclose(mvn.covariances[0], cov, rtol=0, atol=1e-15)
    ind = target_modes(td.Independent(td.Normal(_t([0.0, 1.0]), _t([0.5, 2.0])), 1))
    np.testing.assert_array_equal(ind.stds, [[0.5, 2.0]])
    # a zero-weight component is not a mode
    mz = target_modes(_iso([[0.0, 0.0], [5.0, 0.0]], 0.1, [1.0, 0.0]))
    assert mz.n_modes == 1 and mz.weights.tolist() == [1.0]
    # not Gaussian, not a mixture of Gaussians, a batch, a subclass: no known modes
    for d in (toys.uniform(), toys.uniform_square(), td.Laplace(_t(0.0), _t(1.0)),
              td.MixtureSameFamily(td.Categorical(probs=_t([0.5, 0.5])), td.Laplace(_t([0.0, 1.0]), _t([1.0, 1.0]))),
              td.Normal(_t([0.0, 1.0]), _t([1.0, 1.0])), type("MyNormal", (td.Normal,), {})(_t(0.0), _t(1.0)),
              3.0):
        assert target_modes(d) is None, d
    with pytest.raises(ValueError, match="unknown toy"):
        target_modes("not a toy")
    with pytest.raises(ValueError, match="p_data"):
        target_modes(td.Normal(_t(float("nan")), _t(1.0), validate_args=False))


def test_regions_separated():
    # adjacent ring modes are 2 * 2 sin(pi/8) = 1.531 apart; the 3-sd discs have radius 3 std
    assert target_modes(toys.ring(8, std=0.25)).regions_separated(3.0)  # 1.531 > 1.5
    assert not target_modes(toys.ring(8, std=0.26)).regions_separated(3.0)  # 1.531 < 1.56


# ------------------------------------------------------------------------------- sample metrics
def test_sample_metrics_on_a_hand_built_set():
    modes = target_modes(toys.ring(8, std=0.1))
    c = toys.ring_modes(8).numpy()
    pts = np.array([c[0], c[0], c[0] + [0.1, 0.0], c[1], c[2],
                    c[3] + [0.0, 0.29],  # 2.9 sd from mode 3: high quality
                    c[4] + [0.31, 0.0],  # 3.1 sd from mode 4: not
                    [0.0, 0.0]])  # far from every mode: not
    cov = mode_coverage(pts, modes)
    assert cov.counts == (3, 1, 1, 1, 0, 0, 0, 0)
    assert (cov.n_samples, cov.n_high_quality, cov.modes_captured) == (8, 6, 4)
    assert cov.high_quality == 6 / 8
    # q = (1/2, 1/6, 1/6, 1/6, 0, ...) against w = 1/8: 1/2 log 4 + 3 (1/6) log(8/6); 0 log 0 = 0
    assert cov.reverse_kl == pytest.approx(0.5 * math.log(4) + 0.5 * math.log(4 / 3), rel=1e-14)
    assert mode_coverage(pts, modes, threshold=2).modes_captured == 1
    assert mode_coverage(pts, modes, radius=2.0).counts == (3, 1, 1, 0, 0, 0, 0, 0)
    d = cov.to_dict()
    assert d["mode_counts"] == [3, 1, 1, 1, 0, 0, 0, 0] and d["modes_total"] == 8
    json.dumps(d, allow_nan=False)


def test_no_high_quality_sample_has_a_defined_reverse_kl():
    modes = target_modes(_iso([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]], 0.1, [0.5, 0.3, 0.2]))
    cov = mode_coverage(np.full((5, 2), 2.0), modes)
    assert (cov.modes_captured, cov.high_quality, cov.n_high_quality) == (0, 0.0, 0)
    assert cov.reverse_kl == math.log(1 / 0.2)  # the largest value over all histograms
    # ... which is what a generator collapsed onto the lightest mode scores
    assert mode_coverage(np.array([[0.0, 4.0]]), modes).reverse_kl == pytest.approx(math.log(1 / 0.2), rel=1e-15)


def test_high_quality_uses_each_modes_own_covariance():
    # one mode, sd 1 along x and 0.1 along y: (2.5, 0) is 2.5 sd away, (0, 0.5) is 5 sd away
    modes = target_modes(td.Independent(td.Normal(_t([0.0, 0.0]), _t([1.0, 0.1])), 1))
    cov = mode_coverage(np.array([[2.5, 0.0], [0.0, 0.5]]), modes)
    assert cov.counts == (1,)
    np.testing.assert_allclose(mahalanobis(np.array([[2.5, 0.0], [0.0, 0.5]]), modes), [[2.5], [5.0]], rtol=1e-15)
    # correlated: x = L (a, b) is at distance sqrt(a^2 + b^2) for Sigma = L L^T
    L = np.array([[1.0, 0.0], [0.8, 0.3]])
    mvn = target_modes(td.MultivariateNormal(_t([1.0, 2.0]), scale_tril=_t(L)))
    x = np.array([1.0, 2.0]) + (L @ np.array([[2.0, 1.5], [-2.0, 2.5]]).T).T
    np.testing.assert_allclose(mahalanobis(x, mvn)[:, 0], [2.5, math.hypot(2.0, 2.5)], rtol=1e-14)
    # a sample 2.9 sd from a wide mode but Euclidean-nearer to a narrow one counts for the wide
    # mode (the nearest in Mahalanobis distance)
    two = target_modes(td.MixtureSameFamily(td.Categorical(probs=_t([0.5, 0.5])),
                                            td.Normal(_t([0.0, 5.0]), _t([1.0, 0.1]))))
    assert mode_coverage(np.array([2.9]), two).counts == (1, 0)


def test_1d_samples_accept_flat_or_column_arrays():
    modes = target_modes(toys.mixture2())  # N(-2, 0.25) and N(2, 0.25)
    x = np.array([-2.0, -0.6, 2.0, 3.49, 0.0])  # -0.6 is 2.8 sd from -2; 0 is 4 sd from both
    a, b = mode_coverage(x, modes), mode_coverage(torch.tensor(x)[:, None], modes)
    assert a == b and a.counts == (2, 2) and a.high_quality == 4 / 5 and a.reverse_kl == 0.0


def test_argument_errors_name_the_argument():
    modes = target_modes(toys.ring(8, std=0.1))
    for bad, match in ((np.zeros((3, 3)), "samples: expected shape"), (np.zeros(4), "samples: expected shape"),
                       (np.zeros((0, 2)), "samples: expected at least"),
                       (np.array([[0.0, np.nan]]), "samples: expected finite")):
        with pytest.raises(ValueError, match=match):
            mode_coverage(bad, modes)
    with pytest.raises(TypeError, match="modes"):
        mode_coverage(np.zeros((2, 2)), toys.ring())
    with pytest.raises(ValueError, match="radius"):
        mode_coverage(np.zeros((2, 2)), modes, radius=0.0)
    with pytest.raises(ValueError, match="threshold"):
        mode_coverage(np.zeros((2, 2)), modes, threshold=0)
    with pytest.raises(ValueError, match="p_g"):
        mode_mass(toys.gaussian(), modes)
    with pytest.raises(ValueError, match="capture_fraction"):
        mode_mass(toys.ring(), modes, capture_fraction=-1.0)


# ------------------------------------------------------------------------------- exact masses
@pytest.mark.parametrize("r", [0.5, 1.0, 2.0, 3.0, 4.0])
def test_mass_of_a_gaussian_near_its_own_centre_is_chi_square(r):
    # ||L^{-1}(x - c)||^2 ~ chi^2_2 under N(c, L L^T): P(<= r^2) = 1 - exp(-r^2/2), for any L
    # (an oblique L checks the map x = c + L(rho cos t, rho sin t) and its Jacobian rho |det L|)
    for p in (td.Independent(td.Normal(_t([0.3, -1.0]), _t([0.1, 0.1])), 1),
              td.MultivariateNormal(_t([2.0, 1.0]), scale_tril=_t([[0.5, 0.0], [0.7, 0.2]]))):
        mm = mode_mass(p, target_modes(p), radius=r, atol=1e-12)
        exact = -math.expm1(-r * r / 2)
        assert abs(mm.masses[0] - exact) <= mm.errors[0] <= 1e-12
        assert mm.reverse_kl == 0.0 and mm.modes_captured == 1


@pytest.mark.parametrize("offset, sigma, r", [(0.15, 0.1, 3.0), (0.35, 0.1, 3.0), (0.0, 0.3, 3.0), (0.5, 0.05, 2.0),
                                              (0.2, 0.02, 3.0)])
def test_mass_of_an_offset_gaussian_in_a_disc_is_noncentral_chi_square(offset, sigma, r):
    # p_g = N(mu, sigma^2 I), mode N(c, s^2 I): ||x - c||^2 / sigma^2 ~ noncentral chi^2 (2 dof,
    # noncentrality ||mu - c||^2 / sigma^2); the disc is ||x - c|| <= r s. scipy's ncx2.cdf is
    # accurate to 5e-16 in these five cases (checked against the integral of the noncentral chi-square
    # density, with its Bessel I0, by mpmath at 30 digits).
    s, c = 0.1, np.array([[1.0, 2.0]])
    mu = c[0] + offset * np.array([0.6, 0.8])
    p_g = td.Independent(td.Normal(_t(mu), _t([sigma, sigma])), 1)
    mm = mode_mass(p_g, target_modes(_iso(c, s)), radius=r, atol=1e-12)
    ref = stats.ncx2.cdf((r * s / sigma) ** 2, 2, (offset / sigma) ** 2)
    assert abs(mm.masses[0] - ref) <= mm.errors[0] + 1e-13


@pytest.mark.parametrize("spike_sd", [2e-3, 2e-4])
def test_a_narrow_p_g_component_is_not_stepped_over(spike_sd):
    # p_g = 0.3 N(mu, spike_sd^2 I) + 0.7 N(c, I) against a mode N(c, 0.1^2 I): a spike 100 to
    # 1000 times narrower than the mode, off every symmetry axis. Each part by the noncentral
    # chi-square law (see above): 0.3 P(ncx2 <= (0.3/spike_sd)^2) + 0.7 P(chi2_2 <= 0.3^2).
    c = np.array([[0.5, -0.5]])
    off = np.array([0.1234, 0.0771])
    p_g = td.MixtureSameFamily(td.Categorical(probs=_t([0.3, 0.7])),
                               td.Independent(td.Normal(_t(np.stack([c[0] + off, c[0]])),
                                                        _t([[spike_sd] * 2, [1.0, 1.0]])), 1))
    mm = mode_mass(p_g, target_modes(_iso(c, 0.1)), atol=1e-10)  # the spike's rounding error is ~4e-12
    ref = (0.3 * stats.ncx2.cdf((0.3 / spike_sd) ** 2, 2, float(off @ off) / spike_sd ** 2)
           + 0.7 * -math.expm1(-0.3 ** 2 / 2))
    assert abs(mm.masses[0] - ref) <= mm.errors[0] + 1e-13


def test_1d_mass_is_a_normal_cdf_difference():
    modes = target_modes(toys.mixture3())  # centres -3, 0, 3, sd 0.5: intervals [c - 1.5, c + 1.5]
    p_g = td.MixtureSameFamily(td.Categorical(probs=_t([0.7, 0.3])), td.Normal(_t([-2.5, 0.4]), _t([0.8, 0.05])))
    mm = mode_mass(p_g, modes, atol=1e-12)
    for i, c in enumerate([-3.0, 0.0, 3.0]):
        ref = sum(w * (stats.norm.cdf(c + 1.5, mu, sd) - stats.norm.cdf(c - 1.5, mu, sd))
                  for w, mu, sd in ((0.7, -2.5, 0.8), (0.3, 0.4, 0.05)))
        assert abs(mm.masses[i] - ref) <= mm.errors[i] + 1e-15, i


def test_1d_mass_of_kinked_and_jumping_densities():
    # mixture2's intervals are [-3.5, -0.5] and [0.5, 3.5]. U(-1, 1) puts 1/4 in each; Laplace(-0.7,
    # 0.3) puts 1 - e^{-0.2/0.3}/2 - e^{-2.8/0.3}/2 and (e^{-1.2/0.3} - e^{-4.2/0.3})/2 (its CDF).
    modes = target_modes(toys.mixture2())
    mu = mode_mass(toys.uniform(-1.0, 1.0), modes, atol=1e-12)
    assert all(abs(m - 0.25) <= e + 1e-16 for m, e in zip(mu.masses, mu.errors))
    # the jumps are located (cell edges at +-1) rather than bisected towards: 336 evaluations,
    # against 6048 when the integrator is not told where they are
    assert mu.evaluations < 1000
    ml = mode_mass(td.Laplace(_t(-0.7), _t(0.3)), modes, atol=1e-12)
    ref = (1 - 0.5 * math.exp(-0.2 / 0.3) - 0.5 * math.exp(-2.8 / 0.3),
           0.5 * (math.exp(-1.2 / 0.3) - math.exp(-4.2 / 0.3)))
    assert all(abs(m - r) <= e + 1e-16 for m, r, e in zip(ml.masses, ref, ml.errors))


@pytest.mark.parametrize("target", [toys.ring(8, std=0.1), toys.grid(5, std=0.1)])
def test_p_g_equal_to_the_target(target):
    # Each mode's own component puts w (1 - e^{-9/2}) in its disc. The other components add
    # less than sum_j w_j P(chi^2_2 >= (d/s - 3)^2), d the distance to the nearest other centre:
    # ring d = 1.531, (15.31 - 3)^2 / 2 = 75.8, grid d = 2: (20 - 3)^2 / 2 = 144.5; e^{-75.8} is
    # below double precision next to the masses, so the expected masses are exact.
    modes = target_modes(target)
    mm = mode_mass(target, modes, atol=1e-12)
    w = modes.weights[0]
    assert np.all(np.abs(np.array(mm.masses) - w * IN_3SD_2D) <= np.array(mm.errors))
    assert mm.modes_captured == modes.n_modes and all(mm.captured)
    assert abs(mm.mass_near_modes - IN_3SD_2D) <= mm.mass_near_modes_error
    assert mm.reverse_kl <= 1e-15 and mm.reverse_kl_error < 1e-9
    assert mm.regions_separated


def test_p_g_on_seven_of_eight_ring_modes():
    ring = toys.ring(8, std=0.1)
    modes = target_modes(ring)
    c = toys.ring_modes(8).numpy()
    q = np.array([3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]) / 9.0
    p_g = _iso(c[:7], 0.1, q)
    mm = mode_mass(p_g, modes, atol=1e-12)
    # mode 7 gets the tails of modes 0 and 6 only, below e^{-75.8} (see above)
    assert mm.captured == (True,) * 7 + (False,) and mm.modes_captured == 7
    assert mm.masses[7] <= 1e-30
    np.testing.assert_allclose(mm.masses[:7], q * IN_3SD_2D, rtol=0, atol=max(mm.errors))
    # reverse KL of the normalised masses: sum_i q_i log(q_i / (1/8)) (mode 7 adds 0 log 0 = 0)
    exact = float(np.sum(q * np.log(8 * q)))
    assert abs(mm.reverse_kl - exact) <= mm.reverse_kl_error + 1e-15
    assert mm.reverse_kl_error < 1e-9
    # the forward direction KL(w || q) would be infinite here: the reverse KL is finite
    assert math.isfinite(mm.reverse_kl)
    # and the samples say the same (seeded draw; each of the seven modes gets ~ 2500 q_i >= 277)
    torch.manual_seed(1)
    x = p_g.sample((2500,))
    cov = mode_coverage(x, modes)
    assert cov.modes_captured == 7 and cov.counts[7] == 0


def test_reverse_kl_bound_encloses_perturbed_masses():
    # masses known to +-e: the KL of any masses within the bounds stays within the stated error
    rng = np.random.default_rng(3)
    w = np.array([0.1, 0.2, 0.3, 0.4])
    from gan_theory.coverage import _kl_bound, _reverse_kl
    for m, e in ((np.array([0.05, 0.2, 0.0, 0.3]), np.full(4, 1e-3)),
                 (np.array([1e-6, 0.1, 0.1, 0.1]), np.full(4, 1e-5)),
                 (np.array([0.2, 0.2, 0.2, 0.2]), np.array([1e-9, 0.0, 1e-7, 1e-8]))):
        kl = _reverse_kl(m, w)
        bound = _kl_bound(m, e, w, kl)
        for _ in range(2000):
            mp = np.maximum(m + e * rng.uniform(-1, 1, 4), 0.0)
            assert abs(_reverse_kl(mp, w) - kl) <= bound


def test_sample_metrics_converge_to_the_exact_masses():
    # With disjoint regions each sample lands in region i with probability m_i (mode_mass), so the
    # count of mode i is Binomial(n, m_i) and the high-quality count Binomial(n, sum m_i). Each
    # check is |count/n - m| <= z sqrt(m (1 - m) / n), z = 5.45: two-sided false-alarm rate 5e-8
    # per check, 1e-6 over the 9 checks (Bonferroni; CLT, n m >= 500). Seeded, so reproducible.
    modes = target_modes(toys.ring(8, std=0.1))
    c = toys.ring_modes(8).numpy()
    comps = np.concatenate([c[:6] + [0.05, -0.03], [[0.0, 0.0]]])
    p_g = td.MixtureSameFamily(td.Categorical(probs=_t([0.2, 0.1, 0.1, 0.15, 0.15, 0.1, 0.2])),
                               td.Independent(td.Normal(_t(comps), _t([[0.12, 0.12]] * 6 + [[0.8, 0.8]])), 1))
    mm = mode_mass(p_g, modes, atol=1e-10)
    n = 40000
    torch.manual_seed(7)
    cov = mode_coverage(p_g.sample((n,)), modes)
    z = 5.45
    for count, m in list(zip(cov.counts, mm.masses)) + [(cov.n_high_quality, mm.mass_near_modes)]:
        if m * n >= 500:
            assert abs(count / n - m) <= z * math.sqrt(m * (1 - m) / n), (count, m)
    # the seventh and eighth modes get only the broad component's tail: few samples each
    assert mm.masses[6] < 0.01 and mm.masses[7] < 0.01
    assert abs(cov.reverse_kl - mm.reverse_kl) < 0.05


# ------------------------------------------------------------------------------ coverage_metrics
def test_coverage_metrics_keys_and_agreement():
    ring = toys.ring(8, std=0.1)
    modes = target_modes(ring)
    torch.manual_seed(0)
    x = ring.sample((500,))
    only = coverage_metrics(modes, None, x)
    assert set(only) == {"modes_total", "modes_captured", "high_quality", "reverse_kl_modes", "n_samples"}
    cov = mode_coverage(x, modes)
    assert (only["modes_captured"], only["high_quality"], only["reverse_kl_modes"]) == (
        cov.modes_captured, cov.high_quality, cov.reverse_kl)
    full = coverage_metrics(modes, ring, x)
    assert abs(full["mass_near_modes"] - IN_3SD_2D) <= full["mass_near_modes_error"] <= 8e-6
    assert full["mode_mass_captured"] == 8 and full["reverse_kl_mass"] <= full["reverse_kl_mass_error"]
    assert abs(full["mode_mass_ratio_min"] - IN_3SD_2D) < 1e-5
    json.dumps(full, allow_nan=False)
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in full.values())
    # an exact part that cannot meet its tolerance is reported, the sample part kept
    bad = coverage_metrics(modes, ring, x, atol=1e-300)
    assert "mass_near_modes" not in bad and bad["coverage_exact_error"].startswith("AccuracyError")
    assert bad["modes_captured"] == only["modes_captured"]
    with pytest.raises(AccuracyError):
        mode_mass(ring, modes, atol=1e-300)


def test_mode_coverage_is_a_frozen_result():
    cov = mode_coverage(np.zeros((1, 2)), target_modes(_iso([[0.0, 0.0]], 1.0)))
    assert isinstance(cov, ModeCoverage) and isinstance(target_modes(toys.ring()), TargetModes)
    with pytest.raises(AttributeError):
        cov.radius = 2.0
