"""Why the discriminator's step with R1 compiles piece by piece (issue 12).

The 2-D recipe's step (``TrainConfig`` defaults on ring(8, std 0.1): the mixture generator, a
128x128 LeakyReLU discriminator, batch 512, two discriminator steps, R1 0.1), 32 members,
``compile=True``, timed in three routes:

* ``shipped``: ``StepFunctions.build(compile, r1=True)``: the generator's step as one graph,
  the discriminator's (with R1) piece by piece;
* ``one_graph``: both players' steps as one graph (``build(compile, r1=False)``);
* ``pieces``: both piece by piece (as for the CUDA-graph modes).

Each route runs in its own process, the three in turn ``--processes`` times; a route's time is
the median over all its rounds (``--rounds`` of ``--steps`` steps after 3 warm-up steps).

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_r1_routes.py [--threads 1]

Writes ``benchmarks/results/r1_routes_cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write  # noqa: E402

import gan_theory as gt  # noqa: E402
from gan_theory.training import steps  # noqa: E402
from gan_theory.training.trainer import EnsembleTrainer  # noqa: E402

ROUTES = ("shipped", "one_graph", "pieces")


def _one(route: str, rounds: int, n_steps: int) -> None:
    build = steps.StepFunctions.build.__func__
    if route == "one_graph":
        steps.StepFunctions.build = classmethod(lambda cls, compile=False, r1=False: build(cls, compile, r1=False))
    elif route == "pieces":
        steps._compiles_as_one_graph = lambda mode: False
    tr = EnsembleTrainer(gt.toys.ring(std=0.1), gt.TrainConfig(ensemble=32, compile=True, log_every=10 ** 6))
    for _ in range(3):
        tr.step()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n_steps):
            tr.step()
        times.append((time.perf_counter() - t0) / n_steps)
    print(json.dumps({"route": route, "times": times,
                      "one_graph": [tr._fns.discriminator_one_graph, tr._fns.generator_one_graph]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        _one(args.child, args.rounds, args.steps)
        return
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    times = {r: [] for r in ROUTES}
    flags = {}
    for _ in range(args.processes):
        for r in ROUTES:
            cmd = [sys.executable, __file__, "--child", r, "--threads", str(args.threads), "--rounds",
                   str(args.rounds), "--steps", str(args.steps)]
            rec = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                             .stdout.strip().splitlines()[-1])
            times[r] += rec["times"]
            flags[r] = rec["one_graph"]
    ref = statistics.median(times["pieces"])
    rows = {r: {"median_s": statistics.median(v), "min_s": min(v), "max_s": max(v),
                "relative_to_pieces": statistics.median(v) / ref, "one_graph_d_g": flags[r]} for r, v in times.items()}
    for r, row in rows.items():
        print(f"{r:10s} {row['median_s'] * 1e3:7.1f} ms/step  x{row['relative_to_pieces']:.2f} of pieces", flush=True)
    print(write("r1_routes_cpu.json", {"what": __doc__.split("\n\n")[0], "members": 32, "threads": args.threads,
                                       "processes_per_route": args.processes, "machine": machine(), "routes": rows}))


if __name__ == "__main__":
    main()
