"""The 2-D mixture recipe at a given step count: 8 seeds on ring(8, std 0.1) or the 5x5 grid
(std 0.1), with the defaults (generator="auto") but ``steps`` set, measured every 2000 steps.

Writes ``benchmarks/results/steps_2d_<target>_<steps>.json`` (strict JSON): the median and
per-seed C(G) + log 4 (exact), the modes captured by samples and by exact mass at each logged
step, the resolved configuration, and the train and wall times (torch on 1 thread).

Run from the repository root::

    PYTHONPATH=. python benchmarks/sweeps/steps_2d.py ring 6000
"""

import json
import statistics
import sys
import time
from pathlib import Path

import torch

import gan_theory as gt


def main(name: str, steps: int) -> None:
    torch.set_num_threads(1)
    target = gt.toys.ring(std=0.1) if name == "ring" else gt.toys.grid(std=0.1)
    cfg = gt.TrainConfig(ensemble=8, seed=0, steps=steps, log_every=2000, network_quadrature_atol=1e-4)
    t0 = time.time()
    r = gt.train(target, cfg, progress=False)
    out = {"name": name, "steps": steps, "train_time": r.train_time, "wall": time.time() - t0,
           "config": r.config.to_dict()}
    for s in sorted({h["step"] for h in r.history}):
        hs = [h for h in r.history if h["step"] == s]
        g = [h["criterion"] + gt.LOG4 for h in hs]
        out[str(s)] = {"median": statistics.median(g), "gaps": g, "modes": [h.get("modes_captured") for h in hs],
                       "mass_modes": [h.get("mode_mass_captured") for h in hs]}
        print(s, out[str(s)], flush=True)
    path = Path(__file__).resolve().parents[1] / "results" / f"steps_2d_{name}_{steps}.json"
    path.write_text(json.dumps(out, allow_nan=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
