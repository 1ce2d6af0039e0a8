"""Where the 2-D mixture recipe's gap on the 5x5 grid (std 0.1) sits (issue 10): train the
recipe (fields overridden by a JSON argument), then for each seed

* the exact C(G) + log 4, and its split over the 25 cells of side 2 around the modes (the
  integrand of 2 JSD summed on a 0.01 lattice in each cell), averaged by the modes' distance
  from the centre;
* the same gap for repaired copies of p_g: the "bridges" (components farther than 0.3 from
  every mode or with a std above 0.3, mostly stretched along a grid line between two modes)
  dropped, the other components' stds set to the target's 0.1, both, and both with the means
  moved onto their modes: how much of the gap each failure holds;
* the weight-averaged std of the components near a mode (the target's is 0.1).

Run from the repository root (torch on 1 thread)::

    PYTHONPATH=. python benchmarks/sweeps/grid_diagnose.py STEPS ENSEMBLE '{"batch_size": 2048}' OUT.json
"""
import json
import math
import sys

import numpy as np
import torch
import torch.distributions as td

import gan_theory as gt


def gap(target, w, mu, sd):
    mix = td.MixtureSameFamily(td.Categorical(probs=torch.tensor(w / w.sum())),
                               td.Independent(td.Normal(torch.tensor(mu), torch.tensor(sd)), 1))
    return float(gt.criterion(target, mix).value + gt.LOG4)


def per_cell(target, dens, modes, h=0.01):
    u = np.arange(-1 + h / 2, 1, h)
    X, Y = np.meshgrid(u, u)
    out = []
    for m in modes:
        pts = torch.tensor(np.stack([X.ravel() + m[0], Y.ravel() + m[1]], 1))
        lp, lq = target.log_prob(pts).numpy(), dens.log_prob(pts).numpy()
        lm = np.logaddexp(lp, lq) - math.log(2)
        out.append(float((np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm)).sum() * h * h))
    return out


def analyse(target, summary, dens):
    modes = gt.toys.grid_modes().numpy()
    w, mu, sd = (np.array(summary[k]) for k in ("weights", "loc", "scale"))
    dist = np.sqrt(((mu[:, None] - modes[None]) ** 2).sum(-1))
    near, dm = dist.argmin(1), dist.min(1)
    bridge = (sd.max(1) > 0.3) | (dm > 0.3)
    good = ~bridge
    sd01 = sd.copy()
    sd01[good] = 0.1
    mu_on = mu.copy()
    mu_on[good] = modes[near[good]]
    cells = per_cell(target, dens, modes)
    radius = np.round(np.sqrt((modes ** 2).sum(1)), 2)
    return {
        "gap": gap(target, w, mu, sd),
        "gap_bridges_dropped": gap(target, w * good, mu, sd),
        "gap_stds_set_to_0.1": gap(target, w, mu, sd01),
        "gap_both": gap(target, w * good, mu, sd01),
        "gap_both_means_on_modes": gap(target, w * good, mu_on, sd01),
        "bridge_weight": float(w[bridge].sum()),
        "std_near_modes": float((w[good] * np.sqrt(sd[good].prod(1))).sum() / w[good].sum()),
        "cells_sum": float(sum(cells)),
        "cell_gap_by_mode_radius": {str(r): float(np.mean([c for c, rr in zip(cells, radius) if rr == r]))
                                    for r in sorted(set(radius.tolist()))},
        "summary": summary,
    }


if __name__ == "__main__":
    torch.set_num_threads(1)
    steps, n = int(sys.argv[1]), int(sys.argv[2])
    overrides = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    out = sys.argv[4] if len(sys.argv) > 4 else None
    target = gt.toys.grid(std=0.1)
    r = gt.train(target, gt.TrainConfig(ensemble=n, seed=0, steps=steps, log_every=steps, **overrides), progress=False)
    members = []
    for i in range(n):
        m = r.member(i)
        dens = m.density()
        comp = dens.component_distribution.base_dist
        summary = {"weights": dens.mixture_distribution.probs.tolist(), "loc": comp.loc.tolist(),
                   "scale": comp.scale.tolist()}
        a = analyse(target, summary, dens)
        members.append(a)
        print(i, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in a.items() if k != "summary"}, flush=True)
    res = {"steps": steps, "seeds": list(range(n)), "overrides": overrides, "train_s": r.train_time,
           "median_gap": float(np.median([a["gap"] for a in members])), "members": members}
    if out:
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
