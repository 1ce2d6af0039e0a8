"""The trainer in parts (issue 10): the split gives the old numbers; the steps' new features.

Expected values: the trainer before the split (tests/references/trainer_before_split.json, made
by tests/references/make_trainer_reference.py from commit 07ca77a: bit for bit); torch's
autograd (the explicit input gradient, the R1 penalty's parameter gradient by double backward);
weighted sums written out by hand; the eager step for the compiled one.
"""

import ast
import math
from pathlib import Path

import pytest
import torch

import gan_theory as gt
from gan_theory.training import config as config_module
from gan_theory.training.config import TrainConfig
from gan_theory.training.ensemble import EnsembleMLP
from gan_theory.training.generators import AffineGenerator
from gan_theory.training.losses import discriminator_loss, generator_loss, minibatch_value, softplus
from gan_theory.training.optim import EnsembleSGD
from gan_theory.training.run import Trainer, train
from gan_theory.training.steps import discriminator_losses, discriminator_step, generator_step

from refdata import load_references

F = torch.float64
ROOT = Path(__file__).resolve().parent.parent
TARGET = gt.toys.gaussian(2.0, 0.5)


def _rngs(n, seed=0):
    return [torch.Generator().manual_seed(seed + i) for i in range(n)]


def _net(n, dim, activation, hidden=(7, 5)):
    net = EnsembleMLP(n, (dim, *hidden, 1), activation, dtype=F)
    net.reset_parameters(_rngs(n, 11))
    return net


# ---------------------------------------------------------------- the split gives the old numbers

@pytest.mark.parametrize("case", sorted(load_references("trainer_before_split.json")))
def test_split_trainer_equals_the_trainer_before_the_split_bit_for_bit(case):
    """compile=False, r1_gamma=0, no weighted_sample: every record and every final parameter equals
    that of the trainer before the split (commit 07ca77a), for fixed seeds."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "references"))
    try:
        from make_trainer_reference import run_case
    finally:
        sys.path.pop(0)
    expected = load_references("trainer_before_split.json")[case]
    got = run_case(case)
    assert got["stopped"] == expected["stopped"]
    assert len(got["history"]) == len(expected["history"])
    # Records made after the split also carry the mode-coverage metrics (issue 10), which the
    # old trainer did not compute: every old key must be equal, and only coverage keys are new.
    coverage_keys = {"modes_total", "modes_captured", "high_quality", "reverse_kl_modes", "n_samples",
                     "mode_mass_captured", "mass_near_modes", "mass_near_modes_error", "reverse_kl_mass",
                     "reverse_kl_mass_error", "mode_mass_ratio_min", "coverage_exact_error"}
    # Since issue 12 a 1-D piecewise-linear discriminator's kinks are computed from its weights
    # and given to the quadrature as break points: ||D - D*||_m and V(D, G) come from another
    # quadrature, so they must agree with the old values within the two error bounds (each
    # bounds its distance to the exact value), and their bounds are the new quadrature's.
    quadrature_keys = {"d_error": "d_error_bound", "v_quadrature": "v_quadrature_error"}
    for a, b in zip(got["history"], expected["history"]):
        assert set(a) - set(b) <= coverage_keys, set(a) - set(b)
        for key, bound in quadrature_keys.items():
            if isinstance(b.get(key), float) and isinstance(b.get(bound), float):
                assert abs(a[key] - b[key]) <= a[bound] + b[bound], (key, a[key], b[key], a[bound], b[bound])
        # a member whose V cannot be bounded fails in both, with the other quadrature's numbers
        # in the message: the error type and the quantity must be the same
        if isinstance(b.get("metrics_error"), str):
            assert a["metrics_error"].split(":")[:2] == b["metrics_error"].split(":")[:2], (a["metrics_error"],
                                                                                          b["metrics_error"])
        skip = set(quadrature_keys) | set(quadrature_keys.values()) | {"metrics_error"}
        old = {k: a.get(k) for k in b if k not in skip}
        assert old == {k: v for k, v in b.items() if k not in skip}, {
            k: (a.get(k), b.get(k)) for k in b if k not in skip and a.get(k) != b.get(k)}
    assert got["params"] == expected["params"]


# ---------------------------------------------------------------- the one-output layer (issue 12)

@pytest.mark.parametrize("dtype", [torch.float32, F])
@pytest.mark.parametrize("width", [1, 3, 8, 17, 33, 64, 65])
def test_one_output_layer_equals_baddbmm_and_its_autograd(dtype, width):
    """An EnsembleLinear with one output (issue 12: the transposed product W^T x^T + b^T, input
    gradient as a broadcast product, weight gradient as (g^T x)^T) against torch.baddbmm
    differentiated by autograd, an independent implementation. The input and bias gradients are
    equal bit for bit (one product per entry; the same sum). The output's and the weight
    gradient's dot products may be summed in another order by BLAS: each is within the rounding
    bound gamma_m sum |a_i b_i| of the exact value (m terms; Higham, Accuracy and Stability,
    eq. 3.5), so the two differ by at most twice that (the output equal at width 1: one product
    and a sum)."""
    from gan_theory.training.ensemble import EnsembleLinear

    def gamma(m):
        u = m * torch.finfo(dtype).eps / 2
        return u / (1 - u)

    gen = torch.Generator().manual_seed(3)
    layer = EnsembleLinear(5, width, 1, dtype=dtype)
    layer.reset_parameters(_rngs(5, 4))
    x = torch.randn(5, 37, width, generator=gen, dtype=dtype, requires_grad=True)
    up = torch.randn(5, 37, 1, generator=gen, dtype=dtype)
    out = layer(x)
    got_x, got_w, got_b = torch.autograd.grad(out, [x, layer.weight, layer.bias], up)
    w, b = layer.weight.detach().requires_grad_(), layer.bias.detach().requires_grad_()
    ref_out = torch.baddbmm(b, x, w)
    ref_x, ref_w, ref_b = torch.autograd.grad(ref_out, [x, w, b], up)
    xa, wa = x.detach().abs(), w.detach().abs()
    assert out.shape == ref_out.shape
    bound = 2 * gamma(width + 1) * (torch.bmm(xa, wa) + b.detach().abs())
    assert bool(((out - ref_out).detach().abs() <= bound).all())
    if width == 1:
        assert torch.equal(out, ref_out)
    assert got_w.shape == ref_w.shape
    assert bool(((got_w - ref_w).abs() <= 2 * gamma(37) * torch.bmm(xa.transpose(1, 2), up.abs())).all())
    assert torch.equal(got_x, ref_x) and torch.equal(got_b, ref_b)


def test_generator_step_leaves_the_discriminator_trainable_and_its_gradients_untouched():
    """generator_step holds D's parameters out of the graph while it runs (so no backward
    function computes their gradients) and gives them back requires_grad=True; D's .grad stays
    None and its parameters do not move."""
    from gan_theory.training.optim import EnsembleAdam

    gen = AffineGenerator(2, 1, dtype=F, device="cpu")
    gen.reset_parameters(_rngs(2), 0.0, 1.0)
    disc = _net(2, 1, "leaky_relu")
    before = [p.detach().clone() for p in disc.parameters()]
    opt = EnsembleAdam(list(gen.parameters()), 1e-3)
    z = torch.randn(2, 16, 1, generator=torch.Generator().manual_seed(0), dtype=F)
    out = generator_step(gen, disc, opt, z, torch.ones(2, dtype=torch.bool), loss="non_saturating")
    assert bool(out.finite.all())
    assert all(p.requires_grad and p.grad is None for p in disc.parameters())
    assert all(torch.equal(p, b) for p, b in zip(disc.parameters(), before))


def test_compile_compiles_every_piece_and_false_compiles_none():
    """StepFunctions.build: compile=True or a mode without CUDA graphs compiles each player's
    step as one graph (where the torch has trace_autograd_ops), except the discriminator's with
    R1; a CUDA-graph mode compiles piece by piece (the losses and the update compiled, handed to
    the same step functions); the sampling is compiled in every mode; False keeps the eager
    functions. torch.compile is lazy: nothing compiles here."""
    import functools

    from gan_theory.training import steps

    traceable = hasattr(torch._dynamo.config, "trace_autograd_ops")  # torch >= 2.11 (pyproject allows 2.2)
    eager = steps.StepFunctions()
    assert eager.discriminator_update is steps.discriminator_update
    assert not eager.discriminator_one_graph and not eager.generator_one_graph

    def is_pieces(fn, name, losses):
        return (isinstance(fn, functools.partial) and fn.func is getattr(eager, name)
                and fn.keywords["losses"] is not losses and fn.keywords["update"] is not steps.guarded_update)

    for mode in (True, "default", "max-autotune-no-cudagraphs", "reduce-overhead", "max-autotune"):
        for r1 in (False, True):
            fns = steps.StepFunctions.build(mode, r1=r1)
            one = traceable and mode not in ("reduce-overhead", "max-autotune")
            assert fns.mode == mode and fns.sample is not eager.sample
            assert (fns.discriminator_one_graph, fns.generator_one_graph) == (one and not r1, one), (mode, r1)
            for name, losses, whole in (("discriminator_update", steps.discriminator_losses, one and not r1),
                                        ("generator_update", steps.generator_losses, one)):
                fn = getattr(fns, name)
                if whole:
                    assert fn.__wrapped__ is getattr(eager, name), (mode, r1, name)
                else:
                    assert is_pieces(fn, name, losses), (mode, r1, name)
    assert steps.StepFunctions.build(False) == eager


def _same_bits(a, b):
    """Equal values and signs, NaN where the other has NaN."""
    nan = torch.isnan(a)
    return (torch.equal(nan, torch.isnan(b)) and torch.equal(a[~nan], b[~nan])
            and torch.equal(torch.signbit(a[~nan]), torch.signbit(b[~nan])))


def _leaky_inputs(dtype):
    info = torch.finfo(dtype)
    special = torch.tensor([0.0, -0.0, info.tiny, -info.tiny, info.smallest_normal / 4, -info.smallest_normal / 4,
                            info.max, -info.max, float("inf"), -float("inf"), float("nan"), 1.0, -1.0], dtype=dtype)
    a = torch.cat([special, torch.randn(4000, generator=torch.Generator().manual_seed(5), dtype=dtype) * 10])
    return a, torch.randn(a.shape, generator=torch.Generator().manual_seed(6), dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float32, F])
def test_traced_leaky_relu_equals_aten_bit_for_bit(dtype):
    """The LeakyReLU that torch.compile traces (a * clamp(sign(a), 0.2, 1), saving a float) against
    aten's leaky_relu and its autograd: values and input gradients equal bit for bit, at zero (both
    signs), at the smallest subnormals, at infinities, at NaN and on random inputs. Expected
    values: torch.nn.functional.leaky_relu differentiated by autograd, an independent
    implementation."""
    from gan_theory.training.ensemble import _TracedLeakyReLU

    a, up = _leaky_inputs(dtype)
    x1, x2 = a.clone().requires_grad_(), a.clone().requires_grad_()
    ours, ref = _TracedLeakyReLU.apply(x1), torch.nn.functional.leaky_relu(x2, 0.2)
    assert _same_bits(ours.detach(), ref.detach())
    (g1,), (g2,) = torch.autograd.grad(ours, x1, up), torch.autograd.grad(ref, x2, up)
    assert _same_bits(g1, g2)


def test_leaky_relu_compiled_equals_aten_bit_for_bit():
    """The path that ships: the ensemble's LeakyReLU inside torch.compile (Inductor's kernels for the
    traced form) against aten's, values and input gradients, float32, the inputs above."""
    from gan_theory.training.ensemble import ACTIVATIONS

    torch._dynamo.reset()
    compiled = torch.compile(lambda t: ACTIVATIONS["leaky_relu"](t), dynamic=False)
    a, up = _leaky_inputs(torch.float32)
    x1, x2 = a.clone().requires_grad_(), a.clone().requires_grad_()
    ours, ref = compiled(x1), torch.nn.functional.leaky_relu(x2, 0.2)
    assert _same_bits(ours.detach(), ref.detach())
    (g1,), (g2,) = torch.autograd.grad(ours, x1, up), torch.autograd.grad(ref, x2, up)
    assert _same_bits(g1, g2)


# ---------------------------------------------------------------- explicit input gradient, R1

@pytest.mark.parametrize("activation", config_module.ACTIVATIONS)
@pytest.mark.parametrize("dim", [1, 2])
def test_explicit_input_gradient_equals_autograd(activation, dim):
    """logits_and_input_grad: the chain rule written out equals torch.autograd.grad (float64, to
    1e-15 of the gradient's scale: a few roundings of sums of 7 and 5 terms); the logits are
    forward's bit for bit."""
    net = _net(3, dim, activation)
    x = torch.randn(3, 40, dim, generator=torch.Generator().manual_seed(1), dtype=F, requires_grad=True)
    logits, grad = (t.detach() for t in net.logits_and_input_grad(x))
    ref = torch.autograd.grad(net(x)[..., 0].sum(), x)[0]
    assert torch.equal(logits, net(x)[..., 0].detach())
    assert grad.shape == x.shape
    assert float((grad - ref).abs().max()) <= 1e-15 * float(ref.abs().max())


@pytest.mark.parametrize("activation", config_module.ACTIVATIONS)
def test_r1_penalty_parameter_gradient_equals_double_backward(activation):
    """The D loss with r1_gamma: BCE + gamma/2 mean ||grad_x l||^2 on the real batch. Its value and
    its parameter gradient (one backward through the explicit input gradient) equal those of the
    penalty built with autograd.grad(create_graph=True) and differentiated again (double
    backward), to 1e-13 relative (float64 rounding of both routes)."""
    gamma = 3.0
    net = _net(2, 2, activation)
    g = torch.Generator().manual_seed(4)
    real = torch.randn(2, 64, 2, generator=g, dtype=F)
    fake = 1.5 * torch.randn(2, 64, 2, generator=g, dtype=F)
    loss, _ = discriminator_losses(net, real, fake, None, 1.0, 0.0, gamma)
    params = list(net.parameters())
    ours = torch.autograd.grad(loss.sum(), params)
    x = real.clone().requires_grad_(True)
    lr_ = net(x)[..., 0]
    gx = torch.autograd.grad(lr_.sum(), x, create_graph=True)[0]
    ref_loss = discriminator_loss(lr_, net(fake)[..., 0]) + gamma / 2 * (gx ** 2).sum(-1).mean(-1)
    ref = torch.autograd.grad(ref_loss.sum(), params)
    assert torch.allclose(loss, ref_loss, rtol=1e-13, atol=0)
    for a, b in zip(ours, ref):
        assert float((a - b).abs().max()) <= 1e-13 * max(float(b.abs().max()), 1e-300), activation
    # the penalty is really there: without it the gradient differs
    plain, _ = discriminator_losses(net, real, fake, None, 1.0, 0.0, 0.0)
    assert float((plain - loss).detach().abs().min()) > 1e-6


def test_r1_in_the_trainer_is_the_penalised_gradient():
    """One trainer step with r1_gamma and plain SGD (lr 0.1): the discriminator update it applies,
    (theta_before - theta_after)/lr, equals the double-backward gradient of the penalised BCE at
    the same draws (1e-12 relative: float64 rounding of an SGD step over lr)."""
    gamma, lr = 2.0, 0.1
    cfg = TrainConfig(generator="affine", optimizer="sgd", lr_d=lr, lr_g=0.0, r1_gamma=gamma, steps=1, ensemble=2,
                      batch_size=32, d_hidden=(6, 6), device="cpu", dtype="float64", log_every=10 ** 6)
    tr = Trainer(TARGET, cfg)
    member = tr.member(0)
    disc = tr.chunks[0].discriminator
    states = [g.get_state() for g in tr.rngs]
    before = [p.detach().clone() for p in disc.parameters()]
    tr.step()
    applied = [(b - p.detach()) / lr for b, p in zip(before, disc.parameters())]
    rngs = _rngs(2)
    for g, s in zip(rngs, states):
        g.set_state(s)
    real = torch.stack([tr.sample_data(32, g) for g in rngs]).reshape(2, 32, 1)
    z = torch.stack([torch.randn(32, 1, generator=g, dtype=F) for g in rngs])
    with torch.no_grad():
        for p, b in zip(disc.parameters(), before):
            p.copy_(b)
        fake = member.generator.module(z)
    x = real.clone().requires_grad_(True)
    lr_ = disc(x)[..., 0]
    gx = torch.autograd.grad(lr_.sum(), x, create_graph=True)[0]
    loss = discriminator_loss(lr_, disc(fake)[..., 0]) + gamma / 2 * (gx ** 2).sum(-1).mean(-1)
    expected = torch.autograd.grad(loss.sum(), list(disc.parameters()))
    for a, e in zip(applied, expected):
        assert float((a - e).abs().max()) <= 1e-12 * float(e.abs().max())


@pytest.mark.parametrize("bad,err,match", [
    ({"r1_gamma": -0.1}, ValueError, r"r1_gamma: expected a number >= 0"),
    ({"r1_gamma": math.nan}, ValueError, "r1_gamma"),
    ({"r1_gamma": True}, TypeError, "r1_gamma"),
    ({"r1_gamma": 1.0, "discriminator": "optimal"}, ValueError, "r1_gamma: the R1 penalty regularises a network"),
    ({"compile": "fast"}, ValueError, r"compile: expected True, False or a torch.compile mode .*got 'fast'"),
    ({"compile": 1}, TypeError, r"compile: expected True, False or a torch.compile mode .*got int 1"),
    ({"compile": None}, TypeError, r"compile: expected True, False or a torch.compile mode"),
])
def test_r1_and_compile_options_are_validated(bad, err, match):
    with pytest.raises(err, match=match):
        TrainConfig(**bad)


def test_compile_modes_are_accepted_and_round_trip():
    for mode in (False, True, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"):
        cfg = TrainConfig(compile=mode, r1_gamma=0.5)
        assert TrainConfig.from_dict(cfg.to_dict()) == cfg and cfg.compile == mode


# ---------------------------------------------------------------- weighted_sample

class _WeightedAffine(AffineGenerator):
    """Test-only: an affine generator with weighted_sample, weights softmax(t * z_0) with a learned
    temperature t per member (rows sum to 1, differentiable in the parameters)."""

    def __init__(self, n, dim):
        super().__init__(n, dim, dtype=F, device="cpu")
        self.temp = torch.nn.Parameter(torch.full((n, 1), 0.7, dtype=F))

    def weighted_sample(self, z):
        return self(z), torch.softmax(self.temp * z[..., 0], dim=-1)


def test_weighted_losses_are_the_weighted_sums():
    """With weights, the fake terms are sum_b w_b t_b (written out here per sample), the real term
    the plain mean; with uniform weights they equal the unweighted means to rounding."""
    g = torch.Generator().manual_seed(2)
    real, fake = 3 * torch.randn(2, 9, generator=g, dtype=F), 3 * torch.randn(2, 9, generator=g, dtype=F)
    w = torch.softmax(torch.randn(2, 9, generator=g, dtype=F), -1)
    for n in range(2):
        d_ref = sum(math.log1p(math.exp(-float(r))) for r in real[n]) / 9 \
            + sum(float(wb) * math.log1p(math.exp(float(f))) for wb, f in zip(w[n], fake[n]))
        g_ref = sum(float(wb) * math.log1p(math.exp(-float(f))) for wb, f in zip(w[n], fake[n]))
        mm_ref = -sum(float(wb) * math.log1p(math.exp(float(f))) for wb, f in zip(w[n], fake[n]))
        assert float(discriminator_loss(real, fake, fake_weight=w)[n]) == pytest.approx(d_ref, rel=1e-14)
        assert float(generator_loss(fake, "non_saturating", weight=w)[n]) == pytest.approx(g_ref, rel=1e-14)
        assert float(generator_loss(fake, "minimax", weight=w)[n]) == pytest.approx(mm_ref, rel=1e-14)
        v_ref = -sum(math.log1p(math.exp(-float(r))) for r in real[n]) / 9 + mm_ref
        assert float(minibatch_value(real, fake, fake_weight=w)[n]) == pytest.approx(v_ref, rel=1e-14)
    uniform = torch.full((2, 9), 1 / 9, dtype=F)
    assert torch.allclose(discriminator_loss(real, fake, fake_weight=uniform), discriminator_loss(real, fake),
                          rtol=1e-15, atol=0)
    assert torch.allclose(generator_loss(fake, "minimax", weight=uniform), generator_loss(fake, "minimax"),
                          rtol=1e-15, atol=0)


def test_both_steps_use_weighted_sample():
    """discriminator_step and generator_step with a generator that has weighted_sample: the SGD
    updates they apply are the gradients of the weighted losses (written from their formulas
    here), to 1e-12 relative; the generator's gradient reaches the weights' parameter."""
    n, b, lr = 2, 16, 0.1
    gen = _WeightedAffine(n, 1)
    gen.reset_parameters(_rngs(n), 0.3, 1.2)
    disc = _net(n, 1, "tanh", hidden=(5,))
    g = torch.Generator().manual_seed(9)
    z = torch.randn(n, b, 1, generator=g, dtype=F)
    real = 2 + 0.5 * torch.randn(n, b, 1, generator=g, dtype=F)
    active = torch.ones(n, dtype=torch.bool)

    def sgd(module):
        params = list(module.parameters())
        return params, EnsembleSGD(params, lr), [p.detach().clone() for p in params]

    # the discriminator step on the weighted fake batch
    params, opt, before = sgd(disc)
    with torch.no_grad():
        fake, w = gen.weighted_sample(z)
    discriminator_step(disc, opt, real, fake, w, active)
    applied = [(b0 - p.detach()) / lr for b0, p in zip(before, params)]
    with torch.no_grad():
        for p, b0 in zip(params, before):
            p.copy_(b0)
    lr_, lf = disc(real)[..., 0], disc(fake)[..., 0]
    loss = softplus(-lr_).mean(-1) + (w * softplus(lf)).sum(-1)
    for a, e in zip(applied, torch.autograd.grad(loss.sum(), params)):
        assert float((a - e).abs().max()) <= 1e-12 * float(e.abs().max())
    # the generator step: loss sum_b w_b softplus(-l(x_b)), gradients through x and w
    params, opt, before = sgd(gen)
    generator_step(gen, disc, opt, z, active, loss="non_saturating")
    applied = [(b0 - p.detach()) / lr for b0, p in zip(before, params)]
    with torch.no_grad():
        for p, b0 in zip(params, before):
            p.copy_(b0)
    x, w = gen.weighted_sample(z)
    loss = (w * softplus(-disc(x)[..., 0])).sum(-1)
    expected = torch.autograd.grad(loss.sum(), params)
    for a, e in zip(applied, expected):
        assert float((a - e).abs().max()) <= 1e-12 * float(e.abs().max())
    assert float(expected[-1].abs().max()) > 1e-6  # the temperature (weights) moved too


def test_trainer_uses_weighted_sample_when_the_generator_has_one(monkeypatch):
    """The trainer's steps call weighted_sample when the generator has it: with one-hot weights on
    sample 0, the recorded generator loss is softplus(-l(x_0)) of that one sample."""
    def one_hot(self, z):
        x = self(z)
        w = torch.zeros(x.shape[:2], dtype=x.dtype)
        w[:, 0] = 1.0
        return x, w

    monkeypatch.setattr(AffineGenerator, "weighted_sample", one_hot, raising=False)
    cfg = TrainConfig(generator="affine", optimizer="sgd", lr_d=0.0, lr_g=0.0, steps=1, ensemble=2, batch_size=8,
                      d_hidden=(4,), device="cpu", dtype="float64", log_every=10 ** 6)
    tr = Trainer(TARGET, cfg)
    states = [g.get_state() for g in tr.rngs]
    tr.step()
    rngs = _rngs(2)
    for g, s in zip(rngs, states):
        g.set_state(s)
    for g in rngs:  # the D step's data and latent draws, then the G step's latent draws
        tr.sample_data(8, g)
    for g in rngs:
        torch.randn(8, 1, generator=g, dtype=F)
    z = torch.stack([torch.randn(8, 1, generator=g, dtype=F) for g in rngs])
    with torch.no_grad():
        logit0 = tr.chunks[0].discriminator(tr.chunks[0].generator(z))[:, 0, 0]
    assert torch.allclose(tr._last["loss_g"], softplus(-logit0), rtol=1e-15, atol=0)


# ---------------------------------------------------------------- the public member API

def test_member_api_gives_each_members_models():
    """Trainer.member(i) / TrainResult.member(i): the generator maps z as the ensemble module does
    at the member's slot (members in a second chunk included), density() is the density the
    records were measured with (same criterion to the last bit), discriminator is the member's
    network."""
    cfg = TrainConfig(generator="affine", steps=2, ensemble=3, chunk=2, batch_size=16, d_hidden=(4,), device="cpu",
                      dtype="float64", log_every=2)
    r = train(TARGET, cfg, progress=False)
    for i in range(3):
        m = r.member(i)
        assert (m.index, m.seed) == (i, cfg.member_seeds[i])
        z = torch.randn(5, 1, generator=torch.Generator().manual_seed(i), dtype=F)
        zz = torch.zeros(m.generator.module.n_members, 5, 1, dtype=F)
        zz[m.generator.slot] = z
        with torch.no_grad():
            assert torch.equal(m.generator(z), m.generator.module(zz)[m.generator.slot, :, 0])
        assert gt.criterion(TARGET, m.density(), atol=1e-9, rtol=0.0).value == r.final[i]["criterion"]
        x = torch.linspace(-1, 4, 7, dtype=F)
        assert torch.equal(m.discriminator(x), r.discriminators[i](x))
        assert 0 <= float(m.discriminator(x).min()) and float(m.discriminator(x).max()) <= 1
    assert r.member(2).generator.slot == 0 and r.member(1).generator.slot == 1
    with pytest.raises(IndexError, match="member: expected an integer 0 <= member < 3, got 3"):
        r.member(3)
    opt = train(TARGET, TrainConfig(generator="affine", discriminator="optimal", steps=1, device="cpu", log_every=1),
                progress=False)
    assert opt.member(0).discriminator is None


def test_claims_and_cli_use_no_private_trainer_api():
    """The claims and the command line read models through public API only: no `._name` access on
    a trainer, result or chunk, and no `.chunks`."""
    bad = []
    for path in sorted((ROOT / "gan_theory" / "claims").glob("*.py")) + sorted((ROOT / "gan_theory").glob("cli*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and (node.attr == "chunks" or (
                    node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in ("tr", "trainer", "chunk", "r",
                                                                                 "result", "res"))):
                bad.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert not bad, bad


def test_version_is_read_from_its_own_module():
    """No module imports __version__ from the package itself (which, from inside the package,
    imports it in a loop); every import of it is from gan_theory._version."""
    from gan_theory import _version

    assert gt.__version__ == _version.__version__
    bad = []
    for path in sorted((ROOT / "gan_theory").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and any(a.name == "__version__" for a in node.names):
                if node.module != "_version":
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} from {'.' * node.level}{node.module or ''}")
    assert not bad, bad


def test_each_members_density_is_converted_once_per_log_step(monkeypatch):
    """measure(): p_g becomes the engine's Density once per member and log step (its fast view is
    built once), not once per metric (criterion, JSD, ||D - D*||, sup error, V: five before)."""
    from gan_theory.densities import density as densities  # where as_density looks fast_view up

    tr = Trainer(TARGET, TrainConfig(generator="affine", ensemble=2, d_hidden=(4,), device="cpu"))
    target_dist = tr.p_data.source
    real, calls = densities.fast_view, []
    monkeypatch.setattr(densities, "fast_view", lambda obj, name: (calls.append(obj), real(obj, name))[1])
    records = tr.measure(0.0)
    assert all("criterion" in r and "d_error" in r and "v_quadrature" in r for r in records)
    assert len([o for o in calls if o is not target_dist]) == 2


def test_the_build_reads_the_version_from_the_module_that_defines_it():
    """pyproject's [tool.hatch.version] path is the file that sets __version__ (a fresh
    install fails to build otherwise: the editable install of a developer hides it)."""
    import re
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    path = ROOT / meta["tool"]["hatch"]["version"]["path"]
    found = re.search(r'^__version__ = "([^"]+)"', path.read_text(), re.M)
    assert found is not None and found.group(1) == gt.__version__
