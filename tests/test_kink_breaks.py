"""Exact kinks of a 1-D piecewise-linear discriminator as quadrature break points (issue 12,
"metrics cheap enough to log often"): the kinks computed from the weights are all the sign
changes of the hidden pre-activations, and the metrics computed with them as break points keep
error bounds that bound the difference to the old root-finding path run at a tight tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from gan_theory import discriminator_error, value_function
from gan_theory.densities import as_density
from gan_theory.training.ensemble import EnsembleMLP
from gan_theory.training.members import MemberDiscriminator
from gan_theory.training.metrics import with_kinks_as_breaks

F64 = torch.float64
NETS = [((1, 16, 16, 1), "leaky_relu", 1.0), ((1, 8, 8, 8, 1), "relu", 1.0), ((1, 64, 64, 1), "leaky_relu", 3.0),
        ((1, 12, 1), "leaky_relu", 1.0)]


def _member(sizes, activation, gain, seed) -> MemberDiscriminator:
    net = EnsembleMLP(1, sizes, activation, dtype=F64)
    net.reset_parameters([torch.Generator().manual_seed(seed)])
    with torch.no_grad():
        for layer in net.layers:  # sharper networks: kinks from every layer inside the mass
            layer.weight.mul_(gain)
    return MemberDiscriminator(net.member(0), 1)


@pytest.mark.parametrize("sizes, activation, gain", NETS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kink_points_are_every_sign_change_of_a_preactivation(sizes, activation, gain, seed):
    # Independent check on a fine grid: every sign change of a hidden pre-activation between two
    # grid points has a computed kink between them, and every computed kink in the range is a
    # zero of some pre-activation (to rounding relative to the pre-activations' size).
    d = _member(sizes, activation, gain, seed)
    kinks = d.kink_points()
    x = np.linspace(-15.0, 15.0, 100_001)
    pre = d.kinks(x)  # (n, hidden units): the pre-activations
    change = np.any(np.sign(pre[1:]) != np.sign(pre[:-1]), axis=1) & np.all(pre[1:] != 0, axis=1)
    idx = np.flatnonzero(change)
    pos = np.searchsorted(kinks, x[idx], side="left")
    found = (pos < kinks.size) & (kinks[np.minimum(pos, kinks.size - 1)] <= x[idx + 1])
    assert found.all(), f"sign changes without a computed kink near x = {x[idx[~found]][:5]}"
    inside = kinks[(kinks > -15) & (kinks < 15)]
    at = np.abs(d.kinks(inside)).min(axis=1)
    scale = np.abs(d.kinks(inside + 1e-3)).max(axis=1) + 1.0
    assert np.all(at <= 1e-9 * scale)


@pytest.mark.parametrize("sizes, activation, gain", NETS)
@pytest.mark.parametrize("seed", [0, 3])
def test_metrics_with_kink_breaks_bound_their_error(sizes, activation, gain, seed):
    # Reference: the engine's root-finding path (the discriminator's kink indicator, no breaks)
    # at atol 1e-12. The fast path at the trainer's atol 1e-6 must be within its own error bound
    # plus the reference's of it, for ||D - D*||_m and V(D, G).
    d = _member(sizes, activation, gain, seed)
    p = as_density(Normal(torch.tensor(0.3, dtype=F64), torch.tensor(1.0, dtype=F64)), "p_data")
    q = Normal(torch.tensor(-0.4, dtype=F64), torch.tensor(1.7, dtype=F64))
    fast_d, p_k = with_kinks_as_breaks(d, p)
    assert not hasattr(fast_d, "kinks") and p_k.hints.breaks[0].size >= d.kink_points()[
        (d.kink_points() > -1e6) & (d.kink_points() < 1e6)].size
    for fn in (discriminator_error, value_function):
        ref = fn(d, p, q, atol=1e-12, rtol=0.0)
        new = fn(fast_d, p_k, q, atol=1e-6, rtol=0.0)
        assert new.error <= 1e-6
        assert abs(new.value - ref.value) <= new.error + ref.error, (fn.__name__, new, ref)


def test_two_d_and_smooth_networks_keep_the_root_finding_path():
    net = EnsembleMLP(1, (2, 8, 1), "leaky_relu", dtype=F64)
    net.reset_parameters([torch.Generator().manual_seed(0)])
    d2 = MemberDiscriminator(net.member(0), 2)
    p2 = as_density("ring")
    assert with_kinks_as_breaks(d2, p2) == (d2, p2)
    with pytest.raises(ValueError, match="kink_points"):
        d2.kink_points()
    smooth = EnsembleMLP(1, (1, 8, 1), "silu", dtype=F64)
    smooth.reset_parameters([torch.Generator().manual_seed(0)])
    ds = MemberDiscriminator(smooth.member(0), 1)
    p1 = as_density("gaussian")
    assert with_kinks_as_breaks(ds, p1) == (ds, p1)


@pytest.mark.parametrize("sizes, activation, gain", NETS)
def test_piecewise_logits_equal_the_forward_pass(sizes, activation, gain):
    # The metrics read the network from its affine pieces; the forward pass (float64) is the
    # independent reference: equal to rounding, relative to the size of the hidden activations.
    d = _member(sizes, activation, gain, 5)
    x = np.concatenate([np.linspace(-30, 30, 20_001), [-1e6, 1e6], d.kink_points()])
    fwd = d.logits(torch.from_numpy(x)).numpy()
    pw = d.piecewise_logits(torch.from_numpy(x)).numpy()
    scale = 1.0 + np.abs(d.kinks(x)).max(axis=1) * gain ** 2 * max(sizes)
    assert np.all(np.abs(pw - fwd) <= 1e-12 * scale)
