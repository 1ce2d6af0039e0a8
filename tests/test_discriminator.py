"""The optimal discriminator D* (Goodfellow et al. 2014, Prop. 1) and its label variants.

Expected values: the defining ratio (alpha p + beta q) / (p + q) computed directly from
scipy.stats densities in float64 (an independent evaluation), and the pointwise conventions.
"""

import math

import numpy as np
import pytest
import torch
import torch.distributions as td
from scipy import stats

import gan_theory as gt

F = torch.float64


def t(x):
    return torch.as_tensor(x, dtype=F)


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (0.0, 1.0), (0.9, 0.0), (0.9, 0.1), (0.7, 0.7)])
def test_d_star_is_the_label_weighted_ratio(alpha, beta):
    p, q = td.Normal(t(0.0), t(1.0)), td.Normal(t(1.0), t(1.5))
    d = gt.optimal_discriminator(p, q, real_label=alpha, fake_label=beta)
    x = np.linspace(-6, 6, 101)
    pp, qq = stats.norm(0, 1).pdf(x), stats.norm(1, 1.5).pdf(x)
    ref = (alpha * pp + beta * qq) / (pp + qq)
    got = d(torch.from_numpy(x))
    assert isinstance(got, torch.Tensor) and got.dtype == F and got.shape == (101,)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-14, atol=1e-15)
    # the logits are log D - log(1 - D)
    lg = d.logits(torch.from_numpy(x)).numpy()
    inside = (ref > 1e-12) & (ref < 1 - 1e-12)
    np.testing.assert_allclose(lg[inside], np.log(ref[inside] / (1 - ref[inside])), rtol=1e-10, atol=1e-12)


def test_swapped_labels_give_one_minus_d_star():
    p, q = gt.toys.ring(std=0.1), gt.toys.correlated_gaussian(0.3, 1.5)
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(0), dtype=F) * 2
    d = gt.optimal_discriminator(p, q)(x)
    swapped = gt.optimal_discriminator(p, q, real_label=0.0, fake_label=1.0)(x)
    np.testing.assert_allclose(swapped.numpy(), 1 - d.numpy(), rtol=0, atol=1e-15)


def test_where_both_densities_vanish_d_star_is_the_label_midpoint():
    p, q = td.Uniform(t(0.0), t(1.0)), td.Uniform(t(2.0), t(3.0))
    x = torch.tensor([1.5, -5.0, 10.0], dtype=F)  # neither density is positive here
    assert torch.all(gt.optimal_discriminator(p, q)(x) == 0.5)
    np.testing.assert_allclose(gt.optimal_discriminator(p, q, 0.9, 0.2)(x).numpy(), 0.55, rtol=1e-15)
    assert torch.all(gt.optimal_discriminator(p, q).logits(x) == 0.0)
    np.testing.assert_allclose(gt.optimal_discriminator(p, q, 0.9, 0.2).logits(x).numpy(), math.log(0.55 / 0.45), rtol=1e-15)


def test_d_star_in_unit_interval_far_in_the_tails():
    p, q = td.Normal(t(0.0), t(1.0)), td.Normal(t(0.0), t(3.0))
    x = torch.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=F)
    d = gt.optimal_discriminator(p, q)(x)
    assert torch.all((d >= 0) & (d <= 1))
    assert d[0] == 0.0 and d[2] > 0.5  # computed from log-densities: no 0/0 in the tails
    assert torch.all(torch.isfinite(gt.optimal_discriminator(p, q).logits(x)))


def test_shapes_types_and_devices():
    d = gt.optimal_discriminator("gaussian", td.Normal(t(1.0), t(2.0)))
    assert isinstance(d(np.zeros((3, 4))), np.ndarray) and d(np.zeros((3, 4))).shape == (3, 4)
    assert d(torch.zeros(())).shape == ()
    d2 = gt.optimal_discriminator("ring", "grid")
    assert d2(torch.zeros(7, 2)).shape == (7,)
    with pytest.raises(ValueError, match=r"x: expected points of shape \(n, 2\) for 2-D densities, got shape \(7,\)"):
        d2(torch.zeros(7))
    with pytest.raises(ValueError, match="x: points must not be NaN"):
        d(torch.tensor([0.0, math.nan]))


def test_bad_labels():
    with pytest.raises(ValueError, match="real_label: expected a number <= 1"):
        gt.optimal_discriminator("gaussian", "gaussian", real_label=1.5)
    with pytest.raises(ValueError, match="fake_label: expected a finite number, got nan"):
        gt.optimal_discriminator("gaussian", "gaussian", fake_label=math.nan)
