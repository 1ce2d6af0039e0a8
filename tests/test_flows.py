"""Spline flows: the rational-quadratic spline, the ensemble flows and their densities.

Where the expected values come from:

* spline maths: the spline's defining properties (it interpolates its knots with the given
  slopes, Durkan et al. 2019 Sec. 3.1), its inverse (a round trip returns the input), and
  autograd derivatives of the forward and inverse maps (independent of the closed-form
  log-Jacobian);
* flows: the change-of-variables identity log p(T(z)) = log N(z) - log|det dT/dz|, with the
  determinant taken from autograd Jacobians; a flow with all spline parameters zero is exactly
  the affine map, so its density is the Gaussian N(loc, scale^2);
* densities: mass 1 by the engine's quadrature, within its reported error;
* ensembles: a member computed inside the batch against the same member copied out alone.

Random parameters are drawn from fixed seeds, so every run checks the same numbers.
"""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal

import gan_theory as gt
from gan_theory.densities import as_density
from gan_theory.integrate import integrate, make_domain
from gan_theory.training.flow_generator import FlowDensity, FlowGenerator
from gan_theory.training.flows import EnsembleFlow1D, EnsembleFlow2D
from gan_theory.training.splines import rq_spline, spline_knots

F64 = torch.float64


def gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def spline_params(batch, k, std, seed):
    g = torch.Generator().manual_seed(seed)
    return tuple(std * torch.randn(*batch, n, generator=g, dtype=F64) for n in (k, k, k - 1))


def randomise(module, std, seed):
    """Set every parameter except loc/log_scale to std * N(0, 1) (non-identity flows)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name not in ("loc", "log_scale"):
                p.copy_(std * torch.randn(p.shape, generator=g, dtype=F64))


def flow1d(n=3, std=0.5, seed=0, dtype=F64, **kw):
    f = EnsembleFlow1D(n, dtype=dtype, **kw)
    f.reset_parameters(gens(range(n)), loc=0.7, scale=1.8)
    randomise(f, std, seed)
    return f


def flow2d(n=2, std=0.3, seed=0, dtype=F64, **kw):
    kw.setdefault("hidden", (16, 16))
    f = EnsembleFlow2D(n, dtype=dtype, **kw)
    f.reset_parameters(gens(range(n)), loc=(0.5, -1.0), scale=(1.5, 0.7), init_scale=std)
    return f


def mass(dist, atol):
    """The engine's quadrature of the density, as in tests/test_toys.py: (mass, error bound)."""
    d = as_density(dist)

    def f(x):
        p = np.exp(d.log_prob(x))
        return p[:, None], 1e-16 * p[:, None]

    res = integrate(f, make_domain([d.hints]), atol=atol, rtol=0.0)
    return float(res.value[0]), float(res.error[0])


# --------------------------------------------------------------------------------------------
# The spline
# --------------------------------------------------------------------------------------------
B = 3.0
X = torch.linspace(-4.5, 4.5, 901, dtype=F64)  # includes points outside [-B, B] and both ends


def test_spline_round_trip_and_log_dets():
    w, h, d = spline_params((50, 1), 8, 1.0, seed=1)
    x = X.expand(50, -1)
    y, ld = rq_spline(x, w, h, d, B)
    xr, ld_inv = rq_spline(y, w, h, d, B, inverse=True)
    # the inverse undoes the forward map (closed-form root of the quadratic)
    assert (xr - x).abs().max() <= 1e-12
    # the inverse's log-Jacobian is minus the forward one at the preimage
    assert (ld + ld_inv).abs().max() <= 1e-11
    # and the other way round, from y spread over the range
    yr, _ = rq_spline(rq_spline(x, w, h, d, B, inverse=True)[0], w, h, d, B)
    assert (yr - x).abs().max() <= 1e-12


@pytest.mark.parametrize("inverse", [False, True])
def test_spline_log_det_matches_autograd(inverse):
    w, h, d = spline_params((20, 1), 6, 1.0, seed=2)
    x = X.expand(20, -1).clone().requires_grad_(True)
    y, ld = rq_spline(x, w, h, d, B, inverse=inverse)
    # elementwise map: the gradient of the sum is the derivative at each point (autograd)
    (dy,) = torch.autograd.grad(y.sum(), x)
    assert (torch.log(dy) - ld).abs().max() <= 1e-10


def test_spline_interpolates_its_knots():
    # Gregory-Delbourgo / Durkan et al. Sec. 3.1: y(x^k) = y^k and y'(x^k) = delta^k
    w, h, d = spline_params((), 7, 1.0, seed=3)
    kx, ky, slopes = spline_knots(w, h, d, B)
    assert kx[0] == -B and kx[-1] == B and ky[0] == -B and ky[-1] == B
    assert slopes[0] == 1.0 and slopes[-1] == 1.0
    y, ld = rq_spline(kx, w, h, d, B)
    np.testing.assert_allclose(y.numpy(), ky.numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(ld.numpy(), torch.log(slopes).numpy(), rtol=0, atol=1e-12)


def test_spline_is_monotone_and_identity_outside():
    w, h, d = spline_params((30, 1), 16, 2.0, seed=4)
    x = X.expand(30, -1)
    for inverse in (False, True):
        y, ld = rq_spline(x, w, h, d, B, inverse=inverse)
        assert bool((y.diff(dim=1) > 0).all())  # strictly increasing
        out = x.abs() > B
        assert torch.equal(y[out], x[out]) and bool((ld[out] == 0).all())
        edge = x.abs() == B  # continuous at the ends, to rounding: the interval maps onto itself
        assert (y[edge] - x[edge]).abs().max() <= 4 * 2.0 ** -52 * B


def test_spline_zero_parameters_are_identity():
    # the shifted softplus gives slope 1 at zero (to rounding), equal bins: the identity
    z = torch.zeros(5, dtype=F64)
    y, ld = rq_spline(X, z, z, z[:4], B)
    np.testing.assert_allclose(y.numpy(), X.numpy(), rtol=0, atol=4e-16 * B)
    assert ld.abs().max() <= 1e-15


def test_spline_broadcasting_matches_loop():
    w, h, d = spline_params((4, 1), 5, 1.0, seed=5)
    x = torch.randn(4, 7, dtype=F64, generator=torch.Generator().manual_seed(0)) * 2
    y, ld = rq_spline(x, w, h, d, B)
    for i in range(4):
        yi, ldi = rq_spline(x[i], w[i, 0], h[i, 0], d[i, 0], B)
        assert torch.equal(yi, y[i]) and torch.equal(ldi, ld[i])


def test_spline_bad_arguments():
    z4, z3 = torch.zeros(4), torch.zeros(3)
    with pytest.raises(ValueError, match="bound: expected a number > 0.0, got 0.0"):
        rq_spline(X, z4, z4, z3, 0.0)
    with pytest.raises(ValueError, match="widths: expected at least 2 bins"):
        rq_spline(X, torch.zeros(1), torch.zeros(1), torch.zeros(0), 1.0)
    with pytest.raises(ValueError, match="derivatives: expected 3 interior knot slopes"):
        rq_spline(X, z4, z4, z4, 1.0)
    with pytest.raises(ValueError, match="heights: expected 4 bins"):
        rq_spline(X, z4, z3, z3, 1.0)
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        rq_spline([0.0], z4, z4, z3, 1.0)


# --------------------------------------------------------------------------------------------
# The flows
# --------------------------------------------------------------------------------------------
def test_flow1d_change_of_variables():
    f = flow1d()
    z = torch.linspace(-7, 7, 301, dtype=F64).expand(3, -1).clone().requires_grad_(True)
    x, logdet = f.forward_and_log_det(z)
    (dx,) = torch.autograd.grad(x.sum(), z)
    # forward log-Jacobian against autograd
    assert (torch.log(dx) - logdet).abs().max() <= 1e-10
    # exact density through the analytic inverse against log N(z) - log|dx/dz|
    lp = f.log_prob(x.detach())
    expected = -0.5 * z.detach() ** 2 - 0.5 * math.log(2 * math.pi) - logdet.detach()
    assert (lp - expected).abs().max() <= 1e-10
    zr, _ = f.inverse(x.detach())
    assert (zr - z.detach()).abs().max() <= 1e-11


@pytest.mark.parametrize("heights", ["conditioned", "free"])
def test_flow2d_change_of_variables(heights):
    f = flow2d(heights=heights, n_layers=4)
    z = torch.randn(2, 200, 2, dtype=F64, generator=torch.Generator().manual_seed(1)) * 2
    z.requires_grad_(True)
    x, logdet = f.forward_and_log_det(z)
    # per-sample Jacobian rows from autograd (samples are independent)
    (r0,) = torch.autograd.grad(x[..., 0].sum(), z, retain_graph=True)
    (r1,) = torch.autograd.grad(x[..., 1].sum(), z)
    det = r0[..., 0] * r1[..., 1] - r0[..., 1] * r1[..., 0]
    assert (torch.log(det.abs()) - logdet).abs().max() <= 1e-10
    lp = f.log_prob(x.detach())
    expected = (-0.5 * z.detach() ** 2).sum(-1) - math.log(2 * math.pi) - logdet.detach()
    assert (lp - expected).abs().max() <= 1e-10
    zr, _ = f.inverse(x.detach())
    assert (zr - z.detach()).abs().max() <= 1e-11


def test_zero_spline_parameters_give_the_gaussian():
    # init_scale=0: every spline is the identity, the flow is loc + scale z exactly
    f = EnsembleFlow2D(1, dtype=F64)
    f.reset_parameters(gens([0]), loc=(1.0, -2.0), scale=(0.5, 3.0), init_scale=0.0)
    x = torch.randn(1, 50, 2, dtype=F64, generator=torch.Generator().manual_seed(2)) * 3
    expected = Normal(torch.tensor([1.0, -2.0], dtype=F64), torch.tensor([0.5, 3.0], dtype=F64)).log_prob(x).sum(-1)
    assert (f.log_prob(x) - expected).abs().max() <= 1e-13
    f1 = EnsembleFlow1D(1, dtype=F64)
    f1.reset_parameters(gens([0]), loc=1.0, scale=0.5, init_scale=0.0)
    normal = Normal(torch.tensor(1.0, dtype=F64), torch.tensor(0.5, dtype=F64))
    assert (f1.log_prob(x[..., 0]) - normal.log_prob(x[..., 0])).abs().max() <= 1e-13


@pytest.mark.parametrize("member", [0, 1, 2])
def test_flow1d_density_has_mass_one(member):
    m, err = mass(FlowDensity(flow1d(std=0.5), member), atol=1e-12)
    assert err <= 1e-9
    assert abs(m - 1.0) <= err


@pytest.mark.parametrize("member", [0, 1])
def test_flow2d_density_has_mass_one(member):
    # free heights, 2 layers: every kink of the density is a break point the quadrature knows
    m, err = mass(FlowDensity(flow2d(std=0.2, heights="free", n_layers=2, n_bins=8), member), atol=1e-9)
    assert err <= 1e-9
    assert abs(m - 1.0) <= err


def test_flow2d_conditioned_density_has_mass_one_loosely():
    # the default coupling (conditioned heights, 4 layers) has kinks along curves: checked at
    # a loose tolerance only, where the quadrature is quick (see the module notes of flows.py)
    m, err = mass(FlowDensity(flow2d(std=0.05, n_layers=4, n_bins=16), 0), atol=1e-5)
    assert abs(m - 1.0) <= err


def test_jsd_of_flow_densities():
    # a flow with identity splines is N(loc, scale^2): the engine's JSD against a target must
    # agree with the JSD of that Gaussian (evaluated by the engine's fast Normal path)
    f = EnsembleFlow1D(1, dtype=F64)
    f.reset_parameters(gens([0]), loc=0.3, scale=1.2, init_scale=0.0)
    target = gt.toys.make("mixture2")
    r_flow = gt.jsd(FlowDensity(f, 0), target)
    r_ref = gt.jsd(Normal(torch.tensor(0.3, dtype=F64), torch.tensor(1.2, dtype=F64)), target)
    assert abs(r_flow.value - r_ref.value) <= r_flow.error + r_ref.error + 1e-14
    fd = FlowDensity(flow1d(), 1)
    assert 0.0 < gt.jsd(fd, target).value < math.log(2)
    assert gt.jsd(fd, fd).value == 0.0  # blind (an exactly zero integrand): a near-equal pair follows
    # the identity-spline flow N(0.3, 1.2^2) against N(0.3 + 1e-4, 1.2^2): JSD = d^2/8 - d^4/64 + O(d^6)
    # with d = 1e-4/1.2 (the series of the shifted-Normal JSD, checked against mpmath in test_divergences)
    d = 1e-4 / 1.2
    near = gt.jsd(FlowDensity(f, 0), Normal(torch.tensor(0.3 + 1e-4, dtype=F64), torch.tensor(1.2, dtype=F64)),
                  atol=1e-15, rtol=0.0)
    assert abs(near.value - (d ** 2 / 8 - d ** 4 / 64)) <= near.error + 1e-22 and near.error <= 1e-3 * d ** 2 / 8
    fd2 = FlowDensity(flow2d(heights="free", n_layers=2, n_bins=8), 0)
    assert gt.jsd(fd2, fd2, atol=1e-9).value == 0.0
    r2 = gt.jsd(fd2, gt.toys.make("correlated_gaussian"), atol=1e-8)
    assert 0.0 < r2.value < math.log(2) and r2.error <= 1e-8


# --------------------------------------------------------------------------------------------
# Ensembles: a member is the same flow alone
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: flow1d(n=4), lambda: flow2d(n=4, heights="free"), lambda: flow2d(n=4)])
def test_member_equals_its_copy(make):
    f = make()
    dim = f.dim
    shape = (4, 64) if dim == 1 else (4, 64, 2)
    z = torch.randn(shape, dtype=F64, generator=torch.Generator().manual_seed(3)) * 2
    x = f(z)
    lp = f.log_prob(x)
    for i in (0, 2):
        one = f.member(i)
        assert one.n_members == 1 and not any(p.requires_grad for p in one.parameters())
        np.testing.assert_allclose(one(z[i:i + 1]).detach().numpy(), x[i:i + 1].detach().numpy(), rtol=0, atol=1e-14)
        np.testing.assert_allclose(one.log_prob(x[i:i + 1].detach()).numpy(), lp[i:i + 1].detach().numpy(),
                                   rtol=0, atol=1e-14)
    # gradients of a sum of per-member losses: member i's gradient is the one it has alone
    loss = (x ** 2).mean(dim=tuple(range(1, x.dim()))).sum()
    grads = torch.autograd.grad(loss, list(f.parameters()))
    one = f.member(2).requires_grad_(True)
    x1 = one(z[2:3])
    g1 = torch.autograd.grad((x1 ** 2).mean(), list(one.parameters()))
    for g, gi in zip(grads, g1):
        np.testing.assert_allclose(g[2:3].numpy(), gi.numpy(), rtol=0, atol=1e-14)


def test_set_member_round_trip():
    f = flow2d(n=3, heights="free")
    one = f.member(1)
    randomise(one, 0.2, seed=9)
    f.set_member(1, one)
    z = torch.randn(3, 10, 2, dtype=F64, generator=torch.Generator().manual_seed(4))
    assert torch.equal(f.member(1)(z[1:2]), one(z[1:2]))
    with pytest.raises(ValueError, match="source: expected a flow with 1 member"):
        f.set_member(0, f)
    with pytest.raises(ValueError, match="source: its architecture"):
        f.set_member(0, flow2d(n=1, heights="free", n_bins=4))
    with pytest.raises(TypeError, match="source: expected a EnsembleFlow2D"):
        f.set_member(0, flow1d(n=1))


@pytest.mark.parametrize("cls", [EnsembleFlow1D, EnsembleFlow2D])
def test_init_reproducible_and_independent_of_the_ensemble(cls):
    kw = {"heights": "free"} if cls is EnsembleFlow2D else {}
    a = cls(3, dtype=F64, **kw)
    a.reset_parameters(gens([10, 11, 12]))
    b = cls(3, dtype=F64, **kw)
    b.reset_parameters(gens([10, 11, 12]))
    alone = cls(1, dtype=F64, **kw)
    alone.reset_parameters(gens([11]))
    f32 = cls(3, dtype=torch.float32, **kw)
    f32.reset_parameters(gens([10, 11, 12]))
    for (name, pa), pb, pal, p32 in zip(a.named_parameters(), b.parameters(), alone.parameters(), f32.parameters()):
        assert torch.equal(pa, pb), name  # same generators, same flow
        assert torch.equal(pa[1:2], pal), name  # member 1 is the flow built alone from seed 11
        # drawn in float64 and cast (the conditioners' last layers are then scaled down in
        # their own dtype: equal to float32 rounding)
        np.testing.assert_allclose(p32.detach().double().numpy(), pa.detach().numpy(), rtol=2.0 ** -23, atol=0)
    first = [p for n, p in a.named_parameters() if n not in ("loc", "log_scale")][0]
    assert not torch.equal(first[0], first[1])  # members differ


def test_float32_flow_matches_float64_copy():
    # float32 tolerance: the inverse map amplifies rounding by its conditioning |dx/dy|, so allow
    # 1000 float32 ulps relative to (1 + |log p|); measured worst cases are ~300 ulps
    eps32 = float(np.finfo(np.float32).eps)
    f32 = flow2d(n=2, dtype=torch.float32)
    f64 = f32.member(1, dtype=F64)
    x = (torch.randn(1, 500, 2, dtype=F64, generator=torch.Generator().manual_seed(5)) * 2).float()
    lp32 = f32.log_prob(x.expand(2, -1, -1))[1].detach().double()
    lp64 = f64.log_prob(x.double())[0]
    assert bool(((lp32 - lp64).abs() <= 1e3 * eps32 * (1 + lp64.abs())).all())
    g32 = flow1d(n=2, dtype=torch.float32)
    xs = torch.linspace(-5, 6, 300).expand(2, -1)
    lp32 = g32.log_prob(xs)[0].detach().double()
    lp64 = g32.member(0, dtype=F64).log_prob(xs[:1].double())[0]
    assert bool(((lp32 - lp64).abs() <= 1e3 * eps32 * (1 + lp64.abs())).all())


def test_flow_bad_arguments():
    with pytest.raises(ValueError, match="n_bins: expected an integer >= 2, got 1"):
        EnsembleFlow1D(2, n_bins=1)
    with pytest.raises(ValueError, match="bound: expected a number > 0.0, got -1.0"):
        EnsembleFlow2D(2, bound=-1.0)
    with pytest.raises(ValueError, match="n_members: expected an integer >= 1"):
        EnsembleFlow1D(0)
    with pytest.raises(ValueError, match="heights: unknown option 'x'"):
        EnsembleFlow2D(2, heights="x")
    f1, f2 = EnsembleFlow1D(2), EnsembleFlow2D(2)
    with pytest.raises(ValueError, match=r"z: expected shape \(N, B\) with N = 2 members, got \(3, 4\)"):
        f1(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"x: expected shape \(N, B, 2\) with N = 2 members, got \(2, 4\)"):
        f2.log_prob(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="generators: expected 2 generators"):
        f1.reset_parameters(gens([0]))
    with pytest.raises(ValueError, match="scale: expected finite positive values"):
        f1.reset_parameters(gens([0, 1]), scale=0.0)
    with pytest.raises(ValueError, match=r"i: expected a member index in \[0, 2\), got 5"):
        f1.member(5)


# --------------------------------------------------------------------------------------------
# FlowDensity: what the engine reads
# --------------------------------------------------------------------------------------------
def test_flow_density_distribution_api():
    f1, f2 = flow1d(n=2), flow2d(n=2)
    d1, d2 = FlowDensity(f1, 1), FlowDensity(f2, 0)
    assert d1.event_shape == () and d2.event_shape == (2,) and d1.batch_shape == d2.batch_shape == ()
    assert d1.support is torch.distributions.constraints.real
    assert d2.support is torch.distributions.constraints.real_vector
    # log_prob: any leading shape, the member's own density, in float64
    x = torch.randn(3, 4, 2, dtype=F64, generator=torch.Generator().manual_seed(6))
    assert d2.log_prob(x).shape == (3, 4) and d2.log_prob(x).dtype == F64
    np.testing.assert_array_equal(d2.log_prob(x).reshape(-1).numpy(), f2.member(0).log_prob(x.reshape(1, -1, 2))[0])
    assert d1.log_prob(x[..., 0]).shape == (3, 4)
    # samples from the global RNG, reproducibly
    torch.manual_seed(0)
    s = d2.sample((5, 3))
    torch.manual_seed(0)
    assert s.shape == (5, 3, 2) and torch.equal(s, d2.sample((5, 3)))
    assert d1.sample((7,)).shape == (7,) and not d1.sample((7,)).requires_grad
    with pytest.raises(NotImplementedError):
        d1.mean
    # a detached copy: training the flow afterwards does not change it
    before = d1.log_prob(x[..., 0])
    with torch.no_grad():
        f1.loc.add_(1.0)
    assert torch.equal(d1.log_prob(x[..., 0]), before)
    with pytest.raises(TypeError, match="flow: expected an EnsembleFlow1D or EnsembleFlow2D"):
        FlowDensity(torch.nn.Linear(1, 1), 0)


def test_flow_density_hints():
    for fd, dim in ((FlowDensity(flow1d(), 0), 1), (FlowDensity(flow2d(heights="free", n_layers=2), 1), 2)):
        h = fd.quadrature_hints()
        assert h.dim == dim and np.all(np.isinf(h.lower)) and np.all(np.isinf(h.upper))
        assert np.all(np.isfinite(h.centers)) and np.all(h.scales > 0)
        # the centres are where the mass is: the images of latent points, which cover the
        # central +-6 of the latent Gaussian
        assert h.centers.shape[0] >= (25 if dim == 1 else 169)
        assert np.all([b.size > 0 for b in h.breaks])  # the knots' images
        d = as_density(fd)  # accepted by the engine without a float32 warning
        assert d.eps == np.finfo(np.float64).eps and d.hints is not None
    h = FlowDensity(flow2d(), 0).quadrature_hints()  # conditioned heights: kinks on curves
    assert all(b.size == 0 for b in h.breaks)


def test_flow_generator_protocol():
    g = FlowGenerator(3, 2, n_bins=8, n_layers=2, dtype=F64)
    g.reset_parameters(gens(range(3)), 0.5, 2.0)
    assert g.summary(1) == {"loc": [0.5, 0.5], "scale": [2.0, 2.0]}
    x = torch.randn(3, 5, 2, dtype=F64, requires_grad=True)
    lp = g.log_prob(x)
    assert lp.shape == (3, 5)
    lp.sum().backward()
    # gradients reach x only: the parameters are held fixed
    assert x.grad is not None and all(p.grad is None for p in g.parameters())
    np.testing.assert_array_equal(lp.detach().numpy(), g.flow.log_prob(x.detach()).detach().numpy())
    assert isinstance(g.member_density(2), FlowDensity) and g.exact_density
    g1 = FlowGenerator(2, 1, dtype=F64)
    g1.reset_parameters(gens(range(2)))
    assert g1(torch.zeros(2, 4, 1, dtype=F64)).shape == (2, 4, 1)
    assert g1.log_prob(torch.zeros(2, 4, 1, dtype=F64)).shape == (2, 4)


@pytest.mark.gpu
def test_cuda_flow_matches_cpu():
    # the init is drawn on CPU in float64, so the same generators give the same flow on CUDA
    cpu = EnsembleFlow2D(2, dtype=F64, heights="free")
    cpu.reset_parameters(gens([0, 1]), init_scale=0.3)
    gpu = EnsembleFlow2D(2, dtype=F64, heights="free", device="cuda")
    gpu.reset_parameters(gens([0, 1]), init_scale=0.3)
    for a, b in zip(cpu.parameters(), gpu.parameters()):
        assert torch.equal(a, b.cpu())
    z = torch.randn(2, 100, 2, dtype=F64, generator=torch.Generator().manual_seed(7))
    np.testing.assert_allclose(gpu(z.cuda()).detach().cpu().numpy(), cpu(z).detach().numpy(), rtol=0, atol=1e-12)
    fd = FlowDensity(gpu, 1)  # the engine's copy lives on the CPU
    assert fd.flow.loc.device.type == "cpu"
    np.testing.assert_allclose(fd.log_prob(z[1]).numpy(), cpu.log_prob(z)[1].detach().numpy(), rtol=0, atol=1e-12)
