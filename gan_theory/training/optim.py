"""Optimizers for ensembles: N independent Adams (or SGDs) over stacked weights.

Adam and SGD act elementwise, so one optimizer over stacked (N, ...) tensors is exactly N
independent optimizers, provided each member's loss is its own mean loss and the ensemble loss
is their sum (a mean over members would rescale the gradients and change how ``eps`` acts).
These classes add what ``torch.optim`` lacks for that use: a learning rate per member, and a
mask of active members (a stopped member's parameters and optimizer state do not move). The
update formulas are those of ``torch.optim.Adam`` and ``torch.optim.SGD`` (tests compare them).

References
----------
D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["EnsembleAdam", "EnsembleSGD"]


def _per_member(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Reshape a (N,) tensor to broadcast over a parameter of shape (N, ...)."""
    return v.reshape((-1,) + (1,) * (p.dim() - 1)).to(p.dtype)


class _EnsembleOptimizer:
    def __init__(self, params: Sequence[torch.Tensor], lr: torch.Tensor) -> None:
        self.params = list(params)
        n = self.params[0].shape[0]
        if any(p.shape[0] != n for p in self.params):
            raise ValueError("params: every parameter must have the ensemble size as its leading dimension")
        lr = torch.as_tensor(lr, dtype=torch.float64).reshape(-1)
        if lr.numel() == 1:
            lr = lr.expand(n)
        if lr.numel() != n:
            raise ValueError(f"lr: expected one learning rate or {n} (one per member), got {lr.numel()}")
        self.lr = lr.to(self.params[0].device).clone()
        self.n_members = n

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _mask(self, active: torch.Tensor | None, p: torch.Tensor) -> torch.Tensor | None:
        return None if active is None else _per_member(active, p).bool()


class EnsembleAdam(_EnsembleOptimizer):
    """Adam with a learning rate per member (``torch.optim.Adam`` semantics, no amsgrad).

    Parameters
    ----------
    params : sequence of tensors of shape (N, ...)
    lr : float or tensor of shape (N,)
    betas : (float, float)
    eps : float
    """

    def __init__(self, params: Sequence[torch.Tensor], lr: float | torch.Tensor, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)
        self.step_count = torch.zeros(self.n_members, dtype=torch.float64, device=self.lr.device)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, active: torch.Tensor | None = None, grads: Sequence[torch.Tensor | None] | None = None) -> None:
        """One update of every active member (all members if ``active`` is None).

        ``grads``: the gradients, one per parameter (None: skip it); default: each parameter's
        ``.grad``. Passing them keeps the step free of attribute mutation (``torch.compile``).
        The state (step counts, moments, parameters) is updated in place.
        """
        b1, b2 = self.betas
        grads = [p.grad for p in self.params] if grads is None else list(grads)
        t = self.step_count + (1.0 if active is None else active.to(torch.float64))
        bc1 = 1.0 - b1 ** t
        bc2 = 1.0 - b2 ** t
        if active is None and all(g is not None for g in grads):
            self._step_all(bc1, bc2, grads)
            self.step_count.copy_(t)
            return
        for p, g, m, v in zip(self.params, grads, self.exp_avg, self.exp_avg_sq):
            if g is None:
                continue
            mask = self._mask(active, p)
            m_new = m.lerp(g, 1.0 - b1)
            v_new = v.mul(b2).addcmul_(g, g, value=1.0 - b2)
            step_size = _per_member(self.lr / bc1, p)
            denom = (v_new.sqrt() / _per_member(bc2.sqrt(), p)).add_(self.eps)
            p_new = p - step_size * (m_new / denom)
            if mask is None:
                m.copy_(m_new)
                v.copy_(v_new)
                p.copy_(p_new)
            else:
                m.copy_(torch.where(mask, m_new, m))
                v.copy_(torch.where(mask, v_new, v))
                p.copy_(torch.where(mask, p_new, p))
        self.step_count.copy_(t)

    def _step_all(self, bc1: torch.Tensor, bc2: torch.Tensor, grads: list[torch.Tensor]) -> None:
        """Every member updated: the same arithmetic in place, with foreach kernels."""
        b1, b2 = self.betas
        torch._foreach_lerp_(self.exp_avg, grads, 1.0 - b1)
        torch._foreach_mul_(self.exp_avg_sq, b2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, value=1.0 - b2)
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, [_per_member(bc2.sqrt(), p) for p in self.params])
        torch._foreach_add_(denom, self.eps)
        step = torch._foreach_div(self.exp_avg, denom)
        torch._foreach_mul_(step, [_per_member(self.lr / bc1, p) for p in self.params])
        torch._foreach_sub_(self.params, step)

    def state_dict(self) -> dict:
        return {"lr": self.lr.clone(), "betas": self.betas, "eps": self.eps, "step_count": self.step_count.clone(),
                "exp_avg": [m.clone() for m in self.exp_avg], "exp_avg_sq": [v.clone() for v in self.exp_avg_sq]}

    def load_state_dict(self, state: dict) -> None:
        self.lr.copy_(state["lr"])
        self.step_count = state["step_count"].clone().to(self.lr.device)
        for dst, src in zip(self.exp_avg, state["exp_avg"]):
            dst.copy_(src)
        for dst, src in zip(self.exp_avg_sq, state["exp_avg_sq"]):
            dst.copy_(src)


class EnsembleSGD(_EnsembleOptimizer):
    """SGD with momentum and a learning rate per member (``torch.optim.SGD`` semantics:
    ``buf = momentum * buf + g`` (``buf = g`` at the first step), ``p -= lr * buf``)."""

    def __init__(self, params: Sequence[torch.Tensor], lr: float | torch.Tensor, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = float(momentum)
        self.buf = [torch.zeros_like(p) for p in self.params]
        self.started = torch.zeros(self.n_members, dtype=torch.bool, device=self.lr.device)

    @torch.no_grad()
    def step(self, active: torch.Tensor | None = None, grads: Sequence[torch.Tensor | None] | None = None) -> None:
        """One update of every active member (all if ``active`` is None), with ``grads`` (one per
        parameter, None: skip it) or, by default, each parameter's ``.grad``; in place."""
        grads = [p.grad for p in self.params] if grads is None else list(grads)
        for p, g, buf in zip(self.params, grads, self.buf):
            if g is None:
                continue
            mask = self._mask(active, p)
            if self.momentum:
                first = _per_member(~self.started, p).bool()
                b_new = torch.where(first, g, buf * self.momentum + g)
            else:
                b_new = g
            p_new = p - _per_member(self.lr, p) * b_new
            if mask is None:
                buf.copy_(b_new)
                p.copy_(p_new)
            else:
                buf.copy_(torch.where(mask, b_new, buf))
                p.copy_(torch.where(mask, p_new, p))
        self.started.copy_(self.started | (torch.ones_like(self.started) if active is None else active.bool()))

    def state_dict(self) -> dict:
        return {"lr": self.lr.clone(), "momentum": self.momentum, "buf": [b.clone() for b in self.buf],
                "started": self.started.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.lr.copy_(state["lr"])
        self.started = state["started"].clone().to(self.lr.device)
        for dst, src in zip(self.buf, state["buf"]):
            dst.copy_(src)
