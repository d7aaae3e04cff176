"""``superres upscale``: the batch rules not covered by test_cli_upscale.py (quality range,
hidden files, -o with several inputs, dangling symlinks, name collisions)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from superres.cli.main import main


def _image(path, height=8, width=10, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("quality", ["0", "101"])
def test_quality_outside_1_to_100_is_refused_before_any_work(tmp_path, capsys, monkeypatch, quality):
    import superres.inference

    def not_reached(*args, **kwargs):
        raise AssertionError("the model was prepared before --quality was checked")

    monkeypatch.setattr(superres.inference, "prepare_method", not_reached)
    src = _image(tmp_path / "in.png")
    out = tmp_path / "o.jpg"
    assert main(["upscale", str(src), "-o", str(out), "-m", "bicubic", "--quality", quality, "-q"]) == 1
    assert "--quality" in capsys.readouterr().err and not out.exists()


def test_hidden_files_in_a_folder_are_not_inputs(tmp_path):
    _image(tmp_path / "in" / "a.png")
    _image(tmp_path / "in" / ".hidden.png", seed=1)
    assert main(["upscale", str(tmp_path / "in"), "--out-dir", str(tmp_path / "out"), "-m", "bicubic", "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]


def test_output_option_with_a_missing_second_input_is_refused_before_any_work(tmp_path, capsys):
    src = _image(tmp_path / "in.png")
    out = tmp_path / "o.png"
    assert main(["upscale", str(src), str(tmp_path / "missing.png"), "-o", str(out), "-m", "bicubic", "-q"]) == 1
    assert "takes one input file" in capsys.readouterr().err and not out.exists()


def test_recursive_does_not_go_with_output(tmp_path, capsys):
    src = _image(tmp_path / "in.png")
    out = tmp_path / "o.png"
    assert main(["upscale", str(src), "-o", str(out), "-r", "-m", "bicubic", "-q"]) == 1
    assert "do not go with -o" in capsys.readouterr().err and not out.exists()


def test_a_dangling_symlink_output_counts_as_existing(tmp_path, capsys):
    src = _image(tmp_path / "in.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "in.png").symlink_to(tmp_path / "nowhere.png")
    assert main(["upscale", str(src), "--out-dir", str(out), "-m", "bicubic"]) == 0
    assert "1 skipped (output exists" in capsys.readouterr().out
    assert (out / "in.png").is_symlink() and not (tmp_path / "nowhere.png").exists()


def test_two_inputs_with_one_output_name_are_refused(tmp_path, capsys):
    _image(tmp_path / "a.png")
    _image(tmp_path / "a.bmp", seed=1)
    out = tmp_path / "out"
    argv = ["upscale", str(tmp_path / "a.png"), str(tmp_path / "a.bmp"), "--out-dir", str(out), "--format", "png",
            "-m", "bicubic"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "same output" in captured.err and "upscaled 1 file" in captured.out and "1 failed" in captured.out
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]
