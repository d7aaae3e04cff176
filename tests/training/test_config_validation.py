"""Bad recipes, ``--set`` values and ``superres train`` options: one line, exit 1, nothing written.

Every key is checked by ``load_config`` (type, range, keys that depend on each other), so a bad
value stops the run before a run folder, a cache or a log exists.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from superres.cli.main import main
from superres.errors import TrainingError
from superres.training.config import load_config

from conftest import write_recipe

RECIPES = sorted(glob.glob(str(Path(__file__).resolve().parents[2] / "recipes" / "*.toml")))


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # the default run folder runs/<name> would land here


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _fails_in_one_line(capsys, argv: list[str], *words: str) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 1, captured
    assert len(lines) == 1 and lines[0].startswith("superres: error:"), captured.err
    assert "Traceback" not in captured.err + captured.out
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.parametrize("override, words", [
    ("train.steps=abc", ["train.steps", "'abc'", "integer"]),
    ("train.steps=-5", ["train.steps", "-5", ">= 1"]),
    ("train.steps=0", ["train.steps", ">= 1"]),
    ("train.steps=2.5", ["train.steps", "2.5", "integer"]),
    ("train.batch_size=0", ["train.batch_size", "0", ">= 1"]),
    ("optim.lr=-1", ["optim.lr", "-1", "> 0"]),
    ("optim.lr=0", ["optim.lr", "> 0"]),
    ("optim.lr=nan", ["optim.lr", "nan"]),
    ("optim.lr=inf", ["optim.lr", "inf"]),
    ("optim.lr=fast", ["optim.lr", "'fast'", "number"]),
    ("optim.betas=[0.9]", ["optim.betas", "2"]),
    ("optim.betas=[0.9, 1.0]", ["optim.betas", "[0, 1)"]),
    ("optim.weight_decay=-0.1", ["optim.weight_decay", ">= 0"]),
    ("optim.lr_multipliers={ conv3 = -1 }", ["optim.lr_multipliers", ">= 0"]),
    ('optim.name="rmsprop"', ["optim.name", "'rmsprop'", "adamw"]),
    ("data.patch_size=0", ["data.patch_size", ">= 1"]),
    ("data.scales=[0]", ["data.scales", ">= 1"]),
    ("data.scales=[]", ["data.scales", "empty"]),
    ("data.downscales=[1.5]", ["data.downscales", "(0, 1]"]),
    ("data.stride=0", ["data.stride", ">= 1"]),
    ("data.label_border=12", ["data.label_border=12", "nothing"]),
    ('data.patch_mode="tiles"', ["data.patch_mode", "'tiles'"]),
    ("data.augment=1", ["data.augment", "true or false"]),
    ("data.train=[]", ["data.train", "empty"]),
    ('model.input="hr"', ["model.input", "'hr'"]),
    ("model.args=5", ["model.args", "table"]),
    ("schedule.warmup_steps=-1", ["schedule.warmup_steps", ">= 0"]),
    ("schedule.min_factor=1.5", ["schedule.min_factor", "1.5", "[0, 1]"]),
    ("schedule.min_factor=-0.1", ["schedule.min_factor", "[0, 1]"]),
    ("schedule.gamma=0", ["schedule.gamma", "> 0"]),
    ('schedule.name="step"', ["schedule.step_size", ">= 1"]),
    ('schedule.name="linear"', ["schedule.name", "'linear'"]),
    ('clip.mode="norm"', ["clip.mode", "clip.value > 0"]),
    ('clip.mode="sometimes"', ["clip.mode", "'sometimes'"]),
    ("clip.value=-1", ["clip.value", ">= 0"]),
    ("train.val_every=0", ["train.val_every", ">= 1"]),
    ("train.checkpoint_every=0", ["train.checkpoint_every", ">= 1"]),
    ("train.log_every=0", ["train.log_every", ">= 1"]),
    ("train.val_scales=[0]", ["train.val_scales", ">= 1"]),
    ("train.workers=-1", ["train.workers", ">= 0"]),
    ("train.threads=-2", ["train.threads", ">= 0"]),
    ("train.seed=-1", ["train.seed"]),
    ("train.loss_border=-1", ["train.loss_border", ">= 0"]),
    ('train.loss="huber"', ["train.loss", "'huber'"]),
    ('train.precision="fp16"', ["train.precision", "'fp16'"]),
    ("train.channels_last=yes", ["train.channels_last", "true or false"]),
    ("train=5", ["[train]", "table"]),
    ("train.steps.x=1", ["train.steps", "not a table"]),
    ("name=''", ["name", "non-empty"]),
])
def test_bad_set_value_is_one_line_naming_the_key_and_nothing_is_written(tmp_path, synthetic_images, capsys, override, words):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    before = _files(tmp_path)
    with pytest.raises(TrainingError):
        load_config(recipe, [override])
    _fails_in_one_line(capsys, ["train", str(recipe), "--quiet", "--set", override], *words)
    assert _files(tmp_path) == before  # no runs/, no cache, no log


def test_a_recipe_that_is_a_folder_or_not_text_is_one_line(tmp_path, synthetic_images, capsys):
    _fails_in_one_line(capsys, ["train", str(synthetic_images), "--quiet"], "is a folder")
    _fails_in_one_line(capsys, ["train", str(synthetic_images / "syn0.png"), "--quiet"], "not a text")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("budget", ["nan", "inf", "-inf", "0", "-5"])
def test_time_budget_must_be_a_positive_finite_number(tmp_path, synthetic_images, capsys, budget):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    before = _files(tmp_path)
    _fails_in_one_line(capsys, ["train", str(recipe), "--quiet", f"--time-budget={budget}"], "--time-budget")
    assert _files(tmp_path) == before


def test_run_dir_that_is_a_file_is_one_line_and_the_file_is_kept(tmp_path, synthetic_images, capsys):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    photo = tmp_path / "existing_file.png"
    photo.write_bytes(b"not a folder")
    before = _files(tmp_path)
    _fails_in_one_line(capsys, ["train", str(recipe), "--quiet", "--run-dir", str(photo)], "is a file")
    _fails_in_one_line(capsys, ["train", str(recipe), "--quiet", "--run-dir", str(photo / "run")], "is a file")
    assert _files(tmp_path) == before and photo.read_bytes() == b"not a folder"


def test_values_of_the_right_kind_are_taken_as_before(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    config = load_config(recipe, ["train.steps=1e4", "optim.lr=1", "data.scales=3", "data.train=291",
                                  "train.val_dataset=291", 'clip.mode="norm"', "clip.value=0.4"])
    assert config.train.steps == 10_000 and isinstance(config.train.steps, int)
    assert config.optim.lr == 1.0 and isinstance(config.optim.lr, float)
    assert config.data.scales == (3,) and config.data.train == ("291",)  # a name that reads as a number
    assert config.train.val_dataset == "291" and config.clip.value == 0.4
    assert load_config(recipe, ["train.val_dataset=Set5"]).train.val_dataset == "Set5"


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: Path(p).stem)
def test_every_shipped_recipe_still_loads(recipe):
    assert load_config(recipe).name


def test_a_name_that_reads_as_a_number_is_a_name(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    assert load_config(recipe, ["name=2024"]).name == "2024"


def test_set_values_are_taken_without_surrounding_spaces(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    assert load_config(recipe, ["train.val_dataset= Set14 "]).train.val_dataset == "Set14"
