"""Why the 2-D mixture recipe stops near C(G) + log 4 = 0.16 on the 5x5 grid (std 0.1): train
the recipe with one or two fields overridden and report, per seed, the exact C(G) + log 4 and
where p_g's weight sits: in components far from every mode (> 0.3), wide (std >= 0.2) or narrow
(std <= 0.05) near one.

Run from the repository root (torch on 1 thread)::

    PYTHONPATH=. python benchmarks/sweeps/grid_probe.py STEPS ENSEMBLE '{"batch_size": 2048}'

The runs of issue 10 are in ``benchmarks/results/grid_probe.json``. All but the last were made
with the recipe before its entropy bonus and narrow start; to repeat one, add
``"init_component_scale": 0.25, "entropy_weight": 0`` to its overrides.
"""
import json, sys, time
import torch, numpy as np
import gan_theory as gt

def analyse(r, target, label):
    modes = gt.toys.grid_modes()
    out = []
    for i in range(r.config.ensemble):
        m = r.member(i)
        dens = m.density()
        c = gt.criterion(target, dens).value + gt.LOG4
        w = dens.mixture_distribution.probs.numpy()
        mu = dens.component_distribution.base_dist.loc.numpy()
        sd = dens.component_distribution.base_dist.scale.numpy()
        d = np.sqrt(((mu[:, None, :] - modes.numpy()[None]) ** 2).sum(-1)).min(1)
        near = d < 0.3
        junk_far = w[~near].sum()
        wide = w[near & (sd.max(1) >= 0.2)].sum()
        narrow = w[near & (sd.min(1) <= 0.05)].sum()
        out.append(dict(gap=c, junk_far=float(junk_far), wide=float(wide), narrow=float(narrow),
                        n_heavy=int((w > 1e-3).sum())))
    gaps = [o["gap"] for o in out]
    print(label, "median", float(np.median(gaps)), json.dumps(out), flush=True)
    return out

if __name__ == "__main__":
    torch.set_num_threads(1)
    steps = int(sys.argv[1]); n = int(sys.argv[2]); overrides = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    target = gt.toys.grid(std=0.1)
    cfg = gt.TrainConfig(ensemble=n, seed=0, steps=steps, log_every=steps, **overrides)
    t0 = time.time()
    r = gt.train(target, cfg, progress=False)
    print("train_time", r.train_time, "wall", time.time() - t0, overrides, flush=True)
    analyse(r, target, json.dumps(overrides))
