"""``superres compare``: crop checks, default crop and columns, 16-bit originals, fractional scales."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from superres.assets import make_sample
from superres.cli.main import main
from superres.io import write_image


def _scores(text):
    return {m: (float(p), float(s)) for m, p, s in re.findall(r"^(\w+)\s+([\d.]+)\s+([\d.]+)\s*$", text, re.M)}


def test_crop_of_zero_width_or_height_is_a_usage_error(tmp_path, capsys):
    for crop in ("0,0,0,5", "0,0,5,0"):
        with pytest.raises(SystemExit) as exc:
            main(["compare", "x.png", "-o", str(tmp_path / "g.png"), "--crop", crop])
        assert exc.value.code == 2 and "invalid crop" in capsys.readouterr().err


def test_default_crop_is_a_centred_square_of_96_pixels(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(120, 100))
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "-o", str(tmp_path / "g.png")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith("(2 panels, crop 12,2,96,96)")


def test_default_grid_has_four_columns(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(64, 48))
    out = tmp_path / "g.png"
    assert main(["compare", str(src), "-m", "bicubic,nearest,bilinear,lanczos3", "-s", "2", "--crop", "0,0,20,20",
                 "--zoom", "1", "-o", str(out)]) == 0
    with Image.open(out) as im:  # 5 panels of 20 pixels: 4 in the first row, padding 8
        assert im.size[0] == 4 * 20 + 5 * 8


def test_a_16_bit_original_scores_as_its_8_bit_rounding(tmp_path, capsys):
    p8 = np.minimum(make_sample(64, 48), 254)
    p16 = p8.astype(np.uint16) * 257 + 100  # rounds back to p8 (truncating to 8 bits does not)
    scores = []
    for name, pixels in (("a8.png", p8), ("a16.png", p16)):
        write_image(tmp_path / name, pixels)
        assert main(["compare", str(tmp_path / name), "-m", "bicubic", "-s", "2", "-o", str(tmp_path / f"g-{name}")]) == 0
        scores.append(_scores(capsys.readouterr().out))
    assert scores[0] == scores[1] and "bicubic" in scores[0]


def test_fractional_scale_scores_as_evaluate_does(tmp_path, capsys):
    folder = tmp_path / "set"
    folder.mkdir()
    write_image(folder / "hr.png", make_sample(100, 80))
    assert main(["evaluate", "-m", "bicubic", "-d", str(folder), "-s", "2.5", "-f", "json"]) == 0
    image = json.loads(capsys.readouterr().out)["results"][0]["images"][0]
    assert main(["compare", str(folder / "hr.png"), "-m", "bicubic", "-s", "2.5", "-o", str(tmp_path / "g.png")]) == 0
    psnr, ssim = _scores(capsys.readouterr().out)["bicubic"]
    assert abs(psnr - image["psnr"]) <= 0.005 + 1e-9 and abs(ssim - image["ssim"]) <= 0.00005 + 1e-9


def test_a_zoom_too_large_for_the_crop_is_refused_before_any_upscaling(tmp_path, capsys, monkeypatch):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(64, 48))

    def no_work(*args, **kwargs):
        raise AssertionError("upscaled before the refusal")

    monkeypatch.setattr("superres.inference.upscale_tensor", no_work)
    argv = ["compare", str(src), "-m", "bicubic", "-s", "2", "--crop", "0,0,20,20", "--zoom", "300", "-o", str(tmp_path / "g.png")]
    assert main(argv) == 1
    assert "gives panels over 4096 pixels" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()
