"""Why the compiled step is one graph per player, with its own forms of the layers' bias, of the one-output layer and (piece by piece) of LeakyReLU (issue 12).

The throughput suite's step (64 members of 1-64-64-1 MLPs, batch 256, Adam; see
``gan_theory.bench.throughput``) timed in seven forms:

* ``eager``: ``TrainConfig(compile=False)``;
* ``compiled``: ``TrainConfig(compile=True)`` as shipped: each player's step (losses,
  gradients, update) compiled as one graph (``gan_theory.training.steps.StepFunctions.build``),
  aten's LeakyReLU, and the layers' bias added apart from the product, so that Inductor fuses it
  into the activation;
* ``compiled_traced_leaky``: the same, with the LeakyReLU that saves a float
  (``gan_theory.training.ensemble._TracedLeakyReLU``);
* ``compiled_pieces``: compiled piece by piece (the losses with their backward, and the update,
  as for the CUDA-graph modes), with ``_TracedLeakyReLU`` as shipped there;
* ``compiled_pieces_aten_leaky``: the same, with aten's LeakyReLU traced (AOTAutograd then
  saves a bool mask for its backward);
* ``compiled_baddbmm``: ``compiled`` with the layers' product and bias as one ``baddbmm``
  (which first copies the broadcast bias into its output);
* ``compiled_narrow_bmm``: ``compiled`` with the one-output layers as ``baddbmm(bias, x, W)``
  and their weight gradient as ``bmm(x^T, g)`` (one-column products; the shipped layer
  computes the transposed products ``W^T x^T`` and ``g^T x``).

Each form runs in its own process (the forms are module-level switches read while Dynamo
traces, so two of them cannot share a process), the seven one after the other,
``--processes`` times (``ABCDEFGABCDEFG...``; 3 by default), each timing ``--rounds`` rounds
of ``--steps`` steps after its warm-up; a form's time is the median over all its rounds, and
the ratios are to ``compiled``. On the shared 2-core machine a form's time moves by 5-15%
between processes (and a run with 2 processes per form once put ``compiled_pieces`` at x0.95,
another at x1.10), so differences under about 10% are read with the full throughput runs of
``benchmarks/results/bench/throughput_cpu_runs.json``.

Run from the repository root (torch on its default threads unless ``--threads``)::

    PYTHONPATH=. python benchmarks/bench_traced_forms.py [--threads N]

Writes ``benchmarks/results/traced_forms_cpu.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write  # noqa: E402

from gan_theory.bench.throughput import keep_freed_memory, make_trainer  # noqa: E402
from gan_theory.training import ensemble, steps  # noqa: E402

N = 64


def _build(form: str):
    """A warmed-up trainer of the form. The switches stay set for the life of the (child)
    process: Dynamo guards on what it read while tracing, and would retrace a restored form."""
    forward = ensemble.EnsembleLinear.forward
    if form == "compiled_traced_leaky":
        ensemble.ACTIVATIONS["leaky_relu"] = lambda a: (ensemble._TracedLeakyReLU.apply(a) if torch.compiler.is_compiling()
                                                        else torch.nn.functional.leaky_relu(a, ensemble.LEAKY_SLOPE))
    if form == "compiled_pieces_aten_leaky":
        ensemble.ACTIVATIONS["leaky_relu"] = lambda a: torch.nn.functional.leaky_relu(a, ensemble.LEAKY_SLOPE)
    if form == "compiled_baddbmm":
        def baddbmm_forward(self, x):
            if self.out_features == 1:
                return forward(self, x)
            return torch.baddbmm(self.bias, x, self.weight)

        ensemble.EnsembleLinear.forward = baddbmm_forward
    if form in ("compiled_pieces", "compiled_pieces_aten_leaky"):
        steps._compiles_as_one_graph = lambda mode: False
    if form == "compiled_narrow_bmm":
        narrow = ensemble._NarrowOutput

        def narrow_forward(x, weight, bias):
            return torch.baddbmm(bias, x, weight)

        def narrow_backward(ctx, grad):
            x, weight = ctx.saved_tensors
            need_x, need_w, need_b = ctx.needs_input_grad
            return (grad * weight.transpose(1, 2) if need_x else None,
                    torch.bmm(x.transpose(1, 2), grad) if need_w else None,
                    grad.sum(1, keepdim=True) if need_b else None)

        narrow.forward, narrow.backward = staticmethod(narrow_forward), staticmethod(narrow_backward)
    tr = make_trainer(N, torch.device("cpu"), compile=form != "eager")
    t0 = time.perf_counter()
    tr.step()
    startup = time.perf_counter() - t0
    for _ in range(3):
        tr.step()
    return tr, startup


def _one(form: str, rounds: int, steps: int) -> None:
    """In a child process: build the form, time it, print one JSON line."""
    import json

    keep_freed_memory()
    tr, startup = _build(form)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            tr.step()
        times.append((time.perf_counter() - t0) / steps)
    print(json.dumps({"form": form, "times": times, "startup_s": startup}))


def main() -> None:
    import json
    import os
    import subprocess

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="steps per round")
    ap.add_argument("--processes", type=int, default=3, help="processes per form (run in turn)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        _one(args.child, args.rounds, args.steps)
        return
    forms = ("eager", "compiled", "compiled_traced_leaky", "compiled_pieces", "compiled_pieces_aten_leaky",
             "compiled_baddbmm", "compiled_narrow_bmm")
    times = {f: [] for f in forms}
    startup = {f: [] for f in forms}
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    for _ in range(args.processes):
        for f in forms:
            cmd = [sys.executable, __file__, "--child", f, "--rounds", str(args.rounds), "--steps", str(args.steps)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
            rec = json.loads(out.strip().splitlines()[-1])
            times[f] += rec["times"]
            startup[f].append(rec["startup_s"])
    ref = statistics.median(times["compiled"])
    rows = {f: {"median_s": statistics.median(v), "min_s": min(v), "max_s": max(v),
                "relative_to_compiled": statistics.median(v) / ref, "startup_s": startup[f]}
            for f, v in times.items()}
    for f, r in rows.items():
        print(f"{f:22s} {r['median_s'] * 1e3:7.2f} ms/step  x{r['relative_to_compiled']:.2f} of compiled", flush=True)
    path = write("traced_forms_cpu.json", {
        "what": __doc__.split("\n\n")[0], "members": N, "rounds_per_process": args.rounds,
        "steps_per_round": args.steps, "processes_per_form": args.processes, "machine": machine(), "forms": rows})
    print(path)


if __name__ == "__main__":
    main()
