"""``superres compare``: crops and images it refuses, its default scale, and originals with alpha."""

from __future__ import annotations

import re

import numpy as np
import pytest

from superres.assets import make_sample
from superres.cli.main import main
from superres.io import write_image


def _scores(text):
    return {m: (float(p), float(s)) for m, p, s in re.findall(r"^(\w+)\s+([\d.]+)\s+([\d.]+)\s*$", text, re.M)}


@pytest.mark.parametrize("crop", ["-1,0,5,5", "0,-1,5,5", "1,2,3", "1,2,3,4,5"])
def test_a_crop_not_of_four_values_or_at_a_negative_place_is_a_usage_error(tmp_path, capsys, crop):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "x.png", "-o", str(tmp_path / "g.png"), f"--crop={crop}"])
    assert exc.value.code == 2 and "invalid crop" in capsys.readouterr().err


def test_a_crop_taller_than_the_image_is_refused(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(64, 48))  # 64 wide, 48 high
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "--crop", "0,30,20,20", "-o",
                 str(tmp_path / "g.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("superres: error: crop 0,30,20,20 does not fit in the 64x48 image"), err
    assert not (tmp_path / "g.png").exists()


def test_an_image_too_small_for_the_scale_is_refused_in_one_line(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(20, 15))  # 15 < 2 * ceil(3) + 11 = 17
    assert main(["compare", str(src), "-m", "bicubic", "-s", "3", "-o", str(tmp_path / "g.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"superres: error: {str(src)!r} is too small (18x15) to compare at x3", err
    assert not (tmp_path / "g.png").exists()


def test_the_default_scale_is_3(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(64, 48))
    assert main(["compare", str(src), "-m", "bicubic", "-o", str(tmp_path / "g.png")]) == 0
    assert "(Y, shave 3, whole image)" in capsys.readouterr().out


def test_gray_with_alpha_scores_as_the_gray_image(tmp_path, capsys):
    gray = make_sample(64, 48)[:, :, :1]
    alpha = np.full_like(gray, 200)
    scores = []
    for name, pixels in (("g.png", gray), ("ga.png", np.concatenate([gray, alpha], axis=2))):
        write_image(tmp_path / name, pixels)
        assert main(["compare", str(tmp_path / name), "-m", "bicubic", "-s", "2", "-o", str(tmp_path / f"grid-{name}")]) == 0
        scores.append(_scores(capsys.readouterr().out))
    assert "bicubic" in scores[0] and scores[0] == scores[1]
