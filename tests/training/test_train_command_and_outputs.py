"""``superres train`` checks and records, recipe keys checked by ``load_config``, and the run summary and plot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from superres.cli.main import main
from superres.errors import TrainingError
from superres.training.config import load_config

from conftest import write_recipe


class _FakeTrainer:
    """Stands in for the Trainer: records what ``superres train`` gives it, trains nothing."""

    made: list[dict] = []

    def __init__(self, config, run_dir, *, data_dir=None, progress=True, command=""):
        _FakeTrainer.made.append({"run_dir": run_dir, "command": command})
        self.is_main = True
        self.run_dir = run_dir

    def train(self, restart=False, time_budget_s=None, allow_changes=False):
        from types import SimpleNamespace

        return SimpleNamespace(step=0, best_psnr=float("nan"), wall_time_s=0.0, run_dir=self.run_dir)


@pytest.fixture
def fake_trainer(monkeypatch, tmp_path):
    import superres.training.trainer

    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    _FakeTrainer.made = []
    monkeypatch.setattr(superres.training.trainer, "Trainer", _FakeTrainer)
    return _FakeTrainer


def test_the_card_command_is_the_argv_given_to_main(tmp_path, synthetic_images, fake_trainer, capsys):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    assert main(["train", str(recipe), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 0
    assert [m["command"] for m in fake_trainer.made] == [f"superres train {recipe} --run-dir {tmp_path / 'run'} --quiet"]


def test_a_run_folder_we_may_not_write_in_is_refused(tmp_path, synthetic_images, fake_trainer, capsys, monkeypatch):
    # os.access is faked: the tests may run as root, who may write anywhere
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: False if Path(path) == locked
                        else real_access(path, mode, *a, **k))
    assert main(["train", str(recipe), "--run-dir", str(locked / "run"), "--quiet"]) == 1
    assert "is not writable" in capsys.readouterr().err
    assert fake_trainer.made == [] and list(locked.iterdir()) == []


@pytest.mark.parametrize("override, words", [
    ("train.seed=4294967296", ["train.seed", "[0, 4294967295]"]),
    ('model.architecture=""', ["model.architecture", "empty"]),
    ('train.val_dataset=""', ["train.val_dataset", "empty"]),
    ("data.downscales=[0]", ["data.downscales", "(0, 1]"]),
    ("oops=1", ["unknown keys", "oops"]),
    ('clip.mode="value"', ["clip.value > 0"]),
    ('clip.mode="adjustable"', ["clip.value > 0"]),
    ("train.steps=true", ["train.steps", "integer"]),  # a bool is not a number of steps
    ('model.init_into={ "scn.0" = 5 }', ["model.init_into.scn.0", "weights name"]),
])
def test_more_bad_values_are_refused(tmp_path, synthetic_images, override, words):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    with pytest.raises(TrainingError) as exc:
        load_config(recipe, [override])
    for word in words:
        assert word in str(exc.value)


def test_label_border_is_checked_against_the_smallest_target_patch(tmp_path, synthetic_images):
    # LR input, patch 12: the x2 target is 24 pixels, so a border of 12 leaves nothing of it
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3, scales=(2, 3))
    with pytest.raises(TrainingError, match="leaves nothing of a 24-pixel target"):
        load_config(recipe, ["data.label_border=12"])
    assert load_config(recipe, ["data.label_border=11"]).data.label_border == 11


def test_summary_of_a_run_with_no_wall_time_has_no_overall_speed(tmp_path):
    from superres.training.summary import RunSummary

    summary = RunSummary(name="r", batch_size=8, steps=0, planned_steps=10, wall_s=0.0, median_steps_per_s=float("nan"),
                         best_val_psnr=None, best_val_step=None)
    assert summary.overall_steps_per_s != summary.overall_steps_per_s  # nan, not a ZeroDivisionError


def test_plot_is_written_in_place_with_a_log_scale_loss(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    from PIL import Image

    from superres.training.plots import plot_training_log

    log = tmp_path / "log.csv"
    log.write_text("step,loss,val_psnr\n10,0.5,\n20,0.25,30.5\n30,0.125,\n")
    scales = []
    real_savefig = Figure.savefig

    def savefig(self, *args, **kwargs):
        scales.append(self.axes[0].get_yscale())
        return real_savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    out = tmp_path / "plot.png"
    assert plot_training_log(log, out, title="t") == out
    assert scales == ["log"]
    with Image.open(out) as im:
        assert im.format == "PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "plot.png"]


def test_allow_changes_reaches_the_trainer(tmp_path, synthetic_images, fake_trainer, monkeypatch):
    import superres.training.trainer

    calls = []

    class Recording(_FakeTrainer):
        def train(self, **kwargs):
            calls.append(kwargs)
            return super().train(**kwargs)

    monkeypatch.setattr(superres.training.trainer, "Trainer", Recording)
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    for extra, expected in (([], False), (["--allow-changes"], True)):
        assert main(["train", str(recipe), "--run-dir", str(tmp_path / "run"), "--quiet", *extra]) == 0
        assert calls[-1]["allow_changes"] is expected
