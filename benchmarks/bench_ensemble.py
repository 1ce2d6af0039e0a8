"""Throughput of the batched GAN ensemble against a Python loop over separately built models.

Both sides train the same GANs (issue 3): MLP generator 1 -> 64 -> 64 -> 1 (SiLU) and MLP
discriminator 1 -> 64 -> 64 -> 1 (LeakyReLU 0.2), batch 256, Adam (betas 0.5, 0.999), one
discriminator step and one generator step per iteration, non-saturating loss, on the
two-mode mixture. Every member draws its data and noise from its own ``torch.Generator`` on
both sides.

* ``batched``: ``gan_theory.training.Trainer.step`` (stacked weights, one batched matmul per
  layer, members in chunks of 64 on CPU, non-finite checks included).
* ``loop``: N ``torch.nn.Sequential`` pairs, each with its own ``torch.optim.Adam``, stepped
  one after the other.

Throughput is GAN-steps per second summed over members (N x iterations / seconds). The bar:
batched >= 3x the loop at N = 64 on 2 CPU cores. On CUDA the device is recorded in the JSON.

Run: python benchmarks/bench_ensemble.py [--sizes 1 8 64 256 1024]
(writes benchmarks/results/ensemble_<device>.json)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write  # noqa: E402

from gan_theory import toys  # noqa: E402
from gan_theory.densities import as_density  # noqa: E402
from gan_theory.training.config import TrainConfig  # noqa: E402
from gan_theory.training.run import Trainer  # noqa: E402
from gan_theory.training.losses import softplus  # noqa: E402
from gan_theory.training.sampling import sampler  # noqa: E402

BATCH = 256


def time_batched(n: int, device: str, seconds: float) -> dict:
    cfg = TrainConfig(generator="mlp", discriminator="mlp", ensemble=n, batch_size=BATCH, steps=10 ** 9, device=device,
                      g_hidden=(64, 64), d_hidden=(64, 64), lr_g=1e-3, lr_d=1e-3, log_every=10 ** 9)
    tr = Trainer(toys.mixture2(), cfg)
    tr.step()
    return _steps_per_second(tr.step, n, device, seconds, min_iterations=2)


def _steps_per_second(iteration, n: int, device: str, seconds: float, min_iterations: int) -> dict:
    """Run ``iteration`` (one GAN step of all ``n`` members) once to warm up, then for at least
    ``seconds`` and ``min_iterations`` calls; GAN steps per second over the members."""
    iteration()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    iters, t0 = 0, time.perf_counter()
    while True:
        iteration()
        iters += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and iters >= min_iterations:
            break
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - t0
    return {"iterations": iters, "seconds": elapsed, "gan_steps_per_s": n * iters / elapsed}


def _mlp(act: torch.nn.Module, device: str) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(1, 64), act, torch.nn.Linear(64, 64), act, torch.nn.Linear(64, 1)).to(device)


def time_loop(n: int, device: str, seconds: float) -> dict:
    sample = sampler(as_density(toys.mixture2()))
    rngs = [torch.Generator().manual_seed(i) for i in range(n)]
    gens = [_mlp(torch.nn.SiLU(), device) for _ in range(n)]
    discs = [_mlp(torch.nn.LeakyReLU(0.2), device) for _ in range(n)]
    opt_g = [torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.5, 0.999)) for g in gens]
    opt_d = [torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999)) for d in discs]

    def iteration():
        for i in range(n):
            real = sample(BATCH, rngs[i]).float().reshape(-1, 1).to(device)
            z = torch.randn(BATCH, 1, generator=rngs[i], dtype=torch.float64).float().to(device)
            with torch.no_grad():
                fake = gens[i](z)
            loss_d = softplus(-discs[i](real)).mean() + softplus(discs[i](fake)).mean()
            opt_d[i].zero_grad()
            loss_d.backward()
            opt_d[i].step()
            z = torch.randn(BATCH, 1, generator=rngs[i], dtype=torch.float64).float().to(device)
            loss_g = softplus(-discs[i](gens[i](z))).mean()
            opt_g[i].zero_grad()
            loss_g.backward()
            opt_g[i].step()

    return _steps_per_second(iteration, n, device, seconds, min_iterations=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 64, 256, 1024])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        b = time_batched(n, args.device, args.seconds)
        lp = time_loop(n, args.device, args.seconds)
        ratio = b["gan_steps_per_s"] / lp["gan_steps_per_s"]
        rows.append({"N": n, "batched": b, "loop": lp, "ratio": ratio})
        print(f"N = {n:5d}: batched {b['gan_steps_per_s']:8.0f} GAN-steps/s, loop {lp['gan_steps_per_s']:8.0f}, "
              f"ratio {ratio:.2f}", flush=True)
    payload = {"benchmark": "ensemble throughput", "machine": machine(), "device": args.device, "batch": BATCH,
               "architecture": "G 1-64-64-1 SiLU, D 1-64-64-1 LeakyReLU(0.2), Adam(0.5, 0.999)", "rows": rows}
    path = write(f"ensemble_{args.device.split(':')[0]}.json", payload)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
