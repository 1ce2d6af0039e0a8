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
  expectation, less variance;
* ``r1_decay FINAL[,FRACTION]``: the R1 weight decayed on a cosine from ``r1_gamma`` to
  ``FINAL * r1_gamma`` over the first ``FRACTION`` of the run (default 1: the learning rates'
  shape), then held;
* ``scale_lr FACTOR`` / ``logit_lr FACTOR``: the component log-stds / the weight logits move
  ``FACTOR`` times as far as Adam's step (their learning rate times ``FACTOR``; the other
  generator parameters unchanged);
* ``d_ema DECAY``: each generator step against an exponential moving average of the
  discriminator's parameters (updated after every discriminator phase), the discriminator
  itself trained as usual;
* ``alloc ALPHA``: the stratified sample's counts per component in proportion to
  ``ALPHA / K + (1 - ALPHA) w_k`` (sample ``b`` to the component whose cumulative share holds
  ``(b + 1/2) / B``), not ``B / K`` each; weights ``w_k / n_k`` as before (unbiased for any
  counts >= 1, and ``ALPHA >= K / B`` gives every component one);
* ``r2 FACTOR``: the discriminator's penalty also on the generated samples,
  ``FACTOR * gamma / 2 * sum_b w_b ||grad_x logit(x_b)||^2`` (R2 beside R1, Mescheder et al.
  2018), with the stratified sample's weights;
* ``entropy LAMBDA``: the generator's loss plus ``lambda(t) sum_b w_b log p_g(x_b)`` (an
  entropy bonus, as in Dieng et al. 2019's PresGAN; p_g differentiable in its parameters and in
  x), ``lambda`` decayed from ``LAMBDA`` to 0 on the learning rates' cosine;
* ``d_standardize``: the discriminator sees the data standardised, ``(x - mean) / std`` per
  axis with the target's exact mean and std (its input gradient scaled back by ``1 / std``).

Run from the repository root (torch on 1 thread)::

    PYTHONPATH=. python benchmarks/sweeps/grid_probe_variants.py VARIANT [ARG] STEPS ENSEMBLE

The environment variable ``INIT_COMPONENT_SCALE`` sets the initial component std fraction
beside any variant; ``TARGET=ring`` trains on ring(8, std 0.1) instead of the grid (the std
diagnostic then still measures against the grid's modes: ignore it).
"""
import math
import os
import statistics
import sys

import torch

import gan_theory as gt
import gan_theory.training.mixture as mixture
from gan_theory.training.ensemble import EnsembleMLP
from gan_theory.training.trainer import EnsembleTrainer


def _gaps(target, gen, n):
    return [float(gt.criterion(target, gen.member_density(i)).value + gt.LOG4) for i in range(n)]


def _std_near_modes(gen, n):
    """Per member: the weight-averaged std (geometric mean of the two axes) of the components
    within 0.3 of a mode and narrower than 0.3 (the target's is 0.1), and the weight of the
    others (bridges between modes and strays)."""
    modes = gt.toys.grid_modes().to(torch.float64)
    out = []
    for i in range(n):
        s = gen.summary(i)
        w, mu, sd = (torch.tensor(s[k], dtype=torch.float64) for k in ("weights", "loc", "scale"))
        good = (torch.cdist(mu, modes).min(1).values < 0.3) & (sd.max(1).values < 0.3)
        std = (w[good] * sd[good].prod(1).sqrt()).sum() / w[good].sum()
        out.append((round(float(std), 4), round(float(w[~good].sum()), 4)))
    return out


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


def _standardize_discriminator(target):
    m = target.mean.to(torch.float32)
    s = target.variance.sqrt().to(torch.float32)
    fwd, lig = EnsembleMLP.forward, EnsembleMLP.logits_and_input_grad

    def forward(self, x):
        return fwd(self, (x - m) / s)

    def logits_and_input_grad(self, x):
        logits, g = lig(self, (x - m) / s)
        return logits, g / s

    EnsembleMLP.forward, EnsembleMLP.logits_and_input_grad = forward, logits_and_input_grad


def _allocated_weighted_sample(alpha):
    def weighted_sample(self, z):
        self._check_latent(z)
        b, k = z.shape[1], self.n_components
        w = self.weights()
        share = alpha / k + (1 - alpha) * w.detach()  # (N, K)
        u = (torch.arange(b, device=z.device, dtype=z.dtype) + 0.5) / b
        cum = torch.cumsum(share, -1)
        comp = torch.searchsorted(cum.contiguous(), u.expand(z.shape[0], b).contiguous()).clamp_(max=k - 1)  # (N, B)
        counts = torch.zeros_like(w).scatter_add_(1, comp, torch.ones_like(u).expand(z.shape[0], b))
        idx = comp.unsqueeze(-1).expand(-1, -1, self.dim)
        x = torch.gather(self.loc, 1, idx) + torch.gather(self.scale(), 1, idx) * z[..., :self.dim]
        wb = torch.gather(w / counts.clamp(min=1), 1, comp)
        return x, wb
    return weighted_sample


def _r1_r2_losses(factor):
    from gan_theory.training.losses import discriminator_loss, minibatch_value

    def losses(disc, real, fake, fake_weight, real_label, fake_label, r1_gamma):
        real_logits, g_real = disc.logits_and_input_grad(real)
        fake_logits, g_fake = disc.logits_and_input_grad(fake)
        loss = discriminator_loss(real_logits, fake_logits, real_label, fake_label, fake_weight=fake_weight)
        w = fake_weight if fake_weight is not None else torch.full_like(fake_logits, 1.0 / fake.shape[1])
        loss = loss + (0.5 * r1_gamma) * (g_real.square().sum(-1).mean(-1) + factor * (w * g_fake.square().sum(-1)).sum(-1))
        return loss, minibatch_value(real_logits, fake_logits, fake_weight=fake_weight)
    return losses


def _entropy_losses(holder):
    from gan_theory.training.steps import generate, generator_losses

    def losses(generator, disc, z, loss, data_log_prob, real_label, fake_label, entropy_weight=None):
        base = generator_losses(generator, disc, z, loss, data_log_prob, real_label, fake_label)
        x, w = generate(generator, z)
        mu, sigma = generator.loc, generator.scale()
        d = (x.unsqueeze(2) - mu.unsqueeze(1)) / sigma.unsqueeze(1)
        comp = -0.5 * (d * d).sum(-1) - torch.log(sigma).sum(-1).unsqueeze(1) - math.log(2 * math.pi)
        log_q = torch.logsumexp(comp + torch.log_softmax(generator.logits, -1).unsqueeze(1), -1)
        return base + holder[0] * (w * log_q).sum(-1)
    return losses


def main(argv):
    torch.set_num_threads(1)
    variant, rest = argv[0], argv[1:]
    arg = rest.pop(0) if variant in ("ema", "init_component_scale", "r1_decay", "scale_lr", "logit_lr", "d_ema", "alloc", "r2", "entropy") else None
    steps, n = int(rest[0]), int(rest[1])
    # the recipe as it was when these probes ran: no entropy bonus in the trainer, the module's
    # initial component std (0.25) unless the environment or the variant sets it
    base = dict(init_component_scale=float(os.environ.get("INIT_COMPONENT_SCALE", mixture.INIT_COMPONENT_SCALE)),
                entropy_weight=0.0)
    if variant == "init_component_scale":
        base["init_component_scale"] = float(arg)
    elif variant == "r2":
        import gan_theory.training.steps as step_functions
        step_functions.discriminator_update.__kwdefaults__["losses"] = _r1_r2_losses(float(arg))
    elif variant == "entropy":
        import gan_theory.training.steps as step_functions
        lam = [float(arg)]
        step_functions.generator_update.__kwdefaults__["losses"] = _entropy_losses(lam)
    elif variant == "alloc":
        mixture.MixtureGenerator.weighted_sample = _allocated_weighted_sample(float(arg))
    elif variant == "stratified_latent":
        mixture.MixtureGenerator.weighted_sample = _stratified_weighted_sample
    target = gt.toys.ring(std=0.1) if os.environ.get("TARGET") == "ring" else gt.toys.grid(std=0.1)
    if variant == "d_standardize":
        _standardize_discriminator(target)
    tr = EnsembleTrainer(target, gt.TrainConfig(ensemble=n, seed=0, steps=steps, log_every=steps, **base))
    gen = tr.chunks[0].generator
    decays = [float(d) for d in arg.split(",")] if variant == "ema" else []
    ema = {d: [p.detach().clone() for p in gen.parameters()] for d in decays}
    gamma0 = tr.config.r1_gamma
    disc = tr.chunks[0].discriminator
    d_avg = [p.detach().clone() for p in disc.parameters()]
    saved = []

    def swap_in(_):
        decay = float(arg)
        saved[:] = [p.detach().clone() for p in disc.parameters()]
        with torch.no_grad():
            for a, p in zip(d_avg, disc.parameters()):
                a.mul_(decay).add_(p, alpha=1 - decay)
                p.copy_(a)

    for t in range(steps):
        if variant == "entropy":
            lam[0] = float(arg) * 0.5 * (1 + math.cos(math.pi * t / steps))
        if variant == "r1_decay":
            final, frac = (float(a) for a in (arg + ",1").split(",")[:2])
            f = min(t / (frac * steps), 1.0)
            object.__setattr__(tr.config, "r1_gamma",
                               gamma0 * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi * f))))
        moved = {"scale_lr": gen.log_scale, "logit_lr": gen.logits}.get(variant)
        before = moved.detach().clone() if moved is not None else None
        if variant == "d_ema":
            tr.step(before_generator_step=swap_in)
            with torch.no_grad():
                for p, live in zip(disc.parameters(), saved):
                    p.copy_(live)
        else:
            tr.step()
        if before is not None:
            with torch.no_grad():
                moved.copy_(before + float(arg) * (moved - before))
        with torch.no_grad():
            for d in decays:
                for a, p in zip(ema[d], gen.parameters()):
                    a.mul_(d).add_(p.detach(), alpha=1 - d)
    print(variant, arg, "(std near modes, other weight)", _std_near_modes(gen, n), flush=True)
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
