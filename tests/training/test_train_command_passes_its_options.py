"""``superres train``: every option reaches the Trainer (run folder and its default runs/<name>,
--data-dir, --quiet, --restart, --time-budget), and a --run-dir that is a file is refused in one
line before a Trainer is made.  Goes in tests/training (uses its conftest's write_recipe)."""

from __future__ import annotations

from pathlib import Path

import pytest

from superres.cli.main import main

from conftest import write_recipe


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    import superres.training.trainer
    from types import SimpleNamespace

    calls = []

    class Recording:
        def __init__(self, config, run_dir, *, data_dir=None, progress=True, command=""):
            calls.append({"name": config.name, "run_dir": Path(run_dir), "data_dir": data_dir, "progress": progress})
            self.is_main, self.run_dir = True, run_dir

        def train(self, **kwargs):
            calls[-1].update(kwargs)
            return SimpleNamespace(step=0, best_psnr=float("nan"), wall_time_s=0.0, run_dir=self.run_dir)

    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(superres.training.trainer, "Trainer", Recording)
    return calls


def test_the_defaults_reach_the_trainer(tmp_path, synthetic_images, recorded, capsys):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    assert main(["train", str(recipe)]) == 0
    (call,) = recorded
    assert call["run_dir"] == Path("runs") / call["name"]
    assert call["data_dir"] is None and call["progress"] is True
    assert call["restart"] is False and call["time_budget_s"] is None


def test_each_option_reaches_the_trainer(tmp_path, synthetic_images, recorded, capsys):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    assert main(["train", str(recipe), "--run-dir", str(tmp_path / "run"), "--data-dir", str(tmp_path / "data"),
                 "--quiet", "--restart", "--time-budget", "12.5"]) == 0
    (call,) = recorded
    assert call["run_dir"] == tmp_path / "run" and call["data_dir"] == str(tmp_path / "data")
    assert call["progress"] is False and call["restart"] is True and call["time_budget_s"] == 12.5


def test_a_run_dir_that_is_a_file_is_refused_first(tmp_path, synthetic_images, recorded, capsys):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3)
    (tmp_path / "afile").write_text("keep")
    assert main(["train", str(recipe), "--run-dir", str(tmp_path / "afile")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "is a file, not a folder" in err, err
    assert recorded == [] and (tmp_path / "afile").read_text() == "keep"
