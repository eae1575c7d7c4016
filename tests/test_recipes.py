"""One source of defaults: every entry point of a method reads its recipe (`core.Recipes`) instead of restating it.

A recipe parameter must default to None ("the recipe's"); a literal default in a signature is a default that can drift
from the recipe in that entry point only, and this test names it.
"""
import inspect

import pytest

from genconcept.cbae.control import CC_RECIPES, train_cc
from genconcept.cbae.train import CBAE_RECIPES, train_cbae, train_world_cbae
from genconcept.commands import cortex_eval, token_data, train_iem_cmd
from genconcept.cortex.data import TOKEN_DATA_RECIPES, generate_token_dataset, split_sizes
from genconcept.cortex.iem import IEM_RECIPES, train_iem
from genconcept.cortex.tokens import run_cortex_experiment
from genconcept.evaluate import latent_steering_study
from genconcept.latent_commands import train_cbae_cmd, train_cc_cmd

# (recipes, entry point, {recipe key: parameter name}); None: every recipe key under its own name, where the entry point has it
ENTRY_POINTS = [
    (CBAE_RECIPES, train_cbae, None), (CBAE_RECIPES, train_cbae_cmd, None), (CBAE_RECIPES, latent_steering_study, None),
    (CC_RECIPES, train_cc, None), (CC_RECIPES, train_cc_cmd, None), (CC_RECIPES, latent_steering_study, None),
    (IEM_RECIPES, train_iem, None), (IEM_RECIPES, train_iem_cmd, None), (IEM_RECIPES, cortex_eval, {"preset": "iem_preset"}),
    (IEM_RECIPES, run_cortex_experiment, {"family": "iem_family", "preset": "iem_preset"}),
    (TOKEN_DATA_RECIPES, token_data, None), (TOKEN_DATA_RECIPES, cortex_eval, None),
]

def _params(recipes, f, names):
    ps = inspect.signature(f).parameters
    names = names or {}
    return {k: names.get(k, k) for k in recipes.keys if names.get(k, k) in ps}

@pytest.mark.parametrize("recipes,f,names", ENTRY_POINTS, ids=[f"{r.method}:{f.__name__}" for r, f, _ in ENTRY_POINTS])
def test_entry_point_defers_to_its_recipe(recipes, f, names):
    ps = inspect.signature(f).parameters
    found = _params(recipes, f, names)
    assert found, f"{f.__name__} takes none of the {recipes.method} recipe's settings: fix ENTRY_POINTS"
    drifted = {p: ps[p].default for p in found.values() if ps[p].default is not None}
    assert not drifted, (f"{f.__module__}.{f.__name__} restates {recipes.method} recipe settings as literal defaults {drifted}: "
                         "default them to None so that the recipe decides")
    assert "recipe" in ps and ps["recipe"].default is None, f"{f.__name__} needs recipe=None to offer the named recipes"

def test_every_recipe_has_a_reference_or_says_why():
    for r in (CBAE_RECIPES, CC_RECIPES, IEM_RECIPES):
        assert r.names == ["default", "reference"] and set(r.notes) == {"default", "reference"}

def test_defaults_are_the_best_measured_recipe():
    # the values the docs' figures were measured with (12b: CB-AE 0.92; 08: IEM pointing 0.78-0.85 at top-1 0.965-0.975)
    assert CBAE_RECIPES["default"] == dict(lr=1e-3, lr_schedule="linear", swap_per="sample", unknown_dropout=0.5)
    assert CC_RECIPES["default"] == dict(lr=1e-3)
    assert IEM_RECIPES["default"] == dict(family="vgg", preset="tiny_local", epochs=8, batch_size=128, lr=1e-3, step_size=5,
                                          input_noise=0.0, input_grad_penalty=0.02)
    assert split_sizes() == {"train": 1000, "val": 100, "test": 50}
    assert inspect.signature(generate_token_dataset).parameters["n_per_class"].default is None
    assert "lr" not in inspect.signature(train_world_cbae).parameters  # it passes `recipe` through
