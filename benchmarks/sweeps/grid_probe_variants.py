"""Grid probes that change code rather than a TrainConfig field (issue 10; results in
``benchmarks/results/grid_probe.json`` under ``variants``). Each trains the 2-D mixture recipe
on the 5x5 grid (std 0.1), seeds 0 .. ENSEMBLE-1, and prints the exact C(G) + log 4 per seed:

* ``ema DECAY[,DECAY...]``: the generator's parameters averaged over the steps (an exponential
  moving average, Yazici et al. 2019), evaluated beside the last iterate;
* ``init_component_scale X``: every component's initial std ``X * init_scale`` instead of
  ``INIT_COMPONENT_SCALE * init_scale``;
* ``stratified_latent``: within each component, the stratified sample's latent draws replaced
  by a stratified design of N(0, I_2) (radii from equal-probability strata of the chi(2)
  distribution, angles equally spaced with one random rotation per component): the same
  expectation, less variance.

Run from the repository root (torch on 1 thread)::

    PYTHONPATH=. python benchmarks/sweeps/grid_probe_variants.py VARIANT [ARG] STEPS ENSEMBLE
"""
import math
import statistics
import sys

import torch

import gan_theory as gt
import gan_theory.training.mixture as mixture
from gan_theory.training.trainer import EnsembleTrainer


def _gaps(target, gen, n):
    return [float(gt.criterion(target, gen.member_density(i)).value + gt.LOG4) for i in range(n)]


def _stratified_weighted_sample(self, z):
    self._check_latent(z)
    b, k = z.shape[1], self.n_components
    comp = torch.arange(b, device=z.device) % k
    j = (torch.arange(b, device=z.device) // k).to(z.dtype)
    counts = torch.bincount(comp, minlength=k).to(z.dtype)
    nk = counts[comp]
    u = 0.5 * torch.erfc(-z[..., 0] / math.sqrt(2.0))
    r = torch.sqrt(-2.0 * torch.log1p(-((j + u) / nk).clamp(max=1 - 1e-7)))
    v = 0.5 * torch.erfc(-z[:, :k, -1] / math.sqrt(2.0))
    theta = 2 * math.pi * (v[:, comp] + j / nk)
    e = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], -1)
    return self.loc[:, comp] + self.scale()[:, comp] * e, (self.weights() / counts)[:, comp]


def main(argv):
    torch.set_num_threads(1)
    variant, rest = argv[0], argv[1:]
    arg = rest.pop(0) if variant in ("ema", "init_component_scale") else None
    steps, n = int(rest[0]), int(rest[1])
    if variant == "init_component_scale":
        mixture.INIT_COMPONENT_SCALE = float(arg)
    elif variant == "stratified_latent":
        mixture.MixtureGenerator.weighted_sample = _stratified_weighted_sample
    target = gt.toys.grid(std=0.1)
    tr = EnsembleTrainer(target, gt.TrainConfig(ensemble=n, seed=0, steps=steps, log_every=steps))
    gen = tr.chunks[0].generator
    decays = [float(d) for d in arg.split(",")] if variant == "ema" else []
    ema = {d: [p.detach().clone() for p in gen.parameters()] for d in decays}
    for _ in range(steps):
        tr.step()
        with torch.no_grad():
            for d in decays:
                for a, p in zip(ema[d], gen.parameters()):
                    a.mul_(d).add_(p.detach(), alpha=1 - d)
    out = {"last": _gaps(target, gen, n)}
    with torch.no_grad():
        for d in decays:
            for a, p in zip(ema[d], gen.parameters()):
                p.copy_(a)
            out[f"ema {d}"] = _gaps(target, gen, n)
    for k, g in out.items():
        print(variant, arg, k, "median", statistics.median(g), g, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
