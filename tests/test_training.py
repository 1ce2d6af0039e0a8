"""The toy-GAN trainer: configuration, ensembles, reproducibility, checkpoints, failures, metrics.

Expected values: the same run without the ensemble (member trained alone with the same seed);
the same run uninterrupted (for resume); the engine's criterion for the initial generator; the
exact pushforward densities of maps with closed-form inverses.
"""

import json
import math

import numpy as np
import pytest
import torch

import gan_theory as gt
from gan_theory.training.config import TrainConfig
from gan_theory.training.generators import PushforwardDensity1D
from gan_theory.training.run import Trainer, train

F = torch.float64
LOG4 = math.log(4.0)
TARGET = gt.toys.gaussian(2.0, 0.5)


def params(trainer):
    return torch.cat([p.detach().reshape(p.shape[0], -1).to(F) for c in trainer.chunks for p in c.parameters()], dim=1) \
        if len(trainer.chunks) == 1 else None


def member_params(trainer, i):
    chunk, j = trainer._locate(i)
    return torch.cat([p.detach()[j].reshape(-1).to(F) for p in chunk.parameters()])


@pytest.mark.parametrize("bad,match", [
    ({"generator": "gan"}, "generator: unknown option 'gan'"),
    ({"steps": -1}, "steps: expected an integer >= 0, got -1"),
    ({"d_steps": 0}, "d_steps: expected an integer >= 1"),
    ({"loss": "wasserstein"}, "loss: unknown option 'wasserstein'"),
    ({"ensemble": 3, "lr_g": (1e-3, 1e-3)}, r"lr_g: expected one value or 3 \(one per member\), got 2"),
    ({"ensemble": 2, "seeds": (1, 2, 3)}, "seeds: expected 2 seeds"),
    ({"real_label": 0.5, "fake_label": 0.5}, "real_label, fake_label: the labels must differ"),
    ({"generator": "grid"}, "discriminator: the grid generator moves by gradient steps"),
    ({"device": "tpu"}, "device: expected 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    ({"lr_schedule": "step"}, "lr_schedule: unknown option 'step'"),
    ({"betas": (0.5, 1.0)}, r"betas\[1\]: expected a number < 1.0"),
])
def test_invalid_configs(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TrainConfig(**bad)


def test_invalid_combinations_with_the_target():
    with pytest.raises(ValueError, match="dim: the models are configured for 2-D data but the target is 1-D"):
        Trainer(TARGET, TrainConfig(generator="flow", dim=2))
    with pytest.raises(ValueError, match="the optimal discriminator needs an exact generator density"):
        Trainer(TARGET, TrainConfig(generator="mlp", discriminator="optimal"))
    with pytest.raises(TypeError, match="config: expected a gan_theory.TrainConfig"):
        Trainer(TARGET, {"steps": 3})
    with pytest.raises(ValueError, match="target: unknown toy 'rign'"):
        train("rign", steps=1)


def test_config_round_trip():
    cfg = TrainConfig(ensemble=2, lr_g=(1e-3, 2e-3), d_hidden=(32, 16))
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match=r"config: unknown field\(s\) \['nope'\]"):
        TrainConfig.from_dict({"nope": 1})


CASES = [("affine", "mlp"), ("mlp", "mlp"), ("affine", "optimal")]


@pytest.mark.parametrize("generator,discriminator", CASES)
def test_ensemble_member_equals_member_trained_alone_float64(generator, discriminator):
    """Each member of a 3-member ensemble (different seeds and learning rates) equals that member
    trained alone with the same seed: to 1e-12 in float64 (the only differences are rounding in
    batched versus single matrix products)."""
    base = dict(generator=generator, discriminator=discriminator, steps=40, batch_size=64, dtype="float64",
                device="cpu", log_every=1000, d_hidden=(16, 16), g_hidden=(16, 16), chunk=2)
    ens = Trainer(TARGET, TrainConfig(ensemble=3, seeds=(3, 5, 7), lr_g=(1e-3, 2e-3, 5e-4), lr_d=(2e-3, 1e-3, 1e-3), **base))
    for _ in range(40):
        ens.step()
    for i, (seed, lg, ld) in enumerate([(3, 1e-3, 2e-3), (5, 2e-3, 1e-3), (7, 5e-4, 1e-3)]):
        alone = Trainer(TARGET, TrainConfig(ensemble=1, seeds=(seed,), lr_g=lg, lr_d=ld, **base))
        for _ in range(40):
            alone.step()
        a, b = member_params(ens, i), member_params(alone, 0)
        assert torch.max(torch.abs(a - b)).item() <= 1e-12, (generator, discriminator, i)


def test_ensemble_member_equals_member_trained_alone_float32():
    base = dict(generator="affine", discriminator="mlp", steps=30, batch_size=64, dtype="float32", device="cpu",
                d_hidden=(16, 16))
    ens = Trainer(TARGET, TrainConfig(ensemble=4, seed=11, **base))
    alone = Trainer(TARGET, TrainConfig(ensemble=1, seed=13, **base))  # member 2 has seed 11 + 2
    for _ in range(30):
        ens.step()
        alone.step()
    a, b = member_params(ens, 2), member_params(alone, 0)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_same_seed_same_numbers_bit_for_bit():
    cfg = TrainConfig(generator="affine", steps=20, ensemble=2, log_every=10, device="cpu", d_hidden=(16, 16))
    r1, r2 = train(TARGET, cfg, progress=False), train(TARGET, cfg, progress=False)
    drop = ("wall_time", "train_time")
    h1 = [{k: v for k, v in r.items() if k not in drop} for r in r1.history]
    h2 = [{k: v for k, v in r.items() if k not in drop} for r in r2.history]
    assert h1 == h2
    r3 = train(TARGET, cfg.replace(seed=1), progress=False)
    assert r3.final[0]["criterion"] != r1.final[0]["criterion"]


def test_records_and_initial_metrics_match_the_engine():
    r = train(TARGET, TrainConfig(generator="affine", steps=5, ensemble=2, log_every=5, init_loc=0.0, init_scale=1.0,
                                  device="cpu"), progress=False)
    first = [h for h in r.history if h["step"] == 0]
    c0 = gt.criterion(TARGET, gt.toys.gaussian(0.0, 1.0))
    assert len(first) == 2
    for rec in first:
        assert abs(rec["criterion"] - c0.value) <= rec["criterion_error"] + c0.error
        for key in ("step", "member", "criterion", "jsd", "d_error", "d_sup_error", "v_quadrature", "wall_time", "exact"):
            assert key in rec
    last = r.final[0]
    assert last["step"] == 5 and "v_minibatch" in last and "grad_norm_g" in last and "grad_norm_d" in last
    assert abs(last["jsd"] - (last["criterion"] + LOG4) / 2) <= last["jsd_error"] + last["criterion_error"]
    # the trained pieces are callables
    x = r.generators[1].sample(100, torch.Generator().manual_seed(0))
    assert x.shape == (100,) and x.dtype == F
    d = r.discriminators[1](torch.linspace(-1, 3, 5, dtype=F))
    assert d.shape == (5,) and bool(torch.all((d > 0) & (d < 1)))


def test_checkpoint_and_resume_equal_an_uninterrupted_run(tmp_path):
    cfg = TrainConfig(generator="affine", steps=30, ensemble=2, log_every=5, checkpoint_every=10, device="cpu",
                      d_hidden=(16, 16), dtype="float64")
    full = train(TARGET, cfg, out=tmp_path / "full", progress=False)
    part = train(TARGET, cfg, out=tmp_path / "part", progress=False, callback=lambda recs: recs[0]["step"] < 15)
    assert max(h["step"] for h in part.history) == 15
    resumed = train(TARGET, cfg, out=tmp_path / "part", resume=True, progress=False)
    drop = ("wall_time", "train_time")
    h_full = [{k: v for k, v in r.items() if k not in drop} for r in full.history]
    h_res = [{k: v for k, v in r.items() if k not in drop} for r in resumed.history]
    assert h_full == h_res
    lines = (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [r["step"] for r in full.history]
    meta = json.loads((tmp_path / "part" / "config.json").read_text())
    assert meta["config"] == cfg.resolve(1).to_dict() and "torch" in meta["versions"]  # resolved config
    assert not (tmp_path / "part" / "checkpoint.pt.tmp").exists()
    with pytest.raises(ValueError, match="resume: the checkpoint was written with a different configuration"):
        train(TARGET, cfg.replace(steps=40), out=tmp_path / "part", resume=True, progress=False)


def test_non_finite_member_is_stopped_and_the_others_go_on(tmp_path):
    # member 1's generator learning rate is absurd: its parameters overflow in float32
    cfg = TrainConfig(generator="affine", optimizer="sgd", steps=40, ensemble=3, lr_g=(1e-3, 1e36, 1e-3),
                      lr_d=1e-3, log_every=10, checkpoint_every=10, device="cpu", d_hidden=(16, 16))
    r = train(TARGET, cfg, out=tmp_path, progress=False)
    assert list(r.stopped) == [1]
    assert "member 1" in r.stopped[1] and r.stopped[1].startswith("step ")
    assert max(h["step"] for h in r.history if h["member"] == 0) == 40
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    for t in state["chunks"][0].values():
        assert torch.isfinite(t).all()
    assert any(h["member"] == 1 and h["status"].startswith("stopped") for h in r.history)


def test_grid_generator_decreases_the_criterion_monotonically_to_minus_log4():
    """Prop. 2: with D = D* at every step and p_g moved by gradient steps on C, C(G) decreases
    monotonically to -log 4 (here: mirror-descent steps of size 0.5 on a 2001-point grid)."""
    cfg = TrainConfig(generator="grid", discriminator="optimal", optimizer="sgd", lr_g=0.5, steps=60, log_every=1,
                      init_loc=-3.0, init_scale=2.0, device="cpu", dtype="float64")
    r = train(gt.toys.mixture2(), cfg, progress=False)
    c = np.array([h["criterion"] for h in r.history])
    assert np.all(np.diff(c) < 0)
    assert c[-1] + LOG4 <= 1e-6
    assert c[0] + LOG4 > 0.1


def test_pushforward_density_of_known_maps():
    # g(z) = z^3 + z is monotone: p(x) = phi(z)/(3 z^2 + 1) at z = g^{-1}(x) (Cardano's root)
    d = PushforwardDensity1D(lambda z: z ** 3 + z)
    x = torch.tensor([-3.0, -0.5, 0.0, 0.7, 10.0], dtype=F)
    z = torch.tensor([np.real(np.roots([1, 0, 1, -v])[np.isreal(np.roots([1, 0, 1, -v]))][0]) for v in x.numpy()], dtype=F)
    ref = -0.5 * z ** 2 - 0.5 * math.log(2 * math.pi) - torch.log(3 * z ** 2 + 1)
    np.testing.assert_allclose(d.log_prob(x).numpy(), ref.numpy(), rtol=1e-12)
    # g(z) = z^2 - 1 has two preimages: x + 1 ~ chi^2_1, p(x) = exp(-(x+1)/2) / sqrt(2 pi (x+1))
    d2 = PushforwardDensity1D(lambda z: z ** 2 - 1)
    x2 = torch.tensor([-0.5, 0.0, 3.0], dtype=F)
    ref2 = -(x2 + 1) / 2 - 0.5 * torch.log(2 * math.pi * (x2 + 1))
    np.testing.assert_allclose(d2.log_prob(x2).numpy(), ref2.numpy(), rtol=1e-10)
    assert d2.log_prob(torch.tensor([-2.0], dtype=F)).item() == -math.inf
    # and the engine integrates the monotone one to mass 1 with its hints
    assert abs(gt.jsd(d, d).value) == 0.0
    kl = gt.kl(d, gt.toys.gaussian(0.0, 2.0), method="quadrature", atol=1e-9)
    assert math.isfinite(kl.value)


def test_fit_discriminator_reduces_the_distance_to_d_star():
    r = gt.fit_discriminator(gt.toys.gaussian(), gt.toys.gaussian(1.0, 1.5), steps=400, log_every=200,
                                          ensemble=2, device="cpu")
    first = [h["d_error"] for h in r.history if h["step"] == 0]
    last = r.d_error
    assert all(b < a / 5 for a, b in zip(first, last))
    assert r.discriminator(torch.tensor([0.0], dtype=F)).shape == (1,)


def test_cli_train_and_resume(tmp_path, capsys):
    from gan_theory.cli import main

    out = tmp_path / "run"
    assert main(["train", "--target", "gaussian", "--param", "loc=1.0", "--steps", "6", "--log-every", "3",
                 "--ensemble", "2", "--out", str(out), "--quiet", "--checkpoint-every", "3", "--d-hidden", "8,8"]) == 0
    text = capsys.readouterr().out
    assert "C(G) + log 4" in text and (out / "metrics.jsonl").exists()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0


@pytest.mark.gpu
def test_cuda_training_matches_cpu_in_float64():
    cfg = TrainConfig(generator="affine", steps=20, ensemble=2, dtype="float64", d_hidden=(16, 16), log_every=20)
    cpu = Trainer(TARGET, cfg.replace(device="cpu"))
    gpu = Trainer(TARGET, cfg.replace(device="cuda"))
    for _ in range(20):
        cpu.step()
        gpu.step()
    np.testing.assert_allclose(member_params(gpu, 1).cpu().numpy(), member_params(cpu, 1).numpy(), rtol=1e-9, atol=1e-11)
