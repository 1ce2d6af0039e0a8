"""Tests that close gaps found by the mutant catalogue (tools/mutants.py).

Each test here is the one that catches a mutant the rest of the suite let through; the mutant
is named in the docstring. Expected values come from independent sources: ``torch.optim``,
``torch.nn.Linear``, ``scipy.integrate.quad`` on the textbook formula, ``scipy``'s
``jensenshannon``, or a closed form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from scipy.spatial.distance import jensenshannon

import gan_theory as gt
from gan_theory.training.config import TrainConfig
from gan_theory.training.ensemble import EnsembleLinear
from gan_theory.training.loop import train
from gan_theory.training.optim import EnsembleAdam, EnsembleSGD

F = torch.float64


def _grads(steps: int, shape: tuple[int, ...], seed: int, scale: float) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [scale * torch.randn(shape, generator=g, dtype=F) for _ in range(steps)]


def _run_adam_pair(lrs, betas, eps, steps, active=None):
    """EnsembleAdam over stacked (N, 3, 2) weights against N torch.optim.Adam, same gradients."""
    n = len(lrs)
    w0 = torch.randn(n, 3, 2, generator=torch.Generator().manual_seed(1), dtype=F)
    grads = _grads(steps, (n, 3, 2), 2, 1e-3)  # small gradients: eps and the bias corrections matter
    ens = w0.clone()
    opt = EnsembleAdam([ens], torch.tensor(lrs, dtype=F), betas=betas, eps=eps)
    ref = [w0[i].clone().requires_grad_(True) for i in range(n)]
    ref_opts = [torch.optim.Adam([r], lr=lr, betas=betas, eps=eps, foreach=False) for r, lr in zip(ref, lrs)]
    for g in grads:
        ens.grad = g.clone()
        opt.step(active)
        for i in range(n):
            if active is not None and not bool(active[i]):
                continue
            ref[i].grad = g[i].clone()
            ref_opts[i].step()
    return ens, torch.stack([r.detach() for r in ref])


def test_ensemble_adam_matches_torch_adam_step_by_step():
    """Catches T01 (no first-moment bias correction) and T03 (eps before the second-moment
    correction): every member equals its own torch.optim.Adam (same formulas, float64), to
    1e-14 after 25 steps."""
    ens, ref = _run_adam_pair([1e-2, 3e-3, 5e-2], (0.9, 0.999), 1e-8, 25)
    assert torch.max(torch.abs(ens - ref)).item() <= 1e-14


def test_ensemble_adam_with_a_stopped_member_matches_torch_adam():
    """Catches T02: with a mask of active members (the per-member path), the active members
    equal torch.optim.Adam and the stopped one does not move."""
    active = torch.tensor([True, False, True])
    ens, ref = _run_adam_pair([1e-2, 3e-3, 5e-2], (0.5, 0.9), 1e-8, 25, active)
    assert torch.max(torch.abs(ens - ref)).item() <= 1e-14


def test_ensemble_sgd_matches_torch_sgd_step_by_step():
    """Catches T04 (dampened momentum): EnsembleSGD with momentum 0.9 equals torch.optim.SGD
    member by member, to 1e-14 after 25 steps."""
    lrs, n = [1e-1, 3e-2, 5e-1], 3
    w0 = torch.randn(n, 4, generator=torch.Generator().manual_seed(3), dtype=F)
    ens = w0.clone()
    opt = EnsembleSGD([ens], torch.tensor(lrs, dtype=F), momentum=0.9)
    ref = [w0[i].clone().requires_grad_(True) for i in range(n)]
    ref_opts = [torch.optim.SGD([r], lr=lr, momentum=0.9) for r, lr in zip(ref, lrs)]
    for g in _grads(25, (n, 4), 4, 1.0):
        ens.grad = g.clone()
        opt.step()
        for i in range(n):
            ref[i].grad = g[i].clone()
            ref_opts[i].step()
    assert torch.max(torch.abs(ens - torch.stack([r.detach() for r in ref]))).item() <= 1e-14


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


def test_discriminator_error_of_a_constant_discriminator():
    """Catches T15 (weight p + q instead of m = (p + q)/2). For p = q, D* = 1/2 and
    ||c - D*||_m = |c - 1/2| exactly. For p = N(0, 1), q = N(1, 1.5^2) the reference is
    scipy.integrate.quad on the formula (m (c - p/(p + q))^2 with m = (p + q)/2)."""
    n01 = gt.toys.gaussian(0.0, 1.0)
    const = lambda x: torch.full(x.shape, 0.8, dtype=F)  # noqa: E731
    r = gt.discriminator_error(const, n01, n01)
    assert abs(r.value - 0.3) <= r.error + 1e-12
    p, q = stats.norm(0.0, 1.0), stats.norm(1.0, 1.5)
    f = lambda x: 0.5 * (p.pdf(x) + q.pdf(x)) * (0.8 - p.pdf(x) / (p.pdf(x) + q.pdf(x))) ** 2  # noqa: E731
    ref = math.sqrt(integrate.quad(f, -40, 40, epsabs=1e-14, epsrel=1e-13, limit=200)[0])
    r = gt.discriminator_error(const, n01, gt.toys.gaussian(1.0, 1.5))
    assert abs(r.value - ref) <= r.error + 1e-10


def test_grid_generator_records_its_jsd():
    """Catches T16: the grid generator's recorded JSD equals scipy's Jensen-Shannon divergence
    (natural log) of the data and generator probability vectors on the grid."""
    cfg = TrainConfig(generator="grid", discriminator="optimal", optimizer="sgd", lr_g=0.5, steps=3, log_every=3,
                      init_loc=-3.0, init_scale=2.0, device="cpu", dtype="float64")
    r = train(gt.toys.mixture2(), cfg, progress=False)
    gen = r._trainer.chunks[0].generator
    a = torch.exp(gen.log_a).numpy()
    b = torch.exp(gen.log_b()[0]).detach().numpy()
    ref = jensenshannon(a, b) ** 2  # scipy returns the square root of the divergence
    last = r.final[0]
    assert last["step"] == 3
    assert last["jsd"] == pytest.approx(ref, rel=1e-9)
    assert last["criterion"] == pytest.approx(2 * ref - math.log(4.0), rel=1e-9)


def test_sup_error_sees_the_central_99_percent():
    """Catches T17: for p = q = N(0, 1) (so D* = 1/2 and m = N(0, 1)), a D that is off by 0.3
    only where 1.5 < |x| is seen by the sup over the central 99% (|x| < 2.576), and one off only
    beyond |x| = 2.7 is not."""
    n01 = gt.toys.gaussian(0.0, 1.0)
    inner = lambda x: 0.5 + 0.3 * (x.abs() > 1.5).to(F)  # noqa: E731
    outer = lambda x: 0.5 + 0.3 * (x.abs() > 2.7).to(F)  # noqa: E731
    assert gt.discriminator_sup_error(inner, n01, n01) == pytest.approx(0.3, abs=1e-15)
    assert gt.discriminator_sup_error(outer, n01, n01) == 0.0
    assert stats.norm.ppf(0.995) < 2.7  # the region's edge, from scipy


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


def test_cli_reads_comma_separated_values_as_tuples():
    """Catches L03: ``--d-hidden 8,4`` is the tuple (8, 4), a single number a number."""
    from gan_theory.cli import build_parser

    args = build_parser().parse_args(["train", "--d-hidden", "8,4", "--betas", "0.5,0.9", "--steps", "7"])
    assert args.cfg_d_hidden == (8, 4)
    assert args.cfg_betas == (0.5, 0.9)
    assert args.cfg_steps == 7
