"""Tests that close gaps found by the mutant catalogue (tools/mutants.py).

Each test here is the one that catches a mutant the rest of the suite let through; the mutant
is named in the docstring. Expected values come from independent sources: ``torch.nn.Linear``,
``torch.optim.lr_scheduler``, ``torch.nn.functional``, mpmath, or a closed form. Mutants that
tests elsewhere catch point at those tests instead (the optimizers against ``torch.optim`` in
tests/test_optim.py; ``discriminator_error``, the sup-error region and the grid generator's
records in tests/test_trainer_metrics.py; comma-separated CLI values in tests/test_cli.py; the
trainer's generator loss through G5 and G7 in tests/proofs).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gan_theory as gt
from gan_theory.training.config import TrainConfig
from gan_theory.training.ensemble import EnsembleLinear

F = torch.float64


def test_ensemble_linear_init_is_torch_linear_init():
    """Catches T11: members are drawn from torch.nn.Linear's distribution,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases. With 4 x 64 x 64 draws the
    extremes lie within 1% of the bound (the chance that they do not is below 1e-20)."""
    layer = EnsembleLinear(4, 64, 64, dtype=F)
    layer.reset_parameters([torch.Generator().manual_seed(s) for s in range(4)])
    bound = 1.0 / math.sqrt(64)
    ref = torch.nn.Linear(64, 64)  # the same bound, from torch's own init
    assert torch.max(torch.abs(ref.weight)).item() <= bound
    w = layer.weight.detach()
    assert torch.max(torch.abs(w)).item() <= bound
    assert torch.max(torch.abs(w)).item() >= 0.99 * bound
    assert torch.max(torch.abs(layer.bias.detach())).item() <= bound


def test_check_exit_code_is_one_when_a_claim_fails(tmp_path, monkeypatch, capsys):
    """Catches L02: ``gan-theory check`` exits 1 when a claim fails (here G7 with the BCE
    targets swapped, which tests/proofs/test_g7_bce.py shows to fail)."""
    from gan_theory.claims import g7_bce
    from gan_theory.cli import main
    from gan_theory.training.losses import discriminator_loss

    real_route = g7_bce.bce_route
    swapped = lambda real, fake: discriminator_loss(real, fake, real_label=0.0, fake_label=1.0)  # noqa: E731
    monkeypatch.setattr(g7_bce, "bce_route", lambda ctx: real_route(ctx, d_loss=swapped))
    assert main(["check", "--only", "G7", "--quiet", "--out", str(tmp_path)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_cosine_schedule_is_torch_cosine_annealing():
    """Catches T22 (schedule not applied) and T23 (half a period): the learning rate the
    trainer's optimizers use at each step equals torch's CosineAnnealingLR with
    eta_min = lr_final * lr and T_max = steps."""
    from gan_theory.training.run import Trainer

    steps, lr, final = 8, 1e-2, 0.1
    cfg = TrainConfig(generator="affine", steps=steps, ensemble=1, lr_g=lr, lr_d=lr, lr_schedule="cosine",
                      lr_final=final, device="cpu", dtype="float64", d_hidden=(4,), log_every=100)
    trainer = Trainer(gt.toys.gaussian(), cfg)
    w = torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([w], lr=lr)
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, T_max=steps, eta_min=final * lr)
    for _ in range(steps):
        trainer.step()  # the step's learning rate is set at its start
        chunk = trainer.chunks[0]
        expected = ref.get_last_lr()[0]
        assert float(chunk.opt_g.lr[0]) == pytest.approx(expected, rel=1e-12)
        assert float(chunk.opt_d.lr[0]) == pytest.approx(expected, rel=1e-12)
        ref_opt.step()
        ref.step()


def test_d_steps_discriminator_updates_per_generator_step(monkeypatch):
    """Catches T24: Algorithm 1 makes k = d_steps discriminator updates per generator update."""
    from gan_theory.training.run import Trainer

    cfg = TrainConfig(generator="affine", steps=2, ensemble=1, d_steps=3, device="cpu", dtype="float64",
                      d_hidden=(4,), log_every=100)
    trainer = Trainer(gt.toys.gaussian(), cfg)
    chunk = trainer.chunks[0]
    calls = {"d": 0, "g": 0}
    for key, opt in (("d", chunk.opt_d), ("g", chunk.opt_g)):
        real = opt.step

        def counted(*a, _real=real, _key=key, **k):
            calls[_key] += 1
            return _real(*a, **k)

        monkeypatch.setattr(opt, "step", counted)
    trainer.step()
    trainer.step()
    assert calls == {"d": 6, "g": 2}


def test_optimizers_take_their_settings_from_the_config():
    """Catches T25 and T26: the configured Adam betas and SGD momentum reach the optimizers."""
    from gan_theory.training.run import Trainer

    base = dict(generator="affine", steps=1, ensemble=1, device="cpu", d_hidden=(4,))
    adam = Trainer(gt.toys.gaussian(), TrainConfig(optimizer="adam", betas=(0.3, 0.8), **base)).chunks[0]
    assert adam.opt_g.betas == (0.3, 0.8) and adam.opt_d.betas == (0.3, 0.8)
    sgd = Trainer(gt.toys.gaussian(), TrainConfig(optimizer="sgd", momentum=0.7, **base)).chunks[0]
    assert sgd.opt_g.momentum == 0.7 and sgd.opt_d.momentum == 0.7


def test_a_claim_that_crashes_fails():
    """Catches C05: a check that raises before producing any route is an ERROR, not a pass."""
    from gan_theory.claims import CheckContext, run_one
    from gan_theory.claims.base import Claim

    def broken(ctx):
        raise RuntimeError("boom")

    res = run_one(Claim("GX", "t", "s", "src", broken), CheckContext())
    assert not res.passed
    assert res.verdict == "ERROR" and "boom" in res.error


def test_kl_terms_where_p_is_much_smaller_than_q():
    """Catches E07: the integrand's branch for p << q (log p - log q < -1), checked pointwise
    against mpmath (p log(p/q) + q - p at 40 digits)."""
    import mpmath as mp

    from gan_theory.logspace import kl_terms

    mp.mp.dps = 40
    lp = np.array([-3.0, -40.0, -1.5, -700.0])
    lq = np.array([0.0, -1.0, -0.2, -2.0])
    v, _ = kl_terms(lp, lq)
    for i in range(lp.size):
        p, q = mp.exp(mp.mpf(lp[i])), mp.exp(mp.mpf(lq[i]))
        ref = p * mp.log(p / q) + q - p
        assert abs(v[i] - ref) <= 1e-15 * abs(ref), (lp[i], lq[i])


def test_minimax_generator_loss_is_minus_bce_with_target_zero():
    """Catches T06: the minimax loss is mean log(1 - D(G(z))) = -BCE(l, target 0) (torch's BCE
    from logits), and its gradient in l is -sigmoid(l) (it vanishes as D(G(z)) -> 0)."""
    import torch.nn.functional as F

    from gan_theory.training.losses import generator_loss

    l = torch.tensor([[-30.0, -2.0, 0.0, 1.5, 25.0]], dtype=torch.float64, requires_grad=True)
    ours = generator_loss(l, "minimax")
    ref = -F.binary_cross_entropy_with_logits(l.detach(), torch.zeros_like(l), reduction="none").mean(-1)
    assert torch.allclose(ours.detach(), ref, rtol=1e-15, atol=0)
    ours.sum().backward()
    assert torch.allclose(l.grad, -torch.sigmoid(l.detach()) / l.shape[-1], rtol=1e-15, atol=0)


def test_a_route_with_a_nan_value_fails():
    """Catches C04: ``within`` passes only for value <= tolerance; NaN (a failed computation)
    fails, and so does inf."""
    from gan_theory.claims.base import within

    assert within("r", "m", 0.5, 1.0, "src").passed
    assert not within("r", "m", math.nan, 1.0, "src").passed
    assert not within("r", "m", math.inf, 1.0, "src").passed
    assert not within("r", "m", 1.5, 1.0, "src").passed


def test_an_erratum_needs_its_stated_form_to_fail():
    """Catches C02: an erratum passes only when the stated form fails and the corrected one
    holds; a stated form that holds means the erratum is wrong."""
    from gan_theory.claims.base import Erratum, within

    ok, bad = within("r", "m", 0.0, 1.0, "src"), within("r", "m", 2.0, 1.0, "src")
    assert Erratum("s", "c", bad, ok).passed
    assert not Erratum("s", "c", ok, ok).passed
    assert not Erratum("s", "c", bad, bad).passed


def test_a_non_finite_gradient_with_a_finite_loss_stops_the_member():
    """Catches T14: the guard looks at the gradients too. Member 1's loss sqrt(w - w) is 0 but
    its gradient is 0 * inf = NaN; member 1 is stopped with its parameters unchanged, member 0
    takes its step."""
    from gan_theory.training.run import Trainer
    from gan_theory.training.steps import StepOutput, guarded_update, stop_reason, update_stops

    # Adam: unlike SGD's, its update has no second guard on the parameters afterwards
    cfg = TrainConfig(generator="affine", optimizer="adam", steps=1, ensemble=2, lr_g=0.1, device="cpu",
                      dtype="float64", d_hidden=(4,))
    trainer = Trainer(gt.toys.gaussian(), cfg)
    chunk = trainer.chunks[0]
    params = [p for p in chunk.generator.parameters()]
    before = [p.detach().clone() for p in params]
    loss0 = sum(((p[0] - 0.37) ** 2).sum() for p in params)
    loss1 = sum(torch.sqrt(p[1] - p[1]).sum() for p in params)
    loss = torch.stack([loss0, loss1])
    assert bool(torch.isfinite(loss).all())
    grads = torch.autograd.grad(loss.sum(), params)
    norm, finite, ok = guarded_update(chunk.opt_g, params, list(grads), loss, trainer.active.clone())
    out = StepOutput(loss.detach(), norm, finite, ok)
    active, step, code, value = update_stops(trainer.active, torch.full((2,), -1), torch.zeros(2, dtype=torch.int64),
                                             torch.zeros(2, dtype=torch.float64), out, 1, "generator")
    assert active.tolist() == [True, False] and step.tolist() == [-1, 1]
    assert stop_reason(1, 1, int(code[1]), float(value[1])) == "step 1, member 1: non-finite generator loss or gradient (0.0)"
    for p, b in zip(params, before):
        assert torch.equal(p.detach()[1], b[1])
        assert not torch.equal(p.detach()[0], b[0])


def test_hints_give_the_standard_deviation_and_the_cusps():
    """Catches E17 (variance as the scale) and E34 (Laplace without its cusp). The quadrature
    recovers from poor hints by refining, so no value shows these bugs; the hints themselves
    are checked against their definition (centre, a standard deviation or comparable width,
    the points where the density is not smooth: the Laplace cusp at loc, the uniform's ends)."""
    import torch.distributions as td

    def f(v):
        return torch.tensor(v, dtype=F)

    cases = [(td.Normal(f(1.0), f(3.0)), [1.0], [3.0], []),
             (td.Cauchy(f(2.0), f(0.1)), [2.0], [0.1], []),
             (td.StudentT(f(3.0), f(1.0), f(2.0)), [1.0], [2.0], []),
             (td.Gumbel(f(1.0), f(2.0)), [1.0], [2.0], []),  # hints from the registry in densities/hints.py
             (td.Laplace(f(-1.0), f(0.5)), [-1.0], [0.5], [-1.0]),
             (gt.toys.mixture2(), [-2.0, 2.0], [0.5, 0.5], [])]
    for dist, centers, scales, breaks in cases:
        h = gt.as_density(dist).hints
        np.testing.assert_allclose(h.centers[:, 0], centers, rtol=1e-15)
        np.testing.assert_allclose(h.scales[:, 0], scales, rtol=1e-15)
        np.testing.assert_allclose(np.sort(h.breaks[0]), breaks, rtol=1e-15)
