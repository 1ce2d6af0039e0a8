"""The grid generator's members as densities (Prop. 2's function-space generator).

``Member.density()`` of a grid run is :class:`~gan_theory.training.grid.GridDensity`: the
member's probability vector ``b`` spread over the grid's cells. Two independent computations
are compared: the run's own record, the discrete criterion ``C(b) = sum_j a_j log(a_j/(a_j +
b_j)) + b_j log(b_j/(a_j + b_j))`` summed by the trainer in torch, and the engine's quadrature
``gt.criterion`` of the grid densities. On the same cells D* is constant on each cell, so the
continuous criterion of the two piecewise-constant densities *is* the discrete one: they must
agree within the quadrature's reported error plus the rounding of the record (a float64 sum of
about a thousand terms of size <= 1: below 1e-13).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gan_theory as gt
from gan_theory.training.grid import GridDensity
from gan_theory.training.run import Trainer

#: Rounding of the recorded C(b) (float64 sum of ~1e3 terms each <= 1 in size, ~1e-16 relative each).
RECORD_ROUNDING = 1e-13


def _grid_run(p_data, points: int, steps: int, dim: int = 1):
    cfg = gt.TrainConfig(generator="grid", discriminator="optimal", optimizer="sgd", lr_g=0.5, steps=steps,
                         grid_points=points, init_loc=-3.0 if dim == 1 else 0.5, init_scale=2.0, dtype="float64",
                         log_every=1, device="cpu")
    tr = Trainer(p_data, cfg)
    first = tr.member(0).density()  # before any step: the record of step 0
    result = tr.run(progress=False)
    return [(first, result.history[0]), (result.member(0).density(), result.final[0])]


def _data_on_grid(p_data, density: GridDensity) -> GridDensity:
    """p_data as the grid run sees it: a_j proportional to p_data(x_j), spread over the same
    cells (computed here from torch's log_prob, not read from the generator)."""
    pts = torch.as_tensor(density.axes[0]) if density.dim == 1 else torch.as_tensor(
        np.stack([g.ravel() for g in np.meshgrid(*density.axes, indexing="ij")], axis=1))
    with torch.no_grad():
        return GridDensity(density.axes, p_data.log_prob(pts).double())


def test_grid_member_density_gives_the_runs_criterion_1d():
    # Before the fix: Member.density() raised AttributeError (no GridGenerator.member_density).
    p_data = gt.toys.mixture2()
    for p_g, record in _grid_run(p_data, points=1001, steps=5):
        assert isinstance(p_g, GridDensity) and p_g.dim == 1
        a = _data_on_grid(p_data, p_g)
        c = gt.criterion(a, p_g)
        assert abs(c.value - record["criterion"]) <= c.error + RECORD_ROUNDING, (record["step"], c, record)
        # With the true p_data: sqrt(JSD) is a metric (Endres and Schindelin 2003), so
        # |sqrt JSD(p_data, p_g) - sqrt JSD(a, p_g)| <= sqrt JSD(p_data, a): the continuous
        # criterion is the recorded one up to the grid's own discretisation of p_data (each JSD
        # taken as the interval its error bound gives).
        j_true = gt.jsd(p_data, p_g)
        j_grid = (record["criterion"] + gt.LOG4) / 2
        gap = gt.jsd(p_data, a)
        assert gap.value < 1e-4  # 1001 points over +-8 scales: JSD(p_data, a) measured 6.0e-6
        lo = math.sqrt(max(j_true.value - j_true.error, 0.0))
        hi = math.sqrt(j_true.value + j_true.error)
        d = math.sqrt(gap.value + gap.error) + 1e-7  # 1e-7: RECORD_ROUNDING through the sqrt at J >= 1e-6
        assert lo - d <= math.sqrt(max(j_grid, 0.0)) <= hi + d


def test_grid_member_density_gives_the_runs_criterion_2d():
    p_data = gt.toys.make("correlated_gaussian")
    for p_g, record in _grid_run(p_data, points=24, steps=2, dim=2):
        assert p_g.dim == 2 and tuple(p_g.event_shape) == (2,)
        a = _data_on_grid(p_data, p_g)
        c = gt.criterion(a, p_g)
        assert abs(c.value - record["criterion"]) <= c.error + RECORD_ROUNDING, (record["step"], c, record)


def test_grid_density_values_and_samples():
    # A 3-point grid with hand-computed cells: points 0, 1, 3 -> edges -0.5, 0.5, 2, 4.
    w = np.array([0.2, 0.3, 0.5])
    d = GridDensity([np.array([0.0, 1.0, 3.0])], np.log(w))
    np.testing.assert_array_equal(d.edges[0], [-0.5, 0.5, 2.0, 4.0])
    x = torch.tensor([-0.6, -0.5, 0.0, 0.5, 1.99, 2.0, 3.9, 4.0], dtype=torch.float64)
    want = np.array([0.0, 0.2 / 1.0, 0.2 / 1.0, 0.3 / 1.5, 0.3 / 1.5, 0.5 / 2.0, 0.5 / 2.0, 0.0])
    np.testing.assert_allclose(torch.exp(d.log_prob(x)).numpy(), want, rtol=1e-15, atol=0)
    assert gt.criterion(d, d).value == pytest.approx(-gt.LOG4, abs=1e-13)
    # samples: cell frequencies within 5 standard errors of w (false alarm < 1e-5 per cell)
    torch.manual_seed(0)
    s = d.sample((20000,)).numpy()
    counts = np.histogram(s, bins=d.edges[0])[0] / s.size
    assert np.all(np.abs(counts - w) <= 5 * np.sqrt(w * (1 - w) / s.size))
    with pytest.raises(ValueError, match="log_weights: expected one value per grid point"):
        GridDensity([np.array([0.0, 1.0])], np.zeros(3))
    with pytest.raises(ValueError, match="axes\\[0\\]: expected at least 2"):
        GridDensity([np.array([1.0, 0.0])], np.zeros(2))
