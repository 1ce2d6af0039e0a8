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
    assert cfg.mixture_components is None


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
