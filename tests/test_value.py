"""The value function V(D, G) and the criterion C(G) = V(D*, G).

Expected values: C(G) = -log 4 + 2 JSD (Theorem 1; JSD computed from a different integrand);
V(1/2, G) = -log 4 for every G; V at constant D = c equals log c + log(1 - c); the pointwise
lemma (a log y + b log(1 - y) is maximal at a/(a + b)) implies V(D, G) <= C(G).
"""

import copy
import math

import numpy as np
import pytest
import torch
import torch.distributions as td

import gan_theory as gt

F = torch.float64
LOG4 = math.log(4.0)


def t(x):
    return torch.as_tensor(x, dtype=F)


PAIRS = [(td.Normal(t(0.0), t(1.0)), td.Normal(t(1.0), t(1.5))), (gt.toys.mixture3(), gt.toys.gaussian(0.5, 2.0)),
         (gt.toys.ring(std=0.1), gt.toys.correlated_gaussian(0.5, 1.5))]


@pytest.mark.parametrize("p,q", PAIRS, ids=["normals", "mixture", "ring"])
def test_criterion_is_minus_log4_plus_2_jsd(p, q):
    c, j = gt.criterion(p, q), gt.jsd(p, q)
    assert abs(c.value - (-LOG4 + 2 * j.value)) <= c.error + 2 * j.error
    assert c.value >= -LOG4


@pytest.mark.parametrize("p,q", PAIRS, ids=["normals", "mixture", "ring"])
def test_value_of_d_star_is_the_criterion(p, q):
    d = gt.optimal_discriminator(p, q)
    v, c = gt.value_function(d, p, q), gt.criterion(p, q)
    assert abs(v.value - c.value) <= v.error + c.error
    vl = gt.value_function(d.logits, p, q, logits=True)
    assert abs(vl.value - c.value) <= vl.error + c.error
    # through probabilities (a plain function), where D* does not underflow
    if isinstance(p, td.Normal):
        vp = gt.value_function(lambda x: d(x), p, q)
        assert abs(vp.value - c.value) <= vp.error + c.error


@pytest.mark.parametrize("const", [0.5, 0.2, 0.9])
def test_constant_discriminator(const):
    p, q = PAIRS[0]
    v = gt.value_function(lambda x: torch.full(x.shape[:1], const, dtype=F), p, q)
    assert abs(v.value - (math.log(const) + math.log1p(-const))) <= v.error + 1e-15


def test_perturbed_discriminators_are_worse():
    p, q = PAIRS[1]
    d = gt.optimal_discriminator(p, q)
    c = gt.criterion(p, q)
    for h in (lambda x: torch.sin(x), lambda x: torch.ones_like(x), lambda x: -x / (1 + x * x)):
        for eps in (1e-1, 1e-2):
            v = gt.value_function(lambda x: torch.clamp(d(x) + eps * h(x), 1e-12, 1 - 1e-12), p, q, atol=1e-11)
            assert v.value < c.value - v.error - c.error


def test_network_discriminator_in_float32_is_evaluated_in_float64():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    p, q = PAIRS[0]

    v = gt.value_function(torch.nn.Sequential(_Unsqueeze(), net, _Squeeze()), p, q, logits=True)
    # the same network, evaluated in float64 by hand, integrated to the same tolerance
    net64 = torch.nn.Sequential(_Unsqueeze(), copy.deepcopy(net).double(), _Squeeze())
    v64 = gt.value_function(net64, p, q, logits=True)
    assert abs(v.value - v64.value) <= v.error + v64.error
    assert net[0].weight.dtype == torch.float32  # the caller's network is untouched


class _Unsqueeze(torch.nn.Module):
    def forward(self, x):
        return x.unsqueeze(-1)


class _Squeeze(torch.nn.Module):
    def forward(self, x):
        return x.squeeze(-1)


def test_discriminator_zero_on_data_gives_minus_infinity():
    # Through logits, a logit of -inf where p_data > 0 is an exact D = 0: V = -inf. The same D
    # given as probabilities is refused (issue 9): a 0 could be a probability that underflowed.
    p, q = PAIRS[0]
    v = gt.value_function(lambda x: torch.where(x.abs() < 0.5, -math.inf, 0.0).to(F), p, q, logits=True)
    assert v.value == -math.inf
    with pytest.raises(gt.AccuracyError, match=r"d: returned exactly 0 at x = .* where p_data > 0"):
        gt.value_function(lambda x: torch.where(x.abs() < 0.5, 0.0, 0.5).to(F), p, q)


@pytest.mark.parametrize("bad,match", [
    (lambda x: torch.full(x.shape[:1], 1.5, dtype=F), r"d: returned 1.5 at x = .* outside \[0, 1\]"),
    (lambda x: torch.full(x.shape[:1], math.nan, dtype=F), "d: returned NaN at x ="),
    (lambda x: torch.zeros(x.shape[0], 3, dtype=F), r"d: expected an output of shape \(\d+,\) for \d+ points, got shape \(\d+, 3\)"),
])
def test_bad_discriminators(bad, match):
    p, q = PAIRS[0]
    with pytest.raises(ValueError, match=match):
        gt.value_function(bad, p, q)


def test_not_callable():
    with pytest.raises(TypeError, match="d: expected a callable discriminator"):
        gt.value_function(0.5, *PAIRS[0])


def test_float32_callable_is_limited_by_its_precision():
    p, q = td.Normal(t(0.0), t(1.0)), td.Normal(t(0.5), t(1.0))  # D* does not underflow in float32
    d = gt.optimal_discriminator(p, q)

    def d32(x):  # float32 probabilities, kept away from 0 and 1 so that V stays finite
        return torch.clamp(d(x), 1e-6, 1 - 1e-6).float()

    with pytest.raises(gt.AccuracyError, match="floating-point error of the integrand alone .* loosen atol/rtol"):
        gt.value_function(d32, p, q)
    v = gt.value_function(d32, p, q, atol=1e-5, rtol=1e-5)
    assert abs(v.value - gt.criterion(p, q).value) <= v.error
