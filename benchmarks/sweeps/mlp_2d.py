"""Algorithm 1 with the MLP generator in 2-D (issue 10's comparison with the mixture recipe):
8 seeds on ring(8, std 0.1) or the 5x5 grid (std 0.1), ``generator="mlp"`` with its package
defaults and the mixture recipe's step count, measured at the start and the end.

The MLP generator has no exact density: its C(G) is that of a kernel density estimate of its
samples (an estimate, biased upward by the kernel's width against modes of std 0.1); the mode
coverage (modes captured, high-quality fraction, reverse KL of the mode histogram) is from its
own samples.

Run from the repository root (torch on 1 thread); writes
``benchmarks/results/mlp_2d_<target>_<steps>.json``::

    PYTHONPATH=. python benchmarks/sweeps/mlp_2d.py ring 6000
"""
import json, sys, time, statistics
from pathlib import Path
import torch
import gan_theory as gt
torch.set_num_threads(1)
name, steps = sys.argv[1], int(sys.argv[2])
target = gt.toys.ring(std=0.1) if name == "ring" else gt.toys.grid(std=0.1)
cfg = gt.TrainConfig(generator="mlp", ensemble=8, seed=0, steps=steps, log_every=steps)
t0 = time.time()
r = gt.train(target, cfg, progress=False)
fin = r.final
out = {"target": name, "steps": steps, "train_s": r.train_time, "wall_s": time.time() - t0,
       "config": r.config.to_dict(),
       "members": [{k: f.get(k) for k in ("seed", "criterion", "criterion_error", "exact", "modes_captured", "n_modes", "high_quality", "reverse_kl_modes", "metrics_error")} for f in fin]}
gaps = [f["criterion"] + gt.LOG4 for f in fin if f.get("criterion") is not None]
out["median_gap_kde"] = statistics.median(gaps) if gaps else None
n = gt.coverage.target_modes(target).n_modes
out["n_modes"] = n
out["all_modes_seeds"] = sum(1 for f in fin if f.get("modes_captured") == n)
print(json.dumps(out), flush=True)
path = Path(__file__).resolve().parents[1] / "results" / f"mlp_2d_{name}_{steps}.json"
path.write_text(json.dumps(out, allow_nan=False) + "\n")
