"""The cost of one exact measurement of a 16-member ensemble on the 1-D affine benchmark
(N(2, 0.5^2), affine generator, 64x64 LeakyReLU discriminator), with the trained network's
kinks computed from its weights (today) and with the quadrature locating them by root finding
(before issue 12), in the same process, against the time of 50 training steps.

Run: python benchmarks/metrics_cost.py  (writes benchmarks/results/bench/metrics_cost_cpu.json)
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch
from torch.distributions import Normal

import gan_theory as gt
from gan_theory.bench._common import environment, write_json
from gan_theory.training import metrics
from gan_theory.training.trainer import EnsembleTrainer


def main() -> None:
    tr = EnsembleTrainer(Normal(2.0, 0.5), gt.TrainConfig(generator="affine", ensemble=16))
    t0 = time.perf_counter()
    for _ in range(500):
        tr.step()
    step = (time.perf_counter() - t0) / 500
    fast = metrics.with_kinks_as_breaks
    times = {"exact_kinks": [], "root_finding": []}
    records = {}
    for _ in range(3):
        for name in times:
            metrics.with_kinks_as_breaks = fast if name == "exact_kinks" else (lambda d, p: (d, p))
            t0 = time.perf_counter()
            records[name] = tr.measure(0.0)
            times[name].append(time.perf_counter() - t0)
    metrics.with_kinks_as_breaks = fast
    med = {k: statistics.median(v) for k, v in times.items()}
    worst = max(abs(a["d_error"] - b["d_error"]) / (a["d_error_bound"] + b["d_error_bound"])
                for a, b in zip(records["exact_kinks"], records["root_finding"]))
    payload = {"benchmark": "metrics cost, 1-D affine benchmark, 16 members, after 500 steps",
               "environment": environment(torch.device("cpu")), "seconds_per_training_step": step,
               "seconds_per_measurement": med,
               "metrics_share_every_50_steps": {k: v / (v + 50 * step) for k, v in med.items()},
               "speedup": med["root_finding"] / med["exact_kinks"],
               "max_d_error_difference_over_bounds": worst}
    path = write_json(Path(__file__).parent / "results" / "bench" / "metrics_cost_cpu.json", payload)
    print(payload["seconds_per_measurement"], payload["metrics_share_every_50_steps"], payload["speedup"], worst)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
