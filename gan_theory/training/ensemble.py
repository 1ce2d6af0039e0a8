"""Ensembles of small networks as one batched computation.

Every weight has the ensemble as its leading dimension: member ``i`` of an
:class:`EnsembleMLP` is the MLP whose weights are ``weight[i]``, ``bias[i]`` of every layer. A
forward pass on inputs of shape (N, B, d) is one ``torch.baddbmm`` per layer for the whole
ensemble, so the number of operations does not grow with N (the PERF notes measured 420 aten
ops per iteration for a 64-member ensemble, against 460 for a single model).

Member ``i`` is initialised from its own ``torch.Generator`` with the distribution
``torch.nn.Linear`` uses (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases), so a
member is the same network whether it is trained alone or inside an ensemble.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..checks import check_choice, check_int

__all__ = ["ACTIVATIONS", "ACTIVATION_SLOPES", "LEAKY_SLOPE", "PIECEWISE_LINEAR", "EnsembleLinear", "EnsembleMLP"]

#: The LeakyReLU's negative slope (Radford et al. 2016's 0.2).
LEAKY_SLOPE = 0.2


def _leaky_slope(a: torch.Tensor) -> torch.Tensor:
    """1 where ``a > 0``, else 0.2, as a float tensor: ``clamp(sign(a), 0.2, 1)`` (no bool mask)."""
    return torch.clamp(torch.sign(a), LEAKY_SLOPE, 1.0)


class _TracedLeakyReLU(torch.autograd.Function):
    """LeakyReLU(0.2) for ``torch.compile``: ``a * slope(a)`` with ``slope = clamp(sign(a), 0.2, 1)``,
    saving ``a`` (float) for the backward ``grad * slope(a)``.

    The numbers are those of ``torch.nn.functional.leaky_relu`` and its backward bit for bit
    (``a * 1 = a``; ``a * 0.2`` is the same single rounding; at ``a = 0`` the slope is 0.2, as
    aten's ``leaky_relu_backward`` takes it). Traced, aten's form makes AOTAutograd save the bool
    mask ``a > 0`` for the backward, and Inductor's CPU kernel that stores a bool mask ran at
    x0.1 of a float store (torch 2.13: 14 ms per 2^20 entries against 1.3 ms). Measured on the
    throughput suite's step at N = 64 (``benchmarks/bench_traced_forms.py``,
    ``benchmarks/results/traced_forms_cpu.json``, 2 CPU threads): with the step compiled piece
    by piece (the forward and its AOTAutograd backward apart, as the CUDA-graph modes compile
    it), aten's form traced took x1.61 the time of this one's. With each player's step in one
    graph (the default mode) no split saves a mask, and the two are close: aten's took x1.02
    this one's time in that benchmark (within its spread), and in six full throughput runs
    alternating the two (``benchmarks/results/bench/throughput_cpu_runs.json``) it reached
    42.1-45.5% of the matmul peak (median 43.6%) against 41.7-43.5% (median 41.8%). So
    :func:`_leaky_relu` uses aten's there.
    """

    @staticmethod
    def forward(a: torch.Tensor) -> torch.Tensor:
        return a * _leaky_slope(a)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (a,) = ctx.saved_tensors
        return grad * _leaky_slope(a)


def _leaky_relu(a: torch.Tensor) -> torch.Tensor:
    """LeakyReLU(0.2): aten's kernel in eager mode (one pass each way) and in a graph that traces
    its own backward (Dynamo's ``trace_autograd_ops``: the step compiled as one graph per player,
    where no forward/backward split saves a bool mask); :class:`_TracedLeakyReLU` when
    ``torch.compile`` traces a forward whose backward AOTAutograd splits off (the step compiled
    piece by piece). The same numbers either way; see :class:`_TracedLeakyReLU` for the timings."""
    if torch.compiler.is_compiling() and not getattr(torch._dynamo.config, "trace_autograd_ops", False):
        return _TracedLeakyReLU.apply(a)
    return torch.nn.functional.leaky_relu(a, LEAKY_SLOPE)


ACTIVATIONS = {
    "silu": torch.nn.functional.silu,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": _leaky_relu,
    "softplus": torch.nn.functional.softplus,
}
PIECEWISE_LINEAR = ("relu", "leaky_relu")


def _silu_slope(z: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(z)
    return s * (1 + z * (1 - s))


#: The derivative of each activation, written out (for :meth:`EnsembleMLP.logits_and_input_grad`):
#: silu' = s (1 + z (1 - s)) with s = sigmoid(z); tanh' = 1 - tanh^2; relu' = [z > 0];
#: leaky_relu' = 1 (z > 0) or 0.2; softplus' = sigmoid. At the kink z = 0 the piecewise-linear
#: ones take the left slope, as torch's autograd does.
ACTIVATION_SLOPES = {
    "silu": _silu_slope,
    "tanh": lambda z: 1 - torch.tanh(z) ** 2,
    "relu": lambda z: (z > 0).to(z.dtype),
    "leaky_relu": _leaky_slope,
    "softplus": torch.sigmoid,
}


class EnsembleLinear(torch.nn.Module):
    """``N`` independent affine maps ``y[n] = x[n] @ weight[n] + bias[n]``.

    Parameters
    ----------
    n_members, in_features, out_features : int
    dtype, device : torch dtype and device of the parameters.

    Shapes: ``weight`` (N, in, out), ``bias`` (N, 1, out); input (N, B, in), output (N, B, out).
    """

    def __init__(self, n_members: int, in_features: int, out_features: int, *, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.n_members, self.in_features, self.out_features = n_members, in_features, out_features
        self.weight = torch.nn.Parameter(torch.empty(n_members, in_features, out_features, dtype=dtype, device=device))
        self.bias = torch.nn.Parameter(torch.empty(n_members, 1, out_features, dtype=dtype, device=device))

    def reset_parameters(self, generators: Sequence[torch.Generator]) -> None:
        """Initialise member ``i`` from ``generators[i]`` (CPU generators; draws happen on CPU in
        float64 and are cast, so the init does not depend on the device or the ensemble)."""
        bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            for i, g in enumerate(generators):
                w = (torch.rand(self.in_features, self.out_features, generator=g, dtype=torch.float64) * 2 - 1) * bound
                b = (torch.rand(1, self.out_features, generator=g, dtype=torch.float64) * 2 - 1) * bound
                self.weight[i].copy_(w)
                self.bias[i].copy_(b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.out_features == 1:
            return _NarrowOutput.apply(x, self.weight, self.bias)
        if torch.compiler.is_compiling():
            # Traced: the bias as a separate addition, which Inductor fuses into the activation's
            # kernel (baddbmm first copies the broadcast bias into its output: one more pass
            # over every activation); with one input the product is an outer product, and the
            # whole layer fuses into that kernel. With both layers traced as baddbmm the step
            # took x1.06 the time (benchmarks/results/traced_forms_cpu.json). Equal to
            # baddbmm's numbers to a rounding (MKL may accumulate into the bias).
            if self.in_features == 1:
                return x * self.weight + self.bias
            return torch.bmm(x, self.weight) + self.bias
        return torch.baddbmm(self.bias, x, self.weight)


class _NarrowOutput(torch.autograd.Function):
    """``baddbmm(bias, x, weight)`` for a layer with one output, computed as the transposed
    product ``(W^T x^T + b^T)^T``, with the input gradient ``g W^T`` as a broadcast product and
    the weight gradient ``x^T g`` as ``(g^T x)^T``.

    ``torch.bmm`` runs a product with one output column as a general matrix product: in issue
    12 the width-1 layers were 25% of the step's op time for 0.5% of its FLOPs. With the single
    row on the left (``W^T``: 1 x width) the same dot products run faster (with the one-column
    products the throughput suite's compiled step at N = 64 took x1.04 the time,
    ``benchmarks/results/traced_forms_cpu.json``), and the outer product ``g W^T``
    (contraction length 1) is one multiplication per entry. The
    input and bias gradients are bit for bit those of ``BaddbmmBackward`` (one product per
    entry; the same sum); the forward's and the weight gradient's dot products may be summed
    in another order than BLAS sums them for ``baddbmm(bias, x, weight)``, within the rounding
    bound of a dot product (tests/test_steps.py).
    """

    @staticmethod
    def forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(bias.transpose(1, 2), weight.transpose(1, 2), x.transpose(1, 2)).transpose(1, 2)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        x, weight, _ = inputs
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = grad * weight.transpose(1, 2) if need_x else None
        grad_w = torch.bmm(grad.transpose(1, 2), x).transpose(1, 2) if need_w else None
        grad_b = grad.sum(1, keepdim=True) if need_b else None
        return grad_x, grad_w, grad_b


class EnsembleMLP(torch.nn.Module):
    """An ensemble of MLPs ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with a shared activation.

    Parameters
    ----------
    n_members : int
    sizes : sequence of int
        Layer widths, input first (``(1, 64, 64, 1)`` for a 1-D discriminator).
    activation : str
        One of :data:`ACTIVATIONS` (applied between layers, not after the last).
    dtype, device
    """

    def __init__(self, n_members: int, sizes: Sequence[int], activation: str = "silu", *,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> None:
        super().__init__()
        check_int("n_members", n_members, lower=1)
        if len(sizes) < 2:
            raise ValueError(f"sizes: expected at least an input and an output width, got {tuple(sizes)}")
        for s in sizes:
            check_int("sizes", s, lower=1)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.sizes = tuple(int(s) for s in sizes)
        self.layers = torch.nn.ModuleList(EnsembleLinear(n_members, a, b, dtype=dtype, device=device)
                                          for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def n_members(self) -> int:
        return self.layers[0].n_members

    def reset_parameters(self, generators: Sequence[torch.Generator]) -> None:
        """Initialise every layer of member ``i`` from ``generators[i]``, layer by layer."""
        if len(generators) != self.n_members:
            raise ValueError(f"generators: expected {self.n_members} generators, got {len(generators)}")
        for layer in self.layers:
            layer.reset_parameters(generators)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.activation]
        for layer in self.layers[:-1]:
            x = act(layer(x))
        return self.layers[-1](x)

    def logits_and_input_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The scalar outputs ``l(x)`` (N, B) and their input gradients ``grad_x l(x)`` (N, B, d).

        The gradient is written out by the chain rule, not taken by autograd: with
        ``h_0 = x``, ``a_k = h_{k-1} W_k + b_k``, ``h_k = act(a_k)`` and ``l = h_{L-1} W_L + b_L``,

        .. math::  g_{L-1} = W_L^T, \\quad g_{k-1} = (g_k \\odot act'(a_k)) W_k^T, \\quad
                   \\nabla_x l = g_0,

        so that a loss of it (the R1 penalty) has parameter gradients from one ordinary backward
        pass (no double backward; ``torch.compile`` compiles it). The last layer must have one
        output. The logits are bit for bit those of ``forward``.
        """
        if self.sizes[-1] != 1:
            raise ValueError(f"logits_and_input_grad: the network must have one output, it has {self.sizes[-1]}")
        act, slope = ACTIVATIONS[self.activation], ACTIVATION_SLOPES[self.activation]
        slopes = []
        h = x
        for layer in self.layers[:-1]:
            a = layer(h)
            slopes.append(slope(a))
            h = act(a)
        last = self.layers[-1]
        logits = last(h)[..., 0]
        g = last.weight.transpose(1, 2).expand(h.shape[0], h.shape[1], -1)  # (N, B, width) = W_L^T
        for layer, s in zip(reversed(self.layers[:-1]), reversed(slopes)):
            g = torch.bmm(g * s, layer.weight.transpose(1, 2))
        return logits, g

    @property
    def piecewise_linear(self) -> bool:
        """Whether the activation has kinks (ReLU, LeakyReLU)."""
        return self.activation in PIECEWISE_LINEAR

    def preactivations(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden units' inputs to the activation, concatenated: (N, B, sum of hidden widths).
        For a piecewise-linear activation the network is smooth except where one changes sign."""
        act = ACTIVATIONS[self.activation]
        pre = []
        for layer in self.layers[:-1]:
            z = layer(x)
            pre.append(z)
            x = act(z)
        return torch.cat(pre, dim=-1)

    def member(self, i: int, *, dtype: torch.dtype | None = None) -> EnsembleMLP:
        """A detached copy of member ``i`` as an ensemble of one (optionally in another dtype)."""
        out = EnsembleMLP(1, self.sizes, self.activation, dtype=dtype or self.layers[0].weight.dtype,
                          device=self.layers[0].weight.device)
        with torch.no_grad():
            for src, dst in zip(self.layers, out.layers):
                dst.weight.copy_(src.weight[i:i + 1])
                dst.bias.copy_(src.bias[i:i + 1])
        out.requires_grad_(False)
        return out
