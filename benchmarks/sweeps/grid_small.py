"""The 2-D mixture recipe on an n x n grid (std 0.1, spacing 2) with fields overridden: the
exact C(G) + log 4 per seed and the four heaviest components' weights and stds (the target's
std is 0.1). Issue 10 used it to see which of the 5x5 grid's failures appear on smaller grids:
one mode (n = 1) and the 3x3 grid, with R1 weights 0, 0.01, 0.1 and 1
(``benchmarks/results/grid_small.json``).

Run from the repository root (torch on 1 thread)::

    PYTHONPATH=. python benchmarks/sweeps/grid_small.py N STEPS ENSEMBLE '{"mixture_components": 30, "init_scale": 2.0}'
"""
import json
import sys

import numpy as np
import torch

import gan_theory as gt

if __name__ == "__main__":
    torch.set_num_threads(1)
    n, steps, ens = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    ov = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    target = gt.toys.grid(n=n, std=0.1)
    r = gt.train(target, gt.TrainConfig(ensemble=ens, seed=0, steps=steps, log_every=steps, **ov), progress=False)
    gaps = []
    for i in range(ens):
        d = r.member(i).density()
        c = float(gt.criterion(target, d).value + gt.LOG4)
        w = d.mixture_distribution.probs.numpy()
        sd = d.component_distribution.base_dist.scale.numpy()
        gaps.append(c)
        print(i, round(c, 4), "top comps w/sd",
              [(round(float(w[k]), 3), [round(float(x), 3) for x in sd[k]]) for k in np.argsort(-w)[:4]])
    print("MEDIAN", ov, n, round(float(np.median(gaps)), 4), flush=True)
