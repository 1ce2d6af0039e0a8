"""EnsembleAdam and EnsembleSGD against torch.optim, step by step.

Expected values: for each member ``i`` of the ensemble, a separately built ``torch.optim.Adam``
(or ``torch.optim.SGD``) over that member's own slices of the parameters, with that member's
learning rate and the same options, fed the same gradients. Adam and SGD act elementwise, so the
ensemble update must equal the N single updates to float64 rounding (a few ulps per step; the
tolerance 1e-12 relative leaves room for the foreach kernels' different order of operations and
nothing else: dropping Adam's first-moment bias correction moves the first step by a factor
1/(1 - beta1) = 2 to 10).
"""

from __future__ import annotations

import pytest
import torch

from gan_theory.training.optim import EnsembleAdam, EnsembleSGD

F = torch.float64
SHAPES = [(3, 4, 2), (3, 5), (3,)]  # leading dimension: 3 members
N = 3
RTOL = 1e-12


def _params(seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g, dtype=F) for s in SHAPES]


def _grads(seed: int, step: int) -> list[torch.Tensor]:
    """Gradients of very different sizes per member and per step (1e-6 to 1e2), with exact zeros."""
    g = torch.Generator().manual_seed(1000 * seed + step)
    out = []
    for s in SHAPES:
        x = torch.randn(*s, generator=g, dtype=F)
        scale = torch.tensor([1e-6, 1.0, 1e2], dtype=F).reshape((-1,) + (1,) * (len(s) - 1))
        x = x * scale
        x.reshape(-1)[::5] = 0.0
        out.append(x)
    return out


def _close(ours: torch.Tensor, ref: torch.Tensor) -> None:
    torch.testing.assert_close(ours, ref, rtol=RTOL, atol=1e-300)


def _run(make_ours, make_ref, active_masks, lrs, seed=0, steps=6):
    """Run the ensemble optimizer and N torch optimizers side by side for ``steps`` steps."""
    ours_p = [p.clone() for p in _params(seed)]
    ref_p = [[p[i].clone().requires_grad_(True) for p in _params(seed)] for i in range(N)]
    ours = make_ours(ours_p, torch.tensor(lrs, dtype=F))
    refs = [make_ref(ref_p[i], lrs[i]) for i in range(N)]
    for t in range(steps):
        grads = _grads(seed, t)
        active = active_masks[t % len(active_masks)]
        for p, g in zip(ours_p, grads):
            p.grad = g.clone()
        ours.step(None if active is None else torch.tensor(active))
        ours.zero_grad()
        for i in range(N):
            if active is not None and not active[i]:
                continue
            for p, g in zip(ref_p[i], grads):
                p.grad = g[i].clone()
            refs[i].step()
            refs[i].zero_grad()
        for k, p in enumerate(ours_p):
            for i in range(N):
                _close(p[i], ref_p[i][k].detach())
    return ours, refs


ALL = [None]
MASKED = [[True, True, True], [True, False, True], [False, True, False], None, [True, True, False]]


@pytest.mark.parametrize("masks", [ALL, MASKED], ids=["all-members", "masked"])
@pytest.mark.parametrize("betas,eps", [((0.9, 0.999), 1e-8), ((0.5, 0.999), 1e-8), ((0.0, 0.9), 1e-3),
                                       ((0.99, 0.5), 1e-12)])
def test_ensemble_adam_equals_torch_adam_per_member(masks, betas, eps):
    lrs = [1e-3, 0.05, 0.3]
    _run(lambda ps, lr: EnsembleAdam(ps, lr, betas=betas, eps=eps),
         lambda ps, lr: torch.optim.Adam(ps, lr=lr, betas=betas, eps=eps, foreach=False), masks, lrs)


@pytest.mark.parametrize("masks", [ALL, MASKED], ids=["all-members", "masked"])
@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_ensemble_sgd_equals_torch_sgd_per_member(masks, momentum):
    lrs = [1e-3, 0.05, 0.3]
    _run(lambda ps, lr: EnsembleSGD(ps, lr, momentum=momentum),
         lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=momentum, foreach=False), masks, lrs)


def test_ensemble_adam_one_learning_rate_for_all_and_a_changed_lr():
    """A scalar lr broadcasts to every member; assigning ``opt.lr`` (as the schedule does) acts
    like setting ``param_groups[0]['lr']`` in each torch optimizer."""
    ours_p = _params(3)
    ref_p = [[p[i].clone().requires_grad_(True) for p in _params(3)] for i in range(N)]
    ours = EnsembleAdam(ours_p, 0.01, betas=(0.8, 0.99), eps=1e-6)
    refs = [torch.optim.Adam(ref_p[i], lr=0.01, betas=(0.8, 0.99), eps=1e-6, foreach=False) for i in range(N)]
    for t in range(5):
        lr = 0.01 * (1 + t)
        ours.lr = torch.full((N,), lr, dtype=F)
        for r in refs:
            r.param_groups[0]["lr"] = lr
        grads = _grads(3, t)
        for p, g in zip(ours_p, grads):
            p.grad = g.clone()
        ours.step()
        for i in range(N):
            for p, g in zip(ref_p[i], grads):
                p.grad = g[i].clone()
            refs[i].step()
        for k, p in enumerate(ours_p):
            for i in range(N):
                _close(p[i], ref_p[i][k].detach())


def test_ensemble_adam_first_step_size_is_lr():
    """Closed form: Adam's first step is ``-lr * g / (|g| + eps')`` with both moments bias-corrected,
    i.e. ``-lr * sign(g)`` up to eps; without the first-moment correction it is ``(1 - beta1)`` times that."""
    p = torch.zeros(2, 3, dtype=F)
    opt = EnsembleAdam([p], torch.tensor([0.1, 0.2], dtype=F), betas=(0.5, 0.999), eps=1e-300)
    p.grad = torch.tensor([[1.0, -2.0, 3e-5], [-4.0, 5.0, -6e7]], dtype=F)
    opt.step()
    expected = -torch.tensor([[0.1], [0.2]], dtype=F) * torch.sign(p.grad)
    _close(p, expected)


def test_state_dict_round_trip_continues_like_torch():
    """Save after 3 steps, load into a fresh optimizer, continue: same as uninterrupted torch."""
    lrs = [0.01, 0.02, 0.03]
    ours_p = _params(5)
    ref_p = [[p[i].clone().requires_grad_(True) for p in _params(5)] for i in range(N)]
    ours = EnsembleAdam(ours_p, torch.tensor(lrs, dtype=F), betas=(0.7, 0.95))
    refs = [torch.optim.Adam(ref_p[i], lr=lrs[i], betas=(0.7, 0.95), foreach=False) for i in range(N)]
    for t in range(6):
        if t == 3:
            state = ours.state_dict()
            ours = EnsembleAdam(ours_p, torch.tensor(lrs, dtype=F), betas=(0.7, 0.95))
            ours.load_state_dict(state)
        grads = _grads(5, t)
        for p, g in zip(ours_p, grads):
            p.grad = g.clone()
        ours.step(torch.tensor([True, t % 2 == 0, True]))
        for i in range(N):
            if i == 1 and t % 2:
                continue
            for p, g in zip(ref_p[i], grads):
                p.grad = g[i].clone()
            refs[i].step()
    for k, p in enumerate(ours_p):
        for i in range(N):
            _close(p[i], ref_p[i][k].detach())
