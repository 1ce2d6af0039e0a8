"""TrainConfig(compile=...): the steps compiled with torch.compile train as the eager steps do.

Expected values: the same run with compile=False. Slow: compiling the step functions takes 15-80 s
on the 2-core CPU this was written on.
"""

import pytest
import torch

import gan_theory as gt
from gan_theory.training.config import TrainConfig
from gan_theory.training.run import Trainer

TARGET = gt.toys.gaussian(2.0, 0.5)
STEPS = 6

CASES = {
    # D and G steps, Adam, the R1 penalty through the explicit input gradient
    "affine_adam_r1": dict(generator="affine", r1_gamma=1.5, dtype="float64"),
    # the exact D* (the data's log-density and the generator's inside the compiled G step), SGD
    # with its parameter guard
    "optimal_sgd": dict(generator="affine", discriminator="optimal", optimizer="sgd", lr_g=0.05, momentum=0.5,
                        dtype="float64"),
    # the bench's architecture in small (issue 12): MLP generator and discriminator in float32,
    # the one-output layer's own backward, D held out of the G step's graph
    "mlp_float32": dict(generator="mlp", g_hidden=(8, 8)),
    # the mixture generator's stratified, weighted sample (the 2-D default's family) and the
    # weighted losses, with no data-dependent size in the graph
    "mixture_weighted": dict(generator="mixture", mixture_components=4, dtype="float64"),
    # the mixture's entropy bonus: the generator's differentiable log-density in the G step, its
    # weight a tensor that changes every step (no recompilation)
    "mixture_entropy": dict(generator="mixture", mixture_components=4, dtype="float64", entropy_weight=0.3),
    # member 1 diverges at the first step: the guard's mask and stop records under compile
    "diverging_member": dict(generator="affine", optimizer="sgd", lr_g=(1e-3, 1e30), lr_d=(1e-3, 1e30)),
}


def _run(compile, kw):
    cfg = TrainConfig(compile=compile, steps=STEPS, ensemble=2, batch_size=32, d_hidden=(8, 8), device="cpu",
                      log_every=10 ** 6, **kw)
    tr = Trainer(TARGET, cfg)
    for _ in range(STEPS):
        tr.step()
    params = torch.cat([p.detach().reshape(2, -1).double() for c in tr.chunks for p in c.parameters()], 1)
    return tr, params


@pytest.mark.slow
@pytest.mark.parametrize("one_graph", [True, False], ids=["one_graph", "pieces"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_training_equals_eager_training(case, one_graph, monkeypatch):
    """Six steps compiled (torch.compile, default mode, CPU) against six eager steps from the same
    seeds, with each player's step as one graph (as shipped for the default mode; the D step
    with R1 stays in pieces) and piece by piece (as for the CUDA-graph modes): the parameters
    and the last step's losses and gradient norms agree to 1e-12 relative (float64) or 1e-5
    (float32). Tolerance: compiled kernels fuse
    and reorder the float operations (reductions, fused multiply-adds), a few ulps per operation
    that six steps carry on; in float64 we measured at most 7e-17 absolute on parameters of size
    1 (so 1e-12 leaves 4 orders of margin, while a wrong formula moves them by > 1e-4). The
    compiled functions compile once each (no recompilation per step: the sampling's graph and
    one graph per player step in one graph, two in pieces) and without graph breaks (no .item()
    or data-dependent branch in the steps, guard and mask included)."""
    from torch._dynamo.utils import counters

    from gan_theory.training import steps

    if one_graph and not hasattr(torch._dynamo.config, "trace_autograd_ops"):
        pytest.skip("this torch cannot trace torch.autograd.grad into a graph (trace_autograd_ops: torch >= 2.11)")
    kw = CASES[case]
    eager, p_eager = _run(False, kw)
    torch._dynamo.reset()
    counters.clear()
    monkeypatch.setattr(steps, "_compiles_as_one_graph", lambda mode: one_graph)
    compiled, p_compiled = _run(True, kw)
    d_one = one_graph and not kw.get("r1_gamma")  # with R1 the D step compiles piece by piece
    assert (compiled._fns.discriminator_one_graph, compiled._fns.generator_one_graph) == (d_one, one_graph)
    assert dict(counters["graph_break"]) == {}
    # sample, then per player one graph (step) or two (losses, update)
    assert 1 <= counters["stats"]["unique_graphs"] <= 1 + (1 if d_one else 2) + (1 if one_graph else 2)
    assert compiled.stopped == eager.stopped
    assert torch.equal(compiled.active.cpu(), eager.active.cpu())
    rtol = 1e-12 if kw.get("dtype") == "float64" else 1e-5
    alive = eager.active.cpu()
    scale = p_eager[alive].abs().max()
    assert float((p_compiled[alive] - p_eager[alive]).abs().max()) <= rtol * float(scale)
    for key, v in eager._last.items():
        w = compiled._last[key]
        assert torch.allclose(w[alive], v[alive], rtol=rtol, atol=rtol * float(v[alive].abs().max())), key
    if case == "diverging_member":
        assert list(eager.stopped) == [1] and "non-finite" in eager.stopped[1]
