"""Recipe values load_config refuses, or takes as given."""

from __future__ import annotations

import pytest

from superres.errors import TrainingError
from superres.training.config import load_config

from conftest import write_recipe


@pytest.mark.parametrize("override, words", [
    ("train.steps=true", ["train.steps", "integer"]),  # a bool is not a number of steps
    ('model.init_into={ "scn.0" = 5 }', ["model.init_into.scn.0", "weights name"]),
])
def test_values_of_the_wrong_kind_are_refused(tmp_path, synthetic_images, override, words):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    with pytest.raises(TrainingError) as info:
        load_config(recipe, [override])
    for word in words:
        assert word in str(info.value)


def test_a_name_that_reads_as_a_number_is_a_name(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    assert load_config(recipe, ["name=2024"]).name == "2024"


def test_set_values_are_taken_without_surrounding_spaces(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    assert load_config(recipe, ["train.val_dataset= Set14 "]).train.val_dataset == "Set14"
