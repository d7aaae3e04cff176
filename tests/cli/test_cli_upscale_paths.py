"""superres upscale: extension case, --format case, outputs reached through symlinked folders."""

from __future__ import annotations

import numpy as np
from PIL import Image

from superres.cli.main import main


def _image(path, height=8, width=10, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)).save(
        path, format="PNG")
    return path


def test_a_folder_s_images_with_upper_case_extensions_are_inputs(tmp_path):
    _image(tmp_path / "in" / "A.PNG")
    _image(tmp_path / "in" / "b.Png", seed=1)
    assert main(["upscale", str(tmp_path / "in"), "--out-dir", str(tmp_path / "out"), "-m", "bicubic", "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["A.PNG", "b.Png"]


def test_format_is_taken_in_any_case_and_the_name_gets_lower_case(tmp_path):
    src = _image(tmp_path / "a.png")
    assert main(["upscale", str(src), "--format", "JPG", "-m", "bicubic", "-q"]) == 0
    assert main(["upscale", str(src), "--format", ".TIFF", "-m", "bicubic", "-q"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a_x2.jpg", "a_x2.tiff"]


def test_an_output_reached_through_a_symlinked_folder_that_is_another_input_is_refused(tmp_path, capsys):
    _image(tmp_path / "d" / "a.png")
    other = _image(tmp_path / "d" / "a_x2.png", seed=1)
    before = other.read_bytes()
    (tmp_path / "l").symlink_to(tmp_path / "d")
    # l/a.png's output l/a_x2.png is the file d/a_x2.png, the second input
    code = main(["upscale", str(tmp_path / "l" / "a.png"), str(other), "--overwrite", "-m", "bicubic", "-q"])
    assert code == 1
    assert "is another input of this command" in capsys.readouterr().err
    assert other.read_bytes() == before
