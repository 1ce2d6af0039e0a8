"""The named toys: their mass is 1 and their modes are where they should be.

Expected values: mass 1 (by quadrature, within its error bound, and with the quadrature
bound itself below 1e-12); mode positions from the construction (ring: radius (cos, sin) of
2 pi i/k; grid: ((i - (n - 1)/2) s, (j - (n - 1)/2) s)); local maxima found by gradient ascent
on the log-density from a perturbed start.
"""

import math

import numpy as np
import pytest
import torch

import gan_theory as gt
from gan_theory.densities import as_density
from gan_theory.integrate import integrate, make_domain

F = torch.float64


def mass(dist):
    d = as_density(dist)
    res = integrate(lambda x: (np.exp(d.log_prob(x))[:, None], 1e-16 * np.exp(d.log_prob(x))[:, None]),
                    make_domain([d.hints]), atol=1e-13, rtol=0.0)
    return float(res.value[0]), float(res.error[0])


@pytest.mark.parametrize("name", gt.toys.names())
def test_every_toy_has_mass_one(name):
    dist = gt.toys.make(name)
    # float64 parameters: the mean and the log-density at it come back in float64
    mean = dist.mean
    assert mean.dtype == torch.float64 and dist.log_prob(mean).dtype == torch.float64
    assert torch.isfinite(dist.log_prob(mean))
    assert tuple(dist.batch_shape) == () and tuple(dist.event_shape) == ((), (2,))[gt.toys.TOYS[name].dim - 1]
    m, err = mass(dist)
    assert err <= 1e-12
    assert abs(m - 1.0) <= err + 1e-15


@pytest.mark.parametrize("pair", list(gt.toys.PAIRS))
def test_every_pair_has_mass_one(pair):
    for dist in gt.toys.pair(pair):
        m, err = mass(dist)
        assert abs(m - 1.0) <= err + 1e-15


def local_max(dist, start, steps=300, lr=1e-4):
    x = torch.tensor(start, dtype=F, requires_grad=True)
    opt = torch.optim.SGD([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (-dist.log_prob(x)).backward()
        opt.step()
    return x.detach()


@pytest.mark.parametrize("k,radius,std", [(8, 2.0, 0.02), (3, 1.0, 0.1), (12, 5.0, 0.05)])
def test_ring_modes(k, radius, std):
    dist = gt.toys.ring(k, radius, std)
    centres = gt.toys.ring_modes(k, radius)
    angles = 2 * math.pi * np.arange(k) / k
    np.testing.assert_allclose(centres.numpy(), radius * np.stack([np.cos(angles), np.sin(angles)], 1), atol=1e-15)
    # k distinct, equally spaced modes (neighbours 2 r sin(pi / k) apart; linspace(0, 2 pi, k)
    # would put two of them on top of each other)
    dists = torch.cdist(centres, centres) + torch.eye(k, dtype=F) * 1e9
    np.testing.assert_allclose(dists.min(dim=1).values.numpy(), 2 * radius * math.sin(math.pi / k), rtol=1e-12)
    for c in centres:
        found = local_max(dist, (c + 0.3 * std).tolist(), lr=std ** 2 / 2)
        assert torch.linalg.norm(found - c) <= 1e-6 * radius


def test_grid_modes():
    dist = gt.toys.grid(5, 2.0, 0.05)
    centres = gt.toys.grid_modes(5, 2.0)
    assert centres.shape == (25, 2)
    assert set(centres[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert torch.unique(centres, dim=0).shape[0] == 25
    for c in centres[::6]:
        found = local_max(dist, (c - 0.4 * 0.05).tolist(), lr=0.05 ** 2 / 2)
        assert torch.linalg.norm(found - c) <= 1e-6


def test_one_d_modes():
    m2 = gt.toys.mixture2()
    for c in (-2.0, 2.0):
        assert abs(local_max(m2, [c + 0.2], lr=0.1).item() - c) < 1e-6  # modes 4 std apart barely interact
    m3 = gt.toys.mixture3()
    assert abs(local_max(m3, [0.3], lr=0.1).item()) < 1e-9
    assert gt.toys.gaussian(1.5, 2.0).mean.item() == 1.5
    p, q = gt.toys.disjoint_pair(gap=1.0)
    assert p.high.item() < q.low.item()


def test_correlated_gaussian_and_square():
    g = gt.toys.correlated_gaussian(0.8, 2.0)
    np.testing.assert_allclose(g.covariance_matrix.numpy(), 4.0 * np.array([[1.0, 0.8], [0.8, 1.0]]), rtol=1e-15)
    sq = gt.toys.uniform_square(-1.0, 1.0)
    assert sq.log_prob(torch.tensor([0.3, -0.9], dtype=F)).item() == pytest.approx(-math.log(4.0), rel=1e-15)


def test_registry_and_bad_parameters():
    assert set(gt.toys.names(1)) == {"gaussian", "mixture2", "mixture3", "uniform"}
    assert set(gt.toys.names(2)) == {"ring", "grid", "correlated_gaussian", "uniform_square"}
    assert gt.toys.TOYS["ring"].defaults == {"k": 8, "radius": 2.0, "std": 0.02, "phase": 0.0}
    with pytest.raises(ValueError, match=r"ring: unknown parameter\(s\) \['sigma'\]"):
        gt.toys.make("ring", sigma=0.1)
    with pytest.raises(ValueError, match="std: expected a number > 0.0, got -0.1"):
        gt.toys.ring(std=-0.1)
    with pytest.raises(ValueError, match="k: expected an integer >= 1, got 0"):
        gt.toys.ring(k=0)
    with pytest.raises(TypeError, match="n: expected an integer"):
        gt.toys.grid(n=2.5)
    with pytest.raises(ValueError, match="high: expected high > low"):
        gt.toys.uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="pair: unknown pair 'nope'"):
        gt.toys.pair("nope")
