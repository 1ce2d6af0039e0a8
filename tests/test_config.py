"""Validation of the training configuration, of fit_discriminator's arguments and of devices.

Every bad value must be refused when the configuration is made, by an error that names the field
(or argument), what was expected and what came; nothing here trains. Where the bound comes from
outside (torch's seed range), the test checks the bound against torch itself.
"""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

import gan_theory as gt
from gan_theory.training import device as device_module
from gan_theory.training.config import TrainConfig
from gan_theory.training.device import resolve_device

SEED_BOUND = 2 ** 64  # torch.Generator.manual_seed takes 0 <= seed < 2**64 (checked against torch below)
FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
INT_FIELDS = [n for n, f in FIELDS.items() if f.type in ("int", "int | None")]
FLOAT_FIELDS = [n for n, f in FIELDS.items()
                if f.type in ("float", "float | None", "float | tuple[float, ...]", "float | tuple[float, ...] | None")]
COUNT_FIELDS = ["steps", "d_steps", "batch_size", "ensemble", "seed", "flow_bins", "flow_layers", "grid_points",
                "log_every", "checkpoint_every", "chunk", "latent_dim", "dim", "mixture_components"]


def test_field_lists_cover_every_numeric_field():
    # The parametrised tests below walk these lists; a new numeric field must land in one.
    assert set(INT_FIELDS) == set(COUNT_FIELDS)
    assert set(FLOAT_FIELDS) == {"lr_g", "lr_d", "momentum", "lr_final", "real_label", "fake_label", "init_loc",
                                 "init_scale", "quadrature_atol", "network_quadrature_atol", "r1_gamma",
                                 "init_component_scale", "entropy_weight"}


# ---------------------------------------------------------------- seeds

def test_seed_bound_is_torchs():
    # The bound comes from torch.Generator.manual_seed: 2**64 - 1 is taken, 2**64 is not.
    assert torch.Generator().manual_seed(SEED_BOUND - 1).initial_seed() == SEED_BOUND - 1
    with pytest.raises((OverflowError, ValueError, RuntimeError)):
        torch.Generator().manual_seed(SEED_BOUND)


@pytest.mark.parametrize("seed,ensemble", [(2 ** 64, 1), (2 ** 64 - 1, 2), (2 ** 64 - 2, 3), (2 ** 70, 1)])
def test_seed_whose_member_seeds_leave_torchs_range_is_refused(seed, ensemble):
    with pytest.raises(ValueError, match=rf"seed: expected an integer from 0 to 2\*\*64 - {ensemble} .*got {seed}"):
        TrainConfig(seed=seed, ensemble=ensemble)


def test_largest_seeds_are_accepted_and_torch_takes_every_member_seed():
    for seed, ensemble in ((2 ** 64 - 1, 1), (2 ** 64 - 3, 3)):
        cfg = TrainConfig(seed=seed, ensemble=ensemble)
        assert cfg.member_seeds[-1] == 2 ** 64 - 1
        for s in cfg.member_seeds:
            assert torch.Generator().manual_seed(s).initial_seed() == s


@pytest.mark.parametrize("seeds,match", [
    ((0, 2 ** 64), r"seeds\[1\]: expected an integer from 0 to 2\*\*64 - 1"),
    ((0, -1), r"seeds\[1\]: expected an integer >= 0, got -1"),
    ((0, True), r"seeds\[1\]: expected an integer, got bool True"),
    ((0, 1.0), r"seeds\[1\]: expected an integer, got float 1.0"),
    (5, r"seeds: expected a sequence of 2 integer seeds \(one per member\), got int 5"),
    ("01", r"seeds: expected a sequence of 2 integer seeds \(one per member\), got str '01'"),
])
def test_bad_seeds(seeds, match):
    with pytest.raises((TypeError, ValueError), match=match):
        TrainConfig(ensemble=2, seeds=seeds)


# ---------------------------------------------------------------- bools, types, non-finite values

@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize("flag", [True, False, np.True_, torch.tensor(True)], ids=["True", "False", "np", "torch"])
def test_bool_is_not_an_integer(name, flag):
    # bool is an int subclass, so `steps=True` used to be a run of 1 step.
    with pytest.raises(TypeError, match=rf"^{name}: expected an integer, got bool"):
        TrainConfig(**{name: flag})


@pytest.mark.parametrize("name", FLOAT_FIELDS)
def test_bool_is_not_a_number(name):
    with pytest.raises(TypeError, match=rf"^{name}: expected a (real )?number"):
        TrainConfig(**{name: True})


@pytest.mark.parametrize("name", INT_FIELDS + FLOAT_FIELDS)
def test_string_is_not_a_number(name):
    with pytest.raises(TypeError, match=rf"^{name}: expected .*(integer|number).*got str"):
        TrainConfig(**{name: "3"})


@pytest.mark.parametrize("name", FLOAT_FIELDS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(name, value):
    with pytest.raises(ValueError, match=rf"^{name}: expected a finite number, got {value}"):
        TrainConfig(**{name: value})


@pytest.mark.parametrize("name", COUNT_FIELDS)
def test_negative_counts_are_refused(name):
    with pytest.raises(ValueError, match=rf"^{name}: expected an integer >= [0-9]+, got -1"):
        TrainConfig(**{name: -1})


@pytest.mark.parametrize("name", ["lr_g", "lr_d"])
def test_per_member_learning_rates_name_the_bad_member(name):
    with pytest.raises(TypeError, match=rf"^{name}\[1\]: expected a real number, got str"):
        TrainConfig(ensemble=2, **{name: [1e-3, "a"]})
    with pytest.raises(ValueError, match=rf"^{name}\[0\]: expected a finite number, got nan"):
        TrainConfig(ensemble=2, **{name: (math.nan, 1e-3)})
    with pytest.raises(TypeError, match=rf"^{name}: expected a number or a sequence of 2 numbers"):
        TrainConfig(ensemble=2, **{name: "0.1"})


@pytest.mark.parametrize("betas,error,match", [
    (0.5, TypeError, r"^betas: expected two numbers \(beta1, beta2\), got float 0.5"),
    ("ab", TypeError, r"^betas: expected two numbers \(beta1, beta2\), got str 'ab'"),
    ((0.5,), ValueError, r"^betas: expected two numbers \(beta1, beta2\), got 1"),
    ((0.5, 0.9, 0.99), ValueError, r"^betas: expected two numbers \(beta1, beta2\), got 3"),
    ((0.5, 1.0), ValueError, r"^betas\[1\]: expected a number < 1.0, got 1.0"),
    ((-0.1, 0.9), ValueError, r"^betas\[0\]: expected a number >= 0.0, got -0.1"),
    ((math.nan, 0.9), ValueError, r"^betas\[0\]: expected a finite number, got nan"),
    ((True, 0.9), TypeError, r"^betas\[0\]: expected a real number, got bool"),
])
def test_bad_betas(betas, error, match):
    with pytest.raises(error, match=match):
        TrainConfig(betas=betas)


@pytest.mark.parametrize("name", ["d_hidden", "g_hidden"])
@pytest.mark.parametrize("widths,error,match", [
    (64, TypeError, r"expected a sequence of layer widths \(integers >= 1\), got int 64"),
    ("64", TypeError, r"expected a sequence of layer widths \(integers >= 1\), got str '64'"),
    ((), ValueError, r"expected at least one hidden-layer width, got \(\)"),
    ((8, 0), ValueError, r"\[1\]: expected an integer >= 1, got 0"),
    ((True,), TypeError, r"\[0\]: expected an integer, got bool True"),
    ((8.0,), TypeError, r"\[0\]: expected an integer, got float 8.0"),
])
def test_bad_widths(name, widths, error, match):
    with pytest.raises(error, match=rf"^{name}{match}" if match.startswith(r"\[") else rf"^{name}: {match}"):
        TrainConfig(**{name: widths})


@pytest.mark.parametrize("device", ["tpu", "garbage", "", "cuda:x", "cuda:-1", "cpu:0", "mps", "CUDA"])
def test_bad_device_names(device):
    with pytest.raises(ValueError, match=r"^device: expected 'auto', 'cpu', 'cuda' or 'cuda:N' \(N: a CUDA device "
                                         rf"index\), got '{device}'"):
        TrainConfig(device=device)


def test_device_of_wrong_type():
    with pytest.raises(TypeError, match=r"^device: expected 'auto', 'cpu', 'cuda' or 'cuda:N'.*got int 0"):
        TrainConfig(device=0)


def test_cuda_index_is_a_valid_name_anywhere():
    # The form only: whether this machine has cuda:3 is checked when a run starts.
    assert TrainConfig(device="cuda:3").device == "cuda:3"


def test_fields_are_stored_as_plain_python_values():
    # numpy / torch scalars are accepted but stored as int and float, so config.json can be written.
    cfg = TrainConfig(steps=np.int64(3), seed=torch.tensor(4), lr_g=np.float64(2e-3), lr_d=np.float32(0.5),
                      betas=np.array([0.5, 0.9]), d_hidden=np.array([8, 4]), init_scale=torch.tensor(2.0))
    assert type(cfg.steps) is int and type(cfg.seed) is int and cfg.seed == 4
    assert type(cfg.lr_g) is float and type(cfg.lr_d) is float and cfg.lr_d == 0.5
    assert cfg.betas == (0.5, 0.9) and all(type(b) is float for b in cfg.betas)
    assert cfg.d_hidden == (8, 4) and all(type(w) is int for w in cfg.d_hidden)
    assert type(cfg.init_scale) is float
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_from_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="^config: expected a mapping of field names to values, got list"):
        TrainConfig.from_dict(["steps"])
    with pytest.raises(TypeError, match="^steps: expected an integer, got bool True"):
        TrainConfig.from_dict({"steps": True})  # a hand-edited config.json


# ---------------------------------------------------------------- devices

@pytest.mark.parametrize("device", ["tpu", "garbage", "", "mps", "meta", "cpu:0"])
def test_resolve_device_refuses_unknown_devices(device):
    with pytest.raises(ValueError, match=r"^device: expected 'auto', 'cpu', 'cuda' or 'cuda:N' .*got "
                                         rf"'{device}'"):
        resolve_device(device)


def test_resolve_device_names_the_argument_it_is_given_as():
    with pytest.raises(ValueError, match=r"^--device: expected 'auto', 'cpu', 'cuda' or 'cuda:N'"):
        resolve_device("tpu", "--device")
    with pytest.raises(TypeError, match=r"^device: expected 'auto', 'cpu', 'cuda' or 'cuda:N'.*got NoneType None"):
        resolve_device(None)


def test_resolve_device_accepts_the_documented_names():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_cuda_without_cuda(monkeypatch):
    monkeypatch.setattr(device_module.torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "cuda:0", "cuda:7"):
        with pytest.raises(ValueError, match=rf"^device: '{device}' was asked for, but CUDA is not available on this "
                                             r"machine; use 'auto' or 'cpu' \(accepted values: 'auto', 'cpu', 'cuda' "
                                             r"or 'cuda:N'\)"):
            resolve_device(device)
    assert resolve_device("auto") == torch.device("cpu")


def test_cuda_index_this_machine_does_not_have(monkeypatch):
    monkeypatch.setattr(device_module.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(device_module.torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"^device: 'cuda:7' was asked for, but this machine has 1 CUDA device\(s\) "
                                         r"\(cuda:0 to cuda:0\)"):
        resolve_device("cuda:7")
    assert resolve_device("cuda:0") == torch.device("cuda", 0)


# ---------------------------------------------------------------- fit_discriminator

@pytest.mark.parametrize("bad,error,match", [
    ({"steps": True}, TypeError, r"^steps: expected an integer, got bool True"),
    ({"seed": 2 ** 64}, ValueError, r"^seed: expected an integer from 0 to 2\*\*64 - 1"),
    ({"seed": 2 ** 64 - 1, "ensemble": 2}, ValueError, r"^seed: expected an integer from 0 to 2\*\*64 - 2"),
    ({"seeds": (1, True), "ensemble": 2}, TypeError, r"^seeds\[1\]: expected an integer, got bool True"),
    ({"seeds": 3}, TypeError, r"^seeds: expected a sequence of 1 integer seeds"),
    ({"betas": 0.5}, TypeError, r"^betas: expected two numbers \(beta1, beta2\), got float 0.5"),
    ({"betas": (0.9,)}, ValueError, r"^betas: expected two numbers \(beta1, beta2\), got 1"),
    ({"betas": (0.9, 1.5)}, ValueError, r"^betas\[1\]: expected a number < 1.0, got 1.5"),
    ({"lr": True}, TypeError, r"^lr: expected a real number, got bool"),
    ({"lr_final": 2.0}, ValueError, r"^lr_final: expected a number <= 1.0, got 2.0"),
    ({"lr_final": math.nan}, ValueError, r"^lr_final: expected a finite number, got nan"),
    ({"lr_schedule": "step"}, ValueError, r"^lr_schedule: unknown option 'step'"),
    ({"hidden": 64}, TypeError, r"^hidden: expected a sequence of layer widths"),
    ({"hidden": ()}, ValueError, r"^hidden: expected at least one hidden-layer width"),
    ({"activation": "gelu"}, ValueError, r"^activation: unknown option 'gelu'; expected one of 'silu'"),
    ({"real_label": True}, TypeError, r"^real_label: expected a real number, got bool"),
    ({"fake_label": math.nan}, ValueError, r"^fake_label: expected a finite number, got nan"),
    ({"real_label": 0.5, "fake_label": 0.5}, ValueError, r"^real_label, fake_label: the labels must differ"),
    ({"log_every": True}, TypeError, r"^log_every: expected an integer, got bool True"),
    ({"dtype": "float16"}, ValueError, r"^dtype: unknown option 'float16'; expected one of 'float32', 'float64'"),
    ({"device": "tpu"}, ValueError, r"^device: expected 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    ({"atol": math.nan}, ValueError, r"^atol: expected a finite number, got nan"),
    ({"atol": 0.0}, ValueError, r"^atol: expected a number > 0.0, got 0.0"),
    ({"progress": "no"}, TypeError, r"^progress: expected True, False or None, got str 'no'"),
])
def test_fit_discriminator_validates_its_arguments(bad, error, match):
    # steps=1, batch_size=8: on code that does not validate, the call trains briefly instead of hanging.
    kw = {"steps": 1, "batch_size": 8, "log_every": 1, "device": "cpu", **bad}
    with pytest.raises(error, match=match):
        gt.fit_discriminator(gt.toys.gaussian(), gt.toys.gaussian(1.0, 1.5), **kw)


@pytest.mark.parametrize("name,value", [("progress", "no"), ("progress", 1), ("resume", "yes"),
                                        ("overwrite", 1), ("callback", 3)])
def test_train_refuses_non_bool_flags_and_a_non_callable_callback(name, value, tmp_path):
    """A truthy string read as True would change what a call does: refused, naming the flag."""
    import gan_theory as gt

    cfg = gt.TrainConfig(generator="affine", steps=2, ensemble=1, log_every=1)
    with pytest.raises(TypeError, match=name):
        gt.train("gaussian", cfg, out=tmp_path / "run", **{name: value})
    assert not (tmp_path / "run" / "metrics.jsonl").exists()
