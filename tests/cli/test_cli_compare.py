"""``superres compare``: a labelled grid of crops with PSNR/SSIM against the original."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from superres.assets import make_sample
from superres.cli.main import main
from superres.io import write_image


def test_compare_writes_a_grid_and_prints_scores(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(96, 72))
    out = tmp_path / "grid.png"
    assert main(["compare", str(src), "--methods", "bicubic,nearest", "--scale", "3", "--crop", "10,10,30,24",
                 "--zoom", "4", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    scores = {m: float(p) for m, p in re.findall(r"^(bicubic|nearest)\s+([\d.]+)\s", text, re.M)}
    assert set(scores) == {"bicubic", "nearest"} and scores["bicubic"] > scores["nearest"] > 15
    with Image.open(out) as im:
        grid = np.asarray(im.convert("RGB"))
    # three panels (original + 2 methods) of 30x24 zoomed 4x, side by side, with labels below
    assert grid.shape[1] == 3 * 120 + 4 * 8 and grid.shape[0] > 96
    panel = grid[8:8 + 96, 8:8 + 120]
    assert panel.std() > 10  # image content, not background


def test_compare_refuses_to_overwrite_and_bad_crops(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(64, 48))
    out = tmp_path / "grid.png"
    out.write_bytes(b"keep me")
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "-o", str(out)]) == 1
    assert out.read_bytes() == b"keep me"
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "--crop", "60,0,30,30", "-o",
                 str(tmp_path / "g2.png")]) == 1
    assert main(["compare", str(src), "-m", "nope", "-s", "2", "-o", str(tmp_path / "g3.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(e.startswith("superres: error:") for e in err)
    assert not (tmp_path / "g2.png").exists() and not (tmp_path / "g3.png").exists()
