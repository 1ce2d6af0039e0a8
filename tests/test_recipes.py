"""Per-family defaults: TrainConfig.resolve, generator="auto" and the recipes table."""

import json

import pytest

import gan_theory as gt
from gan_theory.training.config import RECIPE_FIELDS, TrainConfig
from gan_theory.training.recipes import RECIPES

#: The defaults before recipes existed (gan-theory 0.1.0 as released): runs of the families
#: without a recipe must keep them, so that the claims' numbers do not move.
OLD_DEFAULTS = {"steps": 2000, "d_steps": 1, "batch_size": 256, "lr_g": 1e-3, "lr_d": 1e-3,
                "lr_schedule": "constant", "lr_final": 0.1, "init_scale": 1.0, "d_hidden": (64, 64)}


@pytest.mark.parametrize("dim,family", [(1, "flow"), (2, "mixture")])
def test_auto_picks_the_family_of_the_dimension(dim, family):
    cfg = TrainConfig(ensemble=3).resolve(dim)
    assert cfg.generator == family
    for name, value in RECIPES[(family, dim)].items():
        assert getattr(cfg, name) == value, name


@pytest.mark.parametrize("family,dim", [("affine", 1), ("affine", 2), ("mlp", 1), ("mlp", 2), ("flow", 2)])
def test_families_without_a_recipe_keep_the_old_defaults(family, dim):
    cfg = TrainConfig(generator=family).resolve(dim)
    for name, value in OLD_DEFAULTS.items():
        assert getattr(cfg, name) == value, name
    assert (cfg.mixture_components, cfg.init_component_scale, cfg.entropy_weight) == (None, None, None)


def test_the_mixture_without_a_recipe_keeps_its_module_defaults():
    """1-D mixture (no recipe): the initial component std of the module and no entropy bonus."""
    from gan_theory.training.mixture import INIT_COMPONENT_SCALE

    cfg = TrainConfig(generator="mixture").resolve(1)
    assert (cfg.init_component_scale, cfg.entropy_weight) == (INIT_COMPONENT_SCALE, 0.0)
    assert cfg.entropy_weight_at(0) == 0.0


@pytest.mark.parametrize("field,value", [("entropy_weight", 0.1), ("init_component_scale", 0.1),
                                         ("mixture_components", 4)])
def test_mixture_fields_need_the_mixture_generator(field, value):
    """A mixture-only field with another generator is an error that names it, whether the family
    is set (at creation) or picked by "auto" (1-D: a flow, at resolve)."""
    with pytest.raises(ValueError, match=f"^{field}: .*'flow'"):
        TrainConfig(generator="flow", **{field: value})
    cfg = TrainConfig(**{field: value})
    with pytest.raises(ValueError, match=f"^{field}: .*'flow'"):
        cfg.resolve(1)
    assert getattr(cfg.resolve(2), field) == value


@pytest.mark.parametrize("field,value", [("entropy_weight", -0.1), ("entropy_weight", float("nan")),
                                         ("init_component_scale", 0.0), ("init_component_scale", True)])
def test_bad_mixture_fields_are_refused(field, value):
    with pytest.raises((ValueError, TypeError), match=f"^{field}"):
        TrainConfig(**{field: value})


def test_entropy_weight_decays_to_zero_on_a_cosine():
    """lambda(t) = lambda_0 (1 + cos(pi t / T)) / 2: lambda_0 at the start, half at T/2, 0 at the
    end, whatever the learning rates' schedule."""
    cfg = TrainConfig(steps=100, entropy_weight=0.2, lr_schedule="constant").resolve(2)
    assert cfg.entropy_weight_at(0) == 0.2
    assert abs(cfg.entropy_weight_at(50) - 0.1) < 1e-15
    assert abs(cfg.entropy_weight_at(25) - 0.1 * (1 + 2 ** -0.5)) < 1e-15
    assert cfg.entropy_weight_at(100) < 1e-17


def test_user_fields_are_kept_and_resolve_is_idempotent():
    cfg = TrainConfig(steps=17, lr_d=0.5, d_hidden=(8,), mixture_components=3).resolve(2)
    assert (cfg.generator, cfg.steps, cfg.lr_d, cfg.d_hidden, cfg.mixture_components) == ("mixture", 17, 0.5, (8,), 3)
    assert cfg.lr_g == RECIPES[("mixture", 2)]["lr_g"]
    assert cfg.resolve(2) == cfg
    assert all(getattr(cfg, n) is not None for n in RECIPE_FIELDS)


def test_resolve_refuses_a_bad_dimension():
    with pytest.raises(ValueError, match="dim"):
        TrainConfig().resolve(3)


def test_the_run_records_the_resolved_configuration(tmp_path):
    r = gt.train(gt.toys.ring(4, std=0.3), TrainConfig(ensemble=1, steps=2, log_every=2, device="cpu",
                                                      network_quadrature_atol=1e-3), out=tmp_path, progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())["config"]
    assert saved["generator"] == "mixture" and r.config.generator == "mixture"
    assert saved["mixture_components"] == RECIPES[("mixture", 2)]["mixture_components"]
    assert TrainConfig.from_dict(saved) == r.config


def test_a_mixture_batch_smaller_than_its_components_is_refused_before_training():
    """The stratified sample needs one draw per component: batch 16 with the 2-D recipe's 80
    components is refused when the config is resolved, naming batch_size, before any run."""
    from gan_theory.training.config import TrainConfig

    with pytest.raises(ValueError, match="batch_size.*mixture_components = 80.*16"):
        TrainConfig(batch_size=16).resolve(2)
    assert TrainConfig(batch_size=16, mixture_components=16).resolve(2).batch_size == 16


def test_a_mixture_start_below_the_std_floor_is_refused_at_resolve():
    """The 2-D recipe's components start at init_component_scale * init_scale: a product at or
    below MIN_SCALE (1e-3) is refused with both fields named, before any model is built."""
    with pytest.raises(ValueError, match=r"^init_component_scale, init_scale: .* got 0.05 \* 0.02"):
        TrainConfig(init_scale=0.02).resolve(2)
    assert TrainConfig(init_scale=0.02, init_component_scale=0.25).resolve(2).init_scale == 0.02
